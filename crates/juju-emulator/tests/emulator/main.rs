//! Integration tests of the emulator: tool conformance (in-process and as processes), the
//! command line, and whole relation life cycles of bash charms.

mod cli;
mod conformance;
mod help;
mod juju36;
mod lifecycle;
mod ops_charm;
mod process;
mod store;
mod support;
mod uniter;
