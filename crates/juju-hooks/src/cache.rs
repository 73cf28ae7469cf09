//! Caching of hook-tool reads for the life of one hook.
//!
//! Juju's data is stable within a hook (apart from the unit's own writes), so each read needs
//! to be made at most once: one `relation-ids` per endpoint, one `relation-list` per relation,
//! one `relation-get` per (relation, bag owner). Own writes update the cached copies the way
//! Juju's own in-hook view changes, so later reads stay correct without asking again.

use std::collections::HashMap;

use crate::error::ToolError;
use crate::ids::{Endpoint, RelationId, UnitName};
use crate::secret::{SecretContent, SecretOwnerKind, SecretUri};
use crate::tools::{
    BagOwner, Config, Databag, HookTools, LogLevel, SecretRevision, SecretSummary, WorkloadStatus,
    WriteScope,
};

/// Wraps any [`HookTools`] and answers repeated reads from memory.
///
/// Make one per hook run: the cache is never invalidated by time, only by this unit's own
/// writes through it. Failed calls are not cached.
#[derive(Debug)]
pub struct CachedTools<T> {
    inner: T,
    local_unit: UnitName,
    relation_ids: HashMap<Endpoint, Vec<RelationId>>,
    relation_lists: HashMap<RelationId, Vec<UnitName>>,
    bags: HashMap<(RelationId, BagOwner), Databag>,
    is_leader: Option<bool>,
    leader_data: Option<Databag>,
    status: Option<WorkloadStatus>,
    config: Option<Config>,
    state: Option<Databag>,
}

impl<T> CachedTools<T> {
    /// Wraps `inner` for one hook of `local_unit` (needed to know which cached databags this
    /// unit's `relation-set` changes).
    pub fn new(inner: T, local_unit: UnitName) -> Self {
        Self {
            inner,
            local_unit,
            relation_ids: HashMap::new(),
            relation_lists: HashMap::new(),
            bags: HashMap::new(),
            is_leader: None,
            leader_data: None,
            status: None,
            config: None,
            state: None,
        }
    }

    /// The wrapped tools.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped tools, mutably (calls made through it bypass and do not update the cache).
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// The wrapped tools.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// The unit whose hook this is.
    pub fn local_unit(&self) -> &UnitName {
        &self.local_unit
    }
}

/// Applies `changes` to `bag` with the hook-tool rule: an empty value deletes the key.
fn apply_changes(bag: &mut Databag, changes: &Databag) {
    for (key, value) in changes {
        if value.is_empty() {
            bag.remove(key);
        } else {
            bag.insert(key.clone(), value.clone());
        }
    }
}

impl<T: HookTools> HookTools for CachedTools<T> {
    fn relation_ids(&mut self, endpoint: &Endpoint) -> Result<Vec<RelationId>, ToolError> {
        if let Some(ids) = self.relation_ids.get(endpoint) {
            return Ok(ids.clone());
        }
        let ids = self.inner.relation_ids(endpoint)?;
        self.relation_ids.insert(endpoint.clone(), ids.clone());
        Ok(ids)
    }

    fn relation_list(&mut self, relation: &RelationId) -> Result<Vec<UnitName>, ToolError> {
        if let Some(units) = self.relation_lists.get(relation) {
            return Ok(units.clone());
        }
        let units = self.inner.relation_list(relation)?;
        self.relation_lists.insert(relation.clone(), units.clone());
        Ok(units)
    }

    fn relation_get(
        &mut self,
        relation: &RelationId,
        owner: &BagOwner,
    ) -> Result<Databag, ToolError> {
        let key = (relation.clone(), owner.clone());
        if let Some(bag) = self.bags.get(&key) {
            return Ok(bag.clone());
        }
        let bag = self.inner.relation_get(relation, owner)?;
        self.bags.insert(key, bag.clone());
        Ok(bag)
    }

