//! Emulator commands beyond the model's life cycle: `refresh` (upgrade-charm),
//! `update-status`, and `run-action` (an action from the charm's `actions.yaml`, reported as
//! `juju run --format yaml` reports it).

use std::collections::BTreeMap;
use std::path::Path;

use juju_hooks::testing::{ActionRecord, ActionStatus, HookInvocation};
use juju_hooks::{AppName, UnitName};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::charm::{copy_charm, CharmInfo};
use crate::emulator::{Emulator, HookOutcome, HookReport};
use crate::error::EmulatorError;

/// One action of `actions.yaml`.
#[derive(Clone, Debug, Default, Deserialize)]
struct ActionSpec {
    #[serde(default)]
    params: BTreeMap<String, ParamSpec>,
    #[serde(default)]
    required: Vec<String>,
}

/// One parameter (a JSON-schema fragment: `type`, `default`).
#[derive(Clone, Debug, Default, Deserialize)]
struct ParamSpec {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    default: Option<serde_yaml_ng::Value>,
}

fn yaml_to_json(value: serde_yaml_ng::Value) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// What `run-action` returns: the finished action and the hook run behind it.
#[derive(Debug)]
pub struct ActionOutcome {
    /// The action's id (`JUJU_ACTION_UUID`).
    pub id: String,
    /// Its final record (status, results, message, log).
    pub record: ActionRecord,
    /// The handler's run.
    pub report: HookReport,
}

impl ActionOutcome {
    /// The answer as `juju run --format yaml` prints it (as JSON, rendered by the caller).
    pub fn juju_run_value(&self) -> Value {
        let mut results = self.record.results.clone();
        results.insert(
            "return-code".to_owned(),
            Value::from(self.report.exit_code().unwrap_or(1)),
        );
        if !self.report.stdout.is_empty() {
            results.insert(
                "stdout".to_owned(),
                Value::String(self.report.stdout.clone()),
            );
        }
        if !self.report.stderr.is_empty() {
            results.insert(
                "stderr".to_owned(),
                Value::String(self.report.stderr.clone()),
            );
        }
        let mut task = Map::new();
        task.insert("id".to_owned(), Value::String(self.id.clone()));
        if !self.record.log.is_empty() {
            task.insert("log".to_owned(), json!(self.record.log));
        }
        if let Some(message) = &self.record.message {
            task.insert("message".to_owned(), Value::String(message.clone()));
        }
        task.insert("results".to_owned(), Value::Object(results));
        task.insert(
            "status".to_owned(),
            Value::String(self.record.status.as_str().to_owned()),
        );
        task.insert(
            "unit".to_owned(),
            Value::String(self.record.unit.to_string()),
        );
        json!({ self.record.unit.to_string(): task })
    }

    /// Whether the action completed.
    pub fn completed(&self) -> bool {
        self.record.status == ActionStatus::Completed
    }
}

/// Parses `key=value` action arguments; values are YAML (`count=3` is a number), as
/// `juju run` reads them.
fn parse_params(pairs: &[String]) -> Result<Map<String, Value>, EmulatorError> {
    let mut params = Map::new();
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| {
                EmulatorError::Usage(format!("argument {pair:?} must be of the form key=value"))
            })?;
        let parsed: serde_yaml_ng::Value = serde_yaml_ng::from_str(value)
            .unwrap_or_else(|_| serde_yaml_ng::Value::String(value.to_owned()));
        let parsed = match parsed {
            serde_yaml_ng::Value::Null if !value.is_empty() => {
                serde_yaml_ng::Value::String(value.to_owned())
            }
            other => other,
        };
        params.insert(key.to_owned(), yaml_to_json(parsed));
    }
    Ok(params)
}

fn type_ok(kind: Option<&str>, value: &Value) -> bool {
    match kind {
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some("array") => value.is_array(),
        Some("object") => value.is_object(),
        _ => true,
    }
}

impl Emulator {
    /// `juju refresh`: copies `charm_dir` (or the application's charm directory again) into
    /// every unit and queues `upgrade-charm` then `config-changed` on each.
    ///
    /// # Errors
    /// Unknown application, an unusable charm, or files that cannot be written.
    pub fn refresh(
        &mut self,
        app: &AppName,
        charm_dir: Option<&Path>,
    ) -> Result<(), EmulatorError> {
        let store = self.store().clone();
        let charm_dir = charm_dir
            .map(std::path::absolute)
            .transpose()
            .map_err(|source| EmulatorError::Io {
                path: charm_dir.map(Path::to_owned).unwrap_or_default(),
                source,
            })?;
        self.change(|model| {
            let application = model.applications.get_mut(app).ok_or_else(|| {
                EmulatorError::Usage(format!("application {app} is not deployed"))
            })?;
            let dir = match &charm_dir {
                Some(dir) => dir.clone(),
                None => application.charm_dir.clone().ok_or_else(|| {
                    EmulatorError::Usage(format!("application {app} has no charm directory"))
                })?,
            };
            let info = CharmInfo::read(&dir)?;
            application.charm_dir = Some(dir.clone());
            // New options get their defaults; values already set stay.
            for (name, value) in info.default_config() {
                application.config.entry(name).or_insert(value);
            }
            let units: Vec<UnitName> = application.units.keys().cloned().collect();
            let mut hooks = Vec::new();
            for unit in &units {
                copy_charm(&dir, &store.unit_charm_dir(unit))?;
                hooks.push(HookInvocation::new(unit.clone(), "upgrade-charm"));
                hooks.push(HookInvocation::new(unit.clone(), "config-changed"));
            }
            Ok(((), hooks))
        })
    }

