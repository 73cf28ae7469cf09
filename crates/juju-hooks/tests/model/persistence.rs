//! The emulator keeps the model on disk as JSON: it must round-trip exactly, mid-flight too.

use juju_hooks::testing::{HookInvocation, Model, Pending};
use juju_hooks::{StatusKind, WorkloadStatus, WriteScope};

use crate::support::{app, bag, related, rid, unit};

#[test]
fn a_model_round_trips_through_json_mid_hook() {
    let (mut model, number) = related(2, 1);
    model
        .applications
        .get_mut(&app("kube"))
        .unwrap()
        .config
        .insert(
            "ports".into(),
            serde_json::json!({"client": 2379, "tls": true}),
        );
    model
        .leader_set(&unit("etcd/0"), &bag(&[("token", "t")]))
        .unwrap();
    model
        .status_set(
            &unit("kube/0"),
            &WorkloadStatus::new(StatusKind::Waiting, "for etcd"),
        )
        .unwrap();
    let mut pending = Pending::default();
    model
        .relation_set(
            &unit("etcd/0"),
            &mut pending,
            &rid("proxy:0"),
            WriteScope::App,
            &bag(&[("a", "b")]),
        )
        .unwrap();
    model.commit(&unit("etcd/0"), pending);
    // Mid-flight: a unit being removed, a relation dying, a hook running.
    let hooks = model.remove_unit(&unit("etcd/1")).unwrap();
    model.begin_hook(&hooks[0]).unwrap();
    model.relations.get_mut(&number).unwrap().dying = true;

    let json = serde_json::to_string_pretty(&model).unwrap();
    let back: Model = serde_json::from_str(&json).unwrap();
    assert_eq!(back, model);
    assert!(
        json.contains("\"etcd/1\""),
        "unit names are stored as strings:\n{json}"
    );
    assert!(
        json.contains("\"provides\""),
        "roles are stored as words:\n{json}"
    );
}

#[test]
fn a_fresh_model_stays_small_on_disk() {
    let model = Model::new("m");
    let json = serde_json::to_string(&model).unwrap();
    assert_eq!(
        json,
        r#"{"name":"m","applications":{},"relations":{},"next_relation_number":0}"#
    );
    let back: Model = serde_json::from_str(&json).unwrap();
    assert_eq!(back, model);
}

#[test]
fn invocations_and_pending_writes_round_trip_too() {
    let hook = HookInvocation::departed(
        unit("kube/0"),
        rid("etcd:3"),
        unit("etcd/1"),
        unit("etcd/1"),
    );
    let back: HookInvocation =
        serde_json::from_str(&serde_json::to_string(&hook).unwrap()).unwrap();
    assert_eq!(back, hook);
    let mut pending = Pending::default();
    pending.unit_writes.insert(3, bag(&[("k", ""), ("x", "y")]));
    let back: Pending = serde_json::from_str(&serde_json::to_string(&pending).unwrap()).unwrap();
    assert_eq!(back, pending);
}
