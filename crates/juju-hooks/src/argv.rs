//! The exact arguments of each hook-tool call, in one place: the real tools get them, and
//! the in-memory model records the same command lines, so tests that count or compare calls
//! speak about what a real hook would run.

use crate::ids::{Endpoint, RelationId};
use crate::tools::{BagOwner, LogLevel, WorkloadStatus, WriteScope};

/// `relation-ids --format=json <endpoint>`
pub(crate) fn relation_ids(endpoint: &Endpoint) -> Vec<String> {
    vec!["--format=json".into(), endpoint.to_string()]
}

/// `relation-list --format=json -r <id>` (`-r` and its value as two arguments).
pub(crate) fn relation_list(relation: &RelationId) -> Vec<String> {
    vec!["--format=json".into(), "-r".into(), relation.to_string()]
}

/// `relation-get --format=json -r <id> [--app] - <unit or app>`: a whole databag.
pub(crate) fn relation_get(relation: &RelationId, owner: &BagOwner) -> Vec<String> {
    let mut args = relation_list(relation);
    if matches!(owner, BagOwner::App(_)) {
        args.push("--app".into());
    }
    args.extend(["-".into(), owner.to_string()]);
    args
}

/// `relation-set -r <id> [--app] --file -`, the changes going as JSON on stdin.
pub(crate) fn relation_set(relation: &RelationId, scope: WriteScope) -> Vec<String> {
    let mut args = vec!["-r".into(), relation.to_string()];
    if scope == WriteScope::App {
        args.push("--app".into());
    }
    args.extend(["--file".into(), "-".into()]);
    args
}

/// `is-leader --format=json`
pub(crate) fn is_leader() -> Vec<String> {
    vec!["--format=json".into()]
}

/// `leader-get --format=json -`
pub(crate) fn leader_get() -> Vec<String> {
    vec!["--format=json".into(), "-".into()]
}

/// `status-get --format=json --include-data`
pub(crate) fn status_get() -> Vec<String> {
    vec!["--format=json".into(), "--include-data".into()]
}

/// `config-get --format=json --all`
pub(crate) fn config_get() -> Vec<String> {
    vec!["--format=json".into(), "--all".into()]
}

/// A positional argument that starts with `-` would be taken for an option; `--` ends the
/// options (Juju's option parser honours it), so only such values get it.
fn positional(args: &mut Vec<String>, value: &str) {
    if value.starts_with('-') {
        args.push("--".into());
    }
    args.push(value.to_owned());
}

/// `status-set <status> [--] <message>` (the message as one argument).
pub(crate) fn status_set(status: &WorkloadStatus) -> Vec<String> {
    let mut args = vec![status.kind.as_str().to_owned()];
    positional(&mut args, &status.message);
    args
}

/// `juju-log -l <LEVEL> [--] <message>` (the message as one argument).
pub(crate) fn juju_log(level: LogLevel, message: &str) -> Vec<String> {
    let mut args = vec!["-l".into(), level.as_str().to_owned()];
    positional(&mut args, message);
    args
}
