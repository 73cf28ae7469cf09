//! A temporary tools directory whose tools are links to `shim.sh`.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use juju_hooks::ProcessHookTools;

/// Every tool `ProcessHookTools` runs.
pub const TOOLS: &[&str] = &[
    "relation-ids",
    "relation-list",
    "relation-get",
    "relation-set",
    "is-leader",
    "leader-get",
    "leader-set",
    "status-set",
    "status-get",
    "juju-log",
    "config-get",
    "secret-add",
    "secret-get",
    "secret-set",
    "secret-grant",
    "secret-revoke",
    "secret-remove",
    "secret-ids",
    "secret-info-get",
    "state-get",
    "state-set",
    "state-delete",
];

/// One recorded tool run.
#[derive(Debug)]
pub struct Call {
    /// The tool name followed by its arguments.
    pub argv: Vec<String>,
    /// What the tool read on stdin.
    pub stdin: Vec<u8>,
}

/// A tools directory in a temporary directory; removed on drop, after ending any background
/// child a shim left running (by the pid it recorded).
pub struct ShimTools {
    dir: tempfile::TempDir,
}

impl Drop for ShimTools {
    fn drop(&mut self) {
        let Ok(entries) = fs::read_dir(self.path().join("calls")) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().ends_with(".child-pid") {
                if let Ok(pid) = fs::read_to_string(entry.path()) {
                    let _ = std::process::Command::new("kill").arg(pid.trim()).status();
                }
            }
        }
    }
}

fn shim_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/process/shim.sh")
}

impl ShimTools {
    /// A directory with every tool in [`TOOLS`].
    pub fn new() -> Self {
        Self::with_tools(TOOLS)
    }

    /// A directory with only `tools`.
    pub fn with_tools(tools: &[&str]) -> Self {
        let script = shim_script();
        let mode = fs::metadata(&script).unwrap().permissions().mode();
        assert!(mode & 0o111 != 0, "{} must be executable", script.display());
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("calls")).unwrap();
        // Links, not copies: writing an executable while other test threads fork can make
        // its exec fail with ETXTBSY.
        for tool in tools {
            symlink(&script, dir.path().join(tool)).unwrap();
        }
        Self { dir }
    }

    /// The tools directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `ProcessHookTools` over this directory, with a limit well above a shim's run time.
    pub fn tools(&self) -> ProcessHookTools {
        ProcessHookTools::with_tools_dir(self.path()).timeout(Duration::from_secs(20))
    }

    /// Makes `tool` print `stdout` and exit 0.
    pub fn answer(&self, tool: &str, stdout: &str) -> &Self {
        fs::write(self.path().join(format!("{tool}.out")), stdout).unwrap();
        self
    }

    /// Makes `tool` print `stderr` and exit with `code`.
    pub fn fail(&self, tool: &str, code: i32, stderr: &str) -> &Self {
        fs::write(self.path().join(format!("{tool}.err")), stderr).unwrap();
        fs::write(self.path().join(format!("{tool}.code")), code.to_string()).unwrap();
        self
    }

    /// Makes `tool` misbehave: `hang`, `hang-child`, `signal` or `ignore-stdin`.
    pub fn mode(&self, tool: &str, mode: &str) -> &Self {
        fs::write(self.path().join(format!("{tool}.mode")), mode).unwrap();
        self
    }

    /// The runs so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        let calls = self.path().join("calls");
        let count: usize = fs::read_to_string(calls.join("count"))
            .map(|s| s.trim().parse().unwrap())
            .unwrap_or(0);
        (1..=count)
            .map(|n| {
                let raw = fs::read(calls.join(format!("{n}.argv"))).unwrap();
                let argv = raw
                    .split(|&b| b == 0)
                    .map(|a| String::from_utf8(a.to_vec()).unwrap())
                    .collect::<Vec<_>>();
                // Every argument ends in NUL, so the split leaves one empty piece at the end.
                let argv = argv[..argv.len() - 1].to_vec();
                let stdin = fs::read(calls.join(format!("{n}.stdin"))).unwrap();
                Call { argv, stdin }
            })
            .collect()
    }

    /// A copy of the file run `n` (from 1) got for secret field `field`, and the mode of the
    /// directory it was in.
    pub fn secret_file(&self, n: usize, field: &str) -> (String, String) {
        let calls = self.path().join("calls");
        let value = fs::read_to_string(calls.join(format!("{n}.file.{field}"))).unwrap();
        let mode = fs::read_to_string(calls.join(format!("{n}.filedir-mode"))).unwrap();
        (value, mode.trim().to_owned())
    }

    /// The only run so far (fails if there were more or none).
    pub fn only_call(&self) -> Call {
        let mut calls = self.calls();
        assert_eq!(calls.len(), 1, "{calls:?}");
        calls.remove(0)
    }
}
