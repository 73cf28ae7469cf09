//! etcd URLs and the `--initial-cluster` *cluster string*, validated the way etcd parses them,
//! only stricter where strictness keeps relation data out of unit files and command lines.
//!
//! # The safety guarantee
//!
//! The canonical text of an [`EtcdUrl`], a [`MemberName`] and a [`ClusterString`] (their
//! `Display` output) uses only the ASCII characters `a-z A-Z 0-9 . - _ : / [ ] = ,` — no
//! whitespace, control character, quote, `$`, `%`, `\`, `;`, backtick or anything outside ASCII.
//! Such a text is one shell word and one systemd unit-file word as it stands, needs no escaping
//! in either, and cannot start a new line. The proxy renderer relies on this: a remote unit can
//! never inject a line or an argument through these types.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// The longest URL text accepted. A real etcd URL is well under 300 bytes
/// (`https://` + a 253-byte DNS name + `:65535`); the cap bounds the work on hostile input.
pub const MAX_URL_LEN: usize = 512;

/// The longest cluster string accepted (64 KiB): about a thousand peer URLs, far beyond any
/// etcd cluster, small enough that hostile input cannot cost memory or time.
pub const MAX_CLUSTER_STRING_LEN: usize = 64 * 1024;

/// The longest member name accepted.
pub const MAX_MEMBER_NAME_LEN: usize = 255;

/// How many characters of an offending input an error message quotes.
const EXCERPT_CHARS: usize = 40;

/// A short, escaped excerpt of untrusted input, safe to put in a one-line message: at most
/// [`EXCERPT_CHARS`] characters, quotes, backslashes and everything outside printable ASCII
/// escaped (`\n`, `\u{ff1a}`, so a look-alike shows as what it is), `...` when cut.
pub(crate) fn excerpt(input: &str) -> String {
    excerpt_of(input, EXCERPT_CHARS)
}

/// How many characters of a message from the other side (a server's error text, say) an
/// error or log line repeats.
pub(crate) const MESSAGE_CHARS: usize = 200;

/// As [`excerpt`], keeping up to `max_chars` characters: the one way text from the other
/// side of a relation or a connection gets into a message. Longer input is cut.
pub(crate) fn excerpt_of(input: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut chars = input.chars();
    for c in chars.by_ref().take(max_chars) {
        out.extend(c.escape_default());
    }
    if chars.next().is_some() {
        out.push_str("...");
    }
    out
}

/// The URL scheme: etcd also accepts `unix` and `unixs`, but those name a socket path on the
/// provider's machine, which a requirer on another machine can never reach, so they are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UrlScheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

impl UrlScheme {
    /// The scheme as written in a URL (`http` or `https`).
    pub fn as_str(self) -> &'static str {
        match self {
            UrlScheme::Http => "http",
            UrlScheme::Https => "https",
        }
    }
}

impl fmt::Display for UrlScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The host part of an [`EtcdUrl`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum UrlHost {
    /// A dotted-quad IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (written in brackets in a URL; zone ids are not accepted).
    Ipv6(Ipv6Addr),
    /// A DNS name of ASCII letters, digits, hyphens and dots, stored in lower case.
    Dns(String),
}

impl fmt::Display for UrlHost {
    /// The host without brackets (`10.0.0.1`, `::1`, `etcd.example`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlHost::Ipv4(ip) => ip.fmt(f),
            UrlHost::Ipv6(ip) => ip.fmt(f),
            UrlHost::Dns(name) => f.write_str(name),
        }
    }
}

