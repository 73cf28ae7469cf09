//! The unit agent's side of Juju on the emulator: the order and number of hooks (juju/juju
//! 3.6 `worker/uniter/resolver.go`, `relation/resolver.go`, the version-based remote-state
//! watcher), the statuses it sets (`operation/runhook.go`), `refresh`, `update-status` and
//! `run-action` (`juju run`).

use std::path::Path;
use std::time::Duration;

use juju_emulator::{Emulator, HookOutcome};
use juju_hooks::StatusKind;

use crate::support::{emulator_binary, write_charm_with, write_executable};

/// Logs `<hook> relations=<relation-ids>` per hook; on `config-changed` a provider writes
/// three times (three hooks' worth of commits happen before the requirer runs).
const CHARM: &str = r#"#!/bin/bash
set -eu
hook=$(basename "$JUJU_DISPATCH_PATH")
echo "$hook relations=$(relation-ids cluster | tr '\n' ' ')" >> "$JUJU_CHARM_DIR/seen.log"
case "$JUJU_DISPATCH_PATH" in
  actions/greet)
    action-log "greeting $(action-get who)"
    action-set greeting="hello $(action-get who)" times="$(action-get times)"
    [ "$(action-get who)" != nobody ] || action-fail "nobody to greet"
    ;;
esac
if [ "$hook" = install ] && [ -f "$JUJU_CHARM_DIR/status-on-install" ]; then
  status-set active ready
fi
"#;

