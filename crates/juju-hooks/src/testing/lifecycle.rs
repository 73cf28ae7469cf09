//! How the model changes: deploy, relate, add and remove units, and the hooks that follow.
//!
//! Life cycle choices (Juju does these asynchronously; here they are tied to hooks):
//! - a unit enters the scope of a relation (its bag is seeded, it gets a member view) when the
//!   relation is made or the unit is added, so the other side can read it in `-joined`;
//! - a unit leaves a relation when its `-broken` hook commits; from then on `relation-ids` no
//!   longer lists the relation for it (during `-broken` it still does, as in Juju); a dying
//!   relation is deleted once no unit is left in its scope;
//! - a removed unit disappears when its `remove` hook commits; if it led its application, the
//!   lowest remaining unit becomes leader and gets `leader-elected`.

use std::collections::{BTreeMap, VecDeque};

use super::model::{
    inconsistent, overlay, unit_address, Application, EndpointRole, HookInvocation, Inconsistency,
    Model, Pending, Relation, RelationEnd, UnitRecord,
};
use super::ports::apply_port_changes;
use super::state::apply_state;
use crate::context::HookKind;
use crate::ids::{AppName, Endpoint, RelationId, UnitName};
use crate::tools::Databag;

/// What Juju writes into a unit's bag when it enters a relation.
fn seeded_bag(unit: &UnitName) -> Databag {
    let address = unit_address(unit);
    Databag::from([
        ("egress-subnets".to_owned(), format!("{address}/32")),
        ("ingress-address".to_owned(), address.clone()),
        ("private-address".to_owned(), address),
    ])
}

/// An upper bound on hooks [`Model::settle`] runs, so a feedback loop cannot hang a test.
const SETTLE_LIMIT: usize = 10_000;

impl Model {
    /// A model named `test` with two applications related through `endpoint` (`provider`
    /// provides it, `requirer` requires it, both with `interface`) and every hook of the
    /// relation already run by a charm that did nothing; returns it with the relation number.
    ///
    /// `provider` and `requirer` are `(application name, unit count)`.
    ///
    /// # Errors
    /// A name that is not a valid application or endpoint name, or the same name twice.
    pub fn with_relation(
        provider: (&str, u32),
        requirer: (&str, u32),
        endpoint: &str,
        interface: &str,
    ) -> Result<(Self, u32), Inconsistency> {
        let parse_app = |name: &str| -> Result<AppName, Inconsistency> {
            name.parse().map_err(|e| inconsistent(format!("{e}")))
        };
        let endpoint: Endpoint = endpoint.parse().map_err(|e| inconsistent(format!("{e}")))?;
        let (provider_app, requirer_app) = (parse_app(provider.0)?, parse_app(requirer.0)?);
        let mut model = Self::new("test");
        for (app, role, units) in [
            (&provider_app, EndpointRole::Provides, provider.1),
            (&requirer_app, EndpointRole::Requires, requirer.1),
        ] {
            let endpoints = BTreeMap::from([(endpoint.clone(), (role, interface.to_owned()))]);
            model.deploy(app, endpoints, units)?;
        }
        let (number, hooks) = model.relate(
            &RelationEnd::new(provider_app, endpoint.clone()),
            &RelationEnd::new(requirer_app, endpoint),
        )?;
        model.settle(hooks)?;
        Ok((model, number))
    }

    /// Runs `hooks`, and every hook they lead to, as if each charm did nothing and succeeded:
    /// [`Model::begin_hook`] then [`Model::commit`] with no writes. Brings a model to the
    /// state Juju reaches once all units are idle.
    ///
    /// # Errors
    /// A hook is inconsistent with the model, or hooks keep firing without end.
    pub fn settle(&mut self, hooks: Vec<HookInvocation>) -> Result<(), Inconsistency> {
        let mut queue = VecDeque::from(hooks);
        let mut ran = 0;
        while let Some(hook) = queue.pop_front() {
            ran += 1;
            if ran > SETTLE_LIMIT {
                return Err(inconsistent(format!(
                    "hooks kept firing after {SETTLE_LIMIT} runs"
                )));
            }
            self.begin_hook(&hook)?;
            queue.extend(self.commit(&hook.unit, Pending::default()));
        }
        Ok(())
    }

