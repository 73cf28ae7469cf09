//! The model: applications, units, relations and their databags, with Juju's rules.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::actions::ActionRecord;
use super::ports::{OpenedPorts, PortChange};
use super::secrets::{SecretHook, SecretOp, SecretRecord};
use crate::ids::{AppName, Endpoint, RelationId, UnitName};
use crate::secret::SecretUri;
use crate::tools::{Config, Databag, LogLevel, StatusKind, WorkloadStatus};

/// A whole Juju model as plain data.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// The model name (`JUJU_MODEL_NAME`).
    pub name: String,
    /// Deployed applications.
    pub applications: BTreeMap<AppName, Application>,
    /// Relations, keyed by relation number.
    pub relations: BTreeMap<u32, Relation>,
    /// The number the next relation gets.
    pub next_relation_number: u32,
    /// Units being removed (`remove_unit` ran; they vanish when their `remove` hook commits).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub dying_units: BTreeSet<UnitName>,
    /// The hook each unit is running, from [`Model::begin_hook`] to [`Model::commit`] or
    /// [`Model::abort`]; the commit applies its life-cycle effects (leaving after `-broken`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub running: BTreeMap<UnitName, HookInvocation>,
    /// Secrets, keyed by their (local) URI.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<SecretUri, SecretRecord>,
    /// How many secret ids were handed out (ids are derived from it, so runs repeat).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub next_secret_number: u64,
    /// Actions, by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub actions: BTreeMap<String, ActionRecord>,
    /// How many actions were queued (Juju 3 numbers them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub next_action_number: u64,
    /// The model's time, in seconds since the epoch: set when the model is created, moved
    /// only by [`Model::advance_clock`] (0 in models from before the clock).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub clock: u64,
}

/// Whether an endpoint provides, requires, or is a peer relation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointRole {
    /// `provides:` in metadata.
    Provides,
    /// `requires:` in metadata.
    Requires,
    /// `peers:` in metadata.
    Peers,
}

impl fmt::Display for EndpointRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Provides => "provides",
            Self::Requires => "requires",
            Self::Peers => "peers",
        })
    }
}

/// A deployed application.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Application {
    /// Its units.
    pub units: BTreeMap<UnitName, UnitRecord>,
    /// The leader unit, if any.
    pub leader: Option<UnitName>,
    /// Charm config as `config-get` returns it.
    pub config: Config,
    /// Leader data (`leader-set`/`leader-get`).
    pub leader_data: Databag,
    /// The charm's endpoints: name → (role, interface).
    pub endpoints: BTreeMap<Endpoint, (EndpointRole, String)>,
    /// Where the charm lives (emulator only; `None` in pure in-memory tests).
    pub charm_dir: Option<PathBuf>,
    /// The number the next unit gets (Juju never reuses a unit number).
    #[serde(default)]
    pub next_unit_number: u32,
}

/// One unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitRecord {
    /// Its workload status (starts as `unknown`).
    #[serde(default = "unknown_status", skip_serializing_if = "is_unknown_status")]
    pub status: WorkloadStatus,
    /// Everything it sent to `juju-log`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<LogEntry>,
    /// Its Juju-side state (`state-get`/`state-set`/`state-delete`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub state: BTreeMap<String, String>,
    /// Port ranges it opened, per endpoint (`*` = all).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub opened_ports: OpenedPorts,
    /// `application-version-set`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub workload_version: String,
}

// Defaults left out of the serialized form: the emulator parses the model on every
// hook-tool call, and most of a big model's units have neither a status nor logs.
fn unknown_status() -> WorkloadStatus {
    WorkloadStatus::new(StatusKind::Unknown, "")
}

fn is_unknown_status(status: &WorkloadStatus) -> bool {
    *status == unknown_status()
}

impl Default for UnitRecord {
    fn default() -> Self {
        Self {
            status: unknown_status(),
            logs: Vec::new(),
            state: BTreeMap::new(),
            opened_ports: OpenedPorts::new(),
            workload_version: String::new(),
        }
    }
}

/// One `juju-log` line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The level.
    pub level: LogLevel,
    /// The message.
    pub message: String,
}

/// One side of a relation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationEnd {
    /// The application.
    pub app: AppName,
    /// Its endpoint.
    pub endpoint: Endpoint,
}

impl RelationEnd {
    /// Builds an end from its parts.
    pub fn new(app: AppName, endpoint: Endpoint) -> Self {
        Self { app, endpoint }
    }
}

impl fmt::Display for RelationEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.app, self.endpoint)
    }
}

