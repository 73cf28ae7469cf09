//! The model: applications, units, relations and their databags, with Juju's rules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::context::HookKind;
use crate::ids::{AppName, Endpoint, RelationId, UnitName};
use crate::tools::{BagOwner, Config, Databag, LogLevel, WorkloadStatus, WriteScope};

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
}

/// One unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitRecord {
    /// Its workload status (starts as `unknown`).
    pub status: WorkloadStatus,
    /// Everything it sent to `juju-log`.
    pub logs: Vec<LogEntry>,
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

/// A relation between two applications (peer relations: the same application twice).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    /// The two ends.
    pub ends: [RelationEnd; 2],
    /// Each unit's own databag (seeded with `private-address`, `ingress-address`,
    /// `egress-subnets` when the unit enters the relation).
    pub unit_bags: BTreeMap<UnitName, Databag>,
    /// Each application's databag.
    pub app_bags: BTreeMap<AppName, Databag>,
    /// Each unit's view of the remote units in the relation (what `relation-list` prints).
    pub members: BTreeMap<UnitName, BTreeSet<UnitName>>,
    /// Set once `remove-relation` started; `relation-ids` stops listing it after `-broken`.
    pub dying: bool,
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
}

/// Relation writes staged during one hook, applied by [`Model::commit`] only on success.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// Staged unit-bag changes per relation number (empty value = delete).
    pub unit_writes: BTreeMap<u32, Databag>,
    /// Staged app-bag changes per relation number (empty value = delete).
    pub app_writes: BTreeMap<u32, Databag>,
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

/// A model or invocation that Juju could never produce.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("impossible state: {0}")]
pub struct Inconsistency(pub String);

#[allow(unused_variables)] // bodies land with the model implementation
impl Model {
    /// An empty model with this name.
    pub fn new(name: impl Into<String>) -> Self {
        todo!("model implementation")
    }

    /// Deploys an application with `units` units (`app/0`..), the first one leader.
    ///
    /// # Errors
    /// The application already exists.
    pub fn deploy(
        &mut self,
        app: &AppName,
        endpoints: BTreeMap<Endpoint, (EndpointRole, String)>,
        units: u32,
    ) -> Result<Vec<UnitName>, Inconsistency> {
        todo!("model implementation")
    }

    /// Adds a unit to an application; returns it and the hooks Juju fires (`-joined` on the
    /// remote units of every relation, and on the new unit for each remote unit).
    ///
    /// # Errors
    /// Unknown application.
    pub fn add_unit(
        &mut self,
        app: &AppName,
    ) -> Result<(UnitName, Vec<HookInvocation>), Inconsistency> {
        todo!("model implementation")
    }

    /// Relates two endpoints; returns the new relation number and the hooks Juju fires:
    /// `-created` on every unit of both sides, then `-joined` (each followed by `-changed`)
    /// per remote unit.
    ///
    /// # Errors
    /// Unknown application or endpoint, roles that do not match, or already related.
    pub fn relate(
        &mut self,
        a: &RelationEnd,
        b: &RelationEnd,
    ) -> Result<(u32, Vec<HookInvocation>), Inconsistency> {
        todo!("model implementation")
    }

    /// Starts removing a relation; returns `-departed` for every member on every unit, then
    /// `-broken` on every unit.
    ///
    /// # Errors
    /// Unknown relation.
    pub fn unrelate(&mut self, relation: u32) -> Result<Vec<HookInvocation>, Inconsistency> {
        todo!("model implementation")
    }

    /// Removes a unit: the remaining related units get `-departed`; the removed unit gets
    /// `-departed` for each of its members, `-broken` per relation, then `stop` and `remove`.
    ///
    /// # Errors
    /// Unknown unit.
    pub fn remove_unit(&mut self, unit: &UnitName) -> Result<Vec<HookInvocation>, Inconsistency> {
        todo!("model implementation")
    }

    /// Checks that the model is one Juju could produce (units of deployed apps, relations
    /// between declared endpoints, members only from the other side, ...).
    ///
    /// # Errors
    /// The first inconsistency found, described in one sentence.
    pub fn check(&self) -> Result<(), Inconsistency> {
        todo!("model implementation")
    }

