//! Secrets on the model, with Juju 3.6's rules.
//!
//! Sources: juju/juju 3.6 `worker/uniter/runner/context/context.go` (`CreateSecret`,
//! `GetSecret`/`getPendingSecretValue`, `UpdateSecret`, `RemoveSecret`, `SecretMetadata`,
//! `GrantSecret`, `RevokeSecret`, `doFlush`), `worker/uniter/runner/jujuc/secret-*.go`, and the
//! secrets manager facade (consumers track a revision; the first read pins the latest).
//!
//! What is staged and what is immediate, as in Juju: creating, updating, removing, granting
//! and revoking are staged in [`Pending`] and applied by [`Model::commit`]; a consumer's
//! tracked revision and label are saved by `secret-get` at once (the facade does that while
//! the hook runs).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::clock::{self, RETRY_DELAY_SECS};
use super::model::{HookInvocation, Model, Pending, Refusal};
use crate::ids::{AppName, RelationId, UnitName};
use crate::secret::{
    RotatePolicy, SecretContent, SecretInfo, SecretMeta, SecretOwner, SecretOwnerKind, SecretUri,
};

/// One secret in the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecretRecord {
    /// Who owns it.
    pub owner: SecretOwner,
    /// The revisions that still exist, with their content.
    pub revisions: BTreeMap<u32, SecretContent>,
    /// The latest revision (revisions count from 1 and are never reused).
    pub latest: u32,
    /// The owner's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `--description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `--rotate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<RotatePolicy>,
    /// `--expire` (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    /// Units that read it: the revision each tracks and its own label.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub consumers: BTreeMap<UnitName, SecretConsumer>,
    /// Grants per relation number.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub grants: BTreeMap<u32, BTreeSet<SecretGrantee>>,
    /// Obsolete revisions whose `secret-remove` hook was already queued on the owner.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub obsolete_notified: BTreeSet<u32>,
    /// When `secret-rotate` is next due (model clock), while the policy rotates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate_due: Option<u64>,
    /// The latest revision when the queued `secret-rotate` fired: the rotation counts as done
    /// once a newer revision exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotating_from: Option<u32>,
    /// When `secret-expired` is next due, per revision with an expiry.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub expire_due: BTreeMap<u32, u64>,
    /// Revisions whose queued `secret-expired` has not run yet.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub expiring: BTreeSet<u32>,
}

/// A unit that reads a secret it does not own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretConsumer {
    /// The revision its `secret-get` returns (until `--refresh`).
    pub revision: u32,
    /// Its label for the secret (`secret-get <uri> --label`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Who a grant gives access to, within one relation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretGrantee {
    /// Every unit of the remote application.
    Application(AppName),
    /// One unit of it (`secret-grant --unit`).
    Unit(UnitName),
}

/// Which revision `secret-get` reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SecretRead {
    /// The tracked revision (the latest for owners; pinned on a consumer's first read).
    #[default]
    Tracked,
    /// `--peek`: the latest, without tracking it.
    Peek,
    /// `--refresh`: the latest, and track it from now on.
    Refresh,
}

/// The secret a secret hook is about (`JUJU_SECRET_ID`, `JUJU_SECRET_LABEL`,
/// `JUJU_SECRET_REVISION`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretHook {
    /// The secret.
    pub uri: SecretUri,
    /// The label the hook's unit knows it by (empty if none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The revision (`secret-remove`, `secret-expired`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u32>,
}

/// A secret change staged by one hook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretOp {
    /// `secret-add`.
    Create {
        /// The new secret.
        uri: SecretUri,
        /// Its owner.
        owner: SecretOwner,
        /// Revision 1.
        content: SecretContent,
        /// Its metadata.
        meta: SecretMeta,
    },
    /// `secret-set`: new content (a new revision) and/or metadata.
    Update {
        /// The secret.
        uri: SecretUri,
        /// New content, if it differs from the latest revision.
        content: Option<SecretContent>,
        /// Metadata changes.
        meta: SecretMeta,
    },
    /// `secret-remove [--revision N]`.
    Remove {
        /// The secret.
        uri: SecretUri,
        /// One revision, or the whole secret.
        revision: Option<u32>,
    },
    /// `secret-grant`.
    Grant {
        /// The secret.
        uri: SecretUri,
        /// The relation number.
        relation: u32,
        /// Who gets access.
        grantee: SecretGrantee,
    },
    /// `secret-revoke`.
    Revoke {
        /// The secret.
        uri: SecretUri,
        /// The relation number.
        relation: u32,
        /// Who loses access.
        grantee: SecretGrantee,
    },
}

fn not_leader() -> Refusal {
    Refusal::runtime("this unit is not the leader")
}

/// The uniter's own refusal (context.go `GrantSecret`, jujuc `secret-info-get.go`): the bare id.
fn not_found(uri: &SecretUri) -> Refusal {
    Refusal::runtime(format!("secret {:?} not found", uri.id()))
}

/// The controller's refusal (state/secrets.go `GetSecret`: `NotFoundf("secret %q",
/// uri.String())`), which `secret-get`, `secret-set` and `secret-remove` meet: the whole URI.
fn unknown_secret(uri: &SecretUri) -> Refusal {
    Refusal::runtime(format!("secret {:?} not found", uri.to_string()))
}

fn permission_denied() -> Refusal {
    Refusal::runtime("permission denied")
}

impl Pending {
    fn created(&self, uri: &SecretUri) -> Option<(&SecretContent, &SecretMeta, &SecretOwner)> {
        self.secret_ops.iter().find_map(|op| match op {
            SecretOp::Create {
                uri: u,
                content,
                meta,
                owner,
            } if u == uri => Some((content, meta, owner)),
            _ => None,
        })
    }

    /// The latest staged update of `uri` that carries content.
    fn updated_content(&self, uri: &SecretUri) -> Option<&SecretContent> {
        self.secret_ops.iter().rev().find_map(|op| match op {
            SecretOp::Update {
                uri: u,
                content: Some(content),
                ..
            } if u == uri => Some(content),
            _ => None,
        })
    }

    /// The label a staged create or update gives `uri`, the latest one winning.
    fn staged_label(&self, uri: &SecretUri) -> Option<&str> {
        self.secret_ops.iter().rev().find_map(|op| match op {
            SecretOp::Create { uri: u, meta, .. } | SecretOp::Update { uri: u, meta, .. }
                if u == uri =>
            {
                meta.label.as_deref()
            }
            _ => None,
        })
    }

    fn removes(&self, uri: &SecretUri) -> bool {
        self.secret_ops
            .iter()
            .any(|op| matches!(op, SecretOp::Remove { uri: u, revision: None } if u == uri))
    }
}

impl SecretRecord {
    fn info(&self, uri: &SecretUri) -> SecretInfo {
        SecretInfo {
            uri: uri.clone(),
            label: self.label.clone(),
            revision: self.latest,
            owner: self.owner.clone(),
            rotation: self.rotation,
            description: self.description.clone(),
            expiry: self.expiry.clone(),
        }
    }

    fn apply_meta(&mut self, meta: &SecretMeta) {
        if let Some(label) = &meta.label {
            self.label = Some(label.clone());
        }
        if let Some(description) = &meta.description {
            self.description = Some(description.clone());
        }
        if let Some(rotation) = meta.rotation {
            self.rotation = Some(rotation);
        }
        if let Some(expiry) = &meta.expiry {
            self.expiry = Some(expiry.clone());
        }
    }

    /// Whether the rotation policy rotates (Juju's `WillRotate`).
    fn rotates(&self) -> bool {
        self.rotation.is_some_and(|p| p != RotatePolicy::Never)
    }

    /// The triggers `meta` (just applied) sets, as the secrets manager facade and state do
    /// (`createSecret`, `updateSecret`): a policy that starts rotating is first due one
    /// period from now, one that stops drops its time; an expiry applies to the latest
    /// revision.
    fn schedule(&mut self, meta: &SecretMeta, rotated_before: bool, now: u64) {
        if meta.rotation.is_some() {
            match self.rotation {
                Some(policy) if self.rotates() && !rotated_before => {
                    self.rotate_due = clock::next_rotation(policy, now);
                }
                _ if !self.rotates() => {
                    self.rotate_due = None;
                    self.rotating_from = None;
                }
                _ => {}
            }
        }
        if let Some(at) = meta.expiry.as_deref().and_then(clock::parse_rfc3339) {
            self.expire_due.insert(self.latest, at);
            self.expiring.remove(&self.latest);
        }
    }

