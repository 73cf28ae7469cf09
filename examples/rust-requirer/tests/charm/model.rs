//! The charm's logic on the in-memory model: failures and retries, which are awkward to
//! provoke through processes.

use std::collections::BTreeMap;
use std::fs;

use etcd_proxy::proxy::{ServiceCall, ServiceError, ServiceManager};
use etcd_proxy::testing::TestPki;
use juju_hooks::testing::{run, HookInvocation, Model};
use juju_hooks::{
    transact, Config, FlagStore, HookTools, MemoryFlagStore, RelationId, StatusKind, WorkloadStatus,
};
use rust_proxy_requirer::{
    handle, CharmConfig, CharmError, HookSummary, RecordingWorkload, Workload, WorkloadError,
};
use tempfile::TempDir;

use crate::support::{app, closed_port, unit};

/// A workload whose next installs and restarts fail, as many times as asked.
#[derive(Default)]
struct Flaky {
    recorded: RecordingWorkload,
    failing_installs: usize,
    failing_restarts: usize,
    /// Stands for the manager main.rs picks from `dry-run` (`DryRun` or systemd).
    dry_run: bool,
}

impl Workload for Flaky {
    fn install_package(&mut self, package: &str) -> Result<(), WorkloadError> {
        if self.failing_installs > 0 {
            self.failing_installs -= 1;
            return Err(WorkloadError::Command {
                command: format!("apt-get install -y {package}"),
                detail: "exit status: 100: mirror unreachable".into(),
            });
        }
        self.recorded.install_package(package)
    }

    fn services(&mut self) -> &mut dyn ServiceManager {
        self
    }
}

impl ServiceManager for Flaky {
    fn name(&self) -> &str {
        if self.dry_run {
            "dry-run"
        } else {
            "systemd"
        }
    }

    fn daemon_reload(&mut self) -> Result<(), ServiceError> {
        self.recorded.services.daemon_reload()
    }

    fn enable(&mut self, unit: &str) -> Result<(), ServiceError> {
        self.recorded.services.enable(unit)
    }

    fn restart(&mut self, unit: &str) -> Result<(), ServiceError> {
        if self.failing_restarts > 0 {
            self.failing_restarts -= 1;
            return Err(ServiceError::Failed {
                command: format!("systemctl restart {unit}"),
                status: "exit status: 1".into(),
                stderr: "Job for etcd-proxy.service failed.".into(),
            });
        }
        self.recorded.services.restart(unit)
    }
}

struct Memory {
    dir: TempDir,
    model: Model,
    store: MemoryFlagStore,
    workload: Flaky,
    relation: RelationId,
}

