//! Errors of the emulator's commands (the hook tools report Juju's own texts instead).

use std::path::PathBuf;

use juju_hooks::testing::Inconsistency;

/// An emulator command could not be carried out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// A file or directory operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A state file exists but does not decode.
    #[error("{path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// No model in the directory.
    #[error("no model in {0}; create one with `juju-emulator --model-dir DIR create`")]
    NoModel(PathBuf),
    /// A model already exists where one was to be created.
    #[error("a model already exists in {0}")]
    ModelExists(PathBuf),
    /// The charm directory is not a usable charm.
    #[error("charm {path}: {reason}")]
    Charm {
        /// The charm directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The model refused the change because Juju could not be in the resulting state.
    #[error(transparent)]
    Model(#[from] Inconsistency),
    /// A command argument does not make sense (unknown unit, bad config value, ...).
    #[error("{0}")]
    Usage(String),
    /// A hook process could not be started or waited for.
    #[error("hook {hook} on {unit}: {source}")]
    Spawn {
        /// The unit.
        unit: String,
        /// The hook.
        hook: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