    /// Whether `unit` may read this secret through a grant.
    fn granted_to(&self, unit: &UnitName) -> bool {
        self.grants.values().flatten().any(|grantee| match grantee {
            SecretGrantee::Application(app) => app == unit.app(),
            SecretGrantee::Unit(u) => u == unit,
        })
    }

    /// Revisions older than the latest that no consumer tracks.
    fn obsolete(&self) -> Vec<u32> {
        let tracked: BTreeSet<u32> = self.consumers.values().map(|c| c.revision).collect();
        self.revisions
            .keys()
            .copied()
            .filter(|r| *r < self.latest && !tracked.contains(r))
            .collect()
    }
}

impl Model {
    /// Whether `unit` may manage secrets owned by `owner`: the owner unit itself, or the
    /// leader of the owner application.
    fn manages(&self, unit: &UnitName, owner: &SecretOwner) -> Result<(), Refusal> {
        match owner {
            SecretOwner::Application(app) if app == unit.app() && self.is_leader(unit) => Ok(()),
            SecretOwner::Application(app) if app == unit.app() => Err(not_leader()),
            SecretOwner::Unit(owner) if owner == unit => Ok(()),
            _ => Err(permission_denied()),
        }
    }

    /// Whether `unit` sees the secret as its own (Juju's `SecretMetadata` of the unit: the
    /// application's secrets and the unit's own).
    fn owns_view(unit: &UnitName, owner: &SecretOwner) -> bool {
        match owner {
            SecretOwner::Application(app) => app == unit.app(),
            SecretOwner::Unit(owner) => owner == unit,
        }
    }

    /// The owner, content and metadata of `uri` as `unit`'s hook sees it: staged creates
    /// included, secrets removed in this hook excluded.
    fn secret_owner(&self, pending: &Pending, uri: &SecretUri) -> Option<SecretOwner> {
        let uri = uri.local();
        if pending.removes(&uri) {
            return None;
        }
        if let Some((_, _, owner)) = pending.created(&uri) {
            return Some(owner.clone());
        }
        self.secrets.get(&uri).map(|record| record.owner.clone())
    }

    fn next_secret_uri(&mut self) -> SecretUri {
        // Deterministic ids: a hash of the model name, then a counter (both in xid's 12 bytes).
        let hash = self.name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        self.next_secret_number += 1;
        let mut bytes = [0_u8; 12];
        bytes[..4].copy_from_slice(&hash.to_be_bytes()[..4]);
        bytes[4..].copy_from_slice(&self.next_secret_number.to_be_bytes());
        SecretUri::from_xid_bytes(bytes)
    }

    /// `secret-add`: stages a new secret and returns its URI (allocated now, as Juju does).
    ///
    /// # Errors
    /// `this unit is not the leader` for an application-owned secret on a non-leader;
    /// `secret with label "L" already exists` when the owner already uses the label.
    pub fn secret_add(
        &mut self,
        unit: &UnitName,
        pending: &mut Pending,
        owner: SecretOwnerKind,
        content: SecretContent,
        meta: SecretMeta,
    ) -> Result<SecretUri, Refusal> {
        let owner = match owner {
            SecretOwnerKind::Application => {
                if !self.is_leader(unit) {
                    return Err(not_leader());
                }
                SecretOwner::Application(unit.app().clone())
            }
            SecretOwnerKind::Unit => SecretOwner::Unit(unit.clone()),
        };
        if let Some(label) = &meta.label {
            self.check_label_free(unit, pending, label, None)?;
        }
        let uri = self.next_secret_uri();
        pending.secret_ops.push(SecretOp::Create {
            uri: uri.clone(),
            owner,
            content,
            meta,
        });
        Ok(uri)
    }

    /// Refuses a label the unit's owned secrets (other than `except`) already carry.
    fn check_label_free(
        &self,
        unit: &UnitName,
        pending: &Pending,
        label: &str,
        except: Option<&SecretUri>,
    ) -> Result<(), Refusal> {
        let taken = self
            .owned_uris(unit, pending)
            .into_iter()
            .filter(|uri| Some(uri) != except)
            .any(|uri| self.owner_label(pending, &uri).as_deref() == Some(label));
        if taken {
            return Err(Refusal::runtime(format!(
                "secret with label {label:?} already exists"
            )));
        }
        Ok(())
    }

    fn owner_label(&self, pending: &Pending, uri: &SecretUri) -> Option<String> {
        pending
            .staged_label(uri)
            .map(str::to_owned)
            .or_else(|| self.secrets.get(uri).and_then(|r| r.label.clone()))
    }

    /// The secrets `unit` owns as its hook sees them (staged creates included, staged
    /// removals excluded), sorted.
    fn owned_uris(&self, unit: &UnitName, pending: &Pending) -> Vec<SecretUri> {
        let mut uris: BTreeSet<SecretUri> = self
            .secrets
            .iter()
            .filter(|(_, r)| Self::owns_view(unit, &r.owner))
            .map(|(uri, _)| uri.clone())
            .collect();
        for op in &pending.secret_ops {
            if let SecretOp::Create { uri, owner, .. } = op {
                if Self::owns_view(unit, owner) {
                    uris.insert(uri.clone());
                }
            }
        }
        uris.into_iter().filter(|u| !pending.removes(u)).collect()
    }

    /// Finds the secret `label` names for `unit`: its owned secrets' labels first, then its
    /// consumer labels.
    fn secret_by_label(
        &self,
        unit: &UnitName,
        pending: &Pending,
        label: &str,
    ) -> Option<SecretUri> {
        self.owned_uris(unit, pending)
            .into_iter()
            .find(|uri| self.owner_label(pending, uri).as_deref() == Some(label))
            .or_else(|| {
                self.secrets.iter().find_map(|(uri, record)| {
                    record
                        .consumers
                        .get(unit)
                        .filter(|c| c.label.as_deref() == Some(label))
                        .map(|_| uri.clone())
                })
            })
    }

    /// `secret-get [<uri>] [--label L] [--peek|--refresh]`: the content `unit` sees.
    ///
    /// Owners (the application's units for application-owned secrets) read the latest
    /// revision, or this hook's staged content (a secret added in this hook; with `--peek` or
    /// `--refresh`, a staged new revision). `pending` is mutable because a label given to a
    /// secret added in this hook goes into the staged create. Other units need a grant; their first read pins
    /// the latest revision, later reads return the pinned one until `--refresh`. A label with
    /// a URI names the secret for later reads (the owner's label for owners, the unit's own
    /// label for consumers).
    ///
    /// # Errors
    /// Juju's refusals: `secret "secret:<id>" not found`, `permission denied`, a label that names
    /// nothing, or a label given to a secret that the owner already uses for another.
    pub fn secret_get(
        &mut self,
        unit: &UnitName,
        pending: &mut Pending,
        uri: Option<&SecretUri>,
        label: Option<&str>,
        read: SecretRead,
    ) -> Result<SecretContent, Refusal> {
        // A label given with a URI names the secret for later reads.
        let new_label = uri.and(label).map(str::to_owned);
        let uri = match (uri, label) {
            (Some(uri), _) => uri.local(),
            (None, Some(label)) => self.secret_by_label(unit, pending, label).ok_or_else(|| {
                // The secrets manager facade (`getSecretContent`) when neither an owner
                // label nor a consumer label matches.
                Refusal::runtime(format!("consumer label {label:?} not found"))
            })?,
            (None, None) => return Err(Refusal::usage("require either a secret URI or label")),
        };
        let Some(owner) = self.secret_owner(pending, &uri) else {
            return Err(unknown_secret(&uri));
        };
        if Self::owns_view(unit, &owner) {
            return self.owner_read(unit, pending, &uri, new_label, read);
        }
        let record = self
            .secrets
            .get_mut(&uri)
            .ok_or_else(|| unknown_secret(&uri))?;
        if !record.granted_to(unit) {
            return Err(permission_denied());
        }
        let latest = record.latest;
        let consumer = record.consumers.get(unit).cloned();
        let revision = match (read, consumer.as_ref()) {
            (SecretRead::Peek, _) => latest,
            (SecretRead::Tracked, Some(c)) => c.revision,
            (SecretRead::Tracked | SecretRead::Refresh, _) => latest,
        };
        if read != SecretRead::Peek || new_label.is_some() {
            let entry = record
                .consumers
                .entry(unit.clone())
                .or_insert(SecretConsumer {
                    revision: latest,
                    label: None,
                });
            if read == SecretRead::Refresh {
                entry.revision = latest;
            }
            if new_label.is_some() {
                entry.label = new_label;
            }
        }
        record
            .revisions
            .get(&revision)
            .cloned()
            .ok_or_else(|| unknown_secret(&uri))
    }

