//! A whole relation life cycle of two tiny bash charms on the emulator: joined before
//! changed, commit only on exit 0, -changed on the other side after a committed write,
//! departed without the departing unit, broken with no members.

use juju_emulator::{Emulator, HookOutcome, HookReport};
use juju_hooks::testing::HookInvocation;
use std::collections::BTreeMap;

use crate::support::{emulator_binary, unit, write_charm, write_charm_with, write_executable};

/// Every hook appends `<hook> remote=<JUJU_REMOTE_UNIT> departing=<...> members=<relation-list>`
/// and what it read to `$CHARM_DIR/seen.log`.
const OBSERVE: &str = r#"#!/bin/bash
set -eu
hook=$(basename "$JUJU_DISPATCH_PATH")
log="$JUJU_CHARM_DIR/seen.log"
case "$hook" in
  *-relation-*)
    members=$(relation-list --format=json)
    echo "$hook remote=$JUJU_REMOTE_UNIT departing=${JUJU_DEPARTING_UNIT:-} members=$members app=$(relation-list --app)" >> "$log"
    if [ -n "$JUJU_REMOTE_UNIT" ] && [ "$hook" != "${JUJU_RELATION}-relation-departed" ]; then
      echo "  read $(relation-get --format=json - "$JUJU_REMOTE_UNIT")" >> "$log"
    fi
    ;;
  *) echo "$hook" >> "$log" ;;
esac
"#;

/// The provider also publishes: `cluster` when a unit joins, `value` from config on
/// config-changed — and fails (exit 1) after writing when the value is `fail`.
const PROVIDER_EXTRA: &str = r#"
case "$hook" in
  proxy-relation-joined) relation-set cluster="etcd0=https://10.0.0.1:2380" ;;
  config-changed)
    value=$(config-get value)
    for rid in $(relation-ids proxy); do relation-set -r "$rid" value="$value"; done
    [ "$value" != fail ] || exit 1
    ;;
esac
"#;

fn summary(reports: &[HookReport]) -> Vec<String> {
    describe(reports.iter().map(|r| &r.invocation))
}

/// `unit hook [remote unit]` per hook.
fn describe<'a>(hooks: impl IntoIterator<Item = &'a HookInvocation>) -> Vec<String> {
    hooks
        .into_iter()
        .map(|h| {
            let remote = h
                .remote_unit
                .as_ref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default();
            format!("{} {}{remote}", h.unit, h.hook)
        })
        .collect()
}

