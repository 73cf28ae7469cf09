//! The committed view of the remote databags, and the fewest reads that bring it up to date.
//!
//! Each hook-tool call is a process spawn and a round trip to the Juju agent, so the requirer
//! keeps the remote units' databags it has seen in the unit state (saved with the flags, only
//! on success) and reads only what the current hook can have changed (DESIGN.md §9):
//!
//! | hook | reads |
//! |---|---|
//! | first run, `upgrade-charm`, no view | everything: `relation-ids`, then per relation `relation-list` and one `relation-get` per unit |
//! | `-joined` / `-changed` of the endpoint | `relation-list` of that relation, the changed unit, any unit missing from the view |
//! | `-departed` | `relation-list` of that relation (plus units missing from the view) |
//! | `-created`, `-broken` | nothing |
//! | any other hook, or a second command in the same hook | nothing |

use std::collections::BTreeMap;

use juju_hooks::{
    BagOwner, Databag, Endpoint, HookKind, HookTools, JujuContext, RelationId, ToolError, UnitName,
};
use serde::{Deserialize, Serialize};

/// What [`RemoteView::refresh`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// Membership and the remote units' databags (the requirer).
    MembersAndData,
    /// Membership only (the provider).
    MembersOnly,
}

/// The remote units' databags on every relation of one endpoint, as last read.
///
/// Stored with each distinct databag once (every etcd unit usually publishes the same), so
/// the state of a unit related to 1000 etcd units stays small and quick to load.
///
/// Its `Debug` shows relations, units and keys, never the values (they include private keys).
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "StoredView")]
pub struct RemoteView {
    /// Per relation, per remote unit currently in it, that unit's databag.
    pub relations: BTreeMap<RelationId, BTreeMap<UnitName, Databag>>,
    /// The hook run (`JUJU_CONTEXT_ID`) that last brought the view up to date.
    pub context_id: Option<String>,
}

impl std::fmt::Debug for RemoteView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: BTreeMap<&RelationId, BTreeMap<&UnitName, Vec<&String>>> = self
            .relations
            .iter()
            .map(|(rid, units)| {
                let units = units
                    .iter()
                    .map(|(u, bag)| (u, bag.keys().collect()))
                    .collect();
                (rid, units)
            })
            .collect();
        f.debug_struct("RemoteView")
            .field("relations", &keys)
            .field("context_id", &self.context_id)
            .finish()
    }
}

/// [`RemoteView`] as stored: distinct databags once, each unit pointing at one by index.
#[derive(Deserialize)]
struct StoredView {
    bags: Vec<Databag>,
    relations: BTreeMap<RelationId, BTreeMap<UnitName, usize>>,
    context_id: Option<String>,
}

#[derive(Serialize)]
struct StoredViewRef<'a> {
    bags: Vec<&'a Databag>,
    relations: BTreeMap<&'a RelationId, BTreeMap<&'a UnitName, usize>>,
    context_id: &'a Option<String>,
}

impl Serialize for RemoteView {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut index: BTreeMap<&Databag, usize> = BTreeMap::new();
        let mut bags = Vec::new();
        let mut relations = BTreeMap::new();
        for (rid, units) in &self.relations {
            let mut stored = BTreeMap::new();
            for (unit, bag) in units {
                let i = *index.entry(bag).or_insert_with(|| {
                    bags.push(bag);
                    bags.len() - 1
                });
                stored.insert(unit, i);
            }
            relations.insert(rid, stored);
        }
        StoredViewRef {
            bags,
            relations,
            context_id: &self.context_id,
        }
        .serialize(serializer)
    }
}

impl TryFrom<StoredView> for RemoteView {
    type Error = String;
    fn try_from(stored: StoredView) -> Result<Self, String> {
        let mut relations = BTreeMap::new();
        for (rid, units) in stored.relations {
            let mut bags = BTreeMap::new();
            for (unit, i) in units {
                let bag = stored.bags.get(i).ok_or("databag index out of range")?;
                bags.insert(unit, bag.clone());
            }
            relations.insert(rid, bags);
        }
        Ok(RemoteView {
            relations,
            context_id: stored.context_id,
        })
    }
}

