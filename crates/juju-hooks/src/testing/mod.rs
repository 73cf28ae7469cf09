//! An in-memory Juju model with Juju's semantics, for tests and for the hook-tool emulator.
//!
//! The [`Model`] is plain data (it serializes with serde, so the emulator keeps it on disk).
//! A hook runs against it through a [`HookInvocation`] (which unit, which hook, the relation
//! env) and a [`Pending`] set of staged relation writes:
//!
//! 1. [`Model::begin_hook`] applies what Juju does before a hook runs (a joining unit enters
//!    the local unit's member list, a departing one leaves it);
//! 2. the charm calls hook tools — [`InMemoryTools`] implements [`crate::HookTools`] over the
//!    model-level operations ([`Model::relation_get`] and friends);
//! 3. on success [`Model::commit`] applies the staged writes and returns the hooks Juju fires
//!    next on other units; on failure the `Pending` is dropped and [`Model::abort`] forgets
//!    the hook (status, logs and leader data written meanwhile stay, as in Juju).
//!
//! [`run`] packs the three steps into one state-in/state-out call. [`Model::relate`],
//! [`Model::unrelate`], [`Model::add_unit`] and [`Model::remove_unit`] return the hooks Juju
//! fires, in order; [`Model::settle`] runs them as no-op hooks and [`Model::with_relation`]
//! builds the usual two-application state in one call. [`Model::check`] and
//! [`Model::check_invocation`] reject what Juju could never produce.

mod actions;
mod check;
pub mod clock;
mod data;
mod invocation;
mod lifecycle;
mod model;
mod ports;
mod runner;
mod secrets;
mod state;
mod tools;

pub use actions::{ActionRecord, ActionStatus};
pub use model::{
    unit_address, Application, EndpointRole, HookInvocation, Inconsistency, LogEntry, Model,
    Pending, Refusal, Relation, RelationEnd, UnitRecord,
};
pub use ports::{OpenedPorts, PortChange, PortRange, ALL_ENDPOINTS};
pub use runner::{run, Outcome};
pub use secrets::{SecretConsumer, SecretGrantee, SecretHook, SecretOp, SecretRead, SecretRecord};
pub use tools::{InMemoryTools, ToolCall};
