//! Typed identifiers: endpoints, relation ids, units and applications.
//!
//! Each type validates on construction (`FromStr`) so that code holding one never has to
//! re-check it, and so that a value from the environment or from another unit cannot smuggle
//! whitespace or separators into a command line.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::IdError;

/// An application name, e.g. `etcd` or `kubernetes-control-plane`.
///
/// Juju's rule: lower-case letters, digits and hyphens, starting with a letter, no hyphen at
/// either end or doubled, and no segment made only of digits after a hyphen.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AppName(String);

/// A unit name, `<application>/<number>`, e.g. `etcd/0`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitName {
    app: AppName,
    number: u32,
}

/// An endpoint (relation name in `metadata.yaml`), e.g. `proxy`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Endpoint(String);

/// A relation id as Juju prints it: `<endpoint>:<number>`, e.g. `proxy:3`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RelationId {
    endpoint: Endpoint,
    number: u32,
}

fn is_app_name(s: &str) -> bool {
    if s.is_empty() || s.len() > 63 {
        return false;
    }
    let mut segments = s.split('-');
    let first_ok = segments.next().is_some_and(|seg| {
        seg.starts_with(|c: char| c.is_ascii_lowercase())
            && seg
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    });
    first_ok
        && segments.all(|seg| {
            !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && seg.chars().any(|c| c.is_ascii_lowercase())
        })
}

fn is_endpoint_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with(['-', '_'])
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn parse_number(s: &str) -> Option<u32> {
    // No sign, no leading zeros beyond "0" itself: the text must round-trip.
    if s.is_empty() || (s.len() > 1 && s.starts_with('0')) || !s.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    s.parse().ok()
}

impl AppName {
    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AppName {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        if is_app_name(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::new("application name", s))
        }
    }
}

impl UnitName {
    /// Builds a unit name from its parts.
    pub fn new(app: AppName, number: u32) -> Self {
        Self { app, number }
    }
    /// The application this unit belongs to.
    pub fn app(&self) -> &AppName {
        &self.app
    }
    /// The unit number (the part after the slash).
    pub fn number(&self) -> u32 {
        self.number
    }
}

impl FromStr for UnitName {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let err = || IdError::new("unit name", s);
        let (app, number) = s.split_once('/').ok_or_else(err)?;
        Ok(Self {
            app: app.parse().map_err(|_| err())?,
            number: parse_number(number).ok_or_else(err)?,
        })
    }
}

impl Endpoint {
    /// The endpoint name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Endpoint {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        if is_endpoint_name(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::new("endpoint name", s))
        }
    }
}

impl RelationId {
    /// Builds a relation id from its parts.
    pub fn new(endpoint: Endpoint, number: u32) -> Self {
        Self { endpoint, number }
    }
    /// The endpoint this relation belongs to (from the local unit's point of view).
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
    /// The number Juju assigned to the relation.
    pub fn number(&self) -> u32 {
        self.number
    }
}

impl FromStr for RelationId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let err = || IdError::new("relation id", s);
        let (endpoint, number) = s.rsplit_once(':').ok_or_else(err)?;
        Ok(Self {
            endpoint: endpoint.parse().map_err(|_| err())?,
            number: parse_number(number).ok_or_else(err)?,
        })
    }
}

impl fmt::Display for AppName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}
impl fmt::Display for UnitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("{}/{}", self.app, self.number))
    }
}
impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}
impl fmt::Display for RelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("{}:{}", self.endpoint, self.number))
    }
}

