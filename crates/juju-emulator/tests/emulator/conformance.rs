//! Conformance of the hook tools with `research/juju-hook-tools.md` (§1.2, §2, §3, §4, §4.17):
//! output bytes, exit codes and error texts, called in-process through `tool_main`.

use juju_emulator::store::CallRecord;
use juju_emulator::{HOOK_TOOLS, UNSUPPORTED_TOOLS};
use juju_hooks::testing::HookInvocation;

use crate::support::Fixture;

#[test]
fn relation_get_formats_a_key_and_a_whole_bag() {
    let mut f = Fixture::new();
    let hook = f.kube_changed();
    let cluster = "etcd0=https://10.0.0.1:2380";
    f.tool(&hook, "relation-get", &["cluster"])
        .assert_ok(&format!("{cluster}\n"));
    f.tool(&hook, "relation-get", &["cluster", "--format", "yaml"])
        .assert_ok(&format!("{cluster}\n"));
    f.tool(
        &hook,
        "relation-get",
        &["--format=json", "cluster", "etcd/0"],
    )
    .assert_ok(&format!("\"{cluster}\"\n"));
    // A value ending in a newline gets a second one in smart format (§2 worked example).
    f.tool(&hook, "relation-get", &["pem"])
        .assert_ok("line1\nline2\n\n");
    // A number-like string is bare alone, quoted inside the YAML map.
    f.tool(&hook, "relation-get", &["port"])
        .assert_ok("12345\n");
    let all = f.tool(&hook, "relation-get", &[]);
    assert_eq!(all.code, 0);
    assert!(all.stdout.contains("port: \"12345\"\n"), "{}", all.stdout);
    assert!(
        all.stdout.contains("pem: |\n  line1\n  line2\n"),
        "{}",
        all.stdout
    );
    let json = f.tool(&hook, "relation-get", &["--format=json", "-"]);
    let bag = f.model().relations[&f.relation].unit_bags[&"etcd/0".parse().unwrap()].clone();
    // Compact, keys sorted (a BTreeMap serializes in key order).
    json.assert_ok(&format!("{}\n", serde_json::to_string(&bag).unwrap()));
    assert!(
        bag.contains_key("private-address"),
        "seeded by Juju on entering scope"
    );
}

#[test]
fn a_missing_key_prints_nothing_except_null_in_json() {
    let mut f = Fixture::new();
    let hook = f.kube_changed();
    f.tool(&hook, "relation-get", &["nope"]).assert_ok("");
    f.tool(&hook, "relation-get", &["nope", "--format", "yaml"])
        .assert_ok("");
    f.tool(&hook, "relation-get", &["nope", "--format", "json"])
        .assert_ok("null\n");
    f.tool(&hook, "leader-get", &["nope", "--format=json"])
        .assert_ok("null\n");
    f.tool(&hook, "config-get", &["nope"]).assert_ok("");
    f.tool(&hook, "config-get", &["nope", "--format=json"])
        .assert_ok("null\n");
}

#[test]
fn the_relation_option_ignores_everything_up_to_the_last_colon() {
    let mut f = Fixture::new();
    let update = f.plain("kube/0", "update-status");
    let n = f.relation.to_string();
    for r in [n.clone(), format!("proxy:{n}"), format!("any:thing:{n}")] {
        f.tool(&update, "relation-get", &["-r", &r, "port", "etcd/0"])
            .assert_ok("12345\n");
    }
    f.tool(
        &update,
        "relation-get",
        &[&format!("-r{n}"), "port", "etcd/0"],
    )
    .assert_ok("12345\n");
    f.tool(&update, "relation-get", &["-r", "one", "port", "etcd/0"])
        .assert_error(
            2,
            "invalid value \"one\" for option -r: invalid relation id",
        );
    f.tool(&update, "relation-list", &["-r", "burble:123"])
        .assert_error(
            2,
            "invalid value \"burble:123\" for option -r: relation not found",
        );
    f.tool(&update, "relation-list", &["-r"])
        .assert_error(2, "option needs an argument: -r");
    f.tool(&update, "relation-get", &["port", "etcd/0"])
        .assert_error(2, "no relation id specified");
    f.tool(&update, "relation-list", &[])
        .assert_error(2, "no relation id specified");
    f.tool(&update, "relation-set", &["a=b"])
        .assert_error(2, "no relation id specified");
}