    /// Deploys an application with `units` units (`app/0`..), the first one leader.
    ///
    /// # Errors
    /// The application already exists.
    pub fn deploy(
        &mut self,
        app: &AppName,
        endpoints: BTreeMap<Endpoint, (EndpointRole, String)>,
        units: u32,
    ) -> Result<Vec<UnitName>, Inconsistency> {
        if self.applications.contains_key(app) {
            return Err(inconsistent(format!(
                "application {app} is already deployed"
            )));
        }
        let names: Vec<UnitName> = (0..units).map(|n| UnitName::new(app.clone(), n)).collect();
        let application = Application {
            units: names
                .iter()
                .map(|u| (u.clone(), UnitRecord::default()))
                .collect(),
            leader: names.first().cloned(),
            endpoints,
            next_unit_number: units,
            ..Application::default()
        };
        self.applications.insert(app.clone(), application);
        Ok(names)
    }

    /// Adds a unit to an application; returns it and the hooks Juju fires (`-joined` on the
    /// remote units of every relation, and on the new unit for each remote unit).
    ///
    /// Per live relation of the application: `-created` on the new unit, then on each remote
    /// unit `-joined` + `-changed` for the new unit, then on the new unit `-joined` +
    /// `-changed` for each remote unit. Install/start hooks are not included.
    ///
    /// # Errors
    /// Unknown application.
    pub fn add_unit(
        &mut self,
        app: &AppName,
    ) -> Result<(UnitName, Vec<HookInvocation>), Inconsistency> {
        let application = self
            .applications
            .get_mut(app)
            .ok_or_else(|| inconsistent(format!("application {app} is not deployed")))?;
        let after_existing = application
            .units
            .keys()
            .map(|u| u.number() + 1)
            .max()
            .unwrap_or(0);
        let number = application.next_unit_number.max(after_existing);
        application.next_unit_number = number + 1;
        let unit = UnitName::new(app.clone(), number);
        application
            .units
            .insert(unit.clone(), UnitRecord::default());
        if application.leader.is_none() {
            application.leader = Some(unit.clone());
        }

        let mut hooks = Vec::new();
        let numbers: Vec<u32> = self
            .relations
            .iter()
            .filter(|(_, rel)| !rel.dying && rel.local_end(app).is_some())
            .map(|(n, _)| *n)
            .collect();
        for number in numbers {
            self.enter_scope(number, &unit);
            let Some(rel) = self.relations.get(&number) else {
                continue;
            };
            let Some(remote_app) = rel.remote_end(app).map(|end| end.app.clone()) else {
                continue;
            };
            hooks.push(HookInvocation::created(
                unit.clone(),
                id_in(rel, number, &unit),
                remote_app.clone(),
            ));
            let remotes: Vec<UnitName> = self
                .live_units(&remote_app)
                .into_iter()
                .filter(|u| *u != unit)
                .collect();
            for remote in &remotes {
                self.push_join(&mut hooks, number, remote, &unit);
            }
            for remote in &remotes {
                self.push_join(&mut hooks, number, &unit, remote);
            }
        }
        Ok((unit, hooks))
    }