    fn owner_read(
        &mut self,
        unit: &UnitName,
        pending: &mut Pending,
        uri: &SecretUri,
        label: Option<String>,
        read: SecretRead,
    ) -> Result<SecretContent, Refusal> {
        if let Some(label) = &label {
            if self.owner_label(pending, uri).as_deref() != Some(label) {
                self.check_label_free(unit, pending, label, Some(uri))?;
                self.relabel(pending, uri, label);
            }
        }
        if let Some((content, _, _)) = pending.created(uri) {
            return Ok(content.clone());
        }
        if read != SecretRead::Tracked {
            if let Some(content) = pending.updated_content(uri) {
                return Ok(content.clone());
            }
        }
        let record = self.secrets.get(uri).ok_or_else(|| unknown_secret(uri))?;
        record
            .revisions
            .get(&record.latest)
            .cloned()
            .ok_or_else(|| unknown_secret(uri))
    }

    /// Gives an owned secret a new owner label: in the staged create if it was added in this
    /// hook, else at once (the facade saves it during `secret-get`).
    fn relabel(&mut self, pending: &mut Pending, uri: &SecretUri, label: &str) {
        for op in &mut pending.secret_ops {
            if let SecretOp::Create { uri: u, meta, .. } = op {
                if u == uri {
                    meta.label = Some(label.to_owned());
                    return;
                }
            }
        }
        if let Some(record) = self.secrets.get_mut(uri) {
            record.label = Some(label.to_owned());
        }
    }

    /// The owner of `uri` if `unit` knows it as its own (the uniter's `secretMetadata`), after
    /// the uniter's leadership check (context.go `UpdateSecret`, `RemoveSecret`). Any other
    /// secret is the controller's to refuse, when the hook commits
    /// ([`Model::commit_refusal`]).
    fn own_managed(
        &self,
        unit: &UnitName,
        pending: &Pending,
        uri: &SecretUri,
    ) -> Result<Option<SecretOwner>, Refusal> {
        let owner = self
            .secret_owner(pending, uri)
            .filter(|owner| Self::owns_view(unit, owner));
        if let Some(owner) = &owner {
            self.manages(unit, owner)?;
        }
        Ok(owner)
    }

    /// What the controller refuses when a hook commits; Juju then fails the hook, and
    /// nothing it staged is committed. The secrets manager facade first (the uniter facade's
    /// `CommitHookChanges` calls it before applying the other changes), then the ports
    /// ([`Model::port_commit_refusal`]).
    ///
    /// - `secret-set`, `secret-remove` (`UpdateSecrets`, `RemoveSecrets`: state/secrets.go
    ///   `GetSecret`, then `canManage`): a secret that does not exist (`secret
    ///   "secret:<id>" not found`) or that the unit does not own (`permission denied`);
    /// - `secret-remove --revision N` (apiserver/common/secrets/secrets.go `removeSecrets`,
    ///   then state/secrets.go `GetSecretRevision`, Juju 3.6.0): a revision that does not
    ///   exist, `revison N for secret "secret:<id>" not found` (Juju's spelling). Later 3.6
    ///   code (juju/juju#19070, after #19036) no longer looks the revision up and state's
    ///   `deleteSecrets` skips it; the emulator reports 3.6.0 and keeps its refusal;
    /// - `secret-revoke` (`SecretsRevoke`: apiserver/common/secrets/access.go `CanManage`):
    ///   a secret the unit does not own, or none at all: `permission denied`.
    pub fn commit_refusal(&self, unit: &UnitName, pending: &Pending) -> Option<Refusal> {
        pending
            .secret_ops
            .iter()
            .find_map(|op| self.secret_op_refusal(unit, pending, op))
            .or_else(|| self.port_commit_refusal(unit, pending))
    }

    fn secret_op_refusal(
        &self,
        unit: &UnitName,
        pending: &Pending,
        op: &SecretOp,
    ) -> Option<Refusal> {
        let (SecretOp::Update { uri, .. }
        | SecretOp::Remove { uri, .. }
        | SecretOp::Revoke { uri, .. }) = op
        else {
            return None;
        };
        if pending.created(uri).is_some() {
            return None;
        }
        let record = self.secrets.get(uri);
        if matches!(op, SecretOp::Revoke { .. }) {
            return match record {
                Some(record) if Self::owns_view(unit, &record.owner) => None,
                _ => Some(permission_denied()),
            };
        }
        match record {
            None => Some(unknown_secret(uri)),
            Some(record) if !Self::owns_view(unit, &record.owner) => Some(permission_denied()),
            Some(record) => match op {
                SecretOp::Remove {
                    revision: Some(revision),
                    ..
                } if !record.revisions.contains_key(revision) => Some(Refusal::runtime(format!(
                    "revison {revision} for secret {:?} not found",
                    uri.to_string()
                ))),
                _ => None,
            },
        }
    }

    /// `secret-set <uri> [content] [metadata]`: stages a new revision (only if the content
    /// differs from the latest) and metadata changes. A secret the unit does not own is
    /// staged as given: the controller refuses it at commit ([`Model::commit_refusal`]).
    ///
    /// # Errors
    /// `this unit is not the leader`, or a label already used by another of the owner's
    /// secrets.
    pub fn secret_set(
        &self,
        unit: &UnitName,
        pending: &mut Pending,
        uri: &SecretUri,
        content: Option<SecretContent>,
        meta: SecretMeta,
    ) -> Result<(), Refusal> {
        let uri = uri.local();
        if self.own_managed(unit, pending, &uri)?.is_none() {
            pending
                .secret_ops
                .push(SecretOp::Update { uri, content, meta });
            return Ok(());
        }
        if let Some(label) = &meta.label {
            self.check_label_free(unit, pending, label, Some(&uri))?;
        }
        // A secret added in this hook: change the staged create itself.
        for op in &mut pending.secret_ops {
            if let SecretOp::Create {
                uri: u,
                content: staged,
                meta: staged_meta,
                ..
            } = op
            {
                if *u == uri {
                    if let Some(content) = content {
                        *staged = content;
                    }
                    merge_meta(staged_meta, meta);
                    return Ok(());
                }
            }
        }
        let latest = pending.updated_content(&uri).or_else(|| {
            self.secrets
                .get(&uri)
                .and_then(|r| r.revisions.get(&r.latest))
        });
        let content = content.filter(|c| Some(c) != latest);
        if content.is_none() && meta.is_empty() {
            return Ok(());
        }
        pending
            .secret_ops
            .push(SecretOp::Update { uri, content, meta });
        Ok(())
    }

    /// `secret-remove <uri> [--revision N]`: stages the removal (context.go `RemoveSecret`
    /// checks only leadership). A secret the unit does not own, or a revision that does not
    /// exist, is the controller's to refuse at commit ([`Model::commit_refusal`]).
    ///
    /// # Errors
    /// `this unit is not the leader`.
    pub fn secret_remove(
        &self,
        unit: &UnitName,
        pending: &mut Pending,
        uri: &SecretUri,
        revision: Option<u32>,
    ) -> Result<(), Refusal> {
        let uri = uri.local();
        self.own_managed(unit, pending, &uri)?;
        pending.secret_ops.push(SecretOp::Remove { uri, revision });
        Ok(())
    }

