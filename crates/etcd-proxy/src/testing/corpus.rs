//! The bad-input corpus: malformed relation values kept as data
//! (`crates/etcd-proxy/tests/data/bad-input.json`), loaded for any test that feeds them to a
//! reader (the wire parser, the requirer, the CLI).
//!
//! File format: `{"entries": [entry, ...]}`, each entry
//!
//! ```json
//! {"key": "cluster", "value": VALUE, "reason": "expected substring of the reason",
//!  "expected_key": "cluster", "also": {"client_key": VALUE}, "remove": ["cluster"],
//!  "note": "why this case exists"}
//! ```
//!
//! A VALUE is a string; a string `"@pki:NAME"`, expanded by [`TestPki::recipe`]; or a
//! generator `{"repeat": "text", "times": N, "prefix": "...", "suffix": "..."}` for huge values.
//! `expected_key` defaults to `key`; `also` and `remove` adjust the rest of the databag for
//! cases that need two keys changed (a certificate with its own key) or the legacy key alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use juju_hooks::Databag;
use serde::Deserialize;

use super::pki::TestPki;

/// The largest generated value (16 MiB), so a typo in `times` cannot exhaust memory.
const MAX_GENERATED_LEN: usize = 16 * 1024 * 1024;

/// One malformed relation value, expanded and ready to apply to a valid databag.
#[derive(Clone, PartialEq, Eq)]
pub struct BadInput {
    /// Position in the file, from 0.
    pub index: usize,
    /// The relation key the bad value goes under.
    pub key: String,
    /// The bad value.
    pub value: String,
    /// Other keys to set as well.
    pub also: BTreeMap<String, String>,
    /// Keys to remove from the base databag.
    pub remove: Vec<String>,
    /// The key the reported reason must name.
    pub expected_key: String,
    /// A substring the reported reason must contain.
    pub reason: String,
    /// Why the case exists.
    pub note: String,
}

impl std::fmt::Debug for BadInput {
    /// Shows a short escaped excerpt of the value (values can be megabytes long), and nothing
    /// of a value that holds a private key, so test output stays free of key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = if self.value.contains("PRIVATE KEY") {
            "<redacted: holds a private key>".to_owned()
        } else {
            crate::cluster::excerpt(&self.value)
        };
        f.debug_struct("BadInput")
            .field("index", &self.index)
            .field("key", &self.key)
            .field("value", &value)
            .field("value_len", &self.value.len())
            .field("expected_key", &self.expected_key)
            .field("reason", &self.reason)
            .field("note", &self.note)
            .finish()
    }
}

impl BadInput {
    /// `base` (a valid databag) with this case applied.
    pub fn apply_to(&self, base: &Databag) -> Databag {
        let mut bag = base.clone();
        for key in &self.remove {
            bag.remove(key);
        }
        for (key, value) in &self.also {
            bag.insert(key.clone(), value.clone());
        }
        bag.insert(self.key.clone(), self.value.clone());
        bag
    }
}

/// The corpus file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// Reading the file failed.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid corpus JSON.
    #[error("cannot parse {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// An entry refers to an unknown recipe or generates too much.
    #[error("entry {index}: {problem}")]
    Entry {
        /// The entry's position, from 0.
        index: usize,
        /// What is wrong.
        problem: String,
    },
}

/// The corpus shipped with this crate.
pub fn corpus_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad-input.json")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
    entries: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    key: String,
    value: RawValue,
    reason: String,
    #[serde(default)]
    expected_key: Option<String>,
    #[serde(default)]
    also: BTreeMap<String, RawValue>,
    #[serde(default)]
    remove: Vec<String>,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawValue {
    Text(String),
    Repeat(Repeat),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Repeat {
    repeat: String,
    times: usize,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    suffix: String,
}

impl RawValue {
    fn expand(&self, pki: &TestPki) -> Result<String, String> {
        match self {
            RawValue::Text(text) => match text.strip_prefix("@pki:") {
                Some(name) => pki
                    .recipe(name)
                    .ok_or_else(|| format!("unknown recipe @pki:{name}")),
                None => Ok(text.clone()),
            },
            RawValue::Repeat(r) => {
                let len = r
                    .repeat
                    .len()
                    .checked_mul(r.times)
                    .and_then(|n| n.checked_add(r.prefix.len() + r.suffix.len()))
                    .filter(|n| *n <= MAX_GENERATED_LEN)
                    .ok_or_else(|| format!("generated value over {MAX_GENERATED_LEN} bytes"))?;
                let mut out = String::with_capacity(len);
                out.push_str(&r.prefix);
                for _ in 0..r.times {
                    out.push_str(&r.repeat);
                }
                out.push_str(&r.suffix);
                Ok(out)
            }
        }
    }
}

/// Loads and expands the corpus at `path`, building PEM cases from `pki`.
///
/// # Errors
/// An unreadable or malformed file, an unknown recipe, or an oversized generator.
pub fn load_corpus(path: &Path, pki: &TestPki) -> Result<Vec<BadInput>, CorpusError> {
    let text = std::fs::read_to_string(path).map_err(|source| CorpusError::Read {
        path: path.to_owned(),
        source,
    })?;
    let file: CorpusFile = serde_json::from_str(&text).map_err(|source| CorpusError::Parse {
        path: path.to_owned(),
        source,
    })?;
    file.entries
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let entry_error = |problem| CorpusError::Entry { index, problem };
            let value = raw.value.expand(pki).map_err(entry_error)?;
            let also = raw
                .also
                .iter()
                .map(|(k, v)| Ok((k.clone(), v.expand(pki).map_err(entry_error)?)))
                .collect::<Result<_, CorpusError>>()?;
            Ok(BadInput {
                index,
                expected_key: raw.expected_key.unwrap_or_else(|| raw.key.clone()),
                key: raw.key,
                value,
                also,
                remove: raw.remove,
                reason: raw.reason,
                note: raw.note,
            })
        })
        .collect()
}
