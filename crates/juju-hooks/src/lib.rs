//! A generic Juju hook layer: the hook context, the hook tools behind a trait, and persisted
//! flags — plus, with feature `testing`, an in-memory Juju model for state-in/state-out tests.
//!
//! Nothing here knows about etcd; the `etcd-proxy` crate builds the interface on top.
#![deny(missing_docs)]

mod cache;
mod context;
mod error;
mod flags;
mod ids;
mod process;
mod tools;

#[cfg(feature = "testing")]
pub mod testing;

pub use cache::CachedTools;
pub use context::{HookKind, JujuContext};
pub use error::{ContextError, IdError, StateError, ToolError, ToolErrorKind};
pub use flags::{transact, FileFlagStore, FlagStore, MemoryFlagStore, UnitState};
pub use ids::{AppName, Endpoint, RelationId, UnitName};
pub use process::{ProcessHookTools, DEFAULT_TOOL_TIMEOUT};
pub use tools::{
    BagOwner, Config, Databag, HookTools, LogLevel, StatusKind, WorkloadStatus, WriteScope,
};