    fn relation_set(
        &mut self,
        relation: &RelationId,
        scope: WriteScope,
        changes: &Databag,
    ) -> Result<(), ToolError> {
        self.inner.relation_set(relation, scope, changes)?;
        let owner = match scope {
            WriteScope::Unit => BagOwner::Unit(self.local_unit.clone()),
            WriteScope::App => BagOwner::App(self.local_unit.app().clone()),
        };
        // Only a bag read before can be updated; an unread one is fetched (with the write
        // already visible, as Juju shows own writes at once) on first read.
        if let Some(bag) = self.bags.get_mut(&(relation.clone(), owner)) {
            apply_changes(bag, changes);
        }
        Ok(())
    }

    fn is_leader(&mut self) -> Result<bool, ToolError> {
        if let Some(leader) = self.is_leader {
            return Ok(leader);
        }
        let leader = self.inner.is_leader()?;
        self.is_leader = Some(leader);
        Ok(leader)
    }

    fn leader_get(&mut self) -> Result<Databag, ToolError> {
        if let Some(data) = &self.leader_data {
            return Ok(data.clone());
        }
        let data = self.inner.leader_get()?;
        self.leader_data = Some(data.clone());
        Ok(data)
    }

    fn leader_set(&mut self, changes: &Databag) -> Result<(), ToolError> {
        self.inner.leader_set(changes)?;
        if let Some(data) = &mut self.leader_data {
            apply_changes(data, changes);
        }
        Ok(())
    }

    fn status_set(&mut self, status: &WorkloadStatus) -> Result<(), ToolError> {
        self.inner.status_set(status)?;
        self.status = Some(status.clone());
        Ok(())
    }

    fn status_get(&mut self) -> Result<WorkloadStatus, ToolError> {
        if let Some(status) = &self.status {
            return Ok(status.clone());
        }
        let status = self.inner.status_get()?;
        self.status = Some(status.clone());
        Ok(status)
    }

    fn juju_log(&mut self, level: LogLevel, message: &str) -> Result<(), ToolError> {
        self.inner.juju_log(level, message)
    }

    fn config_get(&mut self) -> Result<Config, ToolError> {
        if let Some(config) = &self.config {
            return Ok(config.clone());
        }
        let config = self.inner.config_get()?;
        self.config = Some(config.clone());
        Ok(config)
    }

    // Secrets pass through: reads depend on --peek/--refresh and writes are few.
    fn secret_add(
        &mut self,
        content: &SecretContent,
        owner: SecretOwnerKind,
        label: Option<&str>,
    ) -> Result<SecretUri, ToolError> {
        self.inner.secret_add(content, owner, label)
    }

    fn secret_get(
        &mut self,
        uri: Option<&SecretUri>,
        label: Option<&str>,
        revision: SecretRevision,
    ) -> Result<SecretContent, ToolError> {
        self.inner.secret_get(uri, label, revision)
    }

    fn secret_set(&mut self, uri: &SecretUri, content: &SecretContent) -> Result<(), ToolError> {
        self.inner.secret_set(uri, content)
    }

    fn secret_grant(
        &mut self,
        uri: &SecretUri,
        relation: &RelationId,
        unit: Option<&UnitName>,
    ) -> Result<(), ToolError> {
        self.inner.secret_grant(uri, relation, unit)
    }

    fn secret_revoke(
        &mut self,
        uri: &SecretUri,
        relation: &RelationId,
        unit: Option<&UnitName>,
    ) -> Result<(), ToolError> {
        self.inner.secret_revoke(uri, relation, unit)
    }

    fn secret_remove(&mut self, uri: &SecretUri) -> Result<(), ToolError> {
        self.inner.secret_remove(uri)
    }

    fn secret_remove_revision(&mut self, uri: &SecretUri, revision: u32) -> Result<(), ToolError> {
        self.inner.secret_remove_revision(uri, revision)
    }

    fn secret_ids(&mut self) -> Result<Vec<SecretUri>, ToolError> {
        self.inner.secret_ids()
    }

    fn secret_info_get(
        &mut self,
        uri: Option<&SecretUri>,
        label: Option<&str>,
    ) -> Result<SecretSummary, ToolError> {
        self.inner.secret_info_get(uri, label)
    }

    fn state_get(&mut self) -> Result<Databag, ToolError> {
        if let Some(state) = &self.state {
            return Ok(state.clone());
        }
        let state = self.inner.state_get()?;
        self.state = Some(state.clone());
        Ok(state)
    }

