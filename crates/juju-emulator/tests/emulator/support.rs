//! Shared test fixtures: a model directory with one running hook, and tool calls against it.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use juju_emulator::store::{HookContextFile, Store};
use juju_emulator::{tool_main, MODEL_DIR_VAR};
use juju_hooks::testing::{HookInvocation, Model, Pending};
use juju_hooks::UnitName;
use serde_json::json;

/// The built `juju-emulator` binary.
pub fn emulator_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_juju-emulator"))
}

/// Runs the emulator's command line with only `env` (plus `JUJU_EMULATOR_DIR=model`).
pub fn cli(model: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(emulator_binary())
        .args(args)
        .env_clear()
        .env("JUJU_EMULATOR_DIR", model)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn unit(name: &str) -> UnitName {
    name.parse().unwrap()
}

/// Writes `text` to `path`, executable.
pub fn write_executable(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A charm directory: `metadata.yaml`, an executable `dispatch`.
pub fn write_charm(dir: &Path, metadata: &str, dispatch: &str) {
    write_charm_with(dir, metadata, &[], dispatch);
}

/// [`write_charm`] with more files (`config.yaml`, `actions.yaml`, ...).
pub fn write_charm_with(dir: &Path, metadata: &str, files: &[(&str, &str)], dispatch: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("metadata.yaml"), metadata).unwrap();
    for (name, content) in files {
        std::fs::write(dir.join(name), content).unwrap();
    }
    write_executable(&dir.join("dispatch"), dispatch);
}

/// What one tool call returned.
#[derive(Debug)]
pub struct ToolRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl ToolRun {
    /// Asserts a usage or runtime error with Juju's exact text.
    #[track_caller]
    pub fn assert_error(&self, code: i32, text: &str) {
        assert_eq!(
            (self.code, self.stdout.as_str(), self.stderr.as_str()),
            (code, "", format!("ERROR {text}\n").as_str()),
        );
    }

    /// Asserts success with exactly this stdout and an empty stderr.
    #[track_caller]
    pub fn assert_ok(&self, stdout: &str) {
        assert_eq!(
            (self.code, self.stdout.as_str(), self.stderr.as_str()),
            (0, stdout, ""),
        );
    }
}

/// A model directory holding `etcd` (2 units, provides `proxy`) related to `kube` (1 unit,
/// requires `proxy`), settled, with some data; tools run as hook `invocation`.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub relation: u32,
    next_context: u32,
}

impl Fixture {
    pub fn new() -> Self {
        let (mut model, relation) =
            Model::with_relation(("etcd", 2), ("kube", 1), "proxy", "etcd-proxy").unwrap();
        let rel = model.relations.get_mut(&relation).unwrap();
        let etcd0 = rel.unit_bags.get_mut(&"etcd/0".parse().unwrap()).unwrap();
        etcd0.insert("cluster".into(), "etcd0=https://10.0.0.1:2380".into());
        etcd0.insert("port".into(), "12345".into());
        etcd0.insert("pem".into(), "line1\nline2\n".into());
        let etcd = model
            .applications
            .get_mut(&"etcd".parse().unwrap())
            .unwrap();
        etcd.leader_data.insert("token".into(), "s3cret".into());
        etcd.config.insert("debug".into(), json!(false));
        etcd.config.insert("port".into(), json!(45));
        etcd.config.insert("name".into(), json!("x"));
        etcd.config.insert("unset".into(), serde_json::Value::Null);
        let dir = tempfile::tempdir().unwrap();
        Store::new(dir.path()).save_model(&model).unwrap();
        Self {
            dir,
            relation,
            next_context: 0,
        }
    }

    pub fn store(&self) -> Store {
        Store::new(self.dir.path())
    }

    pub fn model(&self) -> Model {
        self.store().load_model().unwrap()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `kube/0` in `proxy-relation-changed` for `etcd/0`.
    pub fn kube_changed(&self) -> HookInvocation {
        HookInvocation::changed(
            "kube/0".parse().unwrap(),
            format!("proxy:{}", self.relation).parse().unwrap(),
            "etcd/0".parse().unwrap(),
        )
    }

    /// A non-relation hook on `unit`.
    pub fn plain(&self, unit: &str, hook: &str) -> HookInvocation {
        HookInvocation::new(unit.parse().unwrap(), hook)
    }

    /// Starts a hook: writes its context file; returns the context id.
    pub fn begin(&mut self, invocation: &HookInvocation) -> String {
        self.next_context += 1;
        let id = format!(
            "{}-{}-{:032x}",
            invocation.unit, invocation.hook, self.next_context
        );
        self.store()
            .save_context(&HookContextFile {
                id: id.clone(),
                invocation: invocation.clone(),
                pending: Pending::default(),
            })
            .unwrap();
        id
    }

    pub fn env(&self, context_id: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("JUJU_CONTEXT_ID".to_owned(), context_id.to_owned()),
            (
                MODEL_DIR_VAR.to_owned(),
                self.path().to_string_lossy().into_owned(),
            ),
        ])
    }

    /// Runs `tool args...` in-process inside the hook with context `context_id`.
    pub fn tool_in(&self, context_id: &str, tool: &str, args: &[&str], stdin: &str) -> ToolRun {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = tool_main(
            tool,
            &args,
            &self.env(context_id),
            &mut stdin.as_bytes(),
            &mut out,
            &mut err,
        );
        ToolRun {
            code,
            stdout: String::from_utf8(out).unwrap(),
            stderr: String::from_utf8(err).unwrap(),
        }
    }

    /// Commits the hook with context `context_id` as the emulator does when it exits 0;
    /// returns the hooks that follow.
    pub fn commit(&self, context_id: &str) -> Vec<HookInvocation> {
        let store = self.store();
        let context = store.load_context(context_id).unwrap().unwrap();
        let mut model = store.load_model().unwrap();
        let next = model.commit(&context.invocation.unit, context.pending);
        store.save_model(&model).unwrap();
        next
    }

    /// What the controller refuses when the hook with context `context_id` commits.
    pub fn commit_refusal(&self, context_id: &str) -> Option<String> {
        let context = self.store().load_context(context_id).unwrap().unwrap();
        self.model()
            .commit_refusal(&context.invocation.unit, &context.pending)
            .map(|r| r.message)
    }

    /// Runs one tool call in a fresh hook `invocation`.
    pub fn tool(&mut self, invocation: &HookInvocation, tool: &str, args: &[&str]) -> ToolRun {
        let id = self.begin(invocation);
        self.tool_in(&id, tool, args, "")
    }
}
