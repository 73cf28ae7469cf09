//! The exact arguments of each hook-tool call, in one place: the real tools get them, and
//! the in-memory model records the same command lines, so tests that count or compare calls
//! speak about what a real hook would run.

use crate::ids::{Endpoint, RelationId, UnitName};
use crate::secret::{SecretOwnerKind, SecretUri};
use crate::tools::{BagOwner, LogLevel, SecretRevision, WorkloadStatus, WriteScope};

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

/// `field#file=<dir>/<field>` per secret field: values go in files, never on a command
/// line (as ops does). `dir` is where the caller wrote them.
fn secret_fields(args: &mut Vec<String>, fields: &[&str], dir: &str) {
    args.extend(
        fields
            .iter()
            .map(|field| format!("{field}#file={dir}/{field}")),
    );
}

/// `secret-add [--owner unit] [--label <label>] <field>#file=<dir>/<field> ...`
pub(crate) fn secret_add(
    owner: SecretOwnerKind,
    label: Option<&str>,
    fields: &[&str],
    dir: &str,
) -> Vec<String> {
    let mut args = Vec::new();
    if owner == SecretOwnerKind::Unit {
        args.extend(["--owner".into(), "unit".into()]);
    }
    if let Some(label) = label {
        args.extend(["--label".into(), label.to_owned()]);
    }
    secret_fields(&mut args, fields, dir);
    args
}

/// `secret-get --format=json [<uri>] [--label <label>] [--peek|--refresh]`
pub(crate) fn secret_get(
    uri: Option<&SecretUri>,
    label: Option<&str>,
    revision: SecretRevision,
) -> Vec<String> {
    let mut args = vec!["--format=json".to_owned()];
    args.extend(uri.map(ToString::to_string));
    if let Some(label) = label {
        args.extend(["--label".into(), label.to_owned()]);
    }
    match revision {
        SecretRevision::Pinned => {}
        SecretRevision::Peek => args.push("--peek".into()),
        SecretRevision::Refresh => args.push("--refresh".into()),
    }
    args
}

/// `secret-set <uri> <field>#file=<dir>/<field> ...`
pub(crate) fn secret_set(uri: &SecretUri, fields: &[&str], dir: &str) -> Vec<String> {
    let mut args = vec![uri.to_string()];
    secret_fields(&mut args, fields, dir);
    args
}

/// `secret-grant <uri> -r <id> [--unit <unit>]` (and `secret-revoke`, the same shape).
pub(crate) fn secret_access(
    uri: &SecretUri,
    relation: &RelationId,
    unit: Option<&UnitName>,
) -> Vec<String> {
    let mut args = vec![uri.to_string(), "-r".into(), relation.to_string()];
    if let Some(unit) = unit {
        args.extend(["--unit".into(), unit.to_string()]);
    }
    args
}

/// `secret-remove <uri>`
pub(crate) fn secret_remove(uri: &SecretUri) -> Vec<String> {
    vec![uri.to_string()]
}

/// `secret-remove <uri> --revision <n>`
pub(crate) fn secret_remove_revision(uri: &SecretUri, revision: u32) -> Vec<String> {
    vec![uri.to_string(), "--revision".into(), revision.to_string()]
}

/// `secret-ids --format=json`
pub(crate) fn secret_ids() -> Vec<String> {
    vec!["--format=json".into()]
}

/// `secret-info-get --format=json <uri>` or `secret-info-get --format=json --label <label>`
/// (Juju refuses both at once; the URI wins).
pub(crate) fn secret_info_get(uri: Option<&SecretUri>, label: Option<&str>) -> Vec<String> {
    let mut args = vec!["--format=json".to_owned()];
    match (uri, label) {
        (Some(uri), _) => args.push(uri.to_string()),
        (None, Some(label)) => args.extend(["--label".into(), label.to_owned()]),
        (None, None) => {}
    }
    args
}

/// `state-get --format=json`
pub(crate) fn state_get() -> Vec<String> {
    vec!["--format=json".into()]
}

/// `state-set --file -`, the pairs going as JSON (a YAML map) on stdin.
pub(crate) fn state_set() -> Vec<String> {
    vec!["--file".into(), "-".into()]
}

/// `state-delete [--] <key>`
pub(crate) fn state_delete(key: &str) -> Vec<String> {
    let mut args = Vec::new();
    positional(&mut args, key);
    args
}
