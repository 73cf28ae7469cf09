//! A model under the emulator, built straight through the in-memory `Model` API, with one
//! unit whose hooks run the real binary.
//!
//! Firing every `-joined`/`-changed` hook of 1000 related units through processes would take
//! far longer than the measurement, so the other side is built in memory: `Model::deploy`,
//! `Model::relate`, `Model::settle` (runs the relation hooks as a charm that does nothing),
//! then the remote databags are written directly and the model is saved with an empty hook
//! queue. Only the unit under test runs hooks, and its state is primed by a real hook (a
//! full read), as after `upgrade-charm`.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use juju_emulator::store::{EmulatorState, Store};
use juju_emulator::Emulator;
use juju_hooks::testing::{EndpointRole, HookInvocation, Model, RelationEnd};
use juju_hooks::{AppName, Databag, Endpoint, RelationId, UnitName};

use crate::Fallible;

/// The endpoint both bench charms use.
pub const ENDPOINT: &str = "proxy";
/// The interface both bench charms speak.
const INTERFACE: &str = "etcd-proxy";
/// Where the binary writes its state, in the unit's charm dir.
const STATE_FILE: &str = ".etcd-proxy-relation.state.json";

/// Which side the unit under test is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// `proxy-client/0` requires `proxy`; the other side are etcd units.
    Requirer,
    /// `etcd/0` provides `proxy`; the other side are requirer units.
    Provider,
}

/// How the `n` remote units are related to the unit under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One relation id; the remote application has `n` units.
    Units,
    /// `n` relation ids, each to an application with one unit.
    Relations,
}

impl Shape {
    /// `(remote units, relation ids)` for `n`.
    pub fn counts(self, n: u32) -> (u32, u32) {
        match self {
            Shape::Units => (n, 1),
            Shape::Relations => (n, n),
        }
    }
}

/// What a hook's `dispatch` runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dispatch {
    /// `exec "$JUJU_CHARM_DIR/bin/etcd-proxy-relation" ARGS`.
    Binary(String),
    /// `exec true`: the cost of a hook that does nothing.
    True,
    /// `exec relation-list -r RID`: a hook with exactly one hook-tool call.
    OneRelationList(RelationId),
    /// Any bash body.
    Script(String),
}

impl Dispatch {
    fn script(&self) -> String {
        let body = match self {
            Dispatch::Binary(args) => {
                format!("exec \"$JUJU_CHARM_DIR/bin/etcd-proxy-relation\" {args}")
            }
            Dispatch::True => "exec true".to_owned(),
            Dispatch::Script(body) => body.clone(),
            // The hook's own relation when it has one, as a charm would.
            Dispatch::OneRelationList(rid) => {
                format!("exec relation-list -r \"${{JUJU_RELATION_ID:-{rid}}}\"")
            }
        };
        format!("#!/bin/bash\n{body}\n")
    }
}

/// The model, the emulator state and the unit's state file at one moment.
#[derive(Clone, Debug)]
pub struct Snapshot {
    model: Model,
    state: EmulatorState,
    unit_state: (PathBuf, Option<Vec<u8>>),
}

/// A model directory with the unit under test and `n` remote units.
pub struct World {
    /// Keeps the temporary directory alive.
    _dir: tempfile::TempDir,
    /// The emulator over the model directory.
    pub emulator: Emulator,
    store: Store,
    /// The unit whose hooks run the binary.
    pub unit: UnitName,
    /// The relations of the unit under test, in creation order: relation id, remote units.
    pub relations: Vec<(RelationId, Vec<UnitName>)>,
    /// Scratch space for input files (credentials to publish).
    pub scratch: PathBuf,
}

fn name<T: std::str::FromStr>(s: &str) -> Fallible<T>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>().map_err(|e| format!("{s:?}: {e}").into())
}

fn endpoints(role: EndpointRole) -> Fallible<BTreeMap<Endpoint, (EndpointRole, String)>> {
    Ok(BTreeMap::from([(
        name::<Endpoint>(ENDPOINT)?,
        (role, INTERFACE.to_owned()),
    )]))
}

