//! Juju secrets as values: URIs, content, owners, rotation policies and metadata.
//!
//! The rules follow juju/juju 3.6 `core/secrets` (`secret.go` `ParseURI`/`String`,
//! `createsecret.go` key rule, `rotate.go` policies).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{AppName, UnitName};

/// A secret value or reference that Juju would not accept, with Juju's text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// Not a secret URI (`secret:<20-char id>` or `secret://<uuid>/<id>`).
    #[error("secret URI {0:?} not valid")]
    Uri(String),
    /// A content key outside Juju's rule (lower-case letters, digits and single hyphens,
    /// starting with a letter, at least three characters).
    #[error("key {0:?} not valid")]
    Key(String),
    /// Content with no key at all.
    #[error("empty secret value not valid")]
    Empty,
    /// A rotation policy Juju does not know.
    #[error("rotate policy {0:?} not valid")]
    RotatePolicy(String),
}

/// A secret's URI. Juju 3 prints `secret:<id>`, where `<id>` is a 20-character xid in
/// lower-case base32hex; a URI that names its source model prints `secret://<uuid>/<id>`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SecretUri {
    id: String,
    source: Option<String>,
}

const XID_LEN: usize = 20;
const BASE32HEX: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";

/// Whether `s` is a secret id as Juju parses one: 20 of `[0-9a-z]` (juju/juju
/// core/secrets/secret.go, `idSnippet`), wider than the base32hex that xid generates, so ids
/// made by other tools (ops.testing) parse too.
fn is_xid(s: &str) -> bool {
    s.len() == XID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

impl SecretUri {
    /// The URI of secret `id` in the local model.
    ///
    /// # Errors
    /// [`SecretError::Uri`] when `id` is not a 20-character xid.
    pub fn from_id(id: &str) -> Result<Self, SecretError> {
        if is_xid(id) {
            Ok(Self {
                id: id.to_owned(),
                source: None,
            })
        } else {
            Err(SecretError::Uri(id.to_owned()))
        }
    }

    /// A URI whose id is the xid encoding of 12 bytes (as Juju's `xid.ID`).
    pub fn from_xid_bytes(bytes: [u8; 12]) -> Self {
        let mut id = String::with_capacity(XID_LEN);
        let mut acc: u32 = 0;
        let mut bits = 0;
        for byte in bytes {
            acc = (acc << 8) | u32::from(byte);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                id.push(char::from(BASE32HEX[((acc >> bits) & 31) as usize]));
            }
        }
        if bits > 0 {
            id.push(char::from(BASE32HEX[((acc << (5 - bits)) & 31) as usize]));
        }
        Self { id, source: None }
    }

    /// The 20-character id (what `secret-info-get` keys its answer by).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The source model's UUID, for a `secret://<uuid>/<id>` URI.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// The same secret without the source model (how the local model keys it).
    pub fn local(&self) -> Self {
        Self {
            id: self.id.clone(),
            source: None,
        }
    }
}

impl FromStr for SecretUri {
    type Err = SecretError;

    /// Parses `secret:<id>`, `secret://<uuid>/<id>` or a bare `<id>`, as Juju's `ParseURI`.
    fn from_str(s: &str) -> Result<Self, SecretError> {
        let bad = || SecretError::Uri(s.to_owned());
        let (source, id) = match s.strip_prefix("secret:") {
            Some(rest) => match rest.strip_prefix("//") {
                Some(rest) => {
                    let (host, path) = rest.split_once('/').ok_or_else(bad)?;
                    let valid_host = !host.is_empty()
                        && host.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
                    if !valid_host {
                        return Err(bad());
                    }
                    (Some(host.to_owned()), path.trim_start_matches('/'))
                }
                None => (None, rest),
            },
            None if s.contains(':') => return Err(bad()),
            None => (None, s),
        };
        if !is_xid(id) {
            return Err(bad());
        }
        Ok(Self {
            id: id.to_owned(),
            source,
        })
    }
}

impl fmt::Display for SecretUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "secret://{source}/{}", self.id),
            None => write!(f, "secret:{}", self.id),
        }
    }
}

impl TryFrom<String> for SecretUri {
    type Error = SecretError;
    fn try_from(s: String) -> Result<Self, SecretError> {
        s.parse()
    }
}

impl From<SecretUri> for String {
    fn from(uri: SecretUri) -> Self {
        uri.to_string()
    }
}

