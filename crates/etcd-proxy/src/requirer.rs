//! The requirer side: derive the flags from what the etcd side publishes, every run.
//!
//! Flags (DESIGN.md §3), recomputed from the current relation data on every run:
//! - `{endpoint}.connected`: a remote unit is related on any relation id of the endpoint;
//! - `{endpoint}.available`: the chosen publication holds a valid cluster string;
//! - `{endpoint}.tls.available`: it holds valid client credentials (all three keys, PEM
//!   parses, key matches certificate, certificate signed by the CA);
//! - a publication with any invalid part sets neither availability flag, and the status is
//!   `blocked` with a one-line reason naming the key;
//! - `{endpoint}.cluster.changed` / `{endpoint}.tls.changed`: set when the cluster string /
//!   the credentials differ from those of the previous run; the charm clears them after
//!   acting (`etcd-proxy-relation flags --clear NAME`).
//!
//! One publication is chosen **as a whole** (never a key from one unit and a certificate
//! from another): a valid one in the provider's application databag (wire version 2, the
//! credentials in a Juju secret) first, else the unit databags; see [`choose`]. The rules
//! are in [`crate::decide`]; this module does the hook-tool I/O around them and, on Juju 3.1
//! or later, has the leader advertise wire version 2 (`wire_version` = `2` in its
//! application databag).

use std::collections::BTreeMap;
use std::time::SystemTime;

use juju_hooks::{
    BagOwner, Endpoint, HookKind, HookTools, JujuContext, LogLevel, RelationId, UnitState,
    WorkloadStatus, WriteScope,
};
use serde::{Deserialize, Serialize};

use crate::cluster::{ClusterString, EtcdUrl};
use crate::credentials::ClientCredentials;
use crate::decide::{self, Seen};
use crate::error::InterfaceError;
use crate::state::{load_section, section_key, store_section};
use crate::view::{Reads, RemoteView};
use crate::wire::{self, ClientUrlsField, ClusterField, CredentialsField, RemoteData};

pub use crate::decide::Chosen;

/// How far the advertisement of wire version 2 got on one relation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Advert {
    /// Written in that hook run; Juju keeps it only if the hook succeeded, so it is checked
    /// once in a later hook.
    Written(Option<String>),
    /// Seen in our application databag.
    Confirmed,
    /// This unit is not the leader: the leader advertises.
    LeftToLeader,
}

// No `Debug`: the view holds the private key.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct RequirerSection {
    view: Option<RemoteView>,
    /// Digests of what the previous run chose (to raise the `changed` flags).
    #[serde(default)]
    seen: Seen,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    adverts: BTreeMap<RelationId, Advert>,
}

/// What a requirer run found.
#[derive(Clone, Debug)]
pub struct RequirerReport {
    /// Whether any remote unit is related.
    pub connected: bool,
    /// The publication the flags are derived from, if anything was published.
    pub chosen: Option<Chosen>,
    /// The workload status that describes the relation.
    pub status: WorkloadStatus,
    /// How many remote units are related, over all relation ids.
    pub remote_units: usize,
}

impl RequirerReport {
    /// The publication, unless any part of it is invalid: invalid data is never used, not
    /// even its valid parts.
    fn usable(&self) -> Option<&RemoteData> {
        let chosen = self.chosen.as_ref()?;
        chosen.data.invalid().is_empty().then_some(&chosen.data)
    }

    /// The valid cluster string, if published (and nothing published with it is invalid).
    pub fn cluster(&self) -> Option<&ClusterString> {
        match &self.usable()?.cluster {
            ClusterField::Valid(cluster) => Some(cluster),
            _ => None,
        }
    }

    /// The canonical cluster string as text (the Python layer's `cluster_string()`).
    pub fn cluster_string(&self) -> Option<String> {
        self.cluster().map(ToString::to_string)
    }

    /// The valid client credentials, if published (and nothing published with them is
    /// invalid).
    pub fn credentials(&self) -> Option<&ClientCredentials> {
        match &self.usable()?.credentials {
            CredentialsField::Valid(credentials) => Some(credentials),
            _ => None,
        }
    }

    /// The advertised client URLs (`client_urls`), if published and valid.
    pub fn client_urls(&self) -> Option<&[EtcdUrl]> {
        match &self.usable()?.client_urls {
            ClientUrlsField::Valid(urls) => Some(urls),
            _ => None,
        }
    }

    /// Why the relation data is unusable (one line naming the key), if it is invalid.
    pub fn problem(&self) -> Option<String> {
        let chosen = self.chosen.as_ref()?;
        chosen.data.invalid().first().map(ToString::to_string)
    }
}

/// The requirer side of one endpoint.
#[derive(Clone, Debug)]
pub struct Requirer {
    endpoint: Endpoint,
    set_status: bool,
}

