//! What `relation-list`, `relation-ids` and `relation-get` show while units and relations go.

use juju_hooks::testing::{run, HookInvocation};
use juju_hooks::{BagOwner, HookTools, ToolError, ToolErrorKind};

use crate::support::{app, charm_dir, endpoint, related, rid, run_until, unit};

#[test]
fn departing_unit_is_gone_from_relation_list_in_departed_but_its_data_stays_readable() {
    let (mut model, _) = related(2, 1);
    let hooks = model.remove_unit(&unit("etcd/1")).unwrap();
    let departed = run_until(&mut model, hooks, "kube/0 etcd-relation-departed");
    let outcome = run(&model, &departed, charm_dir(), |ctx, tools| {
        assert_eq!(ctx.departing_unit, Some(unit("etcd/1")));
        assert_eq!(ctx.remote_unit, Some(unit("etcd/1")));
        assert_eq!(tools.relation_list(&rid("etcd:0"))?, [unit("etcd/0")]);
        let data = tools.relation_get(&rid("etcd:0"), &BagOwner::Unit(unit("etcd/1")))?;
        assert!(data.contains_key("private-address"));
        Ok::<(), ToolError>(())
    })
    .unwrap();
    outcome.result.unwrap();
}

#[test]
fn the_removed_unit_names_itself_as_departing() {
    let (mut model, _) = related(2, 1);
    let hooks = model.remove_unit(&unit("etcd/1")).unwrap();
    let departed = run_until(&mut model, hooks, "etcd/1 proxy-relation-departed");
    let outcome = run(&model, &departed, charm_dir(), |ctx, tools| {
        assert_eq!(ctx.departing_unit, Some(unit("etcd/1")));
        assert_eq!(ctx.remote_unit, Some(unit("kube/0")));
        assert!(tools.relation_list(&rid("proxy:0"))?.is_empty());
        Ok::<(), ToolError>(())
    })
    .unwrap();
    outcome.result.unwrap();
}

#[test]
fn data_of_a_removed_unit_stays_readable_while_the_relation_lives() {
    let (mut model, _) = related(2, 1);
    let hooks = model.remove_unit(&unit("etcd/1")).unwrap();
    model.settle(hooks).unwrap();
    let hook = HookInvocation::new(unit("kube/0"), "update-status");
    let outcome = run(&model, &hook, charm_dir(), |_, tools| {
        assert_eq!(tools.relation_list(&rid("etcd:0"))?, [unit("etcd/0")]);
        let data = tools.relation_get(&rid("etcd:0"), &BagOwner::Unit(unit("etcd/1")))?;
        assert!(data.contains_key("private-address"));
        Ok::<(), ToolError>(())
    })
    .unwrap();
    outcome.result.unwrap();
}

#[test]
fn broken_sees_no_members_and_the_relation_leaves_relation_ids_after_it() {
    let (mut model, number) = related(2, 1);
    let hooks = model.unrelate(number).unwrap();
    let broken = run_until(&mut model, hooks.clone(), "kube/0 etcd-relation-broken");
    let outcome = run(&model, &broken, charm_dir(), |ctx, tools| {
        assert_eq!(ctx.remote_unit, None);
        assert_eq!(ctx.remote_app, Some(app("etcd")));
        assert!(tools.relation_list(&rid("etcd:0"))?.is_empty());
        // Juju still lists the dying relation while its -broken runs.
        assert_eq!(tools.relation_ids(&endpoint("etcd"))?, [rid("etcd:0")]);
        tools.relation_get(&rid("etcd:0"), &BagOwner::App(app("etcd")))?;
        Ok::<(), ToolError>(())
    })
    .unwrap();
    outcome.result.unwrap();

    let after = HookInvocation::new(unit("kube/0"), "update-status");
    let outcome = run(&outcome.model, &after, charm_dir(), |_, tools| {
        assert!(tools.relation_ids(&endpoint("etcd"))?.is_empty());
        match tools.relation_list(&rid("etcd:0")) {
            Err(ToolError {
                kind: ToolErrorKind::Refused { message, code: 2 },
                ..
            }) => assert_eq!(
                message,
                "invalid value \"etcd:0\" for option -r: relation not found"
            ),
            other => panic!("expected a refusal, got {other:?}"),
        }
        Ok::<(), ToolError>(())
    })
    .unwrap();
    outcome.result.unwrap();
}

#[test]
fn a_failed_broken_keeps_the_relation_until_it_succeeds() {
    let (mut model, number) = related(1, 1);
    let hooks = model.unrelate(number).unwrap();
    let broken = run_until(&mut model, hooks, "kube/0 etcd-relation-broken");
    let failed = run(&model, &broken, charm_dir(), |_, _| Err::<(), &str>("boom")).unwrap();
    assert_eq!(
        failed
            .model
            .relation_ids(&unit("kube/0"), &endpoint("etcd")),
        [rid("etcd:0")]
    );
    let retried = run(&failed.model, &broken, charm_dir(), |_, _| Ok::<(), ()>(())).unwrap();
    assert!(retried
        .model
        .relation_ids(&unit("kube/0"), &endpoint("etcd"))
        .is_empty());
}

#[test]
fn broken_cannot_run_before_every_member_departed() {
    let (mut model, number) = related(2, 1);
    let hooks = model.unrelate(number).unwrap();
    let broken = hooks
        .iter()
        .find(|h| h.unit == unit("kube/0") && h.hook == "etcd-relation-broken")
        .unwrap();
    let err = model.begin_hook(broken).unwrap_err();
    assert_eq!(
        err.to_string(),
        "impossible state: etcd-relation-broken on kube/0 cannot run while it still sees \
         etcd/0, etcd/1: each needs its -departed first"
    );
}
