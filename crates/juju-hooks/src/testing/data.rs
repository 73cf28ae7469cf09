//! Relation reads and writes as one unit sees them, with Juju's refusals.

use super::model::{overlay, EndpointRole, Model, Pending, Refusal, Relation};
use crate::ids::{AppName, Endpoint, RelationId, UnitName};
use crate::tools::{BagOwner, Databag, WriteScope};

impl Relation {
    /// Juju's relation key, as its error texts print it: `app:endpoint` of each end, the
    /// requirer first (a peer relation has one end).
    pub fn key(&self, model: &Model) -> String {
        if self.is_peer() {
            return self.ends[0].to_string();
        }
        let role = |i: usize| {
            let end = &self.ends[i];
            model
                .applications
                .get(&end.app)
                .and_then(|app| app.endpoints.get(&end.endpoint))
                .map(|(role, _)| *role)
        };
        let [a, b] = &self.ends;
        let ordered = if role(1) == Some(EndpointRole::Requires)
            || (role(0) != Some(EndpointRole::Requires) && b.to_string() < a.to_string())
        {
            [b, a]
        } else {
            [a, b]
        };
        format!("{} {}", ordered[0], ordered[1])
    }
}

impl Model {
    /// Whether `unit`'s hook sees its relations: not during `install`, as Juju's uniter only
    /// tracks relations once the charm is installed (juju/juju 3.6
    /// `worker/uniter/relation/resolver.go`).
    pub fn sees_relations(&self, unit: &UnitName) -> bool {
        self.running
            .get(unit)
            .is_none_or(|hook| hook.action.is_some() || hook.hook != "install")
    }

    /// `relation-ids <endpoint>` as seen by `unit`.
    ///
    /// Lists the relations of that endpoint the unit is in the scope of, dying ones included
    /// (as Juju does, also during `-broken`), sorted as Juju sorts them.
    pub fn relation_ids(&self, unit: &UnitName, endpoint: &Endpoint) -> Vec<RelationId> {
        let mut ids: Vec<RelationId> = self
            .relations
            .iter()
            .filter(|(_, rel)| {
                rel.in_scope(unit)
                    && self.sees_relations(unit)
                    && rel
                        .local_end(unit.app())
                        .is_some_and(|end| end.endpoint == *endpoint)
            })
            .map(|(number, _)| RelationId::new(endpoint.clone(), *number))
            .collect();
        ids.sort();
        ids
    }

    /// `relation-list -r <id>` as seen by `unit`.
    ///
    /// # Errors
    /// Juju's refusal for an unknown relation.
    pub fn relation_list(
        &self,
        unit: &UnitName,
        relation: &RelationId,
    ) -> Result<Vec<UnitName>, Refusal> {
        let rel = self.known_relation(unit, relation)?;
        Ok(rel
            .members
            .get(unit)
            .map(|view| view.iter().cloned().collect())
            .unwrap_or_default())
    }

    /// The remote application of a relation as seen by `unit` (`relation-list --app`).
    ///
    /// # Errors
    /// Juju's refusal for an unknown relation.
    pub fn remote_app(&self, unit: &UnitName, relation: &RelationId) -> Result<AppName, Refusal> {
        let rel = self.known_relation(unit, relation)?;
        rel.remote_end(unit.app())
            .map(|end| end.app.clone())
            .ok_or_else(|| relation_not_found(relation))
    }

