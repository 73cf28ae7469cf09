//! When relation writes become visible, and which `-changed` hooks they fire.

use juju_hooks::testing::{run, HookInvocation, Pending};
use juju_hooks::{BagOwner, HookTools, LogLevel, StatusKind, WorkloadStatus, WriteScope};

use crate::support::{app, bag, charm_dir, describe_all, related, rid, unit};

#[test]
fn own_writes_are_visible_to_own_reads_at_once_but_not_to_the_other_side_until_commit() {
    let (mut model, _) = related(1, 1);
    let (etcd, kube) = (unit("etcd/0"), unit("kube/0"));
    let hook = HookInvocation::new(etcd.clone(), "update-status");
    model.begin_hook(&hook).unwrap();
    let mut pending = Pending::default();
    let changes = bag(&[("client_ca", "PEM")]);
    model
        .relation_set(
            &etcd,
            &mut pending,
            &rid("proxy:0"),
            WriteScope::Unit,
            &changes,
        )
        .unwrap();

    let own = model
        .relation_get(
            &etcd,
            &pending,
            &rid("proxy:0"),
            &BagOwner::Unit(etcd.clone()),
        )
        .unwrap();
    assert_eq!(own.get("client_ca").map(String::as_str), Some("PEM"));
    let seen_by_kube = model
        .relation_get(
            &kube,
            &Pending::default(),
            &rid("etcd:0"),
            &BagOwner::Unit(etcd.clone()),
        )
        .unwrap();
    assert!(
        !seen_by_kube.contains_key("client_ca"),
        "visible before commit"
    );

    model.commit(&etcd, pending);
    let seen_by_kube = model
        .relation_get(
            &kube,
            &Pending::default(),
            &rid("etcd:0"),
            &BagOwner::Unit(etcd),
        )
        .unwrap();
    assert_eq!(
        seen_by_kube.get("client_ca").map(String::as_str),
        Some("PEM")
    );
}

#[test]
fn a_failing_hook_leaves_no_relation_writes_but_keeps_status_logs_and_leader_data() {
    let (model, number) = related(1, 1);
    let etcd = unit("etcd/0");
    let hook = HookInvocation::new(etcd.clone(), "update-status");
    let outcome = run(&model, &hook, charm_dir(), |_, tools| {
        tools.relation_set(&rid("proxy:0"), WriteScope::Unit, &bag(&[("k", "v")]))?;
        tools.relation_set(&rid("proxy:0"), WriteScope::App, &bag(&[("a", "b")]))?;
        tools.status_set(&WorkloadStatus::new(
            StatusKind::Blocked,
            "broken on purpose",
        ))?;
        tools.juju_log(LogLevel::Error, "about to fail")?;
        tools.leader_set(&bag(&[("token", "t")]))?;
        Err::<(), _>(juju_hooks::ToolError::new(
            "charm",
            juju_hooks::ToolErrorKind::Decode {
                reason: "fails on purpose".into(),
            },
        ))
    })
    .unwrap();

    assert!(outcome.result.is_err());
    assert!(outcome.next.is_empty(), "a failed hook fires nothing");
    let rel = &outcome.model.relations[&number];
    assert_eq!(
        rel.unit_bags[&etcd],
        model.relations[&number].unit_bags[&etcd]
    );
    assert!(rel.app_bags[&app("etcd")].is_empty());
    let record = outcome.model.unit(&etcd).unwrap();
    assert_eq!(
        record.status,
        WorkloadStatus::new(StatusKind::Blocked, "broken on purpose")
    );
    assert_eq!(record.logs.last().unwrap().message, "about to fail");
    assert_eq!(outcome.model.leader_get(&etcd), bag(&[("token", "t")]));
    assert!(
        outcome.model.running.is_empty(),
        "the failed hook is forgotten"
    );
}

#[test]
fn a_successful_hook_commits_and_fires_changed_on_every_unit_that_sees_the_writer() {
    let (model, number) = related(1, 2);
    let etcd = unit("etcd/0");
    let hook = HookInvocation::new(etcd.clone(), "update-status");
    let outcome = run(&model, &hook, charm_dir(), |_, tools| {
        tools.relation_set(&rid("proxy:0"), WriteScope::Unit, &bag(&[("k", "v")]))
    })
    .unwrap();
    outcome.result.unwrap();
    assert_eq!(
        outcome.model.relations[&number].unit_bags[&etcd]
            .get("k")
            .map(String::as_str),
        Some("v")
    );
    assert_eq!(
        describe_all(&outcome.next),
        [
            "kube/0 etcd-relation-changed etcd:0 remote=etcd/0 app=etcd",
            "kube/1 etcd-relation-changed etcd:0 remote=etcd/0 app=etcd",
        ]
    );
}

