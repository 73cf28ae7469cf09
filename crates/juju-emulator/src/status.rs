//! `emulator status`: what `juju status` shows, as aligned columns or JSON.
//!
//! A unit in error shows as Juju shows it (worker/uniter/operation/runhook.go sets the agent
//! status to error with `hook failed: "<hook>"`; `juju status` prints that in the workload
//! column): workload `error`, message `hook failed: "<hook>"`; the workload status the charm
//! set last is kept and shown again once the unit is resolved.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use juju_hooks::UnitName;
use serde_json::{json, Value};

use crate::emulator::{Emulator, HookOutcome, HookReport};
use crate::error::EmulatorError;

/// One unit's line.
struct UnitLine {
    name: UnitName,
    leader: bool,
    workload: String,
    message: String,
    /// The status the charm set, when `workload` shows an error instead.
    charm_status: Option<(String, String)>,
    last_hook: String,
    dying: bool,
}

/// One application's line.
struct AppLine {
    name: String,
    units: usize,
    status: String,
    message: String,
    charm: String,
}

/// One relation's line.
struct RelationLine {
    number: u32,
    ends: String,
    members: Vec<String>,
    dying: bool,
}

/// Everything `status` prints.
pub(crate) struct Status {
    model: String,
    dir: String,
    apps: Vec<AppLine>,
    units: Vec<UnitLine>,
    relations: Vec<RelationLine>,
    queued: usize,
    hooks_run: usize,
    tool_calls: usize,
}

impl Status {
    /// Gathers the status of the emulator's model.
    pub(crate) fn of(emulator: &Emulator) -> Result<Self, EmulatorError> {
        let model = emulator.model();
        let errors = emulator.hook_errors()?;
        let app_status = emulator.app_statuses()?;
        let hook_log = emulator.hook_log()?;
        let mut last_hook: BTreeMap<&UnitName, &HookReport> = BTreeMap::new();
        for report in &hook_log {
            if !matches!(report.outcome, HookOutcome::Dropped { .. }) {
                last_hook.insert(&report.invocation.unit, report);
            }
        }
        let mut apps = Vec::new();
        let mut units = Vec::new();
        for (name, app) in &model.applications {
            let failed = app.units.keys().find_map(|u| errors.get(u));
            let (status, message) = match (failed, app_status.get(name)) {
                (Some(hook), _) => ("error".to_owned(), hook_failed(&hook.hook)),
                (None, Some(s)) => (s.kind.as_str().to_owned(), s.message.clone()),
                (None, None) => (String::new(), String::new()),
            };
            apps.push(AppLine {
                name: name.to_string(),
                units: app.units.len(),
                status,
                message,
                charm: app
                    .charm_dir
                    .as_ref()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default(),
            });
            for (unit, record) in &app.units {
                let charm = (
                    record.status.kind.as_str().to_owned(),
                    record.status.message.clone(),
                );
                let (workload, message, charm_status) = match errors.get(unit) {
                    Some(hook) => ("error".to_owned(), hook_failed(&hook.hook), Some(charm)),
                    None => (charm.0, charm.1, None),
                };
                let last_hook = last_hook
                    .get(unit)
                    .map(|r| {
                        let verdict = if r.succeeded() { "ok" } else { "FAILED" };
                        format!("{} {verdict}", r.invocation.hook)
                    })
                    .unwrap_or_default();
                units.push(UnitLine {
                    name: unit.clone(),
                    leader: app.leader.as_ref() == Some(unit),
                    workload,
                    message,
                    charm_status,
                    last_hook,
                    dying: model.dying_units.contains(unit),
                });
            }
        }
        let relations = model
            .relations
            .iter()
            .map(|(number, rel)| RelationLine {
                number: *number,
                ends: format!("{} {}", rel.ends[0], rel.ends[1]),
                members: rel.members.keys().map(ToString::to_string).collect(),
                dying: rel.dying,
            })
            .collect();
        Ok(Self {
            model: model.name.clone(),
            dir: emulator.dir().display().to_string(),
            apps,
            units,
            relations,
            queued: emulator.queued()?.len(),
            hooks_run: hook_log.len(),
            tool_calls: emulator.calls()?.len(),
        })
    }

