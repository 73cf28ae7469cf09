//! The hook tools: one multi-call entry point, [`tool_main`], that behaves like the Juju tool
//! it is invoked as, over the model directory of the hook that runs it.
//!
//! The Juju rules (who may write what, membership, staging) live in
//! [`juju_hooks::testing::Model`]; this module parses argv as Juju does, asks the model, and
//! prints the answer in Juju's formats with Juju's exit codes and error texts.

mod action;
#[cfg(test)]
mod cost_tests;
mod help;
mod leader;
mod misc;

pub use misc::UNSUPPORTED_TOOLS;
mod network;
mod ports;
mod relation;
mod secret;
mod settings;
mod state;
mod unit;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Instant;

use juju_hooks::testing::{Model, Refusal};
use juju_hooks::{BagOwner, RelationId, UnitName};
use serde_json::Value;

use crate::args::{self, OptSpec, Parsed, ParsedArgs};
use crate::format::{Format, Printable};
use crate::store::{
    take_bulky, BagKey, CallRecord, EmulatorState, HookContextFile, Rows, Staged, Store, UnitScope,
};

/// The environment variable that tells tools (and the CLI) where the model directory is.
pub const MODEL_DIR_VAR: &str = "JUJU_EMULATOR_DIR";

/// The hook tools the emulator answers itself.
const ANSWERED_TOOLS: [&str; 34] = [
    "relation-ids",
    "relation-list",
    "relation-get",
    "relation-set",
    "relation-model-get",
    "is-leader",
    "leader-get",
    "leader-set",
    "juju-log",
    "status-set",
    "status-get",
    "config-get",
    "secret-add",
    "secret-get",
    "secret-set",
    "secret-grant",
    "secret-revoke",
    "secret-remove",
    "secret-ids",
    "secret-info-get",
    "state-get",
    "state-set",
    "state-delete",
    "unit-get",
    "network-get",
    "open-port",
    "close-port",
    "opened-ports",
    "application-version-set",
    "goal-state",
    "action-get",
    "action-set",
    "action-fail",
    "action-log",
];

/// Every hook tool of Juju 3.6 (`worker/uniter/runner/jujuc/commands.go`), by the names Juju
/// gives them; the emulator answers each (those needing a cloud, storage, resources or
/// Kubernetes fail with one line saying the emulator does not support them).
pub const HOOK_TOOLS: [&str; 50] = concat(ANSWERED_TOOLS, UNSUPPORTED_TOOLS);