impl RemoteView {
    /// Every remote unit with its databag, over all relations, in a stable order.
    pub fn units(&self) -> impl Iterator<Item = (&RelationId, &UnitName, &Databag)> {
        self.relations
            .iter()
            .flat_map(|(rid, units)| units.iter().map(move |(unit, bag)| (rid, unit, bag)))
    }

    /// Whether any remote unit is related on any relation of the endpoint.
    pub fn has_units(&self) -> bool {
        self.relations.values().any(|units| !units.is_empty())
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
                view.relations.entry(rid.clone()).or_default();
            }
            (HookKind::RelationBroken(_), Some(rid)) if ours => {
                view.relations.remove(rid);
            }
            // Membership changes only in -joined and -departed: a -changed from a known unit
            // tells the provider nothing.
            (HookKind::RelationChanged(_), Some(rid))
                if ours
                    && reads == Reads::MembersOnly
                    && ctx.remote_unit.as_ref().is_some_and(|unit| {
                        view.relations
                            .get(rid)
                            .is_some_and(|units| units.contains_key(unit))
                    }) => {}
            (
                HookKind::RelationJoined(_)
                | HookKind::RelationChanged(_)
                | HookKind::RelationDeparted(_),
                Some(rid),
            ) if ours => {
                let changed = ctx.remote_unit.as_ref();
                view.sync_relation(rid, changed, reads, tools)?;
                // Remember the hook only when it read something: a hook that read nothing
                // then leaves the state byte for byte unchanged, so nothing is rewritten.
                view.context_id = ctx.context_id.clone();
            }
            _ => {}
        }
        Ok(view)
    }

    /// Re-reads one relation's membership; reads the changed unit and units new to the view.
    fn sync_relation(
        &mut self,
        rid: &RelationId,
        changed: Option<&UnitName>,
        reads: Reads,
        tools: &mut dyn HookTools,
    ) -> Result<(), ToolError> {
        let members = tools.relation_list(rid)?;
        let known = self.relations.remove(rid).unwrap_or_default();
        let mut fresh = BTreeMap::new();
        for unit in members {
            let bag = match known.get(&unit) {
                _ if reads == Reads::MembersOnly => Databag::new(),
                Some(bag) if Some(&unit) != changed => bag.clone(),
                _ => tools.relation_get(rid, &BagOwner::Unit(unit.clone()))?,
            };
            fresh.insert(unit, bag);
        }
        self.relations.insert(rid.clone(), fresh);
        Ok(())
    }

    fn read_all(
        ctx: &JujuContext,
        endpoint: &Endpoint,
        reads: Reads,
        tools: &mut dyn HookTools,
    ) -> Result<RemoteView, ToolError> {
        let mut view = RemoteView {
            relations: BTreeMap::new(),
            context_id: ctx.context_id.clone(),
        };
        for rid in tools.relation_ids(endpoint)? {
            // In `-broken` Juju may still list the dying relation; it has no members left.
            let dying = matches!(&ctx.hook, HookKind::RelationBroken(_))
                && ctx.relation_id.as_ref() == Some(&rid);
            if dying {
                continue;
            }
            view.sync_relation(&rid, None, reads, tools)?;
        }
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let units = (0..4)
                .map(|u| {
                    (
                        format!("etcd-{}/{u}", ["a", "b", "c"][r]).parse().unwrap(),
                        bag.clone(),
                    )
                })
                .collect();
            view.relations.insert(rid, units);
        }
        view.context_id = Some("ctx".into());
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["bags"].as_array().unwrap().len(), 1);
        let back: RemoteView = serde_json::from_value(json).unwrap();
        assert_eq!(back, view);
        let broken = serde_json::json!({"bags": [], "relations": {"proxy:0": {"etcd/0": 3}}, "context_id": null});
        assert!(serde_json::from_value::<RemoteView>(broken).is_err());
    }

    #[test]
    fn debug_shows_keys_never_values() {
        let secret = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----\n";
        let bag: Databag = [("client_key".to_owned(), secret.to_owned())]
            .into_iter()
            .collect();
        let mut view = RemoteView::default();
        let units = [("etcd/0".parse().unwrap(), bag)].into_iter().collect();
        view.relations.insert("proxy:0".parse().unwrap(), units);
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
