//! Integration tests of the emulator: tool conformance (in-process and as processes), the
//! command line, and whole relation life cycles of bash charms.

mod conformance;
mod juju36;
mod lifecycle;
mod process;
mod support;
mod uniter;
