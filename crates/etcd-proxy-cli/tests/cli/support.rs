//! The test world: the real `etcd-proxy-relation` binary as CLI, as emulator and as every
//! hook tool, charms copied into a temp dir, and a checked-by-default runner that shows the
//! command, its stdout and its stderr when an exit code is not the expected one.

use std::cell::RefCell;
use std::fmt;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use etcd_proxy::testing::TestPki;
use juju_emulator::store::{CallRecord, Store};
use juju_emulator::{Emulator, HookReport};
use juju_hooks::testing::Model;
use juju_hooks::{Databag, UnitName, WorkloadStatus};

/// The binary under test.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_etcd-proxy-relation"))
}

/// The repository root (examples live there).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The state file the CLI keeps in a charm dir.
pub const STATE_FILE: &str = ".etcd-proxy-relation.state.json";

/// Keys Juju itself puts in every unit bag; not part of the interface's wire data.
pub const JUJU_ADDRESS_KEYS: [&str; 3] = ["egress-subnets", "ingress-address", "private-address"];

/// What one process run printed and how it ended.
#[derive(Clone, Debug)]
pub struct Output {
    /// The command as a shell would show it.
    pub shown: String,
    /// The exit code (-1: killed by a signal).
    pub code: i32,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "$ {}\n[exit {}]", self.shown, self.code)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout)?;
        write!(f, "--- stderr ---\n{}", self.stderr)
    }
}

impl Output {
    /// Panics, showing everything, unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(self.code, code, "unexpected exit code\n{self}");
        self
    }
}

/// Quotes one word for `sh`.
pub fn sh_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

