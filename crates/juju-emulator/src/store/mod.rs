//! The model directory: where the emulated Juju keeps its state between processes.
//!
//! ```text
//! <dir>/model.db              SQLite database (WAL mode): the model, the queue, running hooks
//! <dir>/calls.jsonl           one JSON line per hook-tool call (argv with keys redacted)
//! <dir>/hooks.jsonl           one JSON line per hook run
//! <dir>/tools/<tool>          symlinks to the emulator binary, first on the hooks' PATH
//! <dir>/units/<app>-<n>/charm each unit's own copy of its charm
//! ```
//!
//! # Why SQLite
//!
//! Hook tools are separate processes, and a charm may run twenty of them at once in one hook;
//! two `emulator` commands may run at once too. SQLite gives them transactions and one writer
//! at a time (`BEGIN IMMEDIATE` per tool call and per command step, a 30 s busy timeout), and
//! lets a call read only the rows it needs, so its cost does not grow with the model. The
//! database stays readable with the `sqlite3` shell:
//!
//! ```sh
//! sqlite3 "$JUJU_EMULATOR_DIR/model.db" "select relation, owner, data from bags"
//! ```
//!
//! # Schema
//!
//! The model is split in rows so that a hook-tool call reads only what it prints: the
//! skeleton, the calling unit's record, the relations it can work on (the hook's and those
//! its arguments name; every relation the unit is in only for the tools that may look at
//! any) with only *whether* the unit is in scope unless it lists the members, the
//! applications at their ends, the hook's staged writes to those relations, and the one bag
//! it reads. Nothing a call reads grows with the number of other units or relations (see
//! `parts` and `tools::load_scope`).
//!
//! ```sql
//! -- Counters: 'generation' (bumped by every write of bags, every deleted application,
//! -- unit, relation or member row, and every write of the whole model), 'skeleton' (every
//! -- write of the skeleton) and 'rows' (every transaction writing applications, units,
//! -- relations or members rows: it is their version); a process that keeps the model in
//! -- memory re-reads what they say changed.
//! meta(key TEXT PRIMARY KEY, value INTEGER)
//! -- The juju-hooks Model as JSON without applications, relations, running hooks: the model
//! -- name, dying units, secrets, actions, counters, and any field added later.
//! skeleton(id INTEGER PRIMARY KEY CHECK (id = 0), model TEXT)
//! -- One row per application: its Application as JSON without units (leader, leader data,
//! -- config, endpoints, charm directory, next unit number).
//! applications(app TEXT PRIMARY KEY, application TEXT, version INTEGER)
//! -- One row per unit: its UnitRecord as JSON without juju-log lines (status, state, ports,
//! -- workload version).
//! units(unit TEXT PRIMARY KEY, app TEXT, record TEXT, version INTEGER)
//! -- One row per relation: its ends and whether it is dying (no bags, no member views).
//! relations(number INTEGER PRIMARY KEY, relation TEXT, version INTEGER)
//! -- One row per unit in a relation's scope: the remote units it sees (`relation-list`).
//! members(relation INTEGER, unit TEXT, view TEXT /* JSON array */, version INTEGER)
//! -- One row per relation databag: kind 'unit' (owner = unit name) or 'app' (owner = app).
//! bags(relation INTEGER, kind TEXT, owner TEXT, data TEXT /* JSON object */)
//! -- juju-log, append-only.
//! logs(seq INTEGER PRIMARY KEY AUTOINCREMENT, unit TEXT, level TEXT, message TEXT)
//! -- Hooks Juju would run next, by seq (a retried hook goes in front with a lower seq).
//! queue(seq INTEGER PRIMARY KEY, unit TEXT, invocation TEXT /* JSON */)
//! -- EmulatorState without its queue (application statuses, units in error, counters).
//! state(id INTEGER PRIMARY KEY CHECK (id = 0), state TEXT /* JSON */)
//! -- Running hooks: invocation and staged writes (HookContextFile as JSON) but for the
//! -- relation writes, which are staged per relation in `staged`.
//! contexts(id TEXT PRIMARY KEY, context TEXT)
//! -- A running hook's staged relation writes: its unit's or (kind 'app') its app's bag.
//! staged(context TEXT, relation INTEGER, kind TEXT, data TEXT /* JSON object */)
//! ```
//!
//! `PRAGMA user_version` is the schema version (2). A version-1 database (one skeleton row
//! holding applications, units and member views) is migrated when opened; a newer one is
//! refused.
//!
//! The directory is made 0700 and the database (with its `-wal` and `-shm` files, which
//! SQLite creates with the database's mode) and the logs 0600 whatever the umask: relation
//! data may hold private keys.

