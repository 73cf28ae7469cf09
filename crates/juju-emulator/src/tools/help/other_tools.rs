//! `Info()` and `SetFlags` of the secret, state, unit, network, port, version, goal-state and
//! action tools, as juju/juju 3.6 `worker/uniter/runner/jujuc/` defines them: `secret-*.go`,
//! `state-*.go`, `unit-get.go`, `network-get.go`, `ports.go`, `opened-ports.go`,
//! `application-version-set.go`, `goal-state.go`, `action-*.go`. The texts are Juju's, byte for
//! byte.

use super::{Default, Flag, Info, DEPRECATED_FORMAT, FORMAT_SMART, FORMAT_YAML, OUTPUT};

/// The help data of `tool`, if it is one of this module's.
/// The options `secret-add` and `secret-set` share (secret-add.go, secret-set.go `SetFlags`).
const SECRET_WRITE_FLAGS: &[Flag] = &[
    Flag {
        names: &["description"],
        default: Default::Quoted(""),
        usage: "the secret description",
    },
    Flag {
        names: &["expire"],
        default: Default::Quoted(""),
        usage: "either a duration or time when the secret should expire",
    },
    Flag {
        names: &["file"],
        default: Default::Quoted(""),
        usage: "a YAML file containing secret key values",
    },
    Flag {
        names: &["label"],
        default: Default::Quoted(""),
        usage: "a label used to identify the secret in hooks",
    },
    Flag {
        names: &["owner"],
        default: Default::Quoted("application"),
        usage: "the owner of the secret, either the application or unit",
    },
    Flag {
        names: &["rotate"],
        default: Default::Quoted(""),
        usage: "the secret rotation policy",
    },
];

