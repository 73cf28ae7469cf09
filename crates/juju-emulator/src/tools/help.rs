//! `--help` texts, laid out as `juju/cmd/v4` `Info.Help` renders a jujuc command: `Usage:`
//! (with `[options]` only when the tool has flags), `Summary:` (the `Info().Purpose`),
//! `Options:`, `Details:`.
//!
//! Usage arguments and summaries are Juju 3.6's `Info()` of each
//! `worker/uniter/runner/jujuc/<tool>.go`; the summaries are also listed by
//! `cmd/juju/commands/helptool_test.go` (`juju help-hook-commands`).

const FORMAT_OPTS: &str = "--format  (= smart)
    Specify output format (json|smart|yaml)
-o, --output (= \"\")
    Specify an output file
";

/// What the help of a tool depends on besides its name (Juju's `Info()` reads the context).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct HelpContext<'a> {
    /// Whether the tool defines flags (`cmd` prints `[options]` only then).
    pub has_options: bool,
    /// The endpoint of the running relation hook, if any.
    pub endpoint: Option<&'a str>,
    /// Whether the hook has a remote unit (relation-get's defaults).
    pub remote_unit: bool,
}

/// `Info().Args` and `Info().Purpose` of a tool the emulator answers.
pub(super) fn info(tool: &str, ctx: &HelpContext<'_>) -> Option<(&'static str, &'static str)> {
    Some(match tool {
        // relation-ids.go: the name is optional inside a relation hook.
        "relation-ids" if ctx.endpoint.is_some() => {
            ("[<name>]", "List all relation IDs for the given endpoint.")
        }
        "relation-ids" => ("<name>", "List all relation IDs for the given endpoint."),
        "relation-list" => ("", "List relation units."),
        // relation-get.go: both arguments are optional when a remote unit is known.
        "relation-get" if ctx.remote_unit => ("[<key> [<unit id>]]", "Get relation settings."),
        "relation-get" => ("<key> <unit id>", "Get relation settings."),
        "relation-set" => ("key=value [key=value ...]", "Set relation settings."),
        "relation-model-get" => (
            "",
            // Juju's typo, kept: relation-model-get.go.
            "Get details about the model hosing a related application.",
        ),
        "is-leader" => ("", "Print application leadership status."),
        "leader-get" => ("[<key>]", "Print application leadership settings."),
        "leader-set" => (
            "<key>=<value> [...]",
            "Write application leadership settings.",
        ),
        "juju-log" => ("<message>", "Write a message to the juju log."),
        "status-set" => (
            "<maintenance | blocked | waiting | active> [message]",
            "Set status information.",
        ),
        "status-get" => (
            "[--include-data] [--application]",
            "Print status information.",
        ),
        "config-get" => ("[<key>]", "Print application configuration."),
        "secret-add" => ("[key[#base64|#file]=value...]", "Add a new secret."),
        "secret-get" => ("<ID> [key[#base64]]", "Get the content of a secret."),
        "secret-set" => ("<ID> [key[#base64]=value...]", "Update an existing secret."),
        "secret-grant" => ("<ID>", "Grant access to a secret."),
        "secret-revoke" => ("<ID>", "Revoke access to a secret."),
        "secret-remove" => ("<ID>", "Remove an existing secret."),
        "secret-ids" => ("", "Print secret IDs."),
        "secret-info-get" => ("<ID>", "Get a secret's metadata info."),
        "state-get" => ("[<key>]", "Print server-side-state value."),
        "state-set" => ("key=value [key=value ...]", "Set server-side-state values."),
        "state-delete" => ("<key>", "Delete server-side-state key value pairs."),
        "unit-get" => ("<setting>", "Print public-address or private-address."),
        "network-get" => (
            "<binding-name> [--ingress-address] [--bind-address] [--egress-subnets]",
            "Get network config.",
        ),
        "open-port" => (
            "<port>[/<protocol>] or <from>-<to>[/<protocol>] or icmp",
            "Register a request to open a port or port range.",
        ),
        "close-port" => (
            "<port>[/<protocol>] or <from>-<to>[/<protocol>] or icmp",
            "Register a request to close a port or port range.",
        ),
        "opened-ports" => ("", "List all ports or port ranges opened by the unit."),
        "application-version-set" => (
            "<new-version>",
            "Specify which version of the application is deployed.",
        ),
        "goal-state" => (
            "",
            "Print the status of the charm's peers and related units.",
        ),
        "action-get" => ("[<key>[.<key>.<key>...]]", "Get action parameters."),
        "action-set" => ("<key>=<value> [<key>=<value> ...]", "Set action results."),
        "action-fail" => (
            "[\"<failure message>\"]",
            "Set action fail status with message.",
        ),
        "action-log" => (
            "<message>",
            "Record a progress message for the current action.",
        ),
        _ => return None,
    })
}

