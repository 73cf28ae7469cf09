//! The requirer side: derive the flags from what the etcd units publish, every run.
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
//! When remote units disagree, one unit's publication is chosen **as a whole** (never a key
//! from one unit and a certificate from another): valid publications beat invalid ones, then
//! complete beats partial, then the one published by more units, then the cluster with more
//! members, then the smallest unit name. See [`choose`].

use std::cmp::Reverse;
use std::collections::BTreeMap;

use juju_hooks::{
    Databag, Endpoint, HookTools, JujuContext, LogLevel, RelationId, StatusKind, UnitName,
    UnitState, WorkloadStatus,
};
use serde::{Deserialize, Serialize};

use crate::cluster::{ClusterString, EtcdUrl, UrlScheme};
use crate::credentials::ClientCredentials;
use crate::error::InterfaceError;
use crate::state::{load_section, section_key, set_flag, store_section};
use crate::view::{Reads, RemoteView};
use crate::wire::{self, ClientUrlsField, ClusterField, CredentialsField, RemoteData};

/// Every key a provider may write, old name included.
const WIRE_KEYS: [&str; 6] = [
    wire::KEY_CLUSTER,
    wire::KEY_CLUSTER_LEGACY,
    wire::KEY_CLIENT_CA,
    wire::KEY_CLIENT_CERT,
    wire::KEY_CLIENT_KEY,
    wire::KEY_CLIENT_URLS,
];

/// The first invalid part of a publication as one line naming the key.
fn invalid_reason(data: &RemoteData) -> Option<String> {
    data.invalid().first().map(ToString::to_string)
}

// No `Debug`: the view and `chosen` hold the private key.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct RequirerSection {
    view: Option<RemoteView>,
    /// The wire keys of the publication chosen last time (to raise the `changed` flags).
    chosen: Option<Databag>,
}

/// The publication chosen among the remote units, parsed.
#[derive(Clone, Debug)]
pub struct Chosen {
    /// A unit that published it (the smallest name among those that agree).
    pub unit: UnitName,
    /// The relation of that unit.
    pub relation: RelationId,
    /// How many remote units publish exactly this.
    pub agreeing: usize,
    /// The parsed data.
    pub data: RemoteData,
}

/// What a requirer run found.
#[derive(Clone, Debug)]
pub struct RequirerReport {
    /// Whether any remote unit is related.
    pub connected: bool,
    /// The publication the flags are derived from, if any unit published anything.
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
        invalid_reason(&self.chosen.as_ref()?.data)
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
        let chosen = choose(&view);
        let report = RequirerReport {
            connected: view.has_units(),
            status: self.describe(&view, chosen.as_ref()),
            remote_units: view.units().count(),
            chosen,
        };
        self.derive_flags(state, &mut section, &view, &report);
        if self.set_status && !crate::status::status_is_current(state, &report.status) {
            // The reason first: if the log fails, the status is still the old one.
            if let Some(problem) = report.problem() {
                tools.juju_log(LogLevel::Warning, &problem)?;
            }
            crate::status::set_status_if_changed(tools, state, &report.status)?;
        }
        section.view = Some(view);
        store_section(state, &key, &section);
        Ok(report)
    }

    fn derive_flags(
        &self,
        state: &mut UnitState,
        section: &mut RequirerSection,
        view: &RemoteView,
        report: &RequirerReport,
    ) {
        let chosen_bag = report.chosen.as_ref().and_then(|c| wire_keys_of(view, c));
        let previous = section.chosen.take();
        let changed = |keys: &[&str]| {
            let before = previous.as_ref().map(|b| pick(b, keys));
            let after = chosen_bag.as_ref().map(|b| pick(b, keys));
            before != after
        };
        let cluster_valid = report.cluster().is_some();
        let tls_valid = report.credentials().is_some();
        if cluster_valid && changed(&[wire::KEY_CLUSTER, wire::KEY_CLUSTER_LEGACY]) {
            state.flags.insert(self.flag("cluster.changed"));
        }
        if tls_valid
            && changed(&[
                wire::KEY_CLIENT_CA,
                wire::KEY_CLIENT_CERT,
                wire::KEY_CLIENT_KEY,
            ])
        {
            state.flags.insert(self.flag("tls.changed"));
        }
        set_flag(state, self.flag("connected"), report.connected);
        set_flag(state, self.flag("available"), cluster_valid);
        set_flag(state, self.flag("tls.available"), tls_valid);
        section.chosen = chosen_bag;
    }

    fn describe(&self, view: &RemoteView, chosen: Option<&Chosen>) -> WorkloadStatus {
        let ep = &self.endpoint;
        let Some(chosen) = chosen.filter(|_| view.has_units()) else {
            let message = if view.has_units() {
                format!("waiting for etcd to publish on relation {ep}")
            } else {
                format!("waiting for a relation to etcd on endpoint {ep}")
            };
            return WorkloadStatus::new(StatusKind::Waiting, message);
        };
        if let Some(problem) = invalid_reason(&chosen.data) {
            return WorkloadStatus::new(
                StatusKind::Blocked,
                format!("{ep}: {} sent {problem}", chosen.unit),
            );
        }
        match (&chosen.data.cluster, &chosen.data.credentials) {
            (ClusterField::Valid(cluster), CredentialsField::Valid(_)) => WorkloadStatus::new(
                StatusKind::Active,
                format!(
                    "{ep}: etcd cluster of {} member(s), TLS credentials ready",
                    cluster.names().len()
                ),
            ),
            (ClusterField::Valid(cluster), _) if !requires_tls(cluster) => WorkloadStatus::new(
                StatusKind::Active,
                format!("{ep}: etcd cluster of {} member(s)", cluster.names().len()),
            ),
            (ClusterField::Valid(_), _) => WorkloadStatus::new(
                StatusKind::Waiting,
                format!("{ep}: waiting for etcd client credentials"),
            ),
            _ => WorkloadStatus::new(
                StatusKind::Waiting,
                format!("{ep}: waiting for the etcd cluster string"),
            ),
        }
    }
}