/// `a` then `b`, at compile time (array lengths cannot be added in a type yet).
const fn concat<const A: usize, const B: usize, const C: usize>(
    a: [&'static str; A],
    b: [&'static str; B],
) -> [&'static str; C] {
    assert!(A + B == C, "the lengths do not add up");
    let mut out = [""; C];
    let mut i = 0;
    while i < C {
        out[i] = if i < A { a[i] } else { b[i - A] };
        i += 1;
    }
    out
}

/// Whether `name` (a program's base name) is one of the hook tools the emulator provides.
pub fn is_hook_tool(name: &str) -> bool {
    HOOK_TOOLS.contains(&name)
}

/// Behaves as hook tool `tool` with arguments `args` (without the program name).
///
/// Reads `JUJU_CONTEXT_ID` and `JUJU_EMULATOR_DIR` from `env`, answers from the model of the
/// running hook, writes the output to `stdout` and `ERROR <text>\n` to `stderr`, and returns the
/// exit code Juju's tool would: 0 success (and `--help`), 2 usage error, 1 runtime error. Every
/// call is appended to the model's `calls.jsonl`.
pub fn tool_main(
    tool: &str,
    args: &[String],
    env: &BTreeMap<String, String>,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let started = Instant::now();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let store = env
        .get(MODEL_DIR_VAR)
        .filter(|d| !d.is_empty())
        .map(Store::new);
    let context_id = env.get("JUJU_CONTEXT_ID").filter(|c| !c.is_empty());
    let mut who = (None, None);
    let result = match (context_id, &store) {
        (None, _) => Err(Failure::runtime("JUJU_CONTEXT_ID not set")),
        (Some(_), None) => Err(Failure::runtime(format!(
            "{MODEL_DIR_VAR} not set (this tool only works inside a hook that juju-emulator runs)"
        ))),
        (Some(id), Some(store)) => {
            // A call that reads stdin (`--file -`) reads it before taking the model's write
            // lock: the producer may itself be a hook tool (`relation-get | relation-set
            // --file -`), which would otherwise wait for our lock while we wait for it.
            let mut buffered = None;
            if reads_stdin(args) {
                let mut bytes = Vec::new();
                match stdin.read_to_end(&mut bytes) {
                    Ok(_) => buffered = Some(bytes),
                    Err(e) => {
                        let _ = writeln!(stderr, "ERROR cannot read stdin: {e}");
                        return 1;
                    }
                }
            }
            let mut cursor = buffered.as_deref().unwrap_or_default();
            let stdin: &mut dyn Read = if buffered.is_some() {
                &mut cursor
            } else {
                stdin
            };
            Session::open(store, id, &load_scope(tool, args)).and_then(|mut session| {
                who = (
                    Some(session.unit().to_string()),
                    Some(session.context.invocation.hook.clone()),
                );
                let io = ToolIo {
                    stdin,
                    out: &mut out,
                    err: &mut err,
                };
                let result = dispatch(tool, args, &mut session, io);
                session.save().and(result)
            })
        }
    };
    let code = match result {
        Ok(()) => 0,
        Err(failure) => {
            out.clear();
            err.extend_from_slice(format!("ERROR {}\n", failure.message).as_bytes());
            failure.code
        }
    };
    // Like the real client: stdout first, then stderr. A closed pipe is the caller's business.
    let _ = stdout.write_all(&out);
    let _ = stdout.flush();
    let _ = stderr.write_all(&err);
    let _ = stderr.flush();
    if let Some(store) = &store {
        let record = CallRecord {
            unit: who.0,
            hook: who.1,
            context_id: context_id.cloned(),
            tool: tool.to_owned(),
            // Redacted when recorded: the log never holds a private key (the databags do).
            argv: args
                .iter()
                .map(|a| crate::redact::redact_private_keys(a).into_owned())
                .collect(),
            exit_code: code,
            duration_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        };
        if let Err(e) = store.append_line(&store.calls_path(), &record) {
            let _ = writeln!(stderr, "juju-emulator: cannot log the call: {e}");
        }
    }
    code
}

/// What a call loads of the model besides its unit's own rows (see [`UnitScope`]): only
/// `relation-list` prints member views; only the tools that name other units read their
/// records; the tools that work on one relation load that one (and the hook's), those that
/// work on none only the hook's.
fn load_scope(tool: &str, args: &[String]) -> Scope {
    let one_relation = matches!(
        tool,
        "relation-get" | "relation-set" | "relation-list" | "network-get"
    );
    // Tools that never look at a relation (but the hook's own, for `juju-log`'s prefix).
    let no_relation = matches!(
        tool,
        "is-leader"
            | "leader-get"
            | "leader-set"
            | "juju-log"
            | "status-set"
            | "status-get"
            | "config-get"
            | "state-get"
            | "state-set"
            | "state-delete"
            | "application-version-set"
            | "action-get"
            | "action-set"
            | "action-fail"
            | "action-log"
            | "open-port"
            | "close-port"
            | "opened-ports"
            | "unit-get"
    );
    let only = if one_relation {
        Some(relation_numbers(args))
    } else if no_relation {
        Some(BTreeSet::new())
    } else {
        None
    };
    Scope {
        views: tool == "relation-list",
        apps: matches!(tool, "goal-state" | "leader-set")
            || (tool == "status-get" && args.iter().any(|a| a.contains("application"))),
        only,
        all_apps: tool.starts_with("secret-"),
    }
}

/// Every relation number an argument could name as `-r`, before the tool parses its
/// arguments: any argument, or what follows `-r`, `-r=`, `--relation=` in it, whose text
/// after the last `:` is a number. More than the tool uses is harmless (a few more rows).
fn relation_numbers(args: &[String]) -> BTreeSet<u32> {
    let mut numbers = BTreeSet::new();
    for arg in args {
        let mut texts = vec![arg.as_str()];
        texts.extend(arg.strip_prefix("--relation="));
        if !arg.starts_with("--") {
            // `-r3`, `-r=3`, and short flags run together (`-ar3`).
            if let Some(at) = arg.strip_prefix('-').and_then(|a| a.find('r')) {
                texts.push(arg[at + 2..].trim_start_matches('='));
            }
        }
        for text in texts {
            let number = text.rsplit(':').next().unwrap_or(text);
            numbers.extend(number.parse::<u32>().ok());
        }
    }
    numbers
}

/// The choices of [`UnitScope`] that depend on the tool.
pub(crate) struct Scope {
    views: bool,
    apps: bool,
    only: Option<BTreeSet<u32>>,
    all_apps: bool,
}

/// Whether the call reads stdin: a `--file -` argument.
fn reads_stdin(args: &[String]) -> bool {
    args.iter().any(|a| a == "--file=-") || args.windows(2).any(|w| w[0] == "--file" && w[1] == "-")
}

fn dispatch(tool: &str, args: &[String], s: &mut Session, io: ToolIo<'_>) -> Result<(), Failure> {
    match tool {
        "relation-ids" => relation::relation_ids(s, args, io),
        "relation-list" => relation::relation_list(s, args, io),
        "relation-get" => relation::relation_get(s, args, io),
        "relation-set" => relation::relation_set(s, args, io),
        "is-leader" => leader::is_leader(s, args, io),
        "leader-get" => leader::leader_get(s, args, io),
        "leader-set" => leader::leader_set(s, args, io),
        "juju-log" => unit::juju_log(s, args, io),
        "status-set" => unit::status_set(s, args, io),
        "status-get" => unit::status_get(s, args, io),
        "config-get" => unit::config_get(s, args, io),
        "relation-model-get" => misc::relation_model_get(s, args, io),
        "secret-add" => secret::secret_add(s, args, io),
        "secret-get" => secret::secret_get(s, args, io),
        "secret-set" => secret::secret_set(s, args, io),
        "secret-grant" => secret::secret_grant(s, args, io),
        "secret-revoke" => secret::secret_revoke(s, args, io),
        "secret-remove" => secret::secret_remove(s, args, io),
        "secret-ids" => secret::secret_ids(s, args, io),
        "secret-info-get" => secret::secret_info_get(s, args, io),
        "state-get" => state::state_get(s, args, io),
        "state-set" => state::state_set(s, args, io),
        "state-delete" => state::state_delete(s, args, io),
        "unit-get" => network::unit_get(s, args, io),
        "network-get" => network::network_get(s, args, io),
        "open-port" => ports::open_port(s, args, io),
        "close-port" => ports::close_port(s, args, io),
        "opened-ports" => ports::opened_ports(s, args, io),
        "application-version-set" => misc::application_version_set(s, args, io),
        "goal-state" => misc::goal_state(s, args, io),
        "action-get" => action::action_get(s, args, io),
        "action-set" => action::action_set(s, args, io),
        "action-fail" => action::action_fail(s, args, io),
        "action-log" => action::action_log(s, args, io),
        other if misc::UNSUPPORTED_TOOLS.contains(&other) => Err(misc::unsupported(other)),
        other => Err(Failure::runtime(format!("unknown command: {other}"))),
    }
}

/// Why a tool call fails: Juju's exit code and the text after `ERROR `.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    code: i32,
    message: String,
}

impl Failure {
    /// Exit 2: the arguments are wrong.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }
    /// Exit 1: the call was well-formed but failed.
    pub(crate) fn runtime(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }
}

impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Self {
        Self {
            code: r.code,
            message: r.message,
        }
    }
}