/// Whether `key` is a valid secret content key: Juju's `^[a-z](?:-?[a-z0-9]){2,}$`.
pub fn is_valid_secret_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    let Some((first, rest)) = bytes.split_first() else {
        return false;
    };
    if !first.is_ascii_lowercase() || rest.last() == Some(&b'-') {
        return false;
    }
    let mut groups = 0;
    let mut after_hyphen = false;
    for &b in rest {
        match b {
            b'-' if after_hyphen => return false,
            b'-' => after_hyphen = true,
            b if b.is_ascii_lowercase() || b.is_ascii_digit() => {
                groups += 1;
                after_hyphen = false;
            }
            _ => return false,
        }
    }
    groups >= 2
}

/// A secret revision's content: keys (Juju's key rule) to values.
///
/// Values are kept as text; Juju stores them base64-encoded, which only changes what
/// `secret-get key#base64` prints.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, String>",
    into = "BTreeMap<String, String>"
)]
pub struct SecretContent(BTreeMap<String, String>);

impl SecretContent {
    /// Content from key/value pairs.
    ///
    /// # Errors
    /// [`SecretError::Key`] for the first invalid key, [`SecretError::Empty`] for no keys.
    pub fn new(values: BTreeMap<String, String>) -> Result<Self, SecretError> {
        if values.is_empty() {
            return Err(SecretError::Empty);
        }
        if let Some(bad) = values.keys().find(|k| !is_valid_secret_key(k)) {
            return Err(SecretError::Key(bad.clone()));
        }
        Ok(Self(values))
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// All keys and values.
    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// The keys and values, owned.
    pub fn into_values(self) -> BTreeMap<String, String> {
        self.0
    }
}

/// Shows the keys only: secret values never reach a log.
impl fmt::Debug for SecretContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl TryFrom<BTreeMap<String, String>> for SecretContent {
    type Error = SecretError;
    fn try_from(values: BTreeMap<String, String>) -> Result<Self, SecretError> {
        Self::new(values)
    }
}

impl From<SecretContent> for BTreeMap<String, String> {
    fn from(content: SecretContent) -> Self {
        content.0
    }
}

/// Who owns a secret: the application (managed by its leader) or one unit.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretOwner {
    /// `secret-add` (default `--owner application`): the leader manages it.
    Application(AppName),
    /// `secret-add --owner unit`: only that unit manages it.
    Unit(UnitName),
}

impl SecretOwner {
    /// `application` or `unit`, as `secret-info-get` prints the owner.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Application(_) => "application",
            Self::Unit(_) => "unit",
        }
    }

    /// The application the owner is or belongs to.
    pub fn app(&self) -> &AppName {
        match self {
            Self::Application(app) => app,
            Self::Unit(unit) => unit.app(),
        }
    }
}

/// Which owner `secret-add --owner` asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretOwnerKind {
    /// The unit's application (the default).
    #[default]
    Application,
    /// The unit itself.
    Unit,
}

/// A secret's rotation policy (`--rotate`), from Juju's `core/secrets/rotate.go`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RotatePolicy {
    /// `never`
    Never,
    /// `hourly`
    Hourly,
    /// `daily`
    Daily,
    /// `weekly`
    Weekly,
    /// `monthly`
    Monthly,
    /// `quarterly`
    Quarterly,
    /// `yearly`
    Yearly,
}

impl RotatePolicy {
    const ALL: [(Self, &'static str); 7] = [
        (Self::Never, "never"),
        (Self::Hourly, "hourly"),
        (Self::Daily, "daily"),
        (Self::Weekly, "weekly"),
        (Self::Monthly, "monthly"),
        (Self::Quarterly, "quarterly"),
        (Self::Yearly, "yearly"),
    ];

    /// The policy's name.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(p, _)| *p == self)
            .map_or("never", |(_, name)| name)
    }
}

impl FromStr for RotatePolicy {
    type Err = SecretError;
    fn from_str(s: &str) -> Result<Self, SecretError> {
        Self::ALL
            .iter()
            .find(|(_, name)| *name == s)
            .map(|(p, _)| *p)
            .ok_or_else(|| SecretError::RotatePolicy(s.to_owned()))
    }
}

impl fmt::Display for RotatePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Metadata changes of `secret-add`/`secret-set` (`None` leaves a field as it is).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretMeta {
    /// `--label`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `--description`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `--rotate`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<RotatePolicy>,
    /// `--expire`, as an RFC 3339 time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
}