pub(super) fn info(tool: &str) -> Option<Info> {
    Some(match tool {
        "secret-add" => Info {
            args: "[key[#base64|#file]=value...]",
            purpose: "Add a new secret.",
            flags: SECRET_WRITE_FLAGS,
            doc: r##"
Add a secret with a list of key values.

If a key has the '#base64' suffix, the value is already in base64 format and no
encoding will be performed, otherwise the value will be base64 encoded
prior to being stored.

If a key has the '#file' suffix, the value is read from the corresponding file.

By default, a secret is owned by the application, meaning only the unit
leader can manage it. Use "--owner unit" to create a secret owned by the
specific unit which created it.
"##,
            examples: r##"
    secret-add token=34ae35facd4
    secret-add key#base64=AA==
    secret-add key#file=/path/to/file another-key=s3cret
    secret-add --owner unit token=s3cret 
    secret-add --rotate monthly token=s3cret 
    secret-add --expire 24h token=s3cret 
    secret-add --expire 2025-01-01T06:06:06 token=s3cret 
    secret-add --label db-password \
        --description "my database password" \
        data#base64=s3cret== 
    secret-add --label db-password \
        --description "my database password" \
        --file=/path/to/file
"##,
            see_also: &[],
        },
        "secret-get" => Info {
            args: "<ID> [key[#base64]]",
            purpose: "Get the content of a secret.",
            flags: &[
                FORMAT_YAML,
                Flag { names: &["label"], default: Default::Quoted(""), usage: "a label used to identify the secret in hooks" },
                OUTPUT,
                Flag { names: &["peek"], default: Default::Plain("false"), usage: "get the latest revision just this time" },
                Flag { names: &["refresh"], default: Default::Plain("false"), usage: "get the latest revision and also get this same revision for subsequent calls" },
            ],
            doc: r##"
Get the content of a secret with a given secret ID.
The first time the value is fetched, the latest revision is used.
Subsequent calls will always return this same revision unless
--peek or --refresh are used.
Using --peek will fetch the latest revision just this time.
Using --refresh will fetch the latest revision and continue to
return the same revision next time unless --peek or --refresh is used.

Either the ID or label can be used to identify the secret.
"##,
            examples: r##"
    secret-get secret:9m4e2mr0ui3e8a215n4g
    secret-get secret:9m4e2mr0ui3e8a215n4g token
    secret-get secret:9m4e2mr0ui3e8a215n4g token#base64
    secret-get secret:9m4e2mr0ui3e8a215n4g --format json
    secret-get secret:9m4e2mr0ui3e8a215n4g --peek
    secret-get secret:9m4e2mr0ui3e8a215n4g --refresh
    secret-get secret:9m4e2mr0ui3e8a215n4g --label db-password
"##,
            see_also: &[],
        },
        "secret-set" => Info {
            args: "<ID> [key[#base64]=value...]",
            purpose: "Update an existing secret.",
            flags: SECRET_WRITE_FLAGS,
            doc: r##"
Update a secret with a list of key values, or set new metadata.
If a value has the '#base64' suffix, it is already in base64 format and no
encoding will be performed, otherwise the value will be base64 encoded
prior to being stored.
To just update selected metadata like rotate policy, do not specify any secret value.
"##,
            examples: r##"
    secret-set secret:9m4e2mr0ui3e8a215n4g token=34ae35facd4
    secret-set secret:9m4e2mr0ui3e8a215n4g key#base64 AA==
    secret-set secret:9m4e2mr0ui3e8a215n4g --rotate monthly token=s3cret 
    secret-set secret:9m4e2mr0ui3e8a215n4g --expire 24h
    secret-set secret:9m4e2mr0ui3e8a215n4g --expire 24h token=s3cret 
    secret-set secret:9m4e2mr0ui3e8a215n4g --expire 2025-01-01T06:06:06 token=s3cret 
    secret-set secret:9m4e2mr0ui3e8a215n4g --label db-password \
        --description "my database password" \
        data#base64 s3cret== 
    secret-set secret:9m4e2mr0ui3e8a215n4g --label db-password \
        --description "my database password"
    secret-set secret:9m4e2mr0ui3e8a215n4g --label db-password \
        --description "my database password" \
        --file=/path/to/file
"##,
            see_also: &[],
        },
        "secret-grant" => Info {
            args: "<ID>",
            purpose: "Grant access to a secret.",
            flags: &[
                Flag { names: &["r", "relation"], default: Default::HookRelation, usage: "the relation with which to associate the grant" },
                Flag { names: &["unit"], default: Default::Quoted(""), usage: "the unit to grant access" },
            ],
            doc: r##"
Grant access to view the value of a specified secret.
Access is granted in the context of a relation - unless revoked
earlier, once the relation is removed, so too is the access grant.

By default, all units of the related application are granted access.
Optionally specify a unit name to limit access to just that unit.
"##,
            examples: r##"
    secret-grant secret:9m4e2mr0ui3e8a215n4g -r 0 --unit mediawiki/6
    secret-grant secret:9m4e2mr0ui3e8a215n4g --relation db:2
"##,
            see_also: &[],
        },
        "secret-revoke" => Info {
            args: "<ID>",
            purpose: "Revoke access to a secret.",
            flags: &[
                Flag { names: &["app", "application"], default: Default::Quoted(""), usage: "the application to revoke access" },
                Flag { names: &["r", "relation"], default: Default::HookRelation, usage: "the relation for which to revoke the grant" },
                Flag { names: &["unit"], default: Default::Quoted(""), usage: "the unit to revoke access" },
            ],
            doc: r##"
Revoke access to view the value of a specified secret.
Access may be revoked from an application (all units of
that application lose access), or from a specified unit.
If run in a relation hook, the related application's 
access is revoked, unless a uni is specified, in which
case just that unit's access is revoked.'
"##,
            examples: r##"
    secret-revoke secret:9m4e2mr0ui3e8a215n4g
    secret-revoke secret:9m4e2mr0ui3e8a215n4g --relation 1
    secret-revoke secret:9m4e2mr0ui3e8a215n4g --app mediawiki
    secret-revoke secret:9m4e2mr0ui3e8a215n4g --unit mediawiki/6
"##,
            see_also: &[],
        },
        "secret-remove" => Info {
            args: "<ID>",
            purpose: "Remove an existing secret.",
            flags: &[
                Flag { names: &["revision"], default: Default::Plain("0"), usage: "remove the specified revision" },
            ],
            doc: r##"
Remove a secret with the specified URI.
"##,
            examples: r##"
    secret-remove secret:9m4e2mr0ui3e8a215n4g
"##,
            see_also: &[],
        },
        "secret-ids" => Info {
            args: "",
            purpose: "Print secret IDs.",
            flags: &[
                FORMAT_SMART,
                OUTPUT,
            ],
            doc: r##"
Returns the secret ids for secrets owned by the application.
"##,
            examples: r##"
    secret-ids
"##,
            see_also: &[],
        },
        "secret-info-get" => Info {
            args: "<ID>",
            purpose: "Get a secret's metadata info.",
            flags: &[
                FORMAT_YAML,
                Flag { names: &["label"], default: Default::Quoted(""), usage: "a label used to identify the secret" },
                OUTPUT,
            ],
            doc: r##"
Get the metadata of a secret with a given secret ID.
Either the ID or label can be used to identify the secret.
"##,
            examples: r##"
    secret-info-get secret:9m4e2mr0ui3e8a215n4g
    secret-info-get --label db-password
"##,
            see_also: &[],
        },
        "state-get" => Info {
            args: "[<key>]",
            purpose: "Print server-side-state value.",
            flags: &[
                FORMAT_SMART,
                OUTPUT,
                Flag { names: &["strict"], default: Default::Plain("false"), usage: "Return an error if the requested key does not exist" },
            ],
            doc: r##"
state-get prints the value of the server side state specified by key.
If no key is given, or if the key is "-", all keys and values will be printed.
"##,
            examples: "",
            see_also: &["state-delete", "state-set"],
        },
        "state-set" => Info {
            args: "key=value [key=value ...]",
            purpose: "Set server-side-state values.",
            flags: &[
                Flag { names: &["file"], default: Default::Plain(""), usage: "file containing key-value pairs" },
            ],
            doc: r##"
state-set sets the value of the server side state specified by key.

The --file option should be used when one or more key-value pairs
are too long to fit within the command length limit of the shell
or operating system. The file will contain a YAML map containing
the settings as strings.  Settings in the file will be overridden
by any duplicate key-value arguments. A value of "-" for the filename
means <stdin>.

The following fixed size limits apply:
- Length of stored keys cannot exceed 256 bytes.
- Length of stored values cannot exceed 65536 bytes.
"##,
            examples: "",
            see_also: &["state-delete", "state-get"],
        },
        "state-delete" => Info {
            args: "<key>",
            purpose: "Delete server-side-state key value pairs.",
            flags: &[],
            doc: r##"
state-delete deletes the value of the server side state specified by key.
"##,
            examples: "",
            see_also: &["state-get", "state-set"],
        },
        "unit-get" => Info {
            args: "<setting>",
            purpose: "Print public-address or private-address.",
            flags: &[
                FORMAT_SMART,
                OUTPUT,
            ],
            doc: "",
            examples: "",
            see_also: &[],
        },
        "network-get" => Info {
            args: "<binding-name> [--ingress-address] [--bind-address] [--egress-subnets]",
            purpose: "Get network config.",
            flags: &[
                Flag { names: &["bind-address"], default: Default::Plain("false"), usage: "get the address for the binding on which the unit should listen" },
                Flag { names: &["egress-subnets"], default: Default::Plain("false"), usage: "get the egress subnets for the binding" },
                FORMAT_SMART,
                Flag { names: &["ingress-address"], default: Default::Plain("false"), usage: "get the ingress address for the binding" },
                OUTPUT,
                Flag { names: &["primary-address"], default: Default::Plain("false"), usage: "(deprecated) get the primary address for the binding" },
                Flag { names: &["r", "relation"], default: Default::HookRelation, usage: "specify a relation by id" },
            ],
            doc: r##"
network-get returns the network config for a given binding name. By default
it returns the list of interfaces and associated addresses in the space for
the binding, as well as the ingress address for the binding. If defined, any
egress subnets are also returned.
If one of the following flags are specified, just that value is returned.
If more than one flag is specified, a map of values is returned.

    --bind-address: the address the local unit should listen on to serve connections, as well
                    as the address that should be advertised to its peers.
    --ingress-address: the address the local unit should advertise as being used for incoming connections.
    --egress-subnets: subnets (in CIDR notation) from which traffic on this relation will originate.
"##,
            examples: r##"
    network-get dbserver
    network-get dbserver --bind-address

    See https://discourse.charmhub.io/t/charm-network-primitives/1126 for more
    in depth examples and explanation of usage.
"##,
            see_also: &[],
        },
        "open-port" => Info {
            args: "<port>[/<protocol>] or <from>-<to>[/<protocol>] or icmp",
            purpose: "Register a request to open a port or port range.",
            flags: &[
                Flag { names: &["endpoints"], default: Default::Quoted(""), usage: "a comma-delimited list of application endpoints to target with this operation" },
                DEPRECATED_FORMAT,
            ],
            doc: r##"
open-port registers a request to open the specified port or port range.

By default, the specified port or port range will be opened for all defined
application endpoints. The --endpoints option can be used to constrain the
open request to a comma-delimited list of application endpoints.

The behavior differs a little bit between machine charms and Kubernetes charms.

Machine charms
On public clouds the port will only be open while the application is exposed.
It accepts a single port or range of ports with an optional protocol, which
may be icmp, udp, or tcp. tcp is the default.

open-port will not have any effect if the application is not exposed, and may
have a somewhat delayed effect even if it is. This operation is transactional,
so changes will not be made unless the hook exits successfully.

Prior to Juju 2.9, when charms requested a particular port range to be opened,
Juju would automatically mark that port range as opened for all defined
application endpoints. As of Juju 2.9, charms can constrain opened port ranges
to a set of application endpoints by providing the --endpoints flag followed by
a comma-delimited list of application endpoints.

Kubernetes charms
The port will open directly regardless of whether the application is exposed or not.
This connects to the fact that juju expose currently has no effect on sidecar charms.
Additionally, it is currently not possible to designate a range of ports to open for
Kubernetes charms; to open a range, you will have to run open-port multiple times.
"##,
            examples: r##"
    # Open port 80 to TCP traffic:
    open-port 80/tcp

    # Open port 1234 to UDP traffic:
    open-port 1234/udp

    # Open a range of ports to UDP traffic:
    open-port 1000-2000/udp

    # Open a range of ports to TCP traffic for specific
    # application endpoints (since Juju 2.9):
    open-port 1000-2000/tcp --endpoints dmz,monitoring
"##,
            see_also: &[],
        },
        "close-port" => Info {
            args: "<port>[/<protocol>] or <from>-<to>[/<protocol>] or icmp",
            purpose: "Register a request to close a port or port range.",
            flags: &[
                Flag { names: &["endpoints"], default: Default::Quoted(""), usage: "a comma-delimited list of application endpoints to target with this operation" },
                DEPRECATED_FORMAT,
            ],
            doc: r##"
close-port registers a request to close the specified port or port range.

By default, the specified port or port range will be closed for all defined
application endpoints. The --endpoints option can be used to constrain the
close request to a comma-delimited list of application endpoints.
"##,
            examples: r##"
    # Close single port
    close-port 80

    # Close a range of ports
    close-port 9000-9999/udp

    # Disable ICMP
    close-port icmp

    # Close a range of ports for a set of endpoints (since Juju 2.9)
    close-port 80-90 --endpoints dmz,public
"##,
            see_also: &[],
        },
        "opened-ports" => Info {
            args: "",
            purpose: "List all ports or port ranges opened by the unit.",
            flags: &[
                Flag { names: &["endpoints"], default: Default::Plain("false"), usage: "display the list of target application endpoints for each port range" },
                FORMAT_SMART,
                OUTPUT,
            ],
            doc: r##"
opened-ports lists all ports or port ranges opened by a unit.

By default, the port range listing does not include information about the 
application endpoints that each port range applies to. Each list entry is
formatted as <port>/<protocol> (e.g. "80/tcp") or <from>-<to>/<protocol> 
(e.g. "8080-8088/udp").

If the --endpoints option is specified, each entry in the port list will be
augmented with a comma-delimited list of endpoints that the port range 
applies to (e.g. "80/tcp (endpoint1, endpoint2)"). If a port range applies to
all endpoints, this will be indicated by the presence of a '*' character
(e.g. "80/tcp (*)").

Opening ports is transactional (i.e. will take place on successfully exiting
the current hook), and therefore opened-ports will not return any values for
pending open-port operations run from within the same hook.
"##,
            examples: r##"
    opened-ports
"##,
            see_also: &[],
        },
        "application-version-set" => Info {
            args: "<new-version>",
            purpose: "Specify which version of the application is deployed.",
            flags: &[],
            doc: r##"
application-version-set tells Juju which version of the application
software is running. This could be a package version number or some
other useful identifier, such as a Git hash, that indicates the
version of the deployed software. (It shouldn't be confused with the
charm revision.) The version set will be displayed in "juju status"
output for the application.
"##,
            examples: r##"
    application-version-set 1.1.10
"##,
            see_also: &[],
        },
        "goal-state" => Info {
            args: "",
            purpose: "Print the status of the charm's peers and related units.",
            flags: &[
                FORMAT_YAML,
                OUTPUT,
            ],
            doc: r##"
'goal-state' command will list the charm units and relations, specifying their status and
their relations to other units in different charms.
goal-state queries information about charm deployment and returns it as structured data.

goal-state provides:
    - the details of other peer units have been deployed and their status
    - the details of remote units on the other end of each endpoint and their status

The output will be a subset of that produced by the juju status. There will be output
for sibling (peer) units and relation state per unit.

The unit status values are the workload status of the (sibling) peer units. We also use
a unit status value of dying when the unit’s life becomes dying. Thus unit status is one of:
    - allocating
    - active
    - waiting
    - blocked
    - error
    - dying

The relation status values are determined per unit and depend on whether the unit has entered
or left scope. The possible values are:
    - joining : a relation has been created, but no units are available. This occurs when the
      application on the other side of the relation is added to a model, but the machine hosting
      the first unit has not yet been provisioned. Calling relation-set will work correctly as
      that data will be passed through to the unit when it comes online, but relation-get will
      not provide any data.
    - joined : the relation is active. A unit has entered scope and is accessible to this one.
    - broken : unit has left, or is preparing to leave scope. Calling relation-get is not advised
      as the data will quickly out of date when the unit leaves.
    - suspended : parent cross model relation is suspended
    - error: an external error has been detected

By reporting error state, the charm has a chance to determine that goal state may not be reached
due to some external cause. As with status, we will report the time since the status changed to
allow the charm to empirically guess that a peer may have become stuck if it has not yet reached
active state.
"##,
            examples: r##"
    goal-state
"##,
            see_also: &[],
        },
        "action-get" => Info {
            args: "[<key>[.<key>.<key>...]]",
            purpose: "Get action parameters.",
            flags: &[
                FORMAT_SMART,
                OUTPUT,
            ],
            doc: r##"
action-get will print the value of the parameter at the given key, serialized
as YAML.  If multiple keys are passed, action-get will recurse into the param
map as needed.
"##,
            examples: r##"
    TIMEOUT=$(action-get timeout)
"##,
            see_also: &[],
        },
        "action-set" => Info {
            args: "<key>=<value> [<key>=<value> ...]",
            purpose: "Set action results.",
            flags: &[],
            doc: r##"
action-set adds the given values to the results map of the Action. This map
is returned to the user after the completion of the Action. Keys must start
and end with lowercase alphanumeric, and contain only lowercase alphanumeric,
hyphens and periods.  The following special keys are reserved for internal use: 
"stdout", "stdout-encoding", "stderr", "stderr-encoding".
"##,
            examples: r##"
    action-set outfile.size=10G
    action-set foo.bar=2
    action-set foo.baz.val=3
    action-set foo.bar.zab=4
    action-set foo.baz=1

will yield:

    outfile:
      size: "10G"
    foo:
      bar:
        zab: "4"
      baz: "1"
"##,
            see_also: &[],
        },
        "action-fail" => Info {
            args: r##"["<failure message>"]"##,
            purpose: "Set action fail status with message.",
            flags: &[],
            doc: r##"
action-fail sets the fail state of the action with a given error message.  Using
action-fail without a failure message will set a default message indicating a
problem with the action.
"##,
            examples: r##"
    action-fail 'unable to contact remote service'
"##,
            see_also: &[],
        },
        "action-log" => Info {
            args: "<message>",
            purpose: "Record a progress message for the current action.",
            flags: &[],
            doc: "",
            examples: "",
            see_also: &[],
        },
        _ => return None,
    })
}
