//! What Juju's unit agent does around hooks, beyond running them: the order of a new unit's
//! first hooks, coalescing repeated changes in the queue, and the statuses it sets itself.
//!
//! Sources: juju/juju 3.6 `worker/uniter/operation/runhook.go` (`beforeHook`, `afterHook`),
//! `worker/uniter/relation/resolver.go` and `worker/uniter/resolver.go` (relation hooks run
//! only once the charm is installed; `-created` before the leader and config hooks), the
//! version-based `remotestate` watcher (a change seen while one is pending fires one hook),
//! `core/status` (`MessageInstallingCharm`, `MessageInitializingAgent`).

use std::collections::VecDeque;

use juju_hooks::testing::{HookInvocation, Model};
use juju_hooks::{HookKind, StatusKind, UnitName, WorkloadStatus};

/// The workload status of a unit whose agent has not run a hook yet.
pub(crate) fn initial_status() -> WorkloadStatus {
    WorkloadStatus::new(StatusKind::Waiting, "agent initialising")
}

fn installing() -> WorkloadStatus {
    WorkloadStatus::new(StatusKind::Maintenance, "installing charm software")
}

/// Gives freshly added units the status Juju shows before their first hook.
pub(crate) fn mark_new_units(model: &mut Model, units: &[UnitName]) {
    for unit in units {
        if let Some(record) = model
            .applications
            .get_mut(unit.app())
            .and_then(|a| a.units.get_mut(unit))
        {
            record.status = initial_status();
        }
    }
}

/// Before a hook runs: `install` shows `maintenance` "installing charm software".
pub(crate) fn before_hook(model: &mut Model, invocation: &HookInvocation) {
    if invocation.action.is_none() && invocation.hook == "install" {
        let _ = model.status_set(&invocation.unit, &installing());
    }
}

/// After a hook succeeded: a charm that set no status during `install` shows `unknown`.
pub(crate) fn after_hook(model: &mut Model, invocation: &HookInvocation, succeeded: bool) {
    if succeeded && invocation.action.is_none() && invocation.hook == "install" {
        let unit = &invocation.unit;
        if model.status_get(unit) == installing() {
            if let Some(record) = model
                .applications
                .get_mut(unit.app())
                .and_then(|a| a.units.get_mut(unit))
            {
                record.status = WorkloadStatus::new(StatusKind::Unknown, "");
            }
        }
    }
}

/// The first hooks of new units in Juju's order: per unit `install`, the `-created` hooks of
/// the relations it is in, `leader-elected` (or `leader-settings-changed`), `config-changed`,
/// `start`; then the other relation hooks (`-joined`, `-changed`, on both sides) as given.
pub(crate) fn setup_sequence(
    model: &Model,
    units: &[UnitName],
    relation_hooks: Vec<HookInvocation>,
) -> Vec<HookInvocation> {
    let (created, rest): (Vec<HookInvocation>, Vec<HookInvocation>) =
        relation_hooks.into_iter().partition(|h| {
            units.contains(&h.unit)
                && matches!(
                    HookKind::from_hook_name(&h.hook),
                    Ok(HookKind::RelationCreated(_))
                )
        });
    let mut hooks = Vec::new();
    for unit in units {
        let leadership = if model.is_leader(unit) {
            "leader-elected"
        } else {
            "leader-settings-changed"
        };
        hooks.push(HookInvocation::new(unit.clone(), "install"));
        hooks.extend(created.iter().filter(|h| h.unit == *unit).cloned());
        for hook in [leadership, "config-changed", "start"] {
            hooks.push(HookInvocation::new(unit.clone(), hook));
        }
    }
    hooks.extend(rest);
    hooks
}

/// Whether a queued hook of this kind is redundant when an identical one is still queued:
/// it reports "something changed", and the one already waiting will read the latest state.
fn coalesces(hook: &HookInvocation) -> bool {
    hook.action.is_none()
        && (hook.hook.ends_with("-relation-changed")
            || matches!(
                hook.hook.as_str(),
                "config-changed" | "leader-settings-changed" | "secret-changed" | "update-status"
            ))
}

/// Appends `hooks` to `queue`, dropping each that an identical queued hook already covers;
/// returns the hooks actually queued.
pub(crate) fn enqueue_coalesced(
    queue: &mut VecDeque<HookInvocation>,
    hooks: impl IntoIterator<Item = HookInvocation>,
) -> Vec<HookInvocation> {
    let mut added = Vec::new();
    for hook in hooks {
        if coalesces(&hook) && queue.contains(&hook) {
            continue;
        }
        queue.push_back(hook.clone());
        added.push(hook);
    }
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(unit: &str, remote: &str) -> HookInvocation {
        HookInvocation::changed(
            unit.parse().unwrap(),
            "db:0".parse().unwrap(),
            remote.parse().unwrap(),
        )
    }

    #[test]
    fn repeated_changes_coalesce_while_one_is_queued() {
        let mut queue = VecDeque::new();
        let added = enqueue_coalesced(&mut queue, [changed("a/0", "b/0"), changed("a/0", "b/0")]);
        assert_eq!(added.len(), 1);
        let added = enqueue_coalesced(&mut queue, [changed("a/0", "b/0"), changed("a/0", "b/1")]);
        assert_eq!(added, [changed("a/0", "b/1")]);
        // Once the queued one ran, a new change queues again.
        queue.pop_front();
        assert_eq!(
            enqueue_coalesced(&mut queue, [changed("a/0", "b/0")]).len(),
            1
        );
        // Other hooks never coalesce.
        let install = HookInvocation::new("a/0".parse().unwrap(), "install");
        let added = enqueue_coalesced(&mut queue, [install.clone(), install]);
        assert_eq!(added.len(), 2);
    }
}
