//! Rejecting models and invocations Juju could never produce, with one clear sentence each.

use super::lifecycle::{roles_match, same_ends};
use super::model::{HookInvocation, Inconsistency, Model, Relation};
use crate::context::HookKind;
use crate::ids::UnitName;

macro_rules! ensure {
    ($cond:expr, $($message:tt)+) => {
        if !$cond {
            return Err(Inconsistency(format!($($message)+)));
        }
    };
}

impl Model {
    /// Checks that the model is one Juju could produce (units of deployed apps, relations
    /// between declared endpoints, members only from the other side, ...).
    ///
    /// A member view may still hold a unit that was removed but whose `-departed` has not run
    /// on the viewer yet, as long as that unit entered the relation (its data is readable).
    ///
    /// # Errors
    /// The first inconsistency found, described in one sentence.
    pub fn check(&self) -> Result<(), Inconsistency> {
        for (app, application) in &self.applications {
            for unit in application.units.keys() {
                ensure!(
                    unit.app() == app,
                    "unit {unit} is listed under application {app}"
                );
            }
            if let Some(leader) = &application.leader {
                ensure!(
                    application.units.contains_key(leader),
                    "the leader {leader} of {app} is not one of its units"
                );
            }
        }
        for unit in &self.dying_units {
            ensure!(
                self.unit_exists(unit),
                "unit {unit} is marked as being removed but does not exist"
            );
        }
        for (unit, hook) in &self.running {
            ensure!(
                self.unit_exists(unit) && hook.unit == *unit,
                "unit {unit} is recorded as running hook {} but does not exist",
                hook.hook
            );
        }
        for (number, rel) in &self.relations {
            self.check_relation(*number, rel)?;
        }
        for (number, rel) in &self.relations {
            let twin = self
                .relations
                .iter()
                .find(|(other, r)| *other > number && same_ends(r, &rel.ends[0], &rel.ends[1]));
            if let Some((other, _)) = twin {
                return Err(Inconsistency(format!(
                    "relations {number} and {other} join the same endpoints"
                )));
            }
        }
        Ok(())
    }

    fn check_relation(&self, number: u32, rel: &Relation) -> Result<(), Inconsistency> {
        ensure!(
            number < self.next_relation_number,
            "relation {number} is not below next_relation_number {}",
            self.next_relation_number
        );
        let mut roles = Vec::new();
        for end in &rel.ends {
            let app = self.applications.get(&end.app);
            ensure!(
                app.is_some(),
                "relation {number} names application {}, which is not deployed",
                end.app
            );
            let declared = app.and_then(|a| a.endpoints.get(&end.endpoint));
            let Some((role, interface)) = declared else {
                return Err(Inconsistency(format!(
                    "relation {number} uses endpoint {end}, which {} does not declare",
                    end.app
                )));
            };
            roles.push((*role, interface));
        }
        let [a, b] = &rel.ends;
        roles_match(a, roles[0].0, b, roles[1].0)
            .map_err(|e| Inconsistency(format!("relation {number}: {}", e.0)))?;
        ensure!(
            roles[0].1 == roles[1].1,
            "relation {number} joins interface {} with interface {}",
            roles[0].1,
            roles[1].1
        );
        let in_relation = |unit: &UnitName| rel.local_end(unit.app()).is_some();
        for (unit, view) in &rel.members {
            ensure!(
                self.unit_exists(unit) && in_relation(unit),
                "unit {unit} is in the scope of relation {number} but is not a unit of {a} or {b}"
            );
            ensure!(
                rel.unit_bags.contains_key(unit),
                "unit {unit} is in the scope of relation {number} but has no databag there"
            );
            let remote_app = rel.remote_end(unit.app()).map(|end| &end.app);
            for member in view {
                ensure!(
                    Some(member.app()) == remote_app && member != unit,
                    "unit {unit} sees {member} in relation {number}, which is not a unit of the \
                     other side"
                );
                ensure!(
                    rel.unit_bags.contains_key(member),
                    "unit {unit} sees {member} in relation {number}, which never entered it"
                );
            }
        }
        for unit in rel.unit_bags.keys() {
            ensure!(
                in_relation(unit),
                "relation {number} holds a databag of {unit}, whose application is not part of it"
            );
        }
        for app in rel.app_bags.keys() {
            ensure!(
                rel.local_end(app).is_some(),
                "relation {number} holds an application databag of {app}, which is not part of it"
            );
        }
        Ok(())
    }

