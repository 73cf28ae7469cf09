//! What the provider writes, from validated values.

use std::collections::BTreeMap;

use etcd_proxy::membership::{fetch_members, DEFAULT_TIMEOUT};
use etcd_proxy::tls::ClientTls;
use etcd_proxy::wire;
use etcd_proxy::{EtcdUrl, Publication};
use juju_hooks::Databag;
use pyo3::prelude::*;

use crate::errors::{err, InvalidCredentials, InvalidData, MembershipError};
use crate::values::{parse_cluster, parse_urls, seconds, url_strings, Credentials};

const KEY_WIRE_VERSION: &str = "wire_version";
const KEY_SECRET: &str = "client_credentials_secret";

fn publication(
    cluster: Option<&str>,
    credentials: Option<&Credentials>,
    client_urls: Option<Vec<String>>,
) -> PyResult<Publication> {
    Ok(Publication {
        cluster: cluster.map(parse_cluster).transpose()?,
        credentials: credentials.map(|c| c.inner.clone()),
        client_urls: client_urls.map(|u| parse_urls(&u)).transpose()?,
    })
}

/// Whether a model on this Juju version (`JUJU_VERSION`, e.g. `3.6.1`) speaks wire
/// version 2: Juju 3.1 and later (secrets that can be granted to a relation).
#[pyfunction]
fn juju_supports_wire_v2(juju_version: &str) -> bool {
    let mut parts = juju_version.trim().split(['.', '-']);
    let mut number = || parts.next().and_then(|p| p.parse::<u32>().ok());
    matches!((number(), number()), (Some(major), Some(minor)) if (major, minor) >= (3, 1))
}

/// The wire version a requirer application asks for (its databag's `wire_version`).
#[pyfunction]
fn requirer_wire_version(requirer_app_databag: BTreeMap<String, String>) -> u32 {
    match requirer_app_databag
        .get(KEY_WIRE_VERSION)
        .map(String::as_str)
    {
        Some("2") => 2,
        _ => 1,
    }
}

/// The keys a provider unit writes for a version-1 requirer: raw strings in its unit
/// databag, exactly as the 2016 Python provider wrote them. Values are validated first.
#[pyfunction]
#[pyo3(signature = (cluster = None, credentials = None, client_urls = None))]
fn unit_databag(
    cluster: Option<&str>,
    credentials: Option<PyRef<'_, Credentials>>,
    client_urls: Option<Vec<String>>,
) -> PyResult<BTreeMap<String, String>> {
    Ok(publication(cluster, credentials.as_deref(), client_urls)?.to_databag())
}

/// What to write on one relation, by the requirer's wire version.
///
/// Returns `{"version": 1 | 2, "unit": {...}, "app": {...} | None, "secret": {...} | None}`:
/// the unit databag changes (an empty value deletes a key), the application databag
/// changes (leader only; `None`: leave it alone) and the content of the one secret holding
/// the credentials (`None`: no secret). For version 2 with secrets, call once to learn the
/// content, create or update the secret, then again with its URI as `secret_uri`.
#[pyfunction]
#[pyo3(signature = (requirer_app_databag, cluster = None, credentials = None, client_urls = None, secrets = true, secret_uri = None))]
fn relation_writes(
    py: Python<'_>,
    requirer_app_databag: BTreeMap<String, String>,
    cluster: Option<&str>,
    credentials: Option<PyRef<'_, Credentials>>,
    client_urls: Option<Vec<String>>,
    secrets: bool,
    secret_uri: Option<String>,
) -> PyResult<PyObject> {
    let data = publication(cluster, credentials.as_deref(), client_urls)?;
    let version = requirer_wire_version(requirer_app_databag);
    let out = pyo3::types::PyDict::new(py);
    out.set_item("version", version)?;
    if version == 1 {
        out.set_item("unit", data.to_databag())?;
        out.set_item("app", py.None())?;
        out.set_item("secret", py.None())?;
        return Ok(out.into_any().unbind());
    }
    // Version 2: nothing of ours in the unit databag; the whole publication in the app's.
    let unit: Databag = wire::PROVIDER_KEYS
        .iter()
        .map(|k| ((*k).to_owned(), String::new()))
        .collect();
    let mut app = data.to_databag();
    let mut secret = None;
    if let Some(creds) = data.credentials.as_ref().filter(|_| secrets) {
        for key in wire::CREDENTIAL_KEYS {
            app.insert(key.to_owned(), String::new());
        }
        secret = Some(BTreeMap::from([
            ("client-ca".to_owned(), creds.ca_pem().to_owned()),
            ("client-cert".to_owned(), creds.cert_pem().to_owned()),
            ("client-key".to_owned(), creds.key_pem().to_owned()),
        ]));
        app.insert(KEY_SECRET.to_owned(), secret_uri.unwrap_or_default());
    } else if data.credentials.is_some() {
        app.insert(KEY_SECRET.to_owned(), String::new());
    }
    out.set_item("unit", unit)?;
    out.set_item("app", app)?;
    out.set_item("secret", secret)?;
    Ok(out.into_any().unbind())
}

/// Reads the live membership of the etcd cluster at `url` with the given credentials:
/// `(cluster string, client URLs)` of the started voting members, ready to publish.
#[pyfunction]
#[pyo3(signature = (url, credentials, timeout = None))]
fn membership_from_etcd(
    py: Python<'_>,
    url: &str,
    credentials: PyRef<'_, Credentials>,
    timeout: Option<f64>,
) -> PyResult<(String, Vec<String>)> {
    let url: EtcdUrl = url
        .parse()
        .map_err(|e| err::<InvalidData>(format_args!("url: {e}")))?;
    let tls = ClientTls::from_credentials(&credentials.inner).map_err(err::<InvalidCredentials>)?;
    let timeout = timeout.map(seconds).unwrap_or(DEFAULT_TIMEOUT);
    let membership = py
        .allow_threads(|| fetch_members(&url, &tls, timeout))
        .map_err(err::<MembershipError>)?;
    let cluster = membership
        .cluster_string()
        .map_err(err::<MembershipError>)?;
    Ok((cluster.to_string(), url_strings(&membership.client_urls())))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(requirer_wire_version, m)?)?;
    m.add_function(wrap_pyfunction!(juju_supports_wire_v2, m)?)?;
    m.add_function(wrap_pyfunction!(unit_databag, m)?)?;
    m.add_function(wrap_pyfunction!(relation_writes, m)?)?;
    m.add_function(wrap_pyfunction!(membership_from_etcd, m)?)?;
    Ok(())
}
