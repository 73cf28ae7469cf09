//! The hook-tools seam: every interaction with Juju goes through [`HookTools`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ToolError;
use crate::ids::{AppName, Endpoint, RelationId, UnitName};
use crate::secret::{SecretContent, SecretOwnerKind, SecretUri};

/// A relation databag: string keys to raw string values, as Juju stores them.
pub type Databag = BTreeMap<String, String>;

/// Charm config values, typed as `config-get --format=json` prints them.
pub type Config = BTreeMap<String, serde_json::Value>;

/// Whose databag to read in a relation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BagOwner {
    /// A unit's own databag (the local unit's or a remote unit's).
    Unit(UnitName),
    /// An application databag (`relation-get --app`).
    App(AppName),
}

impl fmt::Display for BagOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unit(u) => u.fmt(f),
            Self::App(a) => a.fmt(f),
        }
    }
}

/// Which of the local side's databags a `relation-set` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WriteScope {
    /// The local unit's databag.
    Unit,
    /// The local application's databag (leader only).
    App,
}

/// A workload status as `status-set` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusKind {
    /// The charm is doing work that needs no operator.
    Maintenance,
    /// The charm needs an operator (or the other side) to act.
    Blocked,
    /// The charm waits for something that will come by itself.
    Waiting,
    /// Ready.
    Active,
    /// Not yet set (what `status-get` reports for a new unit).
    Unknown,
    /// Set by Juju when a hook fails; a charm cannot set it.
    Error,
}

impl StatusKind {
    /// The word Juju uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Maintenance => "maintenance",
            Self::Blocked => "blocked",
            Self::Waiting => "waiting",
            Self::Active => "active",
            Self::Unknown => "unknown",
            Self::Error => "error",
        }
    }

    /// Whether a charm may pass this to `status-set`.
    pub fn is_settable(self) -> bool {
        matches!(
            self,
            Self::Maintenance | Self::Blocked | Self::Waiting | Self::Active
        )
    }
}

impl fmt::Display for StatusKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StatusKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "maintenance" => Self::Maintenance,
            "blocked" => Self::Blocked,
            "waiting" => Self::Waiting,
            "active" => Self::Active,
            "unknown" => Self::Unknown,
            "error" => Self::Error,
            other => return Err(format!("unknown status {other:?}")),
        })
    }
}

/// A workload status with its message.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WorkloadStatus {
    /// The status.
    pub kind: StatusKind,
    /// The one-line message shown by `juju status`.
    pub message: String,
}

impl WorkloadStatus {
    /// Builds a status.
    pub fn new(kind: StatusKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// A `juju-log` level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    /// `DEBUG`
    Debug,
    /// `INFO`
    Info,
    /// `WARNING`
    Warning,
    /// `ERROR`
    Error,
}

impl LogLevel {
    /// The level word `juju-log -l` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "DEBUG",
            Self::Info => "INFO",
            Self::Warning => "WARNING",
            Self::Error => "ERROR",
        }
    }
}

/// Which revision `secret-get` reads (a consumer is pinned to the revision it read first).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SecretRevision {
    /// The revision this unit is pinned to (no option).
    #[default]
    Pinned,
    /// The latest revision, this time only (`--peek`).
    Peek,
    /// The latest revision, and pin it (`--refresh`), as after `secret-changed`.
    Refresh,
}

/// What `secret-info-get` tells the owner about one of its secrets (the part a charm needs
/// to find a secret again; the in-memory model's [`crate::SecretInfo`] has everything).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretSummary {
    /// The secret.
    pub uri: SecretUri,
    /// The owner's label, if set.
    pub label: Option<String>,
    /// The latest revision.
    pub revision: u32,
}