impl From<crate::error::EmulatorError> for Failure {
    fn from(e: crate::error::EmulatorError) -> Self {
        Self::runtime(e.to_string())
    }
}

/// The streams of one tool call; output is buffered so a failure prints nothing on stdout.
pub(crate) struct ToolIo<'a> {
    pub stdin: &'a mut dyn Read,
    pub out: &'a mut Vec<u8>,
    pub err: &'a mut Vec<u8>,
}

/// The running hook as one tool call sees it: the part of the model its unit sees (its own
/// record, the relations it is in; no databags, no logs: [`Session::load_bag`] fetches the
/// one bag a call reads; see [`load_scope`]), and the hook's context.
///
/// The whole call is one write transaction (`BEGIN IMMEDIATE` in [`Session::open`], commit
/// in [`Session::save`]): parallel tool calls of one hook run one after the other, and none
/// loses another's write.
pub(crate) struct Session {
    store: Store,
    pub model: Model,
    pub context: HookContextFile,
    state: Option<EmulatorState>,
    /// How long the queue was when the state was loaded (tools only append to it).
    queue_loaded: usize,
    model_changed: bool,
    context_changed: bool,
    /// The rows as loaded, to write only those that changed.
    rows: Rows,
    /// The staged relation writes as loaded, likewise.
    staged: Staged,
    finished: bool,
}

