//! [`Emulator`]: model commands that queue hooks, and the runner that works the queue.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;

use juju_hooks::testing::{EndpointRole, HookInvocation, Model, Pending, RelationEnd};
use juju_hooks::{AppName, Databag, Endpoint, RelationId, UnitName};
use serde::{Deserialize, Serialize};

use crate::charm::{copy_charm, CharmInfo};
use crate::error::EmulatorError;
use crate::runner::{find_handler, hook_environment, run_process, Handler, HookEnv};
use crate::store::{
    ensure_dir, ensure_private_dir, BagKey, CallRecord, Db, EmulatorState, HookContextFile, Rows,
    Store,
};
use crate::tools::HOOK_TOOLS;
use crate::uniter;

/// How a hook run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum HookOutcome {
    /// Exit 0: relation writes were committed.
    Succeeded,
    /// The charm has neither `dispatch` nor `hooks/<name>`: skipped as a success.
    NoHandler,
    /// Non-zero exit (`None`: killed by a signal), or the handler could not be run; relation
    /// writes were discarded.
    Failed {
        /// The exit code, if the process exited.
        exit_code: Option<i32>,
    },
    /// Killed (with its process group) after `--hook-timeout`; writes were discarded.
    TimedOut,
    /// Exited 0, but the controller refused its changes when they were committed (e.g.
    /// `secret-set` of a secret the unit does not own): nothing was committed and the unit
    /// is in error, as in Juju.
    Refused {
        /// The controller's reason, e.g. `permission denied`.
        reason: String,
    },
    /// Not run: the queued hook no longer fits the model (e.g. its unit is gone).
    Dropped {
        /// Why.
        reason: String,
    },
}

/// What one hook run did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookReport {
    /// Which unit, which hook, and its relation environment.
    pub invocation: HookInvocation,
    /// `JUJU_CONTEXT_ID` of the run (empty when dropped).
    pub context_id: String,
    /// How it ended.
    pub outcome: HookOutcome,
    /// The hook's stdout.
    pub stdout: String,
    /// The hook's stderr.
    pub stderr: String,
    /// Wall time of the hook process, in microseconds.
    pub duration_us: u64,
    /// How many hook-tool calls the hook made.
    pub tool_calls: usize,
    /// The hooks this run queued (committed writes, leader data, life cycle).
    pub queued: Vec<HookInvocation>,
}

impl HookReport {
    /// Whether the hook counts as successful (exit 0 or no handler).
    pub fn succeeded(&self) -> bool {
        matches!(
            self.outcome,
            HookOutcome::Succeeded | HookOutcome::NoHandler
        )
    }

    /// The exit code, for hooks that ran and exited.
    pub fn exit_code(&self) -> Option<i32> {
        match self.outcome {
            HookOutcome::Succeeded | HookOutcome::Refused { .. } => Some(0),
            HookOutcome::Failed { exit_code } => exit_code,
            _ => None,
        }
    }

    /// Wall time of the hook process.
    pub fn duration(&self) -> Duration {
        Duration::from_micros(self.duration_us)
    }

    fn dropped(invocation: HookInvocation, reason: String) -> Self {
        Self {
            invocation,
            context_id: String::new(),
            outcome: HookOutcome::Dropped { reason },
            stdout: String::new(),
            stderr: String::new(),
            duration_us: 0,
            tool_calls: 0,
            queued: Vec::new(),
        }
    }
}

/// The model as this process last saw it, and what it needs to know whether that is stale.
#[derive(Debug, Default)]
struct Mirror {
    model: Model,
    /// The `generation` counter the model matches.
    generation: i64,
    /// The `skeleton` counter the model matches.
    skeleton: i64,
    /// The units, relations and member rows as stored, to write only those that changed.
    rows: Rows,
    /// The last log line read into the model.
    log_seq: i64,
}

