//! The requirer's whole job in one call: credentials on disk, client endpoints resolved, the
//! proxy unit rendered and installed, and the service restarted only when what it runs with
//! changed — also when an earlier restart failed after the files were already written.

use std::net::SocketAddr;
use std::path::PathBuf;

use juju_hooks::{Endpoint, HookKind, HookTools, JujuContext, LogLevel, UnitState, WorkloadStatus};
use serde::{Deserialize, Serialize};

use crate::cluster::{ClusterString, EtcdUrl};
use crate::credentials::ClientCredentials;
use crate::endpoints::{
    given_endpoints, guessed_endpoints, resolve_endpoints, EndpointSource, ResolveLimits,
    ResolvedEndpoints,
};
use crate::error::InterfaceError;
use crate::files::Ownership;
use crate::proxy::{
    install, render, render_with_template, restart_if_changed, EtcdVersion, ProxyMode, ProxySpec,
    RenderedProxy, ServiceManager,
};
use crate::requirer::RequirerReport;
use crate::save::{save_client_credentials, CredentialPaths};
use crate::state::{load_section, section_key, store_section};
use crate::status::set_status_if_changed;
use crate::tls::ClientTls;

/// How the local proxy should run.
#[derive(Clone, Debug)]
pub struct ProxyPlan {
    /// gateway (default), grpc-proxy or v2-proxy.
    pub mode: ProxyMode,
    /// Where local clients connect.
    pub listen: SocketAddr,
    /// The systemd unit to write, e.g. `/etc/systemd/system/etcd-proxy.service`.
    pub unit_file: PathBuf,
    /// The environment file (v2-proxy).
    pub env_file: Option<PathBuf>,
    /// A user Jinja2 template for the unit, instead of the built-in one.
    pub template: Option<String>,
    /// Where the credentials are saved (and what the unit points at).
    pub credentials: CredentialPaths,
    /// Owner and group of the saved credentials (default: the writer's).
    pub owner: Ownership,
    /// The etcd binary (default `/usr/bin/etcd`).
    pub etcd_bin: Option<PathBuf>,
    /// The v2-proxy data directory.
    pub data_dir: Option<PathBuf>,
    /// The local etcd's version, when known (v2-proxy is refused on 3.6+).
    pub etcd_version: Option<EtcdVersion>,
    /// Bounds of client-endpoint resolution.
    pub limits: ResolveLimits,
}

impl ProxyPlan {
    /// A gateway on [`crate::proxy::DEFAULT_LISTEN`] with the built-in unit.
    pub fn new(unit_file: PathBuf, credentials: CredentialPaths) -> Self {
        Self {
            mode: ProxyMode::Gateway,
            listen: crate::proxy::DEFAULT_LISTEN,
            unit_file,
            env_file: None,
            template: None,
            credentials,
            owner: Ownership::default(),
            etcd_bin: None,
            data_dir: None,
            etcd_version: None,
            limits: ResolveLimits::default(),
        }
    }
}

/// What [`LocalProxy::ensure`] did.
#[derive(Clone, Debug)]
pub struct ProxyOutcome {
    /// Whether a credential file changed.
    pub credentials_changed: bool,
    /// Whether the unit or environment file changed.
    pub unit_changed: bool,
    /// Whether the service was restarted.
    pub restarted: bool,
    /// The client endpoints the proxy forwards to, where they came from, and warnings for
    /// the operator (e.g. guessed ports).
    pub endpoints: ResolvedEndpoints,
    /// What was rendered.
    pub rendered: RenderedProxy,
}

/// The client endpoints found earlier, and the relation data they were found from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Resolved {
    from: String,
    urls: Vec<EtcdUrl>,
    /// A guess: no peer answered. Kept like an answer (asking again costs each hook the
    /// timeouts, and a restart whenever the answer flips), but asked again more often.
    #[serde(default)]
    guessed: bool,
}

/// What the running proxy was last (re)started with: only public material (the key always
/// changes together with the certificate it matches).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Applied {
    manager: String,
    unit_file: String,
    env_file: Option<String>,
    cert_pem: String,
    ca_pem: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct ProxySection {
    resolved: Option<Resolved>,
    applied: Option<Applied>,
}

/// The local proxy of one requirer endpoint, with what it keeps in the unit state.
#[derive(Clone, Debug)]
pub struct LocalProxy {
    endpoint: Endpoint,
    set_status: bool,
}