/// Why a text is not an acceptable etcd URL. Messages are one line and quote at most a short,
/// escaped excerpt of the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The text is empty.
    #[error("empty URL")]
    Empty,
    /// The text is longer than [`MAX_URL_LEN`].
    #[error("URL too long ({len} bytes, at most {max})")]
    TooLong {
        /// The length of the input in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A character outside `A-Z a-z 0-9 - . _ ~ : / [ ] @ ? #` (whitespace, control characters,
    /// quotes, shell metacharacters, `%`-escapes, non-ASCII look-alikes, ...).
    #[error("invalid character '{found}' at byte {at} of the URL")]
    InvalidCharacter {
        /// The character, escaped.
        found: String,
        /// Its byte offset in the URL.
        at: usize,
    },
    /// No `scheme://` at the start.
    #[error("URL must have the form scheme://host:port")]
    NotAbsolute,
    /// A Unix socket URL, which a remote unit cannot reach.
    #[error(
        "URL scheme must be http or https: unix sockets are not reachable from another machine"
    )]
    UnixScheme,
    /// Any other scheme.
    #[error("URL scheme must be http or https, not '{found}'")]
    Scheme {
        /// An excerpt of the scheme.
        found: String,
    },
    /// `user@` before the host.
    #[error("URL must not contain user info ('@')")]
    UserInfo,
    /// A path after the port, even a lone `/` (etcd refuses any non-empty path).
    #[error("URL must not contain a path")]
    Path,
    /// A `?query`.
    #[error("URL must not contain a query ('?')")]
    Query,
    /// A `#fragment`.
    #[error("URL must not contain a fragment ('#')")]
    Fragment,
    /// No `:port` after the host.
    #[error("URL address does not have the form host:port")]
    MissingPort,
    /// The port is not a decimal number in 1-65535 without leading zeros.
    #[error("invalid port '{found}': must be 1-65535, decimal, without leading zeros")]
    Port {
        /// An excerpt of the port text.
        found: String,
    },
    /// The host is not an IPv4 address, a bracketed IPv6 address or a DNS name.
    #[error("invalid host '{found}': {why}")]
    Host {
        /// An excerpt of the host text.
        found: String,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// A validated etcd client or peer URL: `http` or `https`, a host and an explicit port, nothing
/// else. Parsing accepts what etcd's `types.NewURLs` accepts, minus `unix`/`unixs` and minus
/// user info, queries, fragments and surrounding whitespace (etcd would pass those on or trim
/// them; we refuse them so the canonical text is the whole truth).
///
/// The canonical form (`Display`, [`EtcdUrl::as_str`]) lower-cases the scheme and a DNS host and
/// writes IPv6 in its RFC 5952 form, so equal URLs have equal text. It holds only
/// `a-z 0-9 . - : / [ ]` (see the [module docs](self) for why that matters).
///
/// Ordering is by canonical text, as etcd sorts URLs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EtcdUrl {
    scheme: UrlScheme,
    host: UrlHost,
    port: u16,
    canonical: String,
}

impl EtcdUrl {
    /// Builds a URL from validated parts.
    pub fn new(scheme: UrlScheme, host: UrlHost, port: u16) -> Result<Self, UrlError> {
        if port == 0 {
            return Err(UrlError::Port { found: "0".into() });
        }
        if let UrlHost::Dns(name) = &host {
            // Re-validate: the variant is public, so its text may come from anywhere.
            let checked = parse_dns_name(name)?;
            return Ok(Self::from_parts(scheme, checked, port));
        }
        Ok(Self::from_parts(scheme, host, port))
    }

    fn from_parts(scheme: UrlScheme, host: UrlHost, port: u16) -> Self {
        let canonical = format!("{}://{}", scheme.as_str(), host_port(&host, port));
        Self {
            scheme,
            host,
            port,
            canonical,
        }
    }

    /// The scheme.
    pub fn scheme(&self) -> UrlScheme {
        self.scheme
    }

    /// The host.
    pub fn host(&self) -> &UrlHost {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port`, with IPv6 hosts in brackets (`[::1]:2379`): the form `etcd gateway
    /// --endpoints` takes.
    pub fn host_port(&self) -> String {
        host_port(&self.host, self.port)
    }

    /// The same URL with another port, e.g. a peer URL turned into a guessed client URL.
    pub fn with_port(&self, port: u16) -> Result<Self, UrlError> {
        if port == 0 {
            return Err(UrlError::Port { found: "0".into() });
        }
        Ok(Self::from_parts(self.scheme, self.host.clone(), port))
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }
}

fn host_port(host: &UrlHost, port: u16) -> String {
    match host {
        UrlHost::Ipv6(ip) => format!("[{ip}]:{port}"),
        other => format!("{other}:{port}"),
    }
}

impl fmt::Display for EtcdUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

impl PartialOrd for EtcdUrl {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for EtcdUrl {
    fn cmp(&self, other: &Self) -> Ordering {
        self.canonical.cmp(&other.canonical)
    }
}

/// Characters that may appear anywhere in a URL text before its structure is checked; any
/// other character is reported as [`UrlError::InvalidCharacter`].
fn is_url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/[]@?#".contains(c)
}

impl FromStr for EtcdUrl {
    type Err = UrlError;

