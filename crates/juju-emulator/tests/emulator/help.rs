//! `TOOL --help` of every hook tool the emulator answers, against juju/juju 3.6: the `Info()`
//! (Name, Args, Purpose, Doc, Examples) and `SetFlags` of `worker/uniter/runner/jujuc/<file>`
//! named in each row, rendered as juju/cmd v4 `Info.HelpWithSuperFlags` (cmd.go) and gnuflag
//! `PrintDefaults` (flag.go) do. The summaries are also those of
//! `cmd/juju/commands/helptool_test.go`.

use juju_emulator::{HOOK_TOOLS, UNSUPPORTED_TOOLS};

use crate::support::Fixture;

/// (tool, jujuc source, usage line outside a relation hook, summary).
const HELP: [(&str, &str, &str, &str); 34] = [
    ("relation-ids", "relation-ids.go", "relation-ids [options] <name>", "List all relation IDs for the given endpoint."),
    ("relation-list", "relation-list.go", "relation-list [options]", "List relation units."),
    ("relation-get", "relation-get.go", "relation-get [options] <key> <unit id>", "Get relation settings."),
    ("relation-set", "relation-set.go", "relation-set [options] key=value [key=value ...]", "Set relation settings."),
    ("relation-model-get", "relation-model-get.go", "relation-model-get [options]", "Get details about the model hosing a related application."),
    ("is-leader", "is-leader.go", "is-leader [options]", "Print application leadership status."),
    ("leader-get", "leader-get.go", "leader-get [options] [<key>]", "Print application leadership settings."),
    ("leader-set", "leader-set.go", "leader-set <key>=<value> [...]", "Write application leadership settings."),
    ("juju-log", "juju-log.go", "juju-log [options] <message>", "Write a message to the juju log."),
    ("status-set", "status-set.go", "status-set [options] <maintenance | blocked | waiting | active> [message]", "Set status information."),
    ("status-get", "status-get.go", "status-get [options] [--include-data] [--application]", "Print status information."),
    ("config-get", "config-get.go", "config-get [options] [<key>]", "Print application configuration."),
    ("secret-add", "secret-add.go", "secret-add [options] [key[#base64|#file]=value...]", "Add a new secret."),
    ("secret-get", "secret-get.go", "secret-get [options] <ID> [key[#base64]]", "Get the content of a secret."),
    ("secret-set", "secret-set.go", "secret-set [options] <ID> [key[#base64]=value...]", "Update an existing secret."),
    ("secret-grant", "secret-grant.go", "secret-grant [options] <ID>", "Grant access to a secret."),
    ("secret-revoke", "secret-revoke.go", "secret-revoke [options] <ID>", "Revoke access to a secret."),
    ("secret-remove", "secret-remove.go", "secret-remove [options] <ID>", "Remove an existing secret."),
    ("secret-ids", "secret-ids.go", "secret-ids [options]", "Print secret IDs."),
    ("secret-info-get", "secret-info-get.go", "secret-info-get [options] <ID>", "Get a secret's metadata info."),
    ("state-get", "state-get.go", "state-get [options] [<key>]", "Print server-side-state value."),
    ("state-set", "state-set.go", "state-set [options] key=value [key=value ...]", "Set server-side-state values."),
    ("state-delete", "state-delete.go", "state-delete <key>", "Delete server-side-state key value pairs."),
    ("unit-get", "unit-get.go", "unit-get [options] <setting>", "Print public-address or private-address."),
    ("network-get", "network-get.go", "network-get [options] <binding-name> [--ingress-address] [--bind-address] [--egress-subnets]", "Get network config."),
    ("open-port", "ports.go", "open-port [options] <port>[/<protocol>] or <from>-<to>[/<protocol>] or icmp", "Register a request to open a port or port range."),
    ("close-port", "ports.go", "close-port [options] <port>[/<protocol>] or <from>-<to>[/<protocol>] or icmp", "Register a request to close a port or port range."),
    ("opened-ports", "opened-ports.go", "opened-ports [options]", "List all ports or port ranges opened by the unit."),
    ("application-version-set", "application-version-set.go", "application-version-set <new-version>", "Specify which version of the application is deployed."),
    ("goal-state", "goal-state.go", "goal-state [options]", "Print the status of the charm's peers and related units."),
    ("action-get", "action-get.go", "action-get [options] [<key>[.<key>.<key>...]]", "Get action parameters."),
    ("action-set", "action-set.go", "action-set <key>=<value> [<key>=<value> ...]", "Set action results."),
    ("action-fail", "action-fail.go", "action-fail [\"<failure message>\"]", "Set action fail status with message."),
    ("action-log", "action-log.go", "action-log <message>", "Record a progress message for the current action."),
];