    /// Checks an invocation against the model (the unit exists, a relation hook names a
    /// relation of that unit's app and a remote unit of the other side, ...).
    ///
    /// # Errors
    /// The first inconsistency found.
    pub fn check_invocation(&self, hook: &HookInvocation) -> Result<HookKind, Inconsistency> {
        let unit = &hook.unit;
        let name = &hook.hook;
        ensure!(self.unit_exists(unit), "unit {unit} does not exist");
        let kind = HookKind::from_hook_name(name)
            .map_err(|e| Inconsistency(format!("{name:?} is not a hook Juju runs ({e})")))?;
        let Some(endpoint) = kind.endpoint() else {
            ensure!(
                hook.relation.is_none()
                    && hook.remote_unit.is_none()
                    && hook.remote_app.is_none()
                    && hook.departing_unit.is_none(),
                "{name} on {unit} is not a relation hook, so it carries no relation, remote or \
                 departing unit"
            );
            if kind == HookKind::LeaderElected {
                ensure!(
                    self.is_leader(unit),
                    "leader-elected runs on {unit}, which is not the leader"
                );
            }
            return Ok(kind);
        };
        let Some(rid) = &hook.relation else {
            return Err(Inconsistency(format!(
                "relation hook {name} on {unit} has no relation id"
            )));
        };
        ensure!(
            rid.endpoint() == endpoint,
            "hook {name} belongs to endpoint {endpoint} but its relation id is {rid}"
        );
        let Some(rel) = self.relations.get(&rid.number()) else {
            return Err(Inconsistency(format!(
                "relation {} (from {rid}) does not exist",
                rid.number()
            )));
        };
        let Some(local) = rel.local_end(unit.app()) else {
            return Err(Inconsistency(format!(
                "application {} of {unit} is not part of relation {}",
                unit.app(),
                rid.number()
            )));
        };
        ensure!(
            local.endpoint == *endpoint,
            "{unit} takes part in relation {} through endpoint {}, not {endpoint}",
            rid.number(),
            local.endpoint
        );
        ensure!(
            rel.in_scope(unit),
            "{unit} is not in the scope of relation {rid} (it left or never entered)"
        );
        let remote_app = rel.remote_end(unit.app()).map(|end| &end.app);
        ensure!(
            hook.remote_app.as_ref() == remote_app,
            "{name} on {unit} must name the remote application {}, not {}",
            show(remote_app),
            show(hook.remote_app.as_ref())
        );
        let view = rel.members.get(unit);
        let sees = |remote: &UnitName| view.is_some_and(|v| v.contains(remote));
        let departing_ok = match &kind {
            HookKind::RelationDeparted(_) => true,
            _ => hook.departing_unit.is_none(),
        };
        ensure!(
            departing_ok,
            "{name} on {unit} names a departing unit, which only -departed hooks have"
        );
        match (&kind, &hook.remote_unit) {
            (HookKind::RelationCreated(_) | HookKind::RelationBroken(_), Some(remote)) => {
                return Err(Inconsistency(format!(
                    "{name} on {unit} names remote unit {remote}, but Juju leaves it empty there"
                )));
            }
            (HookKind::RelationJoined(_) | HookKind::RelationDeparted(_), None) => {
                return Err(Inconsistency(format!(
                    "{name} on {unit} names no remote unit"
                )));
            }
            (HookKind::RelationJoined(_), Some(remote)) => {
                ensure!(
                    Some(remote.app()) == remote_app && remote != unit,
                    "{name} on {unit} names {remote}, which is not a unit of the other side"
                );
                ensure!(
                    rel.unit_bags.contains_key(remote),
                    "{name} on {unit} names {remote}, which never entered relation {rid}"
                );
                ensure!(!sees(remote), "{unit} has already joined {remote} in {rid}");
            }
            (HookKind::RelationChanged(_) | HookKind::RelationDeparted(_), Some(remote)) => {
                ensure!(
                    sees(remote),
                    "{name} on {unit} names {remote}, which is not among its members in {rid}"
                );
            }
            _ => {}
        }
        if let HookKind::RelationDeparted(_) = kind {
            let departing = hook.departing_unit.as_ref();
            ensure!(
                departing.is_some()
                    && (departing == hook.remote_unit.as_ref() || departing == Some(unit)),
                "{name} on {unit} must name the departing unit: the remote unit or {unit} itself"
            );
        }
        if let HookKind::RelationBroken(_) = kind {
            ensure!(
                rel.dying || self.dying_units.contains(unit),
                "{name} on {unit} can only run while relation {rid} or the unit is being removed"
            );
            let members: Vec<String> = view
                .map(|v| v.iter().map(ToString::to_string).collect())
                .unwrap_or_default();
            ensure!(
                members.is_empty(),
                "{name} on {unit} cannot run while it still sees {}: each needs its -departed first",
                members.join(", ")
            );
        }
        Ok(kind)
    }
}

fn show<T: std::fmt::Display>(value: Option<&T>) -> String {
    value.map_or_else(|| "none".to_owned(), ToString::to_string)
}
