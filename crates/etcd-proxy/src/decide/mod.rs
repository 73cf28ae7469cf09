//! The sans-I/O core: plain data in, decisions out, no hook tool and no file.
//!
//! [`crate::Requirer::sync`] and [`crate::Provider::publish`] read the relation with hook
//! tools, hand what they read to these functions, and carry out what they decide; the Python
//! front ends (ops, reactive) do the same with their framework's model. Every rule of the
//! interface (DESIGN.md §3, §10, `docs/wire-contract.md`) lives here once:
//!
//! - [`RequirerInput::decide`]: which publication to use (application databag first, then
//!   the unit databags, a publication always as a whole), the flags, the workload status, and
//!   whether to advertise wire version 2;
//! - [`ProviderInput::decide`]: per relation id, what to write in the unit and application
//!   databags, and the secret (content, grants) that wire version 2 needs;
//! - [`ObsoleteRevision::to_remove`]: in `secret-remove`, which revision of the credentials
//!   secret the provider's leader removes (an older one, never the latest).
//!
//! All types are serde-serialisable (JSON objects / Python dicts): relation ids, unit and
//! application names are strings, databags are string maps. `Debug` of anything holding a
//! private key shows keys only.
//!
//! # A requirer decision
//!
//! ```
//! use etcd_proxy::decide::{RelationData, RequirerInput};
//!
//! let input: RequirerInput = serde_json::from_value(serde_json::json!({
//!     "endpoint": "proxy",
//!     "relations": {
//!         "proxy:1": {"units": {"etcd/0": {"cluster": "etcd0=http://10.0.0.1:2380"}}}
//!     }
//! })).unwrap();
//! let decision = input.decide();
//! assert_eq!(decision.status.message, "proxy: etcd cluster of 1 member(s)");
//! assert_eq!(decision.set_flags, ["proxy.connected", "proxy.available", "proxy.cluster.changed"]);
//! assert_eq!(decision.clear_flags, ["proxy.tls.available"]);
//! let received = decision.publication.unwrap();
//! assert_eq!(received.cluster.as_deref(), Some("etcd0=http://10.0.0.1:2380"));
//! // Next time, what was seen keeps `cluster.changed` down.
//! let again = RequirerInput { previous: decision.seen, ..input }.decide();
//! assert!(!again.set_flags.contains(&"proxy.cluster.changed".to_owned()));
//! # let _ = RelationData::default();
//! ```

mod provider;
pub(crate) mod requirer;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::credentials::ClientCredentials;

pub use provider::{
    secret_label, ExistingSecret, ObsoleteRevision, ProviderDecision, ProviderInput,
    RelationWrites, RequirerSide, SecretPlan,
};
pub use requirer::{
    supports_secrets, Chosen, Received, RelationData, RequirerDecision, RequirerInput, Seen, Source,
};

/// What reading a Juju secret (`secret-get <uri>`) gave.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRead {
    /// The URI that was read.
    pub uri: String,
    /// Its content, or why it cannot be had.
    pub result: SecretResult,
}

impl fmt::Debug for SecretRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let result = match &self.result {
            SecretResult::Content(fields) => format!("content {:?}", fields.keys()),
            SecretResult::Unavailable(problem) => format!("unavailable: {problem}"),
        };
        f.debug_struct("SecretRead")
            .field("uri", &self.uri)
            .field("result", &result)
            .finish()
    }
}

/// A secret's content, or why it cannot be had.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretResult {
    /// The fields and their values.
    Content(BTreeMap<String, String>),
    /// It could not be read.
    Unavailable(SecretProblem),
}

/// Why a secret could not be read. `Display` is one line without secret content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretProblem {
    /// Juju refused access: not granted to this unit, or the grant was revoked.
    NotGranted,
    /// No such secret: removed, or never created.
    NotFound,
    /// This Juju has no secrets (before 3.0).
    Unsupported,
    /// Another failure, in one line.
    Other(String),
}

impl fmt::Display for SecretProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotGranted => f.write_str("not granted to this unit (or revoked)"),
            Self::NotFound => f.write_str("not found (removed?)"),
            Self::Unsupported => f.write_str("this Juju has no secrets"),
            Self::Other(reason) => f.write_str(reason),
        }
    }
}

/// Client credentials as three PEM texts. `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PemCredentials {
    /// The CA certificate(s).
    pub ca: String,
    /// The client certificate.
    pub cert: String,
    /// The client private key.
    pub key: String,
}

impl fmt::Debug for PemCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PemCredentials")
            .field("ca", &format_args!("{} bytes", self.ca.len()))
            .field("cert", &format_args!("{} bytes", self.cert.len()))
            .field("key", &format_args!("<redacted>"))
            .finish()
    }
}

impl From<&ClientCredentials> for PemCredentials {
    fn from(credentials: &ClientCredentials) -> Self {
        Self {
            ca: credentials.ca_pem().to_owned(),
            cert: credentials.cert_pem().to_owned(),
            key: credentials.key_pem().to_owned(),
        }
    }
}

impl PemCredentials {
    /// The secret content of wire version 2 (`client-ca`, `client-cert`, `client-key`).
    pub fn secret_content(&self) -> BTreeMap<String, String> {
        let values = [&self.ca, &self.cert, &self.key];
        crate::wire::SECRET_FIELDS
            .iter()
            .zip(values)
            .map(|(field, value)| ((*field).to_owned(), value.clone()))
            .collect()
    }
}

/// A short, stable fingerprint (FNV-1a, 64 bits, hex) of some texts: enough to tell
/// whether something changed without keeping a copy. Not a security measure.
pub fn digest<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for part in parts {
        // The length first, so that ("ab", "c") and ("a", "bc") differ.
        for b in (part.len() as u64)
            .to_le_bytes()
            .iter()
            .chain(part.as_bytes())
        {
            hash = (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_tell_part_boundaries_apart() {
        assert_ne!(digest(["ab", "c"]), digest(["a", "bc"]));
        assert_eq!(digest(["x"]), digest(["x"]));
    }

    #[test]
    fn debug_hides_private_keys_and_secret_values() {
        let pem = PemCredentials {
            ca: "CA".into(),
            cert: "CERT".into(),
            key: "PRIVATEKEYBYTES".into(),
        };
        assert!(!format!("{pem:?}").contains("PRIVATEKEYBYTES"));
        let read = SecretRead {
            uri: "secret:abc".into(),
            result: SecretResult::Content(pem.secret_content()),
        };
        let shown = format!("{read:?}");
        assert!(
            !shown.contains("PRIVATEKEYBYTES") && shown.contains("client-key"),
            "{shown}"
        );
    }
}
