//! Error types of the Juju layer.

use std::path::PathBuf;

/// A string that is not a valid identifier of the given kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}")]
pub struct IdError {
    /// What was expected, e.g. `unit name`.
    pub kind: &'static str,
    /// The rejected text.
    pub value: String,
}

impl IdError {
    pub(crate) fn new(kind: &'static str, value: &str) -> Self {
        Self {
            kind,
            value: value.to_owned(),
        }
    }
}

/// The hook environment is missing a variable or holds a malformed one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    /// A variable Juju always sets is absent or empty.
    #[error("{var} is not set; is this running inside a Juju hook?")]
    Missing {
        /// The variable name.
        var: &'static str,
    },
    /// A variable holds a value of the wrong shape.
    #[error("{var} is malformed: {source}")]
    Malformed {
        /// The variable name.
        var: &'static str,
        /// What was wrong with it.
        source: IdError,
    },
    /// The hook name could not be determined or is not a hook Juju runs.
    #[error("cannot tell which hook this is: {reason}")]
    UnknownHook {
        /// Why.
        reason: String,
    },
    /// A relation hook whose endpoint or relation id disagree.
    #[error("relation hook {hook:?} does not match JUJU_RELATION_ID {relation_id:?}")]
    Inconsistent {
        /// The hook name.
        hook: String,
        /// The relation id from the environment.
        relation_id: String,
    },
}

/// A hook-tool call failed. Carries the command line (never the data sent on stdin).
#[derive(Debug, thiserror::Error)]
#[error("{command}: {kind}")]
pub struct ToolError {
    /// The command line as run, e.g. `relation-get --format=json -r proxy:3 - etcd/0`.
    pub command: String,
    /// What went wrong.
    #[source]
    pub kind: ToolErrorKind,
}

impl ToolError {
    /// Builds an error for `command`.
    pub fn new(command: impl Into<String>, kind: ToolErrorKind) -> Self {
        Self {
            command: command.into(),
            kind,
        }
    }

    /// The name of the tool that failed (the first word of the command line).
    pub fn tool(&self) -> &str {
        self.command.split(' ').next().unwrap_or_default()
    }

    /// The error of a tool this Juju does not have (e.g. `secret-add` before 3.0).
    pub fn unsupported(tool: &str) -> Self {
        Self::new(
            tool,
            ToolErrorKind::Unsupported {
                tool: tool.to_owned(),
            },
        )
    }

    /// Whether the tool does not exist here (an older Juju): callers fall back to what
    /// works without it.
    pub fn is_unsupported(&self) -> bool {
        matches!(self.kind, ToolErrorKind::Unsupported { .. })
    }

    /// The tool's error text (stderr without `ERROR `), for runtime and usage errors.
    pub fn stderr(&self) -> Option<&str> {
        match &self.kind {
            ToolErrorKind::Usage { stderr }
            | ToolErrorKind::Runtime { stderr, .. }
            | ToolErrorKind::Killed { stderr } => Some(stderr),
            ToolErrorKind::Refused { message, .. } => Some(message),
            _ => None,
        }
    }
}

/// The ways a hook-tool call can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolErrorKind {
    /// The tool could not be started (not on `PATH`, not executable, ...).
    #[error("cannot run the tool: {0}")]
    Spawn(#[source] std::io::Error),
    /// Exit code 2: Juju rejected the arguments.
    #[error("usage error (exit 2): {stderr}")]
    Usage {
        /// The tool's stderr, trimmed.
        stderr: String,
    },
    /// Any other non-zero exit (Juju uses 1 for runtime errors).
    #[error("failed (exit {code}): {stderr}")]
    Runtime {
        /// The exit code.
        code: i32,
        /// The tool's stderr, trimmed.
        stderr: String,
    },
    /// The tool was killed by a signal.
    #[error("killed by a signal: {stderr}")]
    Killed {
        /// The tool's stderr, trimmed.
        stderr: String,
    },
    /// The tool did not finish in time and was killed.
    #[error("no answer within {seconds} s; killed it")]
    Timeout {
        /// The time limit that applied.
        seconds: u64,
    },
    /// The tool does not exist (not found, or exit 127 from a shell): an older Juju.
    #[error("no such tool {tool:?} (a Juju without it?)")]
    Unsupported {
        /// The tool's name.
        tool: String,
    },
    /// The tool exited 0 but printed something we cannot decode.
    #[error("cannot decode its output: {reason}")]
    Decode {
        /// What was wrong with the output.
        reason: String,
    },
    /// The in-memory model refused the call the way Juju would (test double only).
    #[error("{message}")]
    Refused {
        /// Juju's error text, without the `ERROR ` prefix.
        message: String,
        /// The exit code the real tool would use (1 or 2).
        code: i32,
    },
}

/// Reading or writing the persisted unit state (flags) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The state file could not be read or written.
    #[error("unit state file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The state file exists but is not a state document.
    #[error("unit state file {path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
}
