//! Process-level tests of `etcd-proxy-relation`: the real binary as CLI, as the emulator that
//! drives charm hooks, and as the hook tools those hooks call.
//!
//! - `lifecycle`: the example bash charms through relate → data in pieces → rotation →
//!   departure → removal, checking relation data, flags, files, modes and statuses.
//! - `commands`: each CLI command's exit codes, output and writes, inside real hooks.
//! - `python`: the deployed Python provider's exact databag, written as charm-helpers does.
//! - `hook_tools`: exact argv and cost of every hook-tool call; tool failures.
//! - `corpus`: every bad-input corpus entry through the requirer CLI.
//! - `local_files`: bad state files, FIFOs and devices, overlapping outputs.
//! - `repo`: the license, the install command, docs.rs metadata.
//! - `hygiene`: the secret-hygiene checker that the life-cycle, command, Python and corpus
//!   tests end with.
//! - `timings`: `--timings FILE`, one line per command against the emulator's call log.

mod commands;
mod corpus;
mod demo;
mod hook_tools;
mod hygiene;
mod lifecycle;
mod local_files;
mod python;
mod repo;
mod support;
mod timings;