    /// `secret-grant <uri> -r <relation> [--unit U]`: stages access for the remote
    /// application of the relation, or one of its units.
    ///
    /// # Errors
    /// `secret "<id>" not found` (not one of the unit's secrets), `this unit is not the
    /// leader`, a relation the unit is not in, a unit of another application, or an
    /// application grant while unit grants exist.
    pub fn secret_grant(
        &self,
        unit: &UnitName,
        pending: &mut Pending,
        uri: &SecretUri,
        relation: &RelationId,
        grantee_unit: Option<&UnitName>,
    ) -> Result<(), Refusal> {
        let (uri, number, grantee) =
            self.grant_target(unit, pending, uri, relation, grantee_unit)?;
        let existing: BTreeSet<SecretGrantee> = self.effective_grants(pending, &uri, number);
        if existing.contains(&grantee)
            || existing
                .iter()
                .any(|g| matches!(g, SecretGrantee::Application(_)))
        {
            return Ok(());
        }
        if matches!(grantee, SecretGrantee::Application(_)) && !existing.is_empty() {
            return Err(Refusal::runtime(
                "any unit level grants need to be revoked before granting access to the \
                 corresponding application",
            ));
        }
        pending.secret_ops.push(SecretOp::Grant {
            uri,
            relation: number,
            grantee,
        });
        Ok(())
    }

    /// `secret-revoke <uri> -r <relation> [--unit U]`: stages the end of a grant. As
    /// context.go `RevokeSecret`, only the leadership of the unit's own application secrets
    /// is checked here; a secret the unit does not own is refused at commit
    /// ([`Model::commit_refusal`]).
    ///
    /// # Errors
    /// `this unit is not the leader`, a relation the unit is not in, or a unit of another
    /// application.
    pub fn secret_revoke(
        &self,
        unit: &UnitName,
        pending: &mut Pending,
        uri: &SecretUri,
        relation: &RelationId,
        grantee_unit: Option<&UnitName>,
    ) -> Result<(), Refusal> {
        let uri = uri.local();
        self.own_managed(unit, pending, &uri)?;
        let grantee = self.grantee(unit, relation, grantee_unit)?;
        pending.secret_ops.push(SecretOp::Revoke {
            uri,
            relation: relation.number(),
            grantee,
        });
        Ok(())
    }

    fn grant_target(
        &self,
        unit: &UnitName,
        pending: &Pending,
        uri: &SecretUri,
        relation: &RelationId,
        grantee_unit: Option<&UnitName>,
    ) -> Result<(SecretUri, u32, SecretGrantee), Refusal> {
        let uri = uri.local();
        let owner = self
            .secret_owner(pending, &uri)
            .filter(|owner| Self::owns_view(unit, owner))
            .ok_or_else(|| not_found(&uri))?;
        self.manages(unit, &owner)?;
        let grantee = self.grantee(unit, relation, grantee_unit)?;
        Ok((uri, relation.number(), grantee))
    }

    /// Who a grant or revoke names: the remote application of `relation`, or one of its
    /// units.
    fn grantee(
        &self,
        unit: &UnitName,
        relation: &RelationId,
        grantee_unit: Option<&UnitName>,
    ) -> Result<SecretGrantee, Refusal> {
        let remote = self.remote_app(unit, relation)?;
        match grantee_unit {
            Some(g) if *g.app() != remote => Err(Refusal::usage(format!(
                "cannot specify unit {:?} in relation to application {:?}",
                g.to_string(),
                remote.to_string()
            ))),
            Some(g) => Ok(SecretGrantee::Unit(g.clone())),
            None => Ok(SecretGrantee::Application(remote)),
        }
    }

    fn effective_grants(
        &self,
        pending: &Pending,
        uri: &SecretUri,
        number: u32,
    ) -> BTreeSet<SecretGrantee> {
        let mut grants = self
            .secrets
            .get(uri)
            .and_then(|r| r.grants.get(&number))
            .cloned()
            .unwrap_or_default();
        for op in &pending.secret_ops {
            match op {
                SecretOp::Grant {
                    uri: u,
                    relation,
                    grantee,
                } if u == uri && *relation == number => {
                    grants.insert(grantee.clone());
                }
                SecretOp::Revoke {
                    uri: u,
                    relation,
                    grantee,
                } if u == uri && *relation == number => {
                    grants.remove(grantee);
                }
                _ => {}
            }
        }
        grants
    }

    /// `secret-ids`: the secrets `unit` owns (its application's and its own), sorted.
    pub fn secret_ids(&self, unit: &UnitName, pending: &Pending) -> Vec<SecretUri> {
        self.owned_uris(unit, pending)
    }

    /// `secret-info-get <uri>` / `--label L`: the metadata of one of `unit`'s secrets, with
    /// this hook's staged changes.
    ///
    /// # Errors
    /// `secret "<id or label>" not found` when it is not one of the unit's secrets.
    pub fn secret_info(
        &self,
        unit: &UnitName,
        pending: &Pending,
        uri: Option<&SecretUri>,
        label: Option<&str>,
    ) -> Result<SecretInfo, Refusal> {
        let found = match (uri, label) {
            (Some(uri), _) => self
                .owned_uris(unit, pending)
                .into_iter()
                .find(|u| *u == uri.local()),
            (None, Some(label)) => self
                .owned_uris(unit, pending)
                .into_iter()
                .find(|u| self.owner_label(pending, u).as_deref() == Some(label)),
            (None, None) => return Err(Refusal::usage("require either a secret URI or label")),
        };
        let want = uri.map_or_else(
            || label.unwrap_or_default().to_owned(),
            |u| u.id().to_owned(),
        );
        let uri = found.ok_or_else(|| Refusal::runtime(format!("secret {want:?} not found")))?;
        let mut info = match pending.created(&uri) {
            Some((_, meta, owner)) => SecretInfo {
                uri: uri.clone(),
                label: meta.label.clone(),
                revision: 1,
                owner: owner.clone(),
                rotation: meta.rotation,
                description: meta.description.clone(),
                expiry: meta.expiry.clone(),
            },
            None => self
                .secrets
                .get(&uri)
                .map(|r| r.info(&uri))
                .ok_or_else(|| not_found(&uri))?,
        };
        for op in &pending.secret_ops {
            if let SecretOp::Update { uri: u, meta, .. } = op {
                if *u == uri {
                    let mut record_meta = SecretMeta {
                        label: info.label.take(),
                        description: info.description.take(),
                        rotation: info.rotation.take(),
                        expiry: info.expiry.take(),
                    };
                    merge_meta(&mut record_meta, meta.clone());
                    info.label = record_meta.label;
                    info.description = record_meta.description;
                    info.rotation = record_meta.rotation;
                    info.expiry = record_meta.expiry;
                }
            }
        }
        Ok(info)
    }

