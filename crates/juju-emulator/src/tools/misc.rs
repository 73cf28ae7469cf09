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
