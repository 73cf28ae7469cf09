//! The model in rows, so that a tool call reads only its own unit's rows.
//!
//! A [`Model`] is stored as its *skeleton* (everything but applications, relations and
//! running hooks), one `applications` row per application (without its units), one `units`
//! row per unit (its record without juju-log lines), one `relations` row per relation (ends
//! and life, without bags and member views), one `members` row per unit in a relation's
//! scope (the remote units it sees), plus the `bags` and `logs` rows.
//!
//! [`Rows`] remembers what this process last read or wrote, so that saving compares in memory
//! and writes only the rows that differ. Every row written carries the `rows` counter of its
//! transaction (`version`), so a process that keeps the model catches up by reading the rows
//! newer than its counter; a deleted row bumps `generation` instead (a full re-read).

use std::collections::{BTreeMap, BTreeSet};
use std::mem::take;

use juju_hooks::testing::{Application, Model, Relation, UnitRecord};
use juju_hooks::{AppName, UnitName};
use rusqlite::params;
use serde::Serialize;

use super::Db;
use crate::error::EmulatorError;

/// The remote units one unit sees in one relation.
type View = BTreeSet<UnitName>;

/// The rows of a model as this process last read or wrote them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Rows {
    skeleton: String,
    /// Applications without their units.
    apps: BTreeMap<AppName, Application>,
    /// Unit records without their logs, by application (the model's own nesting, so that
    /// saving walks both side by side).
    units: BTreeMap<AppName, BTreeMap<UnitName, UnitRecord>>,
    /// Relations without bags and member views.
    relations: BTreeMap<u32, Relation>,
    /// Member views by relation, then unit.
    members: BTreeMap<u32, BTreeMap<UnitName, View>>,
    /// The `rows` counter these rows are current with.
    version: i64,
}

/// Which rows a tool call loads besides the skeleton.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UnitScope<'a> {
    /// The unit whose hook runs: its record, the relations it is in the scope of.
    pub unit: &'a UnitName,
    /// The hook's own relation, loaded even if the unit has left it.
    pub relation: Option<u32>,
    /// Load only these relations (and the hook's own), not every relation the unit is in:
    /// for the tools that work on one relation. Naming more than the tool uses is harmless.
    pub only: Option<&'a BTreeSet<u32>>,
    /// Load every application, not only the unit's own and those across its relations.
    pub all_apps: bool,
    /// Load the unit's member views (what `relation-list` prints); without, each relation
    /// the unit is in gets an empty view that only says it is in scope, and is never saved.
    pub views: bool,
    /// Load every unit record of the unit's application and of the applications across its
    /// relations (`goal-state`, `leader-set`, `status-get --application`).
    pub apps: bool,
}

/// The skeleton of `model` as stored: no applications, relations or running hooks.
pub(crate) fn skeleton_json(model: &mut Model) -> Result<String, serde_json::Error> {
    let applications = take(&mut model.applications);
    let relations = take(&mut model.relations);
    let running = take(&mut model.running);
    let text = serde_json::to_string(model);
    model.applications = applications;
    model.relations = relations;
    model.running = running;
    text
}

/// Whether two applications are the same but for their units (which have rows of their own).
fn same_app(a: &Application, b: &Application) -> bool {
    let Application {
        units: _,
        leader,
        config,
        leader_data,
        endpoints,
        charm_dir,
        next_unit_number,
    } = a;
    *leader == b.leader
        && *config == b.config
        && *leader_data == b.leader_data
        && *endpoints == b.endpoints
        && *charm_dir == b.charm_dir
        && *next_unit_number == b.next_unit_number
}

/// An application without its units.
fn app_row(app: &Application) -> Application {
    Application {
        units: BTreeMap::new(),
        leader: app.leader.clone(),
        config: app.config.clone(),
        leader_data: app.leader_data.clone(),
        endpoints: app.endpoints.clone(),
        charm_dir: app.charm_dir.clone(),
        next_unit_number: app.next_unit_number,
    }
}

/// Whether two unit records are the same but for their logs (which have rows of their own).
fn same_unit(a: &UnitRecord, b: &UnitRecord) -> bool {
    // Destructured so that a new field cannot be forgotten here.
    let UnitRecord {
        status,
        logs: _,
        state,
        opened_ports,
        workload_version,
    } = a;
    *status == b.status
        && *state == b.state
        && *opened_ports == b.opened_ports
        && *workload_version == b.workload_version
}

/// Whether two relations are the same but for bags and member views.
fn same_relation(a: &Relation, b: &Relation) -> bool {
    let Relation {
        ends,
        unit_bags: _,
        app_bags: _,
        members: _,
        dying,
    } = a;
    *ends == b.ends && *dying == b.dying
}

