//! The provider's decision: per relation id, what goes where, and the secret it takes.

use std::collections::{BTreeMap, BTreeSet};

use juju_hooks::{Databag, Endpoint, RelationId, SecretUri};
use serde::{Deserialize, Serialize};

use super::{digest, PemCredentials};
use crate::wire::{self, RemoteData};

/// What one requirer application tells the provider (its application databag).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirerSide {
    /// `wire_version` as written by the requirer's leader; absent for version 1.
    #[serde(default)]
    pub wire_version: Option<String>,
}

impl RequirerSide {
    /// The wire version to speak: 2 when the requirer asks for 2 or more, else 1 (nothing,
    /// or a value that is not a number).
    pub fn version(&self) -> u32 {
        match self
            .wire_version
            .as_deref()
            .map(str::trim)
            .map(str::parse::<u32>)
        {
            Some(Ok(v)) if v >= 2 => 2,
            _ => 1,
        }
    }
}

/// The credentials secret as the provider's leader last left it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExistingSecret {
    /// Its URI.
    pub uri: String,
    /// [`SecretPlan::content_digest`] of the content last set, if known.
    #[serde(default)]
    pub content_digest: Option<String>,
    /// The relation ids it is granted to.
    #[serde(default)]
    pub granted: BTreeSet<RelationId>,
}

/// Everything the provider's decision depends on.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProviderInput {
    /// The endpoint (relation name), e.g. `proxy`.
    pub endpoint: Endpoint,
    /// The cluster string to publish.
    #[serde(default)]
    pub cluster: Option<String>,
    /// The client URLs to publish.
    #[serde(default)]
    pub client_urls: Option<Vec<String>>,
    /// The client credentials to publish.
    #[serde(default)]
    pub credentials: Option<PemCredentials>,
    /// Whether this unit is the leader (only the leader writes the application databag and
    /// owns the secret).
    #[serde(default)]
    pub leader: bool,
    /// Whether this Juju can create secrets (`secret-add` exists).
    #[serde(default)]
    pub secrets_supported: bool,
    /// Per relation id of the endpoint, what the requirer asked for.
    #[serde(default)]
    pub relations: BTreeMap<RelationId, RequirerSide>,
    /// The credentials secret, if the leader created one.
    #[serde(default)]
    pub secret: Option<ExistingSecret>,
}

/// What to publish on one relation id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationWrites {
    /// The wire version spoken there.
    pub version: u32,
    /// The interface keys wanted in this unit's databag (every other interface key there is
    /// to be deleted). Empty for version 2.
    pub unit: Databag,
    /// The interface keys wanted in the application databag, for the leader; `None` for
    /// other units (they never write it), and for version 2 while the secret has no URI yet.
    pub app: Option<Databag>,
}

/// The secret wire version 2 needs: create it, set its content, grant and revoke.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretPlan {
    /// The label to create it with (the leader finds it again by this label).
    pub label: String,
    /// Its content: `client-ca`, `client-cert`, `client-key`.
    pub content: PemCredentials,
    /// A digest of the content, to keep as [`ExistingSecret::content_digest`].
    pub content_digest: String,
    /// No secret exists: create it (then decide again with its URI).
    pub create: bool,
    /// It exists with other content: `secret-set` (one new revision).
    pub update: bool,
    /// Relation ids to grant it to.
    pub grant: Vec<RelationId>,
    /// Relation ids to revoke it from.
    pub revoke: Vec<RelationId>,
}

/// What the provider should write.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderDecision {
    /// Why the publication is refused (then nothing is to be written).
    pub refused: Option<String>,
    /// Per relation id, what to publish there.
    pub relations: BTreeMap<RelationId, RelationWrites>,
    /// The secret wanted (leader only).
    pub secret: Option<SecretPlan>,
    /// The URI of a secret no relation uses any more: remove it (leader only).
    pub remove_secret: Option<String>,
}

