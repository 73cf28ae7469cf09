//! Typed sections of the persisted unit state, one per side and endpoint.

use juju_hooks::{Endpoint, UnitState};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The state key of a section, e.g. `etcd-proxy/proxy/requirer`.
pub(crate) fn section_key(endpoint: &Endpoint, side: &str) -> String {
    format!("etcd-proxy/{endpoint}/{side}")
}

/// Reads a section; a missing or unreadable one (e.g. written by another version) reads as
/// `None`, which makes the caller fall back to a full read instead of failing the hook.
pub(crate) fn load_section<T: DeserializeOwned>(state: &UnitState, key: &str) -> Option<T> {
    state
        .data
        .get(key)
        // Straight from the borrowed tree: cloning it first cost as much as decoding it.
        .and_then(|value| T::deserialize(value).ok())
}

/// Replaces a section.
pub(crate) fn store_section<T: Serialize>(state: &mut UnitState, key: &str, section: &T) {
    // Serializing plain data structs with string keys cannot fail.
    if let Ok(value) = serde_json::to_value(section) {
        state.data.insert(key.to_owned(), value);
    }
}

/// Makes `flag` present exactly when `on` holds.
pub(crate) fn set_flag(state: &mut UnitState, flag: String, on: bool) {
    if on {
        state.flags.insert(flag);
    } else {
        state.flags.remove(&flag);
    }
}
