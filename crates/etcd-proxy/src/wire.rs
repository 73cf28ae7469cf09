//! The wire contract: the relation keys, a parser from one remote unit's databag to typed
//! data, and the writer of the provider's databag. Values are raw strings, as the deployed
//! Python charms write them (not JSON).
//!
//! Reading distinguishes, for every part, data that is not there (`Missing`), data that is
//! there but wrong (`Invalid`, with a one-line reason naming the key) and data that is usable
//! (`Valid`). An empty value counts as missing: Juju deletes a key set to `""`.

use std::collections::BTreeSet;
use std::fmt;
use std::time::SystemTime;

use juju_hooks::Databag;

use crate::cluster::{excerpt, ClusterString, EtcdUrl, UrlError, MAX_CLUSTER_STRING_LEN};
use crate::credentials::{ClientCredentials, Proofs};
use crate::decide::{SecretRead, SecretResult};

/// The cluster string (`name=peerURL,...`).
pub const KEY_CLUSTER: &str = "cluster";
/// The cluster string's name before June 2016; read when [`KEY_CLUSTER`] is absent.
pub const KEY_CLUSTER_LEGACY: &str = "cluster_string";
/// The PEM CA certificate.
pub const KEY_CLIENT_CA: &str = "client_ca";
/// The PEM client certificate.
pub const KEY_CLIENT_CERT: &str = "client_cert";
/// The PEM private key of the client certificate.
pub const KEY_CLIENT_KEY: &str = "client_key";
/// Comma-joined client URLs of the started, non-learner members (an extension old requirers
/// ignore).
pub const KEY_CLIENT_URLS: &str = "client_urls";

/// Wire version 2: the URI of the Juju secret holding the client credentials, in the
/// provider's application databag (fields [`SECRET_FIELD_CA`], [`SECRET_FIELD_CERT`],
/// [`SECRET_FIELD_KEY`]).
pub const KEY_CREDENTIALS_SECRET: &str = "client_credentials_secret";
/// Wire version 2: written by the requirer's leader in its application databag.
pub const KEY_WIRE_VERSION: &str = "wire_version";
/// The value of [`KEY_WIRE_VERSION`] this crate speaks.
pub const WIRE_VERSION_2: &str = "2";
/// The secret field holding the CA certificate (secret keys cannot hold `_`).
pub const SECRET_FIELD_CA: &str = "client-ca";
/// The secret field holding the client certificate.
pub const SECRET_FIELD_CERT: &str = "client-cert";
/// The secret field holding the client private key.
pub const SECRET_FIELD_KEY: &str = "client-key";
/// The secret fields, in [`CREDENTIAL_KEYS`] order.
pub const SECRET_FIELDS: [&str; 3] = [SECRET_FIELD_CA, SECRET_FIELD_CERT, SECRET_FIELD_KEY];

/// Every key the provider writes, so a writer can delete the ones it no longer publishes.
pub const PROVIDER_KEYS: [&str; 6] = [
    KEY_CLUSTER,
    KEY_CLIENT_CA,
    KEY_CLIENT_CERT,
    KEY_CLIENT_KEY,
    KEY_CLIENT_URLS,
    KEY_CREDENTIALS_SECRET,
];

/// Every key a provider may write, the old cluster key included: all a requirer keeps of a
/// provider databag.
pub const READ_KEYS: [&str; 7] = [
    KEY_CLUSTER,
    KEY_CLUSTER_LEGACY,
    KEY_CLIENT_CA,
    KEY_CLIENT_CERT,
    KEY_CLIENT_KEY,
    KEY_CLIENT_URLS,
    KEY_CREDENTIALS_SECRET,
];

/// The three credential keys, in the order a status message lists them.
pub const CREDENTIAL_KEYS: [&str; 3] = [KEY_CLIENT_CA, KEY_CLIENT_CERT, KEY_CLIENT_KEY];

/// A present value that cannot be used: which key and why. `Display` is one line,
/// `cluster: entry 2 'x': expected name=URL`, fit for a `blocked` status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidValue {
    /// The relation key at fault.
    pub key: &'static str,
    /// Why, in one line, with at most a short escaped excerpt of the value.
    pub reason: String,
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.reason)
    }
}

/// The cluster string of one remote unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterField {
    /// Neither `cluster` nor `cluster_string` is set.
    Missing,
    /// The value (of `cluster` when set, else of `cluster_string`) is not a valid cluster string.
    Invalid(InvalidValue),
    /// A valid cluster string.
    Valid(ClusterString),
}