impl Session {
    fn open(store: &Store, id: &str, scope: &Scope) -> Result<Self, Failure> {
        let store = store.clone();
        let wrong_id = || {
            Failure::runtime(format!(
                "bad request: wrong context ID; got {}",
                args::go_quote(id)
            ))
        };
        if !store.db_path().is_file() {
            return Err(wrong_id());
        }
        let db = store.begin()?;
        let opened = (|| {
            let mut context = db.context_light(id)?;
            let skeleton = match &context {
                Some(c) => Some(db.load_unit_rows(UnitScope {
                    unit: &c.invocation.unit,
                    relation: c.invocation.relation.as_ref().map(RelationId::number),
                    only: scope.only.as_ref(),
                    all_apps: scope.all_apps,
                    views: scope.views,
                    apps: scope.apps,
                })?),
                None => None,
            };
            // Only the staged writes of the relations the call can work on.
            let staged = match (&mut context, &skeleton) {
                (Some(c), Some((model, _))) => {
                    db.load_staged(c, model.relations.keys().copied())?
                }
                _ => Staged::new(),
            };
            Ok::<_, crate::error::EmulatorError>((context, skeleton, staged))
        })();
        let (context, skeleton, staged) = match opened {
            Ok(found) => found,
            Err(e) => {
                store.rollback();
                return Err(e.into());
            }
        };
        let (Some(context), Some((mut model, rows))) = (context, skeleton) else {
            store.rollback();
            return Err(wrong_id());
        };
        // The model's rules that depend on the running hook (no relations during install)
        // read it from `running`, which the context always knows.
        model
            .running
            .entry(context.invocation.unit.clone())
            .or_insert_with(|| context.invocation.clone());
        Ok(Self {
            store,
            model,
            context,
            state: None,
            queue_loaded: 0,
            model_changed: false,
            context_changed: false,
            rows,
            staged,
            finished: false,
        })
    }

    pub(crate) fn unit(&self) -> &UnitName {
        &self.context.invocation.unit
    }

    /// The units of the calling unit's application, in name order.
    pub(crate) fn app_units(&self) -> impl Iterator<Item = &UnitName> {
        self.model
            .applications
            .get(self.unit().app())
            .into_iter()
            .flat_map(|app| app.units.keys())
    }

