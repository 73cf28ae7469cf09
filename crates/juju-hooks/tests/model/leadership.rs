//! Leader-only writes and reads, leader data, and statuses a charm may set.

use std::collections::BTreeMap;

use juju_hooks::testing::{
    run, EndpointRole, HookInvocation, Model, Pending, Refusal, RelationEnd,
};
use juju_hooks::{
    BagOwner, HookTools, StatusKind, ToolError, ToolErrorKind, WorkloadStatus, WriteScope,
};

use crate::support::{app, bag, charm_dir, endpoint, related, rid, unit};

fn refusal(code: i32, message: &str) -> Refusal {
    Refusal {
        code,
        message: message.to_owned(),
    }
}

#[test]
fn app_bags_are_writable_only_by_the_leader() {
    let (model, _) = related(2, 1);
    let mut pending = Pending::default();
    let changes = bag(&[("cluster", "x")]);
    let refused = model.relation_set(
        &unit("etcd/1"),
        &mut pending,
        &rid("proxy:0"),
        WriteScope::App,
        &changes,
    );
    assert_eq!(refused, Err(refusal(1, "cannot write relation settings")));
    assert_eq!(pending, Pending::default());
    model
        .relation_set(
            &unit("etcd/0"),
            &mut pending,
            &rid("proxy:0"),
            WriteScope::App,
            &changes,
        )
        .unwrap();
    assert_eq!(pending.app_writes[&0], changes);
}

#[test]
fn a_non_leader_app_write_through_the_tools_is_a_refused_tool_error() {
    let (model, _) = related(2, 1);
    let hook = HookInvocation::new(unit("etcd/1"), "update-status");
    let outcome = run(&model, &hook, charm_dir(), |_, tools| {
        tools.relation_set(&rid("proxy:0"), WriteScope::App, &bag(&[("k", "v")]))
    })
    .unwrap();
    match outcome.result {
        Err(ToolError {
            command,
            kind: ToolErrorKind::Refused { message, code },
        }) => {
            assert_eq!(command, "relation-set -r proxy:0 --app --file -");
            assert_eq!(
                (message.as_str(), code),
                ("cannot write relation settings", 1)
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn only_the_leader_reads_its_own_app_bag_but_everyone_reads_the_remote_one() {
    let (model, _) = related(2, 2);
    let none = Pending::default();
    let own = BagOwner::App(app("etcd"));
    assert_eq!(
        model.relation_get(&unit("etcd/1"), &none, &rid("proxy:0"), &own),
        Err(refusal(1, "permission denied"))
    );
    assert!(model
        .relation_get(&unit("etcd/0"), &none, &rid("proxy:0"), &own)
        .is_ok());
    assert!(model
        .relation_get(&unit("kube/1"), &none, &rid("etcd:0"), &own)
        .is_ok());
}

#[test]
fn a_non_leader_reads_its_own_app_bag_in_a_peer_relation() {
    let mut model = Model::new("test");
    let peers = BTreeMap::from([(
        endpoint("cluster"),
        (EndpointRole::Peers, "etcd".to_owned()),
    )]);
    model.deploy(&app("etcd"), peers, 2).unwrap();
    let cluster = RelationEnd::new(app("etcd"), endpoint("cluster"));
    let (_, hooks) = model.relate(&cluster, &cluster).unwrap();
    model.settle(hooks).unwrap();
    let read = model.relation_get(
        &unit("etcd/1"),
        &Pending::default(),
        &rid("cluster:0"),
        &BagOwner::App(app("etcd")),
    );
    assert_eq!(read, Ok(bag(&[])));
}

#[test]
fn leader_set_is_immediate_for_the_leader_and_refused_for_others() {
    let (mut model, _) = related(2, 1);
    model
        .leader_set(&unit("etcd/0"), &bag(&[("a", "1"), ("b", "2")]))
        .unwrap();
    model
        .leader_set(&unit("etcd/0"), &bag(&[("a", "")]))
        .unwrap();
    assert_eq!(model.leader_get(&unit("etcd/1")), bag(&[("b", "2")]));
    assert_eq!(
        model.leader_set(&unit("etcd/1"), &bag(&[("c", "3")])),
        Err(refusal(
            1,
            "cannot write leadership settings: cannot write settings: not the leader"
        ))
    );
    assert!(model.is_leader(&unit("etcd/0")));
    assert!(!model.is_leader(&unit("etcd/1")));
}

#[test]
fn status_set_accepts_only_statuses_a_charm_may_set() {
    let (mut model, _) = related(1, 1);
    let etcd = unit("etcd/0");
    assert_eq!(
        model.status_get(&etcd),
        WorkloadStatus::new(StatusKind::Unknown, "")
    );
    for kind in [StatusKind::Error, StatusKind::Unknown] {
        assert_eq!(
            model.status_set(&etcd, &WorkloadStatus::new(kind, "no")),
            Err(refusal(
                2,
                &format!(
                    "invalid status \"{kind}\", expected one of [maintenance blocked waiting active]"
                )
            ))
        );
    }
    let active = WorkloadStatus::new(StatusKind::Active, "ready");
    model.status_set(&etcd, &active).unwrap();
    assert_eq!(model.status_get(&etcd), active);
}

#[test]
fn config_get_returns_the_application_config() {
    let (mut model, _) = related(1, 1);
    let config = model.applications.get_mut(&app("kube")).unwrap();
    config.config.insert("port".into(), serde_json::json!(2379));
    assert_eq!(
        model.config_get(&unit("kube/0"))["port"],
        serde_json::json!(2379)
    );
    assert!(model.config_get(&unit("etcd/0")).is_empty());
}