    /// Aligned columns; free-text columns (messages, member lists) come last.
    pub(crate) fn tabular(&self) -> String {
        let mut out = format!("Model {:?} in {}\n\n", self.model, self.dir);
        let apps: Vec<Vec<String>> = self
            .apps
            .iter()
            .map(|a| {
                vec![
                    a.name.clone(),
                    a.units.to_string(),
                    a.status.clone(),
                    a.charm.clone(),
                    a.message.clone(),
                ]
            })
            .collect();
        table(
            &mut out,
            &["App", "Units", "Status", "Charm", "Message"],
            &apps,
        );
        out.push('\n');
        let units: Vec<Vec<String>> = self
            .units
            .iter()
            .map(|u| {
                let leader = if u.leader { "*" } else { "" };
                let dying = if u.dying { " (dying)" } else { "" };
                vec![
                    format!("{}{leader}", u.name),
                    u.workload.clone(),
                    format!("{}{dying}", u.last_hook),
                    u.message.clone(),
                ]
            })
            .collect();
        table(
            &mut out,
            &["Unit", "Workload", "Last hook", "Message"],
            &units,
        );
        out.push('\n');
        let relations: Vec<Vec<String>> = self
            .relations
            .iter()
            .map(|r| {
                let dying = if r.dying { " (dying)" } else { "" };
                vec![
                    r.number.to_string(),
                    r.ends.clone(),
                    format!("{}{dying}", r.members.join(" ")),
                ]
            })
            .collect();
        table(
            &mut out,
            &["Relation", "Ends", "Units in scope"],
            &relations,
        );
        let _ = write!(
            out,
            "\nQueued hooks: {}   Hooks run: {}   Tool calls: {}\n",
            self.queued, self.hooks_run, self.tool_calls
        );
        out
    }

    /// The same as JSON, with `juju status --format json`'s key names where they exist.
    pub(crate) fn json(&self) -> String {
        let mut applications = serde_json::Map::new();
        for app in &self.apps {
            let mut units = serde_json::Map::new();
            for unit in self
                .units
                .iter()
                .filter(|u| u.name.app().as_str() == app.name)
            {
                let mut entry = json!({
                    "workload-status": {"current": unit.workload, "message": unit.message},
                    "juju-status": {"current": if unit.dying { "dying" } else { "idle" }},
                    "last-hook": unit.last_hook,
                });
                if unit.leader {
                    entry["leader"] = Value::Bool(true);
                }
                if let Some((current, message)) = &unit.charm_status {
                    entry["charm-status"] = json!({"current": current, "message": message});
                }
                units.insert(unit.name.to_string(), entry);
            }
            applications.insert(
                app.name.clone(),
                json!({
                    "charm": app.charm,
                    "application-status": {"current": app.status, "message": app.message},
                    "units": units,
                }),
            );
        }
        let relations: Vec<Value> = self
            .relations
            .iter()
            .map(|r| {
                json!({
                    "id": r.number,
                    "ends": r.ends,
                    "units-in-scope": r.members,
                    "dying": r.dying,
                })
            })
            .collect();
        let value = json!({
            "model": {"name": self.model, "dir": self.dir},
            "applications": applications,
            "relations": relations,
            "queued-hooks": self.queued,
            "hooks-run": self.hooks_run,
            "tool-calls": self.tool_calls,
        });
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }
}

/// Juju's message for a unit whose hook failed.
fn hook_failed(hook: &str) -> String {
    format!("hook failed: {hook:?}")
}

/// Appends rows under `headers`, each column as wide as its widest cell (the last column
/// is not padded).
fn table(out: &mut String, headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut text = String::new();
        for (i, cell) in cells.into_iter().enumerate() {
            if i == last {
                text.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                text.push_str(cell);
                text.push_str(&" ".repeat(pad + 2));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_their_widest_cell() {
        let mut out = String::new();
        let rows = vec![
            vec!["a/0".to_owned(), "active".to_owned(), "x".repeat(40)],
            vec![
                "app-with-long-name/10".to_owned(),
                "error".to_owned(),
                "m".to_owned(),
            ],
        ];
        table(&mut out, &["Unit", "Workload", "Message"], &rows);
        let lines: Vec<&str> = out.lines().collect();
        let col = |l: &str, word: &str| l.find(word).unwrap();
        assert_eq!(col(lines[0], "Workload"), col(lines[1], "active"));
        assert_eq!(col(lines[0], "Workload"), col(lines[2], "error"));
        assert_eq!(col(lines[0], "Message"), lines[2].len() - 1);
    }
}
