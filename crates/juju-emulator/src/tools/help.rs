//! `--help` texts, in the shape of Juju's (usage, summary, options, details).

const FORMAT_OPTS: &str = "--format  (= smart)
    Specify output format (json|smart|yaml)
-o, --output (= \"\")
    Specify an output file
";

/// The help text of `tool`, printed on stdout with exit 0.
pub(super) fn text(tool: &str) -> String {
    let (usage, summary, options, details) = match tool {
        "relation-ids" => (
            "relation-ids [options] <name>",
            "list all relation ids for a named endpoint",
            FORMAT_OPTS.to_owned(),
            "With no name, the endpoint of the current relation hook is used.\n\
             Ids print as <endpoint>:<number>, sorted as strings.",
        ),
        "relation-list" => (
            "relation-list [options]",
            "list relation units",
            format!(
                "--app  (= false)\n    List remote application instead of participating units\n\
                 {FORMAT_OPTS}-r, --relation  (= )\n    Specify a relation by id\n"
            ),
            "-r must be specified when not in a relation hook.\n\
             In a -departed hook the departing unit is no longer listed.",
        ),
        "relation-get" => (
            "relation-get [options] <key> <unit id>",
            "get relation settings",
            format!(
                "--app  (= false)\n    Get the relation data for the overall application, not just a unit\n\
                 {FORMAT_OPTS}-r, --relation  (= )\n    Specify a relation by id\n"
            ),
            "relation-get prints the value of a unit's relation setting, specified by key.\n\
             If no key is given, or if the key is \"-\", all keys and values will be printed.\n\
             A unit can see its own settings by calling \"relation-get - MYUNIT\"; this includes\n\
             pending changes made by relation-set in the current hook.",
        ),
        "relation-set" => (
            "relation-set [options] key=value [key=value ...]",
            "set relation settings",
            "--app  (= false)\n    Pick whether you are setting \"application\" settings or \"unit\" settings\n\
             --file  (= )\n    file containing key-value pairs\n\
             --format  (= \"\")\n    deprecated format flag\n\
             -r, --relation  (= )\n    specify a relation by id\n"
                .to_owned(),
            "\"relation-set\" writes the local unit's settings for some relation. If no relation\n\
             is specified then the current relation is used. The setting values are not\n\
             inspected and are stored as strings. Setting an empty string causes the setting\n\
             to be removed. Changes are visible to other units only when the hook succeeds.\n\
             \n\
             The --file option should be used when one or more key-value pairs are too long\n\
             to fit within the command length limit of the shell or operating system. The file\n\
             will contain a YAML map containing the settings (JSON works too; null removes a\n\
             key). Settings in the file will be overridden by any duplicate key-value arguments.\n\
             A value of \"-\" for the filename means <stdin>.",
        ),
        "is-leader" => (
            "is-leader [options]",
            "print application leadership status",
            FORMAT_OPTS.to_owned(),
            "is-leader prints a boolean indicating whether the local unit is guaranteed to be\n\
             application leader for at least 30 seconds.",
        ),
        "leader-get" => (
            "leader-get [options] [<key>]",
            "print application leadership settings",
            FORMAT_OPTS.to_owned(),
            "leader-get prints the value of a leadership setting specified by key. If no key\n\
             is given, or if the key is \"-\", all keys and values will be printed.",
        ),
        "leader-set" => (
            "leader-set <key>=<value> [...]",
            "write application leadership settings",
            String::new(),
            "leader-set immediately writes the supplied key/value pairs to the controller,\n\
             which will then inform non-leader units of the change. It will fail if called\n\
             without arguments, or if called by a unit that is not currently application\n\
             leader. An empty value removes the key.",
        ),
        "juju-log" => (
            "juju-log [options] <message>",
            "write a message to the juju log",
            "--debug  (= false)\n    log at debug level\n\
             --format  (= \"\")\n    deprecated format flag\n\
             -l, --log-level  (= \"INFO\")\n    Send log message at the given level\n"
                .to_owned(),
            "",
        ),
        "status-set" => (
            "status-set [options] <maintenance | blocked | waiting | active> [message]",
            "set status information",
            "--application  (= false)\n    set this status for the application to which the unit belongs if the unit is the leader\n"
                .to_owned(),
            "Sets the workload status of the charm. Message is optional.\n\
             The \"last updated\" attribute of the status is set, even if the\n\
             status and message are the same as what's already set.",
        ),
        "status-get" => (
            "status-get [options] [--include-data] [--application]",
            "print status information",
            format!(
                "--application  (= false)\n    print status for all units of this application if this unit is the leader\n\
                 {FORMAT_OPTS}--include-data  (= false)\n    print all status data\n"
            ),
            "By default, only the status value is printed.\n\
             If the --include-data flag is passed, the associated data are printed also.",
        ),
        "config-get" => (
            "config-get [options] [<key>]",
            "print application configuration",
            format!("-a, --all  (= false)\n    print all keys\n{FORMAT_OPTS}"),
            "When no <key> is supplied, all keys with values or defaults are printed. If\n\
             --all is set, all known keys are printed; those without defaults or values are\n\
             reported as null. <key> and --all are mutually exclusive.",
        ),
        other => match super::misc::usage(other) {
            Some((usage, summary)) => (usage, summary, String::new(), ""),
            None => return format!("Usage: {other}\n"),
        },
    };
    let mut text = format!("Usage: {usage}\n\nSummary:\n{summary}\n");
    if !options.is_empty() {
        text.push_str("\nOptions:\n");
        text.push_str(&options);
    }
    if !details.is_empty() {
        text.push_str("\nDetails:\n");
        text.push_str(details);
        text.push('\n');
    }
    text
}
