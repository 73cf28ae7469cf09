//! Persisted unit state: the flags, plus namespaced data that must be committed with them.
//!
//! The state is loaded at the start of a hook, changed in memory, and saved once at the end
//! only if the hook's work succeeded, so a failed run leaves the previous state untouched
//! (as charms.reactive's unitdata flush does).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::StateError;

/// Everything a unit keeps between hooks. Its `Debug` shows the flags and the data's keys,
/// never the data: it may hold relation data, private keys included.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitState {
    /// Format version of this document.
    #[serde(default)]
    pub version: u32,
    /// The set flags, e.g. `proxy.available`.
    #[serde(default)]
    pub flags: BTreeSet<String>,
    /// Namespaced data kept with the flags (e.g. a committed view of remote databags).
    #[serde(default)]
    pub data: BTreeMap<String, serde_json::Value>,
}

impl std::fmt::Debug for UnitState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnitState")
            .field("version", &self.version)
            .field("flags", &self.flags)
            .field("data", &self.data.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Where a unit's state lives. Implementations: [`FileFlagStore`] and [`MemoryFlagStore`].
pub trait FlagStore {
    /// Loads the state; a store that was never saved yields the default (empty) state.
    ///
    /// # Errors
    /// The state could not be read or is corrupt.
    fn load(&self) -> Result<UnitState, StateError>;

    /// Replaces the state atomically: after a crash the store holds the old or the new state,
    /// never a mix. Saving a state equal to the stored one writes nothing.
    ///
    /// # Errors
    /// The state could not be written; the old state is then still in place.
    fn save(&mut self, state: &UnitState) -> Result<(), StateError>;
}

/// Runs `f` on the loaded state and saves the result only if `f` returns `Ok`.
///
/// This is the "commit only on success" rule in one place: an error from `f` leaves the stored
/// state untouched, whatever `f` changed in memory.
///
/// # Errors
/// Loading or saving failed, or `f` failed.
pub fn transact<S, T, E>(
    store: &mut S,
    f: impl FnOnce(&mut UnitState) -> Result<T, E>,
) -> Result<T, E>
where
    S: FlagStore + ?Sized,
    E: From<StateError>,
{
    let mut state = store.load()?;
    let value = f(&mut state)?;
    store.save(&state)?;
    Ok(value)
}

/// The mode of the state file: owner only, since the state may hold relation data.
const STATE_FILE_MODE: u32 = 0o600;

/// A [`FlagStore`] in a JSON file (mode 0600: it may hold relation data).
///
/// Saves are atomic (a temporary file in the same directory, fsynced, renamed over the old
/// file, then the directory fsynced) and skipped when the file already holds the same state
/// with the right mode. A missing file loads as the default state. The directory must exist.
///
/// A state that can be derived again from what Juju holds (flags and records computed from
/// relation data) may be saved [`without_fsync`](Self::without_fsync): the rename still makes
/// each save all-or-nothing for any crash of a process, and only a power loss can leave the
/// previous state or an unreadable file, which [`FileFlagStore::load_recovering`] loads as
/// no state, at the cost of one full read of the relations.
#[derive(Debug, Clone)]
pub struct FileFlagStore {
    path: PathBuf,
    fsync: bool,
}

impl FileFlagStore {
    /// A store in the file `path`, every save synced to disk.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            fsync: true,
        }
    }

    /// Saves without the two fsyncs (the file's and its directory's) that make a save survive
    /// a power loss: for a state that is a record of what Juju holds, not the only copy of
    /// anything. Each fsync costs about a millisecond, more on a journaling filesystem.
    #[must_use]
    pub fn without_fsync(mut self) -> Self {
        self.fsync = false;
        self
    }

    /// The conventional location: `<charm_dir>/.<namespace>.state.json`, next to the charm the
    /// way charm-helpers keeps `.unit-state.db`. Characters of `namespace` other than ASCII
    /// letters, digits, `-`, `_` and `.` become `_`, so the file always lands in `charm_dir`.
    pub fn in_charm_dir(charm_dir: impl AsRef<Path>, namespace: &str) -> Self {
        let safe: String = namespace
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Self::new(charm_dir.as_ref().join(format!(".{safe}.state.json")))
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io_error(&self, source: io::Error) -> StateError {
        StateError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Whether there is no file yet (which loads as the default state).
    fn is_absent(&self) -> bool {
        matches!(fs::symlink_metadata(&self.path), Err(e) if e.kind() == io::ErrorKind::NotFound)
    }

    /// Whether the file already holds exactly `contents` with the right mode.
    fn holds(&self, contents: &[u8]) -> bool {
        let Ok(meta) = fs::symlink_metadata(&self.path) else {
            return false;
        };
        meta.is_file()
            && meta.permissions().mode() & 0o7777 == STATE_FILE_MODE
            && meta.len() == contents.len() as u64
            && fs::read(&self.path).is_ok_and(|current| current == contents)
    }

    fn write_atomically(&self, contents: &[u8]) -> io::Result<()> {
        let dir = match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let name = self
            .path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
        let mut prefix = std::ffi::OsString::from(".");
        prefix.push(name);
        prefix.push(".");
        let mut temp = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".tmp")
            .permissions(fs::Permissions::from_mode(STATE_FILE_MODE))
            .tempfile_in(dir)?;
        // Set the mode explicitly too: the creation mode is subject to the umask.
        temp.as_file()
            .set_permissions(fs::Permissions::from_mode(STATE_FILE_MODE))?;
        temp.write_all(contents)?;
        if self.fsync {
            temp.as_file().sync_all()?;
        }
        // On failure the temporary file is removed when `temp` drops.
        temp.persist(&self.path).map_err(|e| e.error)?;
        if self.fsync {
            fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

impl FileFlagStore {
    /// Loads the state as [`FlagStore::load`], except that a file that is no state document
    /// (corrupt, truncated, of the wrong JSON type, too large, or not a regular file) loads
    /// as the default state, returned with the reason for the caller to log: a unit must not
    /// stay stuck on a bad file until someone deletes it. The next save replaces the file.
    ///
    /// # Errors
    /// The file exists but cannot be read (e.g. permission denied).
    pub fn load_recovering(&self) -> Result<(UnitState, Option<StateError>), StateError> {
        match self.load() {
            Ok(state) => Ok((state, None)),
            Err(e @ StateError::Corrupt { .. }) => Ok((UnitState::default(), Some(e))),
            Err(e) => Err(e),
        }
    }
}

/// What is wrong with a state document, in a few words and without quoting it (a serde
/// message may repeat a whole value).
fn json_problem(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match error.classify() {
        Category::Io => "unreadable",
        Category::Syntax => "not valid JSON",
        Category::Data => "a value of the wrong type",
        Category::Eof => "truncated",
    };
    if error.line() == 0 {
        what.to_owned()
    } else {
        format!("{what} at line {} column {}", error.line(), error.column())
    }
}

/// A state file larger than this is refused as corrupt: the state holds flags and a few
/// validated relation values.
pub const MAX_STATE_FILE_BYTES: u64 = 16 * 1024 * 1024;

impl FlagStore for FileFlagStore {
    fn load(&self) -> Result<UnitState, StateError> {
        let corrupt = |reason: String| StateError::Corrupt {
            path: self.path.clone(),
            reason,
        };
        let bytes = match crate::read::read_regular_file(&self.path, MAX_STATE_FILE_BYTES) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(UnitState::default()),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::InvalidInput | io::ErrorKind::FileTooLarge
                ) =>
            {
                return Err(corrupt(e.to_string()))
            }
            Err(e) => return Err(self.io_error(e)),
        };
        // Only a JSON object is a state document (serde would also take a list for a struct).
        match serde_json::from_slice(&bytes).map_err(|e| corrupt(json_problem(&e)))? {
            serde_json::Value::Object(map) => {
                serde_json::from_value(serde_json::Value::Object(map))
                    .map_err(|e| corrupt(json_problem(&e)))
            }
            _ => Err(corrupt("not a JSON object".to_owned())),
        }
    }

    fn save(&mut self, state: &UnitState) -> Result<(), StateError> {
        let mut contents = serde_json::to_vec_pretty(state).map_err(|e| {
            self.io_error(io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
        })?;
        contents.push(b'\n');
        if self.holds(&contents) || (*state == UnitState::default() && self.is_absent()) {
            return Ok(());
        }
        self.write_atomically(&contents)
            .map_err(|e| self.io_error(e))
    }
}

/// A [`FlagStore`] in memory, for tests: it shows what was saved and how often, and can be
/// made to fail.
#[derive(Debug, Default, Clone)]
pub struct MemoryFlagStore {
    state: Option<UnitState>,
    save_calls: usize,
    writes: usize,
    failing: bool,
}

impl MemoryFlagStore {
    /// An empty store (loads as the default state).
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that already holds `state`, as if saved by an earlier hook.
    pub fn with_state(state: UnitState) -> Self {
        Self {
            state: Some(state),
            ..Self::default()
        }
    }

    /// The stored state, or `None` if nothing was ever stored.
    pub fn saved(&self) -> Option<&UnitState> {
        self.state.as_ref()
    }

    /// How many times `save` was called (including unchanged and failed saves).
    pub fn save_calls(&self) -> usize {
        self.save_calls
    }

    /// How many saves actually replaced the stored state.
    pub fn writes(&self) -> usize {
        self.writes
    }

    /// Makes every later `save` fail (`true`) or succeed again (`false`), to test that a
    /// failed save is reported and leaves the old state.
    pub fn set_failing(&mut self, failing: bool) {
        self.failing = failing;
    }
}

impl FlagStore for MemoryFlagStore {
    fn load(&self) -> Result<UnitState, StateError> {
        Ok(self.state.clone().unwrap_or_default())
    }

    fn save(&mut self, state: &UnitState) -> Result<(), StateError> {
        self.save_calls += 1;
        if self.failing {
            return Err(StateError::Io {
                path: PathBuf::from("<memory>"),
                source: io::Error::other("save failure injected by the test"),
            });
        }
        if self.load()? != *state {
            self.state = Some(state.clone());
            self.writes += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_with(flag: &str) -> UnitState {
        let mut state = UnitState::default();
        state.flags.insert(flag.to_owned());
        state
    }

    fn dir_entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_missing_file_loads_as_the_default_state() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileFlagStore::new(dir.path().join("state.json"));
        assert_eq!(store.load().unwrap(), UnitState::default());
    }

    #[test]
    fn a_save_without_fsync_replaces_the_file_whole_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut store = FileFlagStore::new(&path).without_fsync();
        store.save(&state_with("a")).unwrap();
        store.save(&state_with("b")).unwrap();

        assert_eq!(FileFlagStore::new(&path).load().unwrap(), state_with("b"));
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600);
        assert_eq!(dir_entries(dir.path()), ["state.json"]);
    }

    #[test]
    fn a_save_without_fsync_replaces_a_symlink_not_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.json");
        fs::write(&target, "keep").unwrap();
        let path = dir.path().join("state.json");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        FileFlagStore::new(&path)
            .without_fsync()
            .save(&state_with("a"))
            .unwrap();

        assert!(fs::symlink_metadata(&path).unwrap().is_file());
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep");
        assert_eq!(FileFlagStore::new(&path).load().unwrap(), state_with("a"));
    }

    #[test]
    fn a_save_without_fsync_over_a_directory_fails_and_leaves_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        fs::create_dir(&path).unwrap();
        let error = FileFlagStore::new(&path)
            .without_fsync()
            .save(&state_with("a"))
            .unwrap_err();

        assert!(error.to_string().contains("state.json"), "{error}");
        assert!(path.is_dir());
        assert_eq!(dir_entries(dir.path()), ["state.json"]);
    }

    #[test]
    fn a_saved_state_loads_back_from_a_0600_file_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FileFlagStore::in_charm_dir(dir.path(), "etcd-proxy");
        let mut state = state_with("proxy.available");
        state
            .data
            .insert("remote".into(), serde_json::json!({"etcd/0": {"a": "b"}}));
        store.save(&state).unwrap();

        assert_eq!(store.path(), dir.path().join(".etcd-proxy.state.json"));
        assert_eq!(FileFlagStore::new(store.path()).load().unwrap(), state);
        let mode = fs::metadata(store.path()).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600);
        assert_eq!(dir_entries(dir.path()), [".etcd-proxy.state.json"]);
    }

    #[test]
    fn an_unchanged_save_does_not_rewrite_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FileFlagStore::new(dir.path().join("state.json"));
        store.save(&state_with("a")).unwrap();
        let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&fs::metadata(p).unwrap());
        let before = inode(store.path());
        store.save(&state_with("a")).unwrap();
        assert_eq!(
            inode(store.path()),
            before,
            "an unchanged save replaced the file"
        );
        store.save(&state_with("b")).unwrap();
        assert_ne!(inode(store.path()), before);
        assert_eq!(store.load().unwrap(), state_with("b"));
    }

    #[test]
    fn saving_the_default_state_to_a_fresh_unit_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FileFlagStore::new(dir.path().join("state.json"));
        store.save(&UnitState::default()).unwrap();
        assert!(dir_entries(dir.path()).is_empty());
    }

    #[test]
    fn a_file_with_a_loose_mode_is_rewritten_as_0600() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FileFlagStore::new(dir.path().join("state.json"));
        store.save(&state_with("a")).unwrap();
        fs::set_permissions(store.path(), fs::Permissions::from_mode(0o644)).unwrap();
        store.save(&state_with("a")).unwrap();
        let mode = fs::metadata(store.path()).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_corrupt_file_is_reported_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        for garbage in [
            "",
            "{\"flags\": [",
            "[]",
            "null",
            "{\"flags\": \"x\"}",
            "\u{0}",
        ] {
            fs::write(&path, garbage).unwrap();
            let err = FileFlagStore::new(&path).load().unwrap_err();
            assert!(
                matches!(&err, StateError::Corrupt { path: p, .. } if *p == path),
                "{garbage:?}: {err:?}"
            );
        }
    }

    #[test]
    fn a_bad_file_loads_as_no_state_with_a_short_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let store = FileFlagStore::new(&path);
        let long = format!("{{\"flags\": \"{}\"}}", "A".repeat(10_000));
        for (garbage, why) in [
            ("{\"flags\": [\"a\"", "truncated"),
            ("[]", "not a JSON object"),
            (long.as_str(), "wrong type"),
            ("{x", "not valid JSON"),
        ] {
            fs::write(&path, garbage).unwrap();
            let (state, problem) = store.load_recovering().unwrap();
            assert_eq!(state, UnitState::default());
            let text = problem.unwrap().to_string();
            assert!(text.contains(why), "{garbage:.20}: {text}");
            assert!(text.len() < 200 && !text.contains("AAAA"), "{text}");
        }
        fs::write(&path, "{\"flags\": [\"a\"]}").unwrap();
        let (state, problem) = store.load_recovering().unwrap();
        assert!(problem.is_none() && state.flags.contains("a"));
    }

    #[test]
    fn a_fifo_at_the_state_path_does_not_hang_and_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(made.success());
        let mut store = FileFlagStore::new(&path);
        let (state, problem) = store.load_recovering().unwrap();
        assert_eq!(state, UnitState::default());
        assert!(problem.unwrap().to_string().contains("not a regular file"));
        store.save(&state_with("a")).unwrap();
        assert_eq!(store.load().unwrap(), state_with("a"));
    }

    #[test]
    fn a_failed_write_keeps_the_old_state_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut store = FileFlagStore::new(&path);
        store.save(&state_with("old")).unwrap();
        // A directory where the file should go cannot be replaced by rename.
        let blocked = dir.path().join("blocked");
        fs::create_dir(&blocked).unwrap();
        fs::write(blocked.join("x"), "x").unwrap();
        let err = FileFlagStore::new(&blocked)
            .save(&state_with("new"))
            .unwrap_err();
        assert!(matches!(err, StateError::Io { .. }), "{err:?}");
        assert_eq!(dir_entries(dir.path()), ["blocked", "state.json"]);
        assert_eq!(store.load().unwrap(), state_with("old"));
    }

    #[test]
    fn a_missing_directory_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FileFlagStore::new(dir.path().join("no/such/state.json"));
        let err = store.save(&state_with("a")).unwrap_err();
        assert!(matches!(err, StateError::Io { .. }), "{err:?}");
    }

    #[test]
    fn the_namespace_cannot_leave_the_charm_dir() {
        let store = FileFlagStore::in_charm_dir("/charm", "../x/y");
        assert_eq!(store.path(), Path::new("/charm/..._x_y.state.json"));
    }

    #[test]
    fn transact_saves_only_when_the_closure_succeeds() {
        let mut store = MemoryFlagStore::with_state(state_with("old"));
        let result: Result<(), StateError> = transact(&mut store, |state| {
            state.flags.insert("new".into());
            Err(StateError::Corrupt {
                path: "x".into(),
                reason: "handler failed".into(),
            })
        });
        assert!(result.is_err());
        assert_eq!(store.saved(), Some(&state_with("old")));
        assert_eq!(store.save_calls(), 0);

        let value = transact(&mut store, |state| {
            state.flags.insert("new".into());
            Ok::<_, StateError>(7)
        })
        .unwrap();
        assert_eq!(value, 7);
        assert!(store.saved().unwrap().flags.contains("new"));
        assert_eq!(store.writes(), 1);
    }

    #[test]
    fn transact_on_a_file_store_leaves_the_file_alone_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FileFlagStore::new(dir.path().join("state.json"));
        store.save(&state_with("old")).unwrap();
        let before = fs::read(store.path()).unwrap();
        let result: Result<(), StateError> = transact(&mut store, |state| {
            state.flags.clear();
            Err(StateError::Io {
                path: "x".into(),
                source: io::Error::other("handler failed"),
            })
        });
        assert!(result.is_err());
        assert_eq!(fs::read(store.path()).unwrap(), before);
    }

    #[test]
    fn memory_store_counts_calls_and_real_writes_and_can_fail() {
        let mut store = MemoryFlagStore::new();
        store.save(&UnitState::default()).unwrap();
        assert_eq!((store.save_calls(), store.writes()), (1, 0));
        assert_eq!(store.saved(), None);
        store.save(&state_with("a")).unwrap();
        store.save(&state_with("a")).unwrap();
        assert_eq!((store.save_calls(), store.writes()), (3, 1));
        store.set_failing(true);
        assert!(store.save(&state_with("b")).is_err());
        assert_eq!(store.load().unwrap(), state_with("a"));
    }
}
