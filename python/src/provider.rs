//! What the provider writes, from validated values.

use std::collections::BTreeMap;

use etcd_proxy::decide::{self, ProviderDecision, ProviderInput};
use etcd_proxy::membership::{fetch_members, DEFAULT_TIMEOUT};
use etcd_proxy::tls::ClientTls;
use etcd_proxy::wire;
use pyo3::types::PyDict;

use crate::convert::from_py;
use etcd_proxy::{EtcdUrl, Publication};
use juju_hooks::Databag;
use pyo3::prelude::*;

use crate::errors::{err, InvalidCredentials, InvalidData, MembershipError};
use crate::values::{parse_cluster, parse_urls, seconds, url_strings, Credentials};

/// Whether a model on this Juju version (`JUJU_VERSION`, e.g. `3.6.1`) speaks wire
/// version 2: Juju 3.1 and later.
#[pyfunction]
fn juju_supports_wire_v2(juju_version: &str) -> bool {
    decide::supports_secrets(juju_version)
}

/// The keys a provider unit writes for a version-1 requirer (raw strings, as the 2016
/// Python provider wrote them). Values are validated first.
#[pyfunction]
#[pyo3(signature = (cluster = None, credentials = None, client_urls = None))]
fn unit_databag(
    cluster: Option<&str>,
    credentials: Option<PyRef<'_, Credentials>>,
    client_urls: Option<Vec<String>>,
) -> PyResult<BTreeMap<String, String>> {
    Ok(Publication {
        cluster: cluster.map(parse_cluster).transpose()?,
        credentials: credentials.map(|c| c.inner.clone()),
        client_urls: client_urls.map(|u| parse_urls(&u)).transpose()?,
    }
    .to_databag())
}

/// The changes that make a databag hold exactly `wanted` of the interface keys: every other
/// interface key maps to `""` (delete).
fn changes(wanted: &Databag, keys: &[&str]) -> Databag {
    let mut out: Databag = keys
        .iter()
        .map(|k| ((*k).to_owned(), String::new()))
        .collect();
    out.extend(wanted.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// What the provider should write, per relation and for the secret.
///
/// `relations` values hold *changes*: apply only the keys whose value differs, `""`
/// deleting a key. Its `repr` never shows a value.
#[pyclass(frozen, module = "etcd_proxy_relation._core")]
pub struct ProviderPlan {
    inner: ProviderDecision,
}

#[pymethods]
impl ProviderPlan {
    /// Why the publication is refused (nothing is to be written then).
    #[getter]
    fn refused(&self) -> Option<String> {
        self.inner.refused.clone()
    }

    /// Per relation id (`"proxy:3"`): `{"version": 1|2, "unit": {...}, "app": {...} | None}`
    /// (`app` `None`: leave the application databag alone).
    #[getter]
    fn relations(&self, py: Python<'_>) -> PyResult<PyObject> {
        let out = PyDict::new(py);
        for (rid, writes) in &self.inner.relations {
            let entry = PyDict::new(py);
            entry.set_item("version", writes.version)?;
            entry.set_item("unit", changes(&writes.unit, &wire::PROVIDER_KEYS))?;
            entry.set_item(
                "app",
                writes
                    .app
                    .as_ref()
                    .map(|app| changes(app, &wire::PROVIDER_KEYS)),
            )?;
            out.set_item(rid.to_string(), entry)?;
        }
        Ok(out.into_any().unbind())
    }

    /// The secret wanted (leader, wire version 2): `{"label", "content", "content_digest",
    /// "create", "update", "grant", "revoke"}`; after creating it, decide again with its
    /// URI.
    #[getter]
    fn secret(&self, py: Python<'_>) -> PyResult<PyObject> {
        let Some(plan) = &self.inner.secret else {
            return Ok(py.None());
        };
        let out = PyDict::new(py);
        out.set_item("label", &plan.label)?;
        out.set_item("content", plan.content.secret_content())?;
        out.set_item("content_digest", &plan.content_digest)?;
        out.set_item("create", plan.create)?;
        out.set_item("update", plan.update)?;
        let ids = |rids: &[juju_hooks::RelationId]| -> Vec<String> {
            rids.iter().map(ToString::to_string).collect()
        };
        out.set_item("grant", ids(&plan.grant))?;
        out.set_item("revoke", ids(&plan.revoke))?;
        Ok(out.into_any().unbind())
    }

    /// The URI of a secret no relation uses any more: remove it.
    #[getter]
    fn remove_secret(&self) -> Option<String> {
        self.inner.remove_secret.clone()
    }

    fn __repr__(&self) -> String {
        let versions: Vec<String> = self
            .inner
            .relations
            .iter()
            .map(|(rid, w)| format!("{rid}: v{}", w.version))
            .collect();
        format!(
            "ProviderPlan(relations=[{}], secret={}, refused={:?})",
            versions.join(", "),
            self.inner.secret.is_some(),
            self.inner.refused
        )
    }
}

/// Decides what the provider writes. `input` is a dict: `{"endpoint": "proxy",
/// "cluster": str | None, "client_urls": [str] | None, "credentials": {"ca", "cert",
/// "key"} | None, "leader": bool, "secrets_supported": bool, "relations": {"proxy:3":
/// {"wire_version": "2" | None}}, "secret": {"uri", "content_digest", "granted": [rid]} |
/// None}`.
#[pyfunction]
fn provider_decide(input: &Bound<'_, PyAny>) -> PyResult<ProviderPlan> {
    let input: ProviderInput = from_py(input)?;
    Ok(ProviderPlan {
        inner: input.decide(),
    })
}

/// In `secret-remove`: the revision of the credentials secret to remove, or `None`. `input`
/// is a dict: `{"endpoint": "proxy", "secret_id": str, "secret_label": str | None,
/// "revision": int, "owned_uri": str | None}`; `latest` is the secret's latest revision
/// (ask the owner's `get_info()` only when :func:`is_own_secret` says it is ours). Never the
/// latest revision.
#[pyfunction]
#[pyo3(signature = (input, latest))]
fn secret_revision_to_remove(input: &Bound<'_, PyAny>, latest: u32) -> PyResult<Option<u32>> {
    let hook: decide::ObsoleteRevision = from_py(input)?;
    Ok(hook.to_remove(latest))
}

/// Whether a secret hook is about this endpoint's credentials secret (same input as
/// :func:`secret_revision_to_remove`).
#[pyfunction]
fn is_own_secret(input: &Bound<'_, PyAny>) -> PyResult<bool> {
    let hook: decide::ObsoleteRevision = from_py(input)?;
    Ok(hook.is_ours())
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
    m.add_class::<ProviderPlan>()?;
    m.add_function(wrap_pyfunction!(provider_decide, m)?)?;
    m.add_function(wrap_pyfunction!(secret_revision_to_remove, m)?)?;
    m.add_function(wrap_pyfunction!(is_own_secret, m)?)?;
    m.add_function(wrap_pyfunction!(juju_supports_wire_v2, m)?)?;
    m.add_function(wrap_pyfunction!(unit_databag, m)?)?;
    m.add_function(wrap_pyfunction!(membership_from_etcd, m)?)?;
    Ok(())
}
