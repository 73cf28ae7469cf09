//! `ProcessHookTools` inside the real binary, against the emulator's tools: the exact argv of
//! every call, how many calls each kind of hook costs, and how tool failures surface.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use juju_emulator::store::CallRecord;
use juju_emulator::{Emulator, HookOutcome, HookReport};
use juju_hooks::testing::HookInvocation;
use juju_hooks::{AppName, RelationId};

use crate::support::{binary, on_juju_2_9, unit, World};

const CLUSTER: &str = "etcd0=https://127.0.0.2:2380";

/// An emulator (Rust API) with `etcd` (publishes CLUSTER in every hook) and `kube` (syncs
/// in every hook), each a one-line dispatch calling the binary.
struct Setup {
    world: World,
    emulator: Emulator,
}

fn setup(provider_units: u32) -> Setup {
    let world = World::new();
    let provider = world.charm(
        "etcd",
        "name: etcd\nprovides:\n  proxy:\n    interface: etcd-proxy\n",
        &format!(
            "#!/bin/sh\nexec \"$JUJU_CHARM_DIR/bin/etcd-proxy-relation\" provides publish --cluster '{CLUSTER}'\n"
        ),
    );
    let requirer = world.charm(
        "kube",
        "name: kube\nrequires:\n  proxy:\n    interface: etcd-proxy\n",
        &on_juju_2_9("#!/bin/sh\nexec \"$JUJU_CHARM_DIR/bin/etcd-proxy-relation\" requires sync\n"),
    );
    let mut emulator = Emulator::open(&world.model_dir, &binary()).unwrap();
    emulator
        .deploy(&app("etcd"), &provider, provider_units)
        .unwrap();
    emulator.deploy(&app("kube"), &requirer, 1).unwrap();
    settle(&mut emulator);
    Setup { world, emulator }
}

fn app(name: &str) -> AppName {
    name.parse().unwrap()
}

fn rid(text: &str) -> RelationId {
    text.parse().unwrap()
}

#[track_caller]
fn settle(emulator: &mut Emulator) -> Vec<HookReport> {
    let reports = emulator.settle(200).unwrap();
    for report in &reports {
        assert!(report.succeeded(), "{report:#?}");
    }
    assert!(emulator.queued().unwrap().is_empty());
    reports
}

/// The calls made by the hook of `report`, as `tool argv...`.
fn calls_of(emulator: &Emulator, report: &HookReport) -> Vec<String> {
    emulator
        .calls()
        .unwrap()
        .into_iter()
        .filter(|c| c.context_id.as_deref() == Some(report.context_id.as_str()))
        .map(|c: CallRecord| format!("{} {}", c.tool, c.argv.join(" ")))
        .collect()
}

#[track_caller]
fn run(emulator: &mut Emulator, invocation: HookInvocation) -> (HookReport, Vec<String>) {
    let report = emulator.run_hook(invocation).unwrap();
    assert!(report.succeeded(), "{report:#?}");
    let calls = calls_of(emulator, &report);
    (report, calls)
}