impl Memory {
    /// etcd/0 and kube/0 related, every relation hook already run by a charm doing nothing.
    fn new() -> Memory {
        let (mut model, number) =
            Model::with_relation(("etcd", 1), ("kube", 1), "proxy", "etcd-proxy").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = |p: &str| serde_json::Value::from(dir.path().join(p).display().to_string());
        let config: Config = [
            ("credentials-dir", path("creds")),
            ("unit-file", path("systemd/etcd-proxy.service")),
            ("environment-file", path("default/etcd-proxy")),
            ("data-dir", path("data")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        model.applications.get_mut(&app("kube")).unwrap().config = config;
        let relation = model.relation_id(number, &unit("kube/0")).unwrap();
        Memory {
            dir,
            model,
            store: MemoryFlagStore::new(),
            workload: Flaky::default(),
            relation,
        }
    }

    fn publish(&mut self, bag: BTreeMap<String, String>) {
        let number = self.relation.number();
        let relation = self.model.relations.get_mut(&number).unwrap();
        relation
            .unit_bags
            .get_mut(&unit("etcd/0"))
            .unwrap()
            .extend(bag);
    }

    fn set_config(&mut self, name: &str, value: &str) {
        let config = &mut self
            .model
            .applications
            .get_mut(&app("kube"))
            .unwrap()
            .config;
        config.insert(name.to_owned(), value.into());
    }

    /// Runs one hook on kube/0 as `main.rs` does: state saved only on success.
    fn hook(&mut self, invocation: HookInvocation) -> Result<HookSummary, CharmError> {
        let (store, workload) = (&mut self.store, &mut self.workload);
        let mut summary = None;
        let outcome = run(&self.model, &invocation, self.dir.path(), |ctx, tools| {
            let config = CharmConfig::from_config(&tools.config_get()?);
            summary = Some(transact(store, |state| {
                handle(ctx, tools, state, &config, workload)
            })?);
            Ok::<(), CharmError>(())
        })
        .unwrap();
        self.model = outcome.model;
        outcome.result.map(|()| summary.unwrap())
    }

    fn changed(&mut self) -> Result<HookSummary, CharmError> {
        let invocation =
            HookInvocation::changed(unit("kube/0"), self.relation.clone(), unit("etcd/0"));
        self.hook(invocation)
    }

    fn named(&mut self, hook: &str) -> Result<HookSummary, CharmError> {
        self.hook(HookInvocation::new(unit("kube/0"), hook))
    }

    fn status(&self) -> WorkloadStatus {
        self.model.status_get(&unit("kube/0"))
    }

    fn restarts(&self) -> usize {
        let calls = &self.workload.recorded.services.calls;
        calls
            .iter()
            .filter(|c| matches!(c, ServiceCall::Restart(_)))
            .count()
    }
}

fn cluster() -> String {
    format!("etcd0=https://127.0.0.1:{}", closed_port())
}

#[test]
fn a_failed_install_fails_the_hook_and_the_next_hook_installs() {
    let mut memory = Memory::new();
    memory.workload.failing_installs = 1;
    let err = memory.named("install").unwrap_err();
    assert!(err.to_string().contains("mirror unreachable"), "{err}");
    assert_eq!(memory.status().kind, StatusKind::Maintenance);
    assert!(memory.workload.recorded.installed.is_empty());

    memory.named("start").unwrap();
    assert_eq!(memory.workload.recorded.installed, ["etcd-server"]);
    memory.named("update-status").unwrap();
    assert_eq!(memory.workload.recorded.installed, ["etcd-server"], "once");
}

#[test]
fn a_failed_restart_is_retried_although_the_files_are_already_written() {
    let pki = TestPki::generate();
    let mut memory = Memory::new();
    memory.publish(pki.python_provider_databag(&cluster()));
    memory.workload.failing_restarts = 1;

    let err = memory.changed().unwrap_err();
    assert!(
        err.to_string()
            .contains("Job for etcd-proxy.service failed"),
        "{err}"
    );
    assert!(memory
        .dir
        .path()
        .join("systemd/etcd-proxy.service")
        .exists());
    assert_eq!(memory.restarts(), 0);
    assert_eq!(memory.store.save_calls(), 0, "a failed hook saves nothing");

    // Juju retries (here: any next hook). The files are current, the restart still owed.
    let summary = memory.named("update-status").unwrap();
    assert!(!summary.unit_changed && !summary.credentials_changed);
    assert!(summary.restarted);
    assert_eq!(memory.restarts(), 1);
    assert_eq!(memory.status().kind, StatusKind::Active);

    let summary = memory.named("update-status").unwrap();
    assert!(!summary.restarted);
    assert_eq!(memory.restarts(), 1);
}

#[test]
fn a_bad_option_blocks_until_the_operator_fixes_it() {
    let pki = TestPki::generate();
    let mut memory = Memory::new();
    memory.publish(pki.python_provider_databag(&cluster()));
    memory.set_config("listen-address", "localhost");
    memory.changed().unwrap();
    let status = memory.status();
    assert_eq!(status.kind, StatusKind::Blocked);
    assert!(
        status.message.contains("listen-address"),
        "{}",
        status.message
    );
    assert!(!memory
        .dir
        .path()
        .join("systemd/etcd-proxy.service")
        .exists());

    memory.set_config("listen-address", "127.0.0.1:23790");
    let summary = memory.named("config-changed").unwrap();
    assert!(summary.restarted);
    assert_eq!(memory.status().kind, StatusKind::Active);
}

#[test]
fn a_plain_http_cluster_without_credentials_is_not_proxied() {
    let mut memory = Memory::new();
    let cluster = format!("etcd0=http://127.0.0.1:{}", closed_port());
    memory.publish(BTreeMap::from([("cluster".to_owned(), cluster)]));
    let summary = memory.changed().unwrap();
    assert_eq!(summary.flags, ["proxy.available", "proxy.connected"]);
    let status = memory.status();
    assert_eq!(status.kind, StatusKind::Blocked);
    assert!(status.message.contains("needs TLS"), "{}", status.message);
    assert!(!memory.dir.path().join("creds").exists());
    assert_eq!(memory.restarts(), 0);
}

#[test]
fn the_hook_saves_the_charm_state_next_to_the_library_state() {
    let pki = TestPki::generate();
    let mut memory = Memory::new();
    memory.publish(pki.python_provider_databag(&cluster()));
    memory.changed().unwrap();
    let state = memory.store.load().unwrap();
    let ours = &state.data[rust_proxy_requirer::STATE_NAMESPACE];
    assert_eq!(ours["installed"], "etcd-server");
    // The library keeps what the proxy runs with: the public certificates, not the key.
    // No peer answered here (a closed port): the guess is kept, marked as one, so that
    // other hooks do not ask (and wait) again; update-status and config-changed do.
    let proxy = &state.data["etcd-proxy/proxy/proxy"];
    assert_eq!(proxy["resolved"]["guessed"], true, "{proxy}");
    assert_eq!(
        proxy["resolved"]["urls"][0], "https://127.0.0.1:2379",
        "{proxy}"
    );
    // The gateway (the default mode) passes TLS through: the certificates it runs with are
    // none of its business, so none are kept for it.
    assert_eq!(proxy["applied"]["cert_pem"], "");
    assert!(proxy["applied"]["unit_file"]
        .as_str()
        .unwrap()
        .contains("gateway"));
    for section in [ours, proxy] {
        let text = serde_json::to_string(section).unwrap();
        assert!(!text.contains("PRIVATE KEY"));
    }
    let key = fs::read_to_string(memory.dir.path().join("creds/client-key.pem")).unwrap();
    assert_eq!(key, pki.client.key_pem);
}

#[test]
fn turning_dry_run_off_installs_and_starts_for_real() {
    let pki = TestPki::generate();
    let mut memory = Memory::new();
    memory.set_config("dry-run", "true");
    memory.workload.dry_run = true;
    memory.publish(pki.python_provider_databag(&cluster()));
    memory.changed().unwrap();
    assert_eq!(memory.workload.recorded.installed.len(), 1);
    assert_eq!(memory.restarts(), 1);

    // The files are current, but the dry run installed and started nothing.
    memory
        .model
        .applications
        .get_mut(&app("kube"))
        .unwrap()
        .config
        .insert("dry-run".into(), false.into());
    memory.workload.dry_run = false;
    let summary = memory.named("config-changed").unwrap();
    assert!(!summary.unit_changed && summary.restarted);
    assert_eq!(memory.workload.recorded.installed.len(), 2);
    assert_eq!(memory.restarts(), 2);

    memory.named("update-status").unwrap();
    assert_eq!(memory.workload.recorded.installed.len(), 2);
    assert_eq!(memory.restarts(), 2);
}
