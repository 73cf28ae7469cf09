//! `Info()` and `SetFlags` of the relation, leadership, log, status and config tools, as
//! juju/juju 3.6 `worker/uniter/runner/jujuc/` defines them: `relation-ids.go`,
//! `relation-list.go`, `relation-get.go`, `relation-set.go`, `relation-model-get.go`,
//! `is-leader.go`, `leader-get.go`, `leader-set.go`, `juju-log.go`, `status-set.go`,
//! `status-get.go`, `config-get.go`. The texts are Juju's, byte for byte.

use super::{Default, Flag, Info, DEPRECATED_FORMAT, FORMAT_SMART, OUTPUT};

/// The help data of `tool`, if it is one of this module's.
pub(super) fn info(tool: &str) -> Option<Info> {
    Some(match tool {
        "relation-ids" => Info {
            args: "<name>",
            purpose: "List all relation IDs for the given endpoint.",
            flags: &[
                FORMAT_SMART,
                OUTPUT,
            ],
            doc: r##"
relation-ids outputs a list of the related applications with a relation name.
Accepts a single argument (relation-name) which, in a relation hook, defaults
to the name of the current relation. The output is useful as input to the
relation-list, relation-get, and relation-set commands to read or write other
relation values.

Only relation ids for relations which are not broken are included.
"##,
            examples: r##"
    relation-ids database
"##,
            see_also: &[],
        },
        "relation-list" => Info {
            args: "",
            purpose: "List relation units.",
            flags: &[
                Flag { names: &["app"], default: Default::Plain("false"), usage: "List remote application instead of participating units" },
                FORMAT_SMART,
                OUTPUT,
                Flag { names: &["r", "relation"], default: Default::HookRelation, usage: "Specify a relation by id" },
            ],
            doc: r##"
-r must be specified when not in a relation hook

relation-list outputs a list of all the related units for a relation identifier.
If not running in a relation hook context, -r needs to be specified with a
relation identifier similar to the relation-get and relation-set commands.
"##,
            examples: "",
            see_also: &[],
        },
        "relation-get" => Info {
            args: "<key> <unit id>",
            purpose: "Get relation settings.",
            flags: &[
                Flag { names: &["app"], default: Default::Plain("false"), usage: "Get the relation data for the overall application, not just a unit" },
                FORMAT_SMART,
                OUTPUT,
                Flag { names: &["r", "relation"], default: Default::HookRelation, usage: "Specify a relation by id" },
            ],
            doc: r##"
relation-get prints the value of a unit's relation setting, specified by key.
If no key is given, or if the key is "-", all keys and values will be printed.

A unit can see its own settings by calling "relation-get - MYUNIT", this will include
any changes that have been made with "relation-set".

When reading remote relation data, a charm can call relation-get --app - to get
the data for the application data bag that is set by the remote applications
leader.

Further details:
relation-get reads the settings of the local unit, or of any remote unit, in a given
relation (set with -r, defaulting to the current relation identifier, as in relation-set).
The first argument specifies the settings key, and the second the remote unit, which may
be omitted if a default is available (that is, when running a relation hook other
than -relation-broken).

If the first argument is omitted, a dictionary of all current keys and values will be
printed; all values are always plain strings without any interpretation. If you need to
specify a remote unit but want to see all settings, use - for the first argument.

The environment variable JUJU_REMOTE_UNIT stores the default remote unit.

You should never depend upon the presence of any given key in relation-get output.
Processing that depends on specific values (other than private-address) should be
restricted to -relation-changed hooks for the relevant unit, and the absence of a
remote unit’s value should never be treated as an error in the local unit.

In practice, it is common and encouraged for -relation-changed hooks to exit early,
without error, after inspecting relation-get output and determining the data is
inadequate; and for all other hooks to be resilient in the face of missing keys,
such that -relation-changed hooks will be sufficient to complete all configuration
that depends on remote unit settings.

Key value pairs for remote units that have departed remain accessible for the lifetime
of the relation.
"##,
            examples: r##"
    # Getting the settings of the default unit in the default relation is done with:
    $ relation-get
    username: jim
    password: "12345"

    # To get a specific setting from the default remote unit in the default relation
    $ relation-get username
    jim

    # To get all settings from a particular remote unit in a particular relation you
    $ relation-get -r database:7 - mongodb/5
    username: bob
    password: 2db673e81ffa264c
"##,
            see_also: &[],
        },
        "relation-set" => Info {
            args: "key=value [key=value ...]",
            purpose: "Set relation settings.",
            flags: &[
                Flag { names: &["app"], default: Default::Plain("false"), usage: r##"pick whether you are setting "application" settings or "unit" settings"## },
                Flag { names: &["file"], default: Default::Plain(""), usage: "file containing key-value pairs" },
                DEPRECATED_FORMAT,
                Flag { names: &["r", "relation"], default: Default::HookRelation, usage: "specify a relation by id" },
            ],
            doc: r##"
"relation-set" writes the local unit's settings for some relation.
If no relation is specified then the current relation is used. The
setting values are not inspected and are stored as strings. Setting
an empty string causes the setting to be removed. Duplicate settings
are not allowed.

If the unit is the leader, it can set the application settings using
"--app". These are visible to related applications via 'relation-get --app'
or by supplying the application name to 'relation-get' in place of
a unit name.

The --file option should be used when one or more key-value pairs are
too long to fit within the command length limit of the shell or
operating system. The file will contain a YAML map containing the
settings.  Settings in the file will be overridden by any duplicate
key-value arguments. A value of "-" for the filename means <stdin>.

Further details:
relation-set writes the local unit’s settings for some relation. If it’s not running in a
relation hook, -r needs to be specified. The value part of an argument is not inspected,
and is stored directly as a string. Setting an empty string causes the setting to be removed.

relation-set is the tool for communicating information between units of related applications.
By convention the charm that provides an interface is likely to set values, and a charm that
requires that interface will read values; but there is nothing enforcing this. Whatever
information you need to propagate for the remote charm to work must be propagated via relation-set,
with the single exception of the private-address key, which is always set before the unit joins.

For some charms you may wish to overwrite the private-address setting, for example if you’re
writing a charm that serves as a proxy for some external application. It is rarely a good idea
to remove that key though, as most charms expect that value to exist unconditionally and may
fail if it is not present.

All values are set in a transaction at the point when the hook terminates successfully
(i.e. the hook exit code is 0). At that point all changed values will be communicated to
the rest of the system, causing -changed hooks to run in all related units.

There is no way to write settings for any unit other than the local unit. However, any hook
on the local unit can write settings for any relation which the local unit is participating in.
"##,
            examples: r##"
    relation-set port=80 tuning=default

    relation-set -r server:3 username=jim password=12345
"##,
            see_also: &[],
        },
        "relation-model-get" => Info {
            args: "",
            purpose: "Get details about the model hosing a related application.",
            flags: &[
                FORMAT_SMART,
                OUTPUT,
                Flag { names: &["r", "relation"], default: Default::HookRelation, usage: "Specify a relation by id" },
            ],
            doc: r##"
-r must be specified when not in a relation hook

relation-model-get outputs details about the model hosting the application
on the other end of a unit relation.
If not running in a relation hook context, -r needs to be specified with a
relation identifier similar to the relation-get and relation-set commands.
"##,
            examples: "",
            see_also: &[],
        },
        "is-leader" => Info {
            args: "",
            purpose: "Print application leadership status.",
            flags: &[
                FORMAT_SMART,
                OUTPUT,
            ],
            doc: r##"
is-leader prints a boolean indicating whether the local unit is guaranteed to
be application leader for at least 30 seconds. If it fails, you should assume that
there is no such guarantee.
"##,
            examples: r##"
    LEADER=$(is-leader)
    if [ "${LEADER}" == "True" ]; then
      # Do something a leader would do
    fi
"##,
            see_also: &[],
        },
        "leader-get" => Info {
            args: "[<key>]",
            purpose: "Print application leadership settings.",
            flags: &[
                FORMAT_SMART,
                OUTPUT,
            ],
            doc: r##"
leader-get prints the value of a leadership setting specified by key. If no key
is given, or if the key is "-", all keys and values will be printed.
"##,
            examples: r##"
    ADDRESSS=$(leader-get cluster-leader-address)
"##,
            see_also: &[],
        },
        "leader-set" => Info {
            args: "<key>=<value> [...]",
            purpose: "Write application leadership settings.",
            flags: &[],
            doc: r##"
leader-set immediate writes the supplied key/value pairs to the controller,
which will then inform non-leader units of the change. It will fail if called
without arguments, or if called by a unit that is not currently application leader.

leader-set lets you distribute string key=value pairs to other units, but with the
following differences:
    there’s only one leader-settings bucket per application (not one per unit)
    only the leader can write to the bucket
    only minions are informed of changes to the bucket
    changes are propagated instantly

The instant propagation may be surprising, but it exists to satisfy the use case where
shared data can be chosen by the leader at the very beginning of the install hook.

It is strongly recommended that leader settings are always written as a self-consistent
group leader-set one=one two=two three=three.
"##,
            examples: r##"
    leader-set cluster-leader-address=10.0.0.123
"##,
            see_also: &[],
        },
        "juju-log" => Info {
            args: "<message>",
            purpose: "Write a message to the juju log.",
            flags: &[
                Flag { names: &["debug"], default: Default::Plain("false"), usage: "log at debug level" },
                DEPRECATED_FORMAT,
                Flag { names: &["l", "log-level"], default: Default::Quoted("INFO"), usage: "Send log message at the given level" },
            ],
            doc: "",
            examples: r##"
    juju-log -l 'WARN' Something has transpired
"##,
            see_also: &[],
        },
        "status-set" => Info {
            args: "<maintenance | blocked | waiting | active> [message]",
            purpose: "Set status information.",
            flags: &[
                Flag { names: &["application"], default: Default::Plain("false"), usage: "set this status for the application to which the unit belongs if the unit is the leader" },
            ],
            doc: r##"
Sets the workload status of the charm. Message is optional.
The "last updated" attribute of the status is set, even if the
status and message are the same as what's already set.

Further details:
status-set changes what is displayed in juju status.
status-set allows charms to describe their current status.
This places the responsibility on the charm to know its status,
and set it accordingly using the status-set hook tool.
Changes made via status-set are applied without waiting for a
hook execution to end and are not rolled back if a hook
execution fails.

The leader unit is responsible for setting the overall status
of the application by using the --application option.

This hook tool takes 2 arguments. The first is the status code
and the second is a message to report to the user.

Valid status codes are:
    maintenance (the unit is not currently providing a service,
	  but expects to be soon, e.g. when first installing)
    blocked (the unit cannot continue without user input)
    waiting (the unit itself is not in error and requires no
	  intervention, but it is not currently in service as it
	  depends on some external factor, e.g. an application to
	  which it is related is not running)
    active (This unit believes it is correctly offering all
	  the services it is primarily installed to provide)

For more extensive explanations of these status codes, please see
the status reference page https://juju.is/docs/juju/status.

The second argument is a user-facing message, which will be displayed
to any users viewing the status, and will also be visible in the status
history. This can contain any useful information.

In the case of a blocked status though the status message should tell
the user explicitly how to unblock the unit insofar as possible, as this
is primary way of indicating any action to be taken (and may be surfaced
by other tools using Juju, e.g. the Juju GUI).

A unit in the active state with should not generally expect anyone to
look at its status message, and often it is better not to set one at
all. In the event of a degradation of service, this is a good place to
surface an explanation for the degradation (load, hardware failure
or other issue).

A unit in error state will have a message that is set by Juju and not
the charm because the error state represents a crash in a charm hook
- an unmanaged and uninterpretable situation. Juju will set the message
to be a reflection of the hook which crashed.
For example “Crashed installing the software” for an install hook crash
, or “Crash establishing database link” for a crash in a relationship hook.
"##,
            examples: r##"
Set the unit’s status

    # Set the unit's workload status to "maintenance".
    # This implies a short downtime that should self-resolve.
    status-set maintenance "installing software"
    status-set maintenance "formatting storage space, time left: 120s"

    # Set the unit's workload status to "waiting"
    # The workload is awaiting something else in the model to become active
    status-set waiting "waiting for database"

    # Set the unit workload's status to "active"
    # The workload is installed and running. Any messages should be informational.
    status-set active
    status-set active "Storage 95% full"

    # Set the unit's workload status to "blocked"
    # This implies human intervention is required to unblock the unit.
    # Messages should describe what is needed to resolve the problem.
    status-set blocked "Add a database relation"
    status-set blocked "Storage full"

Set the application’s status:

    # From a unit, update its status
    status-set maintenance "Upgrading to 4.1.1"

    # From the leader, update the application's status line
    status-set --application maintenance "Application upgrade underway"

Non-leader units which attempt to use --application will receive an error:

    $ status-set --application maintenance "I'm not the leader."
    error: this unit is not the leader
"##,
            see_also: &[],
        },
        "status-get" => Info {
            args: "[--include-data] [--application]",
            purpose: "Print status information.",
            flags: &[
                Flag { names: &["application"], default: Default::Plain("false"), usage: "print status for all units of this application if this unit is the leader" },
                FORMAT_SMART,
                Flag { names: &["include-data"], default: Default::Plain("false"), usage: "print all status data" },
                OUTPUT,
            ],
            doc: r##"
By default, only the status value is printed.
If the --include-data flag is passed, the associated data are printed also.

Further details:
status-get allows charms to query the current workload status.

Without arguments, it just prints the status code e.g. ‘maintenance’.
With --include-data specified, it prints YAML which contains the status
value plus any data associated with the status.

Include the --application option to get the overall status for the application, rather than an individual unit.
"##,
            examples: r##"
    # Access the unit’s status:
    status-get
    status-get --include-data

    # Access the application’s status:
    status-get --application
"##,
            see_also: &[],
        },
        "config-get" => Info {
            args: "[<key>]",
            purpose: "Print application configuration.",
            flags: &[
                Flag { names: &["a", "all"], default: Default::Plain("false"), usage: "print all keys" },
                FORMAT_SMART,
                OUTPUT,
            ],
            doc: r##"
config-get returns information about the application configuration
(as defined by config.yaml). If called without arguments, it returns
a dictionary containing all config settings that are either explicitly
set, or which have a non-nil default value. If the --all flag is passed,
it returns a dictionary containing all defined config settings including
nil values (for those without defaults). If called with a single argument,
it returns the value of that config key. Missing config keys are reported
as nulls, and do not return an error.

<key> and --all are mutually exclusive.
"##,
            examples: r##"
    INTERVAL=$(config-get interval)

    config-get --all
"##,
            see_also: &[],
        },
        _ => return None,
    })
}
