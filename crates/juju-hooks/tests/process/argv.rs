//! Exact argv, stdin and output decoding of every tool call.

use juju_hooks::{
    BagOwner, Databag, HookTools, LogLevel, RelationId, StatusKind, UnitName, WorkloadStatus,
    WriteScope,
};

use crate::shim::ShimTools;

fn rid(s: &str) -> RelationId {
    s.parse().unwrap()
}

fn unit(s: &str) -> UnitName {
    s.parse().unwrap()
}

fn bag(pairs: &[(&str, &str)]) -> Databag {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn relation_get_reads_a_whole_unit_bag_in_one_call() {
    let shim = ShimTools::new();
    shim.answer(
        "relation-get",
        r#"{"egress-subnets":"10.0.0.5/32","connection_string":"https://10.0.0.5:2379","x":"a\nb"}"#,
    );
    let got = shim
        .tools()
        .relation_get(&rid("proxy:3"), &BagOwner::Unit(unit("etcd/0")))
        .unwrap();
    assert_eq!(
        got,
        bag(&[
            ("connection_string", "https://10.0.0.5:2379"),
            ("egress-subnets", "10.0.0.5/32"),
            ("x", "a\nb"),
        ])
    );
    assert_eq!(
        shim.only_call().argv,
        [
            "relation-get",
            "--format=json",
            "-r",
            "proxy:3",
            "-",
            "etcd/0"
        ]
    );
}

#[test]
fn relation_get_of_an_app_bag_passes_app() {
    let shim = ShimTools::new();
    shim.answer("relation-get", "{}\n");
    let got = shim
        .tools()
        .relation_get(&rid("proxy:3"), &BagOwner::App("etcd".parse().unwrap()))
        .unwrap();
    assert!(got.is_empty());
    assert_eq!(
        shim.only_call().argv,
        [
            "relation-get",
            "--format=json",
            "-r",
            "proxy:3",
            "--app",
            "-",
            "etcd"
        ]
    );
}

#[test]
fn relation_get_null_is_an_empty_bag() {
    let shim = ShimTools::new();
    shim.answer("relation-get", "null\n");
    let got = shim
        .tools()
        .relation_get(&rid("proxy:3"), &BagOwner::Unit(unit("etcd/0")))
        .unwrap();
    assert!(got.is_empty());
}

#[test]
fn relation_get_decodes_a_large_bag() {
    let shim = ShimTools::new();
    let big = "x".repeat(1 << 20);
    shim.answer("relation-get", &format!(r#"{{"big":"{big}"}}"#));
    let got = shim
        .tools()
        .relation_get(&rid("proxy:3"), &BagOwner::Unit(unit("etcd/0")))
        .unwrap();
    assert_eq!(got["big"].len(), 1 << 20);
}

#[test]
fn relation_set_sends_the_changes_as_json_on_stdin() {
    let shim = ShimTools::new();
    let changes = bag(&[("cert", "-----BEGIN\nabc\n"), ("gone", ""), ("n", "12")]);
    shim.tools()
        .relation_set(&rid("proxy:3"), WriteScope::Unit, &changes)
        .unwrap();
    let call = shim.only_call();
    assert_eq!(call.argv, ["relation-set", "-r", "proxy:3", "--file", "-"]);
    let sent: serde_json::Value = serde_json::from_slice(&call.stdin).unwrap();
    assert_eq!(
        sent,
        serde_json::json!({"cert": "-----BEGIN\nabc\n", "gone": "", "n": "12"})
    );
}

#[test]
fn relation_set_of_the_app_bag_passes_app() {
    let shim = ShimTools::new();
    shim.tools()
        .relation_set(&rid("proxy:10"), WriteScope::App, &bag(&[("k", "v")]))
        .unwrap();
    let call = shim.only_call();
    assert_eq!(
        call.argv,
        ["relation-set", "-r", "proxy:10", "--app", "--file", "-"]
    );
    assert_eq!(call.stdin, br#"{"k":"v"}"#);
}

#[test]
fn relation_set_sends_a_large_value_whole() {
    let shim = ShimTools::new();
    let big = "y".repeat(2 << 20);
    shim.tools()
        .relation_set(&rid("proxy:3"), WriteScope::Unit, &bag(&[("big", &big)]))
        .unwrap();
    let sent: Databag = serde_json::from_slice(&shim.only_call().stdin).unwrap();
    assert_eq!(sent["big"], big);
}

#[test]
fn a_tool_that_does_not_read_its_stdin_is_judged_by_its_exit_status() {
    let shim = ShimTools::new();
    shim.mode("relation-set", "ignore-stdin");
    let big = "y".repeat(2 << 20);
    shim.tools()
        .relation_set(&rid("proxy:3"), WriteScope::Unit, &bag(&[("big", &big)]))
        .unwrap();
    assert!(shim.only_call().stdin.is_empty());
}

#[test]
fn relation_ids_keeps_juju_order() {
    let shim = ShimTools::new();
    shim.answer("relation-ids", "[\"proxy:10\",\"proxy:3\"]\n");
    let ids = shim
        .tools()
        .relation_ids(&"proxy".parse().unwrap())
        .unwrap();
    assert_eq!(ids, [rid("proxy:10"), rid("proxy:3")]);
    assert_eq!(
        shim.only_call().argv,
        ["relation-ids", "--format=json", "proxy"]
    );
}

#[test]
fn relation_list_lists_the_remote_units() {
    let shim = ShimTools::new();
    shim.answer("relation-list", "[\"etcd/0\",\"etcd/10\",\"etcd/2\"]\n");
    let units = shim.tools().relation_list(&rid("proxy:3")).unwrap();
    assert_eq!(units, [unit("etcd/0"), unit("etcd/10"), unit("etcd/2")]);
    assert_eq!(
        shim.only_call().argv,
        ["relation-list", "--format=json", "-r", "proxy:3"]
    );
}

#[test]
fn empty_lists_decode_as_empty() {
    let shim = ShimTools::new();
    shim.answer("relation-list", "[]\n");
    assert!(shim
        .tools()
        .relation_list(&rid("proxy:3"))
        .unwrap()
        .is_empty());
}

#[test]
fn is_leader_reads_a_json_boolean() {
    let shim = ShimTools::new();
    shim.answer("is-leader", "true\n");
    assert!(shim.tools().is_leader().unwrap());
    shim.answer("is-leader", "false\n");
    assert!(!shim.tools().is_leader().unwrap());
    let calls = shim.calls();
    assert_eq!(calls.len(), 2);
    assert!(calls
        .iter()
        .all(|c| c.argv == ["is-leader", "--format=json"]));
}

#[test]
fn leader_get_reads_all_leader_data() {
    let shim = ShimTools::new();
    shim.answer("leader-get", r#"{"cluster-token":"abc"}"#);
    assert_eq!(
        shim.tools().leader_get().unwrap(),
        bag(&[("cluster-token", "abc")])
    );
    assert_eq!(shim.only_call().argv, ["leader-get", "--format=json", "-"]);
}

#[test]
fn leader_set_passes_pairs_and_empty_values_delete() {
    let shim = ShimTools::new();
    shim.tools()
        .leader_set(&bag(&[("b", "x=y z"), ("a", "")]))
        .unwrap();
    let call = shim.only_call();
    assert_eq!(call.argv, ["leader-set", "a=", "b=x=y z"]);
    assert!(call.stdin.is_empty());
}

#[test]
fn status_set_passes_the_message_as_one_argument() {
    let shim = ShimTools::new();
    let status = WorkloadStatus::new(StatusKind::Blocked, "missing relation: proxy (see log)");
    shim.tools().status_set(&status).unwrap();
    assert_eq!(
        shim.only_call().argv,
        ["status-set", "blocked", "missing relation: proxy (see log)"]
    );
}

#[test]
fn status_set_with_an_empty_message_still_passes_it() {
    let shim = ShimTools::new();
    shim.tools()
        .status_set(&WorkloadStatus::new(StatusKind::Active, ""))
        .unwrap();
    assert_eq!(shim.only_call().argv, ["status-set", "active", ""]);
}

#[test]
fn a_message_that_looks_like_an_option_comes_after_double_dash() {
    let shim = ShimTools::new();
    let mut tools = shim.tools();
    tools
        .status_set(&WorkloadStatus::new(StatusKind::Waiting, "-r is odd"))
        .unwrap();
    tools.juju_log(LogLevel::Debug, "--help").unwrap();
    let calls = shim.calls();
    assert_eq!(calls[0].argv, ["status-set", "waiting", "--", "-r is odd"]);
    assert_eq!(calls[1].argv, ["juju-log", "-l", "DEBUG", "--", "--help"]);
}

#[test]
fn status_get_reads_status_and_message() {
    let shim = ShimTools::new();
    shim.answer(
        "status-get",
        r#"{"message":"ready","status":"active","status-data":{}}"#,
    );
    assert_eq!(
        shim.tools().status_get().unwrap(),
        WorkloadStatus::new(StatusKind::Active, "ready")
    );
    assert_eq!(
        shim.only_call().argv,
        ["status-get", "--format=json", "--include-data"]
    );
}

#[test]
fn juju_log_passes_level_and_message_as_one_argument() {
    let shim = ShimTools::new();
    shim.tools()
        .juju_log(LogLevel::Warning, "two words\nand a line")
        .unwrap();
    assert_eq!(
        shim.only_call().argv,
        ["juju-log", "-l", "WARNING", "two words\nand a line"]
    );
}

#[test]
fn config_get_reads_typed_values() {
    let shim = ShimTools::new();
    shim.answer(
        "config-get",
        r#"{"flag":false,"name":"x","none":null,"port":2379}"#,
    );
    let config = shim.tools().config_get().unwrap();
    assert_eq!(config["port"], serde_json::json!(2379));
    assert_eq!(config["flag"], serde_json::json!(false));
    assert_eq!(config["none"], serde_json::Value::Null);
    assert_eq!(config.len(), 4);
    assert_eq!(
        shim.only_call().argv,
        ["config-get", "--format=json", "--all"]
    );
}