#[test]
fn relation_get_resolves_the_unit_as_juju_does() {
    let mut f = Fixture::new();
    let hook = f.kube_changed();
    f.tool(&hook, "relation-get", &["port", "etcd"])
        .assert_error(2, "expected unit name, got application name \"etcd\"");
    f.tool(&hook, "relation-get", &["port", "unit//0"])
        .assert_error(2, "invalid unit name \"unit//0\"");
    f.tool(&hook, "relation-get", &["port", "etcd/0", "a", "b"])
        .assert_error(2, "unrecognized args: [\"a\" \"b\"]");
    f.tool(&hook, "relation-get", &["port", "other/0"])
        .assert_error(1, "permission denied");
    // --app with a unit name reads that unit's application bag (empty here).
    f.tool(&hook, "relation-get", &["--app", "-", "etcd/0"])
        .assert_ok("{}\n");
    // In -broken there is no remote unit: the remote application bag is read.
    let n = f.relation;
    let broken = HookInvocation::broken(
        "kube/0".parse().unwrap(),
        format!("proxy:{n}").parse().unwrap(),
        "etcd".parse().unwrap(),
    );
    f.tool(&broken, "relation-get", &["--format=json"])
        .assert_ok("{}\n");
    let update = f.plain("kube/0", "update-status");
    f.tool(&update, "relation-get", &["-r", &n.to_string(), "port"])
        .assert_error(2, "no unit or application specified");
}

#[test]
fn relation_ids_and_relation_list_print_sorted_lists() {
    let mut f = Fixture::new();
    let n = f.relation;
    let hook = f.kube_changed();
    let update = f.plain("kube/0", "update-status");
    f.tool(&hook, "relation-ids", &[])
        .assert_ok(&format!("proxy:{n}\n"));
    f.tool(&update, "relation-ids", &["proxy", "--format=json"])
        .assert_ok(&format!("[\"proxy:{n}\"]\n"));
    f.tool(&update, "relation-ids", &["nothing-here"])
        .assert_ok("");
    f.tool(&update, "relation-ids", &["nothing-here", "--format=json"])
        .assert_ok("[]\n");
    f.tool(
        &update,
        "relation-ids",
        &["--format", "yaml", "nothing-here"],
    )
    .assert_ok("[]\n");
    f.tool(&update, "relation-ids", &[])
        .assert_error(2, "no endpoint name specified");
    f.tool(&update, "relation-ids", &["proxy", "extra"])
        .assert_error(2, "unrecognized args: [\"extra\"]");
    f.tool(&hook, "relation-list", &[])
        .assert_ok("etcd/0\netcd/1\n");
    f.tool(&hook, "relation-list", &["--format", "json"])
        .assert_ok("[\"etcd/0\",\"etcd/1\"]\n");
    f.tool(&hook, "relation-list", &["--format", "yaml"])
        .assert_ok("- etcd/0\n- etcd/1\n");
    f.tool(&hook, "relation-list", &["--app"])
        .assert_ok("etcd\n");
    f.tool(&hook, "relation-list", &["x"])
        .assert_error(2, "unrecognized args: [\"x\"]");
}

#[test]
fn relation_set_stages_writes_visible_only_to_the_writer() {
    let mut f = Fixture::new();
    let hook = f.kube_changed();
    let id = f.begin(&hook);
    f.tool_in(
        &id,
        "relation-set",
        &["foo=bar=baz", "port=", "colon=foo: bar"],
        "",
    )
    .assert_ok("");
    f.tool_in(
        &id,
        "relation-set",
        &["--file", "-"],
        r#"{"json": "<v>", "colon": null}"#,
    )
    .assert_ok("");
    let own = f.tool_in(&id, "relation-get", &["--format=json", "-", "kube/0"], "");
    assert_eq!(own.code, 0);
    assert!(own.stdout.contains("\"foo\":\"bar=baz\""), "{}", own.stdout);
    assert!(
        own.stdout.contains("\"json\":\"\\u003cv\\u003e\""),
        "{}",
        own.stdout
    );
    assert!(
        !own.stdout.contains("colon"),
        "null deletes: {}",
        own.stdout
    );
    // Nothing reached the model: the writes wait for the hook to exit 0.
    let model = f.model();
    let bag = &model.relations[&f.relation].unit_bags[&"kube/0".parse().unwrap()];
    assert!(!bag.contains_key("foo"));
    let pending = f.store().load_context(&id).unwrap().unwrap().pending;
    assert_eq!(pending.unit_writes[&f.relation]["foo"], "bar=baz");

    let yaml = f.path().join("settings.yaml");
    std::fs::write(&yaml, "a: '1'\nb: two\n").unwrap();
    f.tool_in(
        &id,
        "relation-set",
        &["--file", yaml.to_str().unwrap(), "b=three"],
        "",
    )
    .assert_ok("");
    let pending = f.store().load_context(&id).unwrap().unwrap().pending;
    assert_eq!(pending.unit_writes[&f.relation]["a"], "1");
    assert_eq!(
        pending.unit_writes[&f.relation]["b"], "three",
        "pairs override the file"
    );
}