impl LocalProxy {
    /// The proxy fed by relation `endpoint`. It sets the workload status: the relation's
    /// ([`RequirerReport::status`]), saying so when the client endpoints are a guess. Use it
    /// with [`crate::Requirer::without_status`], so that a guess does not make the status
    /// flip between the two messages in every hook (set the report's status yourself when
    /// the data is not ready for `ensure`).
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            set_status: true,
        }
    }

    /// Leaves the workload status alone (for a charm that sets its own, as with
    /// [`crate::Requirer::without_status`]); the outcome still tells a guess.
    pub fn without_status(mut self) -> Self {
        self.set_status = false;
        self
    }

    /// The workload status for `report`, as [`LocalProxy::ensure`] sets it: the relation's,
    /// saying so when the client endpoints kept in `state` for the current relation data
    /// are a guess. For hooks that sync without ensuring the proxy, so that the status does
    /// not lose (and the next `ensure` put back) the guess.
    pub fn status(&self, report: &RequirerReport, state: &UnitState) -> WorkloadStatus {
        let section: ProxySection =
            load_section(state, &section_key(&self.endpoint, "proxy")).unwrap_or_default();
        let guessed = match (report.cluster(), &section.resolved) {
            (Some(cluster), Some(kept)) => {
                kept.guessed && kept.from == resolved_from(report, cluster)
            }
            _ => false,
        };
        let source = if guessed {
            EndpointSource::Guessed
        } else {
            EndpointSource::Cached
        };
        let endpoints = ResolvedEndpoints {
            urls: Vec::new(),
            source,
            warnings: Vec::new(),
        };
        proxy_status(report, &endpoints)
    }

    /// Saves the credentials, finds the client endpoints, renders and installs the proxy
    /// unit, and — with `services` — reloads, enables and restarts it when what it runs with
    /// differs from what it was last started with.
    ///
    /// Client endpoints are resolved (maybe over the network, see [`crate::endpoints`])
    /// only when the relation data they come from changed, or in `config-changed` and
    /// `upgrade-charm` (the operator's way to ask again), and, while they are a guess, in
    /// `update-status`; other hooks reuse the ones kept in `state`. The resolution's
    /// warnings are logged with `juju-log`; the workload status is set as [`LocalProxy::new`]
    /// says (unless [`LocalProxy::without_status`]). Changes `state` in memory;
    /// the caller saves it when the hook succeeds, so a restart that failed is tried again
    /// by the next hook.
    ///
    /// # Errors
    /// [`InterfaceError::NotAvailable`] when the relation holds no valid cluster string or
    /// credentials, and [`InterfaceError::Render`] when the mode cannot work (e.g.
    /// grpc-proxy with a certificate that has a CN) — nothing is written then; a file or
    /// service or hook tool failure.
    pub fn ensure(
        &self,
        ctx: &JujuContext,
        tools: &mut dyn HookTools,
        report: &RequirerReport,
        plan: &ProxyPlan,
        services: Option<&mut dyn ServiceManager>,
        state: &mut UnitState,
    ) -> Result<ProxyOutcome, InterfaceError> {
        let not_available = |what: &str| {
            let why = report
                .problem()
                .unwrap_or_else(|| report.status.message.clone());
            InterfaceError::NotAvailable(format!("no valid {what}: {why}"))
        };
        let cluster = report
            .cluster()
            .ok_or_else(|| not_available("cluster string"))?;
        let credentials = report
            .credentials()
            .ok_or_else(|| not_available("client credentials"))?;
        let key = section_key(&self.endpoint, "proxy");
        let mut section: ProxySection = load_section(state, &key).unwrap_or_default();
        let endpoints = if plan.mode == ProxyMode::V2Proxy {
            // The v2 proxy finds the members itself from the peer URLs.
            ResolvedEndpoints {
                urls: Vec::new(),
                source: EndpointSource::Cached,
                warnings: Vec::new(),
            }
        } else {
            client_endpoints(
                report,
                cluster,
                credentials,
                plan.limits,
                &ctx.hook,
                &mut section,
            )?
        };
        let rendered = render_plan(plan, endpoints.urls.clone(), cluster, credentials)?;
        for warning in &endpoints.warnings {
            tools.juju_log(LogLevel::Warning, warning)?;
        }
        if self.set_status {
            set_status_if_changed(tools, state, &proxy_status(report, &endpoints))?;
        }
        // Rendered before anything is written, so a refused plan leaves the disk untouched.
        let credentials_changed =
            save_client_credentials(credentials, &plan.credentials, plan.owner)?;
        // `install` also removes v2-proxy's sticky member file when the environment changed.
        let unit_changed = install(&rendered, &plan.unit_file)?;
        let restarted = match services {
            Some(manager) => {
                // The gateway passes TLS through (L4): new credentials are not its business,
                // so a rotation restarts only the proxies that present them.
                let uses_credentials = plan.mode != ProxyMode::Gateway;
                let pem = |text: &str| {
                    if uses_credentials {
                        text.to_owned()
                    } else {
                        String::new()
                    }
                };
                let applied = Applied {
                    manager: manager.name().to_owned(),
                    unit_file: rendered.unit_file.clone(),
                    env_file: rendered.env_file.as_ref().map(|(_, text)| text.clone()),
                    cert_pem: pem(credentials.cert_pem()),
                    ca_pem: pem(credentials.ca_pem()),
                };
                let stale = section.applied.as_ref() != Some(&applied);
                let changed = (credentials_changed && uses_credentials) || unit_changed || stale;
                let restarted = restart_if_changed(changed, &plan.unit_file, manager)?;
                section.applied = Some(applied);
                restarted
            }
            None => false,
        };
        store_section(state, &key, &section);
        Ok(ProxyOutcome {
            credentials_changed,
            unit_changed,
            restarted,
            endpoints,
            rendered,
        })
    }
}

