//! Conformance of the Juju 3 hook tools (secrets, state, network, ports, version, goal state,
//! actions): argv → stdout, stderr, exit code. Each test names the juju/juju 3.6 source under
//! `worker/uniter/runner/jujuc/` (and `runner/context/context.go` for the rules) it follows.

use serde_json::Value;

use crate::support::Fixture;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text:?}"))
}

/// secret-add.go, secret-get.go, secret-grant.go; context.go `CreateSecret`, `GetSecret`
/// (pending content visible in the adding hook), `GrantSecret`.
#[test]
fn a_secret_is_added_read_in_its_hook_granted_and_read_by_the_other_side() {
    let mut f = Fixture::new();
    let leader = f.plain("etcd/0", "update-status");
    let id = f.begin(&leader);
    let added = f.tool_in(&id, "secret-add", &["token=s3cret", "--label", "creds"], "");
    assert_eq!((added.code, added.stderr.as_str()), (0, ""));
    let uri = added.stdout.trim_end().to_owned();
    assert!(uri.starts_with("secret:") && uri.len() == 27, "{uri}");
    f.tool_in(&id, "secret-get", &[&uri], "")
        .assert_ok("token: s3cret\n");
    f.tool_in(&id, "secret-get", &[&uri, "--format", "json"], "")
        .assert_ok("{\"token\":\"s3cret\"}\n");
    f.tool_in(&id, "secret-get", &["--label", "creds"], "")
        .assert_ok("token: s3cret\n");
    f.tool_in(&id, "secret-get", &[&uri, "token"], "")
        .assert_ok("s3cret\n");
    // As in Juju, the first argument is always the URI.
    f.tool_in(&id, "secret-get", &["--label", "creds", "token"], "")
        .assert_error(2, "secret URI \"token\" not valid");
    f.tool_in(&id, "secret-get", &[&uri, "token#base64"], "")
        .assert_ok("czNjcmV0\n");
    f.tool_in(&id, "secret-ids", &["--format", "json"], "")
        .assert_ok(&format!("[\"{uri}\"]\n"));
    let rid = format!("proxy:{}", f.relation);
    f.tool_in(&id, "secret-grant", &[&uri, "-r", &rid], "")
        .assert_ok("");
    // Nothing exists for others before the commit.
    let kube = f.kube_changed();
    // The controller's text: state/secrets.go `GetSecret` names the whole URI.
    f.tool(&kube, "secret-get", &[&uri])
        .assert_error(1, &format!("secret {uri:?} not found"));
    f.commit(&id);
    f.tool(&kube, "secret-get", &[&uri, "--format=json"])
        .assert_ok("{\"token\":\"s3cret\"}\n");
    let info = f.tool(&leader, "secret-info-get", &[&uri, "--format", "json"]);
    let info = json(&info.stdout);
    let entry = &info[uri.trim_start_matches("secret:")];
    assert_eq!(entry["revision"], 1);
    assert_eq!(entry["label"], "creds");
    assert_eq!(entry["owner"], "application");
    assert_eq!(entry["access"][0]["target"], "application-kube");
    assert_eq!(entry["access"][0]["role"], "view");
}

