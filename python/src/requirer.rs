//! The requirer's decision from the relation data a framework hands over.
//!
//! Wire version 2 (a provider application databag with a secret) is mapped here onto the
//! version-1 databag the core parses, until the core's own sans-I/O module takes over.

use std::collections::BTreeMap;

use etcd_proxy::view::RemoteView;
use etcd_proxy::{Requirer, RequirerReport};
use juju_hooks::{Databag, Endpoint, RelationId, UnitName};
use pyo3::prelude::*;

use crate::errors::{err, InvalidData};
use crate::values::{url_strings, Credentials};

/// Wire version 2 keys and secret fields (docs/wire-contract.md).
const KEY_SECRET: &str = "client_credentials_secret";
const SECRET_FIELDS: [(&str, &str); 3] = [
    ("client-ca", "client_ca"),
    ("client-cert", "client_cert"),
    ("client-key", "client_key"),
];
const APP_KEYS: [&str; 7] = [
    "cluster",
    "cluster_string",
    "client_urls",
    "client_ca",
    "client_cert",
    "client_key",
    KEY_SECRET,
];

/// What the provider's application published on one relation (wire version 2).
#[derive(FromPyObject)]
struct AppPublication {
    #[pyo3(item)]
    databag: BTreeMap<String, String>,
    /// The secret's content, or why it cannot be read.
    #[pyo3(item)]
    secret: Option<SecretRead>,
}

#[derive(FromPyObject)]
enum SecretRead {
    Content(BTreeMap<String, String>),
    Problem(String),
}

/// The requirer's decision for the current relation data.
///
/// Flags, status and the chosen publication are the Rust requirer's, computed from the data
/// given: `connected`, `available`, `tls_available` are what the reactive flags
/// `{endpoint}.connected`, `.available` and `.tls.available` mean.
#[pyclass(frozen, module = "etcd_proxy_relation._core")]
pub struct Decision {
    endpoint: String,
    report: RequirerReport,
    /// A wire-version-2 secret that could not be used, for the chosen relation.
    secret_problem: Option<String>,
}

#[pymethods]
impl Decision {
    /// Whether a remote unit is related on any relation of the endpoint.
    #[getter]
    fn connected(&self) -> bool {
        self.report.connected
    }

    /// Whether the chosen publication holds a valid cluster string and nothing invalid.
    #[getter]
    fn available(&self) -> bool {
        self.secret_problem.is_none() && self.report.cluster().is_some()
    }

    /// Whether it also holds valid client credentials.
    #[getter]
    fn tls_available(&self) -> bool {
        self.secret_problem.is_none() && self.report.credentials().is_some()
    }

    /// The canonical cluster string, when available.
    #[getter]
    fn cluster_string(&self) -> Option<String> {
        self.available()
            .then(|| self.report.cluster_string())
            .flatten()
    }

    /// The provider's advertised client URLs, when published and valid.
    #[getter]
    fn client_urls(&self) -> Option<Vec<String>> {
        if self.secret_problem.is_some() {
            return None;
        }
        self.report.client_urls().map(url_strings)
    }

    /// The validated client credentials, when available.
    #[getter]
    fn credentials(&self) -> Option<Credentials> {
        if !self.tls_available() {
            return None;
        }
        self.report
            .credentials()
            .map(|c| Credentials { inner: c.clone() })
    }

    /// Why the relation data is unusable (one line naming the key), if it is invalid.
    #[getter]
    fn problem(&self) -> Option<String> {
        self.secret_problem
            .as_ref()
            .map(|p| format!("{KEY_SECRET}: {p}"))
            .or_else(|| self.report.problem())
    }

    /// The workload status `(kind, message)` that describes the relation, e.g.
    /// `("blocked", "proxy: etcd/0 sent client_cert: ...")`.
    #[getter]
    fn status(&self) -> (String, String) {
        if let (Some(problem), Some(chosen)) = (self.problem(), &self.report.chosen) {
            if self.secret_problem.is_some() {
                let message = format!("{}: {} sent {problem}", self.endpoint, chosen.unit);
                return ("blocked".to_owned(), message);
            }
        }
        let s = &self.report.status;
        (s.kind.as_str().to_owned(), s.message.clone())
    }

