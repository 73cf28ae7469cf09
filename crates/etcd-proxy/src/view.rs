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
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteView {
    /// Per relation, per remote unit currently in it, that unit's databag.
    pub relations: BTreeMap<RelationId, BTreeMap<UnitName, Databag>>,
    /// The hook run (`JUJU_CONTEXT_ID`) that last brought the view up to date.
    pub context_id: Option<String>,
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