#[test]
fn relation_set_refuses_bad_pairs_files_and_non_leader_app_writes() {
    let mut f = Fixture::new();
    let hook = f.kube_changed();
    f.tool(&hook, "relation-set", &["haha"])
        .assert_error(2, "expected \"key=value\", got \"haha\"");
    f.tool(&hook, "relation-set", &["=haha"])
        .assert_error(2, "expected \"key=value\", got \"=haha\"");
    f.tool(&hook, "relation-set", &["foo=1", "foo=2"])
        .assert_error(2, "key \"foo\" specified more than once");
    let id = f.begin(&hook);
    f.tool_in(&id, "relation-set", &["--file", "-"], "haha")
        .assert_error(
        1,
        "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `haha` into map[string]string",
    );
    // Zero pairs and no file is fine.
    f.tool(&hook, "relation-set", &[]).assert_ok("");
    let n = f.relation;
    let etcd1 = HookInvocation::new("etcd/1".parse().unwrap(), "update-status");
    f.tool(
        &etcd1,
        "relation-set",
        &["-r", &n.to_string(), "--app", "a=b"],
    )
    .assert_error(1, "cannot write relation settings");
    let etcd0 = HookInvocation::new("etcd/0".parse().unwrap(), "update-status");
    f.tool(
        &etcd0,
        "relation-set",
        &["-r", &n.to_string(), "--app", "a=b"],
    )
    .assert_ok("");
    // --format is deprecated: a note on stderr without a newline, and success.
    let run = f.tool(&hook, "relation-set", &["--format", "json", "a=b"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            0,
            "",
            "--format flag deprecated for command \"relation-set\""
        )
    );
}

fn supported() -> impl Iterator<Item = &'static str> {
    HOOK_TOOLS
        .into_iter()
        .filter(|t| !UNSUPPORTED_TOOLS.contains(t))
}

/// Every tool of Juju 3.6's `worker/uniter/runner/jujuc/commands.go` exists; the ones that need
/// a cloud, storage, resources or Kubernetes fail with one line, exit 1, whatever the args.
#[test]
fn unsupported_tools_exist_and_fail_in_one_line() {
    let mut f = Fixture::new();
    let hook = f.kube_changed();
    assert_eq!(HOOK_TOOLS.len(), 50);
    for tool in UNSUPPORTED_TOOLS {
        assert!(HOOK_TOOLS.contains(&tool), "{tool}");
        for args in [&[][..], &["--help"][..], &["x", "--y"][..]] {
            f.tool(&hook, tool, args)
                .assert_error(1, &format!("{tool} is not supported by juju-emulator"));
        }
    }
}

#[test]
fn help_goes_to_stdout_with_exit_zero_and_relation_set_mentions_file() {
    let mut f = Fixture::new();
    let hook = f.kube_changed();
    for tool in supported() {
        for flag in ["--help", "-h"] {
            let run = f.tool(&hook, tool, &[flag]);
            assert_eq!(run.code, 0, "{tool} {flag}");
            assert!(
                run.stdout.starts_with(&format!("Usage: {tool}")),
                "{tool}: {}",
                run.stdout
            );
            assert!(run.stderr.is_empty());
        }
    }
    assert!(f
        .tool(&hook, "relation-set", &["--help"])
        .stdout
        .contains("--file"));
}

