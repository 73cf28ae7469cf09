//! [`crate::HookTools`] over an in-memory [`Model`], recording every call.

use crate::argv;

use super::model::{HookInvocation, Model, Pending, Refusal};
use super::secrets::SecretRead;
use crate::error::{ToolError, ToolErrorKind};
use crate::ids::{Endpoint, RelationId, UnitName};
use crate::secret::{SecretContent, SecretMeta, SecretOwnerKind, SecretUri};
use crate::tools::{
    BagOwner, Config, Databag, HookTools, LogLevel, SecretRevision, SecretSummary, WorkloadStatus,
    WriteScope,
};

/// Where the in-memory `secret-add`/`secret-set` say the value files are (the real tools
/// write them to a fresh private directory).
const SECRET_FILES: &str = "<tmp>";

/// One recorded hook-tool call, as the command line the real tool would get
/// (e.g. `relation-get --format=json -r proxy:3 - etcd/0`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolCall {
    /// The tool name, e.g. `relation-get`.
    pub tool: &'static str,
    /// Its arguments, space-joined (stdin content is never recorded).
    pub args: String,
}

impl ToolCall {
    /// The whole command line, `<tool> <args>`.
    pub fn command_line(&self) -> String {
        if self.args.is_empty() {
            self.tool.to_owned()
        } else {
            format!("{} {}", self.tool, self.args)
        }
    }
}

/// The hook tools of one hook run on one unit, answering from a [`Model`].
///
/// Relation writes go to a [`Pending`] set; `leader-set`, `status-set` and `juju-log` apply
/// to the model at once, as in Juju. A tool can be made to fail with [`InMemoryTools::fail`]
/// to test error handling.
#[derive(Debug)]
pub struct InMemoryTools<'m> {
    pub(crate) model: &'m mut Model,
    pub(crate) invocation: HookInvocation,
    pub(crate) pending: Pending,
    pub(crate) calls: Vec<ToolCall>,
    pub(crate) failing: Vec<(&'static str, i32, String)>,
    pub(crate) lacking: Vec<&'static str>,
}

impl<'m> InMemoryTools<'m> {
    /// Tools for `invocation` over `model` (call [`Model::begin_hook`] first).
    pub fn new(model: &'m mut Model, invocation: HookInvocation) -> Self {
        Self {
            model,
            invocation,
            pending: Pending::default(),
            calls: Vec::new(),
            failing: Vec::new(),
            lacking: Vec::new(),
        }
    }

    /// Makes every later call of `tool` fail with `code` and `stderr` (Juju's `ERROR ...` text).
    ///
    /// Exit code 2 gives [`ToolErrorKind::Usage`], any other [`ToolErrorKind::Runtime`]. The
    /// failing call is recorded and leaves the model untouched.
    pub fn fail(&mut self, tool: &'static str, code: i32, stderr: impl Into<String>) {
        self.failing.push((tool, code, stderr.into()));
    }

    /// Makes `tool` absent, as on an older Juju (the secret tools before 3.0, the state tools
    /// before 2.8): every call fails with [`ToolErrorKind::Unsupported`] and is not recorded
    /// (nothing ran).
    pub fn lack(&mut self, tool: &'static str) {
        self.lacking.push(tool);
    }

    /// Makes every secret tool absent, as on Juju 2.9.
    pub fn lack_secrets(&mut self) {
        for tool in [
            "secret-add",
            "secret-get",
            "secret-set",
            "secret-grant",
            "secret-revoke",
            "secret-remove",
            "secret-ids",
            "secret-info-get",
        ] {
            self.lack(tool);
        }
    }

    /// Makes the unit-state tools absent, as before Juju 2.8.
    pub fn lack_state(&mut self) {
        for tool in ["state-get", "state-set", "state-delete"] {
            self.lack(tool);
        }
    }

    /// The calls made so far.
    pub fn calls(&self) -> &[ToolCall] {
        &self.calls
    }

    /// The relation writes staged so far.
    pub fn pending(&self) -> &Pending {
        &self.pending
    }

    /// Ends the hook: the staged writes and the recorded calls.
    pub fn finish(self) -> (Pending, Vec<ToolCall>) {
        (self.pending, self.calls)
    }

    fn unit(&self) -> &UnitName {
        &self.invocation.unit
    }