const PROVIDER: &str = r#"#!/bin/bash
set -eu
hook=$(basename "$JUJU_DISPATCH_PATH")
echo "$hook" >> "$JUJU_CHARM_DIR/seen.log"
if [ "$hook" = update-status ]; then
  n=$(cat "$JUJU_CHARM_DIR/n" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$JUJU_CHARM_DIR/n"
  for rid in $(relation-ids db); do relation-set -r "$rid" n=$n; done
fi
"#;

fn charm(dir: &Path, metadata: &str, dispatch: &str) {
    let actions = "greet:\n  params:\n    who:\n      type: string\n      default: world\n    times:\n      type: integer\n      default: 1\n";
    write_charm_with(dir, metadata, &[("actions.yaml", actions)], dispatch);
}

/// `unit hook` for each queued hook.
fn queued(emulator: &Emulator) -> Vec<String> {
    emulator
        .queued()
        .unwrap()
        .iter()
        .map(|h| format!("{} {}", h.unit, h.hook))
        .collect()
}

fn seen(emulator: &Emulator, unit: &str) -> Vec<String> {
    let path = emulator
        .unit_charm_dir(&unit.parse().unwrap())
        .join("seen.log");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn setup() -> (tempfile::TempDir, Emulator) {
    let root = tempfile::tempdir().unwrap();
    charm(
        &root.path().join("peer"),
        "name: peer\npeers:\n  cluster:\n    interface: c\n",
        CHARM,
    );
    let emulator = Emulator::create(&root.path().join("model"), "m", &emulator_binary()).unwrap();
    (root, emulator)
}

/// [`setup`] with `units` units of `peer` deployed and settled.
fn settled_peers(units: u32) -> (tempfile::TempDir, Emulator) {
    let (root, mut emulator) = setup();
    let app = "peer".parse().unwrap();
    emulator
        .deploy(&app, &root.path().join("peer"), units)
        .unwrap();
    emulator.settle(100).unwrap();
    (root, emulator)
}

/// install → peer -created → leader-elected → config-changed → start; no relations during
/// install (`relation/resolver.go`: relations are tracked once the charm is installed).
#[test]
fn first_hooks_come_in_juju_order_and_install_sees_no_relation() {
    let (root, mut emulator) = setup();
    let app = "peer".parse().unwrap();
    emulator.deploy(&app, &root.path().join("peer"), 2).unwrap();
    let status = emulator.model().status_get(&"peer/0".parse().unwrap());
    assert_eq!(
        (status.kind, status.message.as_str()),
        (StatusKind::Waiting, "agent initialising")
    );
    let reports = emulator.settle(100).unwrap();
    assert!(reports.iter().all(|r| r.succeeded()), "{reports:#?}");
    let first: Vec<String> = seen(&emulator, "peer/0").into_iter().take(5).collect();
    assert_eq!(
        first,
        [
            "install relations=",
            "cluster-relation-created relations=cluster:0 ",
            "leader-elected relations=cluster:0 ",
            "config-changed relations=cluster:0 ",
            "start relations=cluster:0 ",
        ]
    );
    assert_eq!(
        seen(&emulator, "peer/1")[2],
        "leader-settings-changed relations=cluster:0 "
    );
    // The charm set no status: `unknown` after install, as the uniter leaves it.
    let status = emulator.model().status_get(&"peer/0".parse().unwrap());
    assert_eq!(status.kind, StatusKind::Unknown);
}

/// Removing a unit of a peer relation: -departed on both sides, no -broken.
#[test]
fn a_removed_peer_unit_departs_without_broken() {
    let (_root, mut emulator) = settled_peers(2);
    emulator.remove_unit(&"peer/1".parse().unwrap()).unwrap();
    let hooks = queued(&emulator);
    assert_eq!(
        hooks,
        [
            "peer/0 cluster-relation-departed",
            "peer/1 cluster-relation-departed",
            "peer/1 stop",
            "peer/1 remove",
        ]
    );
}

/// Three committed writes before the other side runs give it one -changed (the version-based
/// remote-state watcher coalesces them).
#[test]
fn repeated_writes_coalesce_into_one_changed() {
    let root = tempfile::tempdir().unwrap();
    charm(
        &root.path().join("db"),
        "name: db\nprovides:\n  db:\n    interface: kv\n",
        PROVIDER,
    );
    charm(
        &root.path().join("app"),
        "name: app\nrequires:\n  db:\n    interface: kv\n",
        PROVIDER,
    );
    let mut emulator =
        Emulator::create(&root.path().join("model"), "m", &emulator_binary()).unwrap();
    emulator
        .deploy(&"db".parse().unwrap(), &root.path().join("db"), 1)
        .unwrap();
    emulator
        .deploy(&"app".parse().unwrap(), &root.path().join("app"), 1)
        .unwrap();
    emulator.relate("db", "app").unwrap();
    emulator.settle(100).unwrap();
    let before = seen(&emulator, "app/0").len();
    for _ in 0..3 {
        emulator
            .run_hook(juju_hooks::testing::HookInvocation::new(
                "db/0".parse().unwrap(),
                "update-status",
            ))
            .unwrap();
    }
    let reports = emulator.settle(100).unwrap();
    let changed = seen(&emulator, "app/0")[before..]
        .iter()
        .filter(|h| h.as_str() == "db-relation-changed")
        .count();
    assert_eq!(changed, 1, "{reports:#?}");
    assert_eq!(
        emulator.model().relations[&0].unit_bags[&"db/0".parse().unwrap()]["n"],
        "3"
    );

    // update-status on every unit, then refresh: upgrade-charm then config-changed.
    emulator.update_status(None).unwrap();
    emulator.refresh(&"app".parse().unwrap(), None).unwrap();
    let queued = queued(&emulator);
    assert_eq!(
        queued,
        [
            "app/0 update-status",
            "db/0 update-status",
            "app/0 upgrade-charm",
            "app/0 config-changed",
        ]
    );
}

/// `juju run`: parameters with defaults, results, log, failure (action-fail and exit codes).
#[test]
fn actions_run_with_defaults_and_report_as_juju_run() {
    let (_root, mut emulator) = settled_peers(1);
    let unit = "peer/0".parse().unwrap();
    let done = emulator
        .run_action(&unit, "greet", &["times=2".into()])
        .unwrap();
    assert!(done.completed(), "{:?}", done.record);
    let value = done.juju_run_value();
    let task = &value["peer/0"];
    assert_eq!(task["status"], "completed");
    assert_eq!(task["results"]["greeting"], "hello world");
    assert_eq!(task["results"]["times"], "2");
    assert_eq!(task["results"]["return-code"], 0);
    assert_eq!(task["log"][0], "greeting world");
    assert_eq!(task["id"], "1");
    assert!(seen(&emulator, "peer/0")
        .last()
        .unwrap()
        .starts_with("greet relations="));

    let failed = emulator
        .run_action(&unit, "greet", &["who=nobody".into()])
        .unwrap();
    assert!(!failed.completed());
    assert_eq!(
        failed.juju_run_value()["peer/0"]["message"],
        "nobody to greet"
    );
    assert_eq!(failed.juju_run_value()["peer/0"]["status"], "failed");

    let err = emulator.run_action(&unit, "nope", &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "action \"nope\" not defined on unit \"peer/0\""
    );
    let err = emulator
        .run_action(&unit, "greet", &["times=x".into()])
        .unwrap_err();
    assert!(err.to_string().contains("invalid type"), "{err}");
}

/// A charm without `dispatch`: its action is the executable `actions/<name>`, run with
/// `JUJU_DISPATCH_PATH=actions/<name>` (juju/juju 3.6 `worker/uniter/runner/runner.go`
/// `runCharmHookWithLocation`, `discoverHookHandler`); an action with no executable fails
/// with `action not implemented on unit "<unit>"` (`runner/context/context.go` `Flush`).
#[test]
fn actions_without_dispatch_run_the_actions_executable() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("legacy");
    std::fs::create_dir_all(dir.join("actions")).unwrap();
    std::fs::write(dir.join("metadata.yaml"), "name: legacy\n").unwrap();
    std::fs::write(
        dir.join("actions.yaml"),
        "greet:\n  params:\n    who:\n      type: string\n      default: world\nmissing: {}\n",
    )
    .unwrap();
    let script = dir.join("actions/greet");
    write_executable(
        &script,
        "#!/bin/bash\nset -eu\naction-log \"via $JUJU_DISPATCH_PATH\"\n\
         action-set greeting=\"hello $(action-get who)\"\necho done\n",
    );
    let mut emulator =
        Emulator::create(&root.path().join("model"), "m", &emulator_binary()).unwrap();
    emulator
        .deploy(&"legacy".parse().unwrap(), &dir, 1)
        .unwrap();
    let reports = emulator.settle(100).unwrap();
    assert!(reports.iter().all(|r| r.succeeded()), "{reports:#?}");
    let unit = "legacy/0".parse().unwrap();

    let done = emulator
        .run_action(&unit, "greet", &["who=you".into()])
        .unwrap();
    assert!(done.completed(), "{:?}", done.record);
    let value = done.juju_run_value();
    let task = &value["legacy/0"];
    assert_eq!(task["results"]["greeting"], "hello you");
    assert_eq!(task["results"]["stdout"], "done\n");
    assert_eq!(task["results"]["return-code"], 0);
    assert_eq!(task["log"][0], "via actions/greet");

    let missing = emulator.run_action(&unit, "missing", &[]).unwrap();
    assert!(!missing.completed());
    assert_eq!(
        missing.juju_run_value()["legacy/0"]["message"],
        "action not implemented on unit \"legacy/0\""
    );
}

/// A queued `secret-rotate` whose unit is removed before it runs (here by `run-hook`, which
/// runs hooks outside the queue order) is dropped; the rotation is still due, so it comes to
/// the new leader (juju/juju 3.6 worker/secretrotate runs on the leader and fires for a
/// rotation time already past) and keeps coming after it.
#[test]
fn a_dropped_secret_rotate_comes_to_the_new_leader() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("vault");
    charm(
        &dir,
        "name: vault\n",
        r#"#!/bin/bash
set -eu
hook=$(basename "$JUJU_DISPATCH_PATH")
echo "$hook" >> "$JUJU_CHARM_DIR/seen.log"
if [ "$hook" = leader-elected ] && [ "$(secret-ids --format=json)" = "[]" ]; then
  secret-add --label creds --rotate hourly token=one > /dev/null
fi
"#,
    );
    let mut emulator =
        Emulator::create(&root.path().join("model"), "m", &emulator_binary()).unwrap();
    emulator.deploy(&"vault".parse().unwrap(), &dir, 2).unwrap();
    assert!(emulator.settle(100).unwrap().iter().all(|r| r.succeeded()));
    let (old, new) = ("vault/0".parse().unwrap(), "vault/1".parse().unwrap());
    emulator.advance_clock(Duration::from_secs(3600)).unwrap();
    let queued = |e: &Emulator| -> Vec<String> {
        e.queued()
            .unwrap()
            .iter()
            .map(|h| format!("{} {}", h.unit, h.hook))
            .collect()
    };
    assert_eq!(queued(&emulator), ["vault/0 secret-rotate"]);
    emulator.remove_unit(&old).unwrap();
    for hook in ["stop", "remove"] {
        let report = emulator
            .run_hook(juju_hooks::testing::HookInvocation::new(old.clone(), hook))
            .unwrap();
        assert!(report.succeeded(), "{report:#?}");
    }
    let reports = emulator.settle(100).unwrap();
    let rotate = reports
        .iter()
        .find(|r| r.invocation.hook == "secret-rotate" && r.invocation.unit == old)
        .expect("the queued rotation is dropped");
    assert!(matches!(rotate.outcome, HookOutcome::Dropped { .. }));
    assert!(
        seen(&emulator, "vault/1").contains(&"secret-rotate".to_owned()),
        "{reports:#?}"
    );
    // Not marked as queued for ever: five minutes on (no new revision), it is due again.
    emulator.advance_clock(Duration::from_secs(300)).unwrap();
    emulator.settle(100).unwrap();
    let rotations = seen(&emulator, "vault/1")
        .iter()
        .filter(|h| *h == "secret-rotate")
        .count();
    assert_eq!(rotations, 2);
    assert!(emulator.model().unit(&new).is_some());
}