    fn from_str(text: &str) -> Result<Self, UrlError> {
        if text.is_empty() {
            return Err(UrlError::Empty);
        }
        if text.len() > MAX_URL_LEN {
            return Err(UrlError::TooLong {
                len: text.len(),
                max: MAX_URL_LEN,
            });
        }
        if let Some((at, c)) = text.char_indices().find(|&(_, c)| !is_url_char(c)) {
            return Err(UrlError::InvalidCharacter {
                found: c.escape_default().collect(),
                at,
            });
        }
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(UrlError::NotAbsolute);
        };
        let scheme = parse_scheme(scheme)?;
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        match tail.chars().next() {
            None => {}
            Some('/') => return Err(UrlError::Path),
            Some('?') => return Err(UrlError::Query),
            Some(_) => return Err(UrlError::Fragment),
        }
        if authority.contains('@') {
            return Err(UrlError::UserInfo);
        }
        let (host, port) = split_host_port(authority)?;
        let port = parse_port(port)?;
        Ok(Self::from_parts(scheme, host, port))
    }
}

fn parse_scheme(scheme: &str) -> Result<UrlScheme, UrlError> {
    if scheme.eq_ignore_ascii_case("http") {
        Ok(UrlScheme::Http)
    } else if scheme.eq_ignore_ascii_case("https") {
        Ok(UrlScheme::Https)
    } else if scheme.eq_ignore_ascii_case("unix") || scheme.eq_ignore_ascii_case("unixs") {
        Err(UrlError::UnixScheme)
    } else if scheme.is_empty() {
        Err(UrlError::NotAbsolute)
    } else {
        Err(UrlError::Scheme {
            found: excerpt(scheme),
        })
    }
}

fn split_host_port(authority: &str) -> Result<(UrlHost, &str), UrlError> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let Some((inside, after)) = bracketed.split_once(']') else {
            return Err(host_error(authority, "unclosed '[' of an IPv6 address"));
        };
        let ip = inside
            .parse::<Ipv6Addr>()
            .map_err(|_| host_error(inside, "not a valid IPv6 address"))?;
        return match after.strip_prefix(':') {
            Some(port) => Ok((UrlHost::Ipv6(ip), port)),
            None if after.is_empty() => Err(UrlError::MissingPort),
            None => Err(host_error(authority, "unexpected text after ']'")),
        };
    }
    let Some((host, port)) = authority.split_once(':') else {
        return Err(UrlError::MissingPort);
    };
    if port.contains(':') {
        return Err(host_error(
            authority,
            "an IPv6 address must be written in brackets",
        ));
    }
    if host.contains('[') || host.contains(']') {
        return Err(host_error(host, "brackets are only for IPv6 addresses"));
    }
    if host.is_empty() {
        return Err(host_error(host, "empty host"));
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        // All digits and dots: an IPv4 address or nothing (a numeric last label is not a
        // DNS name, and resolvers would read it as an address in some other notation).
        let ip = host
            .parse::<Ipv4Addr>()
            .map_err(|_| host_error(host, "not a valid IPv4 address"))?;
        return Ok((UrlHost::Ipv4(ip), port));
    }
    Ok((parse_dns_name(host)?, port))
}

fn parse_dns_name(name: &str) -> Result<UrlHost, UrlError> {
    if name.is_empty() {
        return Err(host_error(name, "empty host"));
    }
    if name.len() > 253 {
        return Err(host_error(name, "a DNS name has at most 253 characters"));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(host_error(name, "empty DNS label"));
        }
        if label.len() > 63 {
            return Err(host_error(name, "a DNS label has at most 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(host_error(
                name,
                "a DNS name has only letters, digits, hyphens and dots",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(host_error(
                name,
                "a DNS label must not start or end with a hyphen",
            ));
        }
    }
    if name.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(host_error(name, "not a valid IPv4 address"));
    }
    Ok(UrlHost::Dns(name.to_ascii_lowercase()))
}

fn parse_port(port: &str) -> Result<u16, UrlError> {
    let bad = || UrlError::Port {
        found: excerpt(port),
    };
    if port.is_empty() || port.len() > 5 || port.starts_with('0') {
        return Err(bad());
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(bad()),
    }
}

