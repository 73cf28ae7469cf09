//! The requirer's decision: which publication, which flags, which status.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::time::SystemTime;

use juju_hooks::{AppName, Databag, Endpoint, RelationId, StatusKind, UnitName, WorkloadStatus};
use serde::{Deserialize, Serialize};

use super::{digest, PemCredentials, SecretRead};
use crate::cluster::{ClusterString, UrlScheme};
use crate::credentials::Proofs;
use crate::wire::{self, ClientUrlsField, ClusterField, CredentialsField, RemoteData};

/// The keys a provider unit may write in its unit databag (wire version 1).
const UNIT_KEYS: [&str; 6] = [
    wire::KEY_CLUSTER,
    wire::KEY_CLUSTER_LEGACY,
    wire::KEY_CLIENT_CA,
    wire::KEY_CLIENT_CERT,
    wire::KEY_CLIENT_KEY,
    wire::KEY_CLIENT_URLS,
];

/// Whether a Juju agent version (`JUJU_VERSION`, e.g. `3.6.1`, `3.1-beta2`) has secrets
/// that a requirer can be granted: 3.1 or later.
pub fn supports_secrets(juju_version: &str) -> bool {
    let mut parts = juju_version
        .split(['.', '-'])
        .map(|part| part.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= (3, 1),
        (Some(major), None) => major > 3,
        _ => false,
    }
}

/// What one relation id shows of the provider side.
///
/// `Debug` shows keys only: the databags may hold a private key.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationData {
    /// The provider application's databag, if it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<Databag>,
    /// Every remote unit in the relation, with its databag (empty if it published nothing,
    /// or if it was not read because the application databag was enough).
    #[serde(default)]
    pub units: BTreeMap<UnitName, Databag>,
    /// The provider application (`JUJU_REMOTE_APP`), named in statuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_app: Option<AppName>,
    /// The secret named by the application databag's `client_credentials_secret`, as read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretRead>,
}

impl std::fmt::Debug for RelationData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let units: BTreeMap<&UnitName, Vec<&String>> = self
            .units
            .iter()
            .map(|(unit, bag)| (unit, bag.keys().collect()))
            .collect();
        f.debug_struct("RelationData")
            .field(
                "app",
                &self.app.as_ref().map(|bag| bag.keys().collect::<Vec<_>>()),
            )
            .field("units", &units)
            .field("remote_app", &self.remote_app)
            .field("secret", &self.secret)
            .finish()
    }
}

impl RelationData {
    /// The application databag's publication, parsed, if it holds any interface key.
    pub fn app_publication(&self, now: SystemTime) -> Option<RemoteData> {
        self.app_publication_proven(now, &Proofs::new())
    }

    fn app_publication_proven(&self, now: SystemTime, proofs: &Proofs) -> Option<RemoteData> {
        let bag = pick(self.app.as_ref()?, &wire::READ_KEYS);
        (!bag.is_empty())
            .then(|| RemoteData::from_app_databag_proven(&bag, self.secret.as_ref(), now, proofs))
    }

    /// Whether the application databag holds a publication with no invalid part: then the
    /// unit databags need not be read.
    pub fn app_publication_is_valid(&self, now: SystemTime) -> bool {
        self.app_publication(now)
            .is_some_and(|data| data.invalid().is_empty())
    }
}

/// What the previous run saw, so that `.changed` flags rise only on change. Digests, never
/// the values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// A digest of the chosen publication's cluster string, as sent.
    #[serde(default)]
    pub cluster: Option<String>,
    /// A digest of the chosen publication's three credential values, as sent.
    #[serde(default)]
    pub credentials: Option<String>,
    /// The valid credentials among the publications, so that validating the same texts
    /// again skips the costly checks ([`crate::ClientCredentials::from_pem_proven`]); at most
    /// eight, the chosen publication's first.
    #[serde(default, skip_serializing_if = "Proofs::is_empty")]
    pub proven: Proofs,
}

/// How many [`Seen::proven`] entries are kept: one per distinct valid publication, and
/// providers publish one, or two while they rotate.
const MAX_PROOFS: usize = 8;

