//! The requirer's whole job in one call: credentials on disk, client endpoints resolved, the
//! proxy unit rendered and installed, and the service restarted only when what it runs with
//! changed — also when an earlier restart failed after the files were already written.

use std::net::SocketAddr;
use std::path::PathBuf;

use juju_hooks::{Endpoint, HookKind, JujuContext, UnitState};
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
}

impl LocalProxy {
    /// The proxy fed by relation `endpoint`.
    pub fn new(endpoint: Endpoint) -> Self {
        Self { endpoint }
    }

    /// Saves the credentials, finds the client endpoints, renders and installs the proxy
    /// unit, and — with `services` — reloads, enables and restarts it when what it runs with
    /// differs from what it was last started with.
    ///
    /// Client endpoints are resolved (maybe over the network, see [`crate::endpoints`])
    /// only when the relation data they come from changed, or in `config-changed` and
    /// `upgrade-charm` (the operator's way to ask again); other hooks reuse the ones kept
    /// in `state`. Changes `state` in memory; the caller saves it when the hook succeeds, so
    /// a restart that failed is tried again by the next hook.
    ///
    /// # Errors
    /// [`InterfaceError::NotAvailable`] when the relation holds no valid cluster string or
    /// credentials, and [`InterfaceError::Render`] when the mode cannot work (e.g.
    /// grpc-proxy with a certificate that has a CN) — nothing is written then; a file or
    /// service failure.
    pub fn ensure(
        &self,
        ctx: &JujuContext,
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
            let ask_again = matches!(ctx.hook, HookKind::ConfigChanged | HookKind::UpgradeCharm);
            client_endpoints(
                report,
                cluster,
                credentials,
                plan.limits,
                ask_again,
                &mut section,
            )?
        };
        let rendered = render_plan(plan, endpoints.urls.clone(), cluster, credentials)?;
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

/// The client URLs for the proxy: kept ones when the relation data they came from is
/// unchanged (and the operator did not ask again), else freshly resolved.
fn client_endpoints(
    report: &RequirerReport,
    cluster: &ClusterString,
    credentials: &ClientCredentials,
    limits: ResolveLimits,
    ask_again: bool,
    section: &mut ProxySection,
) -> Result<ResolvedEndpoints, InterfaceError> {
    let client_urls = report.client_urls();
    let from = match client_urls {
        Some(urls) => format!("{cluster} {}", crate::wire::format_client_urls(urls)),
        None => cluster.to_string(),
    };
    if let Some(kept) = section.resolved.as_ref().filter(|r| r.from == from) {
        if !ask_again {
            return Ok(ResolvedEndpoints {
                urls: kept.urls.clone(),
                source: EndpointSource::Cached,
                warnings: Vec::new(),
            });
        }
    }
    let resolved = match given_endpoints(client_urls) {
        Some(given) => given,
        None => match ClientTls::from_credentials(credentials) {
            Ok(tls) => resolve_endpoints(cluster, None, &tls, limits),
            // Our TLS stack is stricter than etcd's (it refuses X.509 v1 certificates, which
            // etcd and the pass-through gateway accept): guess rather than fail the hook.
            Err(e) => guessed_endpoints(cluster, &format!("cannot ask etcd for its members ({e})")),
        },
    };
    // A guess is not kept: the next hook asks the peers again.
    section.resolved = (resolved.source != EndpointSource::Guessed).then(|| Resolved {
        from,
        urls: resolved.urls.clone(),
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