fn host_error(found: &str, why: &'static str) -> UrlError {
    UrlError::Host {
        found: excerpt(found),
        why,
    }
}

/// Why a text is not an acceptable member name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MemberNameError {
    /// The name is empty.
    #[error("empty member name")]
    Empty,
    /// The name is longer than [`MAX_MEMBER_NAME_LEN`].
    #[error("member name too long ({len} bytes, at most {max})")]
    TooLong {
        /// The length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A character outside `A-Z a-z 0-9 - _ .`, or a first character that is not a letter or
    /// digit.
    #[error("invalid character '{found}' in member name at byte {at}")]
    InvalidCharacter {
        /// The character, escaped.
        found: String,
        /// Its byte offset in the name.
        at: usize,
    },
}

/// An etcd member name as it appears in a cluster string.
///
/// etcd itself takes any string, but real names are host-like (`etcd0` from Juju's `etcd/0`,
/// `default`, `infra-1.example`). We accept ASCII letters, digits, `-`, `_` and `.`, starting
/// with a letter or digit (so a name never reads as a command-line option), at most
/// [`MAX_MEMBER_NAME_LEN`] bytes. Names are case-sensitive, as in etcd.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberName(String);

impl MemberName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MemberName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for MemberName {
    type Err = MemberNameError;

    fn from_str(name: &str) -> Result<Self, MemberNameError> {
        if name.is_empty() {
            return Err(MemberNameError::Empty);
        }
        if name.len() > MAX_MEMBER_NAME_LEN {
            return Err(MemberNameError::TooLong {
                len: name.len(),
                max: MAX_MEMBER_NAME_LEN,
            });
        }
        let allowed = |(i, c): &(usize, char)| {
            c.is_ascii_alphanumeric() || (*i > 0 && matches!(c, '-' | '_' | '.'))
        };
        if let Some((at, c)) = name.char_indices().find(|ic| !allowed(ic)) {
            return Err(MemberNameError::InvalidCharacter {
                found: c.escape_default().collect(),
                at,
            });
        }
        Ok(Self(name.to_owned()))
    }
}

/// One `name=url` entry of a cluster string.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClusterEntry {
    name: MemberName,
    url: EtcdUrl,
}

impl ClusterEntry {
    /// An entry for one peer URL of a member.
    pub fn new(name: MemberName, url: EtcdUrl) -> Self {
        Self { name, url }
    }

    /// The member name.
    pub fn name(&self) -> &MemberName {
        &self.name
    }

    /// The peer URL.
    pub fn url(&self) -> &EtcdUrl {
        &self.url
    }

    /// The bytes of `name=url`, without allocating.
    fn text_bytes(&self) -> impl Iterator<Item = u8> + '_ {
        let (name, url) = (self.name.0.bytes(), self.url.canonical.bytes());
        name.chain(std::iter::once(b'=')).chain(url)
    }

    /// Length of `name=url`.
    fn text_len(&self) -> usize {
        self.name.0.len() + 1 + self.url.canonical.len()
    }
}

impl fmt::Display for ClusterEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.name, self.url)
    }
}

impl PartialOrd for ClusterEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ClusterEntry {
    /// Compares the `name=url` texts, as etcd's `URLsMap.String` sorts its pairs (which is
    /// not the same as comparing names first: `a-b=…` sorts before `a=…`).
    fn cmp(&self, other: &Self) -> Ordering {
        self.text_bytes().cmp(other.text_bytes())
    }
}

