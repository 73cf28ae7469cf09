//! `application-version-set`, `goal-state`, `relation-model-get`, and the Juju hook tools the
//! emulator does not provide (they exist, and fail with one clear line).
//!
//! Sources: juju/juju 3.6 `worker/uniter/runner/jujuc/application-version-set.go`,
//! `goal-state.go`, `relation-model-get.go`, `commands.go` (the list of tools).

use serde_json::{json, Map, Value};

use super::{parse, print, Failure, Session, ToolIo, FORMAT, OUTPUT, RELATION};
use crate::args::check_empty;
use crate::clock::since_now;

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
    let Some(parsed) = parse("goal-state", &[FORMAT, OUTPUT], args, s, &mut io)? else {
        return Ok(());
    };
    check_empty(&parsed.positionals).map_err(Failure::usage)?;
    let since = since_now();
    let status = |unit: &juju_hooks::UnitName| {
        let word = if s.model.dying_units.contains(unit) {
            "dying"
        } else {
            "active"
        };
        json!({ "status": word, "since": since })
    };
    let unit = s.unit();
    let units: Map<String, Value> = s
        .model
        .applications
        .get(unit.app())
        .map(|app| {
            app.units
                .keys()
                .map(|u| (u.to_string(), status(u)))
                .collect()
        })
        .unwrap_or_default();
    let mut relations = Map::new();
    for rel in s.model.relations.values().filter(|r| r.in_scope(unit)) {
        let (Some(local), Some(remote)) = (rel.local_end(unit.app()), rel.remote_end(unit.app()))
        else {
            continue;
        };
        let entry = relations
            .entry(local.endpoint.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(map) = entry else { continue };
        let joined = if rel.dying { "dying" } else { "joined" };
        map.insert(
            remote.app.to_string(),
            json!({ "status": joined, "since": since }),
        );
        if let Some(app) = s.model.applications.get(&remote.app) {
            for remote_unit in app.units.keys().filter(|u| *u != unit) {
                map.insert(remote_unit.to_string(), status(remote_unit));
            }
        }
    }
    let value = json!({ "units": units, "relations": relations });
    print(&value, &parsed, &mut io)
}

pub(super) fn relation_model_get(
    s: &mut Session,
    args: &[String],
    mut io: ToolIo<'_>,
) -> Result<(), Failure> {
    let Some(parsed) = parse(
        "relation-model-get",
        &[RELATION, FORMAT, OUTPUT],
        args,
        s,
        &mut io,
    )?
    else {
        return Ok(());
    };
    check_empty(&parsed.positionals).map_err(Failure::usage)?;
    s.relation(&parsed)?;
    let uuid = crate::runner::fake_uuid(&s.model.name);
    print(&json!({ "uuid": uuid }), &parsed, &mut io)
}
