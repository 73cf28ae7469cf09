//! Files: the credentials saved, the proxy unit rendered and installed.

use std::path::PathBuf;

use etcd_proxy::endpoints::{
    given_endpoints, guessed_endpoints, resolve_endpoints, EndpointSource, ResolveLimits,
};
use etcd_proxy::proxy::{self, EtcdVersion, ProxyMode, ProxySpec, RenderedProxy};
use etcd_proxy::tls::ClientTls;
use etcd_proxy::{save_client_credentials as save, CredentialPaths, Ownership};
use pyo3::prelude::*;

use crate::errors::{err, InvalidData, RenderError, WriteError};
use crate::values::{parse_cluster, parse_urls, seconds, url_strings, Credentials};

/// The three credential paths: `directory`'s `client-ca.pem`, `client-cert.pem`,
/// `client-key.pem` (the original README's layout), each overridable.
fn paths(
    directory: Option<PathBuf>,
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
) -> PyResult<CredentialPaths> {
    let base = directory.as_deref().map(CredentialPaths::in_dir);
    let pick = |given: Option<PathBuf>, from_dir: Option<PathBuf>, what: &str| {
        given.or(from_dir).ok_or_else(|| {
            err::<InvalidData>(format_args!("no path for {what}: give directory or {what}"))
        })
    };
    Ok(CredentialPaths {
        ca: pick(ca, base.as_ref().map(|b| b.ca.clone()), "ca")?,
        cert: pick(cert, base.as_ref().map(|b| b.cert.clone()), "cert")?,
        key: pick(key, base.as_ref().map(|b| b.key.clone()), "key")?,
    })
}

/// Writes the credentials, each file atomically and only if it differs (key `0600`,
/// certificates `0644`, never through a symlink). Returns whether any file changed.
///
/// Paths: `directory` gives `client-ca.pem`, `client-cert.pem`, `client-key.pem` in it;
/// `ca`, `cert`, `key` name the files one by one (and override the directory's).
#[pyfunction]
#[pyo3(signature = (credentials, directory = None, *, ca = None, cert = None, key = None, uid = None, gid = None))]
#[allow(clippy::too_many_arguments)]
fn save_client_credentials(
    py: Python<'_>,
    credentials: PyRef<'_, Credentials>,
    directory: Option<PathBuf>,
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    uid: Option<u32>,
    gid: Option<u32>,
) -> PyResult<bool> {
    let paths = paths(directory, ca, cert, key)?;
    let inner = credentials.inner.clone();
    py.allow_threads(|| save(&inner, &paths, Ownership { uid, gid }))
        .map_err(err::<WriteError>)
}

/// The client endpoints a proxy should forward to: the provider's `client_urls` when
/// given, else those a peer's `/members` reports (network, bounded by `timeout`), else a
/// guess. Returns `(urls, source, warnings)`, source one of `client_urls`, `peer_members`,
/// `guessed`.
#[pyfunction]
#[pyo3(signature = (cluster_string, credentials, client_urls = None, timeout = 10.0))]
fn client_endpoints(
    py: Python<'_>,
    cluster_string: &str,
    credentials: PyRef<'_, Credentials>,
    client_urls: Option<Vec<String>>,
    timeout: f64,
) -> PyResult<(Vec<String>, String, Vec<String>)> {
    let cluster = parse_cluster(cluster_string)?;
    let urls = client_urls.map(|u| parse_urls(&u)).transpose()?;
    let resolved = match given_endpoints(urls.as_deref()) {
        Some(given) => given,
        None => match ClientTls::from_credentials(&credentials.inner) {
            Ok(tls) => {
                let limits = ResolveLimits {
                    total: seconds(timeout),
                    ..ResolveLimits::default()
                };
                py.allow_threads(|| resolve_endpoints(&cluster, None, &tls, limits))
            }
            Err(e) => {
                guessed_endpoints(&cluster, &format!("cannot ask etcd for its members ({e})"))
            }
        },
    };
    let source = match resolved.source {
        EndpointSource::ClientUrls => "client_urls",
        EndpointSource::PeerMembers { .. } => "peer_members",
        EndpointSource::Guessed => "guessed",
        EndpointSource::Cached => "cached",
    };
    Ok((
        url_strings(&resolved.urls),
        source.to_owned(),
        resolved.warnings,
    ))
}

/// A rendered proxy service: the systemd unit, and for v2-proxy its environment file.
#[pyclass(frozen, module = "etcd_proxy_relation._core")]
pub struct RenderedUnit {
    inner: RenderedProxy,
}