    /// The model, to be saved when the call ends (`leader-set`, `status-set`, `juju-log`).
    pub(crate) fn model_mut(&mut self) -> &mut Model {
        self.model_changed = true;
        &mut self.model
    }

    /// Loads one committed databag of relation `number` into `self.model` (the rows have
    /// none), so that the model's readers see it. A bag that does not exist stays absent.
    pub(crate) fn load_bag(&mut self, number: u32, owner: &BagOwner) -> Result<(), Failure> {
        let key = match owner {
            BagOwner::Unit(u) => BagKey::Unit(u.clone()),
            BagOwner::App(a) => BagKey::App(a.clone()),
        };
        let Some(rel) = self.model.relations.get_mut(&number) else {
            return Ok(());
        };
        let db = crate::store::Db::of(&self.store)?;
        if let Some(bag) = db.bag(number, &key)? {
            match key {
                BagKey::Unit(u) => rel.unit_bags.insert(u, bag),
                BagKey::App(a) => rel.app_bags.insert(a, bag),
            };
        }
        Ok(())
    }

    /// The emulator state (queue, app statuses), loaded on first use and saved at the end.
    pub(crate) fn state_mut(&mut self) -> Result<&mut EmulatorState, Failure> {
        if self.state.is_none() {
            let db = crate::store::Db::of(&self.store)?;
            let mut state = db.state()?;
            state.queue = db.queue_all()?.into();
            self.queue_loaded = state.queue.len();
            self.state = Some(state);
        }
        Ok(self.state.get_or_insert_with(EmulatorState::default))
    }

    /// The emulator state for reading.
    pub(crate) fn state(&mut self) -> Result<&EmulatorState, Failure> {
        self.state_mut().map(|s| &*s)
    }

    /// Writes what the call changed and commits.
    fn save(mut self) -> Result<(), Failure> {
        let result = self.write();
        self.finished = true;
        match result {
            Ok(()) => self.store.commit().map_err(Failure::from),
            Err(e) => {
                self.store.rollback();
                Err(e)
            }
        }
    }

    fn write(&mut self) -> Result<(), Failure> {
        let db = crate::store::Db::of(&self.store)?;
        if self.context_changed {
            db.put_context_staged(&self.context, &mut self.staged)?;
        }
        if self.model_changed {
            // The rows came without logs: any log line now in the model is new.
            let bulky = take_bulky(&mut self.model);
            for (unit, logs) in bulky.logs() {
                db.append_logs(unit, logs)?;
            }
            db.save_rows(&mut self.model, &mut self.rows)?;
        }
        if let Some(state) = &self.state {
            db.put_state(state)?;
            if state.queue.len() >= self.queue_loaded {
                db.queue_push(state.queue.iter().skip(self.queue_loaded))?;
            } else {
                db.queue_replace(state.queue.iter())?;
            }
        }
        Ok(())
    }

    /// The relation numbered `number` from this unit's side, if the unit's application is in
    /// it.
    fn relation_by_number(&self, number: u32) -> Option<RelationId> {
        let relation = self
            .model
            .relations
            .get(&number)
            .filter(|r| r.in_scope(self.unit()) && self.model.sees_relations(self.unit()))?;
        let end = relation
            .ends
            .iter()
            .find(|end| &end.app == self.unit().app())?;
        Some(RelationId::new(end.endpoint.clone(), number))
    }

    /// Checks a `-r` value as Juju's `relationIdValue.Set` does: the text after the last `:`
    /// must be an integer naming one of the unit's relations.
    fn check_relation_value(&self, value: &str) -> Result<(), String> {
        let number = value.rsplit(':').next().unwrap_or(value);
        let number: i64 = number
            .parse()
            .map_err(|_| "invalid relation id".to_owned())?;
        u32::try_from(number)
            .ok()
            .and_then(|n| self.relation_by_number(n))
            .map(|_| ())
            .ok_or_else(|| "relation not found".to_owned())
    }

