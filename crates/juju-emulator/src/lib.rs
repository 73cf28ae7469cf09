//! A local stand-in for Juju: the hook tools over a model kept on disk, and a hook runner
//! that fires hooks in Juju's order and commits relation writes only when a hook succeeds.
//!
//! - [`tool_main`] behaves as one of Juju's hook tools ([`HOOK_TOOLS`]): same options, same
//!   `smart`/`yaml`/`json` output, same exit codes and `ERROR` texts (see
//!   `research/juju-hook-tools.md`). A multi-call binary calls it when its `argv[0]` is a
//!   tool name ([`is_hook_tool`]).
//! - [`Emulator`] keeps a model in a directory ([`store`] describes the layout), deploys charm
//!   directories, relates them, and runs their hooks with the full `JUJU_*` environment.
//! - [`EmulatorCli`] and [`run_cli`] expose the same as shell commands.
//!
//! Juju's rules themselves (membership, staging, who may write what) live in
//! [`juju_hooks::testing::Model`]; this crate is the process-level layer around it.
#![deny(missing_docs)]

mod args;
mod charm;
mod cli;
mod emulator;
mod error;
mod format;
mod runner;
pub mod store;
mod tools;

pub use charm::{copy_charm, CharmInfo, ConfigOption};
pub use cli::{run_cli, EmulatorCli, EmulatorCommand};
pub use emulator::{Emulator, HookOutcome, HookReport, DEFAULT_HOOK_TIMEOUT};
pub use error::EmulatorError;
pub use runner::JUJU_VERSION;
pub use tools::{is_hook_tool, tool_main, HOOK_TOOLS, MODEL_DIR_VAR};
