//! Hook-tool faults: each gives a typed error that names the tool and keeps Juju's text.

use std::time::{Duration, Instant};

use juju_hooks::{
    BagOwner, Databag, HookTools, ProcessHookTools, RelationId, ToolError, ToolErrorKind,
    WriteScope,
};

use crate::shim::ShimTools;

fn rid(s: &str) -> RelationId {
    s.parse().unwrap()
}

fn etcd0() -> BagOwner {
    BagOwner::Unit("etcd/0".parse().unwrap())
}

fn read_bag(tools: &mut ProcessHookTools) -> Result<Databag, ToolError> {
    tools.relation_get(&rid("proxy:3"), &etcd0())
}

fn assert_names_tool(err: &ToolError, tool: &str) {
    assert_eq!(err.tool(), tool, "{err}");
    assert!(err.to_string().starts_with(&format!("{tool} ")), "{err}");
}

#[test]
fn exit_1_is_a_runtime_error_with_juju_text() {
    let shim = ShimTools::new();
    shim.fail("relation-get", 1, "ERROR permission denied\n");
    let err = read_bag(&mut shim.tools()).unwrap_err();
    assert_eq!(
        err.command,
        "relation-get --format=json -r proxy:3 - etcd/0"
    );
    assert_names_tool(&err, "relation-get");
    match &err.kind {
        ToolErrorKind::Runtime { code, stderr } => {
            assert_eq!(*code, 1);
            assert_eq!(stderr, "permission denied");
        }
        other => panic!("expected Runtime, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "relation-get --format=json -r proxy:3 - etcd/0: failed (exit 1): permission denied"
    );
}

#[test]
fn other_non_zero_codes_are_runtime_errors_too() {
    let shim = ShimTools::new();
    shim.fail("config-get", 126, "something odd\n");
    let err = shim.tools().config_get().unwrap_err();
    assert!(
        matches!(&err.kind, ToolErrorKind::Runtime { code: 126, stderr } if stderr == "something odd"),
        "{err:?}"
    );
}

#[test]
fn exit_2_is_a_usage_error() {
    let shim = ShimTools::new();
    shim.fail(
        "relation-list",
        2,
        "ERROR invalid value \"proxy:3\" for option -r: relation not found\n",
    );
    let err = shim.tools().relation_list(&rid("proxy:3")).unwrap_err();
    assert_names_tool(&err, "relation-list");
    match &err.kind {
        ToolErrorKind::Usage { stderr } => assert_eq!(
            stderr,
            "invalid value \"proxy:3\" for option -r: relation not found"
        ),
        other => panic!("expected Usage, got {other:?}"),
    }
}

#[test]
fn a_write_error_never_shows_the_data_sent_on_stdin() {
    let shim = ShimTools::new();
    shim.fail("relation-set", 1, "ERROR cannot write relation settings\n");
    let changes: Databag = [("client_key".to_owned(), "s3cret-key".to_owned())].into();
    let err = shim
        .tools()
        .relation_set(&rid("proxy:3"), WriteScope::App, &changes)
        .unwrap_err();
    assert_eq!(err.command, "relation-set -r proxy:3 --app --file -");
    assert!(!format!("{err} {err:?}").contains("s3cret"), "{err:?}");
    assert_eq!(shim.only_call().stdin, br#"{"client_key":"s3cret-key"}"#);
}

#[test]
fn a_leader_set_error_shows_keys_but_not_values() {
    let shim = ShimTools::new();
    shim.fail(
        "leader-set",
        1,
        "ERROR cannot write leadership settings: cannot write settings: not the leader\n",
    );
    let changes: Databag = [
        ("token".to_owned(), "s3cret".to_owned()),
        ("old".to_owned(), String::new()),
    ]
    .into();
    let err = shim.tools().leader_set(&changes).unwrap_err();
    assert_eq!(err.command, "leader-set old= token=...");
    assert!(!format!("{err} {err:?}").contains("s3cret"), "{err:?}");
    assert!(matches!(err.kind, ToolErrorKind::Runtime { code: 1, .. }));
}

#[test]
fn a_leader_set_key_juju_would_misread_is_refused_without_running_the_tool() {
    let shim = ShimTools::new();
    for key in ["a=b", "", "-r"] {
        let changes: Databag = [(key.to_owned(), "v".to_owned())].into();
        let err = shim.tools().leader_set(&changes).unwrap_err();
        assert!(matches!(err.kind, ToolErrorKind::Usage { .. }), "{err:?}");
        assert_names_tool(&err, "leader-set");
    }
    assert!(shim.calls().is_empty());
}

#[test]
fn a_tool_killed_by_a_signal_is_reported_as_killed() {
    let shim = ShimTools::new();
    shim.mode("is-leader", "signal")
        .fail("is-leader", 0, "about to die\n");
    let err = shim.tools().is_leader().unwrap_err();
    assert_names_tool(&err, "is-leader");
    assert!(
        matches!(&err.kind, ToolErrorKind::Killed { stderr } if stderr == "about to die"),
        "{err:?}"
    );
}

fn assert_times_out(shim: &ShimTools, tool_mode: &str) {
    shim.mode("leader-get", tool_mode);
    let limit = Duration::from_millis(300);
    let mut tools = ProcessHookTools::with_tools_dir(shim.path()).timeout(limit);
    let started = Instant::now();
    let err = tools.leader_get().unwrap_err();
    let took = started.elapsed();
    assert_names_tool(&err, "leader-get");
    assert!(
        matches!(err.kind, ToolErrorKind::Timeout { seconds: 1 }),
        "{err:?}"
    );
    // The wait may wake a little early (millisecond rounding when other children exit).
    assert!(
        took >= limit - Duration::from_millis(20),
        "gave up after {took:?}"
    );
    // Far below the 30 s the shim sleeps, with room for a loaded machine.
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn a_hanging_tool_is_killed_after_the_timeout() {
    let shim = ShimTools::new();
    assert_times_out(&shim, "hang");
    // The tool got as far as recording its call before it hung.
    assert_eq!(shim.calls().len(), 1);
}

#[test]
fn a_tool_whose_child_keeps_its_pipes_open_still_times_out() {
    assert_times_out(&ShimTools::new(), "hang-child");
}

#[test]
fn a_tool_that_exits_but_leaves_its_pipes_open_times_out() {
    assert_times_out(&ShimTools::new(), "leave-child");
}

#[test]
fn garbage_output_is_a_decode_error() {
    let shim = ShimTools::new();
    let cases: &[(&str, &str)] = &[
        ("relation-get", "not json\n"),
        ("relation-get", ""),
        ("relation-get", r#"{"port":2379}"#),
        ("relation-get", r#"["a"]"#),
        ("relation-get", "{\"a\":\"b\"} trailing"),
        ("relation-ids", r#"["proxy:x"]"#),
        ("relation-ids", r#""proxy:3""#),
        ("relation-list", r#"["etcd"]"#),
        ("relation-list", "[1]"),
        ("is-leader", "\"True\""),
        ("is-leader", "True\n"),
        ("leader-get", "[]"),
        ("status-get", r#"{"status":"sleeping","message":""}"#),
        ("status-get", r#"{"message":"no status"}"#),
        ("status-get", r#"{"status":"active","message":3}"#),
        ("config-get", "[]"),
    ];
    for (tool, output) in cases {
        shim.answer(tool, output);
        let mut tools = shim.tools();
        let err = match *tool {
            "relation-get" => read_bag(&mut tools).map(drop),
            "relation-ids" => tools.relation_ids(&"proxy".parse().unwrap()).map(drop),
            "relation-list" => tools.relation_list(&rid("proxy:3")).map(drop),
            "is-leader" => tools.is_leader().map(drop),
            "leader-get" => tools.leader_get().map(drop),
            "status-get" => tools.status_get().map(drop),
            "config-get" => tools.config_get().map(drop),
            other => unreachable!("{other}"),
        }
        .unwrap_err();
        assert_names_tool(&err, tool);
        assert!(
            matches!(err.kind, ToolErrorKind::Decode { .. }),
            "{tool} printing {output:?}: {err:?}"
        );
    }
}

#[test]
fn a_non_string_value_names_its_key() {
    let shim = ShimTools::new();
    shim.answer("relation-get", r#"{"ok":"x","port":2379}"#);
    let err = read_bag(&mut shim.tools()).unwrap_err();
    assert!(err.to_string().contains("\"port\""), "{err}");
}

#[test]
fn a_missing_tool_is_unsupported_naming_it() {
    let shim = ShimTools::with_tools(&["relation-get"]);
    let mut tools = shim.tools();
    let err = tools.is_leader().unwrap_err();
    assert_eq!(err.command, "is-leader --format=json");
    assert_names_tool(&err, "is-leader");
    // Not found is how an older Juju lacks a tool: callers may fall back.
    assert!(err.is_unsupported(), "{err:?}");
    let err = tools
        .relation_set(&rid("proxy:3"), WriteScope::Unit, &Databag::new())
        .unwrap_err();
    assert_names_tool(&err, "relation-set");
    assert!(
        matches!(err.kind, ToolErrorKind::Unsupported { .. }),
        "{err:?}"
    );
}

#[test]
fn a_long_stderr_is_capped() {
    let shim = ShimTools::new();
    shim.fail("status-get", 1, &format!("ERROR {}\n", "e".repeat(100_000)));
    let err = shim.tools().status_get().unwrap_err();
    let ToolErrorKind::Runtime { stderr, .. } = &err.kind else {
        panic!("expected Runtime, got {err:?}");
    };
    assert!(stderr.len() < 9000, "{} bytes kept", stderr.len());
    assert!(stderr.starts_with("eee") && stderr.ends_with("[...]"));
}
