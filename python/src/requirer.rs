//! The requirer's decision (`etcd_proxy::decide::RequirerInput`) for the relation data a
//! framework hands over as plain dicts.

use etcd_proxy::decide::{RelationData, RequirerDecision, RequirerInput};
use etcd_proxy::CredentialsField;
use pyo3::prelude::*;

use crate::convert::{from_py, to_py};
use crate::values::Credentials;

/// The requirer's decision: the chosen publication, flags, status, what to advertise.
///
/// Its `repr` shows flags and status only; `credentials` is a `Credentials` whose repr
/// hides the key.
#[pyclass(frozen, module = "etcd_proxy_relation._core")]
pub struct Decision {
    endpoint: String,
    inner: RequirerDecision,
}

impl Decision {
    fn has(&self, suffix: &str) -> bool {
        let flag = format!("{}.{suffix}", self.endpoint);
        self.inner.set_flags.contains(&flag)
    }
}

#[pymethods]
impl Decision {
    /// Whether a remote unit is related on any relation of the endpoint.
    #[getter]
    fn connected(&self) -> bool {
        self.inner.connected
    }

    /// `{endpoint}.available`: a valid cluster string and nothing invalid.
    #[getter]
    fn available(&self) -> bool {
        self.has("available")
    }

    /// `{endpoint}.tls.available`: valid client credentials as well.
    #[getter]
    fn tls_available(&self) -> bool {
        self.has("tls.available")
    }

    /// `{endpoint}.cluster.changed`: the cluster string differs from `previous`.
    #[getter]
    fn cluster_changed(&self) -> bool {
        self.has("cluster.changed")
    }

    /// `{endpoint}.tls.changed`: the credentials differ from `previous`.
    #[getter]
    fn tls_changed(&self) -> bool {
        self.has("tls.changed")
    }

    /// The canonical cluster string, when available.
    #[getter]
    fn cluster_string(&self) -> Option<String> {
        self.inner.publication.as_ref()?.cluster.clone()
    }

    /// The provider's advertised client URLs, when published and valid.
    #[getter]
    fn client_urls(&self) -> Option<Vec<String>> {
        self.inner.publication.as_ref()?.client_urls.clone()
    }

    /// The validated client credentials, when available.
    #[getter]
    fn credentials(&self) -> Option<Credentials> {
        self.inner.publication.as_ref()?.credentials.as_ref()?;
        match &self.inner.chosen.as_ref()?.data.credentials {
            CredentialsField::Valid(c) => Some(Credentials { inner: c.clone() }),
            _ => None,
        }
    }

    /// Why the chosen publication cannot be used (one line naming the key), if invalid.
    #[getter]
    fn problem(&self) -> Option<String> {
        self.inner.problem.clone()
    }

    /// The workload status `(kind, message)`, e.g. `("blocked", "proxy: etcd/0 sent ...")`.
    #[getter]
    fn status(&self) -> (String, String) {
        let s = &self.inner.status;
        (s.kind.as_str().to_owned(), s.message.clone())
    }

    /// Flags to set (availability, and `.changed` flags when something changed).
    #[getter]
    fn set_flags(&self) -> Vec<String> {
        self.inner.set_flags.clone()
    }

    /// Flags to clear.
    #[getter]
    fn clear_flags(&self) -> Vec<String> {
        self.inner.clear_flags.clone()
    }

    /// The flags that hold: `{endpoint}.connected`, `.available`, `.tls.available`.
    #[getter]
    fn flags(&self) -> Vec<String> {
        let ep = &self.endpoint;
        ["connected", "available", "tls.available"]
            .into_iter()
            .map(|s| format!("{ep}.{s}"))
            .filter(|f| self.inner.set_flags.contains(f))
            .collect()
    }

    /// What to pass as `previous` next time (digests, never the values).
    #[getter]
    fn seen(&self, py: Python<'_>) -> PyResult<PyObject> {
        to_py(py, &self.inner.seen)
    }

    /// Per relation id (`"proxy:3"`), what the leader wants in its own application
    /// databag (wire version 2 advertised); write what differs.
    #[getter]
    fn advertise(&self, py: Python<'_>) -> PyResult<PyObject> {
        to_py(py, &self.inner.advertise)
    }

    /// Where the chosen publication comes from: `{"relation", "owner", "application",
    /// "agreeing"}`, or `None`.
    #[getter]
    fn source(&self, py: Python<'_>) -> PyResult<PyObject> {
        to_py(py, &self.inner.source)
    }

    /// The unit (or application) whose publication was chosen.
    #[getter]
    fn chosen_unit(&self) -> Option<String> {
        self.inner.source.as_ref().map(|s| s.owner.clone())
    }

    /// How many remote units are related, over all relations of the endpoint.
    #[getter]
    fn remote_units(&self) -> usize {
        self.inner.remote_units
    }

    fn __repr__(&self) -> String {
        let (kind, message) = self.status();
        format!(
            "Decision(flags={:?}, status=({kind:?}, {message:?}))",
            self.flags()
        )
    }
}

/// Decides for the requirer. `input` is a dict:
///
/// ```text
/// {"endpoint": "proxy",
///  "relations": {"proxy:3": {"app": {...} | None, "units": {"etcd/0": {...}},
///                            "remote_app": "etcd",
///                            "secret": {"uri": "secret:...",
///                                       "result": {"content": {...}}
///                                               | {"unavailable": "not_granted" | "not_found"
///                                                  | "unsupported" | {"other": "why"}}}}},
///  "previous": <Decision.seen of the last run>, "juju_version": "3.6.1", "leader": True}
/// ```
#[pyfunction]
fn decide(input: &Bound<'_, PyAny>) -> PyResult<Decision> {
    let input: RequirerInput = from_py(input)?;
    Ok(Decision {
        endpoint: input.endpoint.to_string(),
        inner: input.decide(),
    })
}

/// Whether one relation's provider application databag (with its secret, as read) holds a
/// publication with no invalid part: then the unit databags need not be read. `data` is one
/// value of `decide`'s `relations`.
#[pyfunction]
fn app_publication_is_valid(data: &Bound<'_, PyAny>) -> PyResult<bool> {
    let data: RelationData = from_py(data)?;
    Ok(data.app_publication_is_valid(std::time::SystemTime::now()))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(app_publication_is_valid, m)?)?;
    m.add_class::<Decision>()?;
    m.add_function(wrap_pyfunction!(decide, m)?)?;
    Ok(())
}