/// context.go `UpdateSecret` (a new revision only when the content changes), consumer
/// tracking, `--peek`, `--refresh`; the hooks that follow (secret-changed, secret-remove).
#[test]
fn consumers_keep_their_revision_until_refresh() {
    let mut f = Fixture::new();
    let leader = f.plain("etcd/0", "update-status");
    let id = f.begin(&leader);
    let uri = f.tool_in(&id, "secret-add", &["token=one"], "").stdout;
    let uri = uri.trim_end();
    let rid = format!("proxy:{}", f.relation);
    f.tool_in(&id, "secret-grant", &[uri, "--relation", &rid], "")
        .assert_ok("");
    f.commit(&id);
    let kube = f.kube_changed();
    f.tool(&kube, "secret-get", &[uri, "token"])
        .assert_ok("one\n");

    let id = f.begin(&leader);
    f.tool_in(&id, "secret-set", &[uri, "token=one"], "")
        .assert_ok("");
    assert!(
        f.commit(&id).is_empty(),
        "the same content makes no revision"
    );
    let id = f.begin(&leader);
    f.tool_in(&id, "secret-set", &[uri, "token=two"], "")
        .assert_ok("");
    let next = f.commit(&id);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].hook, "secret-changed");
    assert_eq!(next[0].unit.to_string(), "kube/0");

    f.tool(&kube, "secret-get", &[uri, "token"])
        .assert_ok("one\n");
    f.tool(&kube, "secret-get", &[uri, "token", "--peek"])
        .assert_ok("two\n");
    f.tool(&kube, "secret-get", &[uri, "token"])
        .assert_ok("one\n");
    let id = f.begin(&kube);
    f.tool_in(&id, "secret-get", &[uri, "token", "--refresh"], "")
        .assert_ok("two\n");
    let next = f.commit(&id);
    assert_eq!(next.len(), 1);
    assert_eq!(
        (next[0].unit.to_string(), next[0].hook.as_str()),
        ("etcd/0".to_owned(), "secret-remove")
    );
    assert_eq!(next[0].secret.as_ref().unwrap().revision, Some(1));
    let id = f.begin(&leader);
    f.tool_in(&id, "secret-remove", &[uri, "--revision", "1"], "")
        .assert_ok("");
    f.commit(&id);
    let info = json(
        &f.tool(&leader, "secret-info-get", &[uri, "--format=json"])
            .stdout,
    );
    assert_eq!(info[uri.trim_start_matches("secret:")]["revision"], 2);
}

/// secret-add.go and secret-get.go `Init` texts (exit 2), context.go `ErrIsNotLeader`
/// (exit 1); the controller's refusals of `secret-get`
/// (apiserver/facades/agent/secretsmanager/secrets.go `getSecretContent`: `consumer label
/// "L" not found`; state/secrets.go `GetSecret`: `secret "secret:<id>" not found`), and
/// secret-info-get.go `Run` (`secret "<id or label>" not found`).
#[test]
fn secret_tools_refuse_with_juju_texts() {
    let mut f = Fixture::new();
    let leader = f.plain("etcd/0", "update-status");
    let other = f.plain("etcd/1", "update-status");
    f.tool(&other, "secret-add", &["token=x"])
        .assert_error(1, "this unit is not the leader");
    let own = f.tool(&other, "secret-add", &["--owner", "unit", "token=x"]);
    assert_eq!(own.code, 0, "{}", own.stderr);
    for (args, text) in [
        (&[][..], "missing secret value or filename"),
        (&["s3cret"][..], "key value \"s3cret\" not valid"),
        (&["key="][..], "key value \"key=\" not valid"),
        (&["BAD=x"][..], "key \"BAD\" not valid"),
        (
            &["foo=bar", "--owner", "foo"][..],
            "secret owner \"foo\" not valid",
        ),
        (
            &["foo=bar", "--rotate", "foo"][..],
            "rotate policy \"foo\" not valid",
        ),
        (
            &["foo=bar", "--expire", "-1h"][..],
            "negative expire duration \"-1h\" not valid",
        ),
        (
            &["foo=bar", "--expire", "2022-01-01"][..],
            "expire time or duration \"2022-01-01\" not valid",
        ),
    ] {
        f.tool(&leader, "secret-add", args).assert_error(2, text);
    }
    f.tool(&leader, "secret-get", &[])
        .assert_error(2, "require either a secret URI or label");
    f.tool(&leader, "secret-get", &["foo"])
        .assert_error(2, "secret URI \"foo\" not valid");
    f.tool(
        &leader,
        "secret-get",
        &["secret:9m4e2mr0ui3e8a215n4g", "--peek", "--refresh"],
    )
    .assert_error(2, "specify one of --peek or --refresh but not both");
    f.tool(
        &leader,
        "secret-get",
        &["secret:9m4e2mr0ui3e8a215n4g", "--format", "smart"],
    )
    .assert_error(
        2,
        "invalid value \"smart\" for option --format: unknown format \"smart\"",
    );
    f.tool(&leader, "secret-get", &["secret:9m4e2mr0ui3e8a215n4g"])
        .assert_error(1, "secret \"secret:9m4e2mr0ui3e8a215n4g\" not found");
    f.tool(&leader, "secret-get", &["--label", "nope"])
        .assert_error(1, "consumer label \"nope\" not found");
    f.tool(&leader, "secret-info-get", &["secret:9m4e2mr0ui3e8a215n4g"])
        .assert_error(1, "secret \"9m4e2mr0ui3e8a215n4g\" not found");
    f.tool(&leader, "secret-info-get", &["--label", "nope"])
        .assert_error(1, "secret \"nope\" not found");
    // context.go `UpdateSecret` stages a secret it does not know: the tool succeeds, the
    // controller refuses it at commit (see cli.rs, a consumer's secret-set).
    f.tool(
        &leader,
        "secret-set",
        &["secret:9m4e2mr0ui3e8a215n4g", "token=b"],
    )
    .assert_ok("");
    let id = f.begin(&leader);
    f.tool_in(
        &id,
        "secret-set",
        &["secret:9m4e2mr0ui3e8a215n4g", "token=b"],
        "",
    )
    .assert_ok("");
    let context = f.store().load_context(&id).unwrap().unwrap();
    assert_eq!(
        f.model()
            .commit_refusal(&context.invocation.unit, &context.pending)
            .map(|r| r.message),
        Some("secret \"secret:9m4e2mr0ui3e8a215n4g\" not found".to_owned())
    );
    f.tool(
        &leader,
        "secret-grant",
        &[
            "secret:9m4e2mr0ui3e8a215n4g",
            "-r",
            &format!("proxy:{}", f.relation),
        ],
    )
    .assert_error(1, "secret \"9m4e2mr0ui3e8a215n4g\" not found");
    f.tool(&leader, "secret-info-get", &[])
        .assert_error(2, "require either a secret URI or label");
    f.tool(
        &leader,
        "secret-info-get",
        &["secret:9m4e2mr0ui3e8a215n4g", "--label", "x"],
    )
    .assert_error(2, "specify either a secret URI or label but not both");
    f.tool(&leader, "secret-grant", &[])
        .assert_error(2, "missing secret URI");
    f.tool(&leader, "secret-grant", &["secret:9m4e2mr0ui3e8a215n4g"])
        .assert_error(2, "no relation id specified");
    f.tool(&leader, "secret-remove", &[])
        .assert_error(2, "missing secret URI");
}

