//! The committed view of the remote databags, and the fewest reads that bring it up to date.
//!
//! Each hook-tool call is a process spawn and a round trip to the Juju agent, so the requirer
//! keeps the remote databags it has seen in the unit state (saved with the flags, only on
//! success) and reads only what the current hook can have changed (DESIGN.md §9, §10):
//!
//! | hook | reads |
//! |---|---|
//! | first run, `upgrade-charm`, no view | everything: `relation-ids`, then per relation `relation-list`, the provider's application databag, its secret if it names one, and — unless that publication is valid — one `relation-get` per unit |
//! | `-joined` / `-changed` of the endpoint | `relation-list` of that relation; the application databag when it changed (`-changed` without a remote unit) or was never read; the changed unit and units missing from the view, unless the application databag holds a valid publication |
//! | `-departed` | `relation-list` of that relation (plus what is missing, as above) |
//! | `secret-changed` of a secret the view uses | `secret-get --refresh` of it |
//! | `-created`, `-broken` | nothing |
//! | any other hook, or a second command in the same hook | nothing |
//!
//! Only the interface's keys are kept, each cut to the size validation accepts (plus one
//! byte, so that it is still refused), so junk in a remote databag never grows the state.

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use juju_hooks::{
    AppName, BagOwner, Databag, Endpoint, HookKind, HookTools, JujuContext, RelationId,
    SecretRevision, SecretUri, ToolError, ToolErrorKind, UnitName,
};
use serde::{Deserialize, Serialize};

use crate::cluster::MAX_CLUSTER_STRING_LEN;
use crate::credentials::MAX_PEM_LEN;
use crate::decide::{RelationData, SecretProblem, SecretRead, SecretResult};
use crate::wire;

/// What [`RemoteView::refresh`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// Membership and the provider's databags and secret (the requirer).
    MembersAndData,
    /// Membership only (the provider).
    MembersOnly,
}

/// The remote side of every relation of one endpoint, as last read.
///
/// Stored with each distinct unit databag once (every etcd unit usually publishes the
/// same), so the state of a unit related to 1000 etcd units stays small and quick to load.
///
/// Its `Debug` shows relations, units and keys, never the values (they include private keys).
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "StoredView")]
pub struct RemoteView {
    /// Per relation, what the remote side shows: its units (each with its databag), its
    /// application databag and secret.
    pub relations: BTreeMap<RelationId, RelationData>,
    /// Relations whose unit databags were not read, because their application databag held
    /// a valid publication; they are read before the unit databags are needed.
    pub skipped_units: BTreeSet<RelationId>,
    /// The hook run (`JUJU_CONTEXT_ID`) that last brought the view up to date.
    pub context_id: Option<String>,
}

impl std::fmt::Debug for RemoteView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteView")
            .field("relations", &self.relations)
            .field("skipped_units", &self.skipped_units)
            .field("context_id", &self.context_id)
            .finish()
    }
}

/// [`RemoteView`] as stored: distinct unit databags once, each unit pointing at one.
#[derive(Deserialize)]
struct StoredView {
    bags: Vec<Databag>,
    relations: BTreeMap<RelationId, StoredRelation>,
    #[serde(default)]
    skipped_units: BTreeSet<RelationId>,
    context_id: Option<String>,
}

#[derive(Deserialize)]
struct StoredRelation {
    units: BTreeMap<UnitName, usize>,
    #[serde(default)]
    app: Option<Databag>,
    #[serde(default)]
    remote_app: Option<AppName>,
    #[serde(default)]
    secret: Option<SecretRead>,
}

#[derive(Serialize)]
struct StoredViewRef<'a> {
    bags: Vec<&'a Databag>,
    relations: BTreeMap<&'a RelationId, StoredRelationRef<'a>>,
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    skipped_units: &'a BTreeSet<RelationId>,
    context_id: &'a Option<String>,
}

#[derive(Serialize)]
struct StoredRelationRef<'a> {
    units: BTreeMap<&'a UnitName, usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app: Option<&'a Databag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remote_app: Option<&'a AppName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a SecretRead>,
}