/// Everything the requirer's decision depends on.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequirerInput {
    /// The endpoint (relation name), e.g. `proxy`; flags are named after it.
    pub endpoint: Endpoint,
    /// Per relation id of the endpoint, what the provider side shows.
    #[serde(default)]
    pub relations: BTreeMap<RelationId, RelationData>,
    /// What the previous run saw ([`RequirerDecision::seen`] of that run).
    #[serde(default)]
    pub previous: Seen,
    /// `JUJU_VERSION`: wire version 2 is advertised from 3.1 on.
    #[serde(default)]
    pub juju_version: Option<String>,
    /// Whether this unit is the leader (only the leader writes the application databag).
    #[serde(default)]
    pub leader: bool,
}

/// Where the chosen publication comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The relation id.
    pub relation: RelationId,
    /// The unit (unit databag) or application (application databag) that published it; for
    /// units, the smallest name among those that agree.
    pub owner: String,
    /// Whether it is the provider's application databag (wire version 2).
    pub application: bool,
    /// How many databags publish exactly this.
    pub agreeing: usize,
}

/// The chosen publication, typed (for the Rust API; not serialised).
#[derive(Clone, Debug)]
pub struct Chosen {
    /// Where it comes from.
    pub source: Source,
    /// The parsed data.
    pub data: RemoteData,
}

/// A usable publication, as text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// The canonical cluster string, if published.
    pub cluster: Option<String>,
    /// The client URLs, sorted, if published.
    pub client_urls: Option<Vec<String>>,
    /// The client credentials, if published.
    pub credentials: Option<PemCredentials>,
}

/// What the requirer should do and show.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequirerDecision {
    /// Whether any remote unit is related.
    pub connected: bool,
    /// How many remote units are related, over all relation ids.
    pub remote_units: usize,
    /// Where the chosen publication comes from, if anything was published.
    pub source: Option<Source>,
    /// The chosen publication, unless any part of it is invalid.
    pub publication: Option<Received>,
    /// Why the chosen publication cannot be used (one line naming the key), if invalid.
    pub problem: Option<String>,
    /// The workload status to set (when it differs from the one set last).
    pub status: WorkloadStatus,
    /// Flags to set.
    pub set_flags: Vec<String>,
    /// Flags to clear (`.changed` flags are never cleared here: the charm clears them).
    pub clear_flags: Vec<String>,
    /// What to pass as [`RequirerInput::previous`] next time.
    pub seen: Seen,
    /// Per relation id, what the leader wants in its own application databag (wire version
    /// 2 advertised); write what differs.
    pub advertise: BTreeMap<RelationId, Databag>,
    /// The chosen publication, typed.
    #[serde(skip)]
    pub chosen: Option<Chosen>,
}

impl RequirerInput {
    /// Decides, validating certificates against the current time.
    pub fn decide(&self) -> RequirerDecision {
        self.decide_at(SystemTime::now())
    }

    /// Decides, validating certificates as of `now`.
    pub fn decide_at(&self, now: SystemTime) -> RequirerDecision {
        decide(
            &self.endpoint,
            &self.relations,
            &self.previous,
            self.leader && self.juju_version.as_deref().is_some_and(supports_secrets),
            now,
        )
    }
}

