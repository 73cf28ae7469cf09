//! The provider side: publish the cluster string and client credentials on every relation.
//!
//! Per relation id the requirer chooses the wire version (`docs/wire-contract.md`):
//! - **version 1** (nothing in the requirer's application databag: the deployed Python
//!   charms): every provider unit writes the raw keys in its own unit databag, exactly as the
//!   2016 Python provider did;
//! - **version 2** (`wire_version` = `2`): the leader writes `cluster`, `client_urls` and
//!   `client_credentials_secret` in the provider application's databag, the credentials in
//!   one application-owned Juju secret granted to that relation; units write no interface
//!   key there. Without secrets (old Juju) the application databag carries the raw keys.
//!
//! What to publish is remembered in the unit state, so a charm calls [`Provider::publish`]
//! when its data changes and [`Provider::sync`] in every hook. The rules are in
//! [`crate::decide`]; this module does the hook-tool I/O and keeps a record per relation of
//! what it wrote. Juju discards the writes of a failed hook, and a hook can fail after this
//! command succeeded: with Juju's unit state (`state-set`, Juju ≥ 2.8) each hook that writes
//! also leaves a receipt there, which commits or vanishes with its writes, so the next hook
//! confirms every record with one `state-get`. Without those tools each record is checked
//! once against the real databag.

use std::collections::{BTreeMap, BTreeSet};

use juju_hooks::{
    AppName, BagOwner, Databag, Endpoint, HookKind, HookTools, JujuContext, RelationId,
    SecretContent, SecretOwnerKind, SecretRevision, SecretUri, ToolError, ToolErrorKind, UnitState,
    WriteScope,
};
use serde::{Deserialize, Serialize};

use crate::cluster::{ClusterString, EtcdUrl};
use crate::credentials::ClientCredentials;
use crate::decide::{self, ExistingSecret, PemCredentials, ProviderInput, RequirerSide};
use crate::error::InterfaceError;
use crate::state::{load_section, section_key, set_flag, store_section};
use crate::wire::{self, RemoteData};

/// Data to publish; parts left `None` keep their previously published value — except that a
/// new cluster string without client URLs also withdraws the old client URLs.
#[derive(Clone, Debug, Default)]
pub struct Publication {
    /// The cluster string (`cluster`).
    pub cluster: Option<ClusterString>,
    /// The client credentials (`client_ca`, `client_cert`, `client_key`).
    pub credentials: Option<ClientCredentials>,
    /// The advertised client URLs (`client_urls`); an empty list removes the key.
    pub client_urls: Option<Vec<EtcdUrl>>,
}

impl Publication {
    /// The wire keys this publication sets, as raw strings (the Python provider's format);
    /// an empty value deletes a key.
    pub fn to_databag(&self) -> Databag {
        let mut bag = Databag::new();
        if let Some(cluster) = &self.cluster {
            bag.insert(wire::KEY_CLUSTER.to_owned(), cluster.to_string());
        }
        if let Some(credentials) = &self.credentials {
            bag.insert(
                wire::KEY_CLIENT_CA.to_owned(),
                credentials.ca_pem().to_owned(),
            );
            bag.insert(
                wire::KEY_CLIENT_CERT.to_owned(),
                credentials.cert_pem().to_owned(),
            );
            bag.insert(
                wire::KEY_CLIENT_KEY.to_owned(),
                credentials.key_pem().to_owned(),
            );
        }
        if let Some(urls) = &self.client_urls {
            bag.insert(
                wire::KEY_CLIENT_URLS.to_owned(),
                wire::format_client_urls(urls),
            );
        }
        bag
    }
}

/// What the provider last wrote in one databag.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Published {
    /// A digest of the interface keys written (the data itself is `desired`, kept once).
    digest: String,
    /// The hook run that wrote it.
    context_id: Option<String>,
    /// Known to be committed by Juju.
    confirmed: bool,
}