impl Serialize for RemoteView {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut index: BTreeMap<&Databag, usize> = BTreeMap::new();
        let mut bags = Vec::new();
        let mut relations = BTreeMap::new();
        for (rid, relation) in &self.relations {
            let mut units = BTreeMap::new();
            for (unit, bag) in &relation.units {
                let i = *index.entry(bag).or_insert_with(|| {
                    bags.push(bag);
                    bags.len() - 1
                });
                units.insert(unit, i);
            }
            let stored = StoredRelationRef {
                units,
                app: relation.app.as_ref(),
                remote_app: relation.remote_app.as_ref(),
                secret: relation.secret.as_ref(),
            };
            relations.insert(rid, stored);
        }
        StoredViewRef {
            bags,
            relations,
            skipped_units: &self.skipped_units,
            context_id: &self.context_id,
        }
        .serialize(serializer)
    }
}

impl TryFrom<StoredView> for RemoteView {
    type Error = String;
    fn try_from(stored: StoredView) -> Result<Self, String> {
        let mut relations = BTreeMap::new();
        for (rid, relation) in stored.relations {
            let mut units = BTreeMap::new();
            for (unit, i) in relation.units {
                let bag = stored.bags.get(i).ok_or("databag index out of range")?;
                units.insert(unit, bag.clone());
            }
            let data = RelationData {
                app: relation.app,
                units,
                remote_app: relation.remote_app,
                secret: relation.secret,
            };
            relations.insert(rid, data);
        }
        Ok(RemoteView {
            relations,
            skipped_units: stored.skipped_units,
            context_id: stored.context_id,
        })
    }
}

/// The size validation accepts for a key's value (see [`keep`]).
fn limit_of(key: &str) -> usize {
    match key {
        wire::KEY_CLIENT_CA | wire::KEY_CLIENT_CERT | wire::KEY_CLIENT_KEY => MAX_PEM_LEN,
        k if wire::SECRET_FIELDS.contains(&k) => MAX_PEM_LEN,
        wire::KEY_CREDENTIALS_SECRET => 256,
        _ => MAX_CLUSTER_STRING_LEN,
    }
}

/// The non-empty values of `keys` in `bag`, each cut to its limit plus one byte (at a
/// character boundary): still refused by validation, never stored whole.
pub(crate) fn keep(bag: Databag, keys: &[&str]) -> Databag {
    bag.into_iter()
        .filter(|(k, v)| !v.is_empty() && keys.contains(&k.as_str()))
        .map(|(k, mut v)| {
            let limit = limit_of(&k);
            if v.len() > limit + 1 {
                let mut end = limit + 1;
                while !v.is_char_boundary(end) {
                    end += 1;
                }
                v.truncate(end);
            }
            (k, v)
        })
        .collect()
}

/// The id part of a secret URI (`secret:ID`, `secret://model/ID`), to compare URIs.
fn secret_id(uri: &str) -> &str {
    uri.rsplit(['/', ':']).next().unwrap_or(uri)
}

/// A secret-get failure that is the remote side's doing (not granted, removed), as data;
/// anything else (a timeout, a broken agent) stays an error, so the hook is retried.
fn secret_problem(error: &ToolError) -> Option<SecretProblem> {
    if error.is_unsupported() {
        return Some(SecretProblem::Unsupported);
    }
    let text = error.stderr()?;
    let runtime = matches!(
        error.kind,
        ToolErrorKind::Runtime { code: 1, .. } | ToolErrorKind::Refused { .. }
    );
    if !runtime {
        return None;
    }
    Some(if text.contains("not found") {
        SecretProblem::NotFound
    } else if text.contains("permission denied") || text.contains("not granted") {
        SecretProblem::NotGranted
    } else {
        SecretProblem::Other(crate::cluster::excerpt(text))
    })
}

impl RemoteView {
    /// Every remote unit with its databag, over all relations, in a stable order.
    pub fn units(&self) -> impl Iterator<Item = (&RelationId, &UnitName, &Databag)> {
        self.relations.iter().flat_map(|(rid, relation)| {
            relation
                .units
                .iter()
                .map(move |(unit, bag)| (rid, unit, bag))
        })
    }