/// The decision over borrowed data (what [`RequirerInput::decide_at`] does).
pub(crate) fn decide(
    endpoint: &Endpoint,
    relations: &BTreeMap<RelationId, RelationData>,
    previous: &Seen,
    advertise: bool,
    now: SystemTime,
) -> RequirerDecision {
    let remote_units = relations.values().map(|r| r.units.len()).sum();
    let connected = remote_units > 0;
    let candidates = candidates(relations, now, &previous.proven);
    let proven = proofs_of(&candidates);
    let chosen = best(candidates);
    let status = describe(endpoint, connected, chosen.as_ref());
    let usable = chosen
        .as_ref()
        .map(|c| &c.data)
        .filter(|data| data.invalid().is_empty());
    let cluster = usable.and_then(|d| match &d.cluster {
        ClusterField::Valid(cluster) => Some(cluster),
        _ => None,
    });
    let credentials = usable.and_then(|d| match &d.credentials {
        CredentialsField::Valid(credentials) => Some(credentials),
        _ => None,
    });
    let client_urls = usable.and_then(|d| match &d.client_urls {
        ClientUrlsField::Valid(urls) => Some(urls),
        _ => None,
    });
    let seen = Seen {
        proven,
        ..chosen
            .as_ref()
            .map(|c| seen_of(relations, &c.source))
            .unwrap_or_default()
    };
    let flag = |suffix: &str| format!("{endpoint}.{suffix}");
    let mut set_flags = Vec::new();
    let mut clear_flags = Vec::new();
    for (suffix, on) in [
        ("connected", connected),
        ("available", cluster.is_some()),
        ("tls.available", credentials.is_some()),
    ] {
        if on {
            set_flags.push(flag(suffix));
        } else {
            clear_flags.push(flag(suffix));
        }
    }
    if cluster.is_some() && seen.cluster != previous.cluster {
        set_flags.push(flag("cluster.changed"));
    }
    if credentials.is_some() && seen.credentials != previous.credentials {
        set_flags.push(flag("tls.changed"));
    }
    let publication = usable.map(|_| Received {
        cluster: cluster.map(ToString::to_string),
        client_urls: client_urls.map(|urls| urls.iter().map(|u| u.as_str().to_owned()).collect()),
        credentials: credentials.map(PemCredentials::from),
    });
    let advertise = if advertise {
        let bag = Databag::from([(
            wire::KEY_WIRE_VERSION.to_owned(),
            wire::WIRE_VERSION_2.to_owned(),
        )]);
        relations
            .keys()
            .map(|rid| (rid.clone(), bag.clone()))
            .collect()
    } else {
        BTreeMap::new()
    };
    RequirerDecision {
        connected,
        remote_units,
        source: chosen.as_ref().map(|c| c.source.clone()),
        problem: chosen
            .as_ref()
            .and_then(|c| c.data.invalid().first().map(ToString::to_string)),
        publication,
        status,
        set_flags,
        clear_flags,
        seen,
        advertise,
        chosen,
    }
}

/// Chooses one publication as a whole among the application databags and the unit
/// databags. Databags holding none of the interface keys do not take part. Ranking: no
/// invalid part first; then the application databag (wire version 2); then a valid cluster
/// string; then valid credentials; then more agreeing databags; then a larger cluster; then
/// the smallest name — so the choice never depends on the order of reads.
pub(crate) fn choose(
    relations: &BTreeMap<RelationId, RelationData>,
    now: SystemTime,
) -> Option<Chosen> {
    best(candidates(relations, now, &Proofs::new()))
}

/// Every publication, parsed: the application databags', then one per group of identical
/// unit databags.
fn candidates(
    relations: &BTreeMap<RelationId, RelationData>,
    now: SystemTime,
    proofs: &Proofs,
) -> Vec<Chosen> {
    let mut candidates = Vec::new();
    for (rid, relation) in relations {
        if let Some(data) = relation.app_publication_proven(now, proofs) {
            let owner = relation
                .remote_app
                .clone()
                .or_else(|| relation.units.keys().next().map(|u| u.app().clone()))
                .map_or_else(|| "the provider application".to_owned(), |a| a.to_string());
            candidates.push(Chosen {
                source: Source {
                    relation: rid.clone(),
                    owner,
                    application: true,
                    agreeing: 1,
                },
                data,
            });
        }
    }
    // Identical unit publications are parsed once.
    let mut groups: BTreeMap<Databag, Vec<(&RelationId, &UnitName)>> = BTreeMap::new();
    for (rid, relation) in relations {
        for (unit, bag) in &relation.units {
            let ours = pick(bag, &UNIT_KEYS);
            if !ours.is_empty() {
                groups.entry(ours).or_default().push((rid, unit));
            }
        }
    }
    for (bag, mut units) in groups {
        units.sort_by(|a, b| a.1.cmp(b.1));
        let (rid, unit) = units[0];
        candidates.push(Chosen {
            source: Source {
                relation: rid.clone(),
                owner: unit.to_string(),
                application: false,
                agreeing: units.len(),
            },
            data: RemoteData::from_databag_proven(&bag, now, proofs),
        });
    }
    candidates
}

