//! [`crate::HookTools`] over an in-memory [`Model`], recording every call.

use super::model::{HookInvocation, Model, Pending};

/// One recorded hook-tool call, as the command line the real tool would get
/// (e.g. `relation-get --format=json -r proxy:3 - etcd/0`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolCall {
    /// The tool name, e.g. `relation-get`.
    pub tool: &'static str,
    /// Its arguments, space-joined (stdin content is never recorded).
    pub args: String,
}

/// The hook tools of one hook run on one unit, answering from a [`Model`].
///
/// Relation writes go to a [`Pending`] set; `leader-set`, `status-set` and `juju-log` apply
/// to the model at once, as in Juju. A tool can be made to fail with [`InMemoryTools::fail`]
/// to test error handling.
#[derive(Debug)]
pub struct InMemoryTools<'m> {
    #[allow(dead_code)]
    pub(crate) model: &'m mut Model,
    #[allow(dead_code)]
    pub(crate) invocation: HookInvocation,
    pub(crate) pending: Pending,
    pub(crate) calls: Vec<ToolCall>,
    pub(crate) failing: Vec<(&'static str, i32, String)>,
}

impl<'m> InMemoryTools<'m> {
    /// Tools for `invocation` over `model` (call [`Model::begin_hook`] first).
    pub fn new(model: &'m mut Model, invocation: HookInvocation) -> Self {
        Self {
            model,
            invocation,
            pending: Pending::default(),
            calls: Vec::new(),
            failing: Vec::new(),
        }
    }

    /// Makes every later call of `tool` fail with `code` and `stderr` (Juju's `ERROR ...` text).
    pub fn fail(&mut self, tool: &'static str, code: i32, stderr: impl Into<String>) {
        self.failing.push((tool, code, stderr.into()));
    }

    /// The calls made so far.
    pub fn calls(&self) -> &[ToolCall] {
        &self.calls
    }

    /// Ends the hook: the staged writes and the recorded calls.
    pub fn finish(self) -> (Pending, Vec<ToolCall>) {
        (self.pending, self.calls)
    }
}