impl Mirror {
    /// Catches up with what other processes (tools, other commands) wrote: everything if bags
    /// changed or rows were deleted, else the skeleton if it changed, the newer application,
    /// unit, relation and member rows, and new log lines.
    fn sync(&mut self, db: &Db<'_>) -> Result<(), EmulatorError> {
        let generation = db.counter("generation")?;
        let skeleton = db.counter("skeleton")?;
        if generation != self.generation {
            let running = std::mem::take(&mut self.model.running);
            (self.model, self.rows) = db.full_model_rows()?;
            self.model.running = running;
            self.generation = generation;
            self.skeleton = skeleton;
            self.log_seq = db.last_log_seq()?;
            return Ok(());
        }
        if skeleton != self.skeleton {
            db.sync_skeleton(&mut self.model, &mut self.rows)?;
            self.skeleton = skeleton;
        }
        db.sync_rows(&mut self.model, &mut self.rows)?;
        for (seq, unit, entry) in db.logs_since(self.log_seq)? {
            if let Some(record) = self
                .model
                .applications
                .get_mut(unit.app())
                .and_then(|a| a.units.get_mut(&unit))
            {
                record.logs.push(entry);
            }
            self.log_seq = seq;
        }
        Ok(())
    }

    /// Writes the skeleton and the application, unit, relation and member rows that changed.
    fn save_rows(&mut self, db: &Db<'_>) -> Result<(), EmulatorError> {
        db.save_rows(&mut self.model, &mut self.rows)?;
        self.skeleton = db.counter("skeleton")?;
        self.generation = db.counter("generation")?;
        Ok(())
    }

    /// Writes `unit`'s bag and its application's bag in each of `relations` (deleting the
    /// rows of relations that are gone).
    fn save_bags(
        &mut self,
        db: &Db<'_>,
        relations: &BTreeSet<u32>,
        unit: &UnitName,
    ) -> Result<(), EmulatorError> {
        if relations.is_empty() {
            return Ok(());
        }
        for number in relations {
            match self.model.relations.get(number) {
                Some(rel) => {
                    db.put_bag(
                        *number,
                        &BagKey::Unit(unit.clone()),
                        rel.unit_bags.get(unit),
                    )?;
                    let app = unit.app();
                    db.put_bag(*number, &BagKey::App(app.clone()), rel.app_bags.get(app))?;
                }
                None => db.delete_relation_bags(*number)?,
            }
        }
        self.generation = db.bump("generation")?;
        Ok(())
    }

    /// Writes every bag that differs between `before` and the model.
    fn save_bag_changes(&mut self, db: &Db<'_>, before: &Model) -> Result<(), EmulatorError> {
        let mut changed = false;
        for (number, rel) in &self.model.relations {
            let old = before.relations.get(number);
            for (unit, bag) in &rel.unit_bags {
                if old.and_then(|r| r.unit_bags.get(unit)) != Some(bag) {
                    db.put_bag(*number, &BagKey::Unit(unit.clone()), Some(bag))?;
                    changed = true;
                }
            }
            for (app, bag) in &rel.app_bags {
                if old.and_then(|r| r.app_bags.get(app)) != Some(bag) {
                    db.put_bag(*number, &BagKey::App(app.clone()), Some(bag))?;
                    changed = true;
                }
            }
            for unit in old.iter().flat_map(|r| r.unit_bags.keys()) {
                if !rel.unit_bags.contains_key(unit) {
                    db.put_bag(*number, &BagKey::Unit(unit.clone()), None)?;
                    changed = true;
                }
            }
            for app in old.iter().flat_map(|r| r.app_bags.keys()) {
                if !rel.app_bags.contains_key(app) {
                    db.put_bag(*number, &BagKey::App(app.clone()), None)?;
                    changed = true;
                }
            }
        }
        for number in before.relations.keys() {
            if !self.model.relations.contains_key(number) {
                db.delete_relation_bags(*number)?;
                changed = true;
            }
        }
        if changed {
            self.generation = db.bump("generation")?;
        }
        Ok(())
    }
}

/// An emulated Juju model kept in a directory: deploy charms, relate them, and run their
/// hooks with the hook tools of this crate.
///
/// Model commands only queue the hooks Juju would fire; [`Emulator::run_next`] and
/// [`Emulator::settle`] run them, one at a time, in queue order. As in Juju, a hook that fails
/// puts its unit in error: the unit runs nothing more until [`Emulator::resolved`], while the
/// other units carry on.
#[derive(Debug)]
pub struct Emulator {
    store: Store,
    tools_binary: PathBuf,
    extra_env: BTreeMap<String, String>,
    hook_timeout: Option<Duration>,
    mirror: Mirror,
}

