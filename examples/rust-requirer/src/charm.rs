//! One hook, start to end: install, relation, credentials, proxy unit, restart, status.
//!
//! `etcd_proxy::ensure_proxy` does the credential, endpoint, unit and restart steps in one
//! call. This charm composes the same building blocks itself to show them, and for two
//! things a long-lived unit needs: the client endpoints are resolved only when the relation
//! data changed (not in every hook), and a restart that failed is owed until it succeeds,
//! although the files it follows are already written.

use std::fmt;
use std::path::Path;

use etcd_proxy::endpoints::{resolve_endpoints, ResolveLimits};
use etcd_proxy::proxy::{self, InstallError, ProxyMode, ProxySpec, RenderedProxy, ServiceError};
use etcd_proxy::tls::{ClientTls, TlsError};
use etcd_proxy::{
    save_client_credentials, ClientCredentials, ClusterString, CredentialPaths, EtcdUrl, FileError,
    InterfaceError, Ownership, Requirer, RequirerReport,
};
use juju_hooks::{
    Endpoint, HookKind, HookTools, IdError, JujuContext, LogLevel, StateError, StatusKind,
    ToolError, UnitState, WorkloadStatus,
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

/// What the charm keeps between hooks, next to the library's flags and view.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct CharmSection {
    /// The package installed, once installed (marked when only logged by a dry run, so that
    /// turning `dry-run` off installs it for real).
    installed: Option<String>,
    /// The client endpoints, and the relation data they were resolved from.
    endpoints: Option<ResolvedFor>,
    /// What the proxy was last (re)started with.
    applied: Option<Applied>,
    /// The status this charm set last, so it is set again only when it changes.
    status: Option<WorkloadStatus>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct ResolvedFor {
    /// The cluster string and `client_urls` the endpoints were resolved from.
    source: String,
    urls: Vec<String>,
}

/// The inputs of the running proxy. Kept as text so that a restart that failed (hook failed,
/// state not saved) is retried by the next hook even though the files are already current.
/// Only public material: the key always changes with the certificate it matches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Applied {
    /// A dry run started nothing: turning it off must start the proxy for real.
    dry_run: bool,
    unit_file: String,
    env_file: Option<String>,
    cert_pem: String,
    ca_pem: String,
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

    let credentials_changed = match report.credentials() {
        Some(credentials) => save_credentials(tools, credentials, &config.credentials_dir)?,
        None => false,
    };

    let outcome = match (report.cluster(), report.credentials()) {
        (Some(cluster), Some(credentials)) => {
            let inputs = ProxyInputs {
                report: &report,
                cluster,
                credentials,
                credentials_changed,
            };
            run_proxy(ctx, tools, config, &inputs, &mut section, workload)?
        }
        _ => ProxyResult::default(),
    };
    // This charm acts on every change through `applied`; the flags are the library's way
    // of telling, cleared here once acted upon.
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
        credentials_changed,
        unit_changed: outcome.unit_changed,
        restarted: outcome.restarted,
    })
}

#[derive(Debug, Default)]
struct ProxyResult {
    running: Option<ProxySettings>,
    problem: Option<String>,
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

/// What the proxy is made from, out of this hook's relation data.
struct ProxyInputs<'a> {
    report: &'a RequirerReport,
    cluster: &'a ClusterString,
    credentials: &'a ClientCredentials,
    credentials_changed: bool,
}