/// Chooses one remote unit's publication as a whole. Units that published none of the wire
/// keys do not take part. Ranking: valid over invalid, then more valid parts (cluster counts
/// more than credentials), then more agreeing units, then a larger cluster, then the
/// smallest unit name — so the choice never depends on the order of reads.
pub fn choose(view: &RemoteView) -> Option<Chosen> {
    let mut groups: BTreeMap<Databag, Vec<(&RelationId, &UnitName)>> = BTreeMap::new();
    for (rid, unit, bag) in view.units() {
        let ours = pick(bag, &WIRE_KEYS);
        if !ours.is_empty() {
            groups.entry(ours).or_default().push((rid, unit));
        }
    }
    groups
        .into_iter()
        .map(|(bag, mut units)| {
            units.sort_by(|a, b| a.1.cmp(b.1));
            let (rid, unit) = units[0];
            Chosen {
                unit: unit.clone(),
                relation: rid.clone(),
                agreeing: units.len(),
                data: RemoteData::from_databag(&bag),
            }
        })
        .max_by_key(|c| {
            let valid = c.data.invalid().is_empty();
            let cluster = matches!(c.data.cluster, ClusterField::Valid(_));
            let tls = matches!(c.data.credentials, CredentialsField::Valid(_));
            let size = match &c.data.cluster {
                ClusterField::Valid(cluster) => cluster.entries().len(),
                _ => 0,
            };
            (
                valid,
                cluster,
                tls,
                c.agreeing,
                size,
                Reverse(c.unit.clone()),
            )
        })
}

fn wire_keys_of(view: &RemoteView, chosen: &Chosen) -> Option<Databag> {
    let bag = view.relations.get(&chosen.relation)?.get(&chosen.unit)?;
    Some(pick(bag, &WIRE_KEYS))
}

/// The non-empty values of `keys` in `bag`.
fn pick(bag: &Databag, keys: &[&str]) -> Databag {
    keys.iter()
        .filter_map(|k| {
            let v = bag.get(*k).filter(|v| !v.is_empty())?;
            Some(((*k).to_owned(), v.clone()))
        })
        .collect()
}

/// Whether any peer URL is `https`, so that the cluster cannot be used without credentials.
fn requires_tls(cluster: &ClusterString) -> bool {
    cluster
        .peer_urls()
        .any(|url| url.scheme() == UrlScheme::Https)
}