impl ProviderInput {
    /// The publication in wire version 1 form (raw keys, as in a unit databag).
    pub fn unit_databag(&self) -> Databag {
        let mut bag = Databag::new();
        let mut put = |key: &str, value: &str| {
            if !value.is_empty() {
                bag.insert(key.to_owned(), value.to_owned());
            }
        };
        if let Some(cluster) = &self.cluster {
            put(wire::KEY_CLUSTER, cluster);
        }
        if let Some(pem) = &self.credentials {
            put(wire::KEY_CLIENT_CA, &pem.ca);
            put(wire::KEY_CLIENT_CERT, &pem.cert);
            put(wire::KEY_CLIENT_KEY, &pem.key);
        }
        if let Some(urls) = &self.client_urls {
            put(wire::KEY_CLIENT_URLS, &urls.join(","));
        }
        bag
    }

    /// Decides what to write where.
    pub fn decide(&self) -> ProviderDecision {
        let mut unit_bag = self.unit_databag();
        if let Some(invalid) = RemoteData::from_databag(&unit_bag).invalid().first() {
            return ProviderDecision {
                refused: Some(invalid.to_string()),
                ..ProviderDecision::default()
            };
        }
        // The canonical forms, as a requirer reads them back.
        if let Some(urls) = unit_bag.get(wire::KEY_CLIENT_URLS) {
            if let Ok(parsed) = wire::parse_client_urls(urls) {
                unit_bag.insert(
                    wire::KEY_CLIENT_URLS.to_owned(),
                    wire::format_client_urls(&parsed),
                );
            }
        }
        let v2: Vec<&RelationId> = self
            .relations
            .iter()
            .filter(|(_, side)| side.version() == 2)
            .map(|(rid, _)| rid)
            .collect();
        let use_secret = self.leader && self.secrets_supported && self.credentials.is_some();
        let secret = match (&self.credentials, use_secret && !v2.is_empty()) {
            (Some(pem), true) => Some(self.secret_plan(pem, &v2)),
            _ => None,
        };
        let uri = self
            .secret
            .as_ref()
            .map(|s| s.uri.clone())
            .filter(|_| secret.is_some());
        let mut relations = BTreeMap::new();
        for (rid, side) in &self.relations {
            let writes = if side.version() == 2 {
                let app = self.leader.then(|| {
                    let mut app = unit_bag.clone();
                    if use_secret {
                        for key in wire::CREDENTIAL_KEYS {
                            app.remove(key);
                        }
                    }
                    app
                });
                let app = match (app, use_secret, &uri) {
                    (Some(mut app), true, Some(uri)) => {
                        app.insert(wire::KEY_CREDENTIALS_SECRET.to_owned(), uri.clone());
                        Some(app)
                    }
                    // The secret needs its URI first.
                    (Some(_), true, None) => None,
                    (app, _, _) => app,
                };
                RelationWrites {
                    version: 2,
                    unit: Databag::new(),
                    app,
                }
            } else {
                RelationWrites {
                    version: 1,
                    unit: unit_bag.clone(),
                    app: self.leader.then(Databag::new),
                }
            };
            relations.insert(rid.clone(), writes);
        }
        let remove_secret = match (&self.secret, &secret) {
            (Some(existing), None) if self.leader => Some(existing.uri.clone()),
            _ => None,
        };
        ProviderDecision {
            refused: None,
            relations,
            secret,
            remove_secret,
        }
    }

    fn secret_plan(&self, pem: &PemCredentials, v2: &[&RelationId]) -> SecretPlan {
        let content_digest = digest([pem.ca.as_str(), &pem.cert, &pem.key]);
        let (create, update, granted) = match &self.secret {
            None => (true, false, BTreeSet::new()),
            Some(existing) => (
                false,
                existing.content_digest.as_deref() != Some(content_digest.as_str()),
                existing.granted.clone(),
            ),
        };
        let wanted: BTreeSet<&RelationId> = v2.iter().copied().collect();
        SecretPlan {
            label: secret_label(&self.endpoint),
            content: pem.clone(),
            content_digest,
            create,
            update,
            grant: wanted
                .iter()
                .filter(|rid| !granted.contains(**rid))
                .map(|rid| (*rid).clone())
                .collect(),
            revoke: granted
                .iter()
                .filter(|rid| !wanted.contains(rid))
                .cloned()
                .collect(),
        }
    }
}