/// `#file` and `#base64` content (core/secrets/createsecret.go `CreateSecretData`).
#[test]
fn secret_content_comes_from_files_and_base64() {
    let mut f = Fixture::new();
    let leader = f.plain("etcd/0", "update-status");
    let path = f.path().join("key.pem");
    std::fs::write(&path, "-----BEGIN-----\nabc\n").unwrap();
    let id = f.begin(&leader);
    let file_arg = format!("client-key#file={}", path.display());
    let uri = f
        .tool_in(
            &id,
            "secret-add",
            &[&file_arg, "token#base64=czNjcmV0IQ=="],
            "",
        )
        .stdout;
    let got = f.tool_in(&id, "secret-get", &[uri.trim_end(), "--format=json"], "");
    assert_eq!(
        json(&got.stdout),
        serde_json::json!({"client-key": "-----BEGIN-----\nabc\n", "token": "s3cret!"})
    );
}

/// state-get.go, state-set.go, state-delete.go; context.go charm state committed in
/// `doFlush`; `--strict` of a missing key is context.go `GetCharmStateValue`'s
/// `NotFoundf("%q", key)`.
#[test]
fn state_is_read_back_in_the_hook_and_kept_only_when_committed() {
    let mut f = Fixture::new();
    let unit = f.plain("kube/0", "update-status");
    let id = f.begin(&unit);
    f.tool_in(&id, "state-set", &["a=1", "b=two words"], "")
        .assert_ok("");
    f.tool_in(
        &id,
        "state-set",
        &["--file", "-"],
        "c: |\n  multi\n  line\n",
    )
    .assert_ok("");
    f.tool_in(&id, "state-get", &["a"], "").assert_ok("1\n");
    f.tool_in(&id, "state-get", &["--format=json"], "")
        .assert_ok("{\"a\":\"1\",\"b\":\"two words\",\"c\":\"multi\\nline\\n\"}\n");
    // Another hook does not see it before the commit.
    f.tool(&unit, "state-get", &["a"]).assert_ok("");
    f.commit(&id);
    f.tool(&unit, "state-get", &["a"]).assert_ok("1\n");
    f.tool(&unit, "state-get", &["missing"]).assert_ok("");
    f.tool(&unit, "state-get", &["missing", "--strict"])
        .assert_error(1, "\"missing\" not found");
    let id = f.begin(&unit);
    f.tool_in(&id, "state-delete", &["a"], "").assert_ok("");
    f.tool_in(&id, "state-get", &["a"], "").assert_ok("");
    f.tool_in(&id, "state-delete", &[], "")
        .assert_error(2, "no key specified");
    f.tool_in(&id, "state-set", &["novalue"], "")
        .assert_error(2, "expected \"key=value\", got \"novalue\"");
}