/// The wire version of a relation, as far as this unit knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Version {
    /// Never read (relations found by a full read): served as version 1.
    #[default]
    Unknown,
    /// Read empty in `-created`, before a requirer unit joined: nothing is written until
    /// the requirer had the chance to advertise (its `-created` runs before it joins).
    Pending,
    /// Version 1.
    V1,
    /// Version 2.
    V2,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct RelationRecord {
    /// How many requirer units are in the relation, if listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    members: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    remote_app: Option<AppName>,
    #[serde(default)]
    version: Version,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unit: Option<Published>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    app: Option<Published>,
}

/// The leader's record of the credentials secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct SecretRecord {
    existing: ExistingSecret,
    context_id: Option<String>,
    confirmed: bool,
}

// No `Debug`: `desired` holds the private key.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct ProviderSection {
    /// The publication in version-1 form (`None`: nothing published yet).
    desired: Option<Databag>,
    #[serde(default)]
    relations: BTreeMap<RelationId, RelationRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<SecretRecord>,
    /// Whether Juju's unit-state tools exist (`None`: not tried yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    state_tools: Option<bool>,
    /// The hook run that last listed the relations or read a requirer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    context_id: Option<String>,
}

/// What a provider run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderReport {
    /// Whether a requirer unit is related (`{endpoint}.connected`).
    pub connected: bool,
    /// The relations on which a `relation-set` was made.
    pub written: Vec<RelationId>,
    /// The relations of the endpoint.
    pub relations: Vec<RelationId>,
    /// In `secret-remove`: the revision of the credentials secret removed.
    pub removed_revision: Option<u32>,
}

/// The provider side of one endpoint.
#[derive(Clone, Debug)]
pub struct Provider {
    endpoint: Endpoint,
}

