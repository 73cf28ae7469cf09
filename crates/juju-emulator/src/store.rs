//! The model directory: where the emulated Juju keeps its state between processes.
//!
//! ```text
//! <dir>/model.json            the juju-hooks Model (applications, relations, databags, ...)
//! <dir>/emulator.json         the hook queue and what the Model has no field for
//! <dir>/contexts/<id>.json    the running hook: its invocation and staged relation writes
//! <dir>/calls.jsonl           one JSON line per hook-tool call
//! <dir>/hooks.jsonl           one JSON line per hook run
//! <dir>/tools/<tool>          symlinks to the emulator binary, first on the hooks' PATH
//! <dir>/units/<app>-<n>/charm each unit's own copy of its charm
//! ```
//!
//! Every state file is replaced atomically (temporary file in the same directory, fsync,
//! rename) with mode 0600, since relation data may hold private keys. Hooks run one at a time,
//! and a hook's tool calls run one at a time, so there is one writer at any moment.

use std::collections::{BTreeMap, VecDeque};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use juju_hooks::testing::{HookInvocation, Model, Pending};
use juju_hooks::{AppName, UnitName, WorkloadStatus};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::EmulatorError;

/// State of the emulator that the [`Model`] has no field for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EmulatorState {
    /// Hooks Juju would run next, oldest first.
    pub queue: VecDeque<HookInvocation>,
    /// Application statuses set with `status-set --application`.
    pub app_status: BTreeMap<AppName, WorkloadStatus>,
    /// How many hooks have been started (numbers context ids and log lines).
    pub hooks_started: u64,
}

/// The hook that is running: what tools need to answer as Juju would.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HookContextFile {
    /// `JUJU_CONTEXT_ID`.
    pub id: String,
    /// Which unit, which hook, which relation.
    pub invocation: HookInvocation,
    /// Relation writes staged by `relation-set`, committed when the hook exits 0.
    pub pending: Pending,
}

/// One hook-tool call, as a line of `calls.jsonl`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// The unit whose hook made the call (absent when the context was unknown).
    pub unit: Option<String>,
    /// The hook name.
    pub hook: Option<String>,
    /// `JUJU_CONTEXT_ID` as the tool saw it.
    pub context_id: Option<String>,
    /// The tool, e.g. `relation-get`.
    pub tool: String,
    /// Its arguments (never stdin).
    pub argv: Vec<String>,
    /// The exit code it returned.
    pub exit_code: i32,
    /// Time spent in the tool, in microseconds.
    pub duration_us: u64,
}