#[test]
fn the_requirer_reads_only_what_each_hook_can_have_changed() {
    let Setup {
        world,
        mut emulator,
    } = setup(2);
    let kube = unit("kube/0");
    emulator.relate("etcd:proxy", "kube:proxy").unwrap();
    let reports = settle(&mut emulator);

    // Joining etcd/0: membership, the provider's application bag (read once: it holds no
    // publication for a version-1 requirer), its unit bag, the status.
    let hook_calls = |hook: &str, remote: &str| {
        let report = reports
            .iter()
            .find(|r| {
                r.invocation.unit == kube
                    && r.invocation.hook == hook
                    && r.invocation.remote_unit == Some(unit(remote))
            })
            .unwrap_or_else(|| panic!("kube/0 ran no {hook} for {remote}"));
        calls_of(&emulator, report)
    };
    assert_eq!(
        hook_calls("proxy-relation-joined", "etcd/0"),
        [
            "relation-list --format=json -r proxy:0",
            "relation-get --format=json -r proxy:0 --app - etcd",
            "relation-get --format=json -r proxy:0 - etcd/0",
            "status-set waiting proxy: waiting for etcd client credentials",
        ]
    );
    // Its -changed re-reads only the unit that changed; the status is the same.
    assert_eq!(
        hook_calls("proxy-relation-changed", "etcd/0"),
        [
            "relation-list --format=json -r proxy:0",
            "relation-get --format=json -r proxy:0 - etcd/0",
        ]
    );

    // Steady state: a -changed reads the changed unit and nothing else, sets no status.
    let (_, calls) = run(
        &mut emulator,
        HookInvocation::changed(kube.clone(), rid("proxy:0"), unit("etcd/1")),
    );
    assert_eq!(
        calls,
        [
            "relation-list --format=json -r proxy:0",
            "relation-get --format=json -r proxy:0 - etcd/1",
        ]
    );
    // A hook that is not about the relation makes no call at all.
    let (_, calls) = run(
        &mut emulator,
        HookInvocation::new(kube.clone(), "update-status"),
    );
    assert_eq!(calls, Vec::<String>::new());

    // A status change is one status-set with the exact words, no other call.
    let state = world.state_file("kube/0");
    let before = fs::read(&state).unwrap();
    let mut model = juju_emulator::store::Store::new(&world.model_dir)
        .load_model()
        .unwrap();
    let relation = model.relations.get_mut(&0).unwrap();
    for provider in ["etcd/0", "etcd/1"] {
        relation
            .unit_bags
            .get_mut(&unit(provider))
            .unwrap()
            .remove("cluster");
    }
    juju_emulator::store::Store::new(&world.model_dir)
        .save_model(&model)
        .unwrap();
    let (_, calls) = run(
        &mut emulator,
        HookInvocation::changed(kube.clone(), rid("proxy:0"), unit("etcd/0")),
    );
    assert_eq!(
        calls,
        [
            "relation-list --format=json -r proxy:0",
            "relation-get --format=json -r proxy:0 - etcd/0",
        ],
        "etcd/1 still publishes, so nothing changed for the requirer"
    );
    let (_, calls) = run(
        &mut emulator,
        HookInvocation::changed(kube.clone(), rid("proxy:0"), unit("etcd/1")),
    );
    assert_eq!(
        calls,
        [
            "relation-list --format=json -r proxy:0",
            "relation-get --format=json -r proxy:0 - etcd/1",
            "status-set waiting waiting for etcd to publish on relation proxy",
        ]
    );
    assert_ne!(fs::read(&state).unwrap(), before, "the view was saved");
    // The removed key took its flag with it.
    let flags = world.flags("kube/0");
    assert!(flags.contains(&"proxy.connected".to_owned()), "{flags:?}");
    assert!(!flags.contains(&"proxy.available".to_owned()), "{flags:?}");
}

#[test]
fn the_provider_writes_once_per_new_relation_and_never_in_steady_state() {
    let Setup {
        world,
        mut emulator,
    } = setup(1);
    let etcd = unit("etcd/0");
    emulator.relate("etcd:proxy", "kube:proxy").unwrap();
    settle(&mut emulator);
    let sets = |emulator: &Emulator| -> Vec<String> {
        emulator
            .calls()
            .unwrap()
            .into_iter()
            .filter(|c| c.tool == "relation-set" && c.unit.as_deref() == Some("etcd/0"))
            .map(|c| format!("{} {}", c.tool, c.argv.join(" ")))
            .collect()
    };
    assert_eq!(sets(&emulator), ["relation-set -r proxy:0 --file -"]);

    // Nothing changed: no relation-set, and no relation-get either.
    let (_, calls) = run(
        &mut emulator,
        HookInvocation::new(etcd.clone(), "update-status"),
    );
    assert!(
        calls.iter().all(|c| !c.starts_with("relation-")),
        "{calls:#?}"
    );
    let (_, calls) = run(
        &mut emulator,
        HookInvocation::changed(etcd.clone(), rid("proxy:0"), unit("kube/0")),
    );
    assert!(
        !calls.iter().any(|c| c.starts_with("relation-set")),
        "{calls:#?}"
    );

    // A second requirer application: one relation-set, on the new relation id only, with
    // the data as JSON on stdin (captured by a wrapper around the emulator's tool).
    let real = world.path("real-tools");
    fs::create_dir_all(&real).unwrap();
    std::os::unix::fs::symlink(binary(), real.join("relation-set")).unwrap();
    let stdin_copy = world.path("relation-set.stdin");
    break_tool(
        &world.model_dir,
        "relation-set",
        Some(&format!(
            "#!/bin/sh\ntee -a '{}' | '{}' \"$@\"\n",
            stdin_copy.display(),
            real.join("relation-set").display()
        )),
    );
    let requirer = world.path("charms/kube");
    emulator.deploy(&app("kube2"), &requirer, 1).unwrap();
    emulator.relate("etcd:proxy", "kube2:proxy").unwrap();
    settle(&mut emulator);
    assert_eq!(
        sets(&emulator),
        [
            "relation-set -r proxy:0 --file -",
            "relation-set -r proxy:1 --file -"
        ]
    );
    assert_eq!(
        fs::read_to_string(&stdin_copy).unwrap(),
        format!("{{\"cluster\":\"{CLUSTER}\"}}")
    );
    let bag = &emulator.model().relations[&1].unit_bags[&etcd];
    assert_eq!(bag["cluster"], CLUSTER);
}