/// Writes a charm whose `dispatch` is replaced per run, with the binary symlinked in `bin/`.
fn write_charm(dir: &Path, side: Side, binary: &Path) -> Fallible<()> {
    std::fs::create_dir_all(dir.join("bin"))?;
    let section = match side {
        Side::Requirer => "requires",
        Side::Provider => "provides",
    };
    std::fs::write(
        dir.join("metadata.yaml"),
        format!("name: bench-{section}\n{section}:\n  {ENDPOINT}:\n    interface: {INTERFACE}\n"),
    )?;
    std::os::unix::fs::symlink(binary, dir.join("bin/etcd-proxy-relation"))?;
    let dispatch = dir.join("dispatch");
    std::fs::write(&dispatch, Dispatch::True.script())?;
    std::fs::set_permissions(&dispatch, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

impl World {
    /// Builds the model: the unit under test on `side`, `n` remote units related as `shape`
    /// says, each remote unit's bag holding `remote_bag` (empty for none).
    pub fn build(
        binary: &Path,
        side: Side,
        shape: Shape,
        n: u32,
        remote_bag: &Databag,
    ) -> Fallible<Self> {
        let dir = tempfile::tempdir()?;
        let charm = dir.path().join("charm");
        write_charm(&charm, side, binary)?;
        let scratch = dir.path().join("scratch");
        std::fs::create_dir_all(&scratch)?;
        let model_dir = dir.path().join("model");
        let mut emulator = Emulator::create(&model_dir, "bench", binary)?;
        let (local_app, remote_role) = match side {
            Side::Requirer => ("proxy-client", EndpointRole::Provides),
            Side::Provider => ("etcd", EndpointRole::Requires),
        };
        let remote_base = match side {
            Side::Requirer => "etcd",
            Side::Provider => "client",
        };
        let local_app: AppName = name(local_app)?;
        let unit = emulator
            .deploy(&local_app, &charm, 1)?
            .into_iter()
            .next()
            .ok_or("deploy made no unit")?;

        let store = Store::new(emulator.dir());
        let mut model = store.load_model()?;
        let apps: Vec<(AppName, u32)> = match shape {
            Shape::Units => vec![(name(remote_base)?, n)],
            Shape::Relations => (0..n)
                .map(|i| Ok((name(&format!("{remote_base}-c{i}"))?, 1)))
                .collect::<Fallible<_>>()?,
        };
        let mut relations = Vec::new();
        for (app, units) in apps {
            let remote_units = model.deploy(&app, endpoints(remote_role)?, units)?;
            let endpoint: Endpoint = name(ENDPOINT)?;
            let (number, hooks) = model.relate(
                &RelationEnd::new(app, endpoint.clone()),
                &RelationEnd::new(local_app.clone(), endpoint),
            )?;
            model.settle(hooks)?;
            let relation = model
                .relations
                .get_mut(&number)
                .ok_or("relation vanished")?;
            for remote in &remote_units {
                relation
                    .unit_bags
                    .entry(remote.clone())
                    .or_default()
                    .extend(remote_bag.clone());
            }
            let rid = model
                .relation_id(number, &unit)
                .ok_or("unit not in its relation")?;
            relations.push((rid, remote_units));
        }
        store.save_model(&model)?;
        // Drop the set-up hooks `deploy` queued: the unit's state is primed by a real hook.
        store.save_state(&EmulatorState::default())?;
        Ok(Self {
            _dir: dir,
            emulator,
            store,
            unit,
            relations,
            scratch,
        })
    }

    /// Where the binary appends its `--timings` lines (emptied before each run).
    pub fn timings_file(&self) -> PathBuf {
        self.scratch.join("timings.jsonl")
    }

    /// ` --timings 'FILE'`, to append to a command line of the binary.
    pub fn timings_arg(&self) -> String {
        format!(" --timings '{}'", self.timings_file().display())
    }

    /// The unit's state file (flags and committed view).
    pub fn state_file(&self) -> PathBuf {
        self.emulator.unit_charm_dir(&self.unit).join(STATE_FILE)
    }

    /// Makes the unit's `dispatch` run `dispatch`.
    pub fn set_dispatch(&self, dispatch: &Dispatch) -> Fallible<()> {
        let path = self.emulator.unit_charm_dir(&self.unit).join("dispatch");
        std::fs::write(&path, dispatch.script())?;
        Ok(())
    }

    /// The model as saved.
    pub fn load_model(&self) -> Fallible<Model> {
        Ok(self.store.load_model()?)
    }

    /// Replaces the saved model.
    pub fn save_model(&self, model: &Model) -> Fallible<()> {
        Ok(self.store.save_model(model)?)
    }

    /// Relates a new application with one unit to the unit under test, without running any
    /// of its hooks; returns the `-created` and `-joined` hooks the unit under test would get.
    pub fn add_relation(&mut self) -> Fallible<(HookInvocation, HookInvocation)> {
        let mut model = self.load_model()?;
        let app: AppName = name("newcomer")?;
        let role = match model
            .applications
            .get(self.unit.app())
            .map(|a| &a.endpoints)
        {
            Some(eps) if eps.values().any(|(r, _)| *r == EndpointRole::Provides) => {
                EndpointRole::Requires
            }
            _ => EndpointRole::Provides,
        };
        let remote = model
            .deploy(&app, endpoints(role)?, 1)?
            .into_iter()
            .next()
            .ok_or("deploy made no unit")?;
        let endpoint: Endpoint = name(ENDPOINT)?;
        let (number, _hooks) = model.relate(
            &RelationEnd::new(app.clone(), endpoint.clone()),
            &RelationEnd::new(self.unit.app().clone(), endpoint),
        )?;
        let rid = model
            .relation_id(number, &self.unit)
            .ok_or("unit not in its relation")?;
        self.save_model(&model)?;
        Ok((
            HookInvocation::created(self.unit.clone(), rid.clone(), app),
            HookInvocation::joined(self.unit.clone(), rid, remote),
        ))
    }

    /// The model, emulator state and unit state as they are now.
    pub fn snapshot(&self) -> Fallible<Snapshot> {
        let path = self.state_file();
        let unit_state = match std::fs::read(&path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        Ok(Snapshot {
            model: self.store.load_model()?,
            state: self.store.load_state()?,
            unit_state: (path, unit_state),
        })
    }

    /// Puts the model, the emulator state and the unit's state back as in `snapshot`.
    pub fn restore(&self, snapshot: &Snapshot) -> Fallible<()> {
        self.store.save_model(&snapshot.model)?;
        self.store.save_state(&snapshot.state)?;
        let (path, bytes) = &snapshot.unit_state;
        match bytes {
            Some(bytes) => std::fs::write(path, bytes)?,
            None => match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            },
        }
        Ok(())
    }
}
