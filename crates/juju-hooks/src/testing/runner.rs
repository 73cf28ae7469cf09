//! State in, state out: run one hook against a copy of a model.

use super::model::{HookInvocation, Inconsistency, Model, Refusal};
use super::tools::{InMemoryTools, ToolCall};
use crate::context::JujuContext;

/// What one hook run produced.
#[derive(Debug)]
pub struct Outcome<E> {
    /// The model after the hook: staged writes applied only if the hook succeeded.
    pub model: Model,
    /// The hook's own result.
    pub result: Result<(), E>,
    /// Every hook-tool call, in order.
    pub calls: Vec<ToolCall>,
    /// The hooks Juju would fire next because of this hook's committed writes.
    pub next: Vec<HookInvocation>,
    /// The controller's refusal of the hook's changes ([`Model::commit_refusal`]): the hook
    /// succeeded, yet Juju fails it and commits nothing.
    pub refused: Option<Refusal>,
}

/// Runs `charm` as hook `invocation` against a copy of `model` and returns the new state.
///
/// The model and the invocation are checked first ([`Model::check`],
/// [`Model::check_invocation`]); an impossible state is an `Err` with a clear message.
/// `charm_dir` goes into the [`JujuContext`] the charm receives.
///
/// On success the staged relation writes are committed and `next` holds the hooks they
/// trigger; on failure they are dropped, while immediate effects (status, logs, leader data)
/// stay, as in Juju.
///
/// # Errors
/// [`Inconsistency`] when the state or the invocation could not happen in Juju.
pub fn run<E>(
    model: &Model,
    invocation: &HookInvocation,
    charm_dir: &std::path::Path,
    charm: impl FnOnce(&JujuContext, &mut InMemoryTools<'_>) -> Result<(), E>,
) -> Result<Outcome<E>, Inconsistency> {
    let mut model = model.clone();
    model.check()?;
    model.check_invocation(invocation)?;
    let env = invocation.env(&model.name, charm_dir);
    let context = JujuContext::from_map(&env, None).map_err(|e| {
        Inconsistency(format!(
            "the invocation gives no valid hook environment: {e}"
        ))
    })?;
    model.begin_hook(invocation)?;
    let mut tools = InMemoryTools::new(&mut model, invocation.clone());
    let result = charm(&context, &mut tools);
    let (pending, calls) = tools.finish();
    let refused = result
        .is_ok()
        .then(|| model.commit_refusal(&invocation.unit, &pending))
        .flatten();
    let next = if result.is_ok() && refused.is_none() {
        model.commit(&invocation.unit, pending)
    } else {
        model.abort(&invocation.unit);
        Vec::new()
    };
    Ok(Outcome {
        model,
        result,
        calls,
        next,
        refused,
    })
}