/// A relation between two applications (peer relations: the same application twice).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    /// The two ends.
    pub ends: [RelationEnd; 2],
    /// Each unit's own databag (seeded with `private-address`, `ingress-address`,
    /// `egress-subnets` when the unit enters the relation). Kept after the unit departs, so
    /// the other side can still read it.
    pub unit_bags: BTreeMap<UnitName, Databag>,
    /// Each application's databag.
    pub app_bags: BTreeMap<AppName, Databag>,
    /// Each unit's view of the remote units in the relation (what `relation-list` prints).
    /// A unit has an entry while it is in the relation's scope.
    pub members: BTreeMap<UnitName, BTreeSet<UnitName>>,
    /// Set once `remove-relation` started; `relation-ids` stops listing it after `-broken`.
    pub dying: bool,
}

impl Relation {
    /// Whether this is a peer relation (both ends are the same application and endpoint).
    pub fn is_peer(&self) -> bool {
        self.ends[0] == self.ends[1]
    }

    /// The end of `app`, if `app` is part of this relation.
    pub fn local_end(&self, app: &AppName) -> Option<&RelationEnd> {
        self.ends.iter().find(|end| end.app == *app)
    }

    /// The end facing `app` (for a peer relation, the same end).
    pub fn remote_end(&self, app: &AppName) -> Option<&RelationEnd> {
        match &self.ends {
            [a, b] if a.app == *app => Some(b),
            [a, b] if b.app == *app => Some(a),
            _ => None,
        }
    }

    /// Whether `unit` is in the relation's scope now (entered and not yet left).
    pub fn in_scope(&self, unit: &UnitName) -> bool {
        self.members.contains_key(unit)
    }
}

/// Everything Juju tells one hook run: the `JUJU_*` relation environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookInvocation {
    /// The unit the hook runs on.
    pub unit: UnitName,
    /// The hook (its name as Juju gives it, e.g. `proxy-relation-joined`).
    pub hook: String,
    /// `JUJU_RELATION_ID` for relation hooks.
    pub relation: Option<RelationId>,
    /// `JUJU_REMOTE_UNIT` (`None` where Juju exports it empty).
    pub remote_unit: Option<UnitName>,
    /// `JUJU_REMOTE_APP`.
    pub remote_app: Option<AppName>,
    /// `JUJU_DEPARTING_UNIT` in `-departed`.
    pub departing_unit: Option<UnitName>,
    /// The secret of a secret hook (`JUJU_SECRET_ID`, `_LABEL`, `_REVISION`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretHook>,
    /// The id of the action this runs (`JUJU_ACTION_UUID`); `hook` is then the action name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// Relation writes, secret changes and unit-state changes staged during one hook, applied by
/// [`Model::commit`] only on success.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// Staged unit-bag changes per relation number (empty value = delete).
    pub unit_writes: BTreeMap<u32, Databag>,
    /// Staged app-bag changes per relation number (empty value = delete).
    pub app_writes: BTreeMap<u32, Databag>,
    /// Staged secret operations, in call order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_ops: Vec<SecretOp>,
    /// Staged unit-state changes (`None` = `state-delete`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub state_writes: BTreeMap<String, Option<String>>,
    /// Staged `open-port`/`close-port`, in call order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub port_changes: Vec<PortChange>,
}

/// A tool call Juju would refuse, with Juju's exact error text and exit code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// 2 for usage errors, 1 for runtime errors.
    pub code: i32,
    /// The text after `ERROR `, e.g. `cannot write relation settings`.
    pub message: String,
}

impl Refusal {
    pub(super) fn runtime(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }

    pub(super) fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }
}

/// A model or invocation that Juju could never produce.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("impossible state: {0}")]
pub struct Inconsistency(pub String);

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// `base` with `changes` applied: an empty value deletes the key.
pub(super) fn overlay(base: &Databag, changes: &Databag) -> Databag {
    let mut bag = base.clone();
    for (key, value) in changes {
        if value.is_empty() {
            bag.remove(key);
        } else {
            bag.insert(key.clone(), value.clone());
        }
    }
    bag
}

/// The address a unit gets in its relation bags, `unit-get` and `network-get`: a loopback
/// address (127.0.0.0/8 is all loopback on Linux, so a server a charm binds there is
/// reachable), stable per unit, different across units of one application (and, with high
/// probability, across applications).
pub fn unit_address(unit: &UnitName) -> String {
    // FNV-1a over the application name picks the two middle octets.
    let hash = unit.app().as_str().bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let [_, _, high, low] = hash.to_be_bytes();
    format!("127.{high}.{low}.{}", unit.number() % 254 + 1)
}