#[test]
fn a_write_that_changes_nothing_fires_no_changed() {
    let (model, number) = related(1, 1);
    let etcd = unit("etcd/0");
    let address = model.relations[&number].unit_bags[&etcd]["private-address"].clone();
    let hook = HookInvocation::new(etcd, "update-status");
    let outcome = run(&model, &hook, charm_dir(), |_, tools| {
        tools.relation_set(
            &rid("proxy:0"),
            WriteScope::Unit,
            &bag(&[("private-address", &address), ("absent", "")]),
        )
    })
    .unwrap();
    outcome.result.unwrap();
    assert!(
        outcome.next.is_empty(),
        "fired {:?}",
        describe_all(&outcome.next)
    );
    assert_eq!(outcome.model.relations, model.relations);
}

#[test]
fn changed_is_not_queued_for_units_that_have_not_joined_the_writer_yet() {
    let mut model = crate::support::deployed(1, 1);
    let (_, hooks) = model
        .relate(&crate::support::etcd_end(), &crate::support::kube_end())
        .unwrap();
    // etcd/0 writes in -created, before anyone joined it: nothing to notify yet; kube/0 will
    // see the data through its own -joined/-changed.
    let created = hooks[0].clone();
    let outcome = run(&model, &created, charm_dir(), |_, tools| {
        tools.relation_set(&rid("proxy:0"), WriteScope::Unit, &bag(&[("k", "v")]))
    })
    .unwrap();
    outcome.result.unwrap();
    assert!(outcome.next.is_empty());
}

#[test]
fn an_app_bag_change_fires_changed_without_a_remote_unit() {
    let (model, _) = related(1, 2);
    let hook = HookInvocation::new(unit("etcd/0"), "update-status");
    let outcome = run(&model, &hook, charm_dir(), |_, tools| {
        tools.relation_set(&rid("proxy:0"), WriteScope::App, &bag(&[("cluster", "x")]))
    })
    .unwrap();
    outcome.result.unwrap();
    assert_eq!(
        describe_all(&outcome.next),
        [
            "kube/0 etcd-relation-changed etcd:0 app=etcd",
            "kube/1 etcd-relation-changed etcd:0 app=etcd",
        ]
    );
    let seen = outcome
        .model
        .relation_get(
            &unit("kube/1"),
            &Pending::default(),
            &rid("etcd:0"),
            &BagOwner::App(app("etcd")),
        )
        .unwrap();
    assert_eq!(seen, bag(&[("cluster", "x")]));
}

#[test]
fn an_empty_value_deletes_the_key_for_own_reads_and_after_commit() {
    let (model, number) = related(1, 1);
    let etcd = unit("etcd/0");
    let hook = HookInvocation::new(etcd.clone(), "update-status");
    let outcome = run(&model, &hook, charm_dir(), |_, tools| {
        tools.relation_set(&rid("proxy:0"), WriteScope::Unit, &bag(&[("k", "v")]))?;
        tools.relation_set(
            &rid("proxy:0"),
            WriteScope::Unit,
            &bag(&[("private-address", "")]),
        )?;
        let own = tools.relation_get(&rid("proxy:0"), &BagOwner::Unit(unit("etcd/0")))?;
        assert!(!own.contains_key("private-address"));
        assert_eq!(own.get("k").map(String::as_str), Some("v"));
        Ok::<(), juju_hooks::ToolError>(())
    })
    .unwrap();
    outcome.result.unwrap();
    let committed = &outcome.model.relations[&number].unit_bags[&etcd];
    assert!(!committed.contains_key("private-address"));
    assert_eq!(committed.get("k").map(String::as_str), Some("v"));
}

#[test]
fn writes_in_a_dying_relation_are_kept_but_fire_no_changed() {
    let (mut model, number) = related(1, 1);
    let hooks = model.unrelate(number).unwrap();
    let departed = hooks[0].clone();
    let outcome = run(&model, &departed, charm_dir(), |_, tools| {
        tools.relation_set(&rid("proxy:0"), WriteScope::Unit, &bag(&[("bye", "1")]))
    })
    .unwrap();
    outcome.result.unwrap();
    assert!(
        outcome.next.is_empty(),
        "fired {:?}",
        describe_all(&outcome.next)
    );
    let committed = &outcome.model.relations[&number].unit_bags[&unit("etcd/0")];
    assert_eq!(committed.get("bye").map(String::as_str), Some("1"));
}

#[test]
fn a_unit_being_removed_notifies_nobody() {
    let (mut model, _) = related(2, 1);
    let hooks = model.remove_unit(&unit("etcd/1")).unwrap();
    let own_departed =
        crate::support::run_until(&mut model, hooks, "etcd/1 proxy-relation-departed");
    let outcome = run(&model, &own_departed, charm_dir(), |_, tools| {
        tools.relation_set(&rid("proxy:0"), WriteScope::Unit, &bag(&[("bye", "1")]))
    })
    .unwrap();
    outcome.result.unwrap();
    assert!(
        outcome.next.is_empty(),
        "fired {:?}",
        describe_all(&outcome.next)
    );
}