/// Every answered tool has a row, and each `--help`/`-h` exits 0 with nothing on stderr, the
/// usage line, then `Summary:`; `Options:` comes exactly when the usage says `[options]`.
#[test]
fn every_tool_prints_juju_usage_and_summary() {
    let answered: Vec<&str> = HOOK_TOOLS
        .into_iter()
        .filter(|t| !UNSUPPORTED_TOOLS.contains(t))
        .collect();
    let listed: Vec<&str> = HELP.iter().map(|row| row.0).collect();
    assert_eq!(answered, listed);
    let mut f = Fixture::new();
    let hook = f.plain("etcd/0", "update-status");
    for (tool, source, usage, summary) in HELP {
        for flag in ["--help", "-h"] {
            let run = f.tool(&hook, tool, &[flag]);
            assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{tool} {flag}");
            let head = format!("Usage: {usage}\n\nSummary:\n{summary}\n");
            assert!(run.stdout.starts_with(&head), "{source}: {}", run.stdout);
            let options = run.stdout[head.len()..].starts_with("\nOptions:\n");
            assert_eq!(options, usage.contains(" [options]"), "{source}");
        }
    }
}

/// gnuflag `PrintDefaults`: groups sorted by their shortest name, `(= value)` after two spaces,
/// `(= "value")` after one for a `StringVar`; then the trimmed `Doc` and the raw `Examples`
/// (juju-log.go has no `Doc`; leader-get.go, juju-log.go `SetFlags`).
#[test]
fn options_details_and_examples_are_rendered_as_cmd_does() {
    let mut f = Fixture::new();
    let hook = f.plain("etcd/0", "update-status");
    f.tool(&hook, "leader-get", &["--help"]).assert_ok(
        "Usage: leader-get [options] [<key>]

Summary:
Print application leadership settings.

Options:
--format  (= smart)
    Specify output format (json|smart|yaml)
-o, --output (= \"\")
    Specify an output file

Details:
leader-get prints the value of a leadership setting specified by key. If no key
is given, or if the key is \"-\", all keys and values will be printed.

Examples:

    ADDRESSS=$(leader-get cluster-leader-address)
",
    );
    f.tool(&hook, "juju-log", &["--help"]).assert_ok(
        "Usage: juju-log [options] <message>

Summary:
Write a message to the juju log.

Options:
--debug  (= false)
    log at debug level
--format (= \"\")
    deprecated format flag
-l, --log-level (= \"INFO\")
    Send log message at the given level

Examples:

    juju-log -l 'WARN' Something has transpired
",
    );
    // state-delete.go: no flags, so no `[options]`; `SeeAlso` comes last.
    f.tool(&hook, "state-delete", &["--help"]).assert_ok(
        "Usage: state-delete <key>

Summary:
Delete server-side-state key value pairs.

Details:
state-delete deletes the value of the server side state specified by key.

See also:
 - state-get
 - state-set

",
    );
}

/// What `Info()` reads from the hook: relation-ids.go and relation-get.go change their args
/// and details inside a relation hook, relation-list.go drops its details, and the `-r`
/// default is the hook's relation (jujuc `NewRelationIdValue`).
#[test]
fn relation_hook_defaults_show_in_the_help() {
    let mut f = Fixture::new();
    let rid = format!("proxy:{}", f.relation);
    let plain = f.plain("etcd/0", "update-status");
    let changed = f.kube_changed();

    let ids = f.tool(&changed, "relation-ids", &["--help"]).stdout;
    assert!(
        ids.starts_with("Usage: relation-ids [options] [<name>]\n"),
        "{ids}"
    );
    assert!(
        ids.contains(
            "\nDetails:\nCurrent default endpoint name is \"proxy\".\nrelation-ids outputs"
        ),
        "{ids}"
    );
    let ids = f.tool(&plain, "relation-ids", &["--help"]).stdout;
    assert!(ids.contains("\nDetails:\nrelation-ids outputs"), "{ids}");

    let get = f.tool(&changed, "relation-get", &["--help"]).stdout;
    assert!(
        get.starts_with("Usage: relation-get [options] [<key> [<unit id>]]\n"),
        "{get}"
    );
    assert!(
        get.contains("of the relation.\nCurrent default unit id is \"etcd/0\".\n\nExamples:\n"),
        "{get}"
    );
    assert!(
        get.contains(&format!(
            "-r, --relation  (= {rid})\n    Specify a relation by id\n"
        )),
        "{get}"
    );
    let get = f.tool(&plain, "relation-get", &["--help"]).stdout;
    assert!(get.contains("-r, --relation  (= )\n"), "{get}");

    let list = f.tool(&changed, "relation-list", &["--help"]).stdout;
    assert!(!list.contains("Details:"), "{list}");
    let list = f.tool(&plain, "relation-list", &["--help"]).stdout;
    assert!(
        list.contains("\nDetails:\n-r must be specified when not in a relation hook\n"),
        "{list}"
    );
}

/// Every long option the help lists is one the tool's parser knows (no `option provided but not
/// defined`), so the help and the argv handling cannot drift apart.
#[test]
fn every_listed_option_is_accepted_by_the_parser() {
    let mut f = Fixture::new();
    let hook = f.kube_changed();
    let mut unknown = Vec::new();
    for (tool, source, _, _) in HELP {
        let help = f.tool(&hook, tool, &["--help"]).stdout;
        let options = help
            .split("\nOptions:\n")
            .nth(1)
            .map(|rest| rest.split("\n\n").next().unwrap_or_default())
            .unwrap_or_default();
        for line in options.lines().filter(|l| l.starts_with('-')) {
            for name in line.split(" (=").next().unwrap_or_default().split(", ") {
                let run = f.tool(&hook, tool, &[name.trim()]);
                if run.stderr.contains("provided but not defined") {
                    unknown.push(format!("{source}: {tool} {name}"));
                }
            }
        }
    }
    assert!(unknown.is_empty(), "{unknown:#?}");
}

/// The options the help lists that only rename or deprecate: ports.go `Run` notes a
/// `--format` on stderr (no newline) and goes on; secret-revoke.go `SetFlags` makes
/// `--application` the same value as `--app`.
#[test]
fn deprecated_and_alias_options_behave_as_juju() {
    let mut f = Fixture::new();
    let hook = f.plain("etcd/0", "update-status");
    let id = f.begin(&hook);
    for tool in ["open-port", "close-port"] {
        let run = f.tool_in(&id, tool, &["--format", "json", "8080/tcp"], "");
        assert_eq!(run.code, 0, "{tool}: {}", run.stderr);
        assert_eq!(
            run.stderr,
            format!("--format flag deprecated for command \"{tool}\"")
        );
    }
    let uri = f.tool_in(&id, "secret-add", &["k=v"], "").stdout;
    let uri = uri.trim_end();
    let by_app = f.tool_in(&id, "secret-revoke", &[uri, "--app", "kube"], "");
    let by_application = f.tool_in(&id, "secret-revoke", &[uri, "--application", "kube"], "");
    assert_eq!(
        (by_app.code, by_app.stderr),
        (by_application.code, by_application.stderr)
    );
    let bad = f.tool_in(&id, "secret-revoke", &[uri, "--application", "Kube!"], "");
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}