    /// Records the call and returns the command line, or the injected failure.
    fn call(&mut self, tool: &'static str, args: Vec<String>) -> Result<String, ToolError> {
        if self.lacking.contains(&tool) {
            return Err(ToolError::unsupported(tool));
        }
        let call = ToolCall {
            tool,
            args: args.join(" "),
        };
        let command = call.command_line();
        self.calls.push(call);
        match self.failing.iter().rev().find(|(name, _, _)| *name == tool) {
            Some((_, 2, stderr)) => Err(ToolError::new(
                command,
                ToolErrorKind::Usage {
                    stderr: stderr.clone(),
                },
            )),
            Some((_, code, stderr)) => Err(ToolError::new(
                command,
                ToolErrorKind::Runtime {
                    code: *code,
                    stderr: stderr.clone(),
                },
            )),
            None => Ok(command),
        }
    }
}

fn refused(command: String) -> impl FnOnce(Refusal) -> ToolError {
    move |refusal| {
        ToolError::new(
            command,
            ToolErrorKind::Refused {
                message: refusal.message,
                code: refusal.code,
            },
        )
    }
}

/// `key=value` pairs as `leader-set` takes them on its command line.
fn pairs(changes: &Databag) -> Vec<String> {
    changes.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

impl HookTools for InMemoryTools<'_> {
    fn relation_ids(&mut self, endpoint: &Endpoint) -> Result<Vec<RelationId>, ToolError> {
        self.call("relation-ids", argv::relation_ids(endpoint))?;
        Ok(self.model.relation_ids(self.unit(), endpoint))
    }

    fn relation_list(&mut self, relation: &RelationId) -> Result<Vec<UnitName>, ToolError> {
        let command = self.call("relation-list", argv::relation_list(relation))?;
        self.model
            .relation_list(self.unit(), relation)
            .map_err(refused(command))
    }

    fn relation_get(
        &mut self,
        relation: &RelationId,
        owner: &BagOwner,
    ) -> Result<Databag, ToolError> {
        let command = self.call("relation-get", argv::relation_get(relation, owner))?;
        self.model
            .relation_get(self.unit(), &self.pending, relation, owner)
            .map_err(refused(command))
    }

    fn relation_set(
        &mut self,
        relation: &RelationId,
        scope: WriteScope,
        changes: &Databag,
    ) -> Result<(), ToolError> {
        let command = self.call("relation-set", argv::relation_set(relation, scope))?;
        self.model
            .relation_set(
                &self.invocation.unit,
                &mut self.pending,
                relation,
                scope,
                changes,
            )
            .map_err(refused(command))
    }

    fn is_leader(&mut self) -> Result<bool, ToolError> {
        self.call("is-leader", argv::is_leader())?;
        Ok(self.model.is_leader(self.unit()))
    }

    fn leader_get(&mut self) -> Result<Databag, ToolError> {
        self.call("leader-get", argv::leader_get())?;
        Ok(self.model.leader_get(self.unit()))
    }

    fn leader_set(&mut self, changes: &Databag) -> Result<(), ToolError> {
        let command = self.call("leader-set", pairs(changes))?;
        self.model
            .leader_set(&self.invocation.unit, changes)
            .map_err(refused(command))
    }

    fn status_set(&mut self, status: &WorkloadStatus) -> Result<(), ToolError> {
        let command = self.call("status-set", argv::status_set(status))?;
        self.model
            .status_set(&self.invocation.unit, status)
            .map_err(refused(command))
    }

    fn status_get(&mut self) -> Result<WorkloadStatus, ToolError> {
        self.call("status-get", argv::status_get())?;
        Ok(self.model.status_get(self.unit()))
    }

    fn juju_log(&mut self, level: LogLevel, message: &str) -> Result<(), ToolError> {
        self.call("juju-log", argv::juju_log(level, message))?;
        self.model.log(&self.invocation.unit, level, message);
        Ok(())
    }

    fn config_get(&mut self) -> Result<Config, ToolError> {
        self.call("config-get", argv::config_get())?;
        Ok(self.model.config_get(self.unit()))
    }

    fn secret_add(
        &mut self,
        content: &SecretContent,
        owner: SecretOwnerKind,
        label: Option<&str>,
    ) -> Result<SecretUri, ToolError> {
        let fields: Vec<&str> = content.values().keys().map(String::as_str).collect();
        let args = argv::secret_add(owner, label, &fields, SECRET_FILES);
        let command = self.call("secret-add", args)?;
        let meta = SecretMeta {
            label: label.map(str::to_owned),
            ..SecretMeta::default()
        };
        self.model
            .secret_add(
                &self.invocation.unit,
                &mut self.pending,
                owner,
                content.clone(),
                meta,
            )
            .map_err(refused(command))
    }

    fn secret_get(
        &mut self,
        uri: Option<&SecretUri>,
        label: Option<&str>,
        revision: SecretRevision,
    ) -> Result<SecretContent, ToolError> {
        let command = self.call("secret-get", argv::secret_get(uri, label, revision))?;
        let read = match revision {
            SecretRevision::Pinned => SecretRead::Tracked,
            SecretRevision::Peek => SecretRead::Peek,
            SecretRevision::Refresh => SecretRead::Refresh,
        };
        self.model
            .secret_get(&self.invocation.unit, &mut self.pending, uri, label, read)
            .map_err(refused(command))
    }

    fn secret_set(&mut self, uri: &SecretUri, content: &SecretContent) -> Result<(), ToolError> {
        let fields: Vec<&str> = content.values().keys().map(String::as_str).collect();
        let command = self.call("secret-set", argv::secret_set(uri, &fields, SECRET_FILES))?;
        self.model
            .secret_set(
                &self.invocation.unit,
                &mut self.pending,
                uri,
                Some(content.clone()),
                SecretMeta::default(),
            )
            .map_err(refused(command))
    }

    fn secret_grant(
        &mut self,
        uri: &SecretUri,
        relation: &RelationId,
        unit: Option<&UnitName>,
    ) -> Result<(), ToolError> {
        let command = self.call("secret-grant", argv::secret_access(uri, relation, unit))?;
        self.model
            .secret_grant(
                &self.invocation.unit,
                &mut self.pending,
                uri,
                relation,
                unit,
            )
            .map_err(refused(command))
    }

    fn secret_revoke(
        &mut self,
        uri: &SecretUri,
        relation: &RelationId,
        unit: Option<&UnitName>,
    ) -> Result<(), ToolError> {
        let command = self.call("secret-revoke", argv::secret_access(uri, relation, unit))?;
        self.model
            .secret_revoke(
                &self.invocation.unit,
                &mut self.pending,
                uri,
                relation,
                unit,
            )
            .map_err(refused(command))
    }

    fn secret_remove(&mut self, uri: &SecretUri) -> Result<(), ToolError> {
        let command = self.call("secret-remove", argv::secret_remove(uri))?;
        self.model
            .secret_remove(&self.invocation.unit, &mut self.pending, uri, None)
            .map_err(refused(command))
    }

    fn secret_remove_revision(&mut self, uri: &SecretUri, revision: u32) -> Result<(), ToolError> {
        let args = argv::secret_remove_revision(uri, revision);
        let command = self.call("secret-remove", args)?;
        self.model
            .secret_remove(
                &self.invocation.unit,
                &mut self.pending,
                uri,
                Some(revision),
            )
            .map_err(refused(command))
    }

    fn secret_ids(&mut self) -> Result<Vec<SecretUri>, ToolError> {
        self.call("secret-ids", argv::secret_ids())?;
        Ok(self.model.secret_ids(&self.invocation.unit, &self.pending))
    }

    fn secret_info_get(
        &mut self,
        uri: Option<&SecretUri>,
        label: Option<&str>,
    ) -> Result<SecretSummary, ToolError> {
        let command = self.call("secret-info-get", argv::secret_info_get(uri, label))?;
        let info = self
            .model
            .secret_info(&self.invocation.unit, &self.pending, uri, label)
            .map_err(refused(command))?;
        Ok(SecretSummary {
            uri: info.uri,
            label: info.label,
            revision: info.revision,
        })
    }

    fn state_get(&mut self) -> Result<Databag, ToolError> {
        self.call("state-get", argv::state_get())?;
        Ok(self.model.state_get(&self.invocation.unit, &self.pending))
    }

    fn state_set(&mut self, values: &Databag) -> Result<(), ToolError> {
        let command = self.call("state-set", argv::state_set())?;
        self.model
            .state_set(&self.invocation.unit, &mut self.pending, values)
            .map_err(refused(command))
    }

    fn state_delete(&mut self, key: &str) -> Result<(), ToolError> {
        let command = self.call("state-delete", argv::state_delete(key))?;
        self.model
            .state_delete(&self.invocation.unit, &mut self.pending, key)
            .map_err(refused(command))
    }
}