/// The relation data client endpoints are resolved from: kept ones are reused while it is
/// the same.
fn resolved_from(report: &RequirerReport, cluster: &ClusterString) -> String {
    match report.client_urls() {
        Some(urls) => format!("{cluster} {}", crate::wire::format_client_urls(urls)),
        None => cluster.to_string(),
    }
}

/// The relation's status, saying so when the client endpoints are a guess.
fn proxy_status(report: &RequirerReport, endpoints: &ResolvedEndpoints) -> WorkloadStatus {
    if endpoints.source != EndpointSource::Guessed {
        return report.status.clone();
    }
    WorkloadStatus::new(
        report.status.kind,
        format!(
            "{}; client endpoints guessed (port {} on the peer hosts)",
            report.status.message,
            crate::endpoints::DEFAULT_CLIENT_PORT
        ),
    )
}

/// The client URLs for the proxy: kept ones when the relation data they came from is
/// unchanged (and the operator did not ask again), else freshly resolved.
fn client_endpoints(
    report: &RequirerReport,
    cluster: &ClusterString,
    credentials: &ClientCredentials,
    limits: ResolveLimits,
    hook: &HookKind,
    section: &mut ProxySection,
) -> Result<ResolvedEndpoints, InterfaceError> {
    let client_urls = report.client_urls();
    let from = resolved_from(report, cluster);
    if let Some(kept) = section.resolved.as_ref().filter(|r| r.from == from) {
        let ask_again = match hook {
            HookKind::ConfigChanged | HookKind::UpgradeCharm => true,
            HookKind::UpdateStatus => kept.guessed,
            _ => false,
        };
        if !ask_again {
            return Ok(ResolvedEndpoints {
                urls: kept.urls.clone(),
                source: if kept.guessed {
                    EndpointSource::Guessed
                } else {
                    EndpointSource::Cached
                },
                warnings: Vec::new(),
            });
        }
    }
    let resolved = match given_endpoints(client_urls) {
        Some(given) => given,
        None => match ClientTls::from_credentials(credentials) {
            Ok(tls) => resolve_endpoints(cluster, None, &tls, limits),
            // Validated credentials make a client (X.509 v1 included, see `tls`); should
            // rustls still refuse them, guess rather than fail the hook, and say why.
            Err(e) => guessed_endpoints(cluster, &format!("cannot ask etcd for its members ({e})")),
        },
    };
    section.resolved = Some(Resolved {
        from,
        urls: resolved.urls.clone(),
        guessed: resolved.source == EndpointSource::Guessed,
    });
    Ok(resolved)
}

fn render_plan(
    plan: &ProxyPlan,
    endpoints: Vec<EtcdUrl>,
    cluster: &ClusterString,
    credentials: &ClientCredentials,
) -> Result<RenderedProxy, InterfaceError> {
    let mut spec = ProxySpec::new(
        plan.mode,
        endpoints,
        cluster.clone(),
        plan.credentials.clone(),
        credentials.has_common_name(),
    );
    spec.listen = plan.listen;
    spec.env_file = plan.env_file.clone();
    spec.etcd_version = plan.etcd_version;
    if let Some(bin) = &plan.etcd_bin {
        spec.etcd_bin = bin.clone();
    }
    if let Some(dir) = &plan.data_dir {
        spec.data_dir = dir.clone();
    }
    Ok(match &plan.template {
        Some(template) => render_with_template(&spec, template)?,
        None => render(&spec)?,
    })
}
