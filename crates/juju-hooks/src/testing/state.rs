//! Unit state on the model (`state-get`, `state-set`, `state-delete`).
//!
//! As in juju/juju 3.6 (`worker/uniter/runner/context/context.go` `GetCharmState`,
//! `SetCharmStateValue`, `DeleteCharmStateValue`; `doFlush` `UpdateCharmState`): the hook works
//! on a cached copy, and the whole state is saved with the hook's other changes only if it
//! succeeds.

use std::collections::BTreeMap;

use super::model::{Model, Pending, Refusal};
use crate::ids::UnitName;

/// `state` with `writes` applied (`None` deletes).
pub(super) fn apply_state(
    state: &mut BTreeMap<String, String>,
    writes: BTreeMap<String, Option<String>>,
) {
    for (key, value) in writes {
        match value {
            Some(value) => state.insert(key, value),
            None => state.remove(&key),
        };
    }
}

impl Model {
    /// `state-get`: the unit's whole state as its hook sees it (staged changes included).
    pub fn state_get(&self, unit: &UnitName, pending: &Pending) -> BTreeMap<String, String> {
        let mut state = self
            .unit(unit)
            .map(|record| record.state.clone())
            .unwrap_or_default();
        apply_state(&mut state, pending.state_writes.clone());
        state
    }

    /// `state-get <key>`: one value, `None` when the key is not set.
    pub fn state_value(&self, unit: &UnitName, pending: &Pending, key: &str) -> Option<String> {
        match pending.state_writes.get(key) {
            Some(staged) => staged.clone(),
            None => self.unit(unit).and_then(|r| r.state.get(key).cloned()),
        }
    }

    /// `state-set`: stages the values (committed with the hook).
    ///
    /// # Errors
    /// `unit "<u>" not found` for a unit that does not exist.
    pub fn state_set(
        &self,
        unit: &UnitName,
        pending: &mut Pending,
        values: &BTreeMap<String, String>,
    ) -> Result<(), Refusal> {
        self.known_unit(unit)?;
        for (key, value) in values {
            pending
                .state_writes
                .insert(key.clone(), Some(value.clone()));
        }
        Ok(())
    }

    /// `state-delete <key>`: stages the removal (a missing key is not an error).
    ///
    /// # Errors
    /// `unit "<u>" not found` for a unit that does not exist.
    pub fn state_delete(
        &self,
        unit: &UnitName,
        pending: &mut Pending,
        key: &str,
    ) -> Result<(), Refusal> {
        self.known_unit(unit)?;
        pending.state_writes.insert(key.to_owned(), None);
        Ok(())
    }

    fn known_unit(&self, unit: &UnitName) -> Result<(), Refusal> {
        if self.unit_exists(unit) {
            Ok(())
        } else {
            Err(Refusal::runtime(format!("unit \"{unit}\" not found")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::HookInvocation;

    fn state(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn state_changes_are_seen_in_the_hook_and_kept_only_on_commit() {
        let (mut model, _) = Model::with_relation(("db", 1), ("app", 1), "store", "kv").unwrap();
        let unit: UnitName = "db/0".parse().unwrap();
        let mut pending = Pending::default();
        model
            .state_set(&unit, &mut pending, &state(&[("a", "1"), ("b", "2")]))
            .unwrap();
        assert_eq!(
            model.state_value(&unit, &pending, "a").as_deref(),
            Some("1")
        );
        assert!(model.state_get(&unit, &Pending::default()).is_empty());

        // A failed hook: nothing stays.
        model
            .begin_hook(&HookInvocation::new(unit.clone(), "update-status"))
            .unwrap();
        model.abort(&unit);
        assert!(model.state_get(&unit, &Pending::default()).is_empty());

        model
            .begin_hook(&HookInvocation::new(unit.clone(), "update-status"))
            .unwrap();
        model.commit(&unit, pending);
        assert_eq!(
            model.state_get(&unit, &Pending::default()),
            state(&[("a", "1"), ("b", "2")])
        );

        let mut pending = Pending::default();
        model.state_delete(&unit, &mut pending, "a").unwrap();
        model
            .state_delete(&unit, &mut pending, "never-set")
            .unwrap();
        assert_eq!(model.state_value(&unit, &pending, "a"), None);
        assert_eq!(model.state_get(&unit, &pending), state(&[("b", "2")]));
        model
            .begin_hook(&HookInvocation::new(unit.clone(), "update-status"))
            .unwrap();
        model.commit(&unit, pending);
        assert_eq!(
            model.state_get(&unit, &Pending::default()),
            state(&[("b", "2")])
        );

        let ghost: UnitName = "db/9".parse().unwrap();
        let refusal = model
            .state_set(&ghost, &mut Pending::default(), &state(&[("a", "1")]))
            .unwrap_err();
        assert_eq!(refusal.message, "unit \"db/9\" not found");
    }
}
