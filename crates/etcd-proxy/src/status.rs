//! The workload status, set only when it changes.

use juju_hooks::{HookTools, ToolError, UnitState, WorkloadStatus};

use crate::state::{load_section, store_section};

/// One record per unit (not per endpoint or side), so that everything this crate sets
/// compares against the status Juju really shows.
const STATUS_KEY: &str = "etcd-proxy/status";

/// Sets `status` unless it is the status this crate set last on this unit; returns whether
/// it called `status-set`. A charm that also sets the status itself should leave it to this
/// crate entirely, or switch this crate's status off (`Requirer::without_status`).
///
/// # Errors
/// `status-set` failed; `state` then still holds the previous record.
pub fn set_status_if_changed(
    tools: &mut dyn HookTools,
    state: &mut UnitState,
    status: &WorkloadStatus,
) -> Result<bool, ToolError> {
    if status_is_current(state, status) {
        return Ok(false);
    }
    tools.status_set(status)?;
    store_section(state, STATUS_KEY, status);
    Ok(true)
}

/// Whether `status` is the status this crate set last on this unit.
pub fn status_is_current(state: &UnitState, status: &WorkloadStatus) -> bool {
    load_section::<WorkloadStatus>(state, STATUS_KEY).as_ref() == Some(status)
}