fn show(program: &Path, args: &[String]) -> String {
    std::iter::once(program.display().to_string())
        .chain(args.iter().map(|a| sh_quote(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A run of the binary; exit 0 is expected unless [`Cli::expect`] says otherwise.
pub struct Cli {
    args: Vec<String>,
    expected: i32,
}

/// `etcd-proxy-relation ARGS...`, expecting exit 0.
pub fn epr<S: AsRef<str>>(args: &[S]) -> Cli {
    Cli {
        args: args.iter().map(|a| a.as_ref().to_owned()).collect(),
        expected: 0,
    }
}

impl Cli {
    /// Expects exit code `code` instead of 0.
    pub fn expect(mut self, code: i32) -> Self {
        self.expected = code;
        self
    }

    /// Runs it outside any hook (no `JUJU_*` variables) and checks the exit code.
    #[track_caller]
    pub fn run(self) -> Output {
        let out = Command::new(binary())
            .args(&self.args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .output()
            .expect("the binary runs");
        Output {
            shown: show(&binary(), &self.args),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
        .expect_code(self.expected)
    }
}

/// One command to run inside a hook: the binary with `args`, expecting exit `code`.
pub struct Step {
    args: Vec<String>,
    expected: i32,
    umask: Option<u32>,
}

/// `etcd-proxy-relation ARGS...` inside a hook, expecting exit 0.
pub fn step<S: AsRef<str>>(args: &[S]) -> Step {
    Step {
        args: args.iter().map(|a| a.as_ref().to_owned()).collect(),
        expected: 0,
        umask: None,
    }
}

impl Step {
    /// Expects exit code `code` instead of 0.
    pub fn expect(mut self, code: i32) -> Self {
        self.expected = code;
        self
    }

    /// Runs it under this umask (file modes must not depend on it).
    pub fn umask(mut self, mask: u32) -> Self {
        self.umask = Some(mask);
        self
    }
}

/// Writes a generated PKI as the provider charm's `tls-dir` expects it; returns the dir.
pub fn write_tls_dir(dir: &Path, pki: &TestPki) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("ca.pem"), &pki.ca_pem).unwrap();
    fs::write(dir.join("client.pem"), &pki.client.cert_pem).unwrap();
    fs::write(dir.join("client-key.pem"), &pki.client.key_pem).unwrap();
    dir.to_owned()
}

/// The permission bits of `path` (not following a symlink).
pub fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Parses `app/n`.
pub fn unit(name: &str) -> UnitName {
    name.parse().unwrap()
}

/// A scripted charm's dispatch: runs the test's `step.sh` if present, else `DEFAULT`.
const SCRIPTED_DISPATCH: &str = r#"#!/bin/sh
# Test charm: the test drops step.sh in to run commands in a real hook context.
if [ -f "$JUJU_CHARM_DIR/step.sh" ]; then
    . "$JUJU_CHARM_DIR/step.sh"
    exit 0
fi
exec "$JUJU_CHARM_DIR/bin/etcd-proxy-relation" DEFAULT
"#;

/// `dispatch` with `JUJU_VERSION` set to a 2.9 release after its first line: a requirer
/// there has no secrets and speaks wire version 1 (the emulator is Juju 3.6).
pub fn on_juju_2_9(dispatch: &str) -> String {
    let (shebang, rest) = dispatch.split_once('\n').unwrap_or((dispatch, ""));
    format!("{shebang}\nexport JUJU_VERSION=2.9.46\n{rest}")
}

/// A model directory with charms in one temp dir, driven through the binary's `emulator`
/// commands. Everything those commands print is kept for the secret-hygiene checks.
pub struct World {
    pub tmp: tempfile::TempDir,
    pub model_dir: PathBuf,
    transcript: RefCell<Vec<Output>>,
}

impl World {
    /// An empty model.
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let model_dir = tmp.path().join("model");
        let world = Self {
            tmp,
            model_dir,
            transcript: RefCell::new(Vec::new()),
        };
        world.emulator(&["create", "--name", "cli-tests"]);
        world
    }

    /// A path in the world's temp dir.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// Copies `examples/NAME` into the world, with the binary linked as `bin/etcd-proxy-relation`.
    pub fn example_charm(&self, name: &str) -> PathBuf {
        let target = self.path(&format!("charms/{name}"));
        fs::create_dir_all(&target).unwrap();
        let source = repo_root().join("examples").join(name);
        for entry in fs::read_dir(&source).unwrap() {
            let entry = entry.unwrap();
            fs::copy(entry.path(), target.join(entry.file_name())).unwrap();
        }
        self.link_binary(&target);
        target
    }

    /// A charm with `metadata.yaml` and an executable `dispatch`, plus the linked binary.
    pub fn charm(&self, name: &str, metadata: &str, dispatch: &str) -> PathBuf {
        let target = self.path(&format!("charms/{name}"));
        fs::create_dir_all(&target).unwrap();
        fs::write(target.join("metadata.yaml"), metadata).unwrap();
        let script = target.join("dispatch");
        fs::write(&script, dispatch).unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        self.link_binary(&target);
        target
    }

    /// A requirer (`requires proxy`) whose hooks run `requires sync`, or the test's steps;
    /// on Juju 2.9, so it speaks wire version 1 (see [`on_juju_2_9`]).
    pub fn scripted_requirer(&self) -> PathBuf {
        self.charm(
            "scripted-requirer",
            "name: scripted-requirer\nrequires:\n  proxy:\n    interface: etcd-proxy\n",
            &on_juju_2_9(&SCRIPTED_DISPATCH.replace("DEFAULT", "requires sync")),
        )
    }

    /// Makes the charm at `charm` see Juju 2.9 (`JUJU_VERSION`), where a requirer speaks
    /// wire version 1, as the deployed Python requirers do.
    pub fn pin_juju_2_9(&self, charm: &Path) {
        let dispatch = charm.join("dispatch");
        let text = fs::read_to_string(&dispatch).unwrap();
        fs::write(&dispatch, on_juju_2_9(&text)).unwrap();
    }

    /// A provider (`provides proxy`) whose hooks run `provides sync`, or the test's steps.
    pub fn scripted_provider(&self) -> PathBuf {
        self.charm(
            "scripted-provider",
            "name: scripted-provider\nprovides:\n  proxy:\n    interface: etcd-proxy\n",
            &SCRIPTED_DISPATCH.replace("DEFAULT", "provides sync"),
        )
    }

    fn link_binary(&self, charm: &Path) {
        fs::create_dir_all(charm.join("bin")).unwrap();
        symlink(binary(), charm.join("bin/etcd-proxy-relation")).unwrap();
    }

    /// `etcd-proxy-relation emulator --model-dir M -v ARGS...`, expecting exit 0; kept.
    #[track_caller]
    pub fn emulator(&self, args: &[&str]) -> Output {
        self.emulator_expect(0, args)
    }

    /// Like [`World::emulator`], expecting exit `code`.
    #[track_caller]
    pub fn emulator_expect(&self, code: i32, args: &[&str]) -> Output {
        let mut all = vec!["emulator".to_owned(), "--model-dir".to_owned()];
        all.push(self.model_dir.display().to_string());
        all.push("-v".to_owned());
        all.extend(args.iter().map(|a| (*a).to_owned()));
        let out = epr(&all).expect(code).run();
        self.transcript.borrow_mut().push(out.clone());
        out
    }

    /// A CLI run outside hooks (e.g. `flags --state-file`), checked, kept.
    #[track_caller]
    pub fn cli(&self, cli: Cli) -> Output {
        let out = cli.run();
        self.transcript.borrow_mut().push(out.clone());
        out
    }

    /// Runs `steps` inside hook `hook` of `unit` (a scripted charm), then settles the hooks
    /// it causes. Each step's exit code is checked.
    #[track_caller]
    pub fn in_hook(&self, unit_name: &str, hook: &str, steps: Vec<Step>) -> Vec<Output> {
        let charm = self.charm_dir(unit_name);
        let results = charm.join("step-out");
        let _ = fs::remove_dir_all(&results);
        fs::create_dir_all(&results).unwrap();
        // The step runs once: hooks that the run queues find the charm's default again.
        let mut script = String::from("rm -f \"$JUJU_CHARM_DIR/step.sh\"\n");
        for (i, step) in steps.iter().enumerate() {
            let argv: Vec<String> = step.args.iter().map(|a| sh_quote(a)).collect();
            let r = results.display();
            let umask = step
                .umask
                .map(|m| format!("umask {m:03o}; "))
                .unwrap_or_default();
            script.push_str(&format!(
                "({umask}\"$JUJU_CHARM_DIR/bin/etcd-proxy-relation\" {} >'{r}/{i}.out' 2>'{r}/{i}.err'; echo $? >'{r}/{i}.code')\n",
                argv.join(" ")
            ));
        }
        fs::write(charm.join("step.sh"), script).unwrap();
        let hook_run = self.emulator(&["run", unit_name, hook]);
        let outputs: Vec<Output> = steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let read = |ext: &str| {
                    fs::read_to_string(results.join(format!("{i}.{ext}")))
                        .unwrap_or_else(|e| panic!("step {i} left no .{ext}: {e}\n{hook_run}"))
                };
                Output {
                    shown: format!(
                        "(in {unit_name} {hook}) etcd-proxy-relation {}",
                        step.args.join(" ")
                    ),
                    code: read("code").trim().parse().unwrap(),
                    stdout: read("out"),
                    stderr: read("err"),
                }
                .expect_code(step.expected)
            })
            .collect();
        fs::remove_dir_all(&results).unwrap();
        self.transcript.borrow_mut().extend(outputs.iter().cloned());
        outputs
    }

    /// The model as saved after the last command.
    pub fn model(&self) -> Model {
        Store::new(&self.model_dir).load_model().unwrap()
    }

    /// The emulator (for its logs), opened on the world's model.
    pub fn open(&self) -> Emulator {
        Emulator::open(&self.model_dir, &binary()).unwrap()
    }

    /// Every hook run so far.
    pub fn hooks(&self) -> Vec<HookReport> {
        self.open().hook_log().unwrap()
    }

    /// Every hook-tool call so far.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.open().calls().unwrap()
    }

    /// A unit's copy of its charm.
    pub fn charm_dir(&self, unit_name: &str) -> PathBuf {
        let u = unit(unit_name);
        self.model_dir
            .join("units")
            .join(format!("{}-{}", u.app(), u.number()))
            .join("charm")
    }

    /// A unit's state file.
    pub fn state_file(&self, unit_name: &str) -> PathBuf {
        self.charm_dir(unit_name).join(STATE_FILE)
    }

    /// The unit's flags, as `flags --json --state-file` prints them.
    #[track_caller]
    pub fn flags(&self, unit_name: &str) -> Vec<String> {
        let state = self.state_file(unit_name).display().to_string();
        let out = self.cli(epr(&["flags", "--json", "--state-file", &state]));
        serde_json::from_str(out.stdout.trim())
            .unwrap_or_else(|e| panic!("flags --json printed no JSON array ({e})\n{out}"))
    }

    /// The whole databag of `owner` on relation `number`.
    pub fn bag(&self, number: u32, owner: &str) -> Databag {
        let model = self.model();
        let relation = model
            .relations
            .get(&number)
            .unwrap_or_else(|| panic!("no relation {number}"));
        relation
            .unit_bags
            .get(&unit(owner))
            .cloned()
            .unwrap_or_default()
    }

    /// What `owner` publishes on relation `number` beyond Juju's own address keys.
    pub fn wire_bag(&self, number: u32, owner: &str) -> Databag {
        let mut bag = self.bag(number, owner);
        bag.retain(|k, _| !JUJU_ADDRESS_KEYS.contains(&k.as_str()));
        bag
    }

    /// A unit's workload status.
    pub fn status(&self, unit_name: &str) -> WorkloadStatus {
        let model = self.model();
        model
            .unit(&unit(unit_name))
            .unwrap_or_else(|| panic!("no unit {unit_name}"))
            .status
            .clone()
    }

    /// Every `juju-log` message of a unit.
    pub fn logs(&self, unit_name: &str) -> Vec<String> {
        let model = self.model();
        model
            .unit(&unit(unit_name))
            .map(|r| r.logs.iter().map(|l| l.message.clone()).collect())
            .unwrap_or_default()
    }

    /// Every text the binary showed to a person or to Juju: outputs of the commands run here,
    /// each hook's stdout and stderr, every hook-tool call's argv (so every status-set and
    /// juju-log message), and the final statuses and logs of all units.
    pub fn everything_printed(&self) -> Vec<(String, String)> {
        let mut texts: Vec<(String, String)> = Vec::new();
        // What an operator reads: the emulator's own views of logs and tool calls.
        for view in ["logs", "calls"] {
            let out = self.emulator(&[view]);
            texts.push((out.shown.clone(), out.stdout));
        }
        for out in self.transcript.borrow().iter() {
            texts.push((out.shown.clone(), format!("{}\n{}", out.stdout, out.stderr)));
        }
        for report in self.hooks() {
            let what = format!("hook {} {}", report.invocation.unit, report.invocation.hook);
            texts.push((what, format!("{}\n{}", report.stdout, report.stderr)));
        }
        for call in self.calls() {
            texts.push((format!("tool call {}", call.tool), call.argv.join(" ")));
        }
        let model = self.model();
        for app in model.applications.values() {
            for (u, record) in &app.units {
                texts.push((format!("status of {u}"), record.status.message.clone()));
                for log in &record.logs {
                    texts.push((format!("juju-log of {u}"), log.message.clone()));
                }
            }
        }
        texts
    }
}