impl Requirer {
    /// The requirer of `endpoint` (e.g. `proxy`); it sets the workload status.
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            set_status: true,
        }
    }

    /// Leaves the workload status to the charm.
    pub fn without_status(mut self) -> Self {
        self.set_status = false;
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The name of flag `suffix` of this endpoint, e.g. `proxy.tls.available`.
    pub fn flag(&self, suffix: &str) -> String {
        format!("{}.{suffix}", self.endpoint)
    }

    /// Reads what changed, derives the flags into `state` and sets the workload status if it
    /// changed. Changes `state` only in memory; the caller saves it on success.
    ///
    /// # Errors
    /// A hook-tool call failed.
    pub fn sync(
        &self,
        ctx: &JujuContext,
        tools: &mut dyn HookTools,
        state: &mut UnitState,
    ) -> Result<RequirerReport, InterfaceError> {
        let key = section_key(&self.endpoint, "requirer");
        let mut section: RequirerSection = load_section(state, &key).unwrap_or_default();
        let view = RemoteView::refresh(
            section.view.take(),
            ctx,
            &self.endpoint,
            Reads::MembersAndData,
            tools,
        )?;
        let decision = decide::requirer::decide(
            &self.endpoint,
            &view.relations,
            &section.seen,
            false,
            SystemTime::now(),
        );
        if ctx
            .juju_version
            .as_deref()
            .is_some_and(decide::supports_secrets)
        {
            self.advertise(ctx, tools, &view, &mut section.adverts)?;
        }
        for flag in &decision.set_flags {
            state.flags.insert(flag.clone());
        }
        for flag in &decision.clear_flags {
            state.flags.remove(flag);
        }
        let report = RequirerReport {
            connected: decision.connected,
            status: decision.status,
            remote_units: decision.remote_units,
            chosen: decision.chosen,
        };
        if self.set_status && !crate::status::status_is_current(state, &report.status) {
            // The reason first: if the log fails, the status is still the old one.
            if let Some(problem) = report.problem() {
                tools.juju_log(LogLevel::Warning, &problem)?;
            }
            crate::status::set_status_if_changed(tools, state, &report.status)?;
        }
        section.seen = decision.seen;
        section.view = Some(view);
        store_section(state, &key, &section);
        Ok(report)
    }

    /// The leader writes `wire_version` = `2` in its application databag of every relation
    /// that lacks it; the writes are confirmed in a later hook (Juju drops the writes of a
    /// failed hook) by the provider's answer, else by one `state-get` of the hook's receipt,
    /// else (no unit state) by reading the databag once. Other units ask `is-leader` once per
    /// relation and leave it.
    fn advertise(
        &self,
        ctx: &JujuContext,
        tools: &mut dyn HookTools,
        view: &RemoteView,
        adverts: &mut BTreeMap<RelationId, Advert>,
    ) -> Result<(), InterfaceError> {
        adverts.retain(|rid, _| view.relations.contains_key(rid));
        if matches!(ctx.hook, HookKind::LeaderElected) {
            adverts.retain(|_, advert| *advert != Advert::LeftToLeader);
        }
        // A provider answers in its application databag only to version 2: an answer there
        // proves the advertisement was committed, with no call.
        for (rid, relation) in &view.relations {
            let answered = relation
                .app
                .as_ref()
                .is_some_and(|bag| wire::PROVIDER_KEYS.iter().any(|k| bag.contains_key(*k)));
            if answered && matches!(adverts.get(rid), Some(Advert::Written(_))) {
                adverts.insert(rid.clone(), Advert::Confirmed);
            }
        }
        let pending: Vec<RelationId> = view
            .relations
            .keys()
            .filter(|rid| match adverts.get(*rid) {
                None => true,
                Some(Advert::Written(hook)) => hook.is_none() || *hook != ctx.context_id,
                Some(Advert::Confirmed | Advert::LeftToLeader) => false,
            })
            .cloned()
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        let leader = tools.is_leader()?;
        let wanted = juju_hooks::Databag::from([(
            wire::KEY_WIRE_VERSION.to_owned(),
            wire::WIRE_VERSION_2.to_owned(),
        )]);
        // Juju 3.1+ has unit state: the receipt of the hook that wrote tells, in one
        // `state-get`, which writes were committed (as for the provider's records).
        let receipt_key = format!("etcd-proxy.{}.requirer-receipt", self.endpoint);
        let earlier = pending
            .iter()
            .any(|rid| matches!(adverts.get(rid), Some(Advert::Written(Some(_)))));
        let receipt = match (leader && earlier, &ctx.context_id) {
            (true, Some(_)) => match tools.state_get() {
                Ok(values) => Some(values.get(&receipt_key).cloned()),
                Err(e) if e.is_unsupported() => None,
                Err(e) => return Err(e.into()),
            },
            _ => None,
        };
        let mut wrote = false;
        for rid in pending {
            if !leader {
                adverts.insert(rid, Advert::LeftToLeader);
                continue;
            }
            if let (Some(receipt), Some(Advert::Written(Some(hook)))) =
                (&receipt, adverts.get(&rid))
            {
                if receipt.as_ref() == Some(hook) {
                    adverts.insert(rid, Advert::Confirmed);
                    continue;
                }
            } else if matches!(adverts.get(&rid), Some(Advert::Written(_))) {
                let own = tools.relation_get(&rid, &BagOwner::App(ctx.app().clone()))?;
                if own.get(wire::KEY_WIRE_VERSION).map(String::as_str) == Some(wire::WIRE_VERSION_2)
                {
                    adverts.insert(rid, Advert::Confirmed);
                    continue;
                }
            }
            tools.relation_set(&rid, WriteScope::App, &wanted)?;
            adverts.insert(rid, Advert::Written(ctx.context_id.clone()));
            wrote = true;
        }
        if let (true, Some(id)) = (wrote, &ctx.context_id) {
            let values = juju_hooks::Databag::from([(receipt_key, id.clone())]);
            match tools.state_set(&values) {
                Ok(()) => {}
                Err(e) if e.is_unsupported() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// Chooses one publication as a whole: a valid application databag (wire version 2) first,
/// then the unit databags, ranked by: no invalid part; then a valid cluster string; then
/// valid credentials; then more agreeing databags; then a larger cluster; then the smallest
/// name — so the choice never depends on the order of reads. Databags holding none of the
/// interface keys do not take part.
pub fn choose(view: &RemoteView) -> Option<Chosen> {
    decide::requirer::choose(&view.relations, SystemTime::now())
}