pub(super) fn inconsistent(message: impl Into<String>) -> Inconsistency {
    Inconsistency(message.into())
}

impl Model {
    /// An empty model with this name.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// The record of a unit, if it exists.
    pub fn unit(&self, unit: &UnitName) -> Option<&UnitRecord> {
        self.applications.get(unit.app())?.units.get(unit)
    }

    /// The relation id of relation `number` as `unit` sees it (its own endpoint), if the
    /// unit's application is part of the relation.
    pub fn relation_id(&self, number: u32, unit: &UnitName) -> Option<RelationId> {
        let end = self.relations.get(&number)?.local_end(unit.app())?;
        Some(RelationId::new(end.endpoint.clone(), number))
    }

    /// `is-leader`.
    pub fn is_leader(&self, unit: &UnitName) -> bool {
        self.applications
            .get(unit.app())
            .is_some_and(|app| app.leader.as_ref() == Some(unit))
    }

    /// `leader-get -`.
    pub fn leader_get(&self, unit: &UnitName) -> Databag {
        self.applications
            .get(unit.app())
            .map(|app| app.leader_data.clone())
            .unwrap_or_default()
    }

    /// `leader-set` (immediate; empty value deletes).
    ///
    /// # Errors
    /// Juju's refusal for a non-leader.
    pub fn leader_set(&mut self, unit: &UnitName, changes: &Databag) -> Result<(), Refusal> {
        if !self.is_leader(unit) {
            return Err(Refusal::runtime(
                "cannot write leadership settings: cannot write settings: not the leader",
            ));
        }
        if let Some(app) = self.applications.get_mut(unit.app()) {
            app.leader_data = overlay(&app.leader_data, changes);
        }
        Ok(())
    }

    /// `status-set` (immediate).
    ///
    /// # Errors
    /// Juju's refusal for a status a charm cannot set.
    pub fn status_set(&mut self, unit: &UnitName, status: &WorkloadStatus) -> Result<(), Refusal> {
        if !status.kind.is_settable() {
            return Err(Refusal::usage(format!(
                "invalid status \"{}\", expected one of [maintenance blocked waiting active]",
                status.kind
            )));
        }
        let record = self
            .applications
            .get_mut(unit.app())
            .and_then(|app| app.units.get_mut(unit))
            .ok_or_else(|| Refusal::runtime(format!("unit \"{unit}\" not found")))?;
        record.status = status.clone();
        Ok(())
    }

    /// `status-get`.
    pub fn status_get(&self, unit: &UnitName) -> WorkloadStatus {
        self.unit(unit)
            .map(|record| record.status.clone())
            .unwrap_or_else(|| UnitRecord::default().status)
    }

    /// `juju-log` (immediate).
    pub fn log(&mut self, unit: &UnitName, level: LogLevel, message: &str) {
        if let Some(record) = self
            .applications
            .get_mut(unit.app())
            .and_then(|app| app.units.get_mut(unit))
        {
            record.logs.push(LogEntry {
                level,
                message: message.to_owned(),
            });
        }
    }

    /// `config-get --all`.
    pub fn config_get(&self, unit: &UnitName) -> Config {
        self.applications
            .get(unit.app())
            .map(|app| app.config.clone())
            .unwrap_or_default()
    }

    pub(super) fn unit_exists(&self, unit: &UnitName) -> bool {
        self.unit(unit).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bag(pairs: &[(&str, &str)]) -> Databag {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn overlay_sets_overrides_and_deletes_with_empty_values() {
        let base = bag(&[("a", "1"), ("b", "2")]);
        let changes = bag(&[("a", ""), ("b", "3"), ("c", "4"), ("missing", "")]);
        assert_eq!(overlay(&base, &changes), bag(&[("b", "3"), ("c", "4")]));
    }

    #[test]
    fn unit_addresses_are_stable_and_differ_between_units() {
        let unit = |s: &str| s.parse::<UnitName>().unwrap();
        assert_eq!(unit_address(&unit("etcd/0")), unit_address(&unit("etcd/0")));
        assert_ne!(unit_address(&unit("etcd/0")), unit_address(&unit("etcd/1")));
        assert_ne!(unit_address(&unit("etcd/0")), unit_address(&unit("kube/0")));
        let address = unit_address(&unit("etcd/3"));
        assert!(
            address.starts_with("127.") && address.ends_with(".4"),
            "{address}"
        );
    }
}