use std::cell::{Cell, OnceCell};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use juju_hooks::testing::{HookInvocation, LogEntry, Model, Pending};
use juju_hooks::{AppName, Databag, LogLevel, UnitName, WorkloadStatus};
use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::EmulatorError;

mod parts;

pub(crate) use parts::{Rows, UnitScope};

/// How long a writer waits for another one before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS skeleton (id INTEGER PRIMARY KEY CHECK (id = 0), model TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS applications (
    app TEXT PRIMARY KEY,
    application TEXT NOT NULL,
    version INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS applications_version ON applications (version);
CREATE TABLE IF NOT EXISTS units (
    unit TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    record TEXT NOT NULL,
    version INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS units_app ON units (app);
CREATE INDEX IF NOT EXISTS units_version ON units (version);
CREATE TABLE IF NOT EXISTS relations (
    number INTEGER PRIMARY KEY,
    relation TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS relations_version ON relations (version);
CREATE TABLE IF NOT EXISTS members (
    relation INTEGER NOT NULL,
    unit TEXT NOT NULL,
    view TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (relation, unit)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_unit ON members (unit);
CREATE INDEX IF NOT EXISTS members_version ON members (version);
CREATE TABLE IF NOT EXISTS bags (
    relation INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('unit', 'app')),
    owner TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (relation, kind, owner)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    unit TEXT NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS queue (seq INTEGER PRIMARY KEY, unit TEXT NOT NULL, invocation TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS queue_unit ON queue (unit, invocation);
CREATE TABLE IF NOT EXISTS state (id INTEGER PRIMARY KEY CHECK (id = 0), state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contexts (id TEXT PRIMARY KEY, context TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS staged (
    context TEXT NOT NULL,
    relation INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('unit', 'app')),
    data TEXT NOT NULL,
    PRIMARY KEY (context, relation, kind)
) WITHOUT ROWID;
";

/// State of the emulator that the [`Model`] has no field for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EmulatorState {
    /// Hooks Juju would run next, oldest first (kept in the `queue` table).
    #[serde(skip)]
    pub queue: VecDeque<HookInvocation>,
    /// Application statuses set with `status-set --application`.
    pub app_status: BTreeMap<AppName, WorkloadStatus>,
    /// How many hooks have been started (numbers context ids and log lines).
    pub hooks_started: u64,
    /// Units whose last hook failed, with that hook: they run nothing until resolved.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<UnitName, HookInvocation>,
}

/// The hook that is running: what tools need to answer as Juju would.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HookContextFile {
    /// `JUJU_CONTEXT_ID`.
    pub id: String,
    /// Which unit, which hook, which relation.
    pub invocation: HookInvocation,
    /// Writes staged by the hook's tools, committed when the hook exits 0.
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
    /// Its arguments (never stdin), private keys redacted.
    pub argv: Vec<String>,
    /// The exit code it returned.
    pub exit_code: i32,
    /// Time spent in the tool, in microseconds.
    pub duration_us: u64,
}

/// The model directory and its database connection (opened on first use).
pub struct Store {
    dir: PathBuf,
    conn: OnceCell<Connection>,
    /// Rows and bytes of JSON decoded through this store (what a call's cost grows with).
    decoded: Cell<(u64, u64)>,
}

impl Clone for Store {
    /// The same directory, with a connection of its own.
    fn clone(&self) -> Self {
        Self::new(self.dir.clone())
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish()
    }
}

impl Store {
    /// The store in `dir` (nothing is read or created yet).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            conn: OnceCell::new(),
            decoded: Cell::new((0, 0)),
        }
    }

    /// How many rows, and bytes of JSON, this store has decoded so far.
    #[cfg(test)]
    pub(crate) fn decoded(&self) -> (u64, u64) {
        self.decoded.get()
    }

    /// The model directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `model.db`.
    pub fn db_path(&self) -> PathBuf {
        self.dir.join("model.db")
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

    /// Whether a model exists here (without creating anything).
    pub fn exists(&self) -> bool {
        self.db_path().is_file()
            && self
                .read(|db| db.skeleton_text().map(|t| t.is_some()))
                .unwrap_or(false)
    }

    fn corrupt(&self, reason: impl fmt::Display) -> EmulatorError {
        EmulatorError::Corrupt {
            path: self.db_path(),
            reason: reason.to_string(),
        }
    }

    /// The connection, opening (and if needed creating) the database.
    fn conn(&self) -> Result<&Connection, EmulatorError> {
        if let Some(conn) = self.conn.get() {
            return Ok(conn);
        }
        let conn = self.open()?;
        Ok(self.conn.get_or_init(|| conn))
    }

    fn open(&self) -> Result<Connection, EmulatorError> {
        let path = self.db_path();
        if !path.exists() {
            ensure_private_dir(&self.dir)?;
            // Created by us with 0600 so that SQLite's -wal/-shm files copy that mode.
            OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(&path)
                .and_then(|f| f.set_permissions(fs::Permissions::from_mode(0o600)))
                .map_err(|source| EmulatorError::Io {
                    path: path.clone(),
                    source,
                })?;
        }
        let sql = |e: rusqlite::Error| self.corrupt(e);
        let conn = Connection::open(&path).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        // WAL: readers never block the writer. NORMAL is safe in WAL mode (no corruption);
        // only a power cut can lose the last commits, which an emulator can afford.
        conn.execute_batch("PRAGMA synchronous = NORMAL")
            .map_err(sql)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql)?;
        if version != SCHEMA_VERSION {
            self.upgrade(&conn, version)?;
        }
        Ok(conn)
    }

    /// Creates the schema in a new database, or migrates an older one; refuses a newer one.
    fn upgrade(&self, conn: &Connection, version: i64) -> Result<(), EmulatorError> {
        if version > SCHEMA_VERSION {
            return Err(self.corrupt(format!(
                "schema version {version} is newer than this emulator's ({SCHEMA_VERSION}): \
                 use the juju-emulator that created the model"
            )));
        }
        let sql = |e: rusqlite::Error| self.corrupt(e);
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        conn.execute_batch("BEGIN IMMEDIATE").map_err(sql)?;
        let done = (|| {
            // Another process may have upgraded it while we waited for the lock.
            let now: i64 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(sql)?;
            if now == SCHEMA_VERSION {
                return Ok(());
            }
            conn.execute_batch(SCHEMA).map_err(sql)?;
            if now == 1 {
                self.migrate_from_1(conn)?;
            }
            conn.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
                .map_err(sql)
        })();
        match done {
            Ok(()) => conn.execute_batch("COMMIT").map_err(sql),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Version 1 kept units, relations and member views in the skeleton: split them out.
    fn migrate_from_1(&self, conn: &Connection) -> Result<(), EmulatorError> {
        let db = Db { store: self, conn };
        let Some(text) = db.skeleton_text()? else {
            return Ok(());
        };
        let mut model: Model = db.decode("model", &text)?;
        db.save_rows(&mut model, &mut Rows::default())?;
        db.bump("generation").map(drop)
    }

    /// Starts the write transaction of a tool call (held until [`Store::commit`]).
    pub(crate) fn begin(&self) -> Result<Db<'_>, EmulatorError> {
        let conn = self.conn()?;
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.corrupt(e))?;
        Ok(Db { store: self, conn })
    }

    /// Commits the transaction [`Store::begin`] started.
    pub(crate) fn commit(&self) -> Result<(), EmulatorError> {
        self.conn()?
            .execute_batch("COMMIT")
            .map_err(|e| self.corrupt(e))
    }

    /// Rolls back the transaction [`Store::begin`] started, if any.
    pub(crate) fn rollback(&self) {
        if let Some(conn) = self.conn.get() {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
        }
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE`): committed if it returns `Ok`,
    /// rolled back otherwise.
    ///
    /// # Errors
    /// `f`'s error, or the database cannot be opened or written.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&Db<'_>) -> Result<T, EmulatorError>,
    ) -> Result<T, EmulatorError> {
        let db = self.begin()?;
        match f(&db) {
            Ok(value) => {
                self.commit()?;
                Ok(value)
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    /// Runs `f` on one consistent snapshot (a read transaction).
    ///
    /// # Errors
    /// `f`'s error, or the database cannot be opened or read.
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&Db<'_>) -> Result<T, EmulatorError>,
    ) -> Result<T, EmulatorError> {
        let conn = self.conn()?;
        conn.execute_batch("BEGIN").map_err(|e| self.corrupt(e))?;
        let result = f(&Db { store: self, conn });
        let _ = conn.execute_batch("COMMIT");
        result
    }

    /// Reads the whole model (skeleton, every databag, every log line).
    ///
    /// # Errors
    /// No model here, or the database cannot be read or decoded.
    pub fn load_model(&self) -> Result<Model, EmulatorError> {
        if !self.db_path().is_file() {
            return Err(EmulatorError::NoModel(self.dir.clone()));
        }
        self.read(|db| db.full_model())
    }

    /// Replaces the whole model.
    ///
    /// # Errors
    /// The database cannot be written.
    pub fn save_model(&self, model: &Model) -> Result<(), EmulatorError> {
        self.write(|db| db.save_full(model))
    }

    /// Reads the emulator state, queue included (empty if absent).
    ///
    /// # Errors
    /// The database cannot be read or decoded.
    pub fn load_state(&self) -> Result<EmulatorState, EmulatorError> {
        self.read(|db| {
            let mut state = db.state()?;
            state.queue = db.queue_all()?.into();
            Ok(state)
        })
    }

    /// Replaces the emulator state, queue included.
    ///
    /// # Errors
    /// The database cannot be written.
    pub fn save_state(&self, state: &EmulatorState) -> Result<(), EmulatorError> {
        self.write(|db| {
            db.put_state(state)?;
            db.queue_replace(state.queue.iter())
        })
    }

    /// The running hook with this context id, if there is one.
    ///
    /// # Errors
    /// The database cannot be read or decoded.
    pub fn load_context(&self, id: &str) -> Result<Option<HookContextFile>, EmulatorError> {
        self.read(|db| db.context(id))
    }

    /// Writes the context of a running hook.
    ///
    /// # Errors
    /// The database cannot be written.
    pub fn save_context(&self, context: &HookContextFile) -> Result<(), EmulatorError> {
        self.write(|db| db.put_context(context))
    }

    /// Removes a finished hook's context.
    ///
    /// # Errors
    /// The database cannot be written.
    pub fn remove_context(&self, id: &str) -> Result<(), EmulatorError> {
        self.write(|db| db.delete_context(id))
    }

    /// Appends one JSON line to a log file (created 0600).
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

/// Whose databag a `bags` row is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum BagKey {
    /// A unit's bag.
    Unit(UnitName),
    /// An application's bag.
    App(AppName),
}

impl BagKey {
    fn kind(&self) -> &'static str {
        match self {
            Self::Unit(_) => "unit",
            Self::App(_) => "app",
        }
    }
    fn owner(&self) -> String {
        match self {
            Self::Unit(u) => u.to_string(),
            Self::App(a) => a.to_string(),
        }
    }
}

/// A relation's unit bags and app bags.
type RelationBags = (BTreeMap<UnitName, Databag>, BTreeMap<AppName, Databag>);

/// The parts of a [`Model`] stored apart from its rows: databags and juju-log lines.
#[derive(Default)]
pub(crate) struct Bulky {
    bags: BTreeMap<u32, RelationBags>,
    logs: BTreeMap<UnitName, Vec<LogEntry>>,
}

impl Bulky {
    /// The juju-log lines taken out, per unit.
    pub(crate) fn logs(&self) -> &BTreeMap<UnitName, Vec<LogEntry>> {
        &self.logs
    }
}

/// Takes the databags and logs out of `model`.
pub(crate) fn take_bulky(model: &mut Model) -> Bulky {
    let mut bulky = Bulky::default();
    for (number, rel) in &mut model.relations {
        bulky.bags.insert(
            *number,
            (
                std::mem::take(&mut rel.unit_bags),
                std::mem::take(&mut rel.app_bags),
            ),
        );
    }
    for app in model.applications.values_mut() {
        for (unit, record) in &mut app.units {
            if !record.logs.is_empty() {
                bulky
                    .logs
                    .insert(unit.clone(), std::mem::take(&mut record.logs));
            }
        }
    }
    bulky
}

/// Operations inside one transaction.
pub(crate) struct Db<'a> {
    store: &'a Store,
    conn: &'a Connection,
}

impl<'a> Db<'a> {
    /// The operations of the transaction `store` has open ([`Store::begin`]).
    pub(crate) fn of(store: &'a Store) -> Result<Self, EmulatorError> {
        Ok(Self {
            store,
            conn: store.conn()?,
        })
    }

    fn sql(&self, e: impl fmt::Display) -> EmulatorError {
        self.store.corrupt(e)
    }

    /// Runs one cached statement that changes rows.
    fn exec(&self, sql: &str, params: impl rusqlite::Params) -> Result<usize, EmulatorError> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute(params))
            .map_err(|e| self.sql(e))
    }

    fn decode<T: DeserializeOwned>(&self, what: &str, text: &str) -> Result<T, EmulatorError> {
        let (rows, bytes) = self.store.decoded.get();
        self.store
            .decoded
            .set((rows + 1, bytes + text.len() as u64));
        serde_json::from_str(text).map_err(|e| self.sql(format!("{what}: {e}")))
    }

    fn encode(&self, value: &impl Serialize) -> Result<String, EmulatorError> {
        serde_json::to_string(value).map_err(|e| self.sql(e))
    }

    /// A counter of `meta` (0 if never set).
    pub(crate) fn counter(&self, key: &str) -> Result<i64, EmulatorError> {
        self.conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")
            .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
            .map(Option::unwrap_or_default)
            .map_err(|e| self.sql(e))
    }

    /// Increments a counter; returns its new value.
    pub(crate) fn bump(&self, key: &str) -> Result<i64, EmulatorError> {
        self.conn
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, 1) \
                 ON CONFLICT (key) DO UPDATE SET value = value + 1 RETURNING value",
            )
            .and_then(|mut s| s.query_row([key], |r| r.get(0)))
            .map_err(|e| self.sql(e))
    }

    /// The stored skeleton, if a model exists.
    pub(crate) fn skeleton_text(&self) -> Result<Option<String>, EmulatorError> {
        self.conn
            .prepare_cached("SELECT model FROM skeleton WHERE id = 0")
            .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
            .map_err(|e| self.sql(e))
    }

    /// The skeleton decoded (no bags, no logs).
    pub(crate) fn skeleton(&self) -> Result<(Model, String), EmulatorError> {
        let text = self
            .skeleton_text()?
            .ok_or_else(|| EmulatorError::NoModel(self.store.dir.clone()))?;
        Ok((self.decode("model", &text)?, text))
    }

    /// Replaces the skeleton; returns the new skeleton counter.
    pub(crate) fn put_skeleton(&self, text: &str) -> Result<i64, EmulatorError> {
        self.exec(
            "INSERT OR REPLACE INTO skeleton (id, model) VALUES (0, ?1)",
            [text],
        )?;
        self.bump("skeleton")
    }

    /// One databag, if stored.
    pub(crate) fn bag(
        &self,
        relation: u32,
        key: &BagKey,
    ) -> Result<Option<Databag>, EmulatorError> {
        let text: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT data FROM bags WHERE relation = ?1 AND kind = ?2 AND owner = ?3",
            )
            .and_then(|mut s| {
                s.query_row(params![relation, key.kind(), key.owner()], |r| r.get(0))
                    .optional()
            })
            .map_err(|e| self.sql(e))?;
        text.map(|t| self.decode("databag", &t)).transpose()
    }

    /// Writes (or with `None` deletes) one databag.
    pub(crate) fn put_bag(
        &self,
        relation: u32,
        key: &BagKey,
        bag: Option<&Databag>,
    ) -> Result<(), EmulatorError> {
        match bag {
            Some(bag) => {
                let text = self.encode(bag)?;
                self.conn
                    .prepare_cached(
                        "INSERT OR REPLACE INTO bags (relation, kind, owner, data) \
                         VALUES (?1, ?2, ?3, ?4)",
                    )
                    .and_then(|mut s| s.execute(params![relation, key.kind(), key.owner(), text]))
            }
            None => self
                .conn
                .prepare_cached("DELETE FROM bags WHERE relation = ?1 AND kind = ?2 AND owner = ?3")
                .and_then(|mut s| s.execute(params![relation, key.kind(), key.owner()])),
        }
        .map(drop)
        .map_err(|e| self.sql(e))
    }

    /// Deletes every bag of a relation.
    pub(crate) fn delete_relation_bags(&self, relation: u32) -> Result<(), EmulatorError> {
        self.conn
            .prepare_cached("DELETE FROM bags WHERE relation = ?1")
            .and_then(|mut s| s.execute([relation]))
            .map(drop)
            .map_err(|e| self.sql(e))
    }

    /// Appends juju-log lines of `unit`.
    pub(crate) fn append_logs(
        &self,
        unit: &UnitName,
        entries: &[LogEntry],
    ) -> Result<(), EmulatorError> {
        let mut stmt = self
            .conn
            .prepare_cached("INSERT INTO logs (unit, level, message) VALUES (?1, ?2, ?3)")
            .map_err(|e| self.sql(e))?;
        let unit = unit.to_string();
        for entry in entries {
            stmt.execute(params![unit, entry.level.as_str(), entry.message])
                .map_err(|e| self.sql(e))?;
        }
        Ok(())
    }

    /// The sequence number of the last log line (0 if none).
    pub(crate) fn last_log_seq(&self) -> Result<i64, EmulatorError> {
        self.conn
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM logs")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(|e| self.sql(e))
    }

    /// Log lines after `seq`, with their sequence numbers.
    pub(crate) fn logs_since(
        &self,
        seq: i64,
    ) -> Result<Vec<(i64, UnitName, LogEntry)>, EmulatorError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, unit, level, message FROM logs WHERE seq > ?1 ORDER BY seq",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([seq], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, unit, level, message) = row.map_err(|e| self.sql(e))?;
            let unit: UnitName = unit.parse().map_err(|e| self.sql(format!("logs: {e}")))?;
            out.push((
                seq,
                unit,
                LogEntry {
                    level: parse_level(&level),
                    message,
                },
            ));
        }
        Ok(out)
    }

    /// The whole model, with the rows as read.
    pub(crate) fn full_model_rows(&self) -> Result<(Model, Rows), EmulatorError> {
        let (mut model, stored) = self.load_rows()?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT relation, kind, owner, data FROM bags")
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, u32>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(|e| self.sql(e))?;
        for row in rows {
            let (number, kind, owner, data) = row.map_err(|e| self.sql(e))?;
            let Some(rel) = model.relations.get_mut(&number) else {
                continue;
            };
            let bag: Databag = self.decode("databag", &data)?;
            let bad = |e: &dyn fmt::Display| self.sql(format!("bags: {e}"));
            if kind == "app" {
                let app: AppName = owner.parse().map_err(|e| bad(&e))?;
                rel.app_bags.insert(app, bag);
            } else {
                let unit: UnitName = owner.parse().map_err(|e| bad(&e))?;
                rel.unit_bags.insert(unit, bag);
            }
        }
        for (_, unit, entry) in self.logs_since(0)? {
            if let Some(record) = model
                .applications
                .get_mut(unit.app())
                .and_then(|a| a.units.get_mut(&unit))
            {
                record.logs.push(entry);
            }
        }
        Ok((model, stored))
    }

    /// The whole model.
    pub(crate) fn full_model(&self) -> Result<Model, EmulatorError> {
        self.full_model_rows().map(|(model, _)| model)
    }

    /// Replaces the whole model (skeleton, units, relations, members, bags, logs).
    pub(crate) fn save_full(&self, model: &Model) -> Result<(), EmulatorError> {
        let mut model = model.clone();
        let bulky = take_bulky(&mut model);
        self.conn
            .execute_batch(
                "DELETE FROM bags; DELETE FROM logs; DELETE FROM applications; \
                 DELETE FROM units; DELETE FROM relations; DELETE FROM members;",
            )
            .map_err(|e| self.sql(e))?;
        self.save_rows(&mut model, &mut Rows::default())?;
        for (number, (units, apps)) in &bulky.bags {
            for (unit, bag) in units {
                self.put_bag(*number, &BagKey::Unit(unit.clone()), Some(bag))?;
            }
            for (app, bag) in apps {
                self.put_bag(*number, &BagKey::App(app.clone()), Some(bag))?;
            }
        }
        for (unit, logs) in &bulky.logs {
            self.append_logs(unit, logs)?;
        }
        self.bump("generation").map(drop)
    }

    /// The emulator state without its queue.
    pub(crate) fn state(&self) -> Result<EmulatorState, EmulatorError> {
        let text: Option<String> = self
            .conn
            .prepare_cached("SELECT state FROM state WHERE id = 0")
            .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
            .map_err(|e| self.sql(e))?;
        text.map_or_else(
            || Ok(EmulatorState::default()),
            |t| self.decode("state", &t),
        )
    }

    /// Replaces the emulator state (not its queue).
    pub(crate) fn put_state(&self, state: &EmulatorState) -> Result<(), EmulatorError> {
        let text = self.encode(state)?;
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO state (id, state) VALUES (0, ?1)")
            .and_then(|mut s| s.execute([text]))
            .map(drop)
            .map_err(|e| self.sql(e))
    }

    fn queue_rows(&self, sql: &str, arg: i64) -> Result<Vec<(i64, HookInvocation)>, EmulatorError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([arg], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, text) = row.map_err(|e| self.sql(e))?;
            out.push((seq, self.decode("queue", &text)?));
        }
        Ok(out)
    }

    /// The queue, oldest first.
    pub(crate) fn queue_all(&self) -> Result<Vec<HookInvocation>, EmulatorError> {
        Ok(self
            .queue_rows(
                "SELECT seq, invocation FROM queue WHERE seq > ?1 ORDER BY seq",
                i64::MIN,
            )?
            .into_iter()
            .map(|(_, i)| i)
            .collect())
    }

    /// The hooks queued after `seq`.
    pub(crate) fn queue_since(&self, seq: i64) -> Result<Vec<HookInvocation>, EmulatorError> {
        Ok(self
            .queue_rows(
                "SELECT seq, invocation FROM queue WHERE seq > ?1 ORDER BY seq",
                seq,
            )?
            .into_iter()
            .map(|(_, i)| i)
            .collect())
    }

    /// The highest sequence number in the queue (0 if empty).
    pub(crate) fn queue_last(&self) -> Result<i64, EmulatorError> {
        self.conn
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM queue")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(|e| self.sql(e))
    }

    /// Appends hooks to the queue, leaving out a hook that coalesces
    /// ([`crate::uniter::coalesces`]) while an identical one still waits; returns those added.
    pub(crate) fn queue_push_coalesced(
        &self,
        hooks: impl IntoIterator<Item = HookInvocation>,
    ) -> Result<Vec<HookInvocation>, EmulatorError> {
        let mut added: Vec<HookInvocation> = Vec::new();
        for hook in hooks {
            if crate::uniter::coalesces(&hook) {
                let text = self.encode(&hook)?;
                let waiting: bool = self
                    .conn
                    .prepare_cached(
                        "SELECT EXISTS(SELECT 1 FROM queue WHERE unit = ?1 AND invocation = ?2)",
                    )
                    .and_then(|mut s| {
                        s.query_row(params![hook.unit.to_string(), text], |r| r.get(0))
                    })
                    .map_err(|e| self.sql(e))?;
                if waiting {
                    continue;
                }
            }
            self.queue_push(std::iter::once(&hook))?;
            added.push(hook);
        }
        Ok(added)
    }

    /// Appends hooks to the queue.
    pub(crate) fn queue_push<'i>(
        &self,
        hooks: impl IntoIterator<Item = &'i HookInvocation>,
    ) -> Result<(), EmulatorError> {
        let first = self.queue_last()?.max(0) + 1;
        let mut stmt = self
            .conn
            .prepare_cached("INSERT INTO queue (seq, unit, invocation) VALUES (?1, ?2, ?3)")
            .map_err(|e| self.sql(e))?;
        for (seq, hook) in (first..).zip(hooks) {
            let text = self.encode(hook)?;
            stmt.execute(params![seq, hook.unit.to_string(), text])
                .map_err(|e| self.sql(e))?;
        }
        Ok(())
    }

    /// Puts a hook in front of the queue.
    pub(crate) fn queue_push_front(&self, hook: &HookInvocation) -> Result<(), EmulatorError> {
        let first: i64 = self
            .conn
            .prepare_cached("SELECT coalesce(min(seq), 1) FROM queue")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(|e| self.sql(e))?;
        let text = self.encode(hook)?;
        self.conn
            .prepare_cached("INSERT INTO queue (seq, unit, invocation) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![first - 1, hook.unit.to_string(), text]))
            .map(drop)
            .map_err(|e| self.sql(e))
    }

    /// Replaces the whole queue.
    pub(crate) fn queue_replace<'i>(
        &self,
        hooks: impl IntoIterator<Item = &'i HookInvocation>,
    ) -> Result<(), EmulatorError> {
        self.conn
            .execute_batch("DELETE FROM queue")
            .map_err(|e| self.sql(e))?;
        self.queue_push(hooks)
    }

    /// Removes and returns the oldest hook of a unit not in `blocked`.
    pub(crate) fn queue_pop(
        &self,
        blocked: &BTreeSet<UnitName>,
    ) -> Result<Option<HookInvocation>, EmulatorError> {
        let found = if blocked.is_empty() {
            self.queue_rows(
                "SELECT seq, invocation FROM queue WHERE seq > ?1 ORDER BY seq LIMIT 1",
                i64::MIN,
            )?
            .into_iter()
            .next()
        } else {
            let blocked: BTreeSet<String> = blocked.iter().map(ToString::to_string).collect();
            let mut stmt = self
                .conn
                .prepare_cached("SELECT seq, unit, invocation FROM queue ORDER BY seq")
                .map_err(|e| self.sql(e))?;
            let mut rows = stmt.query([]).map_err(|e| self.sql(e))?;
            let mut found = None;
            while let Some(row) = rows.next().map_err(|e| self.sql(e))? {
                let unit: String = row.get(1).map_err(|e| self.sql(e))?;
                if !blocked.contains(&unit) {
                    let seq: i64 = row.get(0).map_err(|e| self.sql(e))?;
                    let text: String = row.get(2).map_err(|e| self.sql(e))?;
                    found = Some((seq, self.decode("queue", &text)?));
                    break;
                }
            }
            found
        };
        let Some((seq, hook)) = found else {
            return Ok(None);
        };
        self.exec("DELETE FROM queue WHERE seq = ?1", [seq])?;
        Ok(Some(hook))
    }

    /// The running hook with this context id, if there is one, with all its staged writes.
    pub(crate) fn context(&self, id: &str) -> Result<Option<HookContextFile>, EmulatorError> {
        let Some(mut context) = self.context_light(id)? else {
            return Ok(None);
        };
        let rows = self.staged_rows(
            "SELECT relation, kind, data FROM staged WHERE context = ?1",
            params![id],
        )?;
        put_staged(&mut context, rows);
        Ok(Some(context))
    }

    /// The running hook's context without its staged relation writes.
    pub(crate) fn context_light(&self, id: &str) -> Result<Option<HookContextFile>, EmulatorError> {
        let text: Option<String> = self
            .conn
            .prepare_cached("SELECT context FROM contexts WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
            .map_err(|e| self.sql(e))?;
        text.map(|t| self.decode("context", &t)).transpose()
    }

    /// Adds to `context` the relation writes it staged in `relations` (and only those: a
    /// call reads the writes of the relations it works on); returns them as loaded.
    pub(crate) fn load_staged(
        &self,
        context: &mut HookContextFile,
        relations: impl IntoIterator<Item = u32>,
    ) -> Result<Staged, EmulatorError> {
        let mut found = Vec::new();
        for number in relations {
            found.extend(self.staged_rows(
                "SELECT relation, kind, data FROM staged WHERE context = ?1 AND relation = ?2",
                params![context.id, number],
            )?);
        }
        let loaded = found.iter().cloned().collect();
        put_staged(context, found);
        Ok(loaded)
    }

    fn staged_rows(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<StagedRow>, EmulatorError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.sql(e))?;
        let found = stmt
            .query_map(args, |r| {
                Ok((
                    r.get::<_, u32>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| self.sql(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.sql(e))?;
        found
            .into_iter()
            .map(|(number, kind, data)| {
                Ok(((number, kind == "app"), self.decode("staged", &data)?))
            })
            .collect()
    }

    /// Writes a running hook's context, replacing all its staged writes.
    pub(crate) fn put_context(&self, context: &HookContextFile) -> Result<(), EmulatorError> {
        self.exec("DELETE FROM staged WHERE context = ?1", [&context.id])?;
        self.put_context_staged(context, &mut Staged::new())
    }

    /// Writes a running hook's context and the staged writes that differ from `loaded`
    /// (those [`Db::load_staged`] read); `loaded` then matches.
    pub(crate) fn put_context_staged(
        &self,
        context: &HookContextFile,
        loaded: &mut Staged,
    ) -> Result<(), EmulatorError> {
        let light = HookContextFile {
            id: context.id.clone(),
            invocation: context.invocation.clone(),
            pending: Pending {
                unit_writes: BTreeMap::new(),
                app_writes: BTreeMap::new(),
                ..context.pending.clone()
            },
        };
        let text = self.encode(&light)?;
        self.exec(
            "INSERT OR REPLACE INTO contexts (id, context) VALUES (?1, ?2)",
            params![context.id, text],
        )?;
        let writes = [
            (false, &context.pending.unit_writes),
            (true, &context.pending.app_writes),
        ];
        for (app, writes) in writes {
            for (number, bag) in writes {
                let key = (*number, app);
                if loaded.get(&key) == Some(bag) {
                    continue;
                }
                let text = self.encode(bag)?;
                self.exec(
                    "INSERT OR REPLACE INTO staged (context, relation, kind, data) \
                         VALUES (?1, ?2, ?3, ?4)",
                    params![context.id, number, if app { "app" } else { "unit" }, text],
                )?;
                loaded.insert(key, bag.clone());
            }
        }
        Ok(())
    }

    /// Removes a finished hook's context and its staged writes.
    pub(crate) fn delete_context(&self, id: &str) -> Result<(), EmulatorError> {
        self.conn
            .prepare_cached("DELETE FROM contexts WHERE id = ?1")
            .and_then(|mut s| s.execute([id]))
            .and_then(|_| {
                self.conn
                    .prepare_cached("DELETE FROM staged WHERE context = ?1")
                    .and_then(|mut s| s.execute([id]))
            })
            .map(drop)
            .map_err(|e| self.sql(e))
    }
}

/// Staged relation writes as loaded: by (relation, whether it is the app's bag).
pub(crate) type Staged = BTreeMap<(u32, bool), Databag>;

/// One staged write: (relation, whether it is the app's bag), and the bag.
type StagedRow = ((u32, bool), Databag);

fn put_staged(context: &mut HookContextFile, rows: Vec<StagedRow>) {
    for ((number, app), bag) in rows {
        let writes = if app {
            &mut context.pending.app_writes
        } else {
            &mut context.pending.unit_writes
        };
        writes.insert(number, bag);
    }
}

fn parse_level(text: &str) -> LogLevel {
    match text {
        "DEBUG" => LogLevel::Debug,
        "WARNING" => LogLevel::Warning,
        "ERROR" => LogLevel::Error,
        _ => LogLevel::Info,
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

/// Creates a directory (and parents) and makes it 0700, whatever the umask.
///
/// # Errors
/// It cannot be created or its mode set.
pub(crate) fn ensure_private_dir(path: &Path) -> Result<(), EmulatorError> {
    ensure_dir(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o700)).map_err(|source| {
        EmulatorError::Io {
            path: path.to_owned(),
            source,
        }
    })
}

#[cfg(test)]
mod tests;
