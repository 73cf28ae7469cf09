//! A real `ops` charm (tests/charms/opsdemo, ops 3.x from the CI virtualenv) on the emulator:
//! StoredState in a file and in Juju's unit state (`use_juju_for_storage`), a secret shared
//! between two applications (add, grant, get, set → secret-changed → refresh),
//! `set_workload_version`, `open_port`, `get_binding(...).network`, an action, and a hook that
//! fails. Needs `ETCD_PROXY_PYTHON` (see `scripts/python-env.sh`); without it the test says
//! SKIPPED loudly, and under `CI` it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use juju_emulator::{copy_charm, Emulator, HookReport};
use juju_hooks::testing::PortRange;
use juju_hooks::StatusKind;

use crate::support::{emulator_binary, unit};

fn python() -> Option<PathBuf> {
    match std::env::var_os("ETCD_PROXY_PYTHON").filter(|p| !p.is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var_os("CI").is_some() => {
            panic!("ETCD_PROXY_PYTHON is not set under CI: run scripts/python-env.sh")
        }
        None => {
            eprintln!(
                "SKIPPED ops charm test: ETCD_PROXY_PYTHON is not set (run scripts/python-env.sh)"
            );
            None
        }
    }
}

/// The demo charm with `python` and `venv` (site-packages) linked in.
fn charm(python: &Path, root: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/charms/opsdemo");
    let dir = root.join("opsdemo");
    copy_charm(&source, &dir).unwrap();
    let out = Command::new(python)
        .args([
            "-c",
            "import ops, os; print(os.path.dirname(os.path.dirname(ops.__file__)))",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let site = String::from_utf8(out.stdout).unwrap();
    std::os::unix::fs::symlink(site.trim(), dir.join("venv")).unwrap();
    std::os::unix::fs::symlink(python, dir.join("python")).unwrap();
    dir
}

#[track_caller]
fn all_ok(reports: &[HookReport]) {
    for r in reports {
        assert!(
            r.succeeded(),
            "{} {} failed: {}",
            r.invocation.unit,
            r.invocation.hook,
            r.stderr
        );
    }
}

fn status(emulator: &Emulator, name: &str) -> (StatusKind, String) {
    let s = emulator.model().status_get(&unit(name));
    (s.kind, s.message)
}

#[test]
fn an_ops_charm_shares_a_secret_keeps_state_and_runs_an_action() {
    let Some(python) = python() else { return };
    let root = tempfile::tempdir().unwrap();
    let charm = charm(&python, root.path());
    let mut emulator = Emulator::create(&root.path().join("model"), "ops", &emulator_binary())
        .unwrap()
        .with_extra_env([("PATH".to_owned(), "/usr/bin:/bin".to_owned())].into());
    emulator
        .deploy(&"alpha".parse().unwrap(), &charm, 1)
        .unwrap();
    emulator
        .deploy(&"beta".parse().unwrap(), &charm, 1)
        .unwrap();
    all_ok(&emulator.settle(100).unwrap());

    // install: workload version, port; start: the binding's loopback address.
    let model = emulator.model().clone();
    let alpha0 = model.unit(&unit("alpha/0")).unwrap();
    assert_eq!(alpha0.workload_version, "1.2.3");
    let port: PortRange = "8080/tcp".parse().unwrap();
    assert!(
        alpha0.opened_ports["*"].contains(&port),
        "{:?}",
        alpha0.opened_ports
    );
    let (kind, message) = status(&emulator, "alpha/0");
    assert_eq!(kind, StatusKind::Active);
    assert!(message.starts_with("installs=1 bind=127."), "{message}");
    // StoredState: alpha in a local file, beta in Juju's unit state.
    assert!(emulator
        .unit_charm_dir(&unit("alpha/0"))
        .join(".unit-state.db")
        .exists());
    assert!(model.unit(&unit("alpha/0")).unwrap().state.is_empty());
    assert!(!model.unit(&unit("beta/0")).unwrap().state.is_empty());
    assert!(status(&emulator, "beta/0").1.starts_with("installs=1 "));

    // The secret: added and granted by alpha's leader, read by beta.
    emulator.relate("alpha:share", "beta:use").unwrap();
    all_ok(&emulator.settle(100).unwrap());
    assert_eq!(
        status(&emulator, "beta/0"),
        (StatusKind::Active, "token=one".into())
    );
    let (uri, record) = emulator
        .model()
        .secrets
        .iter()
        .next()
        .map(|(u, r)| (u.clone(), r.clone()))
        .unwrap();
    assert_eq!(record.label.as_deref(), Some("shared"));
    assert_eq!(
        record.consumers[&unit("beta/0")].label.as_deref(),
        Some("from-alpha")
    );

    // A new revision → secret-changed on beta → refresh.
    emulator
        .set_config(
            &"alpha".parse().unwrap(),
            &[("token".to_owned(), "two".to_owned())].into(),
        )
        .unwrap();
    let reports = emulator.settle(100).unwrap();
    all_ok(&reports);
    assert!(
        reports
            .iter()
            .any(|r| r.invocation.unit == unit("beta/0") && r.invocation.hook == "secret-changed"),
        "{reports:#?}"
    );
    assert_eq!(status(&emulator, "beta/0").1, "token=two");
    assert_eq!(
        emulator.model().secrets[&uri].consumers[&unit("beta/0")].revision,
        2
    );

    // The action.
    let done = emulator
        .run_action(&unit("alpha/0"), "greet", &["who=tester".to_owned()])
        .unwrap();
    assert!(done.completed(), "{:?} {}", done.record, done.report.stderr);
    assert_eq!(done.record.results["greeting"], "hello tester");
    assert_eq!(done.record.log, ["greeting tester"]);

    // A hook that fails after staging a new revision: nothing of it is kept.
    emulator
        .set_config(
            &"alpha".parse().unwrap(),
            &[
                ("token".to_owned(), "three".to_owned()),
                ("fail".to_owned(), "true".to_owned()),
            ]
            .into(),
        )
        .unwrap();
    let reports = emulator.settle(100).unwrap();
    let failed = reports
        .iter()
        .find(|r| !r.succeeded())
        .expect("config-changed fails");
    assert_eq!(failed.invocation.hook, "config-changed");
    let logs = &emulator.model().unit(&unit("alpha/0")).unwrap().logs;
    assert!(
        logs.iter()
            .any(|l| l.message.contains("config-changed failed on purpose")),
        "{failed:#?} {logs:#?}"
    );
    assert_eq!(
        emulator.model().secrets[&uri].latest,
        2,
        "the staged revision was dropped"
    );
    assert_eq!(status(&emulator, "beta/0").1, "token=two");
    // As in Juju (worker/uniter/operation/runhook.go), the unit waits in error, running
    // nothing, until `resolved`; the retry runs config-changed again with the fixed config.
    assert_eq!(
        emulator.hook_errors().unwrap()[&unit("alpha/0")].hook,
        "config-changed"
    );
    emulator
        .set_config(
            &"alpha".parse().unwrap(),
            &[("fail".to_owned(), "false".to_owned())].into(),
        )
        .unwrap();
    assert!(
        emulator.settle(100).unwrap().is_empty(),
        "alpha/0 waits in error"
    );
    emulator.resolved(&unit("alpha/0"), true).unwrap();
    all_ok(&emulator.settle(100).unwrap());
    assert_eq!(emulator.model().secrets[&uri].latest, 3);
    assert_eq!(status(&emulator, "beta/0").1, "token=three");
}