    /// Queues `update-status` on `unit`, or on every unit of the model.
    ///
    /// # Errors
    /// Unknown unit.
    pub fn update_status(&mut self, unit: Option<&UnitName>) -> Result<(), EmulatorError> {
        self.change(|model| {
            let units: Vec<UnitName> = match unit {
                Some(u) if model.unit(u).is_some() => vec![u.clone()],
                Some(u) => return Err(EmulatorError::Usage(format!("unit {u} does not exist"))),
                None => model
                    .applications
                    .values()
                    .flat_map(|a| a.units.keys().cloned())
                    .filter(|u| !model.dying_units.contains(u))
                    .collect(),
            };
            let hooks = units
                .into_iter()
                .map(|u| HookInvocation::new(u, "update-status"))
                .collect();
            Ok(((), hooks))
        })
    }

    /// Moves the model's clock forward by `by` and queues the hooks that time makes due
    /// (`secret-rotate`, `secret-expired`); returns the model's new time (RFC 3339). The
    /// model's time moves only this way, so the hooks come when a test says.
    ///
    /// # Errors
    /// Files that cannot be read or written.
    pub fn advance_clock(&mut self, by: std::time::Duration) -> Result<String, EmulatorError> {
        self.change(|model| {
            model.clock = crate::clock::model_now(model);
            let hooks = model.advance_clock(by.as_secs());
            Ok((juju_hooks::testing::clock::rfc3339(model.clock), hooks))
        })
    }

    /// Runs action `name` of the unit's charm now with `pairs` (`key=value`, YAML values;
    /// defaults from `actions.yaml` fill in the rest) and returns how it ended. Like `juju
    /// run`, the action's relation or state writes commit when it exits 0.
    ///
    /// # Errors
    /// Unknown unit or action, a missing required parameter, a value of the wrong type, or
    /// files that cannot be read or written.
    pub fn run_action(
        &mut self,
        unit: &UnitName,
        name: &str,
        pairs: &[String],
    ) -> Result<ActionOutcome, EmulatorError> {
        let charm_dir = self.unit_charm_dir(unit);
        let path = charm_dir.join("actions.yaml");
        let specs: BTreeMap<String, Option<ActionSpec>> = match std::fs::read(&path) {
            Ok(bytes) => serde_yaml_ng::from_slice(&bytes).map_err(|e| EmulatorError::Corrupt {
                path: path.clone(),
                reason: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => return Err(EmulatorError::Io { path, source }),
        };
        let spec = specs.get(name).ok_or_else(|| {
            EmulatorError::Usage(format!(
                "action {name:?} not defined on unit {:?}",
                unit.to_string()
            ))
        })?;
        let spec = spec.clone().unwrap_or_default();
        let mut params = parse_params(pairs)?;
        for (key, param) in &spec.params {
            if let (false, Some(default)) = (params.contains_key(key), &param.default) {
                params.insert(key.clone(), yaml_to_json(default.clone()));
            }
            if let Some(value) = params.get(key) {
                if !type_ok(param.kind.as_deref(), value) {
                    return Err(EmulatorError::Usage(format!(
                        "validation failed: (root).{key} : invalid type. Expected: {}, given: {}",
                        param.kind.as_deref().unwrap_or("any"),
                        json_type(value)
                    )));
                }
            }
        }
        if let Some(missing) = spec.required.iter().find(|k| !params.contains_key(*k)) {
            return Err(EmulatorError::Usage(format!(
                "validation failed: (root) : {missing} is required"
            )));
        }
        let (id, invocation) = self.change(|model| {
            let (id, invocation) = model
                .enqueue_action(unit, name, params)
                .map_err(|r| EmulatorError::Usage(r.message))?;
            model.start_action(&id);
            Ok(((id, invocation), Vec::new()))
        })?;
        let report = self.run_hook(invocation)?;
        // context.go `Flush`: a missing handler, or the commit's refusal, is the message.
        let error = match (&report.outcome, report.exit_code()) {
            (HookOutcome::NoHandler, _) => Some(format!(
                "action not implemented on unit {:?}",
                unit.to_string()
            )),
            (HookOutcome::Refused { reason }, _) => Some(reason.clone()),
            _ if report.succeeded() => None,
            (_, Some(code)) => Some(format!("exit status {code}")),
            (_, None) => Some("the action's process was killed".to_owned()),
        };
        let record = self.change(|model| {
            let record = model
                .finish_action(&id, error.as_deref())
                .ok_or_else(|| EmulatorError::Usage(format!("action {id} vanished")))?;
            Ok((record, Vec::new()))
        })?;
        Ok(ActionOutcome { id, record, report })
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_values_are_yaml() {
        let params = parse_params(&[
            "count=3".into(),
            "name=x".into(),
            "on=true".into(),
            "empty=".into(),
        ])
        .unwrap();
        assert_eq!(params["count"], 3);
        assert_eq!(params["name"], "x");
        assert_eq!(params["on"], true);
        assert_eq!(params["empty"], Value::Null);
        assert!(parse_params(&["novalue".into()]).is_err());
        assert!(type_ok(Some("integer"), &params["count"]));
        assert!(!type_ok(Some("string"), &params["count"]));
    }
}