#[test]
fn option_errors_are_usage_errors_with_gnuflag_texts() {
    let mut f = Fixture::new();
    let hook = f.kube_changed();
    for tool in supported() {
        f.tool(&hook, tool, &["--foo"])
            .assert_error(2, "option provided but not defined: --foo");
    }
    f.tool(&hook, "is-leader", &["-x"])
        .assert_error(2, "option provided but not defined: -x");
    f.tool(&hook, "is-leader", &["--format", "bad"])
        .assert_error(
            2,
            "invalid value \"bad\" for option --format: unknown format \"bad\"",
        );
    f.tool(&hook, "is-leader", &["blah"])
        .assert_error(2, "unrecognized args: [\"blah\"]");
}

#[test]
fn leadership_tools() {
    let mut f = Fixture::new();
    let leader = f.plain("etcd/0", "update-status");
    let follower = f.plain("etcd/1", "update-status");
    f.tool(&leader, "is-leader", &[]).assert_ok("True\n");
    f.tool(&follower, "is-leader", &[]).assert_ok("False\n");
    f.tool(&leader, "is-leader", &["--format=json"])
        .assert_ok("true\n");
    f.tool(&follower, "is-leader", &["--format", "yaml"])
        .assert_ok("false\n");
    f.tool(&follower, "leader-get", &["token"])
        .assert_ok("s3cret\n");
    f.tool(&follower, "leader-get", &["--format=json"])
        .assert_ok("{\"token\":\"s3cret\"}\n");
    f.tool(&follower, "leader-get", &["x=x"])
        .assert_error(2, "invalid key \"x=x\"");
    f.tool(&follower, "leader-set", &["a=b"]).assert_error(
        1,
        "cannot write leadership settings: cannot write settings: not the leader",
    );
    f.tool(&follower, "leader-set", &[]).assert_error(
        1,
        "cannot write leadership settings: cannot write settings: not the leader",
    );
    f.tool(&leader, "leader-set", &["a=b", "token="])
        .assert_ok("");
    // Immediate, and the other unit is told.
    let model = f.model();
    let data = &model.applications[&"etcd".parse().unwrap()].leader_data;
    assert_eq!(data.get("a").map(String::as_str), Some("b"));
    assert!(!data.contains_key("token"));
    let queue = f.store().load_state().unwrap().queue;
    assert_eq!(
        queue
            .iter()
            .map(|h| (h.unit.to_string(), h.hook.as_str()))
            .collect::<Vec<_>>(),
        [("etcd/1".to_owned(), "leader-settings-changed")]
    );
}

#[test]
fn status_and_log_tools() {
    let mut f = Fixture::new();
    let hook = f.kube_changed();
    f.tool(&hook, "status-get", &[]).assert_ok("unknown\n");
    f.tool(&hook, "status-set", &[])
        .assert_error(2, "invalid args, require <status> [message]");
    f.tool(&hook, "status-set", &["foo"]).assert_error(
        2,
        "invalid status \"foo\", expected one of [maintenance blocked waiting active]",
    );
    f.tool(&hook, "status-set", &["active", "ready", "extra"])
        .assert_error(2, "unrecognized args: [\"extra\"]");
    f.tool(&hook, "status-set", &["active", "all good"])
        .assert_ok("");
    f.tool(&hook, "status-get", &[]).assert_ok("active\n");
    f.tool(&hook, "status-get", &["--format=json"])
        .assert_ok("{\"status\":\"active\"}\n");
    f.tool(&hook, "status-get", &["--format=json", "--include-data"])
        .assert_ok("{\"message\":\"all good\",\"status\":\"active\",\"status-data\":{}}\n");
    let follower = f.plain("etcd/1", "update-status");
    f.tool(&follower, "status-set", &["--application", "active"])
        .assert_error(1, "this unit is not the leader");
    f.tool(&follower, "status-get", &["--application"])
        .assert_error(1, "finding application status: this unit is not the leader");
    let leader = f.plain("etcd/0", "update-status");
    f.tool(
        &leader,
        "status-set",
        &["--application", "blocked", "need x"],
    )
    .assert_ok("");
    let app = f.tool(&leader, "status-get", &["--application", "--format=json"]);
    assert_eq!(app.code, 0);
    assert!(
        app.stdout
            .starts_with("{\"application-status\":{\"message\":\"need x\",\"status\":\"blocked\""),
        "{}",
        app.stdout
    );

    f.tool(&hook, "juju-log", &[])
        .assert_error(2, "no message specified");
    f.tool(&hook, "juju-log", &["-l"])
        .assert_error(2, "option needs an argument: -l");
    f.tool(&hook, "juju-log", &["-l", "WARNING", "two", "words"])
        .assert_ok("");
    f.tool(
        &hook,
        "juju-log",
        &["--log-level", "bogus", "still", "logged"],
    )
    .assert_ok("");
    let model = f.model();
    let logs = &model.unit(&"kube/0".parse().unwrap()).unwrap().logs;
    let n = f.relation;
    let texts: Vec<(&str, &str)> = logs
        .iter()
        .map(|l| (l.level.as_str(), l.message.as_str()))
        .collect();
    let (first, second) = (
        format!("proxy:{n}: two words"),
        format!("proxy:{n}: still logged"),
    );
    assert_eq!(
        texts,
        [("WARNING", first.as_str()), ("INFO", second.as_str())]
    );
}