impl SecretMeta {
    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// What `secret-info-get` tells an owner about one secret (Juju's `SecretMetadata`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretInfo {
    /// The secret.
    pub uri: SecretUri,
    /// The owner's label, if any.
    pub label: Option<String>,
    /// The latest revision.
    pub revision: u32,
    /// The owner.
    pub owner: SecretOwner,
    /// The rotation policy, if set.
    pub rotation: Option<RotatePolicy>,
    /// The description, if set.
    pub description: Option<String>,
    /// When the latest revision expires (RFC 3339), if set.
    pub expiry: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_in_juju_forms_and_print_the_short_one() {
        let uri: SecretUri = "secret:9m4e2mr0ui3e8a215n4g".parse().unwrap();
        assert_eq!(uri.id(), "9m4e2mr0ui3e8a215n4g");
        assert_eq!(uri.to_string(), "secret:9m4e2mr0ui3e8a215n4g");
        let bare: SecretUri = "9m4e2mr0ui3e8a215n4g".parse().unwrap();
        assert_eq!(bare, uri);
        let remote: SecretUri =
            "secret://0e2a4b5c-1d6f-4e3a-8b9c-0d1e2f3a4b5c/9m4e2mr0ui3e8a215n4g"
                .parse()
                .unwrap();
        assert_eq!(remote.local(), uri);
        // Juju's idSnippet is [0-9a-z]{20}: ids made outside Juju (ops.testing) parse too.
        assert!("secret:bk3qfnd991ishtdwka8g".parse::<SecretUri>().is_ok());
        assert_eq!(
            remote.to_string(),
            "secret://0e2a4b5c-1d6f-4e3a-8b9c-0d1e2f3a4b5c/9m4e2mr0ui3e8a215n4g"
        );
        for bad in [
            "",
            "secret:",
            "secret:short",
            "secret:9m4e2mr0ui3e8a215n4G",
            "secret:9m4e2mr0ui3e8a215n4-",
            "other:9m4e2mr0ui3e8a215n4g",
            "secret://not a uuid/9m4e2mr0ui3e8a215n4g",
        ] {
            assert_eq!(
                bad.parse::<SecretUri>(),
                Err(SecretError::Uri(bad.to_owned())),
                "{bad}"
            );
        }
        assert_eq!(
            SecretError::Uri("x".into()).to_string(),
            "secret URI \"x\" not valid"
        );
    }

    #[test]
    fn xid_bytes_encode_to_twenty_base32hex_characters() {
        let uri = SecretUri::from_xid_bytes([0; 12]);
        assert_eq!(uri.id(), "00000000000000000000");
        let uri = SecretUri::from_xid_bytes([0xff; 12]);
        assert_eq!(uri.id(), "vvvvvvvvvvvvvvvvvvvg");
        assert_eq!(uri.to_string().parse::<SecretUri>(), Ok(uri));
    }

    #[test]
    fn keys_follow_the_juju_rule() {
        for good in ["abc", "client-key", "a1b", "a-b-c", "key2"] {
            assert!(is_valid_secret_key(good), "{good}");
        }
        for bad in [
            "", "ab", "Abc", "1ab", "a--b", "ab-", "a_b", "a b", "-ab", "a-b",
        ] {
            assert!(!is_valid_secret_key(bad), "{bad}");
        }
        let content = SecretContent::new(BTreeMap::from([("ok".repeat(2), "v".to_owned())]));
        assert!(content.is_ok());
        assert_eq!(
            SecretContent::new(BTreeMap::from([("BAD".to_owned(), "v".to_owned())])),
            Err(SecretError::Key("BAD".into()))
        );
        assert_eq!(SecretContent::new(BTreeMap::new()), Err(SecretError::Empty));
    }

    #[test]
    fn content_debug_shows_keys_only() {
        let content =
            SecretContent::new(BTreeMap::from([("token".to_owned(), "s3cret".to_owned())]))
                .unwrap();
        assert_eq!(format!("{content:?}"), "{\"token\"}");
    }

    #[test]
    fn rotate_policies_round_trip() {
        for name in [
            "never",
            "hourly",
            "daily",
            "weekly",
            "monthly",
            "quarterly",
            "yearly",
        ] {
            assert_eq!(name.parse::<RotatePolicy>().unwrap().as_str(), name);
        }
        assert_eq!(
            "often".parse::<RotatePolicy>(),
            Err(SecretError::RotatePolicy("often".into()))
        );
    }
}