/// A `secret-remove` hook as the provider sees it: Juju tells the owner of a secret (for
/// the application-owned credentials secret, the leader) that no consumer tracks
/// `revision` any more, so the owner may remove it (`secret-remove <uri> --revision N`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObsoleteRevision {
    /// The endpoint (relation name), e.g. `proxy`: names the secret's label.
    pub endpoint: Endpoint,
    /// The hook's secret (`JUJU_SECRET_ID`).
    #[serde(default)]
    pub secret_id: Option<String>,
    /// The hook's secret label (`JUJU_SECRET_LABEL`).
    #[serde(default)]
    pub secret_label: Option<String>,
    /// The revision no consumer tracks (`JUJU_SECRET_REVISION`).
    #[serde(default)]
    pub revision: Option<u32>,
    /// The URI of the credentials secret as the provider recorded it, if it did.
    #[serde(default)]
    pub owned_uri: Option<String>,
}

impl ObsoleteRevision {
    /// Whether the hook is about this endpoint's credentials secret: the recorded URI (the
    /// same id, whatever the URI's form), else the label it was created with (a new leader
    /// has no record).
    pub fn is_ours(&self) -> bool {
        let id = |uri: &str| uri.parse::<SecretUri>().ok().map(|u| u.id().to_owned());
        let hook_id = self.secret_id.as_deref().and_then(id);
        match (&hook_id, self.owned_uri.as_deref().and_then(id)) {
            (Some(hook), Some(owned)) if *hook == owned => true,
            _ => {
                hook_id.is_some()
                    && self.secret_label.as_deref() == Some(secret_label(&self.endpoint).as_str())
            }
        }
    }

    /// The revision to remove, given the secret's latest revision (`secret-info-get`): the
    /// hook's revision when the secret is ours and the revision is older than the latest.
    /// Never the latest, which consumers read next.
    pub fn to_remove(&self, latest: u32) -> Option<u32> {
        self.revision
            .filter(|revision| *revision > 0 && *revision < latest && self.is_ours())
    }
}

/// The label of the provider's credentials secret for `endpoint`.
pub fn secret_label(endpoint: &Endpoint) -> String {
    format!("etcd-proxy-{endpoint}-client-credentials")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obsolete(secret_id: &str, label: Option<&str>, owned: Option<&str>) -> ObsoleteRevision {
        ObsoleteRevision {
            endpoint: "proxy".parse().unwrap(),
            secret_id: Some(secret_id.to_owned()),
            secret_label: label.map(str::to_owned),
            revision: Some(2),
            owned_uri: owned.map(str::to_owned),
        }
    }

    #[test]
    fn only_an_older_revision_of_our_own_secret_is_removed() {
        let ours = "secret:cu9pk5rr0ui3c8lb2fmg";
        let long = "secret://0b5c2e3a-7b57-4a3e-8b6f-8d1c3c1f5c2e/cu9pk5rr0ui3c8lb2fmg";
        let label = "etcd-proxy-proxy-client-credentials";
        assert_eq!(obsolete(ours, None, Some(ours)).to_remove(3), Some(2));
        assert_eq!(obsolete(long, None, Some(ours)).to_remove(3), Some(2));
        assert_eq!(obsolete(ours, Some(label), None).to_remove(3), Some(2));
        // Never the latest revision, nor a newer one.
        assert_eq!(obsolete(ours, None, Some(ours)).to_remove(2), None);
        assert_eq!(obsolete(ours, None, Some(ours)).to_remove(1), None);
        // Someone else's secret, or one of another endpoint.
        let other = "secret:cu9pk5rr0ui3c8lb2fn0";
        assert_eq!(obsolete(other, None, Some(ours)).to_remove(3), None);
        let label_db = "etcd-proxy-db-client-credentials";
        assert_eq!(obsolete(other, Some(label_db), None).to_remove(3), None);
        assert_eq!(obsolete("garbage", Some(label), None).to_remove(3), None);
        let no_revision = ObsoleteRevision {
            revision: None,
            ..obsolete(ours, None, Some(ours))
        };
        assert_eq!(no_revision.to_remove(3), None);
    }

    #[test]
    fn versions_other_than_numbers_from_two_are_one() {
        for (value, version) in [
            (None, 1),
            (Some("1"), 1),
            (Some("2"), 2),
            (Some(" 2 "), 2),
            (Some("3"), 2),
            (Some("two"), 1),
            (Some(""), 1),
        ] {
            let side = RequirerSide {
                wire_version: value.map(str::to_owned),
            };
            assert_eq!(side.version(), version, "{value:?}");
        }
    }
}