/// Paths and file operations of one model directory.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store in `dir` (nothing is read or created yet).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The model directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn model_path(&self) -> PathBuf {
        self.dir.join("model.json")
    }
    fn state_path(&self) -> PathBuf {
        self.dir.join("emulator.json")
    }
    fn contexts_dir(&self) -> PathBuf {
        self.dir.join("contexts")
    }
    /// `calls.jsonl`.
    pub fn calls_path(&self) -> PathBuf {
        self.dir.join("calls.jsonl")
    }
    /// `hooks.jsonl`.
    pub fn hooks_path(&self) -> PathBuf {
        self.dir.join("hooks.jsonl")
    }
    /// The directory of tool symlinks.
    pub fn tools_dir(&self) -> PathBuf {
        self.dir.join("tools")
    }
    /// A unit's own directory.
    pub fn unit_dir(&self, unit: &UnitName) -> PathBuf {
        self.dir
            .join("units")
            .join(format!("{}-{}", unit.app(), unit.number()))
    }
    /// A unit's copy of its charm.
    pub fn unit_charm_dir(&self, unit: &UnitName) -> PathBuf {
        self.unit_dir(unit).join("charm")
    }

    /// Whether a model exists here.
    pub fn exists(&self) -> bool {
        self.model_path().is_file()
    }

    /// Reads the model.
    ///
    /// # Errors
    /// No model here, or the file cannot be read or decoded.
    pub fn load_model(&self) -> Result<Model, EmulatorError> {
        if !self.exists() {
            return Err(EmulatorError::NoModel(self.dir.clone()));
        }
        read_json(&self.model_path())
    }

    /// Replaces the model.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn save_model(&self, model: &Model) -> Result<(), EmulatorError> {
        write_json(&self.model_path(), model)
    }

    /// Reads the emulator state (empty if absent).
    ///
    /// # Errors
    /// The file cannot be read or decoded.
    pub fn load_state(&self) -> Result<EmulatorState, EmulatorError> {
        let path = self.state_path();
        if path.exists() {
            read_json(&path)
        } else {
            Ok(EmulatorState::default())
        }
    }

    /// Replaces the emulator state.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn save_state(&self, state: &EmulatorState) -> Result<(), EmulatorError> {
        write_json(&self.state_path(), state)
    }

    /// The file of a context id, or `None` for an id that cannot name one (so a
    /// `JUJU_CONTEXT_ID` from the environment can never point outside the directory).
    fn context_path(&self, id: &str) -> Option<PathBuf> {
        let safe = !id.is_empty()
            && !id.contains("..")
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.'));
        safe.then(|| {
            self.contexts_dir()
                .join(format!("{}.json", id.replace('/', "_")))
        })
    }

    /// The running hook with this context id, if there is one.
    ///
    /// # Errors
    /// The file exists but cannot be read or decoded.
    pub fn load_context(&self, id: &str) -> Result<Option<HookContextFile>, EmulatorError> {
        let Some(path) = self.context_path(id) else {
            return Ok(None);
        };
        if !path.exists() {
            return Ok(None);
        }
        let context: HookContextFile = read_json(&path)?;
        Ok((context.id == id).then_some(context))
    }

    /// Writes the context of a running hook.
    ///
    /// # Errors
    /// The id cannot name a file, or the file cannot be written.
    pub fn save_context(&self, context: &HookContextFile) -> Result<(), EmulatorError> {
        let path = self
            .context_path(&context.id)
            .ok_or_else(|| EmulatorError::Usage(format!("bad context id {:?}", context.id)))?;
        ensure_dir(&self.contexts_dir())?;
        write_json(&path, context)
    }

    /// Removes a finished hook's context.
    ///
    /// # Errors
    /// The file exists but cannot be removed.
    pub fn remove_context(&self, id: &str) -> Result<(), EmulatorError> {
        if let Some(path) = self.context_path(id) {
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(EmulatorError::Io { path, source }),
            }
        }
        Ok(())
    }

    /// Appends one JSON line to a log file.
    ///
    /// # Errors
    /// The file cannot be opened or written.
    pub fn append_line(&self, path: &Path, record: &impl Serialize) -> Result<(), EmulatorError> {
        let mut line = serde_json::to_string(record).map_err(|e| EmulatorError::Corrupt {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        line.push('\n');
        let io = |source| EmulatorError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        // One write per line: O_APPEND keeps concurrent lines whole.
        file.write_all(line.as_bytes()).map_err(io)
    }

    /// Reads every record of a JSON-lines log (absent file: none).
    ///
    /// # Errors
    /// The file cannot be read or a line cannot be decoded.
    pub fn read_lines<T: DeserializeOwned>(&self, path: &Path) -> Result<Vec<T>, EmulatorError> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(EmulatorError::Io {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).map_err(|e| EmulatorError::Corrupt {
                    path: path.to_owned(),
                    reason: e.to_string(),
                })
            })
            .collect()
    }
}

/// Creates a directory and its parents.
///
/// # Errors
/// It cannot be created.
pub(crate) fn ensure_dir(path: &Path) -> Result<(), EmulatorError> {
    fs::create_dir_all(path).map_err(|source| EmulatorError::Io {
        path: path.to_owned(),
        source,
    })
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, EmulatorError> {
    let text = fs::read(path).map_err(|source| EmulatorError::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|e| EmulatorError::Corrupt {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<(), EmulatorError> {
    let mut text = serde_json::to_vec_pretty(value).map_err(|e| EmulatorError::Corrupt {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    text.push(b'\n');
    write_atomic(path, &text)
}

/// Replaces `path` with `bytes`: temporary file (mode 0600) in the same directory, fsync,
/// rename. A reader sees the old or the new content, never a mix.
///
/// # Errors
/// Any step fails.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), EmulatorError> {
    let io = |source| EmulatorError::Io {
        path: path.to_owned(),
        source,
    };
    let parent = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn state_files_round_trip_and_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert!(matches!(store.load_model(), Err(EmulatorError::NoModel(_))));
        let mut state = store.load_state().unwrap();
        state.hooks_started = 7;
        store.save_state(&state).unwrap();
        assert_eq!(store.load_state().unwrap(), state);
        let mode = fs::metadata(dir.path().join("emulator.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn context_ids_cannot_escape_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert_eq!(store.context_path("../model"), None);
        assert_eq!(store.context_path("a b"), None);
        assert!(store
            .context_path("etcd/0-install-0123")
            .unwrap()
            .ends_with("contexts/etcd_0-install-0123.json"));
        assert_eq!(store.load_context("etcd/0-install-1").unwrap(), None);
    }

    #[test]
    fn json_lines_append_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let record = CallRecord {
            unit: Some("a/0".into()),
            hook: Some("install".into()),
            context_id: None,
            tool: "is-leader".into(),
            argv: vec!["--format=json".into()],
            exit_code: 0,
            duration_us: 12,
        };
        store.append_line(&store.calls_path(), &record).unwrap();
        store.append_line(&store.calls_path(), &record).unwrap();
        let back: Vec<CallRecord> = store.read_lines(&store.calls_path()).unwrap();
        assert_eq!(back, vec![record.clone(), record]);
    }
}
