//! One hook, start to end: install, relation, credentials, proxy unit, restart, status.
//!
//! `etcd_proxy::LocalProxy::ensure` does the credential, endpoint, unit and restart steps in
//! one call; it resolves the client endpoints only when the relation data changed, and owes
//! a restart that failed until it succeeds. This charm adds the package install and its
//! own status.

use std::fmt;

use etcd_proxy::proxy::{InstallError, ProxyMode, ServiceError};
use etcd_proxy::tls::TlsError;
use etcd_proxy::{
    CredentialPaths, FileError, InterfaceError, LocalProxy, ProxyPlan, Requirer, RequirerReport,
};
use juju_hooks::{
    Endpoint, HookTools, IdError, JujuContext, LogLevel, StateError, StatusKind, ToolError,
    UnitState, WorkloadStatus,
};
use serde::{Deserialize, Serialize};

use crate::config::{CharmConfig, ProxySettings};
use crate::workload::{Workload, WorkloadError};

/// The relation endpoint of `metadata.yaml`.
pub const ENDPOINT: &str = "proxy";

/// The charm's name for its state: the state file is `<charm dir>/.rust-proxy-requirer.state.json`
/// and the charm's own data sits under this key next to the library's.
pub const STATE_NAMESPACE: &str = "rust-proxy-requirer";

/// Why a hook failed. Juju then shows the unit in `error` and retries the hook; nothing of
/// the hook's state is saved, so the retry redoes all of it.
#[derive(Debug, thiserror::Error)]
pub enum CharmError {
    /// Reading the relation failed.
    #[error(transparent)]
    Interface(#[from] InterfaceError),
    /// Another hook tool failed.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// The unit state could not be read or written.
    #[error(transparent)]
    State(#[from] StateError),
    /// Installing the etcd package failed.
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    /// Saving the credentials failed.
    #[error(transparent)]
    Credentials(#[from] FileError),
    /// Writing the unit file failed.
    #[error(transparent)]
    Unit(#[from] InstallError),
    /// The service manager failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The relation's credentials do not make a TLS client (to ask etcd for its members).
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// An id that is not valid (the endpoint name is a constant, so this means a bug).
    #[error(transparent)]
    Id(#[from] IdError),
}

/// What the charm keeps between hooks, next to the library's flags, view and proxy record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct CharmSection {
    /// The package installed, once installed (marked when only logged by a dry run, so that
    /// turning `dry-run` off installs it for real).
    installed: Option<String>,
    /// The status this charm set last, so it is set again only when it changes.
    status: Option<WorkloadStatus>,
}

/// What one hook did, for the hook's output and for tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookSummary {
    /// The workload status after the hook.
    pub status: WorkloadStatus,
    /// The endpoint's flags after the hook, sorted.
    pub flags: Vec<String>,
    /// Whether a credential file changed.
    pub credentials_changed: bool,
    /// Whether the unit (or environment) file changed.
    pub unit_changed: bool,
    /// Whether the proxy was restarted.
    pub restarted: bool,
}

impl fmt::Display for HookSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}; flags: {}; credentials {}, unit {}, {}",
            self.status.kind,
            self.status.message,
            self.flags.join(" "),
            changed_word(self.credentials_changed),
            changed_word(self.unit_changed),
            if self.restarted {
                "restarted"
            } else {
                "not restarted"
            }
        )
    }
}

fn changed_word(changed: bool) -> &'static str {
    if changed {
        "changed"
    } else {
        "unchanged"
    }
}

/// Runs one hook: installs the etcd package once, syncs the relation, saves the client
/// credentials, renders and installs the proxy unit, restarts the proxy only when its
/// inputs changed, and sets the status. Changes `state` in memory; the caller saves it only
/// when this returns `Ok` (see [`juju_hooks::transact`]).
///
/// Operator mistakes (a bad option, a certificate the chosen mode cannot use) are a
/// `blocked` status, not an error: the hook succeeds and waits for a fix.
///
/// # Errors
/// A hook tool, the package manager, a file write or the service manager failed.
pub fn handle(
    ctx: &JujuContext,
    tools: &mut dyn HookTools,
    state: &mut UnitState,
    config: &CharmConfig,
    workload: &mut dyn Workload,
) -> Result<HookSummary, CharmError> {
    let mut section: CharmSection = state
        .data
        .get(STATE_NAMESPACE)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();

    install_package(tools, &mut section, config, workload)?;

    let endpoint: Endpoint = ENDPOINT.parse()?;
    let requirer = Requirer::new(endpoint).without_status();
    let report = requirer.sync(ctx, tools, state)?;

    let outcome = if report.cluster().is_some() && report.credentials().is_some() {
        run_proxy(ctx, tools, config, &report, state, workload)?
    } else {
        ProxyResult::default()
    };
    // LocalProxy acts on every change itself; the flags are the library's way of telling,
    // cleared here once acted upon.
    state.flags.remove(&requirer.flag("cluster.changed"));
    state.flags.remove(&requirer.flag("tls.changed"));

    let status = status_for(&report, &outcome);
    set_status(tools, &mut section, status.clone())?;
    store_section(state, &section);

    let prefix = format!("{ENDPOINT}.");
    Ok(HookSummary {
        status,
        flags: state
            .flags
            .iter()
            .filter(|f| f.starts_with(&prefix))
            .cloned()
            .collect(),
        credentials_changed: outcome.credentials_changed,
        unit_changed: outcome.unit_changed,
        restarted: outcome.restarted,
    })
}

