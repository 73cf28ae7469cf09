//! Tests of the Rust requirer example charm: its whole lifecycle on the hook-tool emulator,
//! against a real etcd, its failure handling on the in-memory model, and its `.charm` archive.

mod emulator;
mod etcd;
mod model;
mod pack;
mod support;
