//! Which hooks Juju fires, in which order, for relate / unrelate / add-unit / remove-unit.

use std::collections::BTreeMap;

use juju_hooks::testing::{EndpointRole, HookInvocation, Model, RelationEnd};

use crate::support::{app, deployed, describe_all, endpoint, etcd_end, kube_end, related, unit};

#[test]
fn relate_fires_created_everywhere_then_joined_and_changed_per_remote_unit() {
    let mut model = deployed(1, 2);
    let (number, hooks) = model.relate(&etcd_end(), &kube_end()).unwrap();
    assert_eq!(number, 0);
    assert_eq!(
        describe_all(&hooks),
        [
            "etcd/0 proxy-relation-created proxy:0 app=kube",
            "kube/0 etcd-relation-created etcd:0 app=etcd",
            "kube/1 etcd-relation-created etcd:0 app=etcd",
            "etcd/0 proxy-relation-joined proxy:0 remote=kube/0 app=kube",
            "etcd/0 proxy-relation-changed proxy:0 remote=kube/0 app=kube",
            "etcd/0 proxy-relation-joined proxy:0 remote=kube/1 app=kube",
            "etcd/0 proxy-relation-changed proxy:0 remote=kube/1 app=kube",
            "kube/0 etcd-relation-joined etcd:0 remote=etcd/0 app=etcd",
            "kube/0 etcd-relation-changed etcd:0 remote=etcd/0 app=etcd",
            "kube/1 etcd-relation-joined etcd:0 remote=etcd/0 app=etcd",
            "kube/1 etcd-relation-changed etcd:0 remote=etcd/0 app=etcd",
        ]
    );
}

#[test]
fn units_enter_the_relation_with_seeded_address_keys() {
    let mut model = deployed(1, 1);
    let (number, _) = model.relate(&etcd_end(), &kube_end()).unwrap();
    let bag = &model.relations[&number].unit_bags[&unit("kube/0")];
    let keys: Vec<&str> = bag.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["egress-subnets", "ingress-address", "private-address"]
    );
    assert_eq!(bag["private-address"], bag["ingress-address"]);
    assert_eq!(
        bag["egress-subnets"],
        format!("{}/32", bag["private-address"])
    );
    let other = &model.relations[&number].unit_bags[&unit("etcd/0")];
    assert_ne!(other["private-address"], bag["private-address"]);
}

#[test]
fn relation_numbers_come_from_one_counter_and_are_never_reused() {
    let mut model = deployed(1, 1);
    let peers = BTreeMap::from([(
        endpoint("cluster"),
        (EndpointRole::Peers, "etcd".to_owned()),
    )]);
    model.deploy(&app("db"), peers, 2).unwrap();
    let (first, hooks) = model.relate(&etcd_end(), &kube_end()).unwrap();
    model.settle(hooks).unwrap();
    let cluster = RelationEnd::new(app("db"), endpoint("cluster"));
    let (second, _) = model.relate(&cluster, &cluster).unwrap();
    assert_eq!((first, second), (0, 1));
    let hooks = model.unrelate(first).unwrap();
    model.settle(hooks).unwrap();
    let (third, _) = model.relate(&etcd_end(), &kube_end()).unwrap();
    assert_eq!(third, 2);
}

#[test]
fn unrelate_fires_departed_for_each_member_then_broken_on_every_unit() {
    let (mut model, number) = related(1, 2);
    let hooks = model.unrelate(number).unwrap();
    assert_eq!(
        describe_all(&hooks),
        [
            "etcd/0 proxy-relation-departed proxy:0 remote=kube/0 app=kube departing=kube/0",
            "etcd/0 proxy-relation-departed proxy:0 remote=kube/1 app=kube departing=kube/1",
            "etcd/0 proxy-relation-broken proxy:0 app=kube",
            "kube/0 etcd-relation-departed etcd:0 remote=etcd/0 app=etcd departing=etcd/0",
            "kube/0 etcd-relation-broken etcd:0 app=etcd",
            "kube/1 etcd-relation-departed etcd:0 remote=etcd/0 app=etcd departing=etcd/0",
            "kube/1 etcd-relation-broken etcd:0 app=etcd",
        ]
    );
    assert!(model.relations[&number].dying);
    model.settle(hooks).unwrap();
    assert!(
        model.relations.is_empty(),
        "the relation is gone once every unit broke it"
    );
}

#[test]
fn remove_unit_fires_departed_on_the_others_then_departed_broken_stop_remove_on_itself() {
    let (mut model, number) = related(2, 1);
    let hooks = model.remove_unit(&unit("etcd/1")).unwrap();
    assert_eq!(
        describe_all(&hooks),
        [
            "kube/0 etcd-relation-departed etcd:0 remote=etcd/1 app=etcd departing=etcd/1",
            "etcd/1 proxy-relation-departed proxy:0 remote=kube/0 app=kube departing=etcd/1",
            "etcd/1 proxy-relation-broken proxy:0 app=kube",
            "etcd/1 stop",
            "etcd/1 remove",
        ]
    );
    model.settle(hooks).unwrap();
    assert!(model.unit(&unit("etcd/1")).is_none());
    assert!(model.unit(&unit("etcd/0")).is_some());
    let rel = &model.relations[&number];
    assert!(!rel.dying, "removing a unit leaves the relation alive");
    assert_eq!(
        rel.members[&unit("kube/0")].iter().collect::<Vec<_>>(),
        [&unit("etcd/0")]
    );
    model.check().unwrap();
}