/// The help text of `tool`, printed on stdout with exit 0.
pub(super) fn text(tool: &str, ctx: &HelpContext<'_>) -> String {
    let Some((args, summary)) = info(tool, ctx) else {
        return format!("Usage: {tool}\n");
    };
    let (options, details) = options_and_details(tool, ctx);
    // cmd.go `HelpWithSuperFlags`: name, ` [options]` if any flag, ` <args>` if any.
    let mut text = format!("Usage: {tool}");
    if ctx.has_options {
        text.push_str(" [options]");
    }
    if !args.is_empty() {
        text.push(' ');
        text.push_str(args);
    }
    text.push_str(&format!("\n\nSummary:\n{summary}\n"));
    if ctx.has_options && !options.is_empty() {
        text.push_str("\nOptions:\n");
        text.push_str(&options);
    }
    if !details.is_empty() {
        text.push_str("\nDetails:\n");
        text.push_str(details.trim());
        text.push('\n');
    }
    text
}

/// The options block (gnuflag `PrintDefaults`) and Juju's `Info().Doc` of the tools that
/// have them here.
fn options_and_details(tool: &str, ctx: &HelpContext<'_>) -> (String, String) {
    let in_relation_hook = ctx.endpoint.is_some();
    match tool {
        "relation-ids" => {
            // relation-ids.go: the default endpoint comes first inside a relation hook.
            let mut doc = ctx
                .endpoint
                .map(|e| format!("Current default endpoint name is {e:?}."))
                .unwrap_or_default();
            doc.push_str(RELATION_IDS_DOC);
            (FORMAT_OPTS.to_owned(), doc)
        }
        "relation-list" => (
            format!(
                "--app  (= false)\n    List remote application instead of participating units\n\
                 {FORMAT_OPTS}-r, --relation  (= )\n    Specify a relation by id\n"
            ),
            // relation-list.go: no details inside a relation hook.
            if in_relation_hook {
                String::new()
            } else {
                RELATION_LIST_DOC.to_owned()
            },
        ),
        "relation-get" => (
            format!(
                "--app  (= false)\n    Get the relation data for the overall application, not just a unit\n\
                 {FORMAT_OPTS}-r, --relation  (= )\n    Specify a relation by id\n"
            ),
            RELATION_GET_DOC.to_owned(),
        ),
        "relation-set" => (
            "--app  (= false)\n    pick whether you are setting \"application\" settings or \"unit\" settings\n\
             --file  (= )\n    file containing key-value pairs\n\
             --format  (= \"\")\n    deprecated format flag\n\
             -r, --relation  (= )\n    specify a relation by id\n"
                .to_owned(),
            RELATION_SET_DOC.to_owned(),
        ),
        "is-leader" => (
            FORMAT_OPTS.to_owned(),
            "is-leader prints a boolean indicating whether the local unit is guaranteed to\n\
             be application leader for at least 30 seconds. If it fails, you should assume that\n\
             there is no such guarantee."
                .to_owned(),
        ),
        "leader-get" => (
            FORMAT_OPTS.to_owned(),
            "leader-get prints the value of a leadership setting specified by key. If no key\n\
             is given, or if the key is \"-\", all keys and values will be printed."
                .to_owned(),
        ),
        "leader-set" => (
            String::new(),
            "leader-set immediate writes the supplied key/value pairs to the controller,\n\
             which will then inform non-leader units of the change. It will fail if called\n\
             without arguments, or if called by a unit that is not currently application leader."
                .to_owned(),
        ),
        "juju-log" => (
            "--debug  (= false)\n    log at debug level\n\
             --format  (= \"\")\n    deprecated format flag\n\
             -l, --log-level  (= \"INFO\")\n    Send log message at the given level\n"
                .to_owned(),
            String::new(),
        ),
        "status-set" => (
            "--application  (= false)\n    set this status for the application to which the unit belongs if the unit is the leader\n"
                .to_owned(),
            "Sets the workload status of the charm. Message is optional.\n\
             The \"last updated\" attribute of the status is set, even if the\n\
             status and message are the same as what's already set."
                .to_owned(),
        ),
        "status-get" => (
            format!(
                "--application  (= false)\n    print status for all units of this application if this unit is the leader\n\
                 {FORMAT_OPTS}--include-data  (= false)\n    print all status data\n"
            ),
            "By default, only the status value is printed.\n\
             If the --include-data flag is passed, the associated data are printed also."
                .to_owned(),
        ),
        "config-get" => (
            format!("-a, --all  (= false)\n    print all keys\n{FORMAT_OPTS}"),
            CONFIG_GET_DOC.to_owned(),
        ),
        _ => (String::new(), String::new()),
    }
}