/// The TLS client credentials of one remote unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialsField {
    /// None of the three keys is set.
    Missing,
    /// Some of the three keys are set; these are not (in [`CREDENTIAL_KEYS`] order). Partial
    /// values are not validated: the rest may still be on its way.
    Incomplete {
        /// The keys still missing.
        missing: Vec<&'static str>,
    },
    /// All three are set but fail validation (see [`crate::credentials`]).
    Invalid(InvalidValue),
    /// All three are set and valid.
    Valid(ClientCredentials),
}

/// The client URLs of one remote unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientUrlsField {
    /// `client_urls` is not set.
    Missing,
    /// `client_urls` is set but not a comma-joined list of valid URLs.
    Invalid(InvalidValue),
    /// The URLs, sorted and without duplicates.
    Valid(Vec<EtcdUrl>),
}

/// Everything one remote unit's databag says, parsed. Unknown keys are ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteData {
    /// The cluster string.
    pub cluster: ClusterField,
    /// The TLS client credentials.
    pub credentials: CredentialsField,
    /// The advertised client URLs.
    pub client_urls: ClientUrlsField,
}

impl RemoteData {
    /// Parses a databag, validating certificates against the current time.
    pub fn from_databag(bag: &Databag) -> Self {
        Self::from_databag_at(bag, SystemTime::now())
    }

    /// Parses a databag, validating certificates as of `now`.
    pub fn from_databag_at(bag: &Databag, now: SystemTime) -> Self {
        Self::from_databag_proven(bag, now, &Proofs::new())
    }

    /// As [`Self::from_databag_at`], credentials listed in `proofs` skipping the costly checks
    /// ([`ClientCredentials::from_pem_proven`]).
    pub fn from_databag_proven(bag: &Databag, now: SystemTime, proofs: &Proofs) -> Self {
        Self {
            cluster: read_cluster(bag),
            credentials: read_credentials(bag, now, proofs),
            client_urls: read_client_urls(bag),
        }
    }

    /// Parses a provider application databag (wire version 2): as a unit databag, except
    /// that with `client_credentials_secret` set the credentials come from `secret`, the
    /// secret as read (fields `client-ca`, `client-cert`, `client-key`), and any raw
    /// credential keys are ignored.
    pub fn from_app_databag_at(
        bag: &Databag,
        secret: Option<&SecretRead>,
        now: SystemTime,
    ) -> Self {
        Self::from_app_databag_proven(bag, secret, now, &Proofs::new())
    }

    /// As [`Self::from_app_databag_at`], credentials listed in `proofs` skipping the costly
    /// checks ([`ClientCredentials::from_pem_proven`]).
    pub fn from_app_databag_proven(
        bag: &Databag,
        secret: Option<&SecretRead>,
        now: SystemTime,
        proofs: &Proofs,
    ) -> Self {
        let credentials = match present(bag, KEY_CREDENTIALS_SECRET) {
            Some(uri) => read_secret_credentials(uri, secret, now, proofs),
            None => read_credentials(bag, now, proofs),
        };
        Self {
            cluster: read_cluster(bag),
            credentials,
            client_urls: read_client_urls(bag),
        }
    }

    /// Every invalid part, in the order cluster, credentials, client URLs.
    pub fn invalid(&self) -> Vec<&InvalidValue> {
        let cluster = match &self.cluster {
            ClusterField::Invalid(v) => Some(v),
            _ => None,
        };
        let credentials = match &self.credentials {
            CredentialsField::Invalid(v) => Some(v),
            _ => None,
        };
        let client_urls = match &self.client_urls {
            ClientUrlsField::Invalid(v) => Some(v),
            _ => None,
        };
        [cluster, credentials, client_urls]
            .into_iter()
            .flatten()
            .collect()
    }
}

/// A value, unless it is absent or empty (Juju deletes keys set to `""`).
fn present<'a>(bag: &'a Databag, key: &str) -> Option<&'a str> {
    bag.get(key).map(String::as_str).filter(|v| !v.is_empty())
}

fn read_cluster(bag: &Databag) -> ClusterField {
    let (key, text) = match (present(bag, KEY_CLUSTER), present(bag, KEY_CLUSTER_LEGACY)) {
        (Some(text), _) => (KEY_CLUSTER, text),
        (None, Some(text)) => (KEY_CLUSTER_LEGACY, text),
        (None, None) => return ClusterField::Missing,
    };
    match text.parse::<ClusterString>() {
        Ok(cluster) => ClusterField::Valid(cluster),
        Err(e) => ClusterField::Invalid(InvalidValue {
            key,
            reason: e.to_string(),
        }),
    }
}