/// Juju's hook tools, one method per tool, with typed arguments and results.
///
/// Contract for implementors:
/// - Reads reflect Juju's view for the running hook: stable within the hook, except that the
///   local unit's own databags show this hook's writes at once.
/// - `relation_set` and `leader_set` take a map where an **empty value deletes the key**.
/// - Relation writes become visible to other units only when the hook succeeds; an
///   implementation must not make them visible earlier.
/// - Errors carry the command line and the tool's stderr; an implementation never panics on a
///   tool's output.
///
/// Implementations: [`crate::ProcessHookTools`] (spawns the real tools), [`crate::CachedTools`]
/// (caches reads of any implementation for one hook), and with feature `testing` the in-memory
/// model in `crate::testing`.
pub trait HookTools {
    /// `relation-ids --format=json <endpoint>`: the relation ids of an endpoint, sorted as Juju
    /// sorts them.
    ///
    /// # Errors
    /// The tool failed or printed something that is not a list of relation ids.
    fn relation_ids(&mut self, endpoint: &Endpoint) -> Result<Vec<RelationId>, ToolError>;

    /// `relation-list --format=json -r <id>`: the remote units currently in a relation (in
    /// `-departed`, the departing unit is already gone).
    ///
    /// # Errors
    /// The tool failed or printed something that is not a list of unit names.
    fn relation_list(&mut self, relation: &RelationId) -> Result<Vec<UnitName>, ToolError>;

    /// `relation-get --format=json -r <id> - <unit>` (or `--app`): a whole databag in one call.
    ///
    /// # Errors
    /// The tool failed or printed something that is not a map of strings.
    fn relation_get(
        &mut self,
        relation: &RelationId,
        owner: &BagOwner,
    ) -> Result<Databag, ToolError>;

    /// `relation-set -r <id> [--app] --file -` with the changes as JSON on stdin; an empty value
    /// deletes a key.
    ///
    /// # Errors
    /// The tool failed (e.g. `--app` on a non-leader).
    fn relation_set(
        &mut self,
        relation: &RelationId,
        scope: WriteScope,
        changes: &Databag,
    ) -> Result<(), ToolError>;

    /// `is-leader --format=json`.
    ///
    /// # Errors
    /// The tool failed or did not print a boolean.
    fn is_leader(&mut self) -> Result<bool, ToolError>;

    /// `leader-get --format=json -`: the application's leader data.
    ///
    /// # Errors
    /// The tool failed or printed something that is not a map of strings.
    fn leader_get(&mut self) -> Result<Databag, ToolError>;

    /// `leader-set key=value ...`; an empty value deletes a key. Immediate, leader only.
    ///
    /// # Errors
    /// The tool failed (e.g. on a non-leader).
    fn leader_set(&mut self, changes: &Databag) -> Result<(), ToolError>;

    /// `status-set <status> <message>`: the unit's workload status. Immediate.
    ///
    /// # Errors
    /// The tool failed.
    fn status_set(&mut self, status: &WorkloadStatus) -> Result<(), ToolError>;

    /// `status-get --format=json --include-data`: the unit's workload status.
    ///
    /// # Errors
    /// The tool failed or printed something that is not a status.
    fn status_get(&mut self) -> Result<WorkloadStatus, ToolError>;

    /// `juju-log -l <level> <message>`. Never pass secrets.
    ///
    /// # Errors
    /// The tool failed.
    fn juju_log(&mut self, level: LogLevel, message: &str) -> Result<(), ToolError>;

    /// `config-get --format=json --all`: the charm's config.
    ///
    /// # Errors
    /// The tool failed or printed something that is not a map.
    fn config_get(&mut self) -> Result<Config, ToolError>;

    /// `secret-add [--owner unit] [--label L] field#file=... ...`: creates a secret (at hook
    /// commit; readable by its owner at once) and returns its URI. Values travel in files
    /// readable only by this user, never on a command line.
    ///
    /// The secret and state tools have default bodies that fail with
    /// [`crate::ToolErrorKind::Unsupported`], as on a Juju without them; see
    /// [`ToolError::is_unsupported`].
    ///
    /// # Errors
    /// The tool failed (e.g. an application secret on a non-leader), or it does not exist.
    fn secret_add(
        &mut self,
        content: &SecretContent,
        owner: SecretOwnerKind,
        label: Option<&str>,
    ) -> Result<SecretUri, ToolError> {
        let _ = (content, owner, label);
        Err(ToolError::unsupported("secret-add"))
    }