    /// The relation a relation tool works on: `-r`, else the hook's own relation.
    fn relation(&self, parsed: &ParsedArgs) -> Result<RelationId, Failure> {
        match parsed.value("relation") {
            Some(value) => {
                let number = value.rsplit(':').next().unwrap_or(value);
                number
                    .parse::<u32>()
                    .ok()
                    .and_then(|n| self.relation_by_number(n))
                    .ok_or_else(|| Failure::usage("relation not found"))
            }
            None => self
                .context
                .invocation
                .relation
                .clone()
                .ok_or_else(|| Failure::usage("no relation id specified")),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if !self.finished {
            self.store.rollback();
        }
    }
}

pub(crate) const FORMAT: OptSpec = OptSpec::value("format", None, "format");
pub(crate) const OUTPUT: OptSpec = OptSpec::value("output", Some('o'), "output");
pub(crate) const RELATION: OptSpec = OptSpec::value("relation", Some('r'), "relation");

/// Parses `args` for `tool`, validating `--format` and `-r` as they are seen.
/// `Ok(None)` means help was printed.
fn parse(
    tool: &str,
    specs: &[OptSpec],
    args: &[String],
    session: &Session,
    io: &mut ToolIo<'_>,
) -> Result<Option<ParsedArgs>, Failure> {
    let mut check = |key: &str, value: &str| match key {
        "format" if YAML_JSON_TOOLS.contains(&tool) && value == "smart" => {
            Err(format!("unknown format {}", args::go_quote(value)))
        }
        // The write tools' `--format` is a plain string (relation-set.go, juju-log.go, ports.go).
        "format" if !DEPRECATED_FORMAT_TOOLS.contains(&tool) => Format::parse(value).map(drop),
        "relation" => session.check_relation_value(value),
        _ => Ok(()),
    };
    match args::parse(specs, args, &mut check).map_err(Failure::usage)? {
        Parsed::Help => {
            let invocation = &session.context.invocation;
            let ctx = help::HelpContext {
                relation: invocation.relation.as_ref().map(ToString::to_string),
                endpoint: invocation
                    .relation
                    .as_ref()
                    .map(|r| r.endpoint().to_string()),
                remote_unit: invocation.remote_unit.as_ref().map(ToString::to_string),
            };
            io.out.extend_from_slice(help::text(tool, &ctx).as_bytes());
            Ok(None)
        }
        Parsed::Run(parsed) => Ok(Some(parsed)),
    }
}

/// [`parse`] for a tool that takes no arguments (`cmd.CheckEmpty`: `unrecognized args`).
fn parse_bare(
    tool: &str,
    specs: &[OptSpec],
    args: &[String],
    session: &Session,
    io: &mut ToolIo<'_>,
) -> Result<Option<ParsedArgs>, Failure> {
    let parsed = parse(tool, specs, args, session, io)?;
    if let Some(parsed) = &parsed {
        args::check_empty(&parsed.positionals).map_err(Failure::usage)?;
    }
    Ok(parsed)
}

/// Tools whose `--format` is accepted and ignored, with a note on stderr.
const DEPRECATED_FORMAT_TOOLS: [&str; 4] = ["relation-set", "juju-log", "open-port", "close-port"];

/// Tools whose `--format` is `yaml` (the default) or `json`, with no `smart`
/// (`secret-get.go`, `secret-info-get.go`, `goal-state.go` `SetFlags`; `secret-ids.go` takes
/// Juju's default formatters, `smart` first).
const YAML_JSON_TOOLS: [&str; 3] = ["secret-get", "secret-info-get", "goal-state"];

/// Writes a read tool's answer in the chosen format, to `-o FILE` or stdout.
fn print(value: &Value, parsed: &ParsedArgs, io: &mut ToolIo<'_>) -> Result<(), Failure> {
    print_as(value, parsed, io, Format::Smart)
}

/// [`print`] with another default format, of a value or a Go struct ([`Tree`]).
fn print_as(
    value: &impl Printable,
    parsed: &ParsedArgs,
    io: &mut ToolIo<'_>,
    default: Format,
) -> Result<(), Failure> {
    let format = parsed
        .value("format")
        .map(Format::parse)
        .transpose()
        .map_err(Failure::usage)?
        .unwrap_or(default);
    let text = value.render(format);
    match parsed.value("output") {
        Some(path) => std::fs::write(PathBuf::from(path), text)
            .map_err(|e| Failure::runtime(format!("open {path}: {e}"))),
        None => {
            io.out.extend_from_slice(text.as_bytes());
            Ok(())
        }
    }
}

/// The `--format` deprecation note of write tools: on stderr, without a newline.
fn deprecated_format(tool: &str, parsed: &ParsedArgs, io: &mut ToolIo<'_>) {
    if parsed.value("format").is_some() {
        io.err.extend_from_slice(
            format!(
                "--format flag deprecated for command {}",
                args::go_quote(tool)
            )
            .as_bytes(),
        );
    }
}

/// Parses `key=value` arguments as Juju's `keyvalues.Parse` with empty values allowed.
fn parse_pairs(items: &[String]) -> Result<BTreeMap<String, String>, Failure> {
    let mut pairs = BTreeMap::new();
    for item in items {
        let (key, value) = item
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| {
                Failure::usage(format!(
                    "expected \"key=value\", got {}",
                    args::go_quote(item)
                ))
            })?;
        if pairs.insert(key.to_owned(), value.to_owned()).is_some() {
            return Err(Failure::usage(format!(
                "key {} specified more than once",
                args::go_quote(key)
            )));
        }
    }
    Ok(pairs)
}

