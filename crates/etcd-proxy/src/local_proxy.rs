//! The requirer's whole job in one call: credentials on disk, client endpoints resolved, the
//! proxy unit rendered and installed, and the service restarted only when something changed.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::endpoints::{resolve_endpoints, EndpointSource, ResolveLimits, ResolvedEndpoints};
use crate::error::InterfaceError;
use crate::files::Ownership;
use crate::proxy::{
    install, render, render_with_template, restart_if_changed, EtcdVersion, ProxyMode, ProxySpec,
    RenderedProxy, ServiceManager,
};
use crate::requirer::RequirerReport;
use crate::save::{save_client_credentials, CredentialPaths};
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
    /// The etcd binary (default `/usr/bin/etcd`).
    pub etcd_bin: Option<PathBuf>,
    /// The v2-proxy data directory.
    pub data_dir: Option<PathBuf>,
    /// The local etcd's version, when known (v2-proxy is refused on 3.6+).
    pub etcd_version: Option<EtcdVersion>,
    /// Bounds of client-endpoint resolution.
    pub limits: ResolveLimits,
}

/// What [`ensure_proxy`] did.
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

/// Saves the credentials, resolves the client endpoints, renders and installs the proxy
/// unit, and — with `services` — reloads, enables and restarts it only when a credential
/// file or the unit changed.
///
/// # Errors
/// [`InterfaceError::NotAvailable`] when the relation holds no valid cluster string or
/// credentials (nothing is written then); a rendering refusal (e.g. grpc-proxy with a
/// certificate that has a CN); a file or service failure.
pub fn ensure_proxy(
    report: &RequirerReport,
    plan: &ProxyPlan,
    services: Option<&mut dyn ServiceManager>,
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
    let endpoints = if plan.mode == ProxyMode::V2Proxy {
        // The v2 proxy finds the members itself from the peer URLs.
        ResolvedEndpoints {
            urls: Vec::new(),
            source: EndpointSource::ClientUrls,
            warnings: Vec::new(),
        }
    } else {
        let tls = ClientTls::from_credentials(credentials)?;
        resolve_endpoints(cluster, report.client_urls(), &tls, plan.limits)
    };
    let mut spec = ProxySpec::new(
        plan.mode,
        endpoints.urls.clone(),
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
    // Render before writing anything, so a refused spec leaves the disk untouched.
    let rendered = match &plan.template {
        Some(template) => render_with_template(&spec, template)?,
        None => render(&spec)?,
    };
    let credentials_changed =
        save_client_credentials(credentials, &plan.credentials, Ownership::default())?;
    // `install` also removes v2-proxy's sticky member file when the environment changed.
    let unit_changed = install(&rendered, &plan.unit_file)?;
    let restarted = match services {
        Some(manager) => restart_if_changed(
            credentials_changed || unit_changed,
            &plan.unit_file,
            manager,
        )?,
        None => false,
    };
    Ok(ProxyOutcome {
        credentials_changed,
        unit_changed,
        restarted,
        endpoints,
        rendered,
    })
}
