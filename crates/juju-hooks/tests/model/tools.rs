//! `InMemoryTools`: the `HookTools` a charm sees in state-in/state-out tests.

use juju_hooks::testing::{run, HookInvocation, InMemoryTools};
use juju_hooks::{
    BagOwner, HookKind, HookTools, LogLevel, StatusKind, ToolError, ToolErrorKind, WorkloadStatus,
    WriteScope,
};

use crate::support::{app, bag, charm_dir, endpoint, related, rid, unit};

fn refused(result: Result<impl std::fmt::Debug, ToolError>) -> (String, String, i32) {
    match result {
        Err(ToolError {
            command,
            kind: ToolErrorKind::Refused { message, code },
        }) => (command, message, code),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn the_charm_gets_the_context_juju_would_give() {
    let (model, _) = related(1, 1);
    let hook = HookInvocation::changed(unit("kube/0"), rid("etcd:0"), unit("etcd/0"));
    let outcome = run(&model, &hook, charm_dir(), |ctx, _| {
        assert_eq!(ctx.unit, unit("kube/0"));
        assert_eq!(ctx.hook, HookKind::RelationChanged(endpoint("etcd")));
        assert_eq!(ctx.relation_id, Some(rid("etcd:0")));
        assert_eq!(ctx.remote_unit, Some(unit("etcd/0")));
        assert_eq!(ctx.remote_app, Some(app("etcd")));
        assert_eq!(ctx.departing_unit, None);
        assert_eq!(ctx.charm_dir, charm_dir());
        assert_eq!(ctx.model_name.as_deref(), Some("test"));
        Ok::<(), ()>(())
    })
    .unwrap();
    outcome.result.unwrap();
}

#[test]
fn every_call_is_recorded_as_the_command_line_of_the_real_tool() {
    let (model, _) = related(1, 1);
    let hook = HookInvocation::changed(unit("kube/0"), rid("etcd:0"), unit("etcd/0"));
    let outcome = run(&model, &hook, charm_dir(), |_, tools| {
        tools.relation_ids(&endpoint("etcd"))?;
        tools.relation_list(&rid("etcd:0"))?;
        tools.relation_get(&rid("etcd:0"), &BagOwner::Unit(unit("etcd/0")))?;
        tools.relation_get(&rid("etcd:0"), &BagOwner::App(app("etcd")))?;
        tools.relation_set(
            &rid("etcd:0"),
            WriteScope::Unit,
            &bag(&[("secret", "s3cret")]),
        )?;
        tools.relation_set(&rid("etcd:0"), WriteScope::App, &bag(&[("k", "v")]))?;
        tools.is_leader()?;
        tools.leader_get()?;
        tools.leader_set(&bag(&[("a", "1"), ("b", "2")]))?;
        tools.status_set(&WorkloadStatus::new(StatusKind::Waiting, "for etcd"))?;
        tools.status_get()?;
        tools.juju_log(LogLevel::Warning, "hello there")?;
        tools.config_get()?;
        Ok::<(), ToolError>(())
    })
    .unwrap();
    outcome.result.unwrap();
    let lines: Vec<String> = outcome.calls.iter().map(|c| c.command_line()).collect();
    assert_eq!(
        lines,
        [
            "relation-ids --format=json etcd",
            "relation-list --format=json -r etcd:0",
            "relation-get --format=json -r etcd:0 - etcd/0",
            "relation-get --format=json -r etcd:0 --app - etcd",
            "relation-set -r etcd:0 --file -",
            "relation-set -r etcd:0 --app --file -",
            "is-leader --format=json",
            "leader-get --format=json -",
            "leader-set a=1 b=2",
            "status-set waiting for etcd",
            "status-get --format=json --include-data",
            "juju-log -l WARNING hello there",
            "config-get --format=json --all",
        ]
    );
    assert!(
        outcome.calls.iter().all(|c| !c.args.contains("s3cret")),
        "relation-set data travels on stdin and is never recorded"
    );
    assert_eq!(outcome.calls[0].tool, "relation-ids");
}

#[test]
fn relation_tools_answer_from_the_invoking_units_point_of_view() {
    let (mut model, _) = related(1, 2);
    {
        let hook = HookInvocation::new(unit("etcd/0"), "update-status");
        let mut tools = InMemoryTools::new(&mut model, hook);
        assert_eq!(
            tools.relation_ids(&endpoint("proxy")).unwrap(),
            [rid("proxy:0")]
        );
        assert!(tools.relation_ids(&endpoint("etcd")).unwrap().is_empty());
        assert_eq!(
            tools.relation_list(&rid("proxy:0")).unwrap(),
            [unit("kube/0"), unit("kube/1")]
        );
    }
    let hook = HookInvocation::new(unit("kube/1"), "update-status");
    let mut tools = InMemoryTools::new(&mut model, hook);
    assert_eq!(
        tools.relation_ids(&endpoint("etcd")).unwrap(),
        [rid("etcd:0")]
    );
    assert_eq!(
        tools.relation_list(&rid("etcd:0")).unwrap(),
        [unit("etcd/0")]
    );
}

#[test]
fn refused_reads_carry_the_command_line_and_jujus_text() {
    let (mut model, _) = related(1, 1);
    let hook = HookInvocation::new(unit("kube/0"), "update-status");
    let mut tools = InMemoryTools::new(&mut model, hook);
    assert_eq!(
        refused(tools.relation_get(&rid("etcd:0"), &BagOwner::Unit(unit("vault/0")))),
        (
            "relation-get --format=json -r etcd:0 - vault/0".to_owned(),
            "permission denied".to_owned(),
            1
        )
    );
    assert_eq!(
        refused(tools.relation_get(&rid("etcd:0"), &BagOwner::Unit(unit("etcd/9")))),
        (
            "relation-get --format=json -r etcd:0 - etcd/9".to_owned(),
            "cannot read settings for unit \"etcd/9\" in relation \"kube:etcd etcd:proxy\": \
             unit \"etcd/9\": settings not found"
                .to_owned(),
            1
        )
    );
    assert_eq!(
        refused(tools.relation_list(&rid("etcd:7"))),
        (
            "relation-list --format=json -r etcd:7".to_owned(),
            "invalid value \"etcd:7\" for option -r: relation not found".to_owned(),
            2
        )
    );
    assert_eq!(
        refused(tools.relation_get(&rid("etcd:0"), &BagOwner::App(app("vault")))).1,
        "permission denied"
    );
}

#[test]
fn an_injected_failure_fails_later_calls_of_that_tool_and_leaves_the_model_alone() {
    let (mut model, _) = related(1, 1);
    let before = model.clone();
    let hook = HookInvocation::new(unit("kube/0"), "update-status");
    let mut tools = InMemoryTools::new(&mut model, hook);
    tools
        .status_set(&WorkloadStatus::new(StatusKind::Active, "first"))
        .unwrap();
    tools.fail("status-set", 1, "ERROR connection refused");
    tools.fail(
        "relation-get",
        2,
        "ERROR option provided but not defined: --x",
    );
    match tools.status_set(&WorkloadStatus::new(StatusKind::Blocked, "second")) {
        Err(ToolError {
            command,
            kind: ToolErrorKind::Runtime { code: 1, stderr },
        }) => {
            assert_eq!(command, "status-set blocked second");
            assert_eq!(stderr, "ERROR connection refused");
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
    assert!(matches!(
        tools.relation_get(&rid("etcd:0"), &BagOwner::Unit(unit("etcd/0"))),
        Err(ToolError {
            kind: ToolErrorKind::Usage { .. },
            ..
        })
    ));
    assert!(tools.is_leader().unwrap(), "other tools still work");
    assert_eq!(tools.calls().len(), 4);
    drop(tools);
    assert_eq!(
        model.status_get(&unit("kube/0")),
        WorkloadStatus::new(StatusKind::Active, "first")
    );
    assert_eq!(model.relations, before.relations);
}