/// A unit record without its logs.
fn unit_row(record: &UnitRecord) -> UnitRecord {
    UnitRecord {
        status: record.status.clone(),
        logs: Vec::new(),
        state: record.state.clone(),
        opened_ports: record.opened_ports.clone(),
        workload_version: record.workload_version.clone(),
    }
}

/// A relation without bags and member views.
fn relation_row(rel: &Relation) -> Relation {
    Relation {
        ends: rel.ends.clone(),
        unit_bags: BTreeMap::new(),
        app_bags: BTreeMap::new(),
        members: BTreeMap::new(),
        dying: rel.dying,
    }
}

/// Walks two maps with the same keys side by side, calling `f` with each key and its value
/// in either map. Keys present in both are matched with `==`: walking a model of a thousand
/// units does not order a thousand unit names.
fn walk<'n, 'o, K: Ord, A, B>(
    new: &'n BTreeMap<K, A>,
    old: &'o BTreeMap<K, B>,
    mut f: impl FnMut(&K, Option<&'n A>, Option<&'o B>),
) {
    let (mut new, mut old) = (new.iter().peekable(), old.iter().peekable());
    loop {
        match (new.peek(), old.peek()) {
            (None, None) => return,
            (Some((k, a)), Some((j, b))) if k == j => {
                f(k, Some(a), Some(b));
                new.next();
                old.next();
            }
            (Some((k, a)), Some((j, _))) if k < j => {
                f(k, Some(a), None);
                new.next();
            }
            (Some((k, a)), None) => {
                f(k, Some(a), None);
                new.next();
            }
            (_, Some((j, b))) => {
                f(j, None, Some(b));
                old.next();
            }
        }
    }
}

/// The `version` of the rows one save writes: the `rows` counter, bumped on first use.
struct Version(Option<i64>);

impl Version {
    fn get(&mut self, db: &Db<'_>) -> Result<i64, EmulatorError> {
        match self.0 {
            Some(v) => Ok(v),
            None => {
                let v = db.bump("rows")?;
                self.0 = Some(v);
                Ok(v)
            }
        }
    }
}