impl Emulator {
    /// Creates a model named `name` in `dir` (created if needed, must hold no model yet).
    /// `tools_binary` is the multi-call binary the hook tools link to.
    ///
    /// # Errors
    /// A model already exists there, or the directory cannot be written.
    pub fn create(dir: &Path, name: &str, tools_binary: &Path) -> Result<Self, EmulatorError> {
        let store = Store::new(absolute(dir)?);
        if store.exists() {
            return Err(EmulatorError::ModelExists(store.dir().to_owned()));
        }
        ensure_private_dir(store.dir())?;
        let mut model = Model::new(name);
        model.clock = crate::clock::now_secs();
        store.save_model(&model)?;
        store.save_state(&EmulatorState::default())?;
        Self::open(store.dir(), tools_binary)
    }

    /// Opens the model in `dir`, pointing its tool links at `tools_binary`.
    ///
    /// # Errors
    /// No model there, or its files cannot be read.
    pub fn open(dir: &Path, tools_binary: &Path) -> Result<Self, EmulatorError> {
        let store = Store::new(absolute(dir)?);
        if !store.exists() {
            return Err(EmulatorError::NoModel(store.dir().to_owned()));
        }
        let mut mirror = Mirror {
            generation: -1,
            ..Mirror::default()
        };
        store.read(|db| mirror.sync(db))?;
        let emulator = Self {
            tools_binary: absolute(tools_binary)?,
            store,
            extra_env: BTreeMap::new(),
            hook_timeout: None,
            mirror,
        };
        emulator.link_tools()?;
        Ok(emulator)
    }

    /// **For tests only**: variables added to every hook's environment, beyond what Juju
    /// sets (e.g. the path of a program a test charm runs). Juju gives hooks nothing of its
    /// caller's environment, and neither does the emulator otherwise. `JUJU_*` names cannot
    /// be overridden; a `PATH` given here goes after the tools dir, before the system path.
    pub fn with_extra_env(mut self, env: BTreeMap<String, String>) -> Self {
        self.extra_env = env;
        self
    }

    /// Kills a hook (its whole process group) that runs longer than `timeout`; the hook then
    /// fails. Juju has no such limit, and by default neither has the emulator.
    pub fn with_hook_timeout(mut self, timeout: Duration) -> Self {
        self.hook_timeout = Some(timeout);
        self
    }

    /// The model directory.
    pub fn dir(&self) -> &Path {
        self.store.dir()
    }

    /// The model as of the last command or hook.
    pub fn model(&self) -> &Model {
        &self.mirror.model
    }

    /// A unit's own copy of its charm (its `JUJU_CHARM_DIR`).
    pub fn unit_charm_dir(&self, unit: &UnitName) -> PathBuf {
        self.store.unit_charm_dir(unit)
    }

    /// The hooks waiting to run, oldest first (those of units in error included).
    ///
    /// # Errors
    /// The database cannot be read.
    pub fn queued(&self) -> Result<Vec<HookInvocation>, EmulatorError> {
        self.store.read(|db| db.queue_all())
    }

    /// Units in error, each with the hook that failed.
    ///
    /// # Errors
    /// The database cannot be read.
    pub fn hook_errors(&self) -> Result<BTreeMap<UnitName, HookInvocation>, EmulatorError> {
        self.store.read(|db| Ok(db.state()?.errors))
    }

    /// Every hook-tool call made so far (from `calls.jsonl`).
    ///
    /// # Errors
    /// The log cannot be read.
    pub fn calls(&self) -> Result<Vec<CallRecord>, EmulatorError> {
        self.store.read_lines(&self.store.calls_path())
    }

    /// Every hook run so far (from `hooks.jsonl`).
    ///
    /// # Errors
    /// The log cannot be read.
    pub fn hook_log(&self) -> Result<Vec<HookReport>, EmulatorError> {
        self.store.read_lines(&self.store.hooks_path())
    }

    /// Application statuses set with `status-set --application`.
    ///
    /// # Errors
    /// The database cannot be read.
    pub fn app_statuses(
        &self,
    ) -> Result<BTreeMap<AppName, juju_hooks::WorkloadStatus>, EmulatorError> {
        self.store.read(|db| Ok(db.state()?.app_status))
    }

