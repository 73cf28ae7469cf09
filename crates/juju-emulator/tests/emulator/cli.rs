//! The `juju-emulator` command line as a user runs it: a generic tool (no word of any one
//! interface in its help), private keys hidden, hook errors held as Juju holds them, and a
//! status whose columns fit.

use std::path::Path;
use std::process::Output;

use crate::support::{cli, text, write_charm};

fn emu(model: &Path, args: &[&str]) -> Output {
    cli(model, args, &[])
}

fn stdout(out: &Output) -> String {
    text(&out.stdout)
}

#[test]
fn no_help_text_names_an_interface() {
    let dir = tempfile::tempdir().unwrap();
    let main = emu(dir.path(), &["--help"]);
    assert!(main.status.success());
    let mut texts = vec![stdout(&main)];
    let commands = [
        "create",
        "deploy",
        "add-unit",
        "relate",
        "unrelate",
        "remove-unit",
        "resolved",
        "config",
        "set-leader-data",
        "advance-clock",
        "run",
        "next",
        "settle",
        "queue",
        "status",
        "show",
        "databags",
        "calls",
        "logs",
    ];
    for command in commands {
        let out = emu(dir.path(), &[command, "--help"]);
        assert!(out.status.success(), "{command} --help");
        texts.push(stdout(&out));
    }
    for text in &texts {
        let lower = text.to_lowercase();
        for word in ["etcd", "proxy", "kube", "client_key"] {
            assert!(!lower.contains(word), "{word:?} in help:\n{text}");
        }
    }
    assert!(texts[0].contains("resolved"), "{}", texts[0]);
}

const KEY: &str =
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIDZm\n-----END PRIVATE KEY-----";

#[test]
fn private_keys_are_hidden_unless_asked_for() {
    let root = tempfile::tempdir().unwrap();
    let model = root.path().join("model");
    let provider = root.path().join("provider");
    write_charm(
        &provider,
        "name: p\nprovides:\n  db:\n    interface: kv\n",
        "#!/bin/sh\n[ \"$JUJU_HOOK_NAME\" = db-relation-created ] || exit 0\n\
         relation-set client_key=\"$(cat key.pem)\" ca=cert\n",
    );
    std::fs::write(provider.join("key.pem"), KEY).unwrap();
    let requirer = root.path().join("requirer");
    write_charm(
        &requirer,
        "name: r\nrequires:\n  db:\n    interface: kv\n",
        "#!/bin/sh\n",
    );
    assert!(emu(&model, &["create"]).status.success());
    for charm in [&provider, &requirer] {
        assert!(emu(&model, &["deploy", charm.to_str().unwrap()])
            .status
            .success());
    }
    assert!(emu(&model, &["relate", "p", "r"]).status.success());

    let calls = stdout(&emu(&model, &["calls"]));
    assert!(
        calls.contains("relation-set client_key=<private key redacted> ca=cert"),
        "{calls}"
    );
    let on_disk = std::fs::read_to_string(model.join("calls.jsonl")).unwrap();
    assert!(
        !on_disk.contains("PRIVATE KEY"),
        "recorded redacted: {on_disk}"
    );
    for command in [&["databags"][..], &["show"], &["databags", "0"]] {
        let out = stdout(&emu(&model, command));
        assert!(!out.contains("MC4CAQAw"), "{command:?}: {out}");
        assert!(out.contains("<private key redacted>"), "{command:?}: {out}");
    }
    let shown = stdout(&emu(&model, &["databags", "--show-secrets"]));
    assert!(shown.contains("MC4CAQAwBQYDK2VwBCIEIDZm"), "{shown}");
}