/// unit-get.go, network-get.go (`Init`, `Run`): every unit on a loopback address of its own.
#[test]
fn addresses_are_loopback_and_match_the_relation_bags() {
    let mut f = Fixture::new();
    let unit = f.plain("kube/0", "update-status");
    let bag = f.model().relations[&f.relation].unit_bags[&"kube/0".parse().unwrap()].clone();
    let address = bag["ingress-address"].clone();
    assert!(address.starts_with("127."), "{address}");
    f.tool(&unit, "unit-get", &["private-address"])
        .assert_ok(&format!("{address}\n"));
    f.tool(&unit, "unit-get", &["public-address", "--format=json"])
        .assert_ok(&format!("\"{address}\"\n"));
    f.tool(&unit, "unit-get", &[])
        .assert_error(2, "no setting specified");
    f.tool(&unit, "unit-get", &["foo"])
        .assert_error(2, "unknown setting \"foo\"");

    let full = json(
        &f.tool(&unit, "network-get", &["proxy", "--format=json"])
            .stdout,
    );
    assert_eq!(full["ingress-addresses"][0], address.as_str());
    assert_eq!(full["egress-subnets"][0], format!("{address}/32"));
    assert_eq!(
        full["bind-addresses"][0]["addresses"][0]["value"],
        address.as_str()
    );
    assert!(
        full["bind-addresses"][0].get("macaddress").is_none(),
        "YAML-only key"
    );
    let yaml = f.tool(&unit, "network-get", &["proxy"]).stdout;
    assert!(yaml.contains("interfacename: lo"), "{yaml}");
    f.tool(&unit, "network-get", &["proxy", "--ingress-address"])
        .assert_ok(&format!("{address}\n"));
    let two = json(
        &f.tool(
            &unit,
            "network-get",
            &[
                "proxy",
                "--bind-address",
                "--egress-subnets",
                "--format=json",
            ],
        )
        .stdout,
    );
    assert_eq!(two["bind-address"], address.as_str());
    assert_eq!(two["egress-subnets"][0], format!("{address}/32"));
    f.tool(&unit, "network-get", &[])
        .assert_error(2, "no arguments specified");
    f.tool(&unit, "network-get", &[""])
        .assert_error(2, "no binding name specified");
    // network-get.go `Run`: a binding the charm lacks comes back with no info, which is
    // checked before the facade's error.
    f.tool(&unit, "network-get", &["nope"])
        .assert_error(1, "no network config found for binding \"nope\"");
}

/// ports.go, opened-ports.go: staged with the hook; range errors are core/network/portrange.go
/// `ParsePortRange` texts (exit 2, from `Init`).
#[test]
fn ports_open_and_close_with_the_hook() {
    let mut f = Fixture::new();
    let unit = f.plain("kube/0", "update-status");
    let id = f.begin(&unit);
    f.tool_in(&id, "open-port", &["80"], "").assert_ok("");
    f.tool_in(&id, "open-port", &["1000-2000/udp"], "")
        .assert_ok("");
    f.tool_in(&id, "open-port", &["icmp"], "").assert_ok("");
    f.tool_in(&id, "opened-ports", &[], "")
        .assert_ok("icmp\n80/tcp\n1000-2000/udp\n");
    f.tool_in(&id, "open-port", &[], "")
        .assert_error(2, "no port or range specified");
    f.tool_in(&id, "open-port", &["http"], "").assert_error(
        2,
        "invalid port \"http\": strconv.Atoi: parsing \"http\": invalid syntax",
    );
    f.tool(&unit, "opened-ports", &[]).assert_ok("");
    f.commit(&id);
    f.tool(&unit, "opened-ports", &["--endpoints"])
        .assert_ok("icmp (*)\n80/tcp (*)\n1000-2000/udp (*)\n");
    let id = f.begin(&unit);
    f.tool_in(&id, "close-port", &["80/tcp"], "").assert_ok("");
    f.commit(&id);
    f.tool(&unit, "opened-ports", &["--format=json"])
        .assert_ok("[\"icmp\",\"1000-2000/udp\"]\n");
}