    /// Whether any remote unit is related on any relation of the endpoint.
    pub fn has_units(&self) -> bool {
        self.relations.values().any(|r| !r.units.is_empty())
    }

    /// Brings the view up to date for the hook in `ctx`, with the fewest hook-tool calls.
    /// `previous` is the view committed by an earlier run (`None` on the first run). With
    /// [`Reads::MembersOnly`] no databag is read (the provider needs only membership).
    ///
    /// # Errors
    /// A hook-tool call failed; nothing is returned, so nothing gets persisted.
    pub fn refresh(
        previous: Option<RemoteView>,
        ctx: &JujuContext,
        endpoint: &Endpoint,
        reads: Reads,
        tools: &mut dyn HookTools,
    ) -> Result<RemoteView, ToolError> {
        let Some(mut view) = previous else {
            return Self::read_all(ctx, endpoint, reads, tools);
        };
        if view.context_id.is_some() && view.context_id == ctx.context_id {
            return Ok(view); // an earlier command of this same hook already read it
        }
        let ours = ctx.hook.endpoint() == Some(endpoint);
        match (&ctx.hook, &ctx.relation_id) {
            (HookKind::UpgradeCharm, _) => return Self::read_all(ctx, endpoint, reads, tools),
            (HookKind::RelationCreated(_), Some(rid)) if ours => {
                let relation = view.relations.entry(rid.clone()).or_default();
                relation.remote_app = ctx.remote_app.clone();
            }
            (HookKind::RelationBroken(_), Some(rid)) if ours => {
                view.relations.remove(rid);
                view.skipped_units.remove(rid);
            }
            // Membership changes only in -joined and -departed: a -changed from a known unit
            // tells the provider nothing.
            (HookKind::RelationChanged(_), Some(rid))
                if ours
                    && reads == Reads::MembersOnly
                    && ctx.remote_unit.as_ref().is_some_and(|unit| {
                        view.relations
                            .get(rid)
                            .is_some_and(|r| r.units.contains_key(unit))
                    }) => {}
            (
                HookKind::RelationJoined(_)
                | HookKind::RelationChanged(_)
                | HookKind::RelationDeparted(_),
                Some(rid),
            ) if ours => {
                view.sync_relation(rid, ctx, reads, tools)?;
                // Remember the hook only when it read something: a hook that read nothing
                // then leaves the state byte for byte unchanged, so nothing is rewritten.
                view.context_id = ctx.context_id.clone();
            }
            _ => {}
        }
        let secret_hook = matches!(&ctx.hook, HookKind::Other(name) if name == "secret-changed");
        if secret_hook && reads == Reads::MembersAndData && view.refresh_secret(ctx, tools)? {
            view.context_id = ctx.context_id.clone();
        }
        Ok(view)
    }

    /// In `secret-changed` of a secret some relation uses: reads its new revision.
    fn refresh_secret(
        &mut self,
        ctx: &JujuContext,
        tools: &mut dyn HookTools,
    ) -> Result<bool, ToolError> {
        let Some(changed) = ctx.secret_id.as_deref().map(secret_id) else {
            return Ok(false);
        };
        let mut any = false;
        let mut skipped = Vec::new();
        for (rid, relation) in &mut self.relations {
            let Some(read) = relation.secret.take() else {
                continue;
            };
            if secret_id(&read.uri) != changed {
                relation.secret = Some(read);
                continue;
            }
            relation.secret = Some(read_secret(&read.uri, SecretRevision::Refresh, tools)?);
            any = true;
            if !relation.app_publication_is_valid(SystemTime::now())
                && self.skipped_units.contains(rid)
            {
                skipped.push(rid.clone());
            }
        }
        // A new revision that cannot be used: the unit databags may still hold one.
        for rid in skipped {
            let members: Vec<UnitName> = self.relations[&rid].units.keys().cloned().collect();
            self.skipped_units.remove(&rid);
            for unit in members {
                let bag = keep(
                    tools.relation_get(&rid, &BagOwner::Unit(unit.clone()))?,
                    &wire::READ_KEYS,
                );
                if let Some(relation) = self.relations.get_mut(&rid) {
                    relation.units.insert(unit, bag);
                }
            }
        }
        Ok(any)
    }

