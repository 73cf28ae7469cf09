//! A supervised child process: output captured to a log file, killed (by its own handle)
//! when stopped or dropped, so a failing test leaves nothing behind.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

/// One running process started by a test.
pub struct Daemon {
    name: String,
    child: Option<Child>,
    log_path: PathBuf,
}

impl Daemon {
    /// Starts `argv` with exactly the environment `env` (nothing inherited: etcd would take
    /// a stray `ETCD_*` variable for a flag), output appended to `log_path`.
    ///
    /// # Panics
    /// If `argv` is empty, the log cannot be created or the program cannot be started.
    pub fn spawn(name: &str, argv: &[String], env: &[(String, String)], log_path: &Path) -> Daemon {
        let log = File::create(log_path).expect("create the process log");
        let (program, args) = argv.split_first().expect("a non-empty argv");
        let mut command = Command::new(program);
        command
            .args(args)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({argv:?}): {e}"));
        Daemon {
            name: name.to_owned(),
            child: Some(child),
            log_path: log_path.to_owned(),
        }
    }

    /// The name given at spawn time.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How the process ended, if it has (`None` while it runs or after `stop`).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the process (SIGKILL via its handle) and reaps it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Everything the process wrote so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&fs::read(&self.log_path).unwrap_or_default()).into_owned()
    }

    /// The last `lines` lines of the log, labelled, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = self.log();
        let all: Vec<&str> = log.lines().collect();
        let start = all.len().saturating_sub(lines);
        format!(
            "----- {} log (last {} lines) -----\n{}\n",
            self.name,
            lines,
            all[start..].join("\n")
        )
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail(40));
        }
    }
}