    /// Checks an invocation against the model (the unit exists, a relation hook names a
    /// relation of that unit's app and a remote unit of the other side, ...).
    ///
    /// # Errors
    /// The first inconsistency found.
    pub fn check_invocation(&self, hook: &HookInvocation) -> Result<HookKind, Inconsistency> {
        todo!("model implementation")
    }

    /// What Juju does just before a hook runs: in `-joined` the remote unit enters the local
    /// unit's member view (and the local unit's bag is seeded); in `-departed` it leaves.
    ///
    /// # Errors
    /// The invocation is inconsistent with the model.
    pub fn begin_hook(&mut self, hook: &HookInvocation) -> Result<(), Inconsistency> {
        todo!("model implementation")
    }

    /// Applies a successful hook's staged writes and returns the `-changed` hooks Juju fires on
    /// the other side for each relation whose data really changed.
    pub fn commit(&mut self, unit: &UnitName, pending: Pending) -> Vec<HookInvocation> {
        todo!("model implementation")
    }

    /// `relation-ids <endpoint>` as seen by `unit`.
    pub fn relation_ids(&self, unit: &UnitName, endpoint: &Endpoint) -> Vec<RelationId> {
        todo!("model implementation")
    }

    /// `relation-list -r <id>` as seen by `unit`.
    ///
    /// # Errors
    /// Juju's refusal for an unknown relation.
    pub fn relation_list(
        &self,
        unit: &UnitName,
        relation: &RelationId,
    ) -> Result<Vec<UnitName>, Refusal> {
        todo!("model implementation")
    }

    /// The remote application of a relation as seen by `unit` (`relation-list --app`).
    ///
    /// # Errors
    /// Juju's refusal for an unknown relation.
    pub fn remote_app(&self, unit: &UnitName, relation: &RelationId) -> Result<AppName, Refusal> {
        todo!("model implementation")
    }

    /// `relation-get - <owner>`: own bags include this hook's pending writes; a remote
    /// unit that never entered the relation and apps outside it are refused with Juju's texts;
    /// a non-leader reading its own app bag is refused.
    ///
    /// # Errors
    /// Juju's refusal.
    pub fn relation_get(
        &self,
        unit: &UnitName,
        pending: &Pending,
        relation: &RelationId,
        owner: &BagOwner,
    ) -> Result<Databag, Refusal> {
        todo!("model implementation")
    }

    /// `relation-set`: stages changes in `pending` (app scope: leader only).
    ///
    /// # Errors
    /// Juju's refusal (unknown relation; `cannot write relation settings` for a non-leader).
    pub fn relation_set(
        &self,
        unit: &UnitName,
        pending: &mut Pending,
        relation: &RelationId,
        scope: WriteScope,
        changes: &Databag,
    ) -> Result<(), Refusal> {
        todo!("model implementation")
    }

    /// `is-leader`.
    pub fn is_leader(&self, unit: &UnitName) -> bool {
        todo!("model implementation")
    }

    /// `leader-get -`.
    pub fn leader_get(&self, unit: &UnitName) -> Databag {
        todo!("model implementation")
    }

    /// `leader-set` (immediate; empty value deletes).
    ///
    /// # Errors
    /// Juju's refusal for a non-leader.
    pub fn leader_set(&mut self, unit: &UnitName, changes: &Databag) -> Result<(), Refusal> {
        todo!("model implementation")
    }

    /// `status-set` (immediate).
    ///
    /// # Errors
    /// Juju's refusal for a status a charm cannot set.
    pub fn status_set(&mut self, unit: &UnitName, status: &WorkloadStatus) -> Result<(), Refusal> {
        todo!("model implementation")
    }

    /// `status-get`.
    pub fn status_get(&self, unit: &UnitName) -> WorkloadStatus {
        todo!("model implementation")
    }

    /// `juju-log` (immediate).
    pub fn log(&mut self, unit: &UnitName, level: LogLevel, message: &str) {
        todo!("model implementation")
    }

    /// `config-get --all`.
    pub fn config_get(&self, unit: &UnitName) -> Config {
        todo!("model implementation")
    }
}