#[test]
fn add_unit_joins_the_new_unit_both_ways() {
    let (mut model, _) = related(1, 1);
    let (new, hooks) = model.add_unit(&app("kube")).unwrap();
    assert_eq!(new, unit("kube/1"));
    assert_eq!(
        describe_all(&hooks),
        [
            "kube/1 etcd-relation-created etcd:0 app=etcd",
            "etcd/0 proxy-relation-joined proxy:0 remote=kube/1 app=kube",
            "etcd/0 proxy-relation-changed proxy:0 remote=kube/1 app=kube",
            "kube/1 etcd-relation-joined etcd:0 remote=etcd/0 app=etcd",
            "kube/1 etcd-relation-changed etcd:0 remote=etcd/0 app=etcd",
        ]
    );
    model.settle(hooks).unwrap();
    model.check().unwrap();
}

#[test]
fn unit_numbers_are_never_reused() {
    let (mut model, _) = related(1, 2);
    let hooks = model.remove_unit(&unit("kube/1")).unwrap();
    model.settle(hooks).unwrap();
    let (new, _) = model.add_unit(&app("kube")).unwrap();
    assert_eq!(new, unit("kube/2"));
}

#[test]
fn removing_the_leader_elects_the_next_unit() {
    let (mut model, _) = related(1, 2);
    assert!(model.is_leader(&unit("kube/0")));
    let hooks = model.remove_unit(&unit("kube/0")).unwrap();
    let last = hooks.last().unwrap().clone();
    let (before, _) = hooks.split_at(hooks.len() - 1);
    model.settle(before.to_vec()).unwrap();
    model.begin_hook(&last).unwrap();
    let next = model.commit(&last.unit, Default::default());
    assert_eq!(describe_all(&next), ["kube/1 leader-elected"]);
    assert!(model.is_leader(&unit("kube/1")));
    model.settle(next).unwrap();
}

#[test]
fn peer_relations_join_the_other_units_of_the_same_application() {
    let mut model = Model::new("test");
    let peers = BTreeMap::from([(
        endpoint("cluster"),
        (EndpointRole::Peers, "etcd".to_owned()),
    )]);
    model.deploy(&app("etcd"), peers, 2).unwrap();
    let cluster = RelationEnd::new(app("etcd"), endpoint("cluster"));
    let (_, hooks) = model.relate(&cluster, &cluster).unwrap();
    assert_eq!(
        describe_all(&hooks),
        [
            "etcd/0 cluster-relation-created cluster:0 app=etcd",
            "etcd/1 cluster-relation-created cluster:0 app=etcd",
            "etcd/0 cluster-relation-joined cluster:0 remote=etcd/1 app=etcd",
            "etcd/0 cluster-relation-changed cluster:0 remote=etcd/1 app=etcd",
            "etcd/1 cluster-relation-joined cluster:0 remote=etcd/0 app=etcd",
            "etcd/1 cluster-relation-changed cluster:0 remote=etcd/0 app=etcd",
        ]
    );
}

#[test]
fn hook_invocation_env_is_what_juju_exports() {
    let hook = HookInvocation::departed(
        unit("kube/0"),
        "etcd:3".parse().unwrap(),
        unit("etcd/1"),
        unit("etcd/1"),
    );
    let env = hook.env("prod", std::path::Path::new("/charm"));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        pairs,
        [
            ("CHARM_DIR", "/charm"),
            ("JUJU_CHARM_DIR", "/charm"),
            ("JUJU_DEPARTING_UNIT", "etcd/1"),
            ("JUJU_DISPATCH_PATH", "hooks/etcd-relation-departed"),
            ("JUJU_HOOK_NAME", "etcd-relation-departed"),
            ("JUJU_MODEL_NAME", "prod"),
            ("JUJU_RELATION", "etcd"),
            ("JUJU_RELATION_ID", "etcd:3"),
            ("JUJU_REMOTE_APP", "etcd"),
            ("JUJU_REMOTE_UNIT", "etcd/1"),
            ("JUJU_UNIT_NAME", "kube/0"),
        ]
    );
    let broken = HookInvocation::broken(unit("kube/0"), "etcd:3".parse().unwrap(), app("etcd"));
    let env = broken.env("prod", std::path::Path::new("/charm"));
    assert_eq!(env["JUJU_REMOTE_UNIT"], "", "exported but empty in -broken");
    assert!(!env.contains_key("JUJU_DEPARTING_UNIT"));
}

#[test]
fn with_relation_builds_a_settled_pair_of_applications() {
    let (model, number) =
        Model::with_relation(("etcd", 3), ("kube", 2), "proxy", "etcd-proxy").unwrap();
    model.check().unwrap();
    let rel = &model.relations[&number];
    assert_eq!(rel.members.len(), 5);
    assert_eq!(
        rel.members[&unit("kube/1")].iter().collect::<Vec<_>>(),
        [&unit("etcd/0"), &unit("etcd/1"), &unit("etcd/2")]
    );
    assert_eq!(rel.members[&unit("etcd/2")].len(), 2);
    assert!(model.is_leader(&unit("etcd/0")) && model.is_leader(&unit("kube/0")));
    assert!(model.running.is_empty());
    assert_eq!(
        Model::with_relation(("Etcd", 1), ("kube", 1), "proxy", "x")
            .unwrap_err()
            .to_string(),
        "impossible state: invalid application name \"Etcd\""
    );
}
