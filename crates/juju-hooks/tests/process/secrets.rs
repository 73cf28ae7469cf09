//! Secret and unit-state tools: exact argv (juju/juju 3.6 worker/uniter/runner/jujuc
//! secret-add.go, secret-get.go, secret-grant.go, secret-revoke.go, secret-remove.go,
//! secret-ids.go, secret-info-get.go, state-get.go, state-set.go, state-delete.go), values
//! never on a command line, and missing tools as a typed "unsupported" error.

use juju_hooks::{
    Databag, HookTools, RelationId, SecretContent, SecretOwnerKind, SecretRevision, SecretUri,
    ToolErrorKind,
};

use crate::shim::ShimTools;

const URI: &str = "secret:cu9pk5rr0ui3c8lb2fmg";

fn content() -> SecretContent {
    let values = [
        ("client-ca", "CA PEM"),
        ("client-key", "-----BEGIN PRIVATE KEY-----\nKEYBYTES\n"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    SecretContent::new(values).unwrap()
}

fn uri() -> SecretUri {
    URI.parse().unwrap()
}

fn rid(s: &str) -> RelationId {
    s.parse().unwrap()
}

#[test]
fn secret_add_passes_values_in_private_files_and_returns_the_uri() {
    let shim = ShimTools::new();
    shim.answer("secret-add", &format!("{URI}\n"));
    let uri = shim
        .tools()
        .secret_add(&content(), SecretOwnerKind::Application, Some("creds"))
        .unwrap();
    assert_eq!(uri.to_string(), URI);
    let call = shim.only_call();
    assert_eq!(&call.argv[..3], ["secret-add", "--label", "creds"]);
    assert_eq!(call.argv.len(), 5);
    assert!(
        call.argv[3].starts_with("client-ca#file=") && call.argv[4].starts_with("client-key#file=")
    );
    assert!(!call.argv.concat().contains("KEYBYTES"), "{:?}", call.argv);
    let (key, mode) = shim.secret_file(1, "client-key");
    assert_eq!(key, content().get("client-key").unwrap());
    assert_eq!(mode, "700");
    // The files are gone once the call returns.
    let path = call.argv[4].split_once("#file=").unwrap().1.to_owned();
    assert!(!std::path::Path::new(&path).exists());
}

#[test]
fn secret_add_output_that_is_no_uri_is_a_decode_error() {
    let shim = ShimTools::new();
    shim.answer("secret-add", "not a uri\n");
    let err = shim
        .tools()
        .secret_add(&content(), SecretOwnerKind::Unit, None)
        .unwrap_err();
    assert!(matches!(err.kind, ToolErrorKind::Decode { .. }), "{err}");
    // SecretContent itself refuses keys Juju refuses, before any tool runs.
    let bad = [("client_ca".to_owned(), "x".to_owned())].into();
    assert!(SecretContent::new(bad).is_err());
}

#[test]
fn secret_add_of_a_unit_secret_says_so() {
    let shim = ShimTools::new();
    shim.answer("secret-add", &format!("{URI}\n"));
    shim.tools()
        .secret_add(&content(), SecretOwnerKind::Unit, None)
        .unwrap();
    assert_eq!(
        &shim.only_call().argv[..3],
        ["secret-add", "--owner", "unit"]
    );
}

#[test]
fn secret_get_reads_json_with_the_revision_asked() {
    for (revision, extra) in [
        (SecretRevision::Pinned, None),
        (SecretRevision::Peek, Some("--peek")),
        (SecretRevision::Refresh, Some("--refresh")),
    ] {
        let shim = ShimTools::new();
        shim.answer("secret-get", r#"{"client-ca":"CA","client-key":"K"}"#);
        let got = shim
            .tools()
            .secret_get(Some(&uri()), None, revision)
            .unwrap();
        assert_eq!(got.get("client-key"), Some("K"));
        let mut want = vec!["secret-get", "--format=json", URI];
        want.extend(extra);
        assert_eq!(shim.only_call().argv, want);
    }
    let shim = ShimTools::new();
    shim.answer("secret-get", r#"{"abc":"x"}"#);
    shim.tools()
        .secret_get(None, Some("creds"), SecretRevision::Pinned)
        .unwrap();
    assert_eq!(
        shim.only_call().argv,
        ["secret-get", "--format=json", "--label", "creds"]
    );
}

#[test]
fn secret_get_errors_keep_jujus_text() {
    let shim = ShimTools::new();
    shim.fail(
        "secret-get",
        1,
        "ERROR secret \"cu9pk5rr0ui3c8lb2fmg\" not found\n",
    );
    let err = shim
        .tools()
        .secret_get(Some(&uri()), None, SecretRevision::Refresh)
        .unwrap_err();
    assert_eq!(
        err.stderr(),
        Some("secret \"cu9pk5rr0ui3c8lb2fmg\" not found")
    );
    assert!(!err.is_unsupported());
}

#[test]
fn grant_revoke_remove_set_have_the_uri_first() {
    let shim = ShimTools::new();
    let mut tools = shim.tools();
    let unit = "kube/0".parse().unwrap();
    tools.secret_grant(&uri(), &rid("proxy:3"), None).unwrap();
    tools
        .secret_revoke(&uri(), &rid("proxy:3"), Some(&unit))
        .unwrap();
    tools.secret_remove(&uri()).unwrap();
    tools.secret_set(&uri(), &content()).unwrap();
    let calls = shim.calls();
    assert_eq!(calls[0].argv, ["secret-grant", URI, "-r", "proxy:3"]);
    assert_eq!(
        calls[1].argv,
        ["secret-revoke", URI, "-r", "proxy:3", "--unit", "kube/0"]
    );
    assert_eq!(calls[2].argv, ["secret-remove", URI]);
    assert_eq!(&calls[3].argv[..2], ["secret-set", URI]);
    assert_eq!(shim.secret_file(4, "client-ca").0, "CA PEM");
}

#[test]
fn secret_ids_and_info() {
    let shim = ShimTools::new();
    shim.answer("secret-ids", &format!("[\"{URI}\"]\n"));
    shim.answer(
        "secret-info-get",
        r#"{"cu9pk5rr0ui3c8lb2fmg":{"revision":2,"label":"creds","owner":"application","rotation":"never"}}"#,
    );
    let mut tools = shim.tools();
    assert_eq!(tools.secret_ids().unwrap(), [uri()]);
    let info = tools.secret_info_get(None, Some("creds")).unwrap();
    assert_eq!((info.uri, info.revision), (uri(), 2));
    let calls = shim.calls();
    assert_eq!(calls[0].argv, ["secret-ids", "--format=json"]);
    assert_eq!(
        calls[1].argv,
        ["secret-info-get", "--format=json", "--label", "creds"]
    );
}

#[test]
fn state_tools_send_values_on_stdin() {
    let shim = ShimTools::new();
    shim.answer("state-get", r#"{"a":"1"}"#);
    let mut tools = shim.tools();
    assert_eq!(tools.state_get().unwrap()["a"], "1");
    let values: Databag = [("k".to_owned(), "v\nw".to_owned())].into();
    tools.state_set(&values).unwrap();
    tools.state_delete("-odd").unwrap();
    let calls = shim.calls();
    assert_eq!(calls[0].argv, ["state-get", "--format=json"]);
    assert_eq!(calls[1].argv, ["state-set", "--file", "-"]);
    assert_eq!(calls[1].stdin, br#"{"k":"v\nw"}"#);
    assert_eq!(calls[2].argv, ["state-delete", "--", "-odd"]);
}

#[test]
fn missing_tools_are_unsupported() {
    // A Juju before 2.8 has no state tools, one before 3.0 no secret tools.
    let shim = ShimTools::with_tools(&["relation-ids"]);
    let mut tools = shim.tools();
    for err in [
        tools.state_get().unwrap_err(),
        tools
            .secret_add(&content(), SecretOwnerKind::Application, None)
            .unwrap_err(),
        tools
            .secret_get(Some(&uri()), None, SecretRevision::Pinned)
            .unwrap_err(),
    ] {
        assert!(err.is_unsupported(), "{err}");
    }
    // A wrapper script whose tool is gone exits 127.
    let shim = ShimTools::new();
    shim.fail("state-get", 127, "sh: state-get: not found\n");
    assert!(shim.tools().state_get().unwrap_err().is_unsupported());
}