    /// `relation-get - <owner>`: own bags include this hook's pending writes; a remote
    /// unit that never entered the relation and apps outside it are refused with Juju's texts;
    /// a non-leader reading its own app bag is refused.
    ///
    /// # Errors
    /// Juju's refusal.
    pub fn relation_get(
        &self,
        unit: &UnitName,
        pending: &Pending,
        relation: &RelationId,
        owner: &BagOwner,
    ) -> Result<Databag, Refusal> {
        let rel = self.known_relation(unit, relation)?;
        let number = relation.number();
        let own_app = unit.app();
        let remote_app = rel
            .remote_end(own_app)
            .map(|end| &end.app)
            .ok_or_else(|| relation_not_found(relation))?;
        let no_writes = Databag::new();
        match owner {
            BagOwner::Unit(owner) if owner == unit => {
                let committed = rel.unit_bags.get(unit).cloned().unwrap_or_default();
                let staged = pending.unit_writes.get(&number).unwrap_or(&no_writes);
                Ok(overlay(&committed, staged))
            }
            BagOwner::Unit(owner) if owner.app() == remote_app => {
                rel.unit_bags.get(owner).cloned().ok_or_else(|| {
                    Refusal::runtime(format!(
                        "cannot read settings for unit \"{owner}\" in relation \"{}\": \
                         unit \"{owner}\": settings not found",
                        rel.key(self)
                    ))
                })
            }
            BagOwner::Unit(_) => Err(permission_denied()),
            BagOwner::App(app) if app == own_app && self.is_leader(unit) => {
                let committed = rel.app_bags.get(app).cloned().unwrap_or_default();
                let staged = pending.app_writes.get(&number).unwrap_or(&no_writes);
                Ok(overlay(&committed, staged))
            }
            // A non-leader may read its own app bag only in a peer relation.
            BagOwner::App(app) if app == own_app && !rel.is_peer() => Err(permission_denied()),
            BagOwner::App(app) if app == own_app || app == remote_app => {
                Ok(rel.app_bags.get(app).cloned().unwrap_or_default())
            }
            BagOwner::App(_) => Err(permission_denied()),
        }
    }

    /// `relation-set`: stages changes in `pending` (app scope: leader only).
    ///
    /// Later writes to a key override earlier ones; an empty value stays staged as a delete.
    ///
    /// # Errors
    /// Juju's refusal (unknown relation; `cannot write relation settings` for a non-leader).
    pub fn relation_set(
        &self,
        unit: &UnitName,
        pending: &mut Pending,
        relation: &RelationId,
        scope: WriteScope,
        changes: &Databag,
    ) -> Result<(), Refusal> {
        self.known_relation(unit, relation)?;
        let staged = match scope {
            WriteScope::Unit => &mut pending.unit_writes,
            WriteScope::App if self.is_leader(unit) => &mut pending.app_writes,
            WriteScope::App => return Err(Refusal::runtime("cannot write relation settings")),
        };
        staged
            .entry(relation.number())
            .or_default()
            .extend(changes.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    }

    /// The relation `relation` names, if `unit` is in its scope. Like Juju, only the number
    /// counts; the endpoint part of the id is not checked.
    fn known_relation(&self, unit: &UnitName, relation: &RelationId) -> Result<&Relation, Refusal> {
        self.relations
            .get(&relation.number())
            .filter(|rel| {
                rel.local_end(unit.app()).is_some()
                    && rel.in_scope(unit)
                    && self.sees_relations(unit)
            })
            .ok_or_else(|| relation_not_found(relation))
    }
}

fn relation_not_found(relation: &RelationId) -> Refusal {
    Refusal::usage(format!(
        "invalid value \"{relation}\" for option -r: relation not found"
    ))
}

fn permission_denied() -> Refusal {
    Refusal::runtime("permission denied")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::testing::RelationEnd;

    fn end(app: &str, endpoint: &str) -> RelationEnd {
        RelationEnd::new(app.parse().unwrap(), endpoint.parse().unwrap())
    }

    #[test]
    fn relation_keys_put_the_requirer_first_and_peers_once() {
        let mut model = Model::new("m");
        let declare =
            |name: &str, role| BTreeMap::from([(name.parse().unwrap(), (role, "i".to_owned()))]);
        let etcd = "etcd".parse().unwrap();
        let kube = "kube".parse().unwrap();
        model
            .deploy(&etcd, declare("proxy", EndpointRole::Provides), 1)
            .unwrap();
        model
            .deploy(&kube, declare("etcd", EndpointRole::Requires), 1)
            .unwrap();
        let (number, _) = model
            .relate(&end("etcd", "proxy"), &end("kube", "etcd"))
            .unwrap();
        assert_eq!(model.relations[&number].key(&model), "kube:etcd etcd:proxy");

        let mut peers = Model::new("m");
        peers
            .deploy(&etcd, declare("cluster", EndpointRole::Peers), 2)
            .unwrap();
        let cluster = end("etcd", "cluster");
        let (number, _) = peers.relate(&cluster, &cluster).unwrap();
        assert_eq!(peers.relations[&number].key(&peers), "etcd:cluster");
    }
}