fn read_credentials(bag: &Databag, now: SystemTime, proofs: &Proofs) -> CredentialsField {
    let values = CREDENTIAL_KEYS.map(|key| present(bag, key));
    let missing: Vec<&'static str> = CREDENTIAL_KEYS
        .iter()
        .zip(values)
        .filter(|(_, value)| value.is_none())
        .map(|(key, _)| *key)
        .collect();
    match (missing.len(), values) {
        (0, [Some(ca), Some(cert), Some(key)]) => {
            match ClientCredentials::from_pem_proven(ca, cert, key, now, proofs) {
                Ok(credentials) => CredentialsField::Valid(credentials),
                Err(e) => CredentialsField::Invalid(InvalidValue {
                    key: e.key.as_str(),
                    reason: e.problem.to_string(),
                }),
            }
        }
        (3, _) => CredentialsField::Missing,
        _ => CredentialsField::Incomplete { missing },
    }
}

/// The longest secret URI accepted (`secret://<uuid>/<20-char id>` is 65 bytes).
const MAX_SECRET_URI_LEN: usize = 256;

/// Whether `uri` is a Juju secret URI as a provider writes it: `secret:<id>` or
/// `secret://<model uuid>/<id>` (juju/juju 3.6 `core/secrets/secret.go` `ParseURI`).
pub fn is_secret_uri(uri: &str) -> bool {
    uri.len() <= MAX_SECRET_URI_LEN
        && uri.starts_with("secret:")
        && uri.parse::<juju_hooks::SecretUri>().is_ok()
}

fn read_secret_credentials(
    uri: &str,
    secret: Option<&SecretRead>,
    now: SystemTime,
    proofs: &Proofs,
) -> CredentialsField {
    let invalid = |reason: String| {
        CredentialsField::Invalid(InvalidValue {
            key: KEY_CREDENTIALS_SECRET,
            reason,
        })
    };
    if !is_secret_uri(uri) {
        return invalid(format!("'{}' is not a secret URI", excerpt(uri)));
    }
    let fields = match secret
        .filter(|read| read.uri == uri)
        .map(|read| &read.result)
    {
        None => return invalid(format!("{uri} was not read")),
        Some(SecretResult::Unavailable(problem)) => {
            return invalid(format!("{uri} cannot be read: {problem}"))
        }
        Some(SecretResult::Content(fields)) => fields,
    };
    let values = SECRET_FIELDS.map(|field| {
        fields
            .get(field)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    });
    let missing: Vec<&str> = SECRET_FIELDS
        .iter()
        .zip(values)
        .filter(|(_, value)| value.is_none())
        .map(|(field, _)| *field)
        .collect();
    let [Some(ca), Some(cert), Some(key)] = values else {
        return invalid(format!("{uri} lacks field(s) {}", missing.join(", ")));
    };
    match ClientCredentials::from_pem_proven(ca, cert, key, now, proofs) {
        Ok(credentials) => CredentialsField::Valid(credentials),
        Err(e) => {
            let field = SECRET_FIELDS[CREDENTIAL_KEYS
                .iter()
                .position(|k| *k == e.key.as_str())
                .unwrap_or(0)];
            invalid(format!("{uri} field {field}: {}", e.problem))
        }
    }
}

fn read_client_urls(bag: &Databag) -> ClientUrlsField {
    let Some(text) = present(bag, KEY_CLIENT_URLS) else {
        return ClientUrlsField::Missing;
    };
    match parse_client_urls(text) {
        Ok(urls) => ClientUrlsField::Valid(urls),
        Err(e) => ClientUrlsField::Invalid(InvalidValue {
            key: KEY_CLIENT_URLS,
            reason: e.to_string(),
        }),
    }
}

/// Why a `client_urls` value is not a comma-joined list of URLs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientUrlsError {
    /// Nothing at all.
    #[error("empty URL list")]
    Empty,
    /// Longer than [`MAX_CLUSTER_STRING_LEN`].
    #[error("URL list too long ({len} bytes, at most {max})")]
    TooLong {
        /// The length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Two commas in a row, or a comma at either end.
    #[error("entry {entry} is empty (stray ',')")]
    EmptyEntry {
        /// The entry's position, from 1.
        entry: usize,
    },
    /// An entry that is not a valid URL.
    #[error("entry {entry} '{excerpt}': {source}")]
    Url {
        /// The entry's position, from 1.
        entry: usize,
        /// A short escaped excerpt of the entry.
        excerpt: String,
        /// What is wrong with it.
        source: UrlError,
    },
}

