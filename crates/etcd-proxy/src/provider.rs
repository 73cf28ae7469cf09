//! The provider side: publish the cluster string and client credentials on every relation.
//!
//! Data goes into the local **unit** databag on every relation id of the endpoint, as raw
//! strings, exactly as the 2016 Python provider wrote it (charms.reactive GLOBAL scope), so
//! deployed Python requirers keep working.
//!
//! What to publish is remembered in the unit state, so a charm calls
//! [`Provider::publish`] when its data changes and [`Provider::sync`] in every hook: a new
//! relation gets the data in its first hook, and a relation already holding it costs nothing.

use std::collections::BTreeMap;

use juju_hooks::{
    BagOwner, Databag, Endpoint, HookKind, HookTools, JujuContext, RelationId, UnitState,
    WriteScope,
};
use serde::{Deserialize, Serialize};

use crate::cluster::{ClusterString, EtcdUrl};
use crate::credentials::ClientCredentials;
use crate::error::InterfaceError;
use crate::state::{load_section, section_key, set_flag, store_section};
use crate::view::{Reads, RemoteView};
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

/// What the provider last wrote on one relation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Published {
    /// A digest of the databag written (the bag itself is the `desired` one, kept once).
    digest: String,
    /// The hook run that wrote it. Juju discards the writes of a failed hook, so a record
    /// from an earlier run is checked once against the real databag before it is trusted.
    context_id: Option<String>,
    confirmed: bool,
}

// No `Debug`: `desired` holds the private key.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct ProviderSection {
    view: Option<RemoteView>,
    /// The databag to publish on every relation (`None`: nothing published yet).
    desired: Option<Databag>,
    published: BTreeMap<RelationId, Published>,
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
        let mut section: ProviderSection = load_section(state, &key).unwrap_or_default();
        let view = RemoteView::refresh(
            section.view.take(),
            ctx,
            &self.endpoint,
            Reads::MembersOnly,
            tools,
        )?;
        let mut report = ProviderReport {
            connected: view.has_units(),
            written: Vec::new(),
            relations: view.relations.keys().cloned().collect(),
        };
        section
            .published
            .retain(|rid, _| view.relations.contains_key(rid));
        if let Some(desired) = section.desired.clone() {
            for rid in report.relations.clone() {
                let record = section.published.remove(&rid);
                let record = self.push(ctx, tools, &rid, &desired, record, &mut report)?;
                section.published.insert(rid, record);
            }
        }
        section.view = Some(view);
        store_section(state, &key, &section);
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
        store_section(state, &key, &section);
        self.sync(ctx, tools, state)
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

    /// Writes what `rid` lacks of `desired`, trusting `record` only once confirmed.
    fn push(
        &self,
        ctx: &JujuContext,
        tools: &mut dyn HookTools,
        rid: &RelationId,
        desired: &Databag,
        record: Option<Published>,
        report: &mut ProviderReport,
    ) -> Result<Published, InterfaceError> {
        let from_this_hook =
            |r: &Published| r.context_id.is_some() && r.context_id == ctx.context_id;
        // In its `-created` hook a relation is new: this unit has written nothing there yet.
        let new_relation = matches!(&ctx.hook, HookKind::RelationCreated(_))
            && ctx.relation_id.as_ref() == Some(rid);
        let wanted = digest(desired);
        let (changes, verified) = match record {
            Some(r) if r.confirmed || from_this_hook(&r) => {
                if r.digest == wanted {
                    return Ok(r); // as before: no call, and the state stays byte for byte
                }
                // Another publication is there: write the whole new one over it.
                (replace_all(desired), false)
            }
            None if new_relation => (desired.clone(), false),
            // Juju discards the writes of a failed hook, and a hook can fail after this
            // command succeeded: a write of an earlier hook is checked once (one relation-get
            // in the first hook after a publish) before it is trusted.
            _ => {
                let held = tools.relation_get(rid, &BagOwner::Unit(ctx.unit.clone()))?;
                (diff(&held, desired), true)
            }
        };
        let confirmed = verified && changes.is_empty();
        if !changes.is_empty() {
            tools.relation_set(rid, WriteScope::Unit, &changes)?;
            report.written.push(rid.clone());
        }
        Ok(Published {
            digest: wanted,
            context_id: ctx.context_id.clone(),
            confirmed,
        })
    }
}

/// Every desired key, and a deletion of every other provider key: replaces whatever
/// publication a relation holds.
fn replace_all(desired: &Databag) -> Databag {
    let mut changes = desired.clone();
    for key in &wire::PROVIDER_KEYS {
        changes.entry((*key).to_owned()).or_default();
    }
    changes
}

/// A short, stable fingerprint of a databag (FNV-1a over its canonical JSON): enough to
/// tell whether a relation holds the current publication, without keeping a copy per
/// relation. Not a security measure; the data is not secret from this unit.
fn digest(bag: &Databag) -> String {
    let text = serde_json::to_string(bag).unwrap_or_default();
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// The `relation-set` that turns the wire keys of `held` into `desired` (empty value =
/// delete). Keys that are not ours (e.g. Juju's `private-address`) are left alone.
fn diff(held: &Databag, desired: &Databag) -> Databag {
    let mut changes: Databag = desired
        .iter()
        .filter(|(k, v)| held.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for key in &wire::PROVIDER_KEYS {
        if held.contains_key(*key) && !desired.contains_key(*key) {
            changes.insert((*key).to_owned(), String::new());
        }
    }
    changes
}
