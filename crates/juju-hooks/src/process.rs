//! [`HookTools`](crate::HookTools) by spawning Juju's real hook tools.

/// Runs Juju's hook tools as child processes (found on `PATH`).
#[derive(Debug, Default)]
pub struct ProcessHookTools {}