/// Why a text is not an acceptable cluster string. The message is one line, names the entry
/// (counted from 1) and quotes at most a short, escaped excerpt of it, because the input comes
/// from another unit and may be huge or hostile.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterStringError {
    /// Nothing at all.
    #[error("cluster string is empty")]
    Empty,
    /// Longer than [`MAX_CLUSTER_STRING_LEN`].
    #[error("cluster string too long ({len} bytes, at most {max})")]
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
    /// An entry without `=`.
    #[error("entry {entry} '{excerpt}': expected name=URL")]
    MissingEquals {
        /// The entry's position, from 1.
        entry: usize,
        /// A short escaped excerpt of the entry.
        excerpt: String,
    },
    /// The part before the first `=` is not a valid member name.
    #[error("entry {entry} '{excerpt}': {source}")]
    Name {
        /// The entry's position, from 1.
        entry: usize,
        /// A short escaped excerpt of the entry.
        excerpt: String,
        /// What is wrong with the name.
        source: MemberNameError,
    },
    /// The part after the first `=` is not a valid URL.
    #[error("entry {entry} '{excerpt}': {source}")]
    Url {
        /// The entry's position, from 1.
        entry: usize,
        /// A short escaped excerpt of the entry.
        excerpt: String,
        /// What is wrong with the URL.
        source: UrlError,
    },
    /// A peer URL that appears twice (under one name or two): etcd refuses an initial cluster
    /// with a duplicated URL.
    #[error("entry {entry} '{excerpt}': duplicate URL {url} (first in entry {first})")]
    DuplicateUrl {
        /// The entry's position, from 1.
        entry: usize,
        /// A short escaped excerpt of the entry.
        excerpt: String,
        /// The canonical URL.
        url: String,
        /// The position of its first occurrence, from 1.
        first: usize,
    },
}

/// An etcd `--initial-cluster` value: `name=peerURL[,name=peerURL...]`, one entry per peer URL
/// (a member with two peer URLs has two entries with the same name).
///
/// Parsing follows etcd: split on `,`, split each entry at its first `=`. On top of that:
/// names are [`MemberName`]s, URLs are [`EtcdUrl`]s, there is at least one entry and no empty
/// one, no URL appears twice (etcd refuses duplicated URLs when it bootstraps), and the text is
/// at most [`MAX_CLUSTER_STRING_LEN`] bytes.
///
/// Entries are kept in canonical order — sorted by their `name=url` text, exactly as etcd's
/// `URLsMap.String` formats — so `Display` is canonical, `parse(format(x)) == x`, and two
/// cluster strings are equal when they describe the same entries in any order or spelling.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClusterString {
    entries: Vec<ClusterEntry>,
}

impl ClusterString {
    /// Builds a cluster string from entries in any order, e.g. from a live member list.
    ///
    /// # Errors
    /// No entries, a duplicated URL, or a formatted text over [`MAX_CLUSTER_STRING_LEN`].
    pub fn new(
        entries: impl IntoIterator<Item = ClusterEntry>,
    ) -> Result<Self, ClusterStringError> {
        let entries: Vec<ClusterEntry> = entries.into_iter().collect();
        if entries.is_empty() {
            return Err(ClusterStringError::Empty);
        }
        let len = entries.iter().map(|e| e.text_len() + 1).sum::<usize>() - 1;
        if len > MAX_CLUSTER_STRING_LEN {
            return Err(ClusterStringError::TooLong {
                len,
                max: MAX_CLUSTER_STRING_LEN,
            });
        }
        Self::checked(entries, |_, entry| excerpt(&entry.to_string()))
    }

    /// Rejects duplicated URLs (positions reported as given, quoted by `quote`), then sorts.
    fn checked(
        mut entries: Vec<ClusterEntry>,
        quote: impl Fn(usize, &ClusterEntry) -> String,
    ) -> Result<Self, ClusterStringError> {
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            if let Some(first) = seen.insert(entry.url.as_str(), i + 1) {
                return Err(ClusterStringError::DuplicateUrl {
                    entry: i + 1,
                    excerpt: quote(i, entry),
                    url: entry.url.to_string(),
                    first,
                });
            }
        }
        entries.sort();
        Ok(Self { entries })
    }

    /// The entries, in canonical order.
    pub fn entries(&self) -> &[ClusterEntry] {
        &self.entries
    }

    /// All peer URLs, in canonical entry order.
    pub fn peer_urls(&self) -> impl Iterator<Item = &EtcdUrl> + '_ {
        self.entries.iter().map(ClusterEntry::url)
    }

    /// Each member name once, in canonical entry order (a name's entries are adjacent there).
    pub fn names(&self) -> Vec<&MemberName> {
        let mut names: Vec<&MemberName> = self.entries.iter().map(ClusterEntry::name).collect();
        names.dedup();
        names
    }
}

impl fmt::Display for ClusterString {
    /// The canonical text: entries sorted, joined with `,`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            entry.fmt(f)?;
        }
        Ok(())
    }
}

impl FromStr for ClusterString {
    type Err = ClusterStringError;