    /// Applies a successful hook's staged secret changes; returns the hooks they fire:
    /// `secret-changed` on every consumer tracking an older revision than a new one.
    pub(super) fn commit_secrets(&mut self, ops: Vec<SecretOp>) -> Vec<HookInvocation> {
        let mut next = Vec::new();
        for op in ops {
            match op {
                SecretOp::Create {
                    uri,
                    owner,
                    content,
                    meta,
                } => {
                    let mut record = SecretRecord {
                        owner,
                        revisions: BTreeMap::from([(1, content)]),
                        latest: 1,
                        label: None,
                        description: None,
                        rotation: None,
                        expiry: None,
                        consumers: BTreeMap::new(),
                        grants: BTreeMap::new(),
                        obsolete_notified: BTreeSet::new(),
                        rotate_due: None,
                        rotating_from: None,
                        expire_due: BTreeMap::new(),
                        expiring: BTreeSet::new(),
                    };
                    record.apply_meta(&meta);
                    record.schedule(&meta, false, self.clock);
                    self.secrets.insert(uri, record);
                }
                SecretOp::Update { uri, content, meta } => {
                    let Some(record) = self.secrets.get_mut(&uri) else {
                        continue;
                    };
                    let rotated = record.rotates();
                    record.apply_meta(&meta);
                    let new_revision = content.is_some();
                    if let Some(content) = content {
                        record.latest += 1;
                        record.revisions.insert(record.latest, content);
                    }
                    record.schedule(&meta, rotated, self.clock);
                    if !new_revision {
                        continue;
                    }
                    for (consumer, state) in &record.consumers {
                        if state.revision < record.latest && !self.dying_units.contains(consumer) {
                            next.push(HookInvocation::secret(
                                consumer.clone(),
                                "secret-changed",
                                SecretHook {
                                    uri: uri.clone(),
                                    label: state.label.clone(),
                                    revision: None,
                                },
                            ));
                        }
                    }
                }
                SecretOp::Remove {
                    uri,
                    revision: None,
                } => {
                    self.secrets.remove(&uri);
                }
                SecretOp::Remove {
                    uri,
                    revision: Some(revision),
                } => {
                    if let Some(record) = self.secrets.get_mut(&uri) {
                        record.revisions.remove(&revision);
                        record.obsolete_notified.remove(&revision);
                        record.expire_due.remove(&revision);
                        record.expiring.remove(&revision);
                        if record.revisions.is_empty() {
                            self.secrets.remove(&uri);
                        }
                    }
                }
                SecretOp::Grant {
                    uri,
                    relation,
                    grantee,
                } => {
                    if let Some(record) = self.secrets.get_mut(&uri) {
                        record.grants.entry(relation).or_default().insert(grantee);
                    }
                }
                SecretOp::Revoke {
                    uri,
                    relation,
                    grantee,
                } => {
                    if let Some(record) = self.secrets.get_mut(&uri) {
                        if let Some(set) = record.grants.get_mut(&relation) {
                            set.remove(&grantee);
                            if set.is_empty() {
                                record.grants.remove(&relation);
                            }
                        }
                    }
                }
            }
        }
        next
    }

    /// Who runs the owner's secret hooks: the owner unit, or the owning application's
    /// leader; per application, to look up while the secrets are borrowed.
    fn owner_targets(&self) -> impl Fn(&SecretOwner) -> Option<UnitName> {
        let leaders: BTreeMap<AppName, Option<UnitName>> = self
            .applications
            .iter()
            .map(|(name, app)| (name.clone(), app.leader.clone()))
            .collect();
        let dying = self.dying_units.clone();
        move |owner| {
            let target = match owner {
                SecretOwner::Application(app) => leaders.get(app).cloned().flatten(),
                SecretOwner::Unit(unit) => Some(unit.clone()),
            };
            target.filter(|t| !dying.contains(t))
        }
    }

    /// The hooks the clock makes due, each queued once on the owner (the owner unit, or the
    /// application's leader) until it has run:
    ///
    /// - `secret-rotate` when the rotation time has come (worker/secretrotate);
    /// - `secret-expired`, with the revision, when a revision's expiry has passed, to the
    ///   minute (worker/secretexpire `Truncate(time.Minute).Before(now)`); it comes back
    ///   every five minutes (`ExpireRetryDelay`) until the owner removes the revision.
    pub fn due_secret_hooks(&mut self) -> Vec<HookInvocation> {
        let now = self.clock;
        let target_of = self.owner_targets();
        let mut next = Vec::new();
        for (uri, record) in &mut self.secrets {
            let Some(target) = target_of(&record.owner) else {
                continue;
            };
            let hook = |name: &str, revision| {
                let about = SecretHook {
                    uri: uri.clone(),
                    label: record.label.clone(),
                    revision,
                };
                HookInvocation::secret(target.clone(), name, about)
            };
            if record.rotating_from.is_none() && record.rotate_due.is_some_and(|t| t <= now) {
                next.push(hook("secret-rotate", None));
                record.rotating_from = Some(record.latest);
            }
            for (revision, due) in &mut record.expire_due {
                if *due / 60 * 60 < now && !record.expiring.contains(revision) {
                    next.push(hook("secret-expired", Some(*revision)));
                    record.expiring.insert(*revision);
                    *due += RETRY_DELAY_SECS;
                }
            }
        }
        next
    }

    /// A queued `secret-rotate` or `secret-expired` hook that will not run (its unit is
    /// gone): the secret is no longer marked as queued, and the hook is due again at once
    /// for whoever runs the owner's hooks now (the new leader), as Juju's rotate and expire
    /// workers fire on that unit for a time already past. Returns the hooks now due.
    pub fn secret_trigger_dropped(&mut self, dropped: &HookInvocation) -> Vec<HookInvocation> {
        let Some(about) = &dropped.secret else {
            return Vec::new();
        };
        let Some(record) = self.secrets.get_mut(&about.uri.local()) else {
            return Vec::new();
        };
        match (dropped.hook.as_str(), about.revision) {
            ("secret-rotate", _) => record.rotating_from = None,
            ("secret-expired", Some(revision)) => {
                if record.expiring.remove(&revision) {
                    if let Some(due) = record.expire_due.get_mut(&revision) {
                        *due = due.saturating_sub(RETRY_DELAY_SECS);
                    }
                }
            }
            _ => return Vec::new(),
        }
        self.due_secret_hooks()
    }

    /// After a `secret-rotate` or `secret-expired` hook (run, or skipped with `resolved
    /// --no-retry`): the next rotation time, as the secrets manager facade's `SecretsRotated`
    /// computes it — one period after the last one if the owner added a revision, else five
    /// minutes (`RotateRetryDelay`), sooner if the latest revision would expire first.
    pub(super) fn secret_trigger_done(&mut self, finished: &HookInvocation) {
        let Some(about) = &finished.secret else {
            return;
        };
        let now = self.clock;
        let Some(record) = self.secrets.get_mut(&about.uri.local()) else {
            return;
        };
        match finished.hook.as_str() {
            "secret-rotate" => {
                let Some(original) = record.rotating_from.take() else {
                    return;
                };
                let (Some(policy), true) = (record.rotation, record.rotates()) else {
                    record.rotate_due = None;
                    return;
                };
                let last = record.rotate_due.unwrap_or(now);
                let Some(mut due) = clock::next_rotation(policy, last) else {
                    return;
                };
                let forced = last + RETRY_DELAY_SECS;
                let expires = record.expire_due.get(&record.latest).copied();
                let expires_first = expires.is_some_and(|at| at < due);
                if expires_first && expires.is_some_and(|at| forced < at)
                    || record.latest == original
                {
                    due = forced;
                }
                record.rotate_due = Some(due);
            }
            "secret-expired" => {
                if let Some(revision) = about.revision {
                    record.expiring.remove(&revision);
                }
            }
            _ => {}
        }
    }

    /// `secret-remove` hooks for revisions no consumer tracks any more (and that are not the
    /// latest), each queued once on the owner (the owner unit, or the application's leader).
    pub(super) fn obsolete_secret_hooks(&mut self) -> Vec<HookInvocation> {
        let mut next = Vec::new();
        let target_of = self.owner_targets();
        for (uri, record) in &mut self.secrets {
            let Some(target) = target_of(&record.owner) else {
                continue;
            };
            for revision in record.obsolete() {
                if record.obsolete_notified.insert(revision) {
                    next.push(HookInvocation::secret(
                        target.clone(),
                        "secret-remove",
                        SecretHook {
                            uri: uri.clone(),
                            label: record.label.clone(),
                            revision: Some(revision),
                        },
                    ));
                }
            }
        }
        next
    }

    /// Grants made in the context of a relation end with it.
    pub(super) fn drop_secret_grants(&mut self, relation: u32) {
        for record in self.secrets.values_mut() {
            record.grants.remove(&relation);
        }
    }

    /// A removed unit's own secrets go with it, and it stops consuming others.
    pub(super) fn drop_unit_secrets(&mut self, unit: &UnitName) {
        self.secrets
            .retain(|_, record| record.owner != SecretOwner::Unit(unit.clone()));
        for record in self.secrets.values_mut() {
            record.consumers.remove(unit);
            for grants in record.grants.values_mut() {
                grants.remove(&SecretGrantee::Unit(unit.clone()));
            }
        }
    }
}

