//! Tests of the Rust requirer example charm: its whole lifecycle on the hook-tool emulator,
//! its failure handling on the in-memory model, and its `.charm` archive.

mod emulator;
mod model;
mod support;