fn seen(emulator: &Emulator, name: &str) -> Vec<String> {
    let log = emulator.unit_charm_dir(&unit(name)).join("seen.log");
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn position(lines: &[String], prefix: &str) -> usize {
    lines
        .iter()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in {lines:#?}"))
}

#[test]
fn a_relation_lives_and_dies_as_in_juju() {
    let root = tempfile::tempdir().unwrap();
    let provider = root.path().join("provider");
    let requirer = root.path().join("requirer");
    write_charm_with(
        &provider,
        "name: etcd\nprovides:\n  proxy:\n    interface: etcd-proxy\n",
        &[(
            "config.yaml",
            "options:\n  value:\n    type: string\n    default: ''\n",
        )],
        &format!("{OBSERVE}{PROVIDER_EXTRA}"),
    );
    write_charm(
        &requirer,
        "name: kube\nrequires:\n  proxy:\n    interface: etcd-proxy\n",
        OBSERVE,
    );
    let mut emulator =
        Emulator::create(&root.path().join("model"), "life", &emulator_binary()).unwrap();
    emulator
        .deploy(&"etcd".parse().unwrap(), &provider, 2)
        .unwrap();
    emulator
        .deploy(&"kube".parse().unwrap(), &requirer, 1)
        .unwrap();
    let setup = emulator.settle(100).unwrap();
    assert!(setup.iter().all(HookReport::succeeded), "{setup:#?}");
    assert_eq!(
        summary(&setup[..4]),
        [
            "etcd/0 install",
            "etcd/0 leader-elected",
            "etcd/0 config-changed",
            "etcd/0 start"
        ]
    );
    assert_ne!(
        emulator.unit_charm_dir(&unit("etcd/0")),
        emulator.unit_charm_dir(&unit("etcd/1")),
        "each unit has its own charm dir"
    );

    // Relate: created everywhere, then joined followed by changed per remote unit.
    let relation = emulator.relate("etcd", "kube").unwrap();
    let reports = emulator.settle(100).unwrap();
    assert!(reports.iter().all(HookReport::succeeded), "{reports:#?}");
    let kube = seen(&emulator, "kube/0");
    for remote in ["etcd/0", "etcd/1"] {
        let joined = position(&kube, &format!("proxy-relation-joined remote={remote}"));
        let changed = position(&kube, &format!("proxy-relation-changed remote={remote}"));
        assert!(joined < changed, "{kube:#?}");
        assert!(
            kube[changed + 1].contains("\"cluster\":\"etcd0=https://10.0.0.1:2380\""),
            "the provider's committed write is readable: {kube:#?}"
        );
    }
    assert!(
        kube[position(&kube, "proxy-relation-created")].contains("remote= "),
        "{kube:#?}"
    );
    let tool_calls: usize = reports.iter().map(|r| r.tool_calls).sum();
    let logged = emulator
        .calls()
        .unwrap()
        .iter()
        .filter(|c| {
            reports
                .iter()
                .any(|r| c.context_id.as_deref() == Some(r.context_id.as_str()))
        })
        .count();
    assert_eq!(tool_calls, logged, "reports count the logged calls");
    assert!(tool_calls > 0);

    // A committed write fires -changed on the other side.
    emulator
        .set_config(
            &"etcd".parse().unwrap(),
            &BTreeMap::from([("value".to_owned(), "one".to_owned())]),
        )
        .unwrap();
    let reports = emulator.settle(100).unwrap();
    let etcd0_config = reports
        .iter()
        .find(|r| r.invocation.unit == unit("etcd/0") && r.invocation.hook == "config-changed")
        .unwrap();
    assert_eq!(etcd0_config.outcome, HookOutcome::Succeeded);
    assert_eq!(
        describe(&etcd0_config.queued),
        ["kube/0 proxy-relation-changed etcd/0"]
    );
    assert!(summary(&reports).contains(&"kube/0 proxy-relation-changed etcd/1".to_owned()));
    assert!(seen(&emulator, "kube/0")
        .last()
        .unwrap()
        .contains("\"value\":\"one\""));

    // The same value again changes nothing, so nothing fires.
    emulator
        .set_config(
            &"etcd".parse().unwrap(),
            &BTreeMap::from([("value".to_owned(), "one".to_owned())]),
        )
        .unwrap();
    assert!(emulator.queued().unwrap().is_empty());

    // A hook that exits 1 after relation-set leaves no trace on the other side.
    emulator
        .set_config(
            &"etcd".parse().unwrap(),
            &BTreeMap::from([("value".to_owned(), "fail".to_owned())]),
        )
        .unwrap();
    let kube_before = seen(&emulator, "kube/0");
    let reports = emulator.settle(100).unwrap();
    assert_eq!(
        summary(&reports),
        ["etcd/0 config-changed", "etcd/1 config-changed"],
        "no -changed was fired"
    );
    for report in &reports {
        assert_eq!(report.outcome, HookOutcome::Failed { exit_code: Some(1) });
        assert!(report.queued.is_empty());
    }
    assert_eq!(seen(&emulator, "kube/0"), kube_before);
    let bags = &emulator.model().relations[&relation].unit_bags;
    assert_eq!(
        bags[&unit("etcd/0")]["value"],
        "one",
        "the failed write was discarded"
    );

    // As in Juju (worker/uniter/operation/runhook.go): a failed hook puts its unit in error,
    // and it runs nothing more until resolved; nothing retries it by itself.
    let errors = emulator.hook_errors().unwrap();
    assert_eq!(
        errors.keys().map(ToString::to_string).collect::<Vec<_>>(),
        ["etcd/0", "etcd/1"]
    );
    assert_eq!(errors[&unit("etcd/0")].hook, "config-changed");
    emulator
        .set_config(
            &"etcd".parse().unwrap(),
            &BTreeMap::from([("value".to_owned(), "two".to_owned())]),
        )
        .unwrap();
    assert!(
        emulator.settle(100).unwrap().is_empty(),
        "units in error wait"
    );
    assert_eq!(emulator.queued().unwrap().len(), 2);
    // `resolved` retries the failed hook first; `--no-retry` skips it.
    emulator.resolved(&unit("etcd/0"), true).unwrap();
    emulator.resolved(&unit("etcd/1"), false).unwrap();
    assert!(
        emulator.resolved(&unit("etcd/1"), false).is_err(),
        "not in error"
    );
    let reports = emulator.settle(100).unwrap();
    assert!(reports.iter().all(HookReport::succeeded), "{reports:#?}");
    let ran = summary(&reports);
    assert_eq!(
        ran.iter()
            .filter(|h| h.starts_with("etcd/"))
            .collect::<Vec<_>>(),
        [
            "etcd/0 config-changed",
            "etcd/0 config-changed",
            "etcd/1 config-changed"
        ]
    );
    let bags = &emulator.model().relations[&relation].unit_bags;
    assert_eq!(bags[&unit("etcd/0")]["value"], "two");
    assert_eq!(bags[&unit("etcd/1")]["value"], "two");
    assert!(emulator.hook_errors().unwrap().is_empty());

    // Removing a unit: the remaining side sees it departed, already gone from relation-list.
    emulator.remove_unit(&unit("etcd/1")).unwrap();
    let reports = emulator.settle(100).unwrap();
    assert!(reports.iter().all(HookReport::succeeded), "{reports:#?}");
    assert_eq!(
        summary(&reports),
        [
            "kube/0 proxy-relation-departed etcd/1",
            "etcd/1 proxy-relation-departed kube/0",
            "etcd/1 proxy-relation-broken",
            "etcd/1 stop",
            "etcd/1 remove",
        ]
    );
    let kube = seen(&emulator, "kube/0");
    assert_eq!(
        kube.last().unwrap(),
        "proxy-relation-departed remote=etcd/1 departing=etcd/1 members=[\"etcd/0\"] app=etcd"
    );
    assert!(!emulator.model().applications[&"etcd".parse().unwrap()]
        .units
        .contains_key(&unit("etcd/1")));

    // Removing the relation: departed for the last unit, then broken with no members.
    emulator.unrelate(relation).unwrap();
    let reports = emulator.settle(100).unwrap();
    assert!(reports.iter().all(HookReport::succeeded), "{reports:#?}");
    let kube = seen(&emulator, "kube/0");
    let n = kube.len();
    assert_eq!(
        kube[n - 2..],
        [
            "proxy-relation-departed remote=etcd/0 departing=etcd/0 members=[] app=etcd".to_owned(),
            "proxy-relation-broken remote= departing= members=[] app=etcd".to_owned(),
        ]
    );
    assert!(emulator.model().relations.is_empty());
    assert!(emulator.queued().unwrap().is_empty());
}

#[test]
fn legacy_hooks_missing_handlers_and_timeouts() {
    let root = tempfile::tempdir().unwrap();
    let charm = root.path().join("charm");
    std::fs::create_dir_all(charm.join("hooks")).unwrap();
    std::fs::write(charm.join("metadata.yaml"), "name: old\n").unwrap();
    let install = charm.join("hooks/install");
    write_executable(
        &install,
        "#!/bin/sh\n\
         echo \"$JUJU_HOOK_NAME $JUJU_DISPATCH_PATH $(is-leader)\"\n\
         echo \"$JUJU_UNIT_NAME $JUJU_MODEL_NAME $JUJU_VERSION $JUJU_AGENT_SOCKET_NETWORK\"\n\
         echo \"$PWD\" \"$CHARM_DIR\" \"$JUJU_CHARM_DIR\"\n\
         echo \"${JUJU_CONTEXT_ID%-*}\" \"${JUJU_RELATION-unset}\"\n",
    );
    let start = charm.join("hooks/start");
    // A child of the hook that outlives it unless its process group is killed.
    write_executable(
        &start,
        "#!/bin/sh\nsleep 30 &\necho $! > \"$JUJU_CHARM_DIR/child.pid\"\nwait\n",
    );
    let mut emulator = Emulator::create(&root.path().join("model"), "old", &emulator_binary())
        .unwrap()
        .with_hook_timeout(std::time::Duration::from_millis(300));
    emulator.deploy(&"old".parse().unwrap(), &charm, 1).unwrap();
    let reports = emulator.settle(10).unwrap();
    let charm_dir = emulator.unit_charm_dir(&unit("old/0"));
    let charm_dir = charm_dir.display();
    assert_eq!(
        reports[0].stdout,
        format!(
            "install hooks/install True\nold/0 old {} unix\n{charm_dir} {charm_dir} {charm_dir}\nold/0-install unset\n",
            juju_emulator::JUJU_VERSION
        )
    );
    assert!(reports[0].context_id.starts_with("old/0-install-"));
    assert_eq!(reports[0].tool_calls, 1);
    assert_eq!(reports[1].outcome, HookOutcome::NoHandler);
    assert_eq!(reports[3].invocation.hook, "start");
    assert_eq!(reports[3].outcome, HookOutcome::TimedOut);
    let pid =
        std::fs::read_to_string(charm_dir_path(&emulator, "old/0").join("child.pid")).unwrap();
    assert!(
        gone(pid.trim()),
        "the hook's whole process group was killed"
    );
    assert_eq!(
        emulator.hook_errors().unwrap()[&unit("old/0")].hook,
        "start",
        "a timed-out hook is a failed one"
    );
    // Settling is bounded.
    emulator.add_unit(&"old".parse().unwrap()).unwrap();
    assert_eq!(emulator.settle(2).unwrap().len(), 2);
    assert_eq!(emulator.queued().unwrap().len(), 2);
}

fn charm_dir_path(emulator: &Emulator, name: &str) -> std::path::PathBuf {
    emulator.unit_charm_dir(&unit(name))
}

/// Whether process `pid` has ended (absent, or a zombie waiting for its new parent).
fn gone(pid: &str) -> bool {
    for _ in 0..50 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat)
                if stat
                    .rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z') =>
            {
                return true
            }
            Ok(_) => std::thread::sleep(std::time::Duration::from_millis(40)),
        }
    }
    false
}