/// The base64 body lines of every private key in `pki` (long enough to be unmistakable).
pub fn key_body_lines(pki: &TestPki) -> Vec<String> {
    let keys = [
        &pki.client.key_pem,
        &pki.cnless_client.key_pem,
        &pki.expired_client.key_pem,
        &pki.future_client.key_pem,
        &pki.foreign_client.key_pem,
        &pki.client_of_expired_ca.key_pem,
        &pki.unrelated_key_pem,
    ];
    keys.iter()
        .flat_map(|pem| pem.lines())
        .filter(|line| !line.starts_with("-----") && line.len() >= 16)
        .map(str::to_owned)
        .collect()
}

/// The first text that shows a `PRIVATE KEY` marker (if `marker`) or one of the key body
/// `lines`, as a message naming its source.
pub fn find_key_material(
    texts: &[(String, String)],
    lines: &[String],
    marker: bool,
) -> Option<String> {
    for (source, text) in texts {
        if marker && text.contains("PRIVATE KEY") {
            return Some(format!("{source} shows a PRIVATE KEY marker:\n{text}"));
        }
        if let Some(line) = lines.iter().find(|l| text.contains(l.as_str())) {
            return Some(format!("{source} shows key material ({line}):\n{text}"));
        }
    }
    None
}

/// Panics naming the source when any text shows a `PRIVATE KEY` marker (if `marker`) or a
/// body line of any key of `pkis`.
#[track_caller]
pub fn assert_no_key_material(texts: &[(String, String)], pkis: &[&TestPki], marker: bool) {
    let lines: Vec<String> = pkis.iter().flat_map(|p| key_body_lines(p)).collect();
    assert!(!lines.is_empty(), "no key lines to look for");
    if let Some(leak) = find_key_material(texts, &lines, marker) {
        panic!("{leak}");
    }
}
