//! States and invocations Juju could never produce are rejected with one clear sentence.

use std::collections::BTreeMap;

use juju_hooks::testing::{run, EndpointRole, HookInvocation, Model, RelationEnd};

use crate::support::{app, charm_dir, deployed, endpoint, etcd_end, kube_end, related, rid, unit};

fn check_message(model: &Model) -> String {
    model.check().unwrap_err().to_string()
}

fn invocation_message(model: &Model, hook: &HookInvocation) -> String {
    model.check_invocation(hook).unwrap_err().to_string()
}

#[test]
fn every_state_along_a_whole_lifecycle_passes_the_checker() {
    let mut model = deployed(2, 2);
    let (number, hooks) = model.relate(&etcd_end(), &kube_end()).unwrap();
    let mut ran = 0;
    let mut run_all = |model: &mut Model, hooks: Vec<HookInvocation>| {
        for hook in hooks {
            model.check().unwrap();
            model.begin_hook(&hook).unwrap();
            model.check().unwrap();
            model.commit(&hook.unit, Default::default());
            ran += 1;
        }
    };
    run_all(&mut model, hooks);
    let removal = model.remove_unit(&unit("kube/1")).unwrap();
    run_all(&mut model, removal);
    let unrelation = model.unrelate(number).unwrap();
    run_all(&mut model, unrelation);
    model.check().unwrap();
    assert!(model.relations.is_empty());
    // relate: 4 created + 16 joined/changed; remove: 7; unrelate: 7.
    assert_eq!(ran, 34);
}

#[test]
fn a_leader_that_is_not_a_unit_of_its_application_is_rejected() {
    let (mut model, _) = related(1, 1);
    model.applications.get_mut(&app("etcd")).unwrap().leader = Some(unit("etcd/5"));
    assert_eq!(
        check_message(&model),
        "impossible state: the leader etcd/5 of etcd is not one of its units"
    );
}

#[test]
fn a_member_view_with_a_unit_of_the_same_side_is_rejected() {
    let (mut model, number) = related(1, 2);
    let rel = model.relations.get_mut(&number).unwrap();
    rel.members
        .get_mut(&unit("kube/0"))
        .unwrap()
        .insert(unit("kube/1"));
    assert_eq!(
        check_message(&model),
        "impossible state: unit kube/0 sees kube/1 in relation 0, which is not a unit of the \
         other side"
    );
}

#[test]
fn a_relation_over_an_undeclared_endpoint_is_rejected() {
    let (mut model, number) = related(1, 1);
    model.relations.get_mut(&number).unwrap().ends[0].endpoint = endpoint("db");
    assert_eq!(
        check_message(&model),
        "impossible state: relation 0 uses endpoint etcd:db, which etcd does not declare"
    );
}

#[test]
fn a_databag_of_a_unit_outside_the_relation_is_rejected() {
    let (mut model, number) = related(1, 1);
    let rel = model.relations.get_mut(&number).unwrap();
    rel.unit_bags.insert(unit("vault/0"), Default::default());
    assert_eq!(
        check_message(&model),
        "impossible state: relation 0 holds a databag of vault/0, whose application is not \
         part of it"
    );
}

#[test]
fn relate_rejects_roles_that_do_not_fit() {
    let mut model = deployed(1, 1);
    let err = model.relate(&kube_end(), &kube_end()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "impossible state: kube:etcd (requires) cannot be related to kube:etcd (requires): only \
         provides with requires of another application, or a peer endpoint with itself"
    );
}

#[test]
fn relate_rejects_different_interfaces_and_a_second_identical_relation() {
    let mut model = deployed(1, 1);
    let tls = BTreeMap::from([(endpoint("etcd"), (EndpointRole::Requires, "tls".to_owned()))]);
    model.deploy(&app("vault"), tls, 1).unwrap();
    let vault = RelationEnd::new(app("vault"), endpoint("etcd"));
    assert_eq!(
        model.relate(&etcd_end(), &vault).unwrap_err().to_string(),
        "impossible state: etcd:proxy speaks interface etcd-proxy but vault:etcd speaks tls"
    );
    model.relate(&etcd_end(), &kube_end()).unwrap();
    assert_eq!(
        model
            .relate(&kube_end(), &etcd_end())
            .unwrap_err()
            .to_string(),
        "impossible state: kube:etcd and etcd:proxy are already related (relation 0)"
    );
}