/// Renders, installs and (re)starts the proxy; a configuration the proxy cannot run with
/// is a `blocked` result, not an error.
fn run_proxy(
    ctx: &JujuContext,
    tools: &mut dyn HookTools,
    config: &CharmConfig,
    inputs: &ProxyInputs<'_>,
    section: &mut CharmSection,
    workload: &mut dyn Workload,
) -> Result<ProxyResult, CharmError> {
    let settings = match config.proxy() {
        Ok(settings) => settings,
        Err(reason) => return Ok(ProxyResult::blocked(reason)),
    };
    // The v2 proxy finds the members itself, from the peer URLs.
    let urls = if settings.mode == ProxyMode::V2Proxy {
        Vec::new()
    } else {
        client_endpoints(ctx, tools, section, inputs.report, inputs.cluster)?
    };
    let spec = proxy_spec(config, &settings, urls, inputs.cluster, inputs.credentials);
    let rendered = match proxy::render(&spec) {
        Ok(rendered) => rendered,
        Err(e) => {
            let reason = format!("cannot run the {} proxy: {e}", settings.mode);
            return Ok(ProxyResult::blocked(reason));
        }
    };
    let (unit_changed, restarted) = apply(
        &rendered,
        config,
        inputs.credentials,
        inputs.credentials_changed,
        section,
        workload,
    )?;
    Ok(ProxyResult {
        running: Some(settings),
        problem: None,
        unit_changed,
        restarted,
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

fn save_credentials(
    tools: &mut dyn HookTools,
    credentials: &ClientCredentials,
    dir: &Path,
) -> Result<bool, CharmError> {
    // Missing directories are created 0755 whatever the umask, so a proxy can read the files.
    let changed = save_client_credentials(
        credentials,
        &CredentialPaths::in_dir(dir),
        Ownership::default(),
    )?;
    if changed {
        tools.juju_log(
            LogLevel::Info,
            &format!("saved the client credentials to {}", dir.display()),
        )?;
    }
    Ok(changed)
}

/// The cluster's client URLs: resolved (see `etcd_proxy::endpoints`) when the relation data
/// they come from changed, or on `config-changed` / `upgrade-charm` (the operator's way to
/// ask again); otherwise the ones found before, so that most hooks cost no request.
fn client_endpoints(
    ctx: &JujuContext,
    tools: &mut dyn HookTools,
    section: &mut CharmSection,
    report: &RequirerReport,
    cluster: &ClusterString,
) -> Result<Vec<EtcdUrl>, CharmError> {
    let client_urls = report.client_urls();
    let source = match client_urls {
        Some(urls) => format!(
            "{cluster} client_urls={}",
            urls.iter()
                .map(EtcdUrl::as_str)
                .collect::<Vec<_>>()
                .join(",")
        ),
        None => cluster.to_string(),
    };
    let ask_again = matches!(ctx.hook, HookKind::ConfigChanged | HookKind::UpgradeCharm);
    if let Some(cached) = section.endpoints.as_ref().filter(|c| c.source == source) {
        let urls: Option<Vec<EtcdUrl>> = cached.urls.iter().map(|u| u.parse().ok()).collect();
        if let (false, Some(urls)) = (ask_again, urls) {
            return Ok(urls);
        }
    }
    let credentials = report
        .credentials()
        .ok_or_else(|| InterfaceError::NotAvailable("no client credentials".into()))?;
    let tls = ClientTls::from_credentials(credentials)?;
    let resolved = resolve_endpoints(cluster, client_urls, &tls, ResolveLimits::default());
    for warning in &resolved.warnings {
        tools.juju_log(LogLevel::Warning, warning)?;
    }
    section.endpoints = Some(ResolvedFor {
        source,
        urls: resolved.urls.iter().map(ToString::to_string).collect(),
    });
    Ok(resolved.urls)
}

fn proxy_spec(
    config: &CharmConfig,
    settings: &ProxySettings,
    endpoints: Vec<EtcdUrl>,
    cluster: &ClusterString,
    credentials: &ClientCredentials,
) -> ProxySpec {
    let mut spec = ProxySpec::new(
        settings.mode,
        endpoints,
        cluster.clone(),
        CredentialPaths::in_dir(&config.credentials_dir),
        credentials.has_common_name(),
    );
    spec.listen = settings.listen;
    spec.data_dir = config.data_dir.clone();
    spec.env_file = (settings.mode == ProxyMode::V2Proxy).then(|| config.environment_file.clone());
    spec
}

/// Installs the rendered files and restarts the proxy when they, the credentials, or what
/// the proxy was last started with differ. Returns (files changed, restarted).
fn apply(
    rendered: &RenderedProxy,
    config: &CharmConfig,
    credentials: &ClientCredentials,
    credentials_changed: bool,
    section: &mut CharmSection,
    workload: &mut dyn Workload,
) -> Result<(bool, bool), CharmError> {
    let unit_changed = proxy::install(rendered, &config.unit_file)?;
    let applied = Applied {
        dry_run: config.dry_run,
        unit_file: rendered.unit_file.clone(),
        env_file: rendered.env_file.as_ref().map(|(_, text)| text.clone()),
        cert_pem: credentials.cert_pem().to_owned(),
        ca_pem: credentials.ca_pem().to_owned(),
    };
    let must_restart =
        unit_changed || credentials_changed || section.applied.as_ref() != Some(&applied);
    let restarted =
        proxy::restart_if_changed(must_restart, &config.unit_file, workload.services())?;
    section.applied = Some(applied);
    Ok((unit_changed, restarted))
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
