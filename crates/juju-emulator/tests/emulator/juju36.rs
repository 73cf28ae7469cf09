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
    // secret-ids.go `SetFlags`: Juju's default formatters, `smart` (one id a line) first.
    f.tool_in(&id, "secret-ids", &[], "")
        .assert_ok(&format!("{uri}\n"));
    f.tool_in(&id, "secret-ids", &["--format", "smart"], "")
        .assert_ok(&format!("{uri}\n"));
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
    assert_eq!(
        f.commit_refusal(&id),
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

    // network-get.go `resultToDisplay`: the `*Display` structs in field order; YAML (and
    // smart, which prints a struct as YAML) adds the legacy `address`, `macaddress` and
    // `interfacename` copies after the other fields (network-get_test.go `TestNetworkGet`).
    let yaml = format!(
        "bind-addresses:\n\
         - mac-address: \"\"\n  interface-name: lo\n  addresses:\n\
         \x20 - hostname: \"\"\n    value: {address}\n    cidr: {address}/32\n    address: {address}\n\
         \x20 macaddress: \"\"\n  interfacename: lo\n\
         egress-subnets:\n- {address}/32\n\
         ingress-addresses:\n- {address}\n"
    );
    f.tool(&unit, "network-get", &["proxy"]).assert_ok(&yaml);
    f.tool(&unit, "network-get", &["proxy", "--format", "yaml"])
        .assert_ok(&yaml);
    f.tool(&unit, "network-get", &["proxy", "--format=json"])
        .assert_ok(&format!(
            "{{\"bind-addresses\":[{{\"mac-address\":\"\",\"interface-name\":\"lo\",\
             \"addresses\":[{{\"hostname\":\"\",\"value\":\"{address}\",\"cidr\":\"{address}/32\"}}]}}],\
             \"egress-subnets\":[\"{address}/32\"],\"ingress-addresses\":[\"{address}\"]}}\n"
        ));
    // One flag: that value alone (smart prints a list one item per line).
    f.tool(&unit, "network-get", &["proxy", "--ingress-address"])
        .assert_ok(&format!("{address}\n"));
    f.tool(&unit, "network-get", &["proxy", "--bind-address"])
        .assert_ok(&format!("{address}\n"));
    f.tool(&unit, "network-get", &["proxy", "--egress-subnets"])
        .assert_ok(&format!("{address}/32\n"));
    f.tool(
        &unit,
        "network-get",
        &["proxy", "--egress-subnets", "--format=json"],
    )
    .assert_ok(&format!("[\"{address}/32\"]\n"));
    f.tool(&unit, "network-get", &["proxy", "--primary-address"])
        .assert_ok(&format!("{address}\n"));
    f.tool(
        &unit,
        "network-get",
        &["proxy", "--primary-address", "--format=yaml"],
    )
    .assert_ok(&format!("{address}\n"));
    // Several flags: a Go map, keys sorted whatever the flag order.
    let map_args = [
        "proxy",
        "--ingress-address",
        "--egress-subnets",
        "--bind-address",
    ];
    let map_yaml = format!(
        "bind-address: {address}\negress-subnets:\n- {address}/32\ningress-address: {address}\n"
    );
    f.tool(&unit, "network-get", &map_args).assert_ok(&map_yaml);
    f.tool(
        &unit,
        "network-get",
        &[&map_args[..], &["--format=yaml"]].concat(),
    )
    .assert_ok(&map_yaml);
    f.tool(
        &unit,
        "network-get",
        &[&map_args[..], &["--format=json"]].concat(),
    )
    .assert_ok(&format!(
        "{{\"bind-address\":\"{address}\",\"egress-subnets\":[\"{address}/32\"],\
             \"ingress-address\":\"{address}\"}}\n"
    ));
    f.tool(
        &unit,
        "network-get",
        &["proxy", "--primary-address", "--bind-address"],
    )
    .assert_error(1, "--primary-address must be the only flag specified");
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
    // YAML by default (goal-state.go `SetFlags`); the struct fields in their order:
    // `units` before `relations`, `status` before `since`.
    let yaml = f.tool(&unit, "goal-state", &[]).stdout;
    assert!(
        yaml.starts_with("units:\n  kube/0:\n    status: active\n    since: "),
        "{yaml}"
    );
    assert!(
        yaml.contains("\nrelations:\n  proxy:\n    etcd:\n      status: joined\n      since: "),
        "{yaml}"
    );
    let text = f.tool(&unit, "goal-state", &["--format=json"]).stdout;
    assert!(
        text.starts_with("{\"units\":{\"kube/0\":{\"status\":\"active\",\"since\":\""),
        "{text}"
    );
    assert!(
        text.contains("}},\"relations\":{\"proxy\":{\"etcd\":{\"status\":\"joined\",\"since\":"),
        "{text}"
    );
    let goal = json(&text);
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

/// Asserts that `keys` appear in `text` in this order.
fn in_order(text: &str, keys: &[&str]) {
    let mut from = 0;
    for key in keys {
        let at = text[from..]
            .find(key)
            .unwrap_or_else(|| panic!("{key:?} missing or out of order in {text}"));
        from += at + key.len();
    }
}

/// secret-info-get.go: `metadataDisplay` and `AccessInfo` are structs, printed in field
/// order (revision, label, owner, description, rotation, expiry, rotates, access; target,
/// scope, role) in YAML and JSON; the map around them is keyed by the secret id.
#[test]
fn secret_info_get_prints_the_struct_fields_in_go_order() {
    let mut f = Fixture::new();
    let leader = f.plain("etcd/0", "update-status");
    let id = f.begin(&leader);
    let args = [
        "token=x",
        "--label",
        "creds",
        "--description",
        "the token",
        "--rotate",
        "daily",
        "--expire",
        "24h",
    ];
    let uri = f.tool_in(&id, "secret-add", &args, "").stdout;
    let uri = uri.trim_end();
    let rid = format!("proxy:{}", f.relation);
    f.tool_in(&id, "secret-grant", &[uri, "-r", &rid], "")
        .assert_ok("");
    f.commit(&id);
    let fields = [
        "revision",
        "label",
        "owner",
        "description",
        "rotation",
        "expiry",
        "rotates",
        "access",
        "target",
        "scope",
        "role",
    ];
    let text = f
        .tool(&leader, "secret-info-get", &[uri, "--format=json"])
        .stdout;
    let quoted: Vec<String> = fields.iter().map(|k| format!("\"{k}\":")).collect();
    let quoted: Vec<&str> = quoted.iter().map(String::as_str).collect();
    in_order(&text, &quoted);
    let short = uri.trim_start_matches("secret:");
    assert!(
        text.starts_with(&format!(
            "{{\"{short}\":{{\"revision\":1,\"label\":\"creds\","
        )),
        "{text}"
    );
    let yaml = f.tool(&leader, "secret-info-get", &[uri]).stdout;
    let keyed: Vec<String> = fields.iter().map(|k| format!("{k}:")).collect();
    let keyed: Vec<&str> = keyed.iter().map(String::as_str).collect();
    in_order(&yaml, &keyed);
    assert!(
        yaml.starts_with(&format!(
            "{short}:\n  revision: 1\n  label: creds\n  owner: application\n"
        )),
        "{yaml}"
    );
    assert!(
        yaml.contains("  access:\n  - target: application-kube\n    scope: relation-"),
        "{yaml}"
    );
}

/// secret-revoke.go `Run` hands the revoke to context.go `RevokeSecret`, which checks only
/// the leadership of the unit's own application secrets and stages it; the secrets manager facade refuses a secret the unit
/// cannot manage when the hook commits (`SecretsRevoke`, apiserver/common/secrets/access.go
/// `CanManage`: `permission denied`, for a secret that does not exist too).
#[test]
fn secret_revoke_by_a_non_owner_is_refused_at_commit() {
    let mut f = Fixture::new();
    let leader = f.plain("etcd/0", "update-status");
    let id = f.begin(&leader);
    let uri = f.tool_in(&id, "secret-add", &["token=x"], "").stdout;
    let uri = uri.trim_end().to_owned();
    let rid = format!("proxy:{}", f.relation);
    f.tool_in(&id, "secret-grant", &[&uri, "-r", &rid], "")
        .assert_ok("");
    f.commit(&id);

    let refusal = |f: &mut Fixture, unit: &str, secret: &str| {
        let hook = f.plain(unit, "update-status");
        let id = f.begin(&hook);
        let run = f.tool_in(&id, "secret-revoke", &[secret, "-r", &rid], "");
        let refused = f.commit_refusal(&id);
        (run, refused)
    };
    let (run, refused) = refusal(&mut f, "kube/0", &uri);
    run.assert_ok("");
    assert_eq!(refused.as_deref(), Some("permission denied"));
    let (run, refused) = refusal(&mut f, "kube/0", "secret:9m4e2mr0ui3e8a215n4g");
    run.assert_ok("");
    assert_eq!(refused.as_deref(), Some("permission denied"));
    // The application's secret, by a unit that is not the leader: refused at once.
    let (run, _) = refusal(&mut f, "etcd/1", &uri);
    run.assert_error(1, "this unit is not the leader");
    // The owner's revoke commits.
    let (run, refused) = refusal(&mut f, "etcd/0", &uri);
    run.assert_ok("");
    assert_eq!(refused, None);
}

/// context.go `RemoveSecret` stages the removal of any revision; at commit the controller
/// looks the revision up (Juju 3.6.0 apiserver/common/secrets/secrets.go `removeSecrets`,
/// state/secrets.go `GetSecretRevision`: `revison N for secret "secret:<id>" not found`,
/// Juju's spelling) and the hook fails. The emulator claims 3.6.0 (`JUJU_VERSION`), so it
/// keeps this refusal, which later 3.6 code (`RemoveSecretsForAgent` without the look-up,
/// juju/juju#19070) dropped.
#[test]
fn secret_remove_of_a_missing_revision_is_refused_at_commit() {
    let mut f = Fixture::new();
    let leader = f.plain("etcd/0", "update-status");
    let id = f.begin(&leader);
    let uri = f.tool_in(&id, "secret-add", &["token=x"], "").stdout;
    let uri = uri.trim_end().to_owned();
    f.commit(&id);
    let id = f.begin(&leader);
    assert_eq!(juju_emulator::JUJU_VERSION, "3.6.0");
    f.tool_in(&id, "secret-remove", &[&uri, "--revision", "7"], "")
        .assert_ok("");
    assert_eq!(
        f.commit_refusal(&id),
        Some(format!("revison 7 for secret {uri:?} not found"))
    );
    let id = f.begin(&leader);
    f.tool_in(&id, "secret-remove", &[&uri, "--revision", "1"], "")
        .assert_ok("");
    assert_eq!(f.commit_refusal(&id), None);
}

/// ports.go `makePortRangeCommand` passes each `--endpoints` item on without checking it
/// (an empty item means every endpoint); the controller refuses an endpoint the charm does
/// not declare when the hook commits (state/machine_ports_ops.go `validatePendingChanges`:
/// `open port range: endpoint "x" for unit "u/0" not found`), opens before closes.
#[test]
fn ports_on_an_unknown_endpoint_are_refused_at_commit() {
    let mut f = Fixture::new();
    let unit = f.plain("kube/0", "update-status");
    let refused = |f: &mut Fixture, calls: &[(&str, &[&str])]| {
        let id = f.begin(&unit);
        for (tool, args) in calls {
            f.tool_in(&id, tool, args, "").assert_ok("");
        }
        f.commit_refusal(&id)
    };
    assert_eq!(
        refused(
            &mut f,
            &[("open-port", &["80", "--endpoints", "proxy,nope"])]
        ),
        Some("open port range: endpoint \"nope\" for unit \"kube/0\" not found".to_owned())
    );
    assert_eq!(
        refused(
            &mut f,
            &[
                ("close-port", &["81", "--endpoints", "gone"]),
                ("open-port", &["80", "--endpoints", "nope"]),
            ]
        ),
        Some("open port range: endpoint \"nope\" for unit \"kube/0\" not found".to_owned())
    );
    assert_eq!(
        refused(&mut f, &[("close-port", &["81", "--endpoints", "gone"])]),
        Some("close port range: endpoint \"gone\" for unit \"kube/0\" not found".to_owned())
    );
    assert_eq!(
        refused(&mut f, &[("open-port", &["80", "--endpoints", "proxy, ,"])]),
        None
    );
}