    /// `secret-get --format=json <uri>` (or `--label L`), with `--peek`/`--refresh` as asked.
    ///
    /// # Errors
    /// The tool failed (`not found`, `permission denied`, ...), printed something that is
    /// not a map of strings, or does not exist.
    fn secret_get(
        &mut self,
        uri: Option<&SecretUri>,
        label: Option<&str>,
        revision: SecretRevision,
    ) -> Result<SecretContent, ToolError> {
        let _ = (uri, label, revision);
        Err(ToolError::unsupported("secret-get"))
    }

    /// `secret-set <uri> field#file=... ...`: a new revision with this content (at commit).
    ///
    /// # Errors
    /// The tool failed or does not exist.
    fn secret_set(&mut self, uri: &SecretUri, content: &SecretContent) -> Result<(), ToolError> {
        let _ = (uri, content);
        Err(ToolError::unsupported("secret-set"))
    }

    /// `secret-grant <uri> -r <id> [--unit <unit>]`: lets the remote application (or one of
    /// its units) of a relation read the secret (at commit).
    ///
    /// # Errors
    /// The tool failed or does not exist.
    fn secret_grant(
        &mut self,
        uri: &SecretUri,
        relation: &RelationId,
        unit: Option<&UnitName>,
    ) -> Result<(), ToolError> {
        let _ = (uri, relation, unit);
        Err(ToolError::unsupported("secret-grant"))
    }

    /// `secret-revoke <uri> -r <id> [--unit <unit>]`: the reverse of [`Self::secret_grant`].
    ///
    /// # Errors
    /// The tool failed or does not exist.
    fn secret_revoke(
        &mut self,
        uri: &SecretUri,
        relation: &RelationId,
        unit: Option<&UnitName>,
    ) -> Result<(), ToolError> {
        let _ = (uri, relation, unit);
        Err(ToolError::unsupported("secret-revoke"))
    }

    /// `secret-remove <uri>`: removes the secret and all its revisions (at commit).
    ///
    /// # Errors
    /// The tool failed or does not exist.
    fn secret_remove(&mut self, uri: &SecretUri) -> Result<(), ToolError> {
        let _ = uri;
        Err(ToolError::unsupported("secret-remove"))
    }

    /// `secret-remove <uri> --revision <n>`: removes one revision of a secret this unit (or,
    /// on the leader, its application) owns (at commit).
    ///
    /// # Errors
    /// The tool failed or does not exist.
    fn secret_remove_revision(&mut self, uri: &SecretUri, revision: u32) -> Result<(), ToolError> {
        let _ = (uri, revision);
        Err(ToolError::unsupported("secret-remove"))
    }

    /// `secret-ids --format=json`: the URIs of the secrets this unit (or, on the leader, its
    /// application) owns.
    ///
    /// # Errors
    /// The tool failed, printed something that is not a list of strings, or does not exist.
    fn secret_ids(&mut self) -> Result<Vec<SecretUri>, ToolError> {
        Err(ToolError::unsupported("secret-ids"))
    }

    /// `secret-info-get --format=json <uri>` (or `--label L`): the owner's view of a secret.
    ///
    /// # Errors
    /// The tool failed (`not found`), printed something else, or does not exist.
    fn secret_info_get(
        &mut self,
        uri: Option<&SecretUri>,
        label: Option<&str>,
    ) -> Result<SecretSummary, ToolError> {
        let _ = (uri, label);
        Err(ToolError::unsupported("secret-info-get"))
    }

    /// `state-get --format=json`: all of this unit's Juju-side state (Juju ≥ 2.8). Unlike a
    /// local file, it commits or vanishes together with the hook's relation writes.
    ///
    /// # Errors
    /// The tool failed, printed something that is not a map of strings, or does not exist.
    fn state_get(&mut self) -> Result<Databag, ToolError> {
        Err(ToolError::unsupported("state-get"))
    }

    /// `state-set --file -` with the pairs as JSON on stdin (at commit).
    ///
    /// # Errors
    /// The tool failed or does not exist.
    fn state_set(&mut self, values: &Databag) -> Result<(), ToolError> {
        let _ = values;
        Err(ToolError::unsupported("state-set"))
    }

    /// `state-delete <key>` (at commit).
    ///
    /// # Errors
    /// The tool failed or does not exist.
    fn state_delete(&mut self, key: &str) -> Result<(), ToolError> {
        let _ = key;
        Err(ToolError::unsupported("state-delete"))
    }
}