    fn from_str(text: &str) -> Result<Self, ClusterStringError> {
        if text.is_empty() {
            return Err(ClusterStringError::Empty);
        }
        if text.len() > MAX_CLUSTER_STRING_LEN {
            return Err(ClusterStringError::TooLong {
                len: text.len(),
                max: MAX_CLUSTER_STRING_LEN,
            });
        }
        let mut entries = Vec::new();
        let raws: Vec<&str> = text.split(',').collect();
        for (i, raw) in raws.iter().copied().enumerate() {
            let entry = i + 1;
            if raw.is_empty() {
                return Err(ClusterStringError::EmptyEntry { entry });
            }
            let Some((name, url)) = raw.split_once('=') else {
                return Err(ClusterStringError::MissingEquals {
                    entry,
                    excerpt: excerpt(raw),
                });
            };
            let name = name
                .parse::<MemberName>()
                .map_err(|source| ClusterStringError::Name {
                    entry,
                    excerpt: excerpt(raw),
                    source,
                })?;
            let url = url
                .parse::<EtcdUrl>()
                .map_err(|source| ClusterStringError::Url {
                    entry,
                    excerpt: excerpt(raw),
                    source,
                })?;
            entries.push(ClusterEntry { name, url });
        }
        Self::checked(entries, |i, _| excerpt(raws[i]))
    }
}

macro_rules! serde_as_string {
    ($ty:ty, $what:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse()
                    .map_err(|e| serde::de::Error::custom(format_args!("invalid {}: {e}", $what)))
            }
        }
    };
}