    /// Relates two endpoints; returns the new relation number and the hooks Juju fires:
    /// `-created` on every unit of both sides, then `-joined` (each followed by `-changed`)
    /// per remote unit.
    ///
    /// A peer relation is made by passing the same end twice.
    ///
    /// # Errors
    /// Unknown application or endpoint, roles that do not match, or already related.
    pub fn relate(
        &mut self,
        a: &RelationEnd,
        b: &RelationEnd,
    ) -> Result<(u32, Vec<HookInvocation>), Inconsistency> {
        let (role_a, interface_a) = self.declared_endpoint(a)?;
        let (role_b, interface_b) = self.declared_endpoint(b)?;
        roles_match(a, role_a, b, role_b)?;
        if interface_a != interface_b {
            return Err(inconsistent(format!(
                "{a} speaks interface {interface_a} but {b} speaks {interface_b}"
            )));
        }
        if let Some(existing) = self.relations.iter().find(|(_, r)| same_ends(r, a, b)) {
            return Err(inconsistent(format!(
                "{a} and {b} are already related (relation {})",
                existing.0
            )));
        }
        let number = self.next_relation_number;
        self.next_relation_number += 1;
        let apps = distinct_apps(a, b);
        let relation = Relation {
            ends: [a.clone(), b.clone()],
            unit_bags: BTreeMap::new(),
            app_bags: apps
                .iter()
                .map(|app| (app.clone(), Databag::new()))
                .collect(),
            members: BTreeMap::new(),
            dying: false,
        };
        self.relations.insert(number, relation);

        let units: Vec<UnitName> = apps.iter().flat_map(|app| self.live_units(app)).collect();
        for unit in &units {
            self.enter_scope(number, unit);
        }
        let mut hooks = Vec::new();
        for unit in &units {
            if let Some(remote_app) = self.remote_app_of(number, unit.app()) {
                let rid = self.relation_id(number, unit);
                hooks.extend(rid.map(|rid| HookInvocation::created(unit.clone(), rid, remote_app)));
            }
        }
        for unit in &units {
            let Some(remote_app) = self.remote_app_of(number, unit.app()) else {
                continue;
            };
            for remote in self.live_units(&remote_app) {
                if remote != *unit {
                    self.push_join(&mut hooks, number, unit, &remote);
                }
            }
        }
        Ok((number, hooks))
    }

    /// Starts removing a relation; returns `-departed` for every member on every unit, then
    /// `-broken` on every unit.
    ///
    /// The hooks come unit by unit: a unit's `-departed` hooks, then its `-broken`. The
    /// relation stays listed for a unit until its `-broken` commits.
    ///
    /// # Errors
    /// Unknown relation, or one already being removed.
    pub fn unrelate(&mut self, relation: u32) -> Result<Vec<HookInvocation>, Inconsistency> {
        let rel = self
            .relations
            .get_mut(&relation)
            .ok_or_else(|| inconsistent(format!("relation {relation} does not exist")))?;
        if rel.dying {
            return Err(inconsistent(format!(
                "relation {relation} is already being removed"
            )));
        }
        rel.dying = true;
        if rel.members.is_empty() {
            self.relations.remove(&relation);
            self.drop_secret_grants(relation);
            return Ok(Vec::new());
        }
        let rel = &self.relations[&relation];
        let mut hooks = Vec::new();
        for (unit, view) in &rel.members {
            let rid = id_in(rel, relation, unit);
            for member in view {
                hooks.push(HookInvocation::departed(
                    unit.clone(),
                    rid.clone(),
                    member.clone(),
                    member.clone(),
                ));
            }
            if let Some(remote) = rel.remote_end(unit.app()) {
                hooks.push(HookInvocation::broken(
                    unit.clone(),
                    rid,
                    remote.app.clone(),
                ));
            }
        }
        Ok(hooks)
    }