const RELATION_IDS_DOC: &str = "
relation-ids outputs a list of the related applications with a relation name.
Accepts a single argument (relation-name) which, in a relation hook, defaults
to the name of the current relation. The output is useful as input to the
relation-list, relation-get, and relation-set commands to read or write other
relation values.

Only relation ids for relations which are not broken are included.
";

const RELATION_LIST_DOC: &str = "
-r must be specified when not in a relation hook

relation-list outputs a list of all the related units for a relation identifier.
If not running in a relation hook context, -r needs to be specified with a
relation identifier similar to the relation-get and relation-set commands.
";

// The first part of relation-get.go's and relation-set.go's `Doc` (their "Further details:"
// sections are left out).
const RELATION_GET_DOC: &str = "
relation-get prints the value of a unit's relation setting, specified by key.
If no key is given, or if the key is \"-\", all keys and values will be printed.

A unit can see its own settings by calling \"relation-get - MYUNIT\", this will include
any changes that have been made with \"relation-set\".

When reading remote relation data, a charm can call relation-get --app - to get
the data for the application data bag that is set by the remote applications
leader.
";

const RELATION_SET_DOC: &str = "
\"relation-set\" writes the local unit's settings for some relation.
If no relation is specified then the current relation is used. The
setting values are not inspected and are stored as strings. Setting
an empty string causes the setting to be removed. Duplicate settings
are not allowed.

If the unit is the leader, it can set the application settings using
\"--app\". These are visible to related applications via 'relation-get --app'
or by supplying the application name to 'relation-get' in place of
a unit name.

The --file option should be used when one or more key-value pairs are
too long to fit within the command length limit of the shell or
operating system. The file will contain a YAML map containing the
settings.  Settings in the file will be overridden by any duplicate
key-value arguments. A value of \"-\" for the filename means <stdin>.
";

const CONFIG_GET_DOC: &str = "
config-get returns information about the application configuration
(as defined by config.yaml). If called without arguments, it returns
a dictionary containing all config settings that are either explicitly
set, or which have a non-nil default value. If the --all flag is passed,
it returns a dictionary containing all defined config settings including
nil values (for those without defaults). If called with a single argument,
it returns the value of that config key. Missing config keys are reported
as nulls, and do not return an error.

<key> and --all are mutually exclusive.
";