/// Replaces hook tool `tool` in the model's tools dir (`None`: removes it).
fn break_tool(model_dir: &Path, tool: &str, script: Option<&str>) {
    let path = model_dir.join("tools").join(tool);
    fs::remove_file(&path).unwrap();
    if let Some(script) = script {
        fs::write(&path, script).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn a_failing_tool_fails_the_hook_names_the_tool_and_persists_nothing() {
    let faults: [(&str, Option<&str>, &str); 4] = [
        (
            "relation-get",
            None,
            "relation-get --format=json -r proxy:0 - etcd/0: no such tool \"relation-get\"",
        ),
        (
            "relation-list",
            Some("#!/bin/sh\necho 'ERROR permission denied' >&2\nexit 1\n"),
            "relation-list --format=json -r proxy:0: failed (exit 1): permission denied",
        ),
        (
            "relation-get",
            Some("#!/bin/sh\necho 'ERROR flag provided but not defined: --format' >&2\nexit 2\n"),
            "relation-get --format=json -r proxy:0 - etcd/0: usage error (exit 2)",
        ),
        (
            "relation-get",
            Some("#!/bin/sh\necho 'cluster: not json'\n"),
            "relation-get --format=json -r proxy:0 - etcd/0: cannot decode its output",
        ),
    ];
    for (tool, script, message) in faults {
        let Setup {
            world,
            mut emulator,
        } = setup(1);
        emulator.relate("etcd:proxy", "kube:proxy").unwrap();
        settle(&mut emulator);
        let state = world.state_file("kube/0");
        let before = fs::read(&state).unwrap();
        let status_before = world.status("kube/0");

        break_tool(&world.model_dir, tool, script);
        let report = emulator
            .run_hook(HookInvocation::changed(
                unit("kube/0"),
                rid("proxy:0"),
                unit("etcd/0"),
            ))
            .unwrap();
        assert_eq!(
            report.outcome,
            HookOutcome::Failed { exit_code: Some(1) },
            "{report:#?}"
        );
        assert!(
            report.stderr.starts_with("error: ") && report.stderr.contains(message),
            "{tool}: {}",
            report.stderr
        );
        assert_eq!(
            fs::read(&state).unwrap(),
            before,
            "{tool}: state file changed"
        );
        assert_eq!(world.status("kube/0"), status_before);
    }
}

/// Juju discards the relation writes of a failed hook; the provider's record of them must
/// not make it skip the write in the next hook.
#[test]
fn a_publish_in_a_hook_that_then_fails_is_made_again_in_the_next_hook() {
    let world = World::new();
    let provider = world.charm(
        "etcd",
        "name: etcd\nprovides:\n  proxy:\n    interface: etcd-proxy\n",
        &format!(
            // Published twice: the second command must not take the first one's write (not
            // yet committed by Juju) for confirmed. The hook that fails is the first to write
            // (-joined: in -created the provider waits for the requirer's wire version).
            "#!/bin/sh\n\"$JUJU_CHARM_DIR/bin/etcd-proxy-relation\" provides publish --cluster '{CLUSTER}' || exit 1\n\
             \"$JUJU_CHARM_DIR/bin/etcd-proxy-relation\" provides publish --cluster '{CLUSTER}' || exit 1\n\
             if [ -f \"$JUJU_CHARM_DIR/fail\" ] && [ \"$JUJU_HOOK_NAME\" = proxy-relation-joined ]; then rm \"$JUJU_CHARM_DIR/fail\"; exit 1; fi\n"
        ),
    );
    let requirer = world.charm(
        "kube",
        "name: kube\nrequires:\n  proxy:\n    interface: etcd-proxy\n",
        &on_juju_2_9("#!/bin/sh\nexec \"$JUJU_CHARM_DIR/bin/etcd-proxy-relation\" requires sync\n"),
    );
    let mut emulator = Emulator::open(&world.model_dir, &binary()).unwrap();
    emulator.deploy(&app("etcd"), &provider, 1).unwrap();
    emulator.deploy(&app("kube"), &requirer, 1).unwrap();
    settle(&mut emulator);
    fs::write(world.charm_dir("etcd/0").join("fail"), "").unwrap();
    emulator.relate("etcd:proxy", "kube:proxy").unwrap();
    let reports = emulator.settle(200).unwrap();
    let failed: Vec<&HookReport> = reports.iter().filter(|r| !r.succeeded()).collect();
    assert_eq!(failed.len(), 1, "{reports:#?}");
    assert_eq!(failed[0].invocation.unit, unit("etcd/0"));
    // As in Juju, the unit waits in error until resolved; the retry runs the hook again.
    let failed_hook = failed[0].invocation.clone();
    assert_eq!(
        emulator.hook_errors().unwrap().get(&unit("etcd/0")),
        Some(&failed_hook)
    );
    emulator.resolved(&unit("etcd/0"), true).unwrap();
    let reports = emulator.settle(200).unwrap();
    assert!(reports.iter().all(HookReport::succeeded), "{reports:#?}");
    assert_eq!(reports[0].invocation, failed_hook);

    let sets: Vec<CallRecord> = emulator
        .calls()
        .unwrap()
        .into_iter()
        .filter(|c| c.tool == "relation-set" && c.unit.as_deref() == Some("etcd/0"))
        .collect();
    assert_eq!(sets.len(), 2, "one discarded, one kept: {sets:#?}");
    assert_eq!(world.wire_bag(0, "etcd/0")["cluster"], CLUSTER);
    assert_eq!(
        world.flags("kube/0"),
        [
            "proxy.available",
            "proxy.cluster.changed",
            "proxy.connected"
        ]
    );
}

/// Several commands in one hook read the relation once; `upgrade-charm` reads everything.
#[test]
fn commands_of_one_hook_share_their_reads_and_upgrade_charm_reads_all() {
    let world = World::new();
    let provider = world.charm(
        "etcd",
        "name: etcd\nprovides:\n  proxy:\n    interface: etcd-proxy\n",
        &format!(
            "#!/bin/sh\nexec \"$JUJU_CHARM_DIR/bin/etcd-proxy-relation\" provides publish --cluster '{CLUSTER}'\n"
        ),
    );
    let requirer = world.charm(
        "kube",
        "name: kube\nrequires:\n  proxy:\n    interface: etcd-proxy\n",
        &on_juju_2_9("#!/bin/sh\nset -e\nepr=\"$JUJU_CHARM_DIR/bin/etcd-proxy-relation\"\n\
         \"$epr\" requires sync\n\"$epr\" requires cluster-string || true\n\"$epr\" requires sync --no-status\n"),
    );
    let mut emulator = Emulator::open(&world.model_dir, &binary()).unwrap();
    emulator.deploy(&app("etcd"), &provider, 2).unwrap();
    emulator.deploy(&app("kube"), &requirer, 1).unwrap();
    emulator.relate("etcd:proxy", "kube:proxy").unwrap();
    settle(&mut emulator);
    let kube = unit("kube/0");

    let (report, calls) = run(
        &mut emulator,
        HookInvocation::changed(kube.clone(), rid("proxy:0"), unit("etcd/1")),
    );
    assert_eq!(
        calls,
        [
            "relation-list --format=json -r proxy:0",
            "relation-get --format=json -r proxy:0 - etcd/1",
        ],
        "{report:#?}"
    );
    let (_, calls) = run(&mut emulator, HookInvocation::new(kube, "upgrade-charm"));
    assert_eq!(
        calls,
        [
            "relation-ids --format=json proxy",
            "relation-list --format=json -r proxy:0",
            "relation-get --format=json -r proxy:0 --app - etcd",
            "relation-get --format=json -r proxy:0 - etcd/0",
            "relation-get --format=json -r proxy:0 - etcd/1",
        ]
    );
}

/// `units` units of a charm `kube` with `metadata` whose every hook runs `requires sync`,
/// deployed on Juju 2.9.
fn syncing_requirer(metadata: &str, units: u32) -> (World, Emulator) {
    let world = World::new();
    let requirer = world.charm(
        "kube",
        metadata,
        &on_juju_2_9("#!/bin/sh\nexec \"$JUJU_CHARM_DIR/bin/etcd-proxy-relation\" requires sync\n"),
    );
    let mut emulator = Emulator::open(&world.model_dir, &binary()).unwrap();
    emulator.deploy(&app("kube"), &requirer, units).unwrap();
    (world, emulator)
}

/// In a hook of another relation (here a peer relation), the default endpoint is still the
/// charm's etcd-proxy endpoint from metadata.yaml, never the hook's relation.
#[test]
fn the_default_endpoint_is_the_etcd_proxy_one_even_in_a_peer_hook() {
    let (world, mut emulator) = syncing_requirer(
        "name: kube\nrequires:\n  etcd:\n    interface: etcd-proxy\npeers:\n  cluster:\n    interface: kube-peers\n",
        2,
    );
    let reports = settle(&mut emulator);
    assert!(
        reports
            .iter()
            .any(|r| r.invocation.hook == "cluster-relation-joined"),
        "peer hooks ran: {reports:#?}"
    );
    let flags = world.flags("kube/0");
    assert!(
        flags.iter().all(|f| !f.starts_with("cluster.")),
        "{flags:?}"
    );
    let status = emulator.model().status_get(&unit("kube/0"));
    assert_eq!(
        status.message,
        "waiting for a relation to etcd on endpoint etcd"
    );
}

/// The endpoints read from metadata.yaml are kept in the state with the file's identity, so
/// that a hook does not parse it again; a changed metadata.yaml (an upgrade that renames the
/// endpoint) is read again at the next hook.
#[test]
fn a_changed_metadata_yaml_is_read_again() {
    let (world, mut emulator) = syncing_requirer(
        "name: kube\nrequires:\n  etcd:\n    interface: etcd-proxy\n",
        1,
    );
    settle(&mut emulator);
    let kube = unit("kube/0");
    assert_eq!(
        emulator.model().status_get(&kube).message,
        "waiting for a relation to etcd on endpoint etcd"
    );
    let state = fs::read_to_string(world.state_file("kube/0")).unwrap();
    assert!(state.contains("charm-endpoints"), "{state}");

    // The same hook again: the kept endpoints are used (the state stays as it was).
    emulator
        .run_hook(HookInvocation::new(kube.clone(), "update-status"))
        .unwrap();
    assert_eq!(
        fs::read_to_string(world.state_file("kube/0")).unwrap(),
        state
    );

    fs::write(
        emulator.unit_charm_dir(&kube).join("metadata.yaml"),
        "name: kube\nrequires:\n  db:\n    interface: etcd-proxy\n",
    )
    .unwrap();
    emulator
        .run_hook(HookInvocation::new(kube.clone(), "update-status"))
        .unwrap();
    assert_eq!(
        emulator.model().status_get(&kube).message,
        "waiting for a relation to etcd on endpoint db"
    );
}