/// Juju (worker/uniter/operation/runhook.go, uniter resolver): a failed hook sets the unit's
/// agent status to error `hook failed: "<hook>"`, which `juju status` shows as the workload
/// status; the unit waits for `juju resolved`, other units go on.
#[test]
fn a_failed_hook_holds_its_unit_until_resolved() {
    let root = tempfile::tempdir().unwrap();
    let model = root.path().join("model");
    let charm = root.path().join("charm");
    let long = "x".repeat(60);
    write_charm(
        &charm,
        "name: c\n",
        &format!(
            "#!/bin/sh\nstatus-set active \"{long}\"\n\
             if [ \"$JUJU_UNIT_NAME\" = c/1 ] && [ \"$JUJU_HOOK_NAME\" = install ] && [ ! -e ok ]; then exit 3; fi\n"
        ),
    );
    assert!(emu(&model, &["create"]).status.success());
    let out = emu(&model, &["deploy", charm.to_str().unwrap(), "-n", "2"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("c/1 is in error: hook failed: \"install\""),
        "{text}"
    );
    assert!(
        text.contains("c/0          start  ok"),
        "other units carry on: {text}"
    );
    assert!(
        !text.contains("c/1          leader-settings-changed"),
        "{text}"
    );

    let status = stdout(&emu(&model, &["status"]));
    let unit_header = status.lines().find(|l| l.starts_with("Unit")).unwrap();
    let c1 = status.lines().find(|l| l.starts_with("c/1")).unwrap();
    let c0 = status.lines().find(|l| l.starts_with("c/0")).unwrap();
    assert!(c1.contains(" error "), "{status}");
    assert!(c1.ends_with("hook failed: \"install\""), "{status}");
    assert!(c0.ends_with(&long), "{status}");
    for line in [c0, c1] {
        assert_eq!(
            line.find("  install").or_else(|| line.find("  start")),
            unit_header.find("  Last hook"),
            "columns line up: {status}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_slice(&emu(&model, &["status", "--format", "json"]).stdout).unwrap();
    let c1 = &json["applications"]["c"]["units"]["c/1"];
    assert_eq!(c1["workload-status"]["current"], "error");
    assert_eq!(c1["workload-status"]["message"], "hook failed: \"install\"");
    assert_eq!(c1["charm-status"]["message"], long.as_str());
    assert_eq!(json["queued-hooks"], 3, "c/1's other hooks wait");

    let unit_dir = model.join("units/c-1/charm");
    std::fs::write(unit_dir.join("ok"), "").unwrap();
    let out = emu(&model, &["resolved", "c/1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    let ran: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("c/1"))
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(
        ran,
        [
            "install",
            "leader-settings-changed",
            "config-changed",
            "start"
        ]
    );
    let out = emu(&model, &["resolved", "--no-retry", "c/1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not in an error state"),
        "{:?}",
        out
    );
}

/// `advance-clock`: the model's time moves only when told, and brings the hooks Juju's
/// workers fire: `secret-rotate` on the owner's leader (juju/juju 3.6 worker/secretrotate;
/// again after `RotateRetryDelay`, 5 minutes, until the owner sets a new revision, as the
/// secrets manager facade's `SecretsRotated` computes) and `secret-expired` with
/// `JUJU_SECRET_REVISION` (worker/secretexpire); `secret-info-get` shows `rotates` and
/// `expiry` (jujuc/secret-info-get.go).
#[test]
fn advance_clock_fires_rotation_and_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let (model, charm) = (dir.path().join("model"), dir.path().join("charm"));
    write_charm(
        &charm,
        "name: vault\n",
        r#"#!/bin/bash
set -eu
hook=$(basename "$JUJU_DISPATCH_PATH")
case "$hook" in
  leader-elected)
    secret-add --label creds --rotate hourly --expire 90m token=one > uri ;;
  update-status)
    secret-info-get --label creds --format json > info.json ;;
  secret-rotate|secret-expired|secret-remove)
    [ "$JUJU_SECRET_ID" = "$(cat uri)" ]
    echo "$hook $JUJU_SECRET_LABEL ${JUJU_SECRET_REVISION:--}" >> secret-hooks.log
    n=$(grep -c secret-rotate secret-hooks.log || true)
    if [ "$hook" = secret-rotate ] && [ "$n" = 2 ]; then secret-set "$JUJU_SECRET_ID" token=two; fi
    if [ "$hook" = secret-expired ]; then secret-remove "$JUJU_SECRET_ID" --revision "$JUJU_SECRET_REVISION"; fi ;;
esac
"#,
    );
    assert!(emu(&model, &["create"]).status.success());
    let charm_arg = charm.to_str().unwrap();
    assert!(emu(&model, &["deploy", charm_arg]).status.success());
    assert!(emu(&model, &["update-status"]).status.success());
    let unit_dir = model.join("units/vault-0/charm");
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(unit_dir.join("info.json")).unwrap())
            .unwrap();
    let info = info.as_object().unwrap().values().next().unwrap().clone();
    assert_eq!(info["rotation"], "hourly");
    let log = || std::fs::read_to_string(unit_dir.join("secret-hooks.log")).unwrap_or_default();

    let advance = |by: &str| {
        let out = emu(&model, &["advance-clock", by]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout(&out)
    };
    // Not yet due one second before the hour.
    let before = advance("59m59s");
    assert!(before.contains("model time "), "{before}");
    assert_eq!(log(), "");
    advance("1s");
    assert_eq!(log(), "secret-rotate creds -\n");
    // The hook set no revision: due again five minutes later; then it sets one, and
    // revision 1, which nobody tracks, goes to secret-remove.
    advance("5m");
    assert_eq!(
        log(),
        "secret-rotate creds -\nsecret-rotate creds -\nsecret-remove creds 1\n"
    );
    // Revision 1 expires 90 minutes after it was added; the charm removes it.
    advance("24m");
    assert!(!log().contains("secret-expired"), "{}", log());
    advance("2m");
    assert!(log().ends_with("secret-expired creds 1\n"), "{}", log());
    advance("30m");
    assert_eq!(log().matches("secret-expired").count(), 1, "{}", log());

    // `rotates` and `expiry` follow the model's clock.
    let now = |text: &str| text.trim().trim_start_matches("model time ").to_owned();
    let created = juju_hooks::testing::clock::parse_rfc3339(&now(&before)).unwrap() - 3599;
    let at = |t: &serde_json::Value| juju_hooks::testing::clock::parse_rfc3339(t.as_str().unwrap());
    assert_eq!(at(&info["rotates"]), Some(created + 3600));
    assert_eq!(at(&info["expiry"]), Some(created + 5400));

    let bad = emu(&model, &["advance-clock", "soon"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// juju/juju 3.6 runner/context/context.go `UpdateSecret`: the uniter checks leadership only
/// for its own secrets and stages the rest, so a consumer's `secret-set` exits 0; the
/// secrets manager facade refuses it when the hook commits (`canManage`: `permission
/// denied`), the hook fails and its unit is in error (operation/runhook.go).
#[test]
fn a_consumer_secret_set_exits_zero_and_fails_its_hook_at_commit() {
    let root = tempfile::tempdir().unwrap();
    let (model, owner, consumer) = (
        root.path().join("model"),
        root.path().join("owner"),
        root.path().join("consumer"),
    );
    write_charm(
        &owner,
        "name: owner\nprovides:\n  creds:\n    interface: c\n",
        r#"#!/bin/bash
set -eu
if [ "$(basename "$JUJU_DISPATCH_PATH")" = creds-relation-joined ]; then
  uri=$(secret-add token=one)
  secret-grant "$uri" -r "$JUJU_RELATION_ID"
  relation-set uri="$uri"
fi
"#,
    );
    write_charm(
        &consumer,
        "name: consumer\nrequires:\n  creds:\n    interface: c\n",
        r#"#!/bin/bash
set -eu
if [ "$(basename "$JUJU_DISPATCH_PATH")" = creds-relation-changed ]; then
  uri=$(relation-get uri "$JUJU_REMOTE_UNIT")
  [ -n "$uri" ] || exit 0
  secret-get "$uri" token > seen
  secret-set "$uri" token=mine
  echo "secret-set exit $?" > tool-result
fi
"#,
    );
    assert!(emu(&model, &["create"]).status.success());
    assert!(emu(&model, &["deploy", owner.to_str().unwrap()])
        .status
        .success());
    assert!(emu(&model, &["deploy", consumer.to_str().unwrap()])
        .status
        .success());
    let out = emu(&model, &["relate", "owner", "consumer"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let unit_dir = model.join("units/consumer-0/charm");
    assert_eq!(
        std::fs::read_to_string(unit_dir.join("seen")).unwrap(),
        "one\n"
    );
    assert_eq!(
        std::fs::read_to_string(unit_dir.join("tool-result")).unwrap(),
        "secret-set exit 0\n"
    );
    assert!(
        text.contains("FAILED (exit 0, refused at commit: permission denied)"),
        "{text}"
    );
    assert!(
        text.contains("consumer/0 is in error: hook failed: \"creds-relation-changed\""),
        "{text}"
    );
}
