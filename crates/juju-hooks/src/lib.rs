//! A generic Juju hook layer: the hook context, the hook tools behind a trait, and persisted
//! flags — plus, with feature `testing`, an in-memory Juju model for state-in/state-out tests.
//!
//! Nothing here knows about etcd; the `etcd-proxy` crate builds the interface on top.
//!
//! - [`JujuContext::from_env`] reads the hook's `JUJU_*` environment once (the only reader of
//!   `std::env` in the project); [`HookKind`] names the hook.
//! - [`HookTools`] is the seam to Juju: [`ProcessHookTools`] runs the real tools (always
//!   `--format=json`, `-r` and its value as two arguments, `relation-set --file -` with JSON
//!   on stdin), [`CachedTools`] answers repeated reads of one hook from memory.
//! - [`FlagStore`] keeps flags and other unit state; save it only when the hook's work
//!   succeeded ([`transact`]), as Juju keeps relation writes only of successful hooks.
//!
//! # A hook on the in-memory model (feature `testing`)
//!
//! ```
//! # #[cfg(feature = "testing")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use juju_hooks::testing::{run, HookInvocation, Model};
//! use juju_hooks::{BagOwner, Databag, HookTools, UnitName, WriteScope};
//!
//! // db/0 provides `store`, app/0 requires it; every relation hook has run already.
//! let (model, number) = Model::with_relation(("db", 1), ("app", 1), "store", "kv")?;
//! let db: UnitName = "db/0".parse()?;
//! let rid = model.relation_id(number, &db).unwrap();
//!
//! // db/0 writes in a hook that then fails: Juju discards the write.
//! let failed = run(&model, &HookInvocation::new(db.clone(), "update-status"), "/charm".as_ref(), |_, tools| {
//!     let changes = Databag::from([("host".to_owned(), "10.1.2.3".to_owned())]);
//!     tools.relation_set(&rid, WriteScope::Unit, &changes)?;
//!     Err::<(), Box<dyn std::error::Error>>("the charm failed after writing".into())
//! })?;
//! assert!(failed.result.is_err() && failed.next.is_empty());
//!
//! // The same write in a hook that succeeds is committed, and app/0 gets `-changed`.
//! let ok = run(&model, &HookInvocation::new(db.clone(), "update-status"), "/charm".as_ref(), |_, tools| {
//!     let changes = Databag::from([("host".to_owned(), "10.1.2.3".to_owned())]);
//!     tools.relation_set(&rid, WriteScope::Unit, &changes)
//! })?;
//! assert_eq!(ok.next.len(), 1);
//! assert_eq!(ok.next[0].hook, "store-relation-changed");
//!
//! // app/0 reads db/0's databag in that hook, in one call.
//! let seen = run(&ok.model, &ok.next[0], "/charm".as_ref(), |ctx, tools| {
//!     let bag = tools.relation_get(ctx.relation_id.as_ref().unwrap(), &BagOwner::Unit(db.clone()))?;
//!     assert_eq!(bag["host"], "10.1.2.3");
//!     Ok::<(), juju_hooks::ToolError>(())
//! })?;
//! assert!(seen.result.is_ok());
//! assert_eq!(seen.calls[0].command_line(), "relation-get --format=json -r store:0 - db/0");
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "testing"))]
//! # fn main() {}
//! ```
#![deny(missing_docs)]

mod argv;
mod cache;
mod context;
mod error;
mod flags;
mod ids;
mod process;
mod read;
mod secret;
mod tools;

#[cfg(feature = "testing")]
pub mod testing;

pub use cache::CachedTools;
pub use context::{HookKind, JujuContext};
pub use error::{ContextError, IdError, StateError, ToolError, ToolErrorKind};
pub use flags::{
    transact, FileFlagStore, FlagStore, MemoryFlagStore, UnitState, MAX_STATE_FILE_BYTES,
};
pub use ids::{AppName, Endpoint, RelationId, UnitName};
pub use process::{ProcessHookTools, ToolTime, DEFAULT_TOOL_TIMEOUT};
pub use read::{read_regular_file, read_regular_text};
pub use secret::{
    is_valid_secret_key, RotatePolicy, SecretContent, SecretError, SecretInfo, SecretMeta,
    SecretOwner, SecretOwnerKind, SecretUri,
};
pub use tools::{
    BagOwner, Config, Databag, HookTools, LogLevel, SecretRevision, SecretSummary, StatusKind,
    WorkloadStatus, WriteScope,
};