    fn link_tools(&self) -> Result<(), EmulatorError> {
        let dir = self.store.tools_dir();
        ensure_dir(&dir)?;
        for tool in HOOK_TOOLS {
            let link = dir.join(tool);
            if std::fs::read_link(&link).ok().as_deref() == Some(self.tools_binary.as_path()) {
                continue;
            }
            let io = |source| EmulatorError::Io {
                path: link.clone(),
                source,
            };
            match std::fs::remove_file(&link) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
                _ => {}
            }
            std::os::unix::fs::symlink(&self.tools_binary, &link).map_err(io)?;
        }
        Ok(())
    }

    /// The model directory's store.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// In one transaction: catches up with the database, applies `change` to a copy of the
    /// model, writes what changed and queues the hooks it returns (repeated ones coalesce).
    /// An error changes nothing.
    pub(crate) fn change<T>(
        &mut self,
        change: impl FnOnce(&mut Model) -> Result<(T, Vec<HookInvocation>), EmulatorError>,
    ) -> Result<T, EmulatorError> {
        let mirror = &mut self.mirror;
        self.store.write(|db| {
            mirror.sync(db)?;
            let mut model = mirror.model.clone();
            let (result, hooks) = change(&mut model)?;
            let before = std::mem::replace(&mut mirror.model, model);
            mirror.save_bag_changes(db, &before)?;
            mirror.save_rows(db)?;
            db.queue_push_coalesced(hooks)?;
            Ok(result)
        })
    }

    /// Deploys `charm_dir` as application `app` with `units` units; each unit gets its own
    /// copy of the charm. Queues, per unit: `install`, `leader-elected` (leader) or
    /// `leader-settings-changed`, `config-changed`, `start`; then the peer relations' hooks.
    ///
    /// # Errors
    /// The charm is unusable, the application exists, or files cannot be written.
    pub fn deploy(
        &mut self,
        app: &AppName,
        charm_dir: &Path,
        units: u32,
    ) -> Result<Vec<UnitName>, EmulatorError> {
        let charm_dir = absolute(charm_dir)?;
        let info = CharmInfo::read(&charm_dir)?;
        let names = self.change(|model| {
            let names = model.deploy(app, info.endpoints.clone(), units)?;
            if let Some(application) = model.applications.get_mut(app) {
                application.charm_dir = Some(charm_dir.clone());
                application.config = info.default_config();
            }
            let mut relation_hooks = Vec::new();
            for (endpoint, (role, _)) in &info.endpoints {
                if *role == EndpointRole::Peers {
                    let end = RelationEnd::new(app.clone(), endpoint.clone());
                    relation_hooks.extend(model.relate(&end, &end)?.1);
                }
            }
            uniter::mark_new_units(model, &names);
            let hooks = uniter::setup_sequence(model, &names, relation_hooks);
            Ok((names, hooks))
        })?;
        for unit in &names {
            copy_charm(&charm_dir, &self.store.unit_charm_dir(unit))?;
        }
        Ok(names)
    }

    /// Adds a unit to `app` (with its own charm copy); queues its set-up hooks and the
    /// relation hooks of every relation the application is in.
    ///
    /// # Errors
    /// Unknown application, or files cannot be written.
    pub fn add_unit(&mut self, app: &AppName) -> Result<UnitName, EmulatorError> {
        let (unit, charm_dir) = self.change(|model| {
            let charm_dir = model
                .applications
                .get(app)
                .and_then(|a| a.charm_dir.clone())
                .ok_or_else(|| {
                    EmulatorError::Usage(format!("application {app} is not deployed"))
                })?;
            let (unit, relation_hooks) = model.add_unit(app)?;
            let units = [unit.clone()];
            uniter::mark_new_units(model, &units);
            let hooks = uniter::setup_sequence(model, &units, relation_hooks);
            Ok(((unit, charm_dir), hooks))
        })?;
        copy_charm(&charm_dir, &self.store.unit_charm_dir(&unit))?;
        Ok(unit)
    }

    /// Relates two ends given as `app:endpoint` (or just `app` when exactly one pair of
    /// endpoints fits, as `juju integrate` allows); queues `-created`, `-joined`, `-changed`.
    /// Returns the relation number.
    ///
    /// # Errors
    /// Unknown application or endpoint, ambiguous or mismatched endpoints, already related.
    pub fn relate(&mut self, a: &str, b: &str) -> Result<u32, EmulatorError> {
        self.change(|model| {
            let (a, b) = resolve_ends(model, a, b)?;
            Ok(model.relate(&a, &b)?)
        })
    }

    /// Removes relation `number`; queues `-departed` and `-broken` on every unit in it.
    ///
    /// # Errors
    /// Unknown relation, or one already being removed.
    pub fn unrelate(&mut self, number: u32) -> Result<(), EmulatorError> {
        self.change(|model| Ok(((), model.unrelate(number)?)))
    }

    /// Removes a unit; queues `-departed` on the units related to it, and on the unit itself
    /// `-departed`, `-broken`, `stop` and `remove`. The unit leaves the model when its
    /// `remove` hook succeeds.
    ///
    /// # Errors
    /// Unknown unit, or one already being removed.
    pub fn remove_unit(&mut self, unit: &UnitName) -> Result<(), EmulatorError> {
        self.change(|model| Ok(((), model.remove_unit(unit)?)))
    }

    /// Sets config options of `app` (values typed by the charm's `config.yaml`; an empty
    /// value resets to the default); queues `config-changed` on every unit if a value changed.
    ///
    /// # Errors
    /// Unknown application or option, or a value of the wrong type.
    pub fn set_config(
        &mut self,
        app: &AppName,
        values: &BTreeMap<String, String>,
    ) -> Result<(), EmulatorError> {
        self.change(|model| {
            let application = model.applications.get_mut(app).ok_or_else(|| {
                EmulatorError::Usage(format!("application {app} is not deployed"))
            })?;
            let charm_dir = application.charm_dir.clone().ok_or_else(|| {
                EmulatorError::Usage(format!("application {app} has no charm directory"))
            })?;
            let info = CharmInfo::read(&charm_dir)?;
            let before = application.config.clone();
            for (name, value) in values {
                let value = info.config_value(name, value)?;
                application.config.insert(name.clone(), value);
            }
            // Like Juju, setting the values it already has fires nothing.
            if application.config == before {
                return Ok(((), Vec::new()));
            }
            let hooks = application
                .units
                .keys()
                .map(|u| HookInvocation::new(u.clone(), "config-changed"))
                .collect();
            Ok(((), hooks))
        })
    }

    /// Writes leader data of `app` as its leader would (`leader-set`; an empty value deletes);
    /// queues `leader-settings-changed` on the other units if the data changed.
    ///
    /// # Errors
    /// Unknown application, or it has no leader.
    pub fn set_leader_data(
        &mut self,
        app: &AppName,
        changes: &Databag,
    ) -> Result<(), EmulatorError> {
        self.change(|model| {
            let application = model.applications.get(app).ok_or_else(|| {
                EmulatorError::Usage(format!("application {app} is not deployed"))
            })?;
            let leader = application
                .leader
                .clone()
                .ok_or_else(|| EmulatorError::Usage(format!("application {app} has no leader")))?;
            let others: Vec<HookInvocation> = application
                .units
                .keys()
                .filter(|u| **u != leader)
                .map(|u| HookInvocation::new(u.clone(), "leader-settings-changed"))
                .collect();
            let before = model.leader_get(&leader);
            model
                .leader_set(&leader, changes)
                .map_err(|r| EmulatorError::Usage(r.message))?;
            if model.leader_get(&leader) == before {
                return Ok(((), Vec::new()));
            }
            Ok(((), others))
        })
    }

    /// Runs the oldest queued hook of a unit that is not in error. `None` when no such hook
    /// is queued. A queued hook that no longer fits the model (its unit or relation is gone)
    /// is reported as dropped.
    ///
    /// # Errors
    /// The model directory cannot be read or written.
    pub fn run_next(&mut self) -> Result<Option<HookReport>, EmulatorError> {
        let mirror = &mut self.mirror;
        let next = self.store.write(|db| {
            mirror.sync(db)?;
            let blocked = db.state()?.errors.into_keys().collect();
            db.queue_pop(&blocked)
        })?;
        let Some(invocation) = next else {
            return Ok(None);
        };
        match self.run_hook(invocation.clone()) {
            Ok(report) => Ok(Some(report)),
            Err(EmulatorError::Model(inconsistency)) => {
                // A dropped secret trigger must not stay marked as queued, or it never
                // comes again.
                let mirror = &mut self.mirror;
                let due = match invocation.secret {
                    Some(_) => self.store.write(|db| {
                        mirror.sync(db)?;
                        let due = mirror.model.secret_trigger_dropped(&invocation);
                        mirror.save_rows(db)?;
                        db.queue_push_coalesced(due)
                    })?,
                    None => Vec::new(),
                };
                let mut report = HookReport::dropped(invocation, inconsistency.0);
                report.queued = due;
                self.store.append_line(&self.store.hooks_path(), &report)?;
                Ok(Some(report))
            }
            Err(other) => Err(other),
        }
    }

    /// Runs queued hooks in order until none of a unit outside error is left or `max_hooks`
    /// have run; check [`Emulator::queued`] and [`Emulator::hook_errors`] to see whether it
    /// settled.
    ///
    /// # Errors
    /// The model directory cannot be read or written.
    pub fn settle(&mut self, max_hooks: usize) -> Result<Vec<HookReport>, EmulatorError> {
        let mut reports = Vec::new();
        while reports.len() < max_hooks {
            match self.run_next()? {
                Some(report) => reports.push(report),
                None => break,
            }
        }
        Ok(reports)
    }

    /// `juju resolved`: takes `unit` out of error. With `retry` its failed hook runs again
    /// first (it goes to the front of the queue); without (`--no-retry`) the hook counts as
    /// run, with none of its relation writes, and its life-cycle effects apply (a skipped
    /// `remove` still removes the unit).
    ///
    /// # Errors
    /// The unit is not in error, or the database cannot be written.
    pub fn resolved(&mut self, unit: &UnitName, retry: bool) -> Result<(), EmulatorError> {
        let mirror = &mut self.mirror;
        self.store.write(|db| {
            mirror.sync(db)?;
            let mut state = db.state()?;
            let failed = state.errors.remove(unit).ok_or_else(|| {
                EmulatorError::Usage(format!("unit {unit:?} is not in an error state"))
            })?;
            if retry {
                db.queue_push_front(&failed)?;
            } else {
                let before = mirror
                    .model
                    .relations
                    .keys()
                    .copied()
                    .collect::<BTreeSet<_>>();
                let follow_up = match mirror.model.begin_hook(&failed) {
                    Ok(()) => mirror.model.commit(unit, Pending::default()),
                    // The hook no longer fits the model (e.g. its relation is gone).
                    Err(_) => Vec::new(),
                };
                let gone: BTreeSet<u32> = before
                    .into_iter()
                    .filter(|n| !mirror.model.relations.contains_key(n))
                    .collect();
                mirror.save_bags(db, &gone, unit)?;
                mirror.save_rows(db)?;
                db.queue_push(&follow_up)?;
            }
            db.put_state(&state)
        })
    }

    /// Runs one hook now, outside the queue order: Juju's pre-hook membership change, the
    /// charm's handler with the hook environment in the unit's charm dir, then — only on
    /// exit 0 — the commit of its staged writes, whose follow-up hooks are queued. On failure
    /// the unit goes into error.
    ///
    /// # Errors
    /// The invocation does not fit the model ([`EmulatorError::Model`]), or the model
    /// directory cannot be read or written. A failing hook is not an error: see the report.
    pub fn run_hook(&mut self, invocation: HookInvocation) -> Result<HookReport, EmulatorError> {
        let context_id = format!("{}-{}-{}", invocation.unit, invocation.hook, random_hex());
        let unit = invocation.unit.clone();
        let mirror = &mut self.mirror;
        let queue_mark = self.store.write(|db| {
            mirror.sync(db)?;
            mirror.model.begin_hook(&invocation)?;
            uniter::before_hook(&mut mirror.model, &invocation);
            mirror.save_rows(db)?;
            if let Some(relation) = &invocation.relation {
                mirror.save_bags(db, &BTreeSet::from([relation.number()]), &unit)?;
            }
            let mut state = db.state()?;
            state.hooks_started += 1;
            db.put_state(&state)?;
            db.put_context(&HookContextFile {
                id: context_id.clone(),
                invocation: invocation.clone(),
                pending: Pending::default(),
            })?;
            db.queue_last()
        });
        let queue_mark = match queue_mark {
            Ok(mark) => mark,
            Err(e) => {
                // The transaction was rolled back: so is the in-memory hook start.
                self.mirror.model.running.remove(&unit);
                return Err(e);
            }
        };
        let calls_offset = std::fs::metadata(self.store.calls_path()).map_or(0, |m| m.len());

        let charm_dir = self.store.unit_charm_dir(&unit);
        let env = hook_environment(&HookEnv {
            invocation: &invocation,
            context_id: &context_id,
            model_name: &self.mirror.model.name,
            model_dir: self.store.dir(),
            charm_dir: &charm_dir,
            tools_dir: &self.store.tools_dir(),
            extra: &self.extra_env,
        });
        let (outcome, stdout, stderr, duration_us) = self.execute(&invocation, &charm_dir, &env);
        let tool_calls = self.count_calls(calls_offset, &context_id)?;

        let exited_ok = matches!(outcome, HookOutcome::Succeeded | HookOutcome::NoHandler);
        let mirror = &mut self.mirror;
        let mut refused = None;
        let caused = self.store.write(|db| {
            mirror.sync(db)?;
            let context = db.context(&context_id)?;
            db.delete_context(&context_id)?;
            let mut state = db.state()?;
            let mut queued = Vec::new();
            let pending = context.map(|c| c.pending).unwrap_or_default();
            // The controller may still refuse what the hook staged: then the hook fails.
            refused = exited_ok
                .then(|| mirror.model.commit_refusal(&unit, &pending))
                .flatten();
            let succeeded = exited_ok && refused.is_none();
            if succeeded {
                let mut touched: BTreeSet<u32> = pending
                    .unit_writes
                    .keys()
                    .chain(pending.app_writes.keys())
                    .copied()
                    .collect();
                touched.extend(invocation.relation.as_ref().map(RelationId::number));
                let before: Vec<u32> = mirror.model.relations.keys().copied().collect();
                queued = mirror.model.commit(&unit, pending);
                touched.extend(
                    before
                        .into_iter()
                        .filter(|n| !mirror.model.relations.contains_key(n)),
                );
                mirror.save_bags(db, &touched, &unit)?;
            } else {
                mirror.model.abort(&unit);
                state.errors.insert(unit.clone(), invocation.clone());
                db.put_state(&state)?;
            }
            uniter::after_hook(&mut mirror.model, &invocation, succeeded);
            mirror.save_rows(db)?;
            // Hooks the tools queued during the run (leader-settings-changed) come first.
            let mut caused = db.queue_since(queue_mark)?;
            caused.extend(db.queue_push_coalesced(queued)?);
            Ok(caused)
        })?;
        let outcome = match refused {
            Some(refusal) => HookOutcome::Refused {
                reason: refusal.message,
            },
            None => outcome,
        };

        let report = HookReport {
            invocation,
            context_id,
            outcome,
            stdout,
            stderr,
            duration_us,
            tool_calls,
            queued: caused,
        };
        self.store.append_line(&self.store.hooks_path(), &report)?;
        Ok(report)
    }

    /// Finds and runs the handler; any failure to run it is a hook failure, as in Juju.
    fn execute(
        &self,
        invocation: &HookInvocation,
        charm_dir: &Path,
        env: &BTreeMap<String, String>,
    ) -> (HookOutcome, String, String, u64) {
        let failed = |stderr: String| {
            (
                HookOutcome::Failed { exit_code: None },
                String::new(),
                stderr,
                0,
            )
        };
        if !charm_dir.join("metadata.yaml").is_file() {
            return failed(format!("charm missing from disk: {}", charm_dir.display()));
        }
        // Actions live in `actions/`, hooks in `hooks/` (runner.go `RunAction`, `RunHook`).
        let location = if invocation.action.is_some() {
            "actions"
        } else {
            "hooks"
        };
        let program = match find_handler(charm_dir, location, &invocation.hook) {
            Ok(Handler::Dispatch(p) | Handler::Hook(p)) => p,
            Ok(Handler::Missing) => {
                return (HookOutcome::NoHandler, String::new(), String::new(), 0)
            }
            Err(e) => return failed(e),
        };
        let unit = invocation.unit.to_string();
        match run_process(
            &program,
            charm_dir,
            env,
            self.hook_timeout,
            &unit,
            &invocation.hook,
        ) {
            Ok(result) => {
                let outcome = if result.timed_out {
                    HookOutcome::TimedOut
                } else if result.code == Some(0) {
                    HookOutcome::Succeeded
                } else {
                    HookOutcome::Failed {
                        exit_code: result.code,
                    }
                };
                let micros = u64::try_from(result.duration.as_micros()).unwrap_or(u64::MAX);
                (outcome, result.stdout, result.stderr, micros)
            }
            Err(e) => failed(e.to_string()),
        }
    }

    fn count_calls(&self, offset: u64, context_id: &str) -> Result<usize, EmulatorError> {
        use std::io::{BufRead, BufReader, Seek, SeekFrom};
        let path = self.store.calls_path();
        let Ok(mut file) = std::fs::File::open(&path) else {
            return Ok(0);
        };
        file.seek(SeekFrom::Start(offset))
            .map_err(|source| EmulatorError::Io { path, source })?;
        let count = BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| serde_json::from_str::<CallRecord>(&line).ok())
            .filter(|call| call.context_id.as_deref() == Some(context_id))
            .count();
        Ok(count)
    }
}

