//! Scenario tests of the in-memory Juju model: its semantics must match Juju's, because every
//! state-in/state-out test of the charm layer trusts them.

mod consistency;
mod leadership;
mod lifecycle;
mod membership;
mod persistence;
mod properties;
mod support;
mod tools;
mod visibility;