fn databag_value(bag: &BTreeMap<String, String>, key: Option<&str>) -> Value {
    match key {
        Some(k) => bag.get(k).map_or(Value::Null, |v| Value::String(v.clone())),
        None => Value::Object(
            bag.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn pairs_split_at_the_first_equals_and_reject_bad_ones() {
        let pairs = parse_pairs(&argv("foo=bar=baz empty=")).unwrap();
        assert_eq!(pairs["foo"], "bar=baz");
        assert_eq!(pairs["empty"], "");
        assert_eq!(
            parse_pairs(&argv("haha")),
            Err(Failure::usage("expected \"key=value\", got \"haha\""))
        );
        assert_eq!(
            parse_pairs(&argv("=haha")),
            Err(Failure::usage("expected \"key=value\", got \"=haha\""))
        );
        assert_eq!(
            parse_pairs(&argv("foo=1 foo=2")),
            Err(Failure::usage("key \"foo\" specified more than once"))
        );
    }

    #[test]
    fn outside_a_hook_tools_refuse_with_juju_texts() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let env = BTreeMap::new();
        let code = tool_main("is-leader", &[], &env, &mut &b""[..], &mut out, &mut err);
        assert_eq!(code, 1);
        assert!(out.is_empty());
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "ERROR JUJU_CONTEXT_ID not set\n"
        );
    }

    #[test]
    fn a_wrong_context_id_is_a_bad_request() {
        let dir = tempfile::tempdir().unwrap();
        let env: BTreeMap<String, String> = [
            ("JUJU_CONTEXT_ID", "a/0-install-00"),
            (MODEL_DIR_VAR, dir.path().to_str().unwrap()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = tool_main("is-leader", &[], &env, &mut &b""[..], &mut out, &mut err);
        assert_eq!(code, 1);
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "ERROR bad request: wrong context ID; got \"a/0-install-00\"\n"
        );
        let calls: Vec<CallRecord> = Store::new(dir.path())
            .read_lines(&dir.path().join("calls.jsonl"))
            .unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].exit_code, 1);
        assert!(is_hook_tool("relation-get") && !is_hook_tool("juju-emulator"));
    }
}