/// Parses `app:endpoint` or `app`, finding the endpoints `juju integrate` would pick.
fn resolve_ends(
    model: &Model,
    a: &str,
    b: &str,
) -> Result<(RelationEnd, RelationEnd), EmulatorError> {
    let parse = |s: &str| -> Result<(AppName, Option<Endpoint>), EmulatorError> {
        let (app, endpoint) = match s.split_once(':') {
            Some((app, ep)) => (app, Some(ep)),
            None => (s, None),
        };
        let app: AppName = app
            .parse()
            .map_err(|e| EmulatorError::Usage(format!("{e}")))?;
        let endpoint = endpoint
            .map(str::parse::<Endpoint>)
            .transpose()
            .map_err(|e| EmulatorError::Usage(format!("{e}")))?;
        Ok((app, endpoint))
    };
    let ((app_a, ep_a), (app_b, ep_b)) = (parse(a)?, parse(b)?);
    let endpoints = |app: &AppName| {
        model
            .applications
            .get(app)
            .map(|a| a.endpoints.clone())
            .ok_or_else(|| EmulatorError::Usage(format!("application {app} is not deployed")))
    };
    let (eps_a, eps_b) = (endpoints(&app_a)?, endpoints(&app_b)?);
    let fits = |(ra, ia): &(EndpointRole, String), (rb, ib): &(EndpointRole, String)| {
        ia == ib
            && matches!(
                (ra, rb),
                (EndpointRole::Provides, EndpointRole::Requires)
                    | (EndpointRole::Requires, EndpointRole::Provides)
            )
    };
    let mut candidates = Vec::new();
    for (name_a, spec_a) in &eps_a {
        for (name_b, spec_b) in &eps_b {
            let wanted = ep_a.as_ref().is_none_or(|e| e == name_a)
                && ep_b.as_ref().is_none_or(|e| e == name_b);
            if wanted && (fits(spec_a, spec_b) || (ep_a.is_some() && ep_b.is_some())) {
                candidates.push((name_a.clone(), name_b.clone()));
            }
        }
    }
    match candidates.as_slice() {
        [(ea, eb)] => Ok((
            RelationEnd::new(app_a, ea.clone()),
            RelationEnd::new(app_b, eb.clone()),
        )),
        [] => Err(EmulatorError::Usage(format!(
            "no matching endpoints between {a} and {b}"
        ))),
        many => Err(EmulatorError::Usage(format!(
            "ambiguous relation {a} {b}: candidates {}; name the endpoints as app:endpoint",
            many.iter()
                .map(|(x, y)| format!("{app_a}:{x} {app_b}:{y}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn absolute(path: &Path) -> Result<PathBuf, EmulatorError> {
    std::path::absolute(path).map_err(|source| EmulatorError::Io {
        path: path.to_owned(),
        source,
    })
}

/// 32 hex digits for context ids, from the standard library's per-process random keys.
fn random_hex() -> String {
    let first = RandomState::new().build_hasher().finish();
    let mut second = RandomState::new().build_hasher();
    second.write_u64(first);
    format!("{first:016x}{:016x}", second.finish())
}