/// Parses a comma-joined URL list (the `client_urls` value) into sorted, distinct URLs.
///
/// # Errors
/// An empty or over-long list, an empty entry, or an invalid URL.
pub fn parse_client_urls(text: &str) -> Result<Vec<EtcdUrl>, ClientUrlsError> {
    if text.is_empty() {
        return Err(ClientUrlsError::Empty);
    }
    if text.len() > MAX_CLUSTER_STRING_LEN {
        return Err(ClientUrlsError::TooLong {
            len: text.len(),
            max: MAX_CLUSTER_STRING_LEN,
        });
    }
    let mut urls = BTreeSet::new();
    for (i, raw) in text.split(',').enumerate() {
        let entry = i + 1;
        if raw.is_empty() {
            return Err(ClientUrlsError::EmptyEntry { entry });
        }
        let url = raw
            .parse::<EtcdUrl>()
            .map_err(|source| ClientUrlsError::Url {
                entry,
                excerpt: excerpt(raw),
                source,
            })?;
        urls.insert(url);
    }
    Ok(urls.into_iter().collect())
}

/// The canonical `client_urls` value: sorted, distinct, comma-joined.
pub fn format_client_urls(urls: &[EtcdUrl]) -> String {
    let sorted: BTreeSet<&EtcdUrl> = urls.iter().collect();
    let texts: Vec<&str> = sorted.into_iter().map(EtcdUrl::as_str).collect();
    texts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bag(pairs: &[(&str, &str)]) -> Databag {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn an_empty_databag_is_all_missing() {
        let data = RemoteData::from_databag(&Databag::new());
        assert_eq!(data.cluster, ClusterField::Missing);
        assert_eq!(data.credentials, CredentialsField::Missing);
        assert_eq!(data.client_urls, ClientUrlsField::Missing);
        assert!(data.invalid().is_empty());
    }

    #[test]
    fn empty_values_count_as_missing() {
        let data = RemoteData::from_databag(&bag(&[
            ("cluster", ""),
            ("client_ca", ""),
            ("client_urls", ""),
        ]));
        assert_eq!(data.cluster, ClusterField::Missing);
        assert_eq!(data.credentials, CredentialsField::Missing);
        assert_eq!(data.client_urls, ClientUrlsField::Missing);
    }

    #[test]
    fn cluster_wins_over_the_legacy_key() {
        let both = bag(&[
            ("cluster", "a=http://h:1"),
            ("cluster_string", "b=http://h:2"),
        ]);
        let ClusterField::Valid(cs) = RemoteData::from_databag(&both).cluster else {
            panic!("expected a valid cluster");
        };
        assert_eq!(cs.to_string(), "a=http://h:1");

        let legacy = bag(&[("cluster_string", "b=http://h:2")]);
        assert!(matches!(
            RemoteData::from_databag(&legacy).cluster,
            ClusterField::Valid(_)
        ));

        let bad_new = bag(&[("cluster", "junk"), ("cluster_string", "b=http://h:2")]);
        let ClusterField::Invalid(invalid) = RemoteData::from_databag(&bad_new).cluster else {
            panic!("expected an invalid cluster");
        };
        assert_eq!(invalid.key, "cluster");
        assert_eq!(
            invalid.to_string(),
            "cluster: entry 1 'junk': expected name=URL"
        );

        let bad_legacy = bag(&[("cluster_string", "junk")]);
        let ClusterField::Invalid(invalid) = RemoteData::from_databag(&bad_legacy).cluster else {
            panic!("expected an invalid cluster");
        };
        assert_eq!(invalid.key, "cluster_string");
    }

    #[test]
    fn some_credential_keys_are_incomplete_not_invalid() {
        let data = RemoteData::from_databag(&bag(&[("client_cert", "garbage")]));
        assert_eq!(
            data.credentials,
            CredentialsField::Incomplete {
                missing: vec!["client_ca", "client_key"]
            }
        );
    }

    #[test]
    fn client_urls_are_sorted_and_distinct() {
        let urls = parse_client_urls("https://b:2379,https://a:2379,https://B:2379").unwrap();
        assert_eq!(format_client_urls(&urls), "https://a:2379,https://b:2379");
        let data = RemoteData::from_databag(&bag(&[("client_urls", "https://a:2379,")]));
        let ClientUrlsField::Invalid(invalid) = data.client_urls else {
            panic!("expected invalid client URLs");
        };
        assert_eq!(
            invalid.to_string(),
            "client_urls: entry 2 is empty (stray ',')"
        );
    }
}