    /// Re-reads one relation: membership, then what the hook can have changed.
    fn sync_relation(
        &mut self,
        rid: &RelationId,
        ctx: &JujuContext,
        reads: Reads,
        tools: &mut dyn HookTools,
    ) -> Result<(), ToolError> {
        let members = tools.relation_list(rid)?;
        let mut known = self.relations.remove(rid).unwrap_or_default();
        let was_skipped = self.skipped_units.remove(rid);
        if reads == Reads::MembersOnly {
            known.units = members.into_iter().map(|u| (u, Databag::new())).collect();
            self.relations.insert(rid.clone(), known);
            return Ok(());
        }
        let this_hook = ctx.relation_id.as_ref() == Some(rid);
        let changed = ctx.remote_unit.as_ref().filter(|_| this_hook);
        let app_changed = this_hook
            && matches!(ctx.hook, HookKind::RelationChanged(_))
            && ctx.remote_unit.is_none();
        let remote_app = ctx
            .remote_app
            .clone()
            .filter(|_| this_hook)
            .or_else(|| known.remote_app.clone())
            .or_else(|| members.first().map(|u| u.app().clone()));
        let app = match (&remote_app, app_changed || known.app.is_none()) {
            (Some(app), true) => Some(keep(
                tools.relation_get(rid, &BagOwner::App(app.clone()))?,
                &wire::READ_KEYS,
            )),
            _ => known.app.take(),
        };
        let uri = app
            .as_ref()
            .and_then(|bag| bag.get(wire::KEY_CREDENTIALS_SECRET))
            .filter(|uri| wire::is_secret_uri(uri));
        let secret = match (uri, known.secret.take()) {
            (None, _) => None,
            (Some(uri), Some(read)) if read.uri == *uri => Some(read),
            (Some(uri), _) => Some(read_secret(uri, SecretRevision::Pinned, tools)?),
        };
        let mut relation = RelationData {
            app,
            units: BTreeMap::new(),
            remote_app,
            secret,
        };
        if relation.app_publication_is_valid(SystemTime::now()) {
            // The application databag is the publication: the unit databags are not needed.
            relation.units = members.into_iter().map(|u| (u, Databag::new())).collect();
            self.skipped_units.insert(rid.clone());
        } else {
            for unit in members {
                let bag = match known.units.remove(&unit) {
                    Some(bag) if !was_skipped && Some(&unit) != changed => bag,
                    _ => keep(
                        tools.relation_get(rid, &BagOwner::Unit(unit.clone()))?,
                        &wire::READ_KEYS,
                    ),
                };
                relation.units.insert(unit, bag);
            }
        }
        self.relations.insert(rid.clone(), relation);
        Ok(())
    }

    fn read_all(
        ctx: &JujuContext,
        endpoint: &Endpoint,
        reads: Reads,
        tools: &mut dyn HookTools,
    ) -> Result<RemoteView, ToolError> {
        let mut view = RemoteView {
            context_id: ctx.context_id.clone(),
            ..RemoteView::default()
        };
        for rid in tools.relation_ids(endpoint)? {
            // In `-broken` Juju may still list the dying relation; it has no members left.
            let dying = matches!(&ctx.hook, HookKind::RelationBroken(_))
                && ctx.relation_id.as_ref() == Some(&rid);
            if dying {
                continue;
            }
            view.sync_relation(&rid, ctx, reads, tools)?;
        }
        Ok(view)
    }
}

