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
//! - The model has its own clock ([`juju_hooks::testing::Model::clock`]): it starts when the
//!   model is created and moves only with [`Emulator::advance_clock`] (`juju-emulator
//!   advance-clock 1h`), which queues the `secret-rotate` and `secret-expired` hooks that
//!   time makes due, so tests of rotation and expiry never sleep.
//!
//! Juju's rules themselves (membership, staging, who may write what) live in
//! [`juju_hooks::testing::Model`]; this crate is the process-level layer around it.
//!
//! # Running two charms
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::os::unix::fs::PermissionsExt;
//! use juju_emulator::Emulator;
//!
//! let root = tempfile::tempdir()?;
//! let charm = |name: &str, role: &str| -> std::io::Result<std::path::PathBuf> {
//!     let dir = root.path().join(name);
//!     std::fs::create_dir_all(&dir)?;
//!     let metadata = format!("name: {name}\n{role}:\n  db:\n    interface: kv\n");
//!     std::fs::write(dir.join("metadata.yaml"), metadata)?;
//!     // Each unit runs in its own copy of the charm: the log is per unit.
//!     std::fs::write(dir.join("dispatch"), "#!/bin/sh\necho \"$JUJU_HOOK_NAME\" >> hooks.log\n")?;
//!     std::fs::set_permissions(dir.join("dispatch"), std::fs::Permissions::from_mode(0o755))?;
//!     Ok(dir)
//! };
//! let (server, client) = (charm("server", "provides")?, charm("client", "requires")?);
//!
//! // Hooks reach the model through tools linked to this binary (a multi-call binary that
//! // calls `tool_main`); these charms call no tool, so any path does here.
//! let mut emulator = Emulator::create(&root.path().join("model"), "demo", "/bin/false".as_ref())?;
//! emulator.deploy(&"server".parse()?, &server, 1)?;
//! emulator.deploy(&"client".parse()?, &client, 1)?;
//! emulator.settle(100)?;
//! emulator.relate("server:db", "client:db")?;
//! let reports = emulator.settle(100)?;
//! assert!(reports.iter().all(|r| r.succeeded()));
//!
//! let log = std::fs::read_to_string(emulator.unit_charm_dir(&"client/0".parse()?).join("hooks.log"))?;
//! let relation_hooks: Vec<&str> = log.lines().filter(|h| h.starts_with("db-")).collect();
//! assert_eq!(relation_hooks, ["db-relation-created", "db-relation-joined", "db-relation-changed"]);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod args;
mod charm;
mod cli;
mod clock;
mod emulator;
mod error;
mod format;
mod operations;
mod redact;
mod runner;
mod status;
pub mod store;
mod tools;
mod uniter;

pub use charm::{copy_charm, CharmInfo, ConfigOption};
pub use cli::{run_cli, EmulatorCli, EmulatorCommand};
pub use emulator::{Emulator, HookOutcome, HookReport};
pub use error::EmulatorError;
pub use operations::ActionOutcome;
pub use redact::{redact_private_keys, REDACTED};
pub use runner::JUJU_VERSION;
pub use tools::{is_hook_tool, tool_main, HOOK_TOOLS, MODEL_DIR_VAR, UNSUPPORTED_TOOLS};