/// application-version-set.go (`Init`: one argument, `cmd.CheckEmpty`; immediate),
/// goal-state.go, relation-model-get.go.
#[test]
fn version_goal_state_and_relation_model() {
    let mut f = Fixture::new();
    let unit = f.plain("kube/0", "update-status");
    f.tool(&unit, "application-version-set", &["3.5.17"])
        .assert_ok("");
    let model = f.model();
    assert_eq!(
        model
            .unit(&"kube/0".parse().unwrap())
            .unwrap()
            .workload_version,
        "3.5.17"
    );
    f.tool(&unit, "application-version-set", &[])
        .assert_error(2, "no version specified");
    f.tool(&unit, "application-version-set", &["1", "2"])
        .assert_error(2, "unrecognized args: [\"2\"]");
    f.tool(&unit, "goal-state", &["--format", "smart"])
        .assert_error(
            2,
            "invalid value \"smart\" for option --format: unknown format \"smart\"",
        );
    f.tool(&unit, "goal-state", &["extra"])
        .assert_error(2, "unrecognized args: [\"extra\"]");
    // YAML by default (goal-state.go `SetFlags`).
    let yaml = f.tool(&unit, "goal-state", &[]).stdout;
    assert!(yaml.contains("\nunits:\n  kube/0:\n"), "{yaml}");
    let goal = json(&f.tool(&unit, "goal-state", &["--format=json"]).stdout);
    // `since` as cmd/juju/common `FormatTime(t, true)`: `2006-01-02 15:04:05Z`.
    let since = goal["units"]["kube/0"]["since"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        (since.len(), &since[10..11], &since[19..]),
        (20, " ", "Z"),
        "{since}"
    );
    assert_eq!(goal["units"]["kube/0"]["status"], "active");
    assert_eq!(goal["relations"]["proxy"]["etcd"]["status"], "joined");
    assert_eq!(goal["relations"]["proxy"]["etcd/1"]["status"], "active");
    let rid = format!("proxy:{}", f.relation);
    let remote = json(
        &f.tool(&unit, "relation-model-get", &["-r", &rid, "--format=json"])
            .stdout,
    );
    assert_eq!(remote["uuid"].as_str().map(str::len), Some(36));
}

/// action-*.go; context.go `ActionParams`: outside an action every action tool fails.
#[test]
fn action_tools_outside_an_action_fail() {
    let mut f = Fixture::new();
    let unit = f.plain("kube/0", "update-status");
    for (tool, args) in [
        ("action-get", &[][..]),
        ("action-set", &["a=b"][..]),
        ("action-fail", &["why"][..]),
        ("action-log", &["hello"][..]),
    ] {
        f.tool(&unit, tool, args)
            .assert_error(1, "not running an action");
    }
    f.tool(&unit, "action-set", &["Bad=x"]).assert_error(
        2,
        "key \"Bad\" must start and end with lowercase alphanumeric, and contain only \
         lowercase alphanumeric, hyphens and periods",
    );
    f.tool(&unit, "action-set", &["novalue"])
        .assert_error(2, "argument \"novalue\" must be of the form key...=value");
    f.tool(&unit, "action-log", &[])
        .assert_error(2, "no message specified");
}

/// `worker/uniter/relation/resolver.go`: relations are tracked once the charm is installed,
/// so an `install` hook sees none.
#[test]
fn install_sees_no_relation() {
    let mut f = Fixture::new();
    let install = f.plain("kube/0", "install");
    f.tool(&install, "relation-ids", &["proxy"]).assert_ok("");
    let rid = format!("proxy:{}", f.relation);
    f.tool(&install, "relation-list", &["-r", &rid])
        .assert_error(
            2,
            &format!("invalid value \"{rid}\" for option -r: relation not found"),
        );
    let later = f.plain("kube/0", "update-status");
    f.tool(&later, "relation-ids", &["proxy"])
        .assert_ok(&format!("{rid}\n"));
}