#[pymethods]
impl RenderedUnit {
    /// `gateway`, `grpc-proxy` or `v2-proxy`.
    #[getter]
    fn mode(&self) -> &str {
        self.inner.mode.as_str()
    }

    /// The systemd unit file's text.
    #[getter]
    fn unit_file(&self) -> &str {
        &self.inner.unit_file
    }

    /// The environment file `(path, text)` (v2-proxy), else `None`.
    #[getter]
    fn env_file(&self) -> Option<(PathBuf, String)> {
        self.inner.env_file.clone()
    }

    /// The command the unit runs, as argv.
    #[getter]
    fn exec_start(&self) -> Vec<String> {
        self.inner.exec_start.clone()
    }

    /// The environment the command needs (v2-proxy), as `(name, value)` pairs.
    #[getter]
    fn environment(&self) -> Vec<(String, String)> {
        self.inner.environment.clone()
    }

    /// Writes the environment file and the unit at `unit_path`, atomically and only where
    /// they differ (removing v2-proxy's sticky member file when its environment changed).
    /// Returns whether anything changed.
    fn install(&self, py: Python<'_>, unit_path: PathBuf) -> PyResult<bool> {
        py.allow_threads(|| proxy::install(&self.inner, &unit_path))
            .map_err(err::<WriteError>)
    }

    fn __repr__(&self) -> String {
        format!(
            "RenderedUnit(mode={:?}, exec_start={:?})",
            self.mode(),
            self.inner.exec_start
        )
    }
}

fn etcd_version(text: &str) -> PyResult<EtcdVersion> {
    let mut parts = text.trim().split('.');
    let mut number = || parts.next().and_then(|p| p.parse::<u32>().ok());
    match (number(), number()) {
        (Some(major), Some(minor)) => Ok(EtcdVersion { major, minor }),
        _ => Err(err::<InvalidData>(format_args!(
            "etcd_version: expected MAJOR.MINOR, got {text:?}"
        ))),
    }
}

/// Renders the local etcd proxy's systemd unit (nothing is written; see
/// `RenderedUnit.install`).
///
/// `mode` is `gateway` (default), `grpc-proxy` or `v2-proxy`; `endpoints` the client URLs
/// to forward to (`client_endpoints`); the credential files are `directory`'s or `ca`,
/// `cert`, `key`. Raises `RenderError` with a one-line reason when the mode cannot work
/// (e.g. grpc-proxy with a certificate that has a CN, a plaintext listener off loopback).
#[pyfunction]
#[pyo3(signature = (cluster_string, credentials, endpoints, *, directory = None, ca = None, cert = None, key = None, mode = "gateway", listen = None, etcd_bin = None, data_dir = None, env_file = None, etcd_version = None, template = None))]
#[allow(clippy::too_many_arguments)]
fn render_proxy(
    cluster_string: &str,
    credentials: PyRef<'_, Credentials>,
    endpoints: Vec<String>,
    directory: Option<PathBuf>,
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    mode: &str,
    listen: Option<&str>,
    etcd_bin: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    env_file: Option<PathBuf>,
    etcd_version: Option<&str>,
    template: Option<&str>,
) -> PyResult<RenderedUnit> {
    let mode: ProxyMode = mode.parse().map_err(err::<RenderError>)?;
    let mut spec = ProxySpec::new(
        mode,
        parse_urls(&endpoints)?,
        parse_cluster(cluster_string)?,
        paths(directory, ca, cert, key)?,
        credentials.inner.has_common_name(),
    );
    if let Some(listen) = listen {
        spec.listen = listen
            .parse()
            .map_err(|e| err::<InvalidData>(format_args!("listen: {e}")))?;
    }
    if let Some(bin) = etcd_bin {
        spec.etcd_bin = bin;
    }
    if let Some(dir) = data_dir {
        spec.data_dir = dir;
    }
    spec.env_file = env_file;
    spec.etcd_version = etcd_version.map(self::etcd_version).transpose()?;
    let rendered = match template {
        Some(t) => proxy::render_with_template(&spec, t),
        None => proxy::render(&spec),
    }
    .map_err(err::<RenderError>)?;
    Ok(RenderedUnit { inner: rendered })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<RenderedUnit>()?;
    m.add_function(wrap_pyfunction!(save_client_credentials, m)?)?;
    m.add_function(wrap_pyfunction!(client_endpoints, m)?)?;
    m.add_function(wrap_pyfunction!(render_proxy, m)?)?;
    Ok(())
}