// Juju sorts unit names and relation ids as plain strings (`app/10` before `app/2`); keeping
// the same order everywhere makes our output match the tools byte for byte. Compared byte by
// byte without building the strings: sorting thousands of ids is on every hook's path.
fn decimal(n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

fn cmp_joined(a: (&str, u8, u32), b: (&str, u8, u32)) -> std::cmp::Ordering {
    let (mut da, mut db) = ([0u8; 10], [0u8; 10]);
    if (a.0, a.1) == (b.0, b.1) {
        // One endpoint (or application): the digits decide, compared as text as below.
        return decimal(a.2, &mut da).cmp(decimal(b.2, &mut db));
    }
    let left =
        a.0.bytes()
            .chain([a.1])
            .chain(decimal(a.2, &mut da).iter().copied());
    let right =
        b.0.bytes()
            .chain([b.1])
            .chain(decimal(b.2, &mut db).iter().copied());
    left.cmp(right)
}

impl Ord for UnitName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        cmp_joined(
            (self.app.as_str(), b'/', self.number),
            (other.app.as_str(), b'/', other.number),
        )
    }
}
impl PartialOrd for UnitName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for RelationId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        cmp_joined(
            (self.endpoint.as_str(), b':', self.number),
            (other.endpoint.as_str(), b':', other.number),
        )
    }
}
impl PartialOrd for RelationId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

macro_rules! string_conversions {
    ($($ty:ty),*) => {$(
        impl TryFrom<String> for $ty {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                s.parse()
            }
        }
        impl From<$ty> for String {
            fn from(id: $ty) -> String {
                id.to_string()
            }
        }
    )*};
}
string_conversions!(AppName, UnitName, Endpoint, RelationId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_names_round_trip_and_reject_garbage() {
        let unit: UnitName = "kubernetes-worker/12".parse().unwrap();
        assert_eq!(unit.app().as_str(), "kubernetes-worker");
        assert_eq!(unit.number(), 12);
        assert_eq!(unit.to_string(), "kubernetes-worker/12");
        for bad in [
            "",
            "etcd",
            "etcd/",
            "/0",
            "etcd/01",
            "etcd/-1",
            "Etcd/0",
            "etcd/0/1",
            "etcd-/0",
            "etcd--x/0",
            "etcd-0/1",
            "1etcd/0",
            "etcd /0",
            "unit//0",
        ] {
            assert!(bad.parse::<UnitName>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn relation_ids_split_at_the_last_colon() {
        let rid: RelationId = "proxy:3".parse().unwrap();
        assert_eq!(rid.endpoint().as_str(), "proxy");
        assert_eq!(rid.number(), 3);
        assert!("proxy".parse::<RelationId>().is_err());
        assert!("proxy:x".parse::<RelationId>().is_err());
        assert!(":3".parse::<RelationId>().is_err());
        assert!("pro xy:3".parse::<RelationId>().is_err());
    }

    #[test]
    fn units_and_relation_ids_sort_as_juju_prints_them() {
        let mut units: Vec<UnitName> = ["app/2", "app/10", "app/1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        units.sort();
        let printed: Vec<String> = units.iter().map(ToString::to_string).collect();
        assert_eq!(printed, ["app/1", "app/10", "app/2"]);
    }

    proptest::proptest! {
        #[test]
        fn order_is_the_order_of_the_printed_names(
            a in "[a-z]{1,3}(-[a-z]{1,2})?", n in 0u32..20_000,
            b in "[a-z]{1,3}(-[a-z]{1,2})?", m in 0u32..20_000,
        ) {
            let (x, y): (UnitName, UnitName) =
                (format!("{a}/{n}").parse().unwrap(), format!("{b}/{m}").parse().unwrap());
            proptest::prop_assert_eq!(x.cmp(&y), x.to_string().cmp(&y.to_string()));
            let (r, s): (RelationId, RelationId) =
                (format!("{a}:{n}").parse().unwrap(), format!("{b}:{m}").parse().unwrap());
            proptest::prop_assert_eq!(r.cmp(&s), r.to_string().cmp(&s.to_string()));
        }
    }

    #[test]
    fn ids_serialize_as_strings() {
        let rid: RelationId = "db:10".parse().unwrap();
        assert_eq!(serde_json::to_string(&rid).unwrap(), "\"db:10\"");
        let back: RelationId = serde_json::from_str("\"db:10\"").unwrap();
        assert_eq!(back, rid);
        assert!(serde_json::from_str::<UnitName>("\"nope\"").is_err());
    }
}