impl Db<'_> {
    fn text_rows<P: rusqlite::Params>(
        &self,
        sql: &str,
        args: P,
    ) -> Result<Vec<(String, Option<String>)>, EmulatorError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map(args, |r| {
                Ok((r.get::<_, rusqlite::types::Value>(0)?, r.get(1)?))
            })
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (key, text) = row.map_err(|e| self.sql(e))?;
            let key = match key {
                rusqlite::types::Value::Text(t) => t,
                rusqlite::types::Value::Integer(i) => i.to_string(),
                other => return Err(self.sql(format!("unexpected key {other:?}"))),
            };
            out.push((key, text));
        }
        Ok(out)
    }

    /// Rows of `table` as (key, value): the key parsed, the JSON value decoded (`{}` when
    /// the row has none).
    fn typed_rows<K, T>(
        &self,
        table: &str,
        what: &str,
        found: Vec<(String, Option<String>)>,
    ) -> Result<Vec<(K, T)>, EmulatorError>
    where
        K: std::str::FromStr,
        K::Err: std::fmt::Display,
        T: serde::de::DeserializeOwned,
    {
        found
            .into_iter()
            .map(|(key, text)| {
                let key = key.parse().map_err(|e| self.sql(format!("{table}: {e}")))?;
                Ok((key, self.decode(what, text.as_deref().unwrap_or("{}"))?))
            })
            .collect()
    }

    fn add_units(
        &self,
        model: &mut Model,
        rows: &mut Rows,
        found: Vec<(String, Option<String>)>,
    ) -> Result<(), EmulatorError> {
        for (unit, record) in self.typed_rows::<UnitName, UnitRecord>("units", "unit", found)? {
            if let Some(app) = model.applications.get_mut(unit.app()) {
                rows.units
                    .entry(unit.app().clone())
                    .or_default()
                    .insert(unit.clone(), unit_row(&record));
                app.units.insert(unit, record);
            }
        }
        Ok(())
    }

    fn add_relations(
        &self,
        model: &mut Model,
        rows: &mut Rows,
        found: Vec<(String, Option<String>)>,
    ) -> Result<(), EmulatorError> {
        for (number, rel) in self.typed_rows::<u32, Relation>("relations", "relation", found)? {
            rows.relations.insert(number, relation_row(&rel));
            model.relations.insert(number, rel);
        }
        Ok(())
    }

    fn add_member(
        &self,
        model: &mut Model,
        rows: &mut Rows,
        number: u32,
        unit: UnitName,
        view: Option<&str>,
    ) -> Result<(), EmulatorError> {
        let view: View = match view {
            Some(text) => self.decode("members", text)?,
            None => View::new(),
        };
        if let Some(rel) = model.relations.get_mut(&number) {
            rows.members
                .entry(number)
                .or_default()
                .insert(unit.clone(), view.clone());
            rel.members.insert(unit, view);
        }
        Ok(())
    }

    /// Adds the member views `sql` selects (`relation, unit, view`).
    fn add_member_rows<P: rusqlite::Params>(
        &self,
        model: &mut Model,
        rows: &mut Rows,
        sql: &str,
        args: P,
    ) -> Result<(), EmulatorError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.sql(e))?;
        let found = stmt
            .query_map(args, |r| {
                Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })
            .map_err(|e| self.sql(e))?
            .collect::<Result<Vec<(u32, String, String)>, _>>()
            .map_err(|e| self.sql(e))?;
        for (number, unit, view) in found {
            let unit = unit
                .parse()
                .map_err(|e| self.sql(format!("members: {e}")))?;
            self.add_member(model, rows, number, unit, Some(&view))?;
        }
        Ok(())
    }

    fn add_apps(
        &self,
        model: &mut Model,
        rows: &mut Rows,
        found: Vec<(String, Option<String>)>,
    ) -> Result<(), EmulatorError> {
        let found =
            self.typed_rows::<AppName, Application>("applications", "application", found)?;
        for (name, fresh) in found {
            rows.apps.insert(name.clone(), app_row(&fresh));
            match model.applications.get_mut(&name) {
                // Catching up: keep the units, which have rows of their own.
                Some(app) => {
                    *app = Application {
                        units: take(&mut app.units),
                        ..fresh
                    }
                }
                None => {
                    model.applications.insert(name, fresh);
                }
            }
        }
        Ok(())
    }

    /// The skeleton decoded, with the rows as read so far.
    fn skeleton_rows(&self) -> Result<(Model, Rows), EmulatorError> {
        let (model, text) = self.skeleton()?;
        let rows = Rows {
            skeleton: text,
            version: self.counter("rows")?,
            ..Rows::default()
        };
        Ok((model, rows))
    }

    /// The model without bags and logs: skeleton, every unit, relation and member view.
    pub(crate) fn load_rows(&self) -> Result<(Model, Rows), EmulatorError> {
        let (mut model, mut rows) = self.skeleton_rows()?;
        let apps = self.text_rows("SELECT app, application FROM applications", [])?;
        self.add_apps(&mut model, &mut rows, apps)?;
        let units = self.text_rows("SELECT unit, record FROM units", [])?;
        self.add_units(&mut model, &mut rows, units)?;
        let relations = self.text_rows("SELECT number, relation FROM relations", [])?;
        self.add_relations(&mut model, &mut rows, relations)?;
        self.add_member_rows(
            &mut model,
            &mut rows,
            "SELECT relation, unit, view FROM members",
            [],
        )?;
        Ok((model, rows))
    }

    /// The part of the model one unit's tool call needs (see [`UnitScope`]): its rows only,
    /// so the call's cost does not grow with the model.
    pub(crate) fn load_unit_rows(
        &self,
        scope: UnitScope<'_>,
    ) -> Result<(Model, Rows), EmulatorError> {
        let (mut model, mut rows) = self.skeleton_rows()?;
        let name = scope.unit.to_string();
        let hook_relation = scope.relation.map_or(-1, i64::from);
        let relations = match scope.only {
            None => self.text_rows(
                "SELECT number, relation FROM relations WHERE number = ?2 \
                 OR number IN (SELECT relation FROM members WHERE unit = ?1)",
                params![name, hook_relation],
            )?,
            Some(only) => {
                let mut found = Vec::new();
                for number in only.iter().map(|n| i64::from(*n)).chain([hook_relation]) {
                    found.extend(self.text_rows(
                        "SELECT number, relation FROM relations WHERE number = ?1",
                        [number],
                    )?);
                }
                found
            }
        };
        self.add_relations(&mut model, &mut rows, relations)?;
        let mut apps: BTreeSet<AppName> = BTreeSet::from([scope.unit.app().clone()]);
        for rel in model.relations.values() {
            apps.extend(rel.ends.iter().map(|end| end.app.clone()));
        }
        let found = if scope.all_apps {
            self.text_rows("SELECT app, application FROM applications", [])?
        } else {
            let mut found = Vec::new();
            for app in &apps {
                found.extend(self.text_rows(
                    "SELECT app, application FROM applications WHERE app = ?1",
                    [app.as_str()],
                )?);
            }
            found
        };
        self.add_apps(&mut model, &mut rows, found)?;
        let unit = self.text_rows("SELECT unit, record FROM units WHERE unit = ?1", [&name])?;
        self.add_units(&mut model, &mut rows, unit)?;
        // Without `views`, only whether the unit is in scope is read, not whom it sees.
        let numbers: Vec<u32> = model.relations.keys().copied().collect();
        for number in numbers {
            let view = self.text_rows(
                "SELECT relation, CASE WHEN ?3 THEN view END FROM members \
                 WHERE relation = ?1 AND unit = ?2",
                params![number, name, scope.views],
            )?;
            for (_, view) in view {
                self.add_member(
                    &mut model,
                    &mut rows,
                    number,
                    scope.unit.clone(),
                    view.as_deref(),
                )?;
            }
        }
        if scope.apps {
            for app in apps {
                let units = self.text_rows(
                    "SELECT unit, record FROM units WHERE app = ?1 AND unit != ?2",
                    params![app.to_string(), name],
                )?;
                self.add_units(&mut model, &mut rows, units)?;
            }
        }
        Ok((model, rows))
    }

    /// Catches `model` and `rows` up with the unit, relation and member rows other
    /// processes wrote since `rows` was current (deletions bump `generation` instead).
    pub(crate) fn sync_rows(
        &self,
        model: &mut Model,
        rows: &mut Rows,
    ) -> Result<(), EmulatorError> {
        let version = self.counter("rows")?;
        if version == rows.version {
            return Ok(());
        }
        let since = rows.version;
        let apps = self.text_rows(
            "SELECT app, application FROM applications WHERE version > ?1",
            [since],
        )?;
        self.add_apps(model, rows, apps)?;
        let units = self.text_rows("SELECT unit, record FROM units WHERE version > ?1", [since])?;
        for (unit, mut record) in self.typed_rows::<UnitName, UnitRecord>("units", "unit", units)? {
            if let Some(app) = model.applications.get_mut(unit.app()) {
                if let Some(old) = app.units.get_mut(&unit) {
                    record.logs = take(&mut old.logs);
                }
                rows.units
                    .entry(unit.app().clone())
                    .or_default()
                    .insert(unit.clone(), unit_row(&record));
                app.units.insert(unit, record);
            }
        }
        let relations = self.text_rows(
            "SELECT number, relation FROM relations WHERE version > ?1",
            [since],
        )?;
        for (number, fresh) in
            self.typed_rows::<u32, Relation>("relations", "relation", relations)?
        {
            rows.relations.insert(number, relation_row(&fresh));
            match model.relations.get_mut(&number) {
                Some(rel) => {
                    rel.ends = fresh.ends;
                    rel.dying = fresh.dying;
                }
                None => {
                    model.relations.insert(number, fresh);
                }
            }
        }
        self.add_member_rows(
            model,
            rows,
            "SELECT relation, unit, view FROM members WHERE version > ?1",
            [since],
        )?;
        rows.version = version;
        Ok(())
    }

    /// Replaces the skeleton part of `model` with the stored one if another process wrote it
    /// (applications, relations and running hooks stay as they are).
    pub(crate) fn sync_skeleton(
        &self,
        model: &mut Model,
        rows: &mut Rows,
    ) -> Result<(), EmulatorError> {
        let (mut fresh, text) = self.skeleton()?;
        if text == rows.skeleton {
            return Ok(());
        }
        fresh.applications = take(&mut model.applications);
        fresh.relations = take(&mut model.relations);
        fresh.running = take(&mut model.running);
        *model = fresh;
        rows.skeleton = text;
        Ok(())
    }

    fn encode_row(&self, value: &impl Serialize) -> Result<String, EmulatorError> {
        serde_json::to_string(value).map_err(|e| self.sql(e))
    }

    /// Writes the rows of `model` that differ from `rows` and deletes those it no longer
    /// has; `rows` then matches the model. Bags and logs are not written here.
    pub(crate) fn save_rows(
        &self,
        model: &mut Model,
        rows: &mut Rows,
    ) -> Result<(), EmulatorError> {
        let mut version = Version(None);
        let mut deleted = false;
        let text = skeleton_json(model).map_err(|e| self.sql(e))?;
        if text != rows.skeleton {
            self.put_skeleton(&text)?;
            rows.skeleton = text;
        }
        let mut changed: Vec<(AppName, Option<&Application>)> = Vec::new();
        walk(&model.applications, &rows.apps, |name, new, old| {
            match (new, old) {
                (Some(a), Some(b)) if same_app(a, b) => {}
                _ => changed.push((name.clone(), new)),
            }
        });
        for (name, app) in changed {
            let Some(app) = app else {
                self.exec("DELETE FROM applications WHERE app = ?1", [name.as_str()])?;
                rows.apps.remove(&name);
                deleted = true;
                continue;
            };
            let row = app_row(app);
            let text = self.encode_row(&row)?;
            let v = version.get(self)?;
            self.exec(
                "INSERT OR REPLACE INTO applications (app, application, version) \
                     VALUES (?1, ?2, ?3)",
                params![name.as_str(), text, v],
            )?;
            rows.apps.insert(name, row);
        }
        let no_units = BTreeMap::new();
        let mut changed: Vec<(UnitName, Option<&UnitRecord>)> = Vec::new();
        let apps: BTreeMap<&AppName, &BTreeMap<UnitName, UnitRecord>> = model
            .applications
            .iter()
            .map(|(name, app)| (name, &app.units))
            .collect();
        let stored: BTreeMap<&AppName, &BTreeMap<UnitName, UnitRecord>> =
            rows.units.iter().collect();
        walk(&apps, &stored, |_, units, old| {
            let units = units.copied().unwrap_or(&no_units);
            walk(
                units,
                old.copied().unwrap_or(&no_units),
                |unit, new, old| match (new, old) {
                    (Some(a), Some(b)) if same_unit(a, b) => {}
                    _ => changed.push((unit.clone(), new)),
                },
            );
        });
        for (unit, record) in changed {
            let stored = rows.units.entry(unit.app().clone()).or_default();
            let Some(record) = record else {
                self.exec("DELETE FROM units WHERE unit = ?1", [unit.to_string()])?;
                stored.remove(&unit);
                deleted = true;
                continue;
            };
            let row = unit_row(record);
            let text = self.encode_row(&row)?;
            let v = version.get(self)?;
            self.exec(
                "INSERT OR REPLACE INTO units (unit, app, record, version) \
                     VALUES (?1, ?2, ?3, ?4)",
                params![unit.to_string(), unit.app().as_str(), text, v],
            )?;
            stored.insert(unit, row);
        }
        rows.units.retain(|_, units| !units.is_empty());
        for (number, rel) in &model.relations {
            if !rows
                .relations
                .get(number)
                .is_some_and(|old| same_relation(rel, old))
            {
                let row = relation_row(rel);
                let text = self.encode_row(&row)?;
                let v = version.get(self)?;
                self.exec(
                    "INSERT OR REPLACE INTO relations (number, relation, version) \
                         VALUES (?1, ?2, ?3)",
                    params![number, text, v],
                )?;
                rows.relations.insert(*number, row);
            }
            let stored = rows.members.entry(*number).or_default();
            let mut changed: Vec<(UnitName, Option<&View>)> = Vec::new();
            walk(&rel.members, stored, |unit, new, old| {
                if new != old {
                    changed.push((unit.clone(), new));
                }
            });
            for (unit, view) in changed {
                match view {
                    Some(view) => {
                        let text = self.encode_row(view)?;
                        let v = version.get(self)?;
                        self.exec(
                            "INSERT OR REPLACE INTO members (relation, unit, view, version) \
                                 VALUES (?1, ?2, ?3, ?4)",
                            params![number, unit.to_string(), text, v],
                        )?;
                        stored.insert(unit, view.clone());
                    }
                    None => {
                        self.exec(
                            "DELETE FROM members WHERE relation = ?1 AND unit = ?2",
                            params![number, unit.to_string()],
                        )?;
                        stored.remove(&unit);
                        deleted = true;
                    }
                }
            }
        }
        let gone: Vec<u32> = rows
            .relations
            .keys()
            .chain(rows.members.keys())
            .filter(|n| !model.relations.contains_key(n))
            .copied()
            .collect();
        for number in gone {
            self.conn
                .prepare_cached("DELETE FROM relations WHERE number = ?1")
                .and_then(|mut s| s.execute([number]))
                .and_then(|_| {
                    self.conn
                        .prepare_cached("DELETE FROM members WHERE relation = ?1")
                        .and_then(|mut s| s.execute([number]))
                })
                .map_err(|e| self.sql(e))?;
            rows.relations.remove(&number);
            rows.members.remove(&number);
            deleted = true;
        }
        if deleted {
            self.bump("generation")?;
        }
        rows.version = self.counter("rows")?;
        Ok(())
    }
}