/// The proofs of the valid credentials among `candidates`, the best candidate's first.
fn proofs_of(candidates: &[Chosen]) -> Proofs {
    let mut valid: Vec<&Chosen> = candidates
        .iter()
        .filter(|c| matches!(c.data.credentials, CredentialsField::Valid(_)))
        .collect();
    valid.sort_by_key(|c| Reverse(rank(c)));
    valid
        .into_iter()
        .filter_map(|c| match &c.data.credentials {
            CredentialsField::Valid(credentials) => Some(credentials.proof()),
            _ => None,
        })
        .take(MAX_PROOFS)
        .collect()
}

/// The ranking of [`choose`].
fn best(candidates: Vec<Chosen>) -> Option<Chosen> {
    candidates.into_iter().max_by_key(rank)
}

fn rank(c: &Chosen) -> impl Ord {
    let valid = c.data.invalid().is_empty();
    let cluster = matches!(c.data.cluster, ClusterField::Valid(_));
    let tls = matches!(c.data.credentials, CredentialsField::Valid(_));
    let size = match &c.data.cluster {
        ClusterField::Valid(cluster) => cluster.entries().len(),
        _ => 0,
    };
    (
        valid,
        c.source.application,
        cluster,
        tls,
        c.source.agreeing,
        size,
        Reverse(c.source.owner.clone()),
    )
}

/// The digests of what the chosen databag sent.
fn seen_of(relations: &BTreeMap<RelationId, RelationData>, source: &Source) -> Seen {
    let Some(relation) = relations.get(&source.relation) else {
        return Seen::default();
    };
    let bag = if source.application {
        relation.app.as_ref()
    } else {
        source
            .owner
            .parse::<UnitName>()
            .ok()
            .and_then(|unit| relation.units.get(&unit))
    };
    let Some(bag) = bag else {
        return Seen::default();
    };
    let value = |key: &str| bag.get(key).map(String::as_str).filter(|v| !v.is_empty());
    let cluster = value(wire::KEY_CLUSTER)
        .or_else(|| value(wire::KEY_CLUSTER_LEGACY))
        .map(|text| digest([text]));
    let from_secret = source.application && value(wire::KEY_CREDENTIALS_SECRET).is_some();
    let texts: Vec<&str> = if from_secret {
        match relation.secret.as_ref().map(|s| &s.result) {
            Some(super::SecretResult::Content(fields)) => wire::SECRET_FIELDS
                .iter()
                .map(|f| fields.get(*f).map(String::as_str).unwrap_or_default())
                .collect(),
            _ => Vec::new(),
        }
    } else {
        wire::CREDENTIAL_KEYS
            .iter()
            .map(|k| value(k).unwrap_or_default())
            .collect()
    };
    let credentials = texts
        .iter()
        .any(|t| !t.is_empty())
        .then(|| digest(texts.iter().copied()));
    Seen {
        cluster,
        credentials,
        proven: Proofs::new(),
    }
}

fn describe(endpoint: &Endpoint, connected: bool, chosen: Option<&Chosen>) -> WorkloadStatus {
    let ep = endpoint;
    let Some(chosen) = chosen.filter(|_| connected) else {
        let message = if connected {
            format!("waiting for etcd to publish on relation {ep}")
        } else {
            format!("waiting for a relation to etcd on endpoint {ep}")
        };
        return WorkloadStatus::new(StatusKind::Waiting, message);
    };
    if let Some(problem) = chosen.data.invalid().first() {
        return WorkloadStatus::new(
            StatusKind::Blocked,
            format!("{ep}: {} sent {problem}", chosen.source.owner),
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

/// The non-empty values of `keys` in `bag`.
pub(crate) fn pick(bag: &Databag, keys: &[&str]) -> Databag {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_from_juju_3_1() {
        for (version, expected) in [
            ("3.6.1", true),
            ("3.1-beta2", true),
            ("3.1.0", true),
            ("3.0.3", false),
            ("2.9.45", false),
            ("4.0", true),
            ("junk", false),
            ("", false),
        ] {
            assert_eq!(supports_secrets(version), expected, "{version}");
        }
    }
}
