//! Actions on the model (`action-get`, `action-set`, `action-fail`, `action-log`).
//!
//! As juju/juju 3.6 `worker/uniter/runner/context/context.go` (`ActionParams`,
//! `UpdateActionResults`, `SetActionFailed`, `SetActionMessage`, `LogActionMessage`,
//! `finalizeAction`) and `jujuc/action-*.go`: the action's data lives with the running action
//! (not staged: results of a failing action are kept), and outside an action each tool fails
//! with `not running an action`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::model::{HookInvocation, Model, Refusal};
use crate::ids::UnitName;

/// Where an action is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionStatus {
    /// Queued, not started.
    Pending,
    /// Its handler is running.
    Running,
    /// It finished and did not fail.
    Completed,
    /// `action-fail`, or the handler exited non-zero.
    Failed,
}

impl ActionStatus {
    /// The word `juju run` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }
}

/// One action run on one unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// The unit it runs on.
    pub unit: UnitName,
    /// The action's name (from `actions.yaml`).
    pub name: String,
    /// Its parameters, defaults filled in.
    pub params: Map<String, Value>,
    /// What `action-set` recorded (dotted keys nest).
    pub results: Map<String, Value>,
    /// Its status.
    pub status: ActionStatus,
    /// The failure message (`action-fail`, or the handler's exit status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `action-log` lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<String>,
    /// Whether `action-fail` was called.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
}

fn not_running() -> Refusal {
    Refusal::runtime("not running an action")
}

impl Model {
    /// Queues action `name` on `unit` with `params`; returns its id (Juju 3 numbers actions)
    /// and the invocation that runs it.
    ///
    /// # Errors
    /// `unit "<u>" not found`.
    pub fn enqueue_action(
        &mut self,
        unit: &UnitName,
        name: &str,
        params: Map<String, Value>,
    ) -> Result<(String, HookInvocation), Refusal> {
        if !self.unit_exists(unit) {
            return Err(Refusal::runtime(format!("unit \"{unit}\" not found")));
        }
        self.next_action_number += 1;
        let id = self.next_action_number.to_string();
        self.actions.insert(
            id.clone(),
            ActionRecord {
                unit: unit.clone(),
                name: name.to_owned(),
                params,
                results: Map::new(),
                status: ActionStatus::Pending,
                message: None,
                log: Vec::new(),
                failed: false,
            },
        );
        let invocation = HookInvocation {
            action: Some(id.clone()),
            ..HookInvocation::new(unit.clone(), name)
        };
        Ok((id, invocation))
    }

    fn running_action(&mut self, action: Option<&str>) -> Result<&mut ActionRecord, Refusal> {
        action
            .and_then(|id| self.actions.get_mut(id))
            .filter(|a| a.status == ActionStatus::Running)
            .ok_or_else(not_running)
    }

    /// `action-get`: the parameters of the running action `action` (the invocation's id).
    ///
    /// # Errors
    /// `not running an action`.
    pub fn action_params(&self, action: Option<&str>) -> Result<&Map<String, Value>, Refusal> {
        action
            .and_then(|id| self.actions.get(id))
            .filter(|a| a.status == ActionStatus::Running)
            .map(|a| &a.params)
            .ok_or_else(not_running)
    }

    /// `action-set key.sub=value`: records a result under the dotted path `keys`.
    ///
    /// # Errors
    /// `not running an action`.
    pub fn action_set(
        &mut self,
        action: Option<&str>,
        keys: &[String],
        value: Value,
    ) -> Result<(), Refusal> {
        let record = self.running_action(action)?;
        let Some((last, parents)) = keys.split_last() else {
            return Ok(());
        };
        let mut map = &mut record.results;
        for key in parents {
            let entry = map
                .entry(key.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let Value::Object(inner) = entry else {
                return Ok(());
            };
            map = inner;
        }
        map.insert(last.clone(), value);
        Ok(())
    }

    /// `action-fail [message]`: marks the running action failed.
    ///
    /// # Errors
    /// `not running an action`.
    pub fn action_fail(&mut self, action: Option<&str>, message: &str) -> Result<(), Refusal> {
        let record = self.running_action(action)?;
        record.failed = true;
        record.message = Some(message.to_owned());
        Ok(())
    }

    /// `action-log message`.
    ///
    /// # Errors
    /// `not running an action`.
    pub fn action_log(&mut self, action: Option<&str>, message: &str) -> Result<(), Refusal> {
        self.running_action(action)?.log.push(message.to_owned());
        Ok(())
    }

    /// Marks action `id` running (its handler starts).
    pub fn start_action(&mut self, id: &str) {
        if let Some(record) = self.actions.get_mut(id) {
            record.status = ActionStatus::Running;
        }
    }

    /// Ends action `id`: failed if `action-fail` was called or the handler failed
    /// (`handler_error`, e.g. `exit status 1`, becomes the message unless `action-fail` gave
    /// one), completed otherwise. Returns the final record.
    pub fn finish_action(&mut self, id: &str, handler_error: Option<&str>) -> Option<ActionRecord> {
        let record = self.actions.get_mut(id)?;
        record.status = if record.failed || handler_error.is_some() {
            ActionStatus::Failed
        } else {
            ActionStatus::Completed
        };
        if record.message.is_none() {
            record.message = handler_error.map(str::to_owned);
        }
        Some(record.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_carry_params_results_and_failure() {
        let (mut model, _) = Model::with_relation(("db", 1), ("app", 1), "store", "kv").unwrap();
        let unit: UnitName = "db/0".parse().unwrap();
        assert_eq!(
            model.action_params(None).unwrap_err().message,
            "not running an action"
        );
        let params = Map::from_iter([("count".to_owned(), Value::from(3))]);
        let (id, invocation) = model.enqueue_action(&unit, "backup", params).unwrap();
        assert_eq!(id, "1");
        assert_eq!(invocation.action.as_deref(), Some("1"));
        let env = invocation.env("m", "/c".as_ref());
        assert_eq!(env["JUJU_ACTION_NAME"], "backup");
        assert_eq!(env["JUJU_ACTION_UUID"], "1");
        assert_eq!(env["JUJU_DISPATCH_PATH"], "actions/backup");
        assert_eq!(env["JUJU_HOOK_NAME"], "");
        // Not started yet: the tools refuse.
        assert!(model.action_params(Some(&id)).is_err());
        model.start_action(&id);
        assert_eq!(model.action_params(Some(&id)).unwrap()["count"], 3);
        model
            .action_set(Some(&id), &["out".into(), "path".into()], "/tmp/x".into())
            .unwrap();
        model.action_log(Some(&id), "halfway").unwrap();
        let done = model.finish_action(&id, None).unwrap();
        assert_eq!(done.status, ActionStatus::Completed);
        assert_eq!(done.results["out"]["path"], "/tmp/x");
        assert_eq!(done.log, ["halfway"]);

        let (id, _) = model.enqueue_action(&unit, "backup", Map::new()).unwrap();
        model.start_action(&id);
        model.action_fail(Some(&id), "disk full").unwrap();
        let done = model.finish_action(&id, None).unwrap();
        assert_eq!(done.status, ActionStatus::Failed);
        assert_eq!(done.message.as_deref(), Some("disk full"));

        let (id, _) = model.enqueue_action(&unit, "backup", Map::new()).unwrap();
        model.start_action(&id);
        let done = model.finish_action(&id, Some("exit status 2")).unwrap();
        assert_eq!(done.status, ActionStatus::Failed);
        assert_eq!(done.message.as_deref(), Some("exit status 2"));
    }
}
