//! Validated values: cluster strings, client URLs and client credentials.

use std::time::{Duration, UNIX_EPOCH};

use etcd_proxy::wire::{format_client_urls, parse_client_urls};
use etcd_proxy::{ClientCredentials, ClusterString, EtcdUrl};
use pyo3::prelude::*;

use crate::errors::{err, InvalidClientUrls, InvalidClusterString, InvalidCredentials};

/// Parses a cluster string the way the CLI does.
pub fn parse_cluster(text: &str) -> PyResult<ClusterString> {
    text.parse::<ClusterString>()
        .map_err(|e| err::<InvalidClusterString>(format_args!("cluster: {e}")))
}

/// Parses client URLs the way the relation reader does.
pub fn parse_urls(urls: &[String]) -> PyResult<Vec<EtcdUrl>> {
    parse_client_urls(&urls.join(","))
        .map_err(|e| err::<InvalidClientUrls>(format_args!("client_urls: {e}")))
}

pub fn url_strings(urls: &[EtcdUrl]) -> Vec<String> {
    urls.iter().map(ToString::to_string).collect()
}

/// The canonical form of a cluster string (entries sorted by name and URL).
///
/// Raises `InvalidClusterString` with the one-line reason (`cluster: entry 2 'x': ...`).
#[pyfunction]
fn canonical_cluster_string(text: &str) -> PyResult<String> {
    Ok(parse_cluster(text)?.to_string())
}

/// The `(member name, peer URL)` entries of a cluster string, in canonical order.
#[pyfunction]
fn cluster_members(text: &str) -> PyResult<Vec<(String, String)>> {
    Ok(parse_cluster(text)?
        .entries()
        .iter()
        .map(|e| (e.name().as_str().to_owned(), e.url().to_string()))
        .collect())
}

/// Client URLs from their wire form (comma-joined), sorted and without duplicates.
#[pyfunction]
fn parse_client_urls_text(text: &str) -> PyResult<Vec<String>> {
    let urls = parse_client_urls(text)
        .map_err(|e| err::<InvalidClientUrls>(format_args!("client_urls: {e}")))?;
    Ok(url_strings(&urls))
}

/// Client URLs in their wire form (validated, sorted, comma-joined).
#[pyfunction]
fn format_client_urls_text(urls: Vec<String>) -> PyResult<String> {
    Ok(format_client_urls(&parse_urls(&urls)?))
}

/// Validated TLS client credentials: CA, client certificate and its private key.
///
/// Built only from values that pass every check (PEM parses, one certificate and one key,
/// the key matches the certificate, the CA signed it, inside its validity). Its `repr`
/// shows the subject and dates, never the key.
#[pyclass(frozen, module = "etcd_proxy_relation._core")]
#[derive(Clone)]
pub struct Credentials {
    pub inner: ClientCredentials,
}

fn epoch(t: std::time::SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

#[pymethods]
impl Credentials {
    /// Validates `ca`, `cert` and `key` (PEM texts). Raises `InvalidCredentials` naming the
    /// key at fault (`client_cert: certificate expired at ...`).
    #[new]
    #[pyo3(signature = (ca, cert, key))]
    fn new(ca: &str, cert: &str, key: &str) -> PyResult<Self> {
        ClientCredentials::from_pem(ca, cert, key)
            .map(|inner| Credentials { inner })
            .map_err(err::<InvalidCredentials>)
    }

    /// The CA certificate(s), PEM.
    #[getter]
    fn ca(&self) -> &str {
        self.inner.ca_pem()
    }

    /// The client certificate, PEM.
    #[getter]
    fn cert(&self) -> &str {
        self.inner.cert_pem()
    }

    /// The private key, PEM.
    #[getter]
    fn key(&self) -> &str {
        self.inner.key_pem()
    }

    /// The certificate's subject, e.g. `CN=client`.
    #[getter]
    fn subject(&self) -> &str {
        self.inner.subject()
    }

    /// The certificate's issuer.
    #[getter]
    fn issuer(&self) -> &str {
        self.inner.issuer()
    }

    /// The subject's common name, if any (grpc-proxy refuses certificates with one).
    #[getter]
    fn common_name(&self) -> Option<&str> {
        self.inner.common_name()
    }

    /// The end of validity, seconds since the Unix epoch.
    #[getter]
    fn not_after(&self) -> i64 {
        epoch(self.inner.not_after())
    }

    /// The start of validity, seconds since the Unix epoch.
    #[getter]
    fn not_before(&self) -> i64 {
        epoch(self.inner.not_before())
    }

    /// A digest of the three values, to tell whether credentials changed without keeping
    /// the key.
    #[getter]
    fn fingerprint(&self) -> String {
        fingerprint(&self.inner)
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.inner.ca_pem() == other.inner.ca_pem()
            && self.inner.cert_pem() == other.inner.cert_pem()
            && self.inner.key_pem() == other.inner.key_pem()
    }

    fn __hash__(&self) -> u64 {
        let fp = fingerprint(&self.inner);
        u64::from_str_radix(&fp[..16], 16).unwrap_or_default()
    }

    fn __repr__(&self) -> String {
        format!(
            "Credentials(subject={:?}, issuer={:?}, not_after={}, key=<redacted>)",
            self.inner.subject(),
            self.inner.issuer(),
            self.not_after()
        )
    }
}

/// SHA-256 over the three PEM texts, hex.
pub fn fingerprint(c: &ClientCredentials) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [c.ca_pem(), c.cert_pem(), c.key_pem()] {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part.as_bytes());
    }
    ctx.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Seconds as a `Duration`, refusing negative or non-finite values.
pub fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or(Duration::ZERO)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Credentials>()?;
    m.add_function(wrap_pyfunction!(canonical_cluster_string, m)?)?;
    m.add_function(wrap_pyfunction!(cluster_members, m)?)?;
    m.add_function(wrap_pyfunction!(parse_client_urls_text, m)?)?;
    m.add_function(wrap_pyfunction!(format_client_urls_text, m)?)?;
    Ok(())
}