serde_as_string!(EtcdUrl, "etcd URL");
serde_as_string!(MemberName, "member name");
serde_as_string!(ClusterString, "cluster string");

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Result<EtcdUrl, UrlError> {
        s.parse()
    }

    #[test]
    fn accepts_the_usual_urls_and_canonicalises_them() {
        let cases = [
            ("https://10.0.0.1:2380", "https://10.0.0.1:2380"),
            ("http://127.0.0.1:2379", "http://127.0.0.1:2379"),
            (
                "HTTPS://Etcd-0.Example.COM:2380",
                "https://etcd-0.example.com:2380",
            ),
            ("https://[::1]:2380", "https://[::1]:2380"),
            ("https://[0:0:0:0:0:0:0:1]:2380", "https://[::1]:2380"),
            ("https://[FE80::A]:65535", "https://[fe80::a]:65535"),
            ("http://localhost:1", "http://localhost:1"),
        ];
        for (input, canonical) in cases {
            let parsed = url(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(parsed.to_string(), canonical, "{input}");
            assert_eq!(url(canonical).unwrap(), parsed);
        }
    }

    #[test]
    fn accessors_report_the_parts() {
        let u = url("https://[2001:db8::1]:2380").unwrap();
        assert_eq!(u.scheme(), UrlScheme::Https);
        assert_eq!(u.host(), &UrlHost::Ipv6("2001:db8::1".parse().unwrap()));
        assert_eq!(u.host().to_string(), "2001:db8::1");
        assert_eq!(u.port(), 2380);
        assert_eq!(u.host_port(), "[2001:db8::1]:2380");
        let v4 = url("http://10.1.2.3:2379").unwrap();
        assert_eq!(v4.host_port(), "10.1.2.3:2379");
        assert_eq!(v4.scheme().as_str(), "http");
        assert_eq!(
            v4.with_port(4001).unwrap().to_string(),
            "http://10.1.2.3:4001"
        );
    }

    #[test]
    fn rejects_what_etcd_rejects_and_what_we_refuse() {
        let cases: &[(&str, UrlError)] = &[
            ("", UrlError::Empty),
            ("10.0.0.1:2380", UrlError::NotAbsolute),
            ("://10.0.0.1:2380", UrlError::NotAbsolute),
            ("unix://etcd.sock:1", UrlError::UnixScheme),
            ("unixs://etcd.sock:1", UrlError::UnixScheme),
            (
                "ftp://10.0.0.1:2380",
                UrlError::Scheme {
                    found: "ftp".into(),
                },
            ),
            ("https://10.0.0.1:2380/", UrlError::Path),
            ("https://10.0.0.1:2380/v2", UrlError::Path),
            ("https://10.0.0.1/", UrlError::Path),
            ("https://10.0.0.1:2380?a", UrlError::Query),
            ("https://10.0.0.1:2380#a", UrlError::Fragment),
            ("https://user@10.0.0.1:2380", UrlError::UserInfo),
            ("https://10.0.0.1", UrlError::MissingPort),
            ("https://[::1]", UrlError::MissingPort),
        ];
        for (input, expected) in cases {
            assert_eq!(&url(input).unwrap_err(), expected, "{input:?}");
        }
    }

    #[test]
    fn rejects_bad_ports_and_hosts() {
        for input in [
            "https://10.0.0.1:",
            "https://10.0.0.1:0",
            "https://10.0.0.1:02380",
            "https://10.0.0.1:65536",
            "https://10.0.0.1:999999",
            "https://10.0.0.1:23a",
        ] {
            assert!(
                matches!(url(input), Err(UrlError::Port { .. })),
                "{input}: {:?}",
                url(input)
            );
        }
        for input in [
            "https://:2380",
            "https://10.0.0.256:2380",
            "https://1.2.3:2380",
            "https://010.0.0.1:2380",
            "https://-a.example:2380",
            "https://a..b:2380",
            "https://a_b:2380",
            "https://::1:2380",
            "https://[::1:2380",
            "https://[::g]:2380",
            "https://[::1]x:2380",
            "https://a]:2380",
        ] {
            assert!(
                matches!(url(input), Err(UrlError::Host { .. })),
                "{input}: {:?}",
                url(input)
            );
        }
    }

    #[test]
    fn rejects_characters_that_could_break_a_unit_file_or_shell_word() {
        for input in [
            "https://10.0.0.1:2380\n",
            " https://10.0.0.1:2380",
            "https://10.0.0.1:2380\0",
            "https://10.0.0.1:2380;rm",
            "https://$(id):2380",
            "https://`id`:2380",
            "https://'a':2380",
            "https://\"a\":2380",
            "https://10.0.0.1\u{ff1a}2380",
            "https://\u{435}tcd:2380",
            "https://%31.0.0.1:2380",
            "https://[fe80::1%25eth0]:2380",
            "https://a\\b:2380",
        ] {
            let err = url(input).unwrap_err();
            assert!(
                matches!(err, UrlError::InvalidCharacter { .. }),
                "{input:?}: {err:?}"
            );
            assert!(!err.to_string().contains('\n'));
        }
    }

    #[test]
    fn new_validates_a_dns_host_and_the_port() {
        let ok = EtcdUrl::new(UrlScheme::Https, UrlHost::Dns("Etcd.Example".into()), 2379);
        assert_eq!(ok.unwrap().as_str(), "https://etcd.example:2379");
        let bad = EtcdUrl::new(UrlScheme::Https, UrlHost::Dns("a b\n".into()), 2379);
        assert!(matches!(bad, Err(UrlError::Host { .. })));
        let v6 = UrlHost::Ipv6(Ipv6Addr::LOCALHOST);
        assert!(matches!(
            EtcdUrl::new(UrlScheme::Http, v6, 0),
            Err(UrlError::Port { .. })
        ));
    }

    #[test]
    fn too_long_urls_are_refused_before_any_work() {
        let long = format!("https://{}.example:2380", "a".repeat(600));
        assert!(matches!(url(&long), Err(UrlError::TooLong { .. })));
    }

    #[test]
    fn member_names() {
        for ok in ["etcd0", "a", "infra-1.example", "Node_2", "0"] {
            assert_eq!(ok.parse::<MemberName>().unwrap().as_str(), ok);
        }
        for bad in ["", "-a", ".a", "_a", "a b", "a/b", "a=b", "a\n", "é"] {
            assert!(bad.parse::<MemberName>().is_err(), "{bad:?}");
        }
        assert!(matches!(
            "a".repeat(256).parse::<MemberName>(),
            Err(MemberNameError::TooLong { .. })
        ));
    }

    #[test]
    fn cluster_string_is_sorted_like_etcd() {
        let cs: ClusterString =
            "etcd1=https://10.0.0.2:2380,etcd0=https://10.0.0.1:2380,a=http://h:1,a-b=http://h:2"
                .parse()
                .unwrap();
        assert_eq!(
            cs.to_string(),
            "a-b=http://h:2,a=http://h:1,etcd0=https://10.0.0.1:2380,etcd1=https://10.0.0.2:2380"
        );
        let names: Vec<&str> = cs.names().iter().map(|n| n.as_str()).collect();
        assert_eq!(names, ["a-b", "a", "etcd0", "etcd1"]);
        assert_eq!(cs.peer_urls().count(), 4);
    }

    #[test]
    fn a_name_may_repeat_with_different_urls() {
        let cs: ClusterString = "e0=https://10.0.0.1:2380,e0=https://10.0.0.9:2380"
            .parse()
            .unwrap();
        assert_eq!(cs.entries().len(), 2);
        assert_eq!(cs.names().len(), 1);
    }

    #[test]
    fn entry_splits_at_the_first_equals() {
        let err = "a=b=https://10.0.0.1:2380"
            .parse::<ClusterString>()
            .unwrap_err();
        assert!(
            matches!(err, ClusterStringError::Url { entry: 1, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn cluster_string_errors_name_the_entry() {
        let cases: &[(&str, &str)] = &[
            ("", "cluster string is empty"),
            ("a=http://h:1,", "entry 2 is empty"),
            (",a=http://h:1", "entry 1 is empty"),
            ("a=http://h:1,,b=http://h:2", "entry 2 is empty"),
            ("a=http://h:1,b", "entry 2 'b': expected name=URL"),
            ("=http://h:1", "entry 1 '=http://h:1': empty member name"),
            (
                "a=http://h:1,b=http://H:1",
                "entry 2 'b=http://H:1': duplicate URL http://h:1 (first in entry 1)",
            ),
            ("a=http://h:1,a=http://h:1", "duplicate URL"),
            (
                "a=http://h:1/",
                "entry 1 'a=http://h:1/': URL must not contain a path",
            ),
            (
                "a=http://h:1\nb=http://h:2",
                "entry 1 'a=http://h:1\\nb=http://h:2': invalid character '\\n' at byte 10 of the URL",
            ),
        ];
        for (input, expected) in cases {
            let message = input.parse::<ClusterString>().unwrap_err().to_string();
            assert!(message.contains(expected), "{input:?}: {message}");
            assert!(!message.contains('\n'), "{message}");
        }
    }

    #[test]
    fn huge_input_is_refused_with_a_short_message() {
        let huge = "a=http://1.2.3.4:2380,".repeat(50_000);
        let err = huge.parse::<ClusterString>().unwrap_err();
        assert!(matches!(err, ClusterStringError::TooLong { .. }));
        assert!(err.to_string().len() < 100);
        let long_entry = format!("a=http://{}:1", "x".repeat(10_000));
        let message = long_entry.parse::<ClusterString>().unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
    }

    #[test]
    fn new_sorts_and_checks_entries() {
        let entry = |n: &str, u: &str| ClusterEntry::new(n.parse().unwrap(), u.parse().unwrap());
        let cs = ClusterString::new([entry("b", "http://h:2"), entry("a", "http://h:1")]).unwrap();
        assert_eq!(cs.to_string(), "a=http://h:1,b=http://h:2");
        assert_eq!(
            ClusterString::new([]).unwrap_err(),
            ClusterStringError::Empty
        );
        assert!(matches!(
            ClusterString::new([entry("a", "http://h:1"), entry("b", "http://h:1")]),
            Err(ClusterStringError::DuplicateUrl {
                entry: 2,
                first: 1,
                ..
            })
        ));
    }

    #[test]
    fn serde_uses_the_canonical_text() {
        let cs: ClusterString = "b=http://h:2,a=http://h:1".parse().unwrap();
        let json = serde_json::to_string(&cs).unwrap();
        assert_eq!(json, "\"a=http://h:1,b=http://h:2\"");
        assert_eq!(serde_json::from_str::<ClusterString>(&json).unwrap(), cs);
        assert!(serde_json::from_str::<EtcdUrl>("\"ftp://h:1\"").is_err());
    }

    #[test]
    fn excerpt_is_short_and_escaped() {
        assert_eq!(excerpt("a\nb\"c"), "a\\nb\\\"c");
        let long = excerpt(&"x".repeat(1000));
        assert_eq!(long.len(), EXCERPT_CHARS + 3);
        assert_eq!(excerpt("a\u{ff1a}"), "a\\u{ff1a}");
        assert!(long.ends_with("..."));
    }
}