#[test]
fn invocations_for_unknown_units_or_hooks_are_rejected() {
    let (model, _) = related(1, 1);
    assert_eq!(
        invocation_message(&model, &HookInvocation::new(unit("kube/7"), "install")),
        "impossible state: unit kube/7 does not exist"
    );
    assert_eq!(
        invocation_message(&model, &HookInvocation::new(unit("kube/0"), "bad hook")),
        "impossible state: \"bad hook\" is not a hook Juju runs (cannot tell which hook this \
         is: not a hook name: \"bad hook\")"
    );
    let mut install = HookInvocation::new(unit("kube/0"), "install");
    install.relation = Some(rid("etcd:0"));
    assert_eq!(
        invocation_message(&model, &install),
        "impossible state: install on kube/0 is not a relation hook, so it carries no \
         relation, remote or departing unit"
    );
}

#[test]
fn relation_hooks_must_name_a_relation_of_the_unit_from_its_own_endpoint() {
    let (model, _) = related(1, 2);
    let missing = HookInvocation::changed(unit("kube/0"), rid("etcd:9"), unit("etcd/0"));
    assert_eq!(
        invocation_message(&model, &missing),
        "impossible state: relation 9 (from etcd:9) does not exist"
    );
    let other_side = HookInvocation::changed(unit("kube/0"), rid("proxy:0"), unit("etcd/0"));
    assert_eq!(
        invocation_message(&model, &other_side),
        "impossible state: kube/0 takes part in relation 0 through endpoint etcd, not proxy"
    );
}

#[test]
fn relation_hooks_must_name_a_remote_unit_of_the_other_side() {
    let (model, _) = related(1, 2);
    let sibling = HookInvocation::joined(unit("kube/0"), rid("etcd:0"), unit("kube/1"));
    assert_eq!(
        invocation_message(&model, &sibling),
        "impossible state: etcd-relation-joined on kube/0 must name the remote application \
         etcd, not kube"
    );
    let twice = HookInvocation::joined(unit("kube/0"), rid("etcd:0"), unit("etcd/0"));
    assert_eq!(
        invocation_message(&model, &twice),
        "impossible state: kube/0 has already joined etcd/0 in etcd:0"
    );
}

#[test]
fn changed_for_a_unit_not_joined_yet_is_rejected() {
    let mut model = deployed(1, 1);
    model.relate(&etcd_end(), &kube_end()).unwrap();
    let early = HookInvocation::changed(unit("kube/0"), rid("etcd:0"), unit("etcd/0"));
    assert_eq!(
        invocation_message(&model, &early),
        "impossible state: etcd-relation-changed on kube/0 names etcd/0, which is not among its \
         members in etcd:0"
    );
}

#[test]
fn broken_on_a_live_relation_is_rejected() {
    let (model, _) = related(1, 1);
    let broken = HookInvocation::broken(unit("kube/0"), rid("etcd:0"), app("etcd"));
    assert_eq!(
        invocation_message(&model, &broken),
        "impossible state: etcd-relation-broken on kube/0 can only run while relation etcd:0 or \
         the unit is being removed"
    );
}

#[test]
fn the_runner_refuses_an_impossible_state_before_running_the_charm() {
    let (mut model, _) = related(1, 1);
    model.applications.get_mut(&app("kube")).unwrap().leader = Some(unit("etcd/0"));
    let hook = HookInvocation::new(unit("kube/0"), "update-status");
    let mut ran = false;
    let err = run(&model, &hook, charm_dir(), |_, _| {
        ran = true;
        Ok::<(), ()>(())
    })
    .unwrap_err();
    assert!(!ran);
    assert_eq!(
        err.to_string(),
        "impossible state: the leader etcd/0 of kube is not one of its units"
    );
}
