//! Persisted unit state: the flags, plus namespaced data that must be committed with them.
//!
//! The state is loaded at the start of a hook, changed in memory, and saved once at the end
//! only if the hook's work succeeded, so a failed run leaves the previous state untouched
//! (as charms.reactive's unitdata flush does).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::StateError;

/// Everything a unit keeps between hooks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitState {
    /// Format version of this document.
    #[serde(default)]
    pub version: u32,
    /// The set flags, e.g. `proxy.available`.
    #[serde(default)]
    pub flags: BTreeSet<String>,
    /// Namespaced data kept with the flags (e.g. a committed view of remote databags).
    #[serde(default)]
    pub data: BTreeMap<String, serde_json::Value>,
}

/// Where a unit's state lives. Implementations: [`FileFlagStore`] and [`MemoryFlagStore`].
pub trait FlagStore {
    /// Loads the state; a store that was never saved yields the default (empty) state.
    ///
    /// # Errors
    /// The state could not be read or is corrupt.
    fn load(&self) -> Result<UnitState, StateError>;

    /// Replaces the state atomically: after a crash the store holds the old or the new state,
    /// never a mix. Saving a state equal to the stored one writes nothing.
    ///
    /// # Errors
    /// The state could not be written; the old state is then still in place.
    fn save(&mut self, state: &UnitState) -> Result<(), StateError>;
}

/// A [`FlagStore`] in a JSON file (mode 0600: it may hold relation data).
#[derive(Debug)]
pub struct FileFlagStore {
    #[allow(dead_code)]
    path: std::path::PathBuf,
}

/// A [`FlagStore`] in memory.
#[derive(Debug, Default)]
pub struct MemoryFlagStore {
    #[allow(dead_code)]
    state: Option<UnitState>,
}