#[test]
fn leader_data_set_from_outside_tells_the_other_units_once() {
    let root = tempfile::tempdir().unwrap();
    let charm = root.path().join("charm");
    std::fs::create_dir_all(&charm).unwrap();
    std::fs::write(charm.join("metadata.yaml"), "name: trio\n").unwrap();
    let mut emulator =
        Emulator::create(&root.path().join("model"), "trio", &emulator_binary()).unwrap();
    let app = "trio".parse().unwrap();
    emulator.deploy(&app, &charm, 3).unwrap();
    emulator.settle(100).unwrap();
    let data = BTreeMap::from([("token".to_owned(), "t1".to_owned())]);
    emulator.set_leader_data(&app, &data).unwrap();
    assert_eq!(
        describe(&emulator.queued().unwrap()),
        [
            "trio/1 leader-settings-changed",
            "trio/2 leader-settings-changed"
        ]
    );
    emulator.settle(100).unwrap();
    emulator.set_leader_data(&app, &data).unwrap();
    assert!(
        emulator.queued().unwrap().is_empty(),
        "unchanged data fires nothing"
    );
    assert_eq!(emulator.model().applications[&app].leader_data, data);
    let unknown = emulator.set_config(&app, &BTreeMap::from([("nope".to_owned(), "1".to_owned())]));
    assert!(unknown
        .unwrap_err()
        .to_string()
        .contains("unknown option \"nope\""));
}