#[test]
fn config_get_prints_typed_values() {
    let mut f = Fixture::new();
    let hook = f.plain("etcd/1", "config-changed");
    f.tool(&hook, "config-get", &["debug"]).assert_ok("False\n");
    f.tool(&hook, "config-get", &["debug", "--format", "yaml"])
        .assert_ok("false\n");
    f.tool(&hook, "config-get", &["debug", "--format", "json"])
        .assert_ok("false\n");
    for format in ["smart", "yaml", "json"] {
        f.tool(&hook, "config-get", &["port", "--format", format])
            .assert_ok("45\n");
    }
    f.tool(&hook, "config-get", &["--format=json"])
        .assert_ok("{\"debug\":false,\"name\":\"x\",\"port\":45}\n");
    f.tool(&hook, "config-get", &["--format=json", "--all"])
        .assert_ok("{\"debug\":false,\"name\":\"x\",\"port\":45,\"unset\":null}\n");
    f.tool(&hook, "config-get", &["-a", "monsters"])
        .assert_error(
            2,
            "cannot use argument --all together with key \"monsters\"",
        );
    f.tool(&hook, "config-get", &["two", "keys"])
        .assert_error(2, "unrecognized args: [\"keys\"]");
}

#[test]
fn output_option_writes_the_answer_to_a_file() {
    let mut f = Fixture::new();
    let hook = f.kube_changed();
    let target = f.path().join("out.txt");
    f.tool(
        &hook,
        "relation-get",
        &["-o", target.to_str().unwrap(), "port"],
    )
    .assert_ok("");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "12345\n");
    f.tool(
        &hook,
        "is-leader",
        &["--output", target.to_str().unwrap(), "--format=json"],
    )
    .assert_ok("");
    // kube/0 is the only unit of kube, so its leader.
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "true\n");
}

#[test]
fn every_call_is_logged_with_its_exit_code() {
    let mut f = Fixture::new();
    let hook = f.kube_changed();
    let id = f.begin(&hook);
    f.tool_in(&id, "is-leader", &[], "");
    f.tool_in(&id, "relation-get", &["-r", "x"], "");
    let calls: Vec<CallRecord> = f.store().read_lines(&f.store().calls_path()).unwrap();
    let seen: Vec<(&str, i32, Option<&str>)> = calls
        .iter()
        .map(|c| (c.tool.as_str(), c.exit_code, c.context_id.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            ("is-leader", 0, Some(id.as_str())),
            ("relation-get", 2, Some(id.as_str()))
        ]
    );
    assert_eq!(calls[1].argv, ["-r", "x"]);
    assert_eq!(calls[0].unit.as_deref(), Some("kube/0"));
    assert_eq!(calls[0].hook.as_deref(), Some("proxy-relation-changed"));
}

#[test]
fn tools_refuse_to_run_outside_a_hook() {
    let f = Fixture::new();
    let run = f.tool_in("", "relation-ids", &["proxy"], "");
    run.assert_error(1, "JUJU_CONTEXT_ID not set");
    let run = f.tool_in("kube/0-install-dead", "relation-ids", &["proxy"], "");
    run.assert_error(
        1,
        "bad request: wrong context ID; got \"kube/0-install-dead\"",
    );
}