    fn state_set(&mut self, values: &Databag) -> Result<(), ToolError> {
        self.inner.state_set(values)?;
        if let Some(state) = &mut self.state {
            state.extend(values.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        Ok(())
    }

    fn state_delete(&mut self, key: &str) -> Result<(), ToolError> {
        self.inner.state_delete(key)?;
        if let Some(state) = &mut self.state {
            state.remove(key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::error::ToolErrorKind;
    use crate::tools::StatusKind;

    /// A fake with fixed answers that counts calls per command line and can fail once.
    #[derive(Default)]
    struct CountingTools {
        calls: BTreeMap<String, usize>,
        bags: BTreeMap<(String, String), Databag>,
        leader_data: Databag,
        status: Option<WorkloadStatus>,
        state: Option<Databag>,
        fail_next: bool,
    }

    impl CountingTools {
        fn call(&mut self, line: String) -> Result<(), ToolError> {
            *self.calls.entry(line.clone()).or_default() += 1;
            if std::mem::take(&mut self.fail_next) {
                return Err(ToolError::new(
                    line,
                    ToolErrorKind::Runtime {
                        code: 1,
                        stderr: "boom".into(),
                    },
                ));
            }
            Ok(())
        }
        fn count(&self, prefix: &str) -> usize {
            self.calls
                .iter()
                .filter(|(line, _)| line.starts_with(prefix))
                .map(|(_, n)| n)
                .sum()
        }
    }

    impl HookTools for CountingTools {
        fn relation_ids(&mut self, endpoint: &Endpoint) -> Result<Vec<RelationId>, ToolError> {
            self.call(format!("relation-ids {endpoint}"))?;
            Ok(vec![rid("proxy:3"), rid("proxy:4")])
        }
        fn relation_list(&mut self, relation: &RelationId) -> Result<Vec<UnitName>, ToolError> {
            self.call(format!("relation-list {relation}"))?;
            Ok(vec![unit("etcd/0"), unit("etcd/1")])
        }
        fn relation_get(
            &mut self,
            relation: &RelationId,
            owner: &BagOwner,
        ) -> Result<Databag, ToolError> {
            self.call(format!("relation-get {relation} {owner}"))?;
            Ok(self
                .bags
                .get(&(relation.to_string(), owner.to_string()))
                .cloned()
                .unwrap_or_default())
        }
        fn relation_set(
            &mut self,
            relation: &RelationId,
            scope: WriteScope,
            changes: &Databag,
        ) -> Result<(), ToolError> {
            self.call(format!("relation-set {relation} {scope:?}"))?;
            let owner = match scope {
                WriteScope::Unit => "kcp/0",
                WriteScope::App => "kcp",
            };
            let bag = self
                .bags
                .entry((relation.to_string(), owner.to_owned()))
                .or_default();
            apply_changes(bag, changes);
            Ok(())
        }
        fn is_leader(&mut self) -> Result<bool, ToolError> {
            self.call("is-leader".into())?;
            Ok(true)
        }
        fn leader_get(&mut self) -> Result<Databag, ToolError> {
            self.call("leader-get".into())?;
            Ok(self.leader_data.clone())
        }
        fn leader_set(&mut self, changes: &Databag) -> Result<(), ToolError> {
            self.call("leader-set".into())?;
            apply_changes(&mut self.leader_data, changes);
            Ok(())
        }
        fn status_set(&mut self, status: &WorkloadStatus) -> Result<(), ToolError> {
            self.call("status-set".into())?;
            self.status = Some(status.clone());
            Ok(())
        }
        fn status_get(&mut self) -> Result<WorkloadStatus, ToolError> {
            self.call("status-get".into())?;
            Ok(self
                .status
                .clone()
                .unwrap_or(WorkloadStatus::new(StatusKind::Unknown, "")))
        }
        fn juju_log(&mut self, _level: LogLevel, _message: &str) -> Result<(), ToolError> {
            self.call("juju-log".into())
        }
        fn config_get(&mut self) -> Result<Config, ToolError> {
            self.call("config-get".into())?;
            Ok(Config::new())
        }
        // `state: None` plays a Juju without the state tools.
        fn state_get(&mut self) -> Result<Databag, ToolError> {
            self.call("state-get".into())?;
            self.state
                .clone()
                .ok_or(ToolError::unsupported("state-get"))
        }
        fn state_set(&mut self, values: &Databag) -> Result<(), ToolError> {
            self.call("state-set".into())?;
            let state = self
                .state
                .as_mut()
                .ok_or(ToolError::unsupported("state-set"))?;
            state.extend(values.clone());
            Ok(())
        }
        fn state_delete(&mut self, key: &str) -> Result<(), ToolError> {
            self.call("state-delete".into())?;
            let state = self
                .state
                .as_mut()
                .ok_or(ToolError::unsupported("state-delete"))?;
            state.remove(key);
            Ok(())
        }
    }

    fn rid(s: &str) -> RelationId {
        s.parse().unwrap()
    }
    fn unit(s: &str) -> UnitName {
        s.parse().unwrap()
    }
    fn bag(pairs: &[(&str, &str)]) -> Databag {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }
    fn cached() -> CachedTools<CountingTools> {
        CachedTools::new(CountingTools::default(), unit("kcp/0"))
    }

    #[test]
    fn a_hook_reading_everything_twice_makes_each_read_once() {
        let mut tools = cached();
        tools
            .inner_mut()
            .bags
            .insert(("proxy:3".into(), "etcd/0".into()), bag(&[("a", "1")]));
        let endpoint: Endpoint = "proxy".parse().unwrap();
        for _ in 0..2 {
            for id in tools.relation_ids(&endpoint).unwrap() {
                for remote in tools.relation_list(&id).unwrap() {
                    tools.relation_get(&id, &BagOwner::Unit(remote)).unwrap();
                }
                tools
                    .relation_get(&id, &BagOwner::App("etcd".parse().unwrap()))
                    .unwrap();
            }
            tools.is_leader().unwrap();
            tools.leader_get().unwrap();
            tools.status_get().unwrap();
            tools.config_get().unwrap();
        }
        let inner = tools.inner();
        assert!(inner.calls.values().all(|&n| n == 1), "{:?}", inner.calls);
        assert_eq!(inner.count("relation-ids"), 1);
        assert_eq!(inner.count("relation-list"), 2);
        // 2 relations x (2 units + 1 app bag).
        assert_eq!(inner.count("relation-get"), 6);
        assert_eq!(
            tools
                .relation_get(&rid("proxy:3"), &BagOwner::Unit(unit("etcd/0")))
                .unwrap(),
            bag(&[("a", "1")])
        );
    }

    #[test]
    fn own_unit_writes_update_the_cached_own_bag_without_a_new_read() {
        let mut tools = cached();
        let own = BagOwner::Unit(unit("kcp/0"));
        tools.inner_mut().bags.insert(
            ("proxy:3".into(), "kcp/0".into()),
            bag(&[("old", "x"), ("keep", "y")]),
        );
        tools.relation_get(&rid("proxy:3"), &own).unwrap();
        tools
            .relation_set(
                &rid("proxy:3"),
                WriteScope::Unit,
                &bag(&[("old", ""), ("new", "z")]),
            )
            .unwrap();
        assert_eq!(
            tools.relation_get(&rid("proxy:3"), &own).unwrap(),
            bag(&[("keep", "y"), ("new", "z")])
        );
        assert_eq!(tools.inner().count("relation-get"), 1);
    }

    #[test]
    fn own_app_writes_update_only_the_own_app_bag_of_that_relation() {
        let mut tools = cached();
        let own_app = BagOwner::App("kcp".parse().unwrap());
        let remote = BagOwner::Unit(unit("etcd/0"));
        for id in ["proxy:3", "proxy:4"] {
            tools.relation_get(&rid(id), &own_app).unwrap();
            tools.relation_get(&rid(id), &remote).unwrap();
        }
        tools
            .relation_set(&rid("proxy:3"), WriteScope::App, &bag(&[("k", "v")]))
            .unwrap();
        assert_eq!(
            tools.relation_get(&rid("proxy:3"), &own_app).unwrap(),
            bag(&[("k", "v")])
        );
        assert_eq!(
            tools.relation_get(&rid("proxy:4"), &own_app).unwrap(),
            bag(&[])
        );
        assert_eq!(
            tools.relation_get(&rid("proxy:3"), &remote).unwrap(),
            bag(&[])
        );
        assert_eq!(tools.inner().count("relation-get"), 4);
    }

    #[test]
    fn a_write_to_an_unread_bag_shows_on_the_first_read() {
        let mut tools = cached();
        tools
            .relation_set(&rid("proxy:3"), WriteScope::Unit, &bag(&[("k", "v")]))
            .unwrap();
        assert_eq!(
            tools
                .relation_get(&rid("proxy:3"), &BagOwner::Unit(unit("kcp/0")))
                .unwrap(),
            bag(&[("k", "v")])
        );
    }

    #[test]
    fn a_failed_write_leaves_the_cached_bag_alone() {
        let mut tools = cached();
        let own = BagOwner::Unit(unit("kcp/0"));
        tools.relation_get(&rid("proxy:3"), &own).unwrap();
        tools.inner_mut().fail_next = true;
        tools
            .relation_set(&rid("proxy:3"), WriteScope::Unit, &bag(&[("k", "v")]))
            .unwrap_err();
        assert_eq!(tools.relation_get(&rid("proxy:3"), &own).unwrap(), bag(&[]));
    }

    #[test]
    fn failed_reads_are_not_cached() {
        let mut tools = cached();
        tools.inner_mut().fail_next = true;
        tools.is_leader().unwrap_err();
        assert!(tools.is_leader().unwrap());
        assert_eq!(tools.inner().count("is-leader"), 2);
    }

    #[test]
    fn state_is_read_once_and_own_writes_show() {
        let mut tools = cached();
        tools.inner_mut().state = Some(bag(&[("a", "1"), ("b", "2")]));
        assert_eq!(tools.state_get().unwrap(), bag(&[("a", "1"), ("b", "2")]));
        tools.state_set(&bag(&[("a", "3")])).unwrap();
        tools.state_delete("b").unwrap();
        assert_eq!(tools.state_get().unwrap(), bag(&[("a", "3")]));
        assert_eq!(tools.inner().count("state-get"), 1);
    }

    #[test]
    fn missing_state_tools_are_unsupported_and_not_cached() {
        let mut tools = cached();
        assert!(tools.state_get().unwrap_err().is_unsupported());
        assert!(tools.state_get().unwrap_err().is_unsupported());
        assert!(tools
            .state_set(&bag(&[("a", "1")]))
            .unwrap_err()
            .is_unsupported());
        assert!(tools.secret_ids().unwrap_err().is_unsupported());
        assert_eq!(tools.inner().count("state-get"), 2);
    }

    #[test]
    fn leader_set_updates_the_cached_leader_data() {
        let mut tools = cached();
        tools.inner_mut().leader_data = bag(&[("a", "1"), ("b", "2")]);
        tools.leader_get().unwrap();
        tools.leader_set(&bag(&[("a", ""), ("c", "3")])).unwrap();
        assert_eq!(tools.leader_get().unwrap(), bag(&[("b", "2"), ("c", "3")]));
        assert_eq!(tools.inner().count("leader-get"), 1);
    }

    #[test]
    fn status_set_is_what_status_get_returns_next() {
        let mut tools = cached();
        assert_eq!(tools.status_get().unwrap().kind, StatusKind::Unknown);
        let blocked = WorkloadStatus::new(StatusKind::Blocked, "missing relation");
        tools.status_set(&blocked).unwrap();
        assert_eq!(tools.status_get().unwrap(), blocked);
        assert_eq!(tools.inner().count("status-get"), 1);
    }

    #[test]
    fn writes_and_logs_always_reach_the_tools() {
        let mut tools = cached();
        for _ in 0..2 {
            tools.juju_log(LogLevel::Info, "hello").unwrap();
            tools
                .relation_set(&rid("proxy:3"), WriteScope::Unit, &bag(&[("k", "v")]))
                .unwrap();
            tools.leader_set(&bag(&[("k", "v")])).unwrap();
        }
        let inner = tools.into_inner();
        assert_eq!(inner.count("juju-log"), 2);
        assert_eq!(inner.count("relation-set"), 2);
        assert_eq!(inner.count("leader-set"), 2);
    }
}