    /// Removes a unit: the remaining related units get `-departed`; the removed unit gets
    /// `-departed` for each of its members, `-broken` per relation (not for peer relations,
    /// which live on with the application), then `stop` and `remove`.
    ///
    /// The unit vanishes from the model when its `remove` hook commits. Call this when no
    /// other hook about the unit is still queued.
    ///
    /// # Errors
    /// Unknown unit, or one already being removed.
    pub fn remove_unit(&mut self, unit: &UnitName) -> Result<Vec<HookInvocation>, Inconsistency> {
        if !self.unit_exists(unit) {
            return Err(inconsistent(format!("unit {unit} does not exist")));
        }
        if !self.dying_units.insert(unit.clone()) {
            return Err(inconsistent(format!(
                "unit {unit} is already being removed"
            )));
        }
        let mut others = Vec::new();
        let mut own = Vec::new();
        for (number, rel) in &self.relations {
            let Some(view) = rel.members.get(unit) else {
                continue;
            };
            for (other, other_view) in &rel.members {
                if other != unit && other_view.contains(unit) {
                    others.push(HookInvocation::departed(
                        other.clone(),
                        id_in(rel, *number, other),
                        unit.clone(),
                        unit.clone(),
                    ));
                }
            }
            let rid = id_in(rel, *number, unit);
            for member in view {
                own.push(HookInvocation::departed(
                    unit.clone(),
                    rid.clone(),
                    member.clone(),
                    unit.clone(),
                ));
            }
            // A peer relation outlives the unit: it departs, but gets no `-broken`.
            if rel.is_peer() {
                continue;
            }
            if let Some(remote) = rel.remote_end(unit.app()) {
                own.push(HookInvocation::broken(
                    unit.clone(),
                    rid,
                    remote.app.clone(),
                ));
            }
        }
        others.extend(own);
        others.push(HookInvocation::new(unit.clone(), "stop"));
        others.push(HookInvocation::new(unit.clone(), "remove"));
        Ok(others)
    }

