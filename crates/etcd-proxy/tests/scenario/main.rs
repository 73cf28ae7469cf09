//! State-in/state-out scenario tests of both sides of the interface on the in-memory model.

mod contract;
mod decide;
mod provider;
mod proxy;
mod requirer;
mod support;
mod wire2;