/// Reads a secret's content (only the credential fields, cut to size) or why it cannot be.
fn read_secret(
    uri: &str,
    revision: SecretRevision,
    tools: &mut dyn HookTools,
) -> Result<SecretRead, ToolError> {
    let parsed: SecretUri = match uri.parse() {
        Ok(parsed) => parsed,
        Err(_) => {
            return Ok(SecretRead {
                uri: uri.to_owned(),
                result: SecretResult::Unavailable(SecretProblem::Other(
                    "not a secret URI".to_owned(),
                )),
            })
        }
    };
    let result = match tools.secret_get(Some(&parsed), None, revision) {
        Ok(content) => SecretResult::Content(keep(content.into_values(), &wire::SECRET_FIELDS)),
        Err(e) => match secret_problem(&e) {
            Some(problem) => SecretResult::Unavailable(problem),
            None => return Err(e),
        },
    };
    Ok(SecretRead {
        uri: uri.to_owned(),
        result,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relation(units: &[&str], bag: &Databag) -> RelationData {
        RelationData {
            units: units
                .iter()
                .map(|u| (u.parse().unwrap(), bag.clone()))
                .collect(),
            ..RelationData::default()
        }
    }

    #[test]
    fn identical_databags_are_stored_once_and_read_back_whole() {
        let bag: Databag = [(
            "cluster".to_owned(),
            "etcd0=http://127.0.0.1:2380".to_owned(),
        )]
        .into_iter()
        .collect();
        let mut view = RemoteView::default();
        for r in 0..3 {
            let rid: RelationId = format!("proxy:{r}").parse().unwrap();
            let app = ["a", "b", "c"][r];
            let names: Vec<String> = (0..4).map(|u| format!("etcd-{app}/{u}")).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let mut data = relation(&names, &bag);
            data.app = Some(Databag::new());
            view.relations.insert(rid, data);
        }
        view.context_id = Some("ctx".into());
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["bags"].as_array().unwrap().len(), 1);
        let back: RemoteView = serde_json::from_value(json).unwrap();
        assert_eq!(back, view);
        let broken = serde_json::json!({"bags": [], "relations": {"proxy:0": {"units": {"etcd/0": 3}}}, "context_id": null});
        assert!(serde_json::from_value::<RemoteView>(broken).is_err());
    }

    #[test]
    fn only_interface_keys_are_kept_and_never_longer_than_validation_allows() {
        let junk = "x".repeat(10 << 20);
        let bag: Databag = [
            ("junk-1", junk.as_str()),
            ("junk-2", junk.as_str()),
            ("cluster", junk.as_str()),
            ("client_key", "é".repeat(MAX_PEM_LEN).as_str()),
            ("private-address", "10.0.0.1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let kept = keep(bag, &wire::READ_KEYS);
        assert_eq!(kept.keys().collect::<Vec<_>>(), ["client_key", "cluster"]);
        assert_eq!(kept["cluster"].len(), MAX_CLUSTER_STRING_LEN + 1);
        let key = &kept["client_key"];
        assert!(key.len() > MAX_PEM_LEN && key.len() <= MAX_PEM_LEN + 2);
        // Still refused, for the same reason.
        let data = wire::RemoteData::from_databag(&kept);
        assert!(
            data.invalid()[0].reason.contains("too long"),
            "{:?}",
            data.invalid()
        );
    }

    #[test]
    fn secret_ids_compare_across_uri_forms() {
        assert_eq!(secret_id("secret:abc"), "abc");
        assert_eq!(secret_id("secret://1234-uuid/abc"), "abc");
    }

    #[test]
    fn debug_shows_keys_never_values() {
        let secret = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----\n";
        let bag: Databag = [("client_key".to_owned(), secret.to_owned())]
            .into_iter()
            .collect();
        let mut view = RemoteView::default();
        let mut data = relation(&["etcd/0"], &bag);
        data.app = Some(bag.clone());
        data.secret = Some(SecretRead {
            uri: "secret:abc".into(),
            result: SecretResult::Content([("client-key".to_owned(), secret.to_owned())].into()),
        });
        view.relations.insert("proxy:0".parse().unwrap(), data);
        let mut state = juju_hooks::UnitState::default();
        state.data.insert(
            "etcd-proxy/proxy/requirer".into(),
            serde_json::to_value(&view).unwrap(),
        );
        for shown in [format!("{view:?}"), format!("{state:?}")] {
            assert!(
                !shown.contains("PRIVATE KEY") && !shown.contains("MIGHAgEA"),
                "{shown}"
            );
        }
        assert!(format!("{view:?}").contains("client_key"));
    }
}
