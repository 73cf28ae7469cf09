//! `application-version-set`, `goal-state`, `relation-model-get`, and the Juju hook tools the
//! emulator does not provide (they exist, and fail with one clear line).
//!
//! Sources: juju/juju 3.6 `worker/uniter/runner/jujuc/application-version-set.go`,
//! `goal-state.go`, `relation-model-get.go`, `commands.go` (the list of tools).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{
    parse, parse_bare, print, print_as, Failure, Session, ToolIo, FORMAT, OUTPUT, RELATION,
};
use crate::args::check_empty;
use crate::clock::since_now;
use crate::format::{Format, Tree};

/// Juju 3.6 hook tools that need a cloud, storage, resources or Kubernetes.
pub const UNSUPPORTED_TOOLS: [&str; 16] = [
    "add-metric",
    "credential-get",
    "juju-reboot",
    "k8s-raw-get",
    "k8s-raw-set",
    "k8s-spec-get",
    "k8s-spec-set",
    "payload-register",
    "payload-status-set",
    "payload-unregister",
    "pod-spec-get",
    "pod-spec-set",
    "resource-get",
    "storage-add",
    "storage-get",
    "storage-list",
];

/// Usage line and summary of the Juju 3 tools (as their `Info()` in juju/juju 3.6 gives them).
pub(super) fn usage(tool: &str) -> Option<(&'static str, &'static str)> {
    Some(match tool {
        "secret-add" => (
            "secret-add [options] [key[#base64|#file]=value...]",
            "add a new secret",
        ),
        "secret-get" => ("secret-get [options] <ID> [key[#base64]]", "get the content of a secret"),
        "secret-set" => (
            "secret-set [options] <ID> [key[#base64|#file]=value...]",
            "update an existing secret",
        ),
        "secret-grant" => ("secret-grant [options] <ID>", "grant access to a secret"),
        "secret-revoke" => ("secret-revoke [options] <ID>", "revoke access to a secret"),
        "secret-remove" => ("secret-remove [options] <ID>", "remove an existing secret"),
        "secret-ids" => ("secret-ids [options]", "print secret ids"),
        "secret-info-get" => ("secret-info-get [options] <ID>", "get a secret's metadata info"),
        "state-get" => ("state-get [options] [<key>]", "print server-side-state value"),
        "state-set" => (
            "state-set [options] key=value [key=value ...]",
            "set server-side-state values",
        ),
        "state-delete" => ("state-delete [options] <key>", "delete server-side-state key value pairs"),
        "unit-get" => ("unit-get [options] <setting>", "print public-address or private-address"),
        "network-get" => (
            "network-get [options] <binding-name> [--ingress-address] [--bind-address] [--egress-subnets]",
            "get network config",
        ),
        "open-port" => (
            "open-port [options] <port>[/<protocol>] or <from>-<to>[/<protocol>] or icmp",
            "register a request to open a port or port range",
        ),
        "close-port" => (
            "close-port [options] <port>[/<protocol>] or <from>-<to>[/<protocol>] or icmp",
            "register a request to close a port or port range",
        ),
        "opened-ports" => ("opened-ports [options]", "list all ports or port ranges opened by the unit"),
        "application-version-set" => (
            "application-version-set [options] <new-version>",
            "specify which version of the application is deployed",
        ),
        "goal-state" => ("goal-state [options]", "print the status of the charm's peers and related units"),
        "relation-model-get" => ("relation-model-get [options]", "get details about the model hosting a related application"),
        "action-get" => ("action-get [options] [<key>[.<key>.<key>...]]", "get action parameters"),
        "action-set" => ("action-set [options] <key>=<value> [<key>=<value> ...]", "set action results"),
        "action-fail" => ("action-fail [options] [\"<failure message>\"]", "set action fail status with message"),
        "action-log" => ("action-log [options] <message>", "record a progress message for the current action"),
        _ => return None,
    })
}

pub(super) fn unsupported(tool: &str) -> Failure {
    Failure::runtime(format!("{tool} is not supported by juju-emulator"))
}

pub(super) fn application_version_set(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let Some(parsed) = parse("application-version-set", &[], args, s, &mut io)? else {
        return Ok(());
    };
    let Some((version, rest)) = parsed.positionals.split_first() else {
        return Err(Failure::usage("no version specified"));
    };
    check_empty(rest).map_err(Failure::usage)?;
    let unit = s.unit().clone();
    s.model_mut().set_workload_version(&unit, version)?;
    Ok(())
}

pub(super) fn goal_state(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let Some(parsed) = parse_bare("goal-state", &[FORMAT, OUTPUT], args, s, &mut io)? else {
        return Ok(());
    };
    let since = since_now();
    // goal-state.go `goalStateStatusContents`: `status`, then `since`.
    let entry = |status: &str| {
        Tree::Struct(vec![
            ("status", Value::String(status.to_owned()).into()),
            ("since", Value::String(since.clone()).into()),
        ])
    };
    let status = |unit: &juju_hooks::UnitName| {
        entry(if s.model.dying_units.contains(unit) {
            "dying"
        } else {
            "active"
        })
    };
    let unit = s.unit();
    let units: BTreeMap<String, Tree> = s.app_units().map(|u| (u.to_string(), status(u))).collect();
    let mut relations: BTreeMap<String, BTreeMap<String, Tree>> = BTreeMap::new();
    for rel in s.model.relations.values().filter(|r| r.in_scope(unit)) {
        let (Some(local), Some(remote)) = (rel.local_end(unit.app()), rel.remote_end(unit.app()))
        else {
            continue;
        };
        let map = relations.entry(local.endpoint.to_string()).or_default();
        let joined = if rel.dying { "dying" } else { "joined" };
        map.insert(remote.app.to_string(), entry(joined));
        if let Some(app) = s.model.applications.get(&remote.app) {
            for remote_unit in app.units.keys().filter(|u| *u != unit) {
                map.insert(remote_unit.to_string(), status(remote_unit));
            }
        }
    }
    // goal-state.go `formattedGoalState`: `units` before `relations`.
    let relations = relations
        .into_iter()
        .map(|(endpoint, units)| (endpoint, Tree::Map(units)))
        .collect();
    let value = Tree::Struct(vec![
        ("units", Tree::Map(units)),
        ("relations", Tree::Map(relations)),
    ]);
    print_as(&value, &parsed, &mut io, Format::Yaml)
}

pub(super) fn relation_model_get(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let Some(parsed) = parse_bare(
        "relation-model-get",
        &[RELATION, FORMAT, OUTPUT],
        args,
        s,
        &mut io,
    )?
    else {
        return Ok(());
    };
    s.relation(&parsed)?;
    let uuid = crate::runner::fake_uuid(&s.model.name);
    print(&json!({ "uuid": uuid }), &parsed, &mut io)
}