#[derive(Debug, Default)]
struct ProxyResult {
    running: Option<ProxySettings>,
    problem: Option<String>,
    credentials_changed: bool,
    unit_changed: bool,
    restarted: bool,
}

impl ProxyResult {
    fn blocked(reason: String) -> Self {
        Self {
            problem: Some(reason),
            ..Self::default()
        }
    }
}

/// Saves the credentials, renders, installs and (re)starts the proxy; a configuration the
/// proxy cannot run with is a `blocked` result, not an error.
fn run_proxy(
    ctx: &JujuContext,
    tools: &mut dyn HookTools,
    config: &CharmConfig,
    report: &RequirerReport,
    state: &mut UnitState,
    workload: &mut dyn Workload,
) -> Result<ProxyResult, CharmError> {
    let settings = match config.proxy() {
        Ok(settings) => settings,
        Err(reason) => return Ok(ProxyResult::blocked(reason)),
    };
    let mut plan = ProxyPlan::new(
        config.unit_file.clone(),
        CredentialPaths::in_dir(&config.credentials_dir),
    );
    plan.mode = settings.mode;
    plan.listen = settings.listen;
    plan.data_dir = Some(config.data_dir.clone());
    plan.env_file = (settings.mode == ProxyMode::V2Proxy).then(|| config.environment_file.clone());
    // The charm sets its own status; the library logs the resolution's warnings.
    let proxy = LocalProxy::new(ENDPOINT.parse()?).without_status();
    let outcome = match proxy.ensure(ctx, tools, report, &plan, Some(workload.services()), state) {
        Ok(outcome) => outcome,
        Err(InterfaceError::Render(e)) => {
            let reason = format!("cannot run the {} proxy: {e}", settings.mode);
            return Ok(ProxyResult::blocked(reason));
        }
        Err(e) => return Err(e.into()),
    };
    if outcome.credentials_changed {
        let dir = config.credentials_dir.display();
        tools.juju_log(
            LogLevel::Info,
            &format!("saved the client credentials to {dir}"),
        )?;
    }
    Ok(ProxyResult {
        running: Some(settings),
        problem: None,
        credentials_changed: outcome.credentials_changed,
        unit_changed: outcome.unit_changed,
        restarted: outcome.restarted,
    })
}

fn store_section(state: &mut UnitState, section: &CharmSection) {
    // A plain struct of strings always serializes.
    if let Ok(value) = serde_json::to_value(section) {
        state.data.insert(STATE_NAMESPACE.to_owned(), value);
    }
}

/// Installs the configured package unless it is installed already. Retried by every hook
/// until it succeeds, so a failed `install` hook heals on its own.
fn install_package(
    tools: &mut dyn HookTools,
    section: &mut CharmSection,
    config: &CharmConfig,
    workload: &mut dyn Workload,
) -> Result<(), CharmError> {
    let package = config.etcd_package.as_str();
    let marker = if config.dry_run {
        format!("{package} (dry run)")
    } else {
        package.to_owned()
    };
    if package.is_empty() || section.installed.as_deref() == Some(marker.as_str()) {
        return Ok(());
    }
    let installing = WorkloadStatus::new(StatusKind::Maintenance, format!("installing {package}"));
    set_status(tools, section, installing)?;
    workload.install_package(package)?;
    tools.juju_log(LogLevel::Info, &format!("installed {package}"))?;
    section.installed = Some(marker);
    Ok(())
}

/// The status: the charm's own problem first, else the library's description of the
/// relation, completed with the proxy when it runs.
fn status_for(report: &RequirerReport, outcome: &ProxyResult) -> WorkloadStatus {
    if let Some(problem) = &outcome.problem {
        return WorkloadStatus::new(StatusKind::Blocked, problem.clone());
    }
    if let Some(running) = &outcome.running {
        return WorkloadStatus::new(
            StatusKind::Active,
            format!(
                "{}; {} on {}",
                report.status.message, running.mode, running.listen
            ),
        );
    }
    if report.status.kind == StatusKind::Active {
        // A plain-http cluster: valid for the library, but this charm's proxies need TLS.
        return WorkloadStatus::new(
            StatusKind::Blocked,
            format!(
                "{}; this charm needs TLS client credentials to run the proxy",
                report.status.message
            ),
        );
    }
    report.status.clone()
}

fn set_status(
    tools: &mut dyn HookTools,
    section: &mut CharmSection,
    status: WorkloadStatus,
) -> Result<(), CharmError> {
    if section.status.as_ref() == Some(&status) {
        return Ok(());
    }
    if status.kind == StatusKind::Blocked {
        tools.juju_log(LogLevel::Warning, &status.message)?;
    }
    tools.status_set(&status)?;
    section.status = Some(status);
    Ok(())
}