    /// The flags that hold, derived from the data: `{endpoint}.connected`, `.available`,
    /// `.tls.available`.
    #[getter]
    fn flags(&self) -> Vec<String> {
        let ep = &self.endpoint;
        [
            (self.connected(), "connected"),
            (self.available(), "available"),
            (self.tls_available(), "tls.available"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, suffix)| format!("{ep}.{suffix}"))
        .collect()
    }

    /// The unit whose publication was chosen (the smallest name among those that agree).
    #[getter]
    fn chosen_unit(&self) -> Option<String> {
        self.report.chosen.as_ref().map(|c| c.unit.to_string())
    }

    /// The relation id (number) of that unit.
    #[getter]
    fn chosen_relation(&self) -> Option<u32> {
        self.report.chosen.as_ref().map(|c| c.relation.number())
    }

    /// How many remote units are related, over all relations of the endpoint.
    #[getter]
    fn remote_units(&self) -> usize {
        self.report.remote_units
    }

    fn __repr__(&self) -> String {
        let (kind, message) = self.status();
        format!(
            "Decision(flags={:?}, status=({kind:?}, {message:?}))",
            self.flags()
        )
    }
}

fn app_bag(publication: &AppPublication) -> (Databag, Option<String>) {
    let mut bag: Databag = APP_KEYS
        .iter()
        .filter(|k| **k != KEY_SECRET)
        .filter_map(|k| {
            let v = publication.databag.get(*k).filter(|v| !v.is_empty())?;
            Some(((*k).to_owned(), v.clone()))
        })
        .collect();
    let uses_secret = publication
        .databag
        .get(KEY_SECRET)
        .is_some_and(|v| !v.is_empty());
    if !uses_secret {
        return (bag, None);
    }
    match &publication.secret {
        Some(SecretRead::Content(content)) => {
            let missing: Vec<&str> = SECRET_FIELDS
                .iter()
                .filter(|(field, _)| content.get(*field).is_none_or(|v| v.is_empty()))
                .map(|(field, _)| *field)
                .collect();
            if !missing.is_empty() {
                return (bag, Some(format!("secret has no {}", missing.join(", "))));
            }
            for (field, key) in SECRET_FIELDS {
                if let Some(v) = content.get(field) {
                    bag.insert(key.to_owned(), v.clone());
                }
            }
            (bag, None)
        }
        Some(SecretRead::Problem(why)) => (bag, Some(why.clone())),
        None => (bag, Some("secret not read".to_owned())),
    }
}

/// Decides what the relation data means for the requirer of `endpoint`.
///
/// `units` maps each relation id (the number) to the remote units related on it and their
/// databags. `apps` maps a relation id to the provider application's publication (wire
/// version 2): `{"databag": {...}, "secret": {field: value} | "why it cannot be read" |
/// None}`; when it holds any interface key it stands for every unit of that relation.
#[pyfunction]
#[pyo3(signature = (endpoint, units, apps = None))]
fn decide(
    endpoint: &str,
    units: BTreeMap<u32, BTreeMap<String, BTreeMap<String, String>>>,
    apps: Option<BTreeMap<u32, AppPublication>>,
) -> PyResult<Decision> {
    let ep: Endpoint = endpoint.parse().map_err(err::<InvalidData>)?;
    let apps = apps.unwrap_or_default();
    let mut view = RemoteView::default();
    let mut secret_problems = BTreeMap::new();
    for (number, members) in units {
        let rid: RelationId = format!("{ep}:{number}")
            .parse()
            .map_err(err::<InvalidData>)?;
        let from_app = apps
            .get(&number)
            .map(app_bag)
            .filter(|(bag, problem)| !bag.is_empty() || problem.is_some());
        let mut bags = BTreeMap::new();
        for (unit, bag) in members {
            let unit: UnitName = unit.parse().map_err(err::<InvalidData>)?;
            let bag = match &from_app {
                Some((app, _)) => app.clone(),
                None => bag,
            };
            bags.insert(unit, bag);
        }
        if let Some((_, Some(problem))) = from_app {
            secret_problems.insert(rid.clone(), problem);
        }
        view.relations.insert(rid, bags);
    }
    let report = Requirer::new(ep).decide(&view);
    let secret_problem = report
        .chosen
        .as_ref()
        .and_then(|c| secret_problems.get(&c.relation).cloned());
    Ok(Decision {
        endpoint: endpoint.to_owned(),
        report,
        secret_problem,
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Decision>()?;
    m.add_function(wrap_pyfunction!(decide, m)?)?;
    Ok(())
}