impl Provider {
    /// The provider of `endpoint` (e.g. `proxy`).
    pub fn new(endpoint: Endpoint) -> Self {
        Self { endpoint }
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The flag set while a requirer unit is related: `{endpoint}.connected`.
    pub fn connected_flag(&self) -> String {
        format!("{}.connected", self.endpoint)
    }

    /// The Juju unit-state key of this endpoint's receipt.
    fn receipt_key(&self) -> String {
        format!("etcd-proxy.{}.provider-receipt", self.endpoint)
    }

    /// Derives `{endpoint}.connected` and brings every relation up to the data last given to
    /// [`Provider::publish`]. Changes `state` only in memory; the caller saves it on success.
    ///
    /// # Errors
    /// A hook-tool call failed.
    pub fn sync(
        &self,
        ctx: &JujuContext,
        tools: &mut dyn HookTools,
        state: &mut UnitState,
    ) -> Result<ProviderReport, InterfaceError> {
        let key = section_key(&self.endpoint, "provider");
        let section: ProviderSection = load_section(state, &key).unwrap_or_default();
        self.sync_section(ctx, tools, state, &key, section)
    }

    /// [`Provider::sync`] with the section already decoded (as `publish` has it), stored
    /// under `key` at the end.
    fn sync_section(
        &self,
        ctx: &JujuContext,
        tools: &mut dyn HookTools,
        state: &mut UnitState,
        key: &str,
        mut section: ProviderSection,
    ) -> Result<ProviderReport, InterfaceError> {
        let revoked = self.refresh(ctx, tools, &mut section)?;
        let connected = connected(tools, &mut section)?;
        let mut report = ProviderReport {
            connected,
            written: Vec::new(),
            relations: section.relations.keys().cloned().collect(),
            removed_revision: None,
        };
        if section.desired.is_some() {
            self.publish_all(ctx, tools, &mut section, &revoked, &mut report)?;
        }
        report.removed_revision = self.remove_obsolete_revision(ctx, tools, &section)?;
        store_section(state, key, &section);
        set_flag(state, self.connected_flag(), report.connected);
        Ok(report)
    }

    /// Validates `data`, remembers it, and publishes it on every relation of the endpoint
    /// (only where the relation does not already hold it). Parts left `None` keep their
    /// previously published value.
    ///
    /// # Errors
    /// [`InterfaceError::InvalidInput`] when the merged data would not be accepted by a
    /// requirer (nothing is published then), or a hook-tool failure.
    pub fn publish(
        &self,
        ctx: &JujuContext,
        tools: &mut dyn HookTools,
        state: &mut UnitState,
        data: &Publication,
    ) -> Result<ProviderReport, InterfaceError> {
        let key = section_key(&self.endpoint, "provider");
        let mut section: ProviderSection = load_section(state, &key).unwrap_or_default();
        let mut desired = section.desired.take().unwrap_or_default();
        desired.extend(data.to_databag());
        if data.cluster.is_some() && data.client_urls.is_none() {
            // Client URLs describe one cluster string: a new one without them would leave
            // requirers talking to the old members.
            desired.remove(wire::KEY_CLIENT_URLS);
        }
        desired.retain(|_, v| !v.is_empty());
        if let Some(invalid) = RemoteData::from_databag(&desired).invalid().first() {
            return Err(InterfaceError::InvalidInput(invalid.to_string()));
        }
        section.desired = Some(desired);
        // Not stored and decoded again in between: at 1000 relations that round trip cost
        // milliseconds. On an error the caller discards `state` anyway.
        self.sync_section(ctx, tools, state, &key, section)
    }

    /// Publishes the cluster string (the Python layer's `set_cluster_string`); the
    /// credentials and client URLs published before stay.
    ///
    /// # Errors
    /// As [`Provider::publish`].
    pub fn set_cluster_string(
        &self,
        ctx: &JujuContext,
        tools: &mut dyn HookTools,
        state: &mut UnitState,
        cluster: &ClusterString,
    ) -> Result<ProviderReport, InterfaceError> {
        let data = Publication {
            cluster: Some(cluster.clone()),
            ..Publication::default()
        };
        self.publish(ctx, tools, state, &data)
    }

    /// The Python layer's older name of [`Provider::set_cluster_string`].
    ///
    /// # Errors
    /// As [`Provider::publish`].
    pub fn provide_cluster_string(
        &self,
        ctx: &JujuContext,
        tools: &mut dyn HookTools,
        state: &mut UnitState,
        cluster: &ClusterString,
    ) -> Result<ProviderReport, InterfaceError> {
        self.set_cluster_string(ctx, tools, state, cluster)
    }

    /// Validates and publishes client credentials given as PEM texts, in the Python layer's
    /// argument order `(key, cert, ca)`; invalid ones are refused before anything is sent.
    ///
    /// # Errors
    /// [`InterfaceError::InvalidInput`] naming the key at fault, or as [`Provider::publish`].
    pub fn set_client_credentials(
        &self,
        ctx: &JujuContext,
        tools: &mut dyn HookTools,
        state: &mut UnitState,
        key: &str,
        cert: &str,
        ca: &str,
    ) -> Result<ProviderReport, InterfaceError> {
        let credentials = ClientCredentials::from_pem(ca, cert, key)
            .map_err(|e| InterfaceError::InvalidInput(e.to_string()))?;
        let data = Publication {
            credentials: Some(credentials),
            ..Publication::default()
        };
        self.publish(ctx, tools, state, &data)
    }

    /// Brings the relation records up to date for this hook: membership and the requirers'
    /// wire versions, with the fewest calls. Returns the relations that went away.
    fn refresh(
        &self,
        ctx: &JujuContext,
        tools: &mut dyn HookTools,
        section: &mut ProviderSection,
    ) -> Result<Vec<RelationId>, ToolError> {
        let mut gone = Vec::new();
        if section.context_id.is_some() && section.context_id == ctx.context_id {
            return Ok(gone); // an earlier command of this hook did it
        }
        let full = section.context_id.is_none() || matches!(ctx.hook, HookKind::UpgradeCharm);
        let ours = ctx.hook.endpoint() == Some(&self.endpoint);
        let mut touched = false;
        if full {
            let ids = tools.relation_ids(&self.endpoint)?;
            let dying = |rid: &RelationId| {
                matches!(&ctx.hook, HookKind::RelationBroken(_))
                    && ctx.relation_id.as_ref() == Some(rid)
            };
            let listed: BTreeSet<RelationId> = ids.into_iter().filter(|rid| !dying(rid)).collect();
            gone.extend(
                section
                    .relations
                    .keys()
                    .filter(|rid| !listed.contains(*rid))
                    .cloned(),
            );
            section.relations.retain(|rid, _| listed.contains(rid));
            for rid in listed {
                let record = section.relations.entry(rid).or_default();
                // Membership may have changed while nobody listened.
                record.members = None;
            }
            touched = true;
        }
        match (&ctx.hook, &ctx.relation_id) {
            (HookKind::RelationBroken(_), Some(rid)) if ours => {
                if section.relations.remove(rid).is_some() {
                    gone.push(rid.clone());
                }
                touched = true;
            }
            (
                HookKind::RelationCreated(_)
                | HookKind::RelationJoined(_)
                | HookKind::RelationChanged(_)
                | HookKind::RelationDeparted(_),
                Some(rid),
            ) if ours => {
                let record = section.relations.entry(rid.clone()).or_default();
                if ctx.remote_app.is_some() {
                    record.remote_app = ctx.remote_app.clone();
                }
                match &ctx.hook {
                    HookKind::RelationCreated(_) => {
                        record.members = Some(0);
                        // A new relation: this unit has written nothing there yet.
                        let nothing = Published {
                            digest: bag_digest(&Databag::new()),
                            context_id: ctx.context_id.clone(),
                            confirmed: true,
                        };
                        record.unit.get_or_insert_with(|| nothing.clone());
                        record.app.get_or_insert(nothing);
                    }
                    HookKind::RelationJoined(_) | HookKind::RelationDeparted(_) => {
                        record.members = Some(tools.relation_list(rid)?.len());
                    }
                    _ => {}
                }
                let app_changed =
                    matches!(ctx.hook, HookKind::RelationChanged(_)) && ctx.remote_unit.is_none();
                let unread = matches!(record.version, Version::Unknown | Version::Pending);
                let departed = matches!(ctx.hook, HookKind::RelationDeparted(_));
                if let (Some(app), true) =
                    (&record.remote_app, app_changed || (unread && !departed))
                {
                    let bag = tools.relation_get(rid, &BagOwner::App(app.clone()))?;
                    let side = RequirerSide {
                        wire_version: bag.get(wire::KEY_WIRE_VERSION).cloned(),
                    };
                    record.version = match (side.version(), &ctx.hook) {
                        (2, _) => Version::V2,
                        (_, HookKind::RelationCreated(_)) => Version::Pending,
                        _ => Version::V1,
                    };
                }
                touched = true;
            }
            _ => {}
        }
        if touched {
            section.context_id = ctx.context_id.clone();
        }
        Ok(gone)
    }

    /// Makes every relation hold the publication its version asks for.
    fn publish_all(
        &self,
        ctx: &JujuContext,
        tools: &mut dyn HookTools,
        section: &mut ProviderSection,
        revoked: &[RelationId],
        report: &mut ProviderReport,
    ) -> Result<(), InterfaceError> {
        let Some(desired) = section.desired.clone() else {
            return Ok(());
        };
        self.confirm(ctx, tools, section)?;
        // Only the leader writes the application databag and owns the secret; ask only
        // when it can matter.
        let needs_leader = section.secret.is_some()
            || section.relations.values().any(|r| {
                r.version == Version::V2
                    || r.app
                        .as_ref()
                        .is_some_and(|p| p.digest != bag_digest(&Databag::new()))
            });
        let leader = needs_leader && tools.is_leader()?;
        let secrets_supported = ctx
            .juju_version
            .as_deref()
            .is_some_and(decide::supports_secrets);
        let mut input = ProviderInput {
            endpoint: self.endpoint.clone(),
            cluster: desired.get(wire::KEY_CLUSTER).cloned(),
            client_urls: desired
                .get(wire::KEY_CLIENT_URLS)
                .map(|urls| urls.split(',').map(str::to_owned).collect()),
            credentials: match wire::CREDENTIAL_KEYS.map(|k| desired.get(k)) {
                [Some(ca), Some(cert), Some(key)] => Some(PemCredentials {
                    ca: ca.clone(),
                    cert: cert.clone(),
                    key: key.clone(),
                }),
                _ => None,
            },
            leader,
            secrets_supported,
            relations: section
                .relations
                .iter()
                .filter(|(_, r)| r.version != Version::Pending)
                .map(|(rid, r)| {
                    let wire_version =
                        (r.version == Version::V2).then(|| wire::WIRE_VERSION_2.to_owned());
                    (rid.clone(), RequirerSide { wire_version })
                })
                .collect(),
            secret: section.secret.as_ref().map(|s| s.existing.clone()),
        };
        let mut decision = input.decide();
        if let Some(refused) = decision.refused {
            return Err(InterfaceError::InvalidInput(refused));
        }
        let mut secret_work = false;
        if leader {
            if let Some(plan) = decision.secret.clone().filter(|p| p.create) {
                match self.find_or_create_secret(tools, &plan.content, &plan.label)? {
                    Some(existing) => {
                        section.secret = Some(SecretRecord {
                            existing: existing.clone(),
                            context_id: ctx.context_id.clone(),
                            confirmed: false,
                        });
                        input.secret = Some(existing);
                        secret_work = true;
                    }
                    // This Juju has no secrets: the raw keys go in the application databag.
                    None => input.secrets_supported = false,
                }
                decision = input.decide();
            }
            if let Some(plan) = &decision.secret {
                if let Some(record) = &mut section.secret {
                    let uri = parse_uri(&record.existing.uri)?;
                    if plan.update {
                        tools.secret_set(&uri, &content_of(&plan.content)?)?;
                        secret_work = true;
                    }
                    record.existing.content_digest = Some(plan.content_digest.clone());
                    for rid in &plan.grant {
                        tools.secret_grant(&uri, rid, None)?;
                        record.existing.granted.insert(rid.clone());
                        secret_work = true;
                    }
                    for rid in plan.revoke.iter().chain(revoked) {
                        if record.existing.granted.remove(rid) {
                            revoke(tools, &uri, rid)?;
                            secret_work = true;
                        }
                    }
                    if secret_work {
                        record.context_id = ctx.context_id.clone();
                        record.confirmed = false;
                    }
                }
            }
            if let Some(uri) = decision.remove_secret.clone() {
                tools.secret_remove(&parse_uri(&uri)?)?;
                section.secret = None;
                secret_work = true;
            }
        }
        let mut digests = Digests::default();
        for (rid, writes) in &decision.relations {
            let Some(record) = section.relations.get_mut(rid) else {
                continue;
            };
            let mut wrote = false;
            let unit = self.put(
                ctx,
                tools,
                rid,
                WriteScope::Unit,
                (&writes.unit, digests.of(&writes.unit)),
                record.unit.take(),
                section.state_tools,
                &mut wrote,
            )?;
            record.unit = unit;
            if let Some(app) = &writes.app {
                let published = self.put(
                    ctx,
                    tools,
                    rid,
                    WriteScope::App,
                    (app, digests.of(app)),
                    record.app.take(),
                    section.state_tools,
                    &mut wrote,
                )?;
                record.app = published;
            }
            if wrote {
                report.written.push(rid.clone());
            }
        }
        if (secret_work || !report.written.is_empty()) && section.state_tools != Some(false) {
            self.leave_receipt(ctx, tools, section)?;
        }
        Ok(())
    }

    /// In `secret-remove` of the credentials secret: removes the revision no consumer tracks
    /// any more (never the latest; the rule is [`decide::ObsoleteRevision`]). Old
    /// revisions would otherwise pile up, one per rotation.
    fn remove_obsolete_revision(
        &self,
        ctx: &JujuContext,
        tools: &mut dyn HookTools,
        section: &ProviderSection,
    ) -> Result<Option<u32>, InterfaceError> {
        if ctx.hook != HookKind::Other("secret-remove".into()) {
            return Ok(None);
        }
        let hook = decide::ObsoleteRevision {
            endpoint: self.endpoint.clone(),
            secret_id: ctx.secret_id.clone(),
            secret_label: ctx.secret_label.clone(),
            revision: ctx.secret_revision,
            owned_uri: section.secret.as_ref().map(|s| s.existing.uri.clone()),
        };
        let Some(uri) = ctx
            .secret_id
            .as_deref()
            .and_then(|id| id.parse::<SecretUri>().ok())
            .filter(|_| hook.is_ours())
        else {
            return Ok(None);
        };
        // An application-owned secret is managed by the leader only.
        if !tools.is_leader()? {
            return Ok(None);
        }
        let latest = match tools.secret_info_get(Some(&uri), None) {
            Ok(info) => info.revision,
            Err(e) if e.is_unsupported() || is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(revision) = hook.to_remove(latest) else {
            return Ok(None);
        };
        match tools.secret_remove_revision(&uri, revision) {
            Ok(()) => Ok(Some(revision)),
            // Removed already (a repeated hook): nothing left to do.
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The secret of an earlier leader (found by its label), else a new one; `None` when
    /// this Juju has no secrets.
    fn find_or_create_secret(
        &self,
        tools: &mut dyn HookTools,
        content: &PemCredentials,
        label: &str,
    ) -> Result<Option<ExistingSecret>, InterfaceError> {
        match tools.secret_info_get(None, Some(label)) {
            Ok(info) => {
                // The owner may peek at the latest content: no new revision if it is the same.
                let content_digest =
                    match tools.secret_get(Some(&info.uri), None, SecretRevision::Peek) {
                        Ok(fields) => Some(decide::digest(
                            wire::SECRET_FIELDS.map(|f| fields.get(f).unwrap_or_default()),
                        )),
                        Err(_) => None,
                    };
                return Ok(Some(ExistingSecret {
                    uri: info.uri.to_string(),
                    content_digest,
                    // Unknown: granted again (granting is idempotent).
                    granted: BTreeSet::new(),
                }));
            }
            Err(e) if e.is_unsupported() => return Ok(None),
            Err(e) if e.stderr().is_some_and(|t| t.contains("not found")) => {}
            Err(e) => return Err(e.into()),
        }
        let added = tools.secret_add(
            &content_of(content)?,
            SecretOwnerKind::Application,
            Some(label),
        );
        match added {
            Ok(uri) => Ok(Some(ExistingSecret {
                uri: uri.to_string(),
                content_digest: Some(decide::digest([
                    content.ca.as_str(),
                    &content.cert,
                    &content.key,
                ])),
                granted: BTreeSet::new(),
            })),
            Err(e) if e.is_unsupported() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// With Juju's unit state: one `state-get` tells which hook's writes were committed
    /// last; records of that hook are confirmed, records of any other earlier hook are void
    /// (that hook failed and Juju discarded its writes).
    fn confirm(
        &self,
        ctx: &JujuContext,
        tools: &mut dyn HookTools,
        section: &mut ProviderSection,
    ) -> Result<(), ToolError> {
        let unconfirmed = |p: &Option<Published>| {
            p.as_ref().is_some_and(|p| {
                !p.confirmed && (p.context_id.is_none() || p.context_id != ctx.context_id)
            })
        };
        let pending_secret = section.secret.as_ref().is_some_and(|s| {
            !s.confirmed && (s.context_id.is_none() || s.context_id != ctx.context_id)
        });
        let pending = pending_secret
            || section
                .relations
                .values()
                .any(|r| unconfirmed(&r.unit) || unconfirmed(&r.app));
        // Without a hook id (not inside a hook) no receipt can tell hooks apart.
        if !pending || section.state_tools == Some(false) || ctx.context_id.is_none() {
            return Ok(());
        }
        let receipt = match tools.state_get() {
            Ok(values) => values.get(&self.receipt_key()).cloned(),
            Err(e) if e.is_unsupported() => {
                section.state_tools = Some(false);
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        section.state_tools = Some(true);
        let settle = |p: &mut Option<Published>| {
            if let Some(published) = p {
                if published.confirmed || published.context_id == ctx.context_id {
                    return;
                }
                if receipt.is_some() && published.context_id == receipt {
                    published.confirmed = true;
                } else {
                    *p = None; // written in a hook that failed: the databag holds something else
                }
            }
        };
        for record in section.relations.values_mut() {
            settle(&mut record.unit);
            settle(&mut record.app);
        }
        if let Some(secret) = &mut section.secret {
            if !secret.confirmed && secret.context_id != ctx.context_id {
                if receipt.is_some() && secret.context_id == receipt {
                    secret.confirmed = true;
                } else {
                    // Found again by its label (or made anew) the next time it is needed.
                    section.secret = None;
                }
            }
        }
        Ok(())
    }

    /// Leaves this hook's receipt in Juju's unit state (committed with its writes).
    fn leave_receipt(
        &self,
        ctx: &JujuContext,
        tools: &mut dyn HookTools,
        section: &mut ProviderSection,
    ) -> Result<(), ToolError> {
        let Some(context_id) = &ctx.context_id else {
            return Ok(());
        };
        let values = Databag::from([(self.receipt_key(), context_id.clone())]);
        match tools.state_set(&values) {
            Ok(()) => section.state_tools = Some(true),
            Err(e) if e.is_unsupported() => section.state_tools = Some(false),
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Makes one of this unit's databags on `rid` hold exactly `wanted` of the interface
    /// keys (given with its [`bag_digest`]); returns the new record.
    #[allow(clippy::too_many_arguments)]
    fn put(
        &self,
        ctx: &JujuContext,
        tools: &mut dyn HookTools,
        rid: &RelationId,
        scope: WriteScope,
        (wanted, digest): (&Databag, String),
        record: Option<Published>,
        state_tools: Option<bool>,
        wrote: &mut bool,
    ) -> Result<Option<Published>, InterfaceError> {
        let from_this_hook =
            |r: &Published| r.context_id.is_some() && r.context_id == ctx.context_id;
        let (changes, verified) = match record {
            Some(r) if r.confirmed || from_this_hook(&r) => {
                if r.digest == digest {
                    return Ok(Some(r)); // as before: no call, the state stays byte for byte
                }
                if r.digest == bag_digest(&Databag::new()) {
                    (wanted.clone(), false) // nothing of ours there to delete
                } else {
                    (replace_all(wanted), false)
                }
            }
            // Without unit state (or its receipt), a write of an earlier hook is checked once
            // against the databag (one relation-get in the first hook after a publish) before
            // it is trusted. With it, `confirm` settled every such record already.
            Some(_) if state_tools != Some(true) || ctx.context_id.is_none() => {
                let owner = match scope {
                    WriteScope::Unit => BagOwner::Unit(ctx.unit.clone()),
                    WriteScope::App => BagOwner::App(ctx.app().clone()),
                };
                let held = tools.relation_get(rid, &owner)?;
                (diff(&held, wanted), true)
            }
            // Nothing of ours known there: nothing to do where nothing is wanted in the
            // application databag; elsewhere the whole publication, over whatever is there.
            None if scope == WriteScope::App && wanted.is_empty() => return Ok(None),
            _ => (replace_all(wanted), false),
        };
        let confirmed = verified && changes.is_empty();
        if !changes.is_empty() {
            tools.relation_set(rid, scope, &changes)?;
            *wrote = true;
        }
        Ok(Some(Published {
            digest,
            context_id: ctx.context_id.clone(),
            confirmed,
        }))
    }
}

/// `connected`: a requirer unit in any relation. Relations of unknown membership are listed
/// one by one only until a unit is found (usually one `relation-list`).
fn connected(tools: &mut dyn HookTools, section: &mut ProviderSection) -> Result<bool, ToolError> {
    if section
        .relations
        .values()
        .any(|r| r.members.unwrap_or(0) > 0)
    {
        return Ok(true);
    }
    let unknown: Vec<RelationId> = section
        .relations
        .iter()
        .filter(|(_, r)| r.members.is_none())
        .map(|(rid, _)| rid.clone())
        .collect();
    for rid in unknown {
        let members = tools.relation_list(&rid)?;
        let found = !members.is_empty();
        if let Some(record) = section.relations.get_mut(&rid) {
            record.members = Some(members.len());
            if record.remote_app.is_none() {
                record.remote_app = members.first().map(|u| u.app().clone());
            }
        }
        if found {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Our own record's URI (written from `secret-add`'s output, so it parses).
fn parse_uri(uri: &str) -> Result<SecretUri, InterfaceError> {
    uri.parse()
        .map_err(|e: juju_hooks::SecretError| InterfaceError::InvalidInput(e.to_string()))
}

/// The secret content of wire version 2.
fn content_of(pem: &PemCredentials) -> Result<SecretContent, InterfaceError> {
    SecretContent::new(pem.secret_content())
        .map_err(|e| InterfaceError::InvalidInput(e.to_string()))
}

/// A refusal because the secret (or its revision) does not exist.
fn is_not_found(e: &ToolError) -> bool {
    matches!(
        e.kind,
        ToolErrorKind::Usage { .. } | ToolErrorKind::Refused { .. }
    ) && e.stderr().is_some_and(|t| t.contains("not found"))
}

/// Revokes a grant; a relation Juju already removed took its grant with it.
fn revoke(tools: &mut dyn HookTools, uri: &SecretUri, rid: &RelationId) -> Result<(), ToolError> {
    match tools.secret_revoke(uri, rid, None) {
        Err(e)
            if matches!(
                e.kind,
                ToolErrorKind::Usage { .. } | ToolErrorKind::Refused { .. }
            ) && e.stderr().is_some_and(|t| t.contains("not found")) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Every wanted key, and a deletion of every other provider key: replaces whatever
/// publication a databag holds.
fn replace_all(wanted: &Databag) -> Databag {
    let mut changes = wanted.clone();
    for key in &wire::PROVIDER_KEYS {
        changes.entry((*key).to_owned()).or_default();
    }
    changes
}

/// A short, stable fingerprint of a databag: enough to tell whether a relation holds the
/// current publication, without keeping a copy per relation.
fn bag_digest(bag: &Databag) -> String {
    decide::digest(bag.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]))
}

/// The digests of the few distinct bags one hook writes. Every relation of a version wants
/// the same bag, and hashing its kilobytes of PEM a thousand times was a fifth of the first
/// hook's own time at 1000 relation ids; comparing with a bag already hashed is far cheaper.
#[derive(Default)]
struct Digests {
    known: Vec<(Databag, String)>,
}

impl Digests {
    /// More distinct bags than this are hashed each time (they are not the common case).
    const KEPT: usize = 4;

    fn of(&mut self, bag: &Databag) -> String {
        if let Some((_, digest)) = self.known.iter().find(|(known, _)| known == bag) {
            return digest.clone();
        }
        let digest = bag_digest(bag);
        if self.known.len() < Self::KEPT {
            self.known.push((bag.clone(), digest.clone()));
        }
        digest
    }
}

/// The `relation-set` that turns the interface keys of `held` into `wanted` (empty value =
/// delete). Keys that are not ours (e.g. Juju's `private-address`) are left alone.
fn diff(held: &Databag, wanted: &Databag) -> Databag {
    let mut changes: Databag = wanted
        .iter()
        .filter(|(k, v)| held.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for key in &wire::PROVIDER_KEYS {
        if held.contains_key(*key) && !wanted.contains_key(*key) {
            changes.insert((*key).to_owned(), String::new());
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_digests_are_the_digests() {
        let bag = |n: usize| Databag::from([("cluster".to_owned(), format!("etcd{n}=x"))]);
        let mut digests = Digests::default();
        // More distinct bags than are kept, each asked for twice, in turn.
        for round in 0..2 {
            for n in 0..Digests::KEPT + 2 {
                assert_eq!(digests.of(&bag(n)), bag_digest(&bag(n)), "{round} {n}");
            }
        }
        assert_eq!(digests.of(&Databag::new()), bag_digest(&Databag::new()));
        assert_ne!(digests.of(&bag(0)), digests.of(&bag(1)));
    }
}
