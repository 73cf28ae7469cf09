//! The time accounting of `ProcessHookTools`: every tool run is counted with its wall time,
//! failed and timed-out ones included; clones share one account.

use std::time::{Duration, Instant};

use juju_hooks::{
    BagOwner, Databag, HookTools, ProcessHookTools, RelationId, ToolErrorKind, ToolTime, WriteScope,
};

use crate::shim::ShimTools;

fn rid(s: &str) -> RelationId {
    s.parse().unwrap()
}

#[test]
fn every_call_is_counted_with_its_wall_time_and_clones_share_the_account() {
    let shim = ShimTools::new();
    shim.answer("relation-ids", r#"["proxy:1"]"#).fail(
        "relation-get",
        1,
        "ERROR permission denied\n",
    );
    let mut tools = shim.tools();
    let kept = tools.clone();
    assert_eq!(tools.tool_time(), ToolTime::default());

    let started = Instant::now();
    tools.relation_ids(&"proxy".parse().unwrap()).unwrap();
    let changes = Databag::from([("cluster".to_owned(), "a=https://127.0.0.1:2380".to_owned())]);
    tools
        .relation_set(&rid("proxy:1"), WriteScope::Unit, &changes)
        .unwrap();
    let owner = BagOwner::Unit("etcd/0".parse().unwrap());
    tools.relation_get(&rid("proxy:1"), &owner).unwrap_err();
    let outside = started.elapsed();

    let spent = kept.tool_time();
    assert_eq!(spent, tools.tool_time());
    assert_eq!(spent.calls, 3, "{spent:?}");
    assert_eq!(shim.calls().len(), 3);
    // Each shim is a shell process: never free, and never more than the calls took in all.
    assert!(spent.total > Duration::ZERO, "{spent:?}");
    assert!(spent.total <= outside, "{spent:?} > {outside:?}");
    // A fresh instance has its own account.
    assert_eq!(shim.tools().tool_time().calls, 0);
}

#[test]
fn an_argument_refused_before_any_tool_runs_is_not_a_call() {
    let shim = ShimTools::new();
    let mut tools = shim.tools();
    let bad = Databag::from([("a=b".to_owned(), "x".to_owned())]);
    let err = tools.leader_set(&bad).unwrap_err();
    assert!(matches!(err.kind, ToolErrorKind::Usage { .. }), "{err:?}");
    assert_eq!(tools.tool_time(), ToolTime::default());
    assert!(shim.calls().is_empty());
}

#[test]
fn a_missing_tool_counts_as_a_call() {
    let shim = ShimTools::with_tools(&[]);
    let mut tools = shim.tools();
    let err = tools.is_leader().unwrap_err();
    assert!(
        matches!(err.kind, ToolErrorKind::Unsupported { .. }),
        "{err:?}"
    );
    assert_eq!(tools.tool_time().calls, 1);
}

#[test]
fn a_timed_out_call_counts_its_whole_wait() {
    let shim = ShimTools::new();
    shim.mode("leader-get", "hang");
    let limit = Duration::from_millis(300);
    let mut tools = ProcessHookTools::with_tools_dir(shim.path()).timeout(limit);
    let started = Instant::now();
    let err = tools.leader_get().unwrap_err();
    let outside = started.elapsed();
    assert!(matches!(err.kind, ToolErrorKind::Timeout { .. }), "{err:?}");
    let spent = tools.tool_time();
    assert_eq!(spent.calls, 1);
    // The wait may wake a little early (see faults.rs); the kill and reap come on top.
    assert!(
        spent.total >= limit - Duration::from_millis(20),
        "{spent:?}"
    );
    assert!(spent.total <= outside, "{spent:?} > {outside:?}");
}