fn merge_meta(into: &mut SecretMeta, changes: SecretMeta) {
    if changes.label.is_some() {
        into.label = changes.label;
    }
    if changes.description.is_some() {
        into.description = changes.description;
    }
    if changes.rotation.is_some() {
        into.rotation = changes.rotation;
    }
    if changes.expiry.is_some() {
        into.expiry = changes.expiry;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(s: &str) -> UnitName {
        s.parse().unwrap()
    }

    fn content(pairs: &[(&str, &str)]) -> SecretContent {
        SecretContent::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
        .unwrap()
    }

    /// db (2 units, db/0 leads) provides `store` to app (2 units); returns the relation id as
    /// db sees it.
    fn world() -> (Model, RelationId) {
        let (model, number) = Model::with_relation(("db", 2), ("app", 2), "store", "kv").unwrap();
        let rid = model.relation_id(number, &unit("db/0")).unwrap();
        (model, rid)
    }

    /// Runs one successful hook on `who` whose tool calls are `calls`; returns the hooks
    /// that follow.
    fn hook<T>(
        model: &mut Model,
        who: &str,
        calls: impl FnOnce(&mut Model, &mut Pending) -> T,
    ) -> (T, Vec<HookInvocation>) {
        let who = unit(who);
        model
            .begin_hook(&HookInvocation::new(who.clone(), "update-status"))
            .unwrap();
        let mut pending = Pending::default();
        let result = calls(model, &mut pending);
        (result, model.commit(&who, pending))
    }

    /// Adds a secret with `pairs` and `meta` in a hook of `who`; returns its URI.
    fn added(
        model: &mut Model,
        who: &str,
        owner: SecretOwnerKind,
        pairs: &[(&str, &str)],
        meta: SecretMeta,
    ) -> SecretUri {
        let (uri, _) = hook(model, who, |m, p| {
            m.secret_add(&unit(who), p, owner, content(pairs), meta)
                .unwrap()
        });
        uri
    }

    fn add_granted(model: &mut Model, rid: &RelationId) -> SecretUri {
        let (uri, _) = hook(model, "db/0", |m, p| {
            let db0 = unit("db/0");
            let uri = m
                .secret_add(
                    &db0,
                    p,
                    SecretOwnerKind::Application,
                    content(&[("password", "one")]),
                    SecretMeta::default(),
                )
                .unwrap();
            m.secret_grant(&db0, p, &uri, rid, None).unwrap();
            uri
        });
        uri
    }

    /// Runs `hook` (a queued secret hook) on its unit with `calls`; returns what follows.
    fn run_queued<T>(
        model: &mut Model,
        hook: &HookInvocation,
        calls: impl FnOnce(&mut Model, &mut Pending) -> T,
    ) -> Vec<HookInvocation> {
        model.begin_hook(hook).unwrap();
        let mut pending = Pending::default();
        calls(model, &mut pending);
        model.commit(&hook.unit, pending)
    }

    fn names(hooks: &[HookInvocation]) -> Vec<String> {
        hooks
            .iter()
            .map(|h| {
                let revision = h.secret.as_ref().and_then(|s| s.revision);
                format!("{} {} {revision:?}", h.unit, h.hook)
            })
            .collect()
    }

    /// worker/secretrotate and the secrets manager facade's `SecretsRotated`
    /// (apiserver/facades/agent/secretsmanager/secrets.go): first due one period after the
    /// policy is set, on the leader; again after five minutes (`RotateRetryDelay`) while
    /// the owner adds no revision, one period after the last due time once it does.
    #[test]
    fn rotation_fires_on_the_leader_until_a_new_revision_exists() {
        let (mut model, _) = world();
        model.clock = 1_000_000;
        let uri = added(
            &mut model,
            "db/0",
            SecretOwnerKind::Application,
            &[("token", "one")],
            SecretMeta {
                label: Some("creds".into()),
                rotation: Some(RotatePolicy::Hourly),
                ..SecretMeta::default()
            },
        );
        assert!(
            model.advance_clock(3599).is_empty(),
            "not due before the hour"
        );
        let due = model.advance_clock(1);
        assert_eq!(names(&due), ["db/0 secret-rotate None"]);
        let about = due[0].secret.clone().unwrap();
        assert_eq!(
            (about.uri.clone(), about.label.as_deref()),
            (uri.clone(), Some("creds"))
        );
        assert!(
            model.advance_clock(600).is_empty(),
            "queued once until it runs"
        );

        // The hook does not rotate: due again five minutes after the missed time, which has
        // passed already, so it follows at once.
        let next = run_queued(&mut model, &due[0], |_, _| ());
        assert_eq!(names(&next), ["db/0 secret-rotate None"]);
        assert_eq!(model.secrets[&uri].rotate_due, Some(1_000_000 + 3600 + 300));
        // This time it sets a new revision: the next rotation is an hour after the last due
        // time.
        let next = run_queued(&mut model, &next[0], |m, p| {
            m.secret_set(
                &unit("db/0"),
                p,
                &uri,
                Some(content(&[("token", "two")])),
                SecretMeta::default(),
            )
            .unwrap();
        });
        assert!(
            names(&next).iter().all(|h| !h.contains("secret-rotate")),
            "{next:?}"
        );
        assert_eq!(
            model.secrets[&uri].rotate_due,
            Some(1_000_000 + 3600 + 300 + 3600)
        );

        // `--rotate never` stops it.
        hook(&mut model, "db/0", |m, p| {
            let meta = SecretMeta {
                rotation: Some(RotatePolicy::Never),
                ..SecretMeta::default()
            };
            m.secret_set(&unit("db/0"), p, &uri, None, meta).unwrap();
        });
        assert!(model.advance_clock(10 * 3600).is_empty());
    }

    /// worker/secretexpire: `secret-expired` with the revision once its expiry has passed
    /// (to the minute), on the owner unit; again five minutes later (`ExpireRetryDelay`)
    /// until the revision is removed.
    #[test]
    fn expiry_fires_with_the_revision_until_it_is_removed() {
        let (mut model, _) = world();
        model.clock = clock::parse_rfc3339("2030-01-01T00:00:00Z").unwrap();
        let uri = added(
            &mut model,
            "app/1",
            SecretOwnerKind::Unit,
            &[("token", "one")],
            SecretMeta {
                expiry: Some("2030-01-01T01:00:30Z".into()),
                ..SecretMeta::default()
            },
        );
        assert!(
            model.advance_clock(3600).is_empty(),
            "01:00:00 is not after 01:00"
        );
        let due = model.advance_clock(1);
        assert_eq!(names(&due), ["app/1 secret-expired Some(1)"]);
        // Not removed: back five minutes later.
        let next = run_queued(&mut model, &due[0], |_, _| ());
        assert!(next.is_empty(), "{next:?}");
        assert!(model.advance_clock(240).is_empty());
        let again = model.advance_clock(60);
        assert_eq!(names(&again), ["app/1 secret-expired Some(1)"]);
        let next = run_queued(&mut model, &again[0], |m, p| {
            m.secret_remove(&unit("app/1"), p, &uri, Some(1)).unwrap();
        });
        assert!(next.is_empty(), "{next:?}");
        assert!(model.advance_clock(3600).is_empty());
    }

    #[test]
    fn only_the_leader_adds_application_secrets_any_unit_its_own() {
        let (mut model, _) = world();
        let mut pending = Pending::default();
        let refusal = model
            .secret_add(
                &unit("db/1"),
                &mut pending,
                SecretOwnerKind::Application,
                content(&[("token", "x")]),
                SecretMeta::default(),
            )
            .unwrap_err();
        assert_eq!(
            (refusal.code, refusal.message.as_str()),
            (1, "this unit is not the leader")
        );
        let uri = model
            .secret_add(
                &unit("db/1"),
                &mut pending,
                SecretOwnerKind::Unit,
                content(&[("token", "x")]),
                SecretMeta::default(),
            )
            .unwrap();
        assert_eq!(uri.to_string().len(), "secret:".len() + 20);
        assert_eq!(model.secret_ids(&unit("db/1"), &pending), vec![uri.clone()]);
        // Its content is visible in the adding hook, and nowhere before the commit.
        let seen = model
            .secret_get(
                &unit("db/1"),
                &mut pending,
                Some(&uri),
                None,
                SecretRead::Tracked,
            )
            .unwrap();
        assert_eq!(seen.get("token"), Some("x"));
        let refusal = model
            .secret_get(
                &unit("db/1"),
                &mut Pending::default(),
                Some(&uri),
                None,
                SecretRead::Tracked,
            )
            .unwrap_err();
        assert_eq!(
            refusal.message,
            format!("secret {:?} not found", uri.to_string())
        );
    }

    #[test]
    fn a_failed_hook_leaves_no_secret() {
        let (mut model, _) = world();
        let db0 = unit("db/0");
        model
            .begin_hook(&HookInvocation::new(db0.clone(), "update-status"))
            .unwrap();
        let mut pending = Pending::default();
        let uri = model
            .secret_add(
                &db0,
                &mut pending,
                SecretOwnerKind::Application,
                content(&[("token", "x")]),
                SecretMeta::default(),
            )
            .unwrap();
        drop(pending);
        model.abort(&db0);
        assert!(model.secrets.is_empty());
        let second = model
            .secret_add(
                &db0,
                &mut Pending::default(),
                SecretOwnerKind::Application,
                content(&[("token", "x")]),
                SecretMeta::default(),
            )
            .unwrap();
        assert_ne!(uri, second, "ids are never reused");
    }

    #[test]
    fn consumers_pin_a_revision_until_refresh_and_hear_of_new_ones() {
        let (mut model, rid) = world();
        let app0 = unit("app/0");
        let mut nothing = Pending::default();
        // Before the grant: permission denied.
        let uri = added(
            &mut model,
            "db/0",
            SecretOwnerKind::Application,
            &[("password", "one")],
            SecretMeta::default(),
        );
        let refusal = model
            .secret_get(&app0, &mut nothing, Some(&uri), None, SecretRead::Tracked)
            .unwrap_err();
        assert_eq!(refusal.message, "permission denied");
        hook(&mut model, "db/0", |m, p| {
            m.secret_grant(&unit("db/0"), p, &uri, &rid, None).unwrap();
        });
        let first = model
            .secret_get(&app0, &mut nothing, Some(&uri), None, SecretRead::Tracked)
            .unwrap();
        assert_eq!(first.get("password"), Some("one"));
        assert_eq!(model.secrets[&uri].consumers[&app0].revision, 1);

        // The same content makes no revision; new content does, and app/0 hears of it.
        let (_, next) = hook(&mut model, "db/0", |m, p| {
            m.secret_set(
                &unit("db/0"),
                p,
                &uri,
                Some(content(&[("password", "one")])),
                SecretMeta::default(),
            )
            .unwrap();
            assert!(p.secret_ops.is_empty());
            m.secret_set(
                &unit("db/0"),
                p,
                &uri,
                Some(content(&[("password", "two")])),
                SecretMeta::default(),
            )
            .unwrap();
        });
        assert_eq!(model.secrets[&uri].latest, 2);
        assert_eq!(next.len(), 1);
        assert_eq!(
            (next[0].unit.to_string(), next[0].hook.as_str()),
            ("app/0".to_owned(), "secret-changed")
        );
        let env = next[0].env("test", "/charm".as_ref());
        assert_eq!(env["JUJU_SECRET_ID"], uri.to_string());
        assert_eq!(env["JUJU_SECRET_LABEL"], "");
        assert!(!env.contains_key("JUJU_SECRET_REVISION"));

        // Tracked read: still one; peek: two without tracking; owner: always the latest.
        let read = |m: &mut Model, who: &UnitName, mode| {
            m.secret_get(who, &mut Pending::default(), Some(&uri), None, mode)
                .unwrap()
                .get("password")
                .map(str::to_owned)
        };
        assert_eq!(
            read(&mut model, &app0, SecretRead::Tracked).as_deref(),
            Some("one")
        );
        assert_eq!(
            read(&mut model, &app0, SecretRead::Peek).as_deref(),
            Some("two")
        );
        assert_eq!(
            read(&mut model, &app0, SecretRead::Tracked).as_deref(),
            Some("one")
        );
        assert_eq!(
            read(&mut model, &unit("db/1"), SecretRead::Tracked).as_deref(),
            Some("two")
        );

        // app/0 refreshes in its hook; nobody tracks revision 1 now: secret-remove on the
        // leader of the owner, once.
        let (seen, next) = hook(&mut model, "app/0", |m, _| {
            read(m, &app0, SecretRead::Refresh)
        });
        assert_eq!(seen.as_deref(), Some("two"));
        assert_eq!(next.len(), 1);
        assert_eq!(
            (next[0].unit.to_string(), next[0].hook.as_str()),
            ("db/0".to_owned(), "secret-remove")
        );
        assert_eq!(
            next[0].env("test", "/c".as_ref())["JUJU_SECRET_REVISION"],
            "1"
        );
        let (_, again) = hook(&mut model, "app/1", |_, _| ());
        assert!(again.is_empty());

        // The owner removes the revision.
        hook(&mut model, "db/0", |m, p| {
            let refusal = m
                .secret_remove(&unit("db/1"), p, &uri, Some(1))
                .unwrap_err();
            assert_eq!(refusal.message, "this unit is not the leader");
            m.secret_remove(&unit("db/0"), p, &uri, Some(1)).unwrap();
        });
        assert_eq!(
            model.secrets[&uri]
                .revisions
                .keys()
                .copied()
                .collect::<Vec<_>>(),
            [2]
        );
    }

    #[test]
    fn grants_follow_relations_units_and_revokes() {
        let (mut model, rid) = world();
        let (app0, app1) = (unit("app/0"), unit("app/1"));
        let (uri, _) = hook(&mut model, "db/0", |m, p| {
            let db0 = unit("db/0");
            let uri = m
                .secret_add(
                    &db0,
                    p,
                    SecretOwnerKind::Application,
                    content(&[("password", "one")]),
                    SecretMeta::default(),
                )
                .unwrap();
            m.secret_grant(&db0, p, &uri, &rid, Some(&app0)).unwrap();
            let refusal = m
                .secret_grant(&db0, p, &uri, &rid, Some(&unit("db/1")))
                .unwrap_err();
            assert_eq!(
                (refusal.code, refusal.message.as_str()),
                (
                    2,
                    "cannot specify unit \"db/1\" in relation to application \"app\""
                )
            );
            let refusal = m.secret_grant(&db0, p, &uri, &rid, None).unwrap_err();
            assert!(refusal
                .message
                .starts_with("any unit level grants need to be revoked"));
            let refusal = m
                .secret_grant(&unit("db/1"), p, &uri, &rid, None)
                .unwrap_err();
            assert_eq!(refusal.message, "this unit is not the leader");
            uri
        });
        let mut nothing = Pending::default();
        assert!(model
            .secret_get(&app0, &mut nothing, Some(&uri), None, SecretRead::Tracked)
            .is_ok());
        let refusal = model
            .secret_get(&app1, &mut nothing, Some(&uri), None, SecretRead::Tracked)
            .unwrap_err();
        assert_eq!(refusal.message, "permission denied");
        // Another app's unit cannot even see it as its own.
        let refusal = model
            .secret_grant(
                &app0,
                &mut nothing,
                &uri,
                &model.relation_id(rid.number(), &app0).unwrap(),
                None,
            )
            .unwrap_err();
        assert_eq!(refusal.message, format!("secret {:?} not found", uri.id()));

        hook(&mut model, "db/0", |m, p| {
            m.secret_revoke(&unit("db/0"), p, &uri, &rid, Some(&app0))
                .unwrap();
        });
        let refusal = model
            .secret_get(&app0, &mut nothing, Some(&uri), None, SecretRead::Tracked)
            .unwrap_err();
        assert_eq!(refusal.message, "permission denied");

        // An application grant ends with its relation.
        hook(&mut model, "db/0", |m, p| {
            m.secret_grant(&unit("db/0"), p, &uri, &rid, None).unwrap();
        });
        assert!(model
            .secret_get(&app1, &mut nothing, Some(&uri), None, SecretRead::Tracked)
            .is_ok());
        let hooks = model.unrelate(rid.number()).unwrap();
        model.settle(hooks).unwrap();
        assert!(model.secrets[&uri].grants.is_empty());
        let refusal = model
            .secret_get(&app1, &mut nothing, Some(&uri), None, SecretRead::Tracked)
            .unwrap_err();
        assert_eq!(refusal.message, "permission denied");
    }

    #[test]
    fn labels_name_secrets_for_owners_and_consumers() {
        let (mut model, rid) = world();
        let db0 = unit("db/0");
        let app0 = unit("app/0");
        let (uri, _) = hook(&mut model, "db/0", |m, p| {
            let meta = SecretMeta {
                label: Some("creds".into()),
                description: Some("the password".into()),
                ..SecretMeta::default()
            };
            let uri = m
                .secret_add(
                    &db0,
                    p,
                    SecretOwnerKind::Application,
                    content(&[("password", "one")]),
                    meta,
                )
                .unwrap();
            let by_label = m
                .secret_get(&db0, p, None, Some("creds"), SecretRead::Tracked)
                .unwrap();
            assert_eq!(by_label.get("password"), Some("one"));
            let again = m
                .secret_add(
                    &db0,
                    p,
                    SecretOwnerKind::Application,
                    content(&[("other", "x")]),
                    SecretMeta {
                        label: Some("creds".into()),
                        ..SecretMeta::default()
                    },
                )
                .unwrap_err();
            assert_eq!(again.message, "secret with label \"creds\" already exists");
            m.secret_grant(&db0, p, &uri, &rid, None).unwrap();
            uri
        });
        let info = model
            .secret_info(&db0, &Pending::default(), None, Some("creds"))
            .unwrap();
        assert_eq!(info.uri, uri);
        assert_eq!(info.revision, 1);
        assert_eq!(info.owner.kind(), "application");
        assert_eq!(info.description.as_deref(), Some("the password"));
        // Non-leaders of the owner see the application's secrets too.
        assert_eq!(
            model.secret_ids(&unit("db/1"), &Pending::default()),
            vec![uri.clone()]
        );
        assert!(model.secret_ids(&app0, &Pending::default()).is_empty());
        let missing = model
            .secret_info(&app0, &Pending::default(), Some(&uri), None)
            .unwrap_err();
        assert_eq!(missing.message, format!("secret {:?} not found", uri.id()));

        // The consumer's own label.
        let mut nothing = Pending::default();
        model
            .secret_get(
                &app0,
                &mut nothing,
                Some(&uri),
                Some("db-password"),
                SecretRead::Tracked,
            )
            .unwrap();
        let by_label = model
            .secret_get(
                &app0,
                &mut nothing,
                None,
                Some("db-password"),
                SecretRead::Tracked,
            )
            .unwrap();
        assert_eq!(by_label.get("password"), Some("one"));
        let unknown = model
            .secret_get(
                &app0,
                &mut nothing,
                None,
                Some("creds"),
                SecretRead::Tracked,
            )
            .unwrap_err();
        assert_eq!(unknown.message, "consumer label \"creds\" not found");

        // secret-changed carries the consumer's label.
        let (_, next) = hook(&mut model, "db/0", |m, p| {
            m.secret_set(
                &db0,
                p,
                &uri,
                Some(content(&[("password", "two")])),
                SecretMeta::default(),
            )
            .unwrap();
            // Staged content shows with --peek/--refresh only.
            let tracked = m
                .secret_get(&db0, p, Some(&uri), None, SecretRead::Tracked)
                .unwrap();
            assert_eq!(tracked.get("password"), Some("one"));
            let peeked = m
                .secret_get(&db0, p, Some(&uri), None, SecretRead::Peek)
                .unwrap();
            assert_eq!(peeked.get("password"), Some("two"));
        });
        assert_eq!(
            next[0].secret.as_ref().unwrap().label.as_deref(),
            Some("db-password")
        );
    }

    #[test]
    fn secrets_and_staged_operations_survive_serde() {
        let (mut model, rid) = world();
        let uri = add_granted(&mut model, &rid);
        model
            .secret_get(
                &unit("app/0"),
                &mut Pending::default(),
                Some(&uri),
                Some("mine"),
                SecretRead::Tracked,
            )
            .unwrap();
        let mut pending = Pending::default();
        model
            .secret_set(
                &unit("db/0"),
                &mut pending,
                &uri,
                Some(content(&[("password", "new")])),
                SecretMeta::default(),
            )
            .unwrap();
        model
            .secret_revoke(
                &unit("db/0"),
                &mut pending,
                &uri,
                &rid,
                Some(&unit("app/1")),
            )
            .unwrap();
        let json = serde_json::to_string(&(&model, &pending)).unwrap();
        assert!(json.contains(&format!("\"{uri}\"")), "{json}");
        let back: (Model, Pending) = serde_json::from_str(&json).unwrap();
        assert_eq!(back, (model, pending));
    }

    /// context.go `UpdateSecret`/`RemoveSecret` check leadership only for the unit's own
    /// secrets and stage the rest; the secrets manager facade refuses those at commit
    /// (`canManage`: `permission denied`), and the whole hook fails.
    #[test]
    fn a_consumer_setting_or_removing_a_secret_is_refused_at_commit() {
        let (mut model, rid) = world();
        let uri = add_granted(&mut model, &rid);
        let app0 = unit("app/0");
        let mut pending = Pending::default();
        model
            .secret_set(
                &app0,
                &mut pending,
                &uri,
                Some(content(&[("password", "x")])),
                SecretMeta::default(),
            )
            .unwrap();
        assert_eq!(
            model.commit_refusal(&app0, &pending).map(|r| r.message),
            Some("permission denied".to_owned())
        );
        let mut pending = Pending::default();
        model
            .secret_remove(&app0, &mut pending, &uri, None)
            .unwrap();
        assert!(model.commit_refusal(&app0, &pending).is_some());
        // The owner's own changes pass.
        let mut pending = Pending::default();
        model
            .secret_set(
                &unit("db/0"),
                &mut pending,
                &uri,
                Some(content(&[("password", "x")])),
                SecretMeta::default(),
            )
            .unwrap();
        assert!(model.commit_refusal(&unit("db/0"), &pending).is_none());
        // context.go `RevokeSecret` stages too; `SecretsRevoke` refuses (`CanManage`).
        let rid_app = model.relation_id(rid.number(), &app0).unwrap();
        let mut pending = Pending::default();
        model
            .secret_revoke(&app0, &mut pending, &uri, &rid_app, None)
            .unwrap();
        assert_eq!(
            model.commit_refusal(&app0, &pending).map(|r| r.message),
            Some("permission denied".to_owned())
        );
        // A revision that does not exist: refused at commit (`GetSecretRevision`).
        let mut pending = Pending::default();
        model
            .secret_remove(&unit("db/0"), &mut pending, &uri, Some(9))
            .unwrap();
        assert_eq!(
            model
                .commit_refusal(&unit("db/0"), &pending)
                .map(|r| r.message),
            Some(format!(
                "revison 9 for secret {:?} not found",
                uri.to_string()
            ))
        );
    }

    #[test]
    fn removing_a_secret_or_its_unit_ends_it() {
        let (mut model, rid) = world();
        let uri = add_granted(&mut model, &rid);
        hook(&mut model, "db/0", |m, p| {
            m.secret_remove(&unit("db/0"), p, &uri, None).unwrap();
            assert!(m.secret_ids(&unit("db/0"), p).is_empty());
        });
        assert!(model.secrets.is_empty());
        // The uniter no longer knows it: staged, and refused by the controller at commit.
        let mut again = Pending::default();
        model
            .secret_remove(&unit("db/0"), &mut again, &uri, None)
            .unwrap();
        let refusal = model.commit_refusal(&unit("db/0"), &again).unwrap();
        assert_eq!(
            refusal.message,
            format!("secret {:?} not found", uri.to_string())
        );

        let own = added(
            &mut model,
            "app/1",
            SecretOwnerKind::Unit,
            &[("token", "t")],
            SecretMeta::default(),
        );
        assert!(model.secrets.contains_key(&own));
        let hooks = model.remove_unit(&unit("app/1")).unwrap();
        model.settle(hooks).unwrap();
        assert!(!model.secrets.contains_key(&own));
    }
}