    /// What Juju does just before a hook runs: in `-joined` the remote unit enters the local
    /// unit's member view (and the local unit's bag is seeded); in `-departed` it leaves.
    ///
    /// In `-broken` the member view is empty. The invocation is remembered until
    /// [`Model::commit`] or [`Model::abort`].
    ///
    /// # Errors
    /// The invocation is inconsistent with the model.
    pub fn begin_hook(&mut self, hook: &HookInvocation) -> Result<(), Inconsistency> {
        let kind = self.check_invocation(hook)?;
        self.running.insert(hook.unit.clone(), hook.clone());
        let Some(number) = hook.relation.as_ref().map(RelationId::number) else {
            return Ok(());
        };
        let Some(rel) = self.relations.get_mut(&number) else {
            return Ok(());
        };
        let unit = &hook.unit;
        match (&kind, &hook.remote_unit) {
            (HookKind::RelationJoined(_), Some(remote)) => {
                rel.unit_bags
                    .entry(unit.clone())
                    .or_insert_with(|| seeded_bag(unit));
                rel.members
                    .entry(unit.clone())
                    .or_default()
                    .insert(remote.clone());
            }
            (HookKind::RelationDeparted(_), Some(remote)) => {
                if let Some(view) = rel.members.get_mut(unit) {
                    view.remove(remote);
                }
            }
            (HookKind::RelationBroken(_), _) => {
                if let Some(view) = rel.members.get_mut(unit) {
                    view.clear();
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Applies a successful hook's staged writes and returns the `-changed` hooks Juju fires on
    /// the other side for each relation whose data really changed. Check
    /// [`Model::commit_refusal`] first: a hook whose changes the controller refuses fails.
    ///
    /// A unit-bag change fires `-changed` (remote unit = the writer) on every unit that has
    /// the writer in its member view; an app-bag change fires `-changed` with no remote unit on
    /// every unit of the other side in the relation's scope. No `-changed` fires in a dying
    /// relation, nor from or to a unit being removed (their departure hooks are already queued
    /// and would come first). Then the hook's life-cycle
    /// effects apply: after `-broken` the unit leaves the relation; after `remove` a dying
    /// unit disappears (a new leader gets `leader-elected`).
    pub fn commit(&mut self, unit: &UnitName, pending: Pending) -> Vec<HookInvocation> {
        let finished = self.running.remove(unit);
        let mut next = Vec::new();
        // Nobody hears about changes that come from, or would go to, a unit that is already
        // on its way out: its departure hooks are queued ahead of any `-changed` we could add.
        let writer_leaving = self.dying_units.contains(unit);
        let dying_units = &self.dying_units;
        let notified = |rel: &Relation, watcher: &UnitName| {
            !writer_leaving && !rel.dying && watcher != unit && !dying_units.contains(watcher)
        };
        for (number, writes) in &pending.unit_writes {
            let Some(rel) = self.relations.get_mut(number) else {
                continue;
            };
            let old = rel.unit_bags.get(unit).cloned().unwrap_or_default();
            let new = overlay(&old, writes);
            if new == old {
                continue;
            }
            rel.unit_bags.insert(unit.clone(), new);
            for (watcher, view) in &rel.members {
                if notified(rel, watcher) && view.contains(unit) {
                    let rid = id_in(rel, *number, watcher);
                    next.push(HookInvocation::changed(watcher.clone(), rid, unit.clone()));
                }
            }
        }
        for (number, writes) in &pending.app_writes {
            let app = unit.app();
            let Some(rel) = self.relations.get_mut(number) else {
                continue;
            };
            let Some(remote_app) = rel.remote_end(app).map(|end| end.app.clone()) else {
                continue;
            };
            let old = rel.app_bags.get(app).cloned().unwrap_or_default();
            let new = overlay(&old, writes);
            if new == old {
                continue;
            }
            rel.app_bags.insert(app.clone(), new);
            for watcher in rel.members.keys() {
                if notified(rel, watcher) && *watcher.app() == remote_app {
                    let rid = id_in(rel, *number, watcher);
                    next.push(HookInvocation::app_changed(
                        watcher.clone(),
                        rid,
                        app.clone(),
                    ));
                }
            }
        }
        if let Some(record) = self
            .applications
            .get_mut(unit.app())
            .and_then(|app| app.units.get_mut(unit))
        {
            apply_state(&mut record.state, pending.state_writes);
            apply_port_changes(&mut record.opened_ports, &pending.port_changes);
        }
        next.extend(self.commit_secrets(pending.secret_ops));
        if let Some(finished) = finished {
            self.secret_trigger_done(&finished);
            next.extend(self.finish_life_cycle(&finished));
        }
        next.extend(self.obsolete_secret_hooks());
        next.extend(self.due_secret_hooks());
        next
    }

    /// What Juju does when a hook fails: its staged writes are dropped (the caller drops the
    /// [`Pending`]) and the hook counts as not run. Immediate effects (status, logs, leader
    /// data) stay.
    ///
    /// The member view goes back to what it was before the hook: Juju records a join or a
    /// departure only when its hook commits (worker/uniter/relation/statetracker.go,
    /// `CommitHook`), so retrying a failed `-joined` runs the same hook again.
    pub fn abort(&mut self, unit: &UnitName) {
        let Some(hook) = self.running.remove(unit) else {
            return;
        };
        let (Some(number), Some(remote)) = (
            hook.relation.as_ref().map(RelationId::number),
            hook.remote_unit.as_ref(),
        ) else {
            return;
        };
        let Some(view) = self
            .relations
            .get_mut(&number)
            .and_then(|rel| rel.members.get_mut(unit))
        else {
            return;
        };
        if hook.hook.ends_with("-relation-joined") {
            view.remove(remote);
        } else if hook.hook.ends_with("-relation-departed") {
            view.insert(remote.clone());
        }
    }

    /// The units of `app` that are not being removed.
    fn live_units(&self, app: &AppName) -> Vec<UnitName> {
        self.applications
            .get(app)
            .map(|a| {
                a.units
                    .keys()
                    .filter(|u| !self.dying_units.contains(*u))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    fn remote_app_of(&self, number: u32, app: &AppName) -> Option<AppName> {
        let rel = self.relations.get(&number)?;
        rel.remote_end(app).map(|end| end.app.clone())
    }

    /// Seeds `unit`'s bag and gives it an (empty) member view in relation `number`.
    fn enter_scope(&mut self, number: u32, unit: &UnitName) {
        if let Some(rel) = self.relations.get_mut(&number) {
            rel.unit_bags
                .entry(unit.clone())
                .or_insert_with(|| seeded_bag(unit));
            rel.members.entry(unit.clone()).or_default();
        }
    }

    /// `-joined` then `-changed` on `unit` for `remote`.
    fn push_join(
        &self,
        hooks: &mut Vec<HookInvocation>,
        number: u32,
        unit: &UnitName,
        remote: &UnitName,
    ) {
        let Some(rid) = self.relation_id(number, unit) else {
            return;
        };
        hooks.push(HookInvocation::joined(
            unit.clone(),
            rid.clone(),
            remote.clone(),
        ));
        hooks.push(HookInvocation::changed(unit.clone(), rid, remote.clone()));
    }

    fn declared_endpoint(
        &self,
        end: &RelationEnd,
    ) -> Result<(EndpointRole, String), Inconsistency> {
        let app = self
            .applications
            .get(&end.app)
            .ok_or_else(|| inconsistent(format!("application {} is not deployed", end.app)))?;
        app.endpoints.get(&end.endpoint).cloned().ok_or_else(|| {
            inconsistent(format!(
                "application {} declares no endpoint {}",
                end.app, end.endpoint
            ))
        })
    }

    /// Life-cycle effects of a successfully finished hook.
    fn finish_life_cycle(&mut self, finished: &HookInvocation) -> Vec<HookInvocation> {
        let unit = &finished.unit;
        match HookKind::from_hook_name(&finished.hook) {
            Ok(HookKind::RelationBroken(_)) => {
                let Some(number) = finished.relation.as_ref().map(RelationId::number) else {
                    return Vec::new();
                };
                if let Some(rel) = self.relations.get_mut(&number) {
                    rel.members.remove(unit);
                    if rel.dying && rel.members.is_empty() {
                        self.relations.remove(&number);
                        self.drop_secret_grants(number);
                    }
                }
                Vec::new()
            }
            Ok(HookKind::Remove) if self.dying_units.remove(unit) => self.drop_unit(unit),
            _ => Vec::new(),
        }
    }

    /// Deletes a removed unit; returns `leader-elected` if leadership moved.
    fn drop_unit(&mut self, unit: &UnitName) -> Vec<HookInvocation> {
        for rel in self.relations.values_mut() {
            rel.members.remove(unit);
        }
        self.drop_unit_secrets(unit);
        let live: Vec<UnitName> = self
            .live_units(unit.app())
            .into_iter()
            .filter(|u| u != unit)
            .collect();
        let Some(app) = self.applications.get_mut(unit.app()) else {
            return Vec::new();
        };
        app.units.remove(unit);
        if app.leader.as_ref() != Some(unit) {
            return Vec::new();
        }
        app.leader = live.first().cloned();
        live.first()
            .map(|leader| vec![HookInvocation::new(leader.clone(), "leader-elected")])
            .unwrap_or_default()
    }
}

/// The id of relation `number` as `unit` sees it: its own end's endpoint (the first end's
/// if the unit's application is not in the relation, which callers rule out).
fn id_in(rel: &Relation, number: u32, unit: &UnitName) -> RelationId {
    let end = rel.local_end(unit.app()).unwrap_or(&rel.ends[0]);
    RelationId::new(end.endpoint.clone(), number)
}

/// Checks that two ends may be related: provides with requires (different applications), or
/// one peer endpoint with itself.
pub(super) fn roles_match(
    a: &RelationEnd,
    role_a: EndpointRole,
    b: &RelationEnd,
    role_b: EndpointRole,
) -> Result<(), Inconsistency> {
    use EndpointRole::{Peers, Provides, Requires};
    let ok = match (role_a, role_b) {
        (Provides, Requires) | (Requires, Provides) => a.app != b.app,
        (Peers, Peers) => a == b,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(inconsistent(format!(
            "{a} ({role_a}) cannot be related to {b} ({role_b}): only provides with requires \
             of another application, or a peer endpoint with itself"
        )))
    }
}

/// Whether `rel` joins exactly the ends `a` and `b` (in either order).
pub(super) fn same_ends(rel: &Relation, a: &RelationEnd, b: &RelationEnd) -> bool {
    (rel.ends[0] == *a && rel.ends[1] == *b) || (rel.ends[0] == *b && rel.ends[1] == *a)
}

fn distinct_apps(a: &RelationEnd, b: &RelationEnd) -> Vec<AppName> {
    if a.app == b.app {
        vec![a.app.clone()]
    } else {
        vec![a.app.clone(), b.app.clone()]
    }
}
