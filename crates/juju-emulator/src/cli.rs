//! The emulator's command line: create a model, deploy charms, relate them, run their hooks.
//!
//! `juju-emulator` and any binary that embeds the emulator expose these commands; each
//! parses [`EmulatorCli`] and calls [`run_cli`]. A new command is a variant of
//! [`EmulatorCommand`] and an arm in [`run_cli`].

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use juju_hooks::testing::HookInvocation;
use juju_hooks::{AppName, HookKind, RelationId, UnitName};

use crate::emulator::{Emulator, HookOutcome, HookReport};
use crate::error::EmulatorError;
use crate::tools::MODEL_DIR_VAR;

const LONG_ABOUT: &str = "\
A local stand-in for Juju. It keeps a model (applications, units, relations, databags,
leadership, config, statuses) in a directory and runs your charm's hooks on this machine,
with the real hook-tool names on PATH (relation-get, relation-set, is-leader, ...). Relation
writes are committed only when a hook exits 0, and the hooks Juju would fire next are queued.

Quick start:
  export JUJU_EMULATOR_DIR=$(mktemp -d)
  juju-emulator create --name demo
  juju-emulator deploy ./my-provider-charm db -n 2
  juju-emulator deploy ./my-requirer-charm web
  juju-emulator relate db:api web:api         # runs created/joined/changed hooks
  juju-emulator status                        # units, relations, queue
  juju-emulator databags                      # what each unit and app published
  juju-emulator remove-unit db/1              # departed, broken, stop, remove
  juju-emulator unrelate 0

A charm is a directory with metadata.yaml (provides/requires/peers), optionally config.yaml,
and an executable `dispatch` or `hooks/<hook-name>` files. Each unit runs in its own copy of
the charm under DIR/units/<app>-<n>/charm.

Commands that change the model run the queued hooks right away (up to --max-hooks) unless
--no-settle is given; then use `next`, `settle` and `queue`. As in Juju, a hook that exits
non-zero puts its unit in error (`status` shows `hook failed: \"<hook>\"`): that unit runs
nothing more until `resolved UNIT` (retries the hook) or `resolved --no-retry UNIT` (skips
it); other units carry on. Hooks get only the environment Juju gives them. Every hook-tool
call is logged in DIR/calls.jsonl (private keys redacted), every hook run in
DIR/hooks.jsonl; the model is DIR/model.db (SQLite).

The model has its own clock: it starts when the model is created and moves only with
`advance-clock DURATION`, which runs the `secret-rotate` and `secret-expired` hooks that
time makes due (`secret-add --rotate hourly`, `--expire 2h`); `secret-info-get` shows the
next rotation (`rotates`) and the expiry by that clock.

Private keys (PEM `PRIVATE KEY` blocks) are hidden in what the commands print unless
--show-secrets is given.

Exit codes: 0 all hooks that ran succeeded and no unit is in error; 1 a hook failed, a unit
is in error or the queue did not settle, or the command failed; 2 bad command-line usage.";

/// Drive an emulated Juju model from a shell.
#[derive(Debug, Parser)]
#[command(name = "juju-emulator", version, about = "A local stand-in for Juju: run charm hooks with emulated hook tools", long_about = LONG_ABOUT)]
pub struct EmulatorCli {
    /// The model directory (default: $JUJU_EMULATOR_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub model_dir: Option<PathBuf>,
    /// Queue hooks but do not run them (use `next` or `settle` later).
    #[arg(long, global = true)]
    pub no_settle: bool,
    /// Stop settling after this many hooks.
    #[arg(long, global = true, value_name = "N", default_value_t = 1000)]
    pub max_hooks: usize,
    /// Kill a hook (its whole process group) that runs longer than this many seconds; the
    /// hook then fails. Juju has no such limit, and by default neither has the emulator.
    #[arg(long, global = true, value_name = "SECONDS", value_parser = positive_seconds)]
    pub hook_timeout: Option<f64>,
    /// Print every hook's stdout and stderr, not only those of failed hooks.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: EmulatorCommand,
}

/// The emulator's commands.
#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    /// Create an empty model in the model directory.
    Create {
        /// The model name (JUJU_MODEL_NAME).
        #[arg(long, default_value = "emulated")]
        name: String,
    },
    /// Deploy a charm directory as an application with N units.
    Deploy {
        /// The charm directory (with metadata.yaml).
        charm: PathBuf,
        /// The application name (default: the charm's name).
        app: Option<String>,
        /// How many units.
        #[arg(short = 'n', long = "num-units", default_value_t = 1)]
        units: u32,
    },
    /// Add units to an application.
    AddUnit {
        /// The application.
        app: String,
        /// How many units.
        #[arg(short = 'n', long = "num-units", default_value_t = 1)]
        units: u32,
    },
    /// Relate two applications: `app:endpoint app:endpoint` (or just the app names when only
    /// one pair of endpoints fits).
    #[command(alias = "integrate")]
    Relate {
        /// One end.
        a: String,
        /// The other end.
        b: String,
    },
    /// Remove a relation by number (as `status` shows it, or as `endpoint:number`).
    #[command(alias = "remove-relation")]
    Unrelate {
        /// The relation.
        relation: String,
    },
    /// Remove a unit (departed, broken, stop, remove).
    RemoveUnit {
        /// The unit, e.g. `db/1`.
        unit: String,
    },
    /// Take a unit out of error: retry its failed hook, or skip it with --no-retry.
    Resolved {
        /// The unit in error.
        unit: String,
        /// Do not run the failed hook again: count it as done, without its writes.
        #[arg(long)]
        no_retry: bool,
    },
    /// Set config options (`key=value`; `key=` resets to the default).
    Config {
        /// The application.
        app: String,
        /// `key=value` pairs.
        #[arg(required = true)]
        pairs: Vec<String>,
    },
    /// Set leader data as the application's leader would (`key=value`; `key=` deletes).
    SetLeaderData {
        /// The application.
        app: String,
        /// `key=value` pairs.
        #[arg(required = true)]
        pairs: Vec<String>,
    },
    /// Run one hook on a unit now (before anything queued).
    Run {
        /// The unit.
        unit: String,
        /// The hook name, e.g. `update-status` or `db-relation-changed`.
        hook: String,
        /// The relation (number or endpoint:number) for relation hooks.
        #[arg(short = 'r', long)]
        relation: Option<String>,
        /// The remote unit (JUJU_REMOTE_UNIT) for -joined, -changed, -departed.
        #[arg(long)]
        remote_unit: Option<String>,
    },
    /// Upgrade an application's charm (copy it to every unit; upgrade-charm, config-changed).
    Refresh {
        /// The application.
        app: String,
        /// The new charm directory (default: the one it was deployed from, copied again).
        charm: Option<PathBuf>,
    },
    /// Queue update-status on one unit, or on every unit.
    UpdateStatus {
        /// The unit (default: all units).
        unit: Option<String>,
    },
    /// Move the model's clock forward (a Go duration: `90m`, `1h30m`, `168h`) and run the
    /// hooks that time makes due: `secret-rotate` (a secret's `--rotate` time has come; again
    /// every 5 minutes of model time until the owner sets a new revision) and
    /// `secret-expired` (a revision's `--expire` time has passed; again every 5 minutes until
    /// it is removed). Prints the model's new time. The model's clock starts when the model
    /// is created and moves only with this command.
    AdvanceClock {
        /// How far, e.g. `1h`.
        #[arg(value_parser = go_duration)]
        by: std::time::Duration,
    },
    /// Run an action of the unit's charm now and print its result as `juju run --format yaml`.
    RunAction {
        /// The unit.
        unit: String,
        /// The action, as named in actions.yaml.
        action: String,
        /// Parameters as `key=value` (values are YAML).
        params: Vec<String>,
    },
    /// Run the oldest queued hook.
    Next,
    /// Run queued hooks until none are left (or --max-hooks ran).
    Settle,
    /// List the queued hooks.
    Queue,
    /// Show applications, units, relations and the queue.
    Status {
        /// `tabular` or `json`.
        #[arg(long, default_value = "tabular", value_parser = ["tabular", "json"])]
        format: String,
    },
    /// Print the whole model as JSON.
    Show {
        /// Print private keys instead of hiding them.
        #[arg(long)]
        show_secrets: bool,
    },
    /// Print relation databags (all relations, or one).
    Databags {
        /// The relation number.
        relation: Option<String>,
        /// Print private keys instead of hiding them.
        #[arg(long)]
        show_secrets: bool,
    },
    /// Print the hook-tool calls log (one line per call; private keys were redacted when
    /// the calls were recorded: see `databags --show-secrets`).
    Calls {
        /// Only the calls of this unit.
        #[arg(long)]
        unit: Option<String>,
    },
    /// Print what units sent to juju-log.
    Logs {
        /// Only this unit.
        unit: Option<String>,
        /// Print private keys instead of hiding them.
        #[arg(long)]
        show_secrets: bool,
    },
}

/// Runs one emulator command. `tools_binary` is the multi-call binary the hook tools link to
/// (the running executable); `env` is the caller's environment (for `JUJU_EMULATOR_DIR` and
/// as the base environment of hooks). Returns the process exit code.
///
/// # Errors
/// The command could not be carried out (no model, bad arguments, unreadable files).
pub fn run_cli(
    cli: &EmulatorCli,
    tools_binary: &Path,
    env: &BTreeMap<String, String>,
    out: &mut dyn Write,
) -> Result<i32, EmulatorError> {
    let dir = cli
        .model_dir
        .clone()
        .or_else(|| {
            env.get(MODEL_DIR_VAR)
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
        })
        .ok_or_else(|| {
            EmulatorError::Usage(format!(
                "no model directory: pass --model-dir DIR or set {MODEL_DIR_VAR}"
            ))
        })?;
    let mut p = Printer { out };
    if let EmulatorCommand::Create { name } = &cli.command {
        let emulator = Emulator::create(&dir, name, tools_binary)?;
        p.line(format!(
            "created model {name:?} in {}\nnext: export {MODEL_DIR_VAR}={} and `deploy` a charm",
            emulator.dir().display(),
            emulator.dir().display()
        ))?;
        return Ok(0);
    }
    let mut emulator = Emulator::open(&dir, tools_binary)?;
    if let Some(seconds) = cli.hook_timeout {
        emulator = emulator.with_hook_timeout(std::time::Duration::from_secs_f64(seconds));
    }
    let changes_model = match &cli.command {
        EmulatorCommand::Create { .. } => false,
        EmulatorCommand::Deploy { charm, app, units } => {
            let app = match app {
                Some(a) => parse_app(a)?,
                None => {
                    let info = crate::charm::CharmInfo::read(charm)?;
                    let name = info.name.ok_or_else(|| {
                        EmulatorError::Usage(
                            "the charm's metadata.yaml has no name: give the application name"
                                .to_owned(),
                        )
                    })?;
                    parse_app(&name)?
                }
            };
            let names = emulator.deploy(&app, charm, *units)?;
            p.line(format!("deployed {app}: {}", join(&names)))?;
            true
        }
        EmulatorCommand::AddUnit { app, units } => {
            let app = parse_app(app)?;
            for _ in 0..*units {
                let unit = emulator.add_unit(&app)?;
                p.line(format!("added {unit}"))?;
            }
            true
        }
        EmulatorCommand::Relate { a, b } => {
            let number = emulator.relate(a, b)?;
            p.line(format!("related {a} {b} as relation {number}"))?;
            true
        }
        EmulatorCommand::Unrelate { relation } => {
            let number = relation_number(relation)?;
            emulator.unrelate(number)?;
            p.line(format!("removing relation {number}"))?;
            true
        }
        EmulatorCommand::RemoveUnit { unit } => {
            emulator.remove_unit(&parse_unit(unit)?)?;
            p.line(format!("removing {unit}"))?;
            true
        }
        EmulatorCommand::Resolved { unit, no_retry } => {
            emulator.resolved(&parse_unit(unit)?, !no_retry)?;
            let how = if *no_retry {
                "skipping its failed hook"
            } else {
                "retrying its failed hook"
            };
            p.line(format!("resolved {unit}: {how}"))?;
            true
        }
        EmulatorCommand::Config { app, pairs } => {
            emulator.set_config(&parse_app(app)?, &parse_pairs(pairs)?)?;
            true
        }
        EmulatorCommand::SetLeaderData { app, pairs } => {
            emulator.set_leader_data(&parse_app(app)?, &parse_pairs(pairs)?)?;
            true
        }
        EmulatorCommand::Run {
            unit,
            hook,
            relation,
            remote_unit,
        } => {
            let invocation = build_invocation(
                &emulator,
                unit,
                hook,
                relation.as_deref(),
                remote_unit.as_deref(),
            )?;
            let report = emulator.run_hook(invocation)?;
            let ok = report.succeeded();
            p.report(&report, cli.verbose)?;
            if cli.no_settle {
                return Ok(i32::from(!ok));
            }
            return Ok(settle(&mut emulator, cli, &mut p)?.max(i32::from(!ok)));
        }
        EmulatorCommand::Refresh { app, charm } => {
            emulator.refresh(&parse_app(app)?, charm.as_deref())?;
            p.line(format!("refreshing {app}"))?;
            true
        }
        EmulatorCommand::UpdateStatus { unit } => {
            let unit = unit.as_deref().map(parse_unit).transpose()?;
            emulator.update_status(unit.as_ref())?;
            true
        }
        EmulatorCommand::AdvanceClock { by } => {
            let now = emulator.advance_clock(*by)?;
            p.line(format!("model time {now}"))?;
            true
        }
        EmulatorCommand::RunAction {
            unit,
            action,
            params,
        } => {
            let outcome = emulator.run_action(&parse_unit(unit)?, action, params)?;
            let text =
                crate::format::render(&outcome.juju_run_value(), crate::format::Format::Yaml);
            p.out
                .write_all(text.as_bytes())
                .map_err(|e| EmulatorError::Usage(format!("cannot write the result: {e}")))?;
            return Ok(i32::from(!outcome.completed()));
        }
        EmulatorCommand::Next => {
            match emulator.run_next()? {
                Some(report) => {
                    p.report(&report, cli.verbose)?;
                    return Ok(i32::from(!report.succeeded()));
                }
                None => p.line("no hooks queued")?,
            }
            false
        }
        EmulatorCommand::Settle => return settle(&mut emulator, cli, &mut p),
        EmulatorCommand::Queue => {
            let queued = emulator.queued()?;
            if queued.is_empty() {
                p.line("no hooks queued")?;
            }
            for invocation in queued {
                p.line(describe(&invocation))?;
            }
            false
        }
        EmulatorCommand::Status { format } => {
            let status = crate::status::Status::of(&emulator)?;
            if format == "json" {
                p.line(status.json())?;
            } else {
                p.line(status.tabular().trim_end())?;
            }
            false
        }
        EmulatorCommand::Show { show_secrets } => {
            let json = serde_json::to_string_pretty(emulator.model()).map_err(|e| {
                EmulatorError::Corrupt {
                    path: emulator.dir().join("model.db"),
                    reason: e.to_string(),
                }
            })?;
            p.line(secret(&json, *show_secrets))?;
            false
        }
        EmulatorCommand::Databags {
            relation,
            show_secrets,
        } => {
            let only = relation.as_deref().map(relation_number).transpose()?;
            print_databags(&emulator, only, *show_secrets, &mut p)?;
            false
        }
        EmulatorCommand::Calls { unit } => {
            for call in emulator.calls()? {
                if unit.is_some() && call.unit != *unit {
                    continue;
                }
                p.line(format!(
                    "{:<12} {:<28} exit {}  {:>6} µs  {} {}",
                    call.unit.as_deref().unwrap_or("?"),
                    call.hook.as_deref().unwrap_or("?"),
                    call.exit_code,
                    call.duration_us,
                    call.tool,
                    call.argv.join(" ")
                ))?;
            }
            false
        }
        EmulatorCommand::Logs { unit, show_secrets } => {
            let only = unit.as_deref().map(parse_unit).transpose()?;
            for app in emulator.model().applications.values() {
                for (u, record) in &app.units {
                    if only.as_ref().is_some_and(|o| o != u) {
                        continue;
                    }
                    for entry in &record.logs {
                        let message = secret(&entry.message, *show_secrets);
                        p.line(format!("{u} {} {message}", entry.level.as_str()))?;
                    }
                }
            }
            false
        }
    };
    if changes_model && !cli.no_settle {
        return settle(&mut emulator, cli, &mut p);
    }
    Ok(0)
}

fn settle(
    emulator: &mut Emulator,
    cli: &EmulatorCli,
    p: &mut Printer<'_>,
) -> Result<i32, EmulatorError> {
    let reports = emulator.settle(cli.max_hooks)?;
    let mut code = 0;
    for report in &reports {
        p.report(report, cli.verbose)?;
        if !report.succeeded() {
            code = 1;
        }
    }
    let errors = emulator.hook_errors()?;
    for (unit, hook) in &errors {
        p.line(format!(
            "{unit} is in error: hook failed: {:?} (see `resolved {unit}`)",
            hook.hook
        ))?;
        code = 1;
    }
    let left = emulator.queued()?.len();
    if left > 0 {
        let why = if errors.is_empty() {
            format!("after {} (see `queue`, `settle`)", reports.len())
        } else {
            "for units in error or after --max-hooks (see `queue`)".to_owned()
        };
        p.line(format!("not settled: {left} hooks still queued {why}"))?;
        code = 1;
    }
    Ok(code)
}

struct Printer<'a> {
    out: &'a mut dyn Write,
}

impl Printer<'_> {
    fn line(&mut self, text: impl AsRef<str>) -> Result<(), EmulatorError> {
        writeln!(self.out, "{}", text.as_ref()).map_err(|source| EmulatorError::Io {
            path: PathBuf::from("<stdout>"),
            source,
        })
    }

    fn report(&mut self, report: &HookReport, verbose: bool) -> Result<(), EmulatorError> {
        let status = match &report.outcome {
            HookOutcome::Succeeded => "ok".to_owned(),
            HookOutcome::NoHandler => "skipped (no handler)".to_owned(),
            HookOutcome::Failed { exit_code: Some(c) } => format!("FAILED (exit {c})"),
            HookOutcome::Failed { exit_code: None } => "FAILED".to_owned(),
            HookOutcome::TimedOut => "FAILED (timed out)".to_owned(),
            HookOutcome::Refused { reason } => {
                format!("FAILED (exit 0, refused at commit: {reason})")
            }
            HookOutcome::Dropped { reason } => format!("dropped ({reason})"),
        };
        let timing = if matches!(
            report.outcome,
            HookOutcome::Dropped { .. } | HookOutcome::NoHandler
        ) {
            String::new()
        } else {
            format!(
                "  [{} tool calls, {} ms]",
                report.tool_calls,
                report.duration().as_millis()
            )
        };
        self.line(format!(
            "{}  {status}{timing}",
            describe(&report.invocation)
        ))?;
        if verbose || !report.succeeded() {
            for (name, text) in [("stdout", &report.stdout), ("stderr", &report.stderr)] {
                for line in secret(text, false).lines() {
                    self.line(format!("    {name}| {line}"))?;
                }
            }
        }
        Ok(())
    }
}

/// `kube/0  proxy-relation-changed  proxy:0  remote=etcd/1`
fn describe(invocation: &HookInvocation) -> String {
    let mut text = format!("{:<12} {}", invocation.unit.to_string(), invocation.hook);
    if let Some(relation) = &invocation.relation {
        text.push_str(&format!("  {relation}"));
        match (&invocation.remote_unit, &invocation.remote_app) {
            (Some(unit), _) => text.push_str(&format!(" remote={unit}")),
            (None, Some(app)) => text.push_str(&format!(" remote-app={app}")),
            _ => {}
        }
    }
    text
}

/// `text`, with private keys hidden unless `show` is set.
fn secret(text: &str, show: bool) -> std::borrow::Cow<'_, str> {
    if show {
        std::borrow::Cow::Borrowed(text)
    } else {
        crate::redact::redact_private_keys(text)
    }
}

fn print_databags(
    emulator: &Emulator,
    only: Option<u32>,
    show_secrets: bool,
    p: &mut Printer<'_>,
) -> Result<(), EmulatorError> {
    let model = emulator.model();
    for (number, relation) in &model.relations {
        if only.is_some_and(|n| n != *number) {
            continue;
        }
        p.line(format!(
            "relation {number}: {} {}",
            relation.ends[0], relation.ends[1]
        ))?;
        let bags = relation
            .app_bags
            .iter()
            .map(|(app, bag)| (format!("app {app}"), bag))
            .chain(
                relation
                    .unit_bags
                    .iter()
                    .map(|(unit, bag)| (format!("unit {unit}"), bag)),
            );
        for (owner, bag) in bags {
            p.line(format!("  {owner}:"))?;
            for (key, value) in bag {
                let value = secret(value, show_secrets);
                let mut lines = value.lines();
                p.line(format!("    {key}: {}", lines.next().unwrap_or_default()))?;
                for more in lines {
                    p.line(format!("      {more}"))?;
                }
            }
        }
    }
    Ok(())
}

fn build_invocation(
    emulator: &Emulator,
    unit: &str,
    hook: &str,
    relation: Option<&str>,
    remote_unit: Option<&str>,
) -> Result<HookInvocation, EmulatorError> {
    let unit = parse_unit(unit)?;
    let kind = HookKind::from_hook_name(hook).map_err(|e| EmulatorError::Usage(e.to_string()))?;
    let remote_unit = remote_unit.map(parse_unit).transpose()?;
    if !kind.is_relation_hook() {
        return Ok(HookInvocation::new(unit, hook));
    }
    let number = match relation {
        Some(r) => relation_number(r)?,
        None => {
            return Err(EmulatorError::Usage(format!(
                "{hook} is a relation hook: give the relation with -r"
            )))
        }
    };
    let model = emulator.model();
    let rid: RelationId = model
        .relation_id(number, &unit)
        .ok_or_else(|| EmulatorError::Usage(format!("{unit} is not in relation {number}")))?;
    let remote_app = model
        .relations
        .get(&number)
        .and_then(|r| r.remote_end(unit.app()))
        .map(|end| end.app.clone())
        .ok_or_else(|| EmulatorError::Usage(format!("relation {number} does not exist")))?;
    let need_remote = || {
        remote_unit
            .clone()
            .ok_or_else(|| EmulatorError::Usage(format!("{hook} needs --remote-unit")))
    };
    Ok(match kind {
        HookKind::RelationCreated(_) => HookInvocation::created(unit, rid, remote_app),
        HookKind::RelationJoined(_) => HookInvocation::joined(unit, rid, need_remote()?),
        HookKind::RelationChanged(_) => match remote_unit {
            Some(remote) => HookInvocation::changed(unit, rid, remote),
            None => HookInvocation::app_changed(unit, rid, remote_app),
        },
        HookKind::RelationDeparted(_) => {
            let remote = need_remote()?;
            HookInvocation::departed(unit, rid, remote.clone(), remote)
        }
        _ => HookInvocation::broken(unit, rid, remote_app),
    })
}

/// A non-negative Go duration (`time.ParseDuration`).
fn go_duration(s: &str) -> Result<std::time::Duration, String> {
    match crate::clock::parse_duration(s) {
        Some((false, d)) => Ok(d),
        _ => Err("expected a duration such as 90s, 5m, 1h30m or 168h".to_owned()),
    }
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 1e9 => Ok(v),
        _ => Err("expected a positive number of seconds".to_owned()),
    }
}

fn parse_app(s: &str) -> Result<AppName, EmulatorError> {
    s.parse().map_err(|e| EmulatorError::Usage(format!("{e}")))
}

fn parse_unit(s: &str) -> Result<UnitName, EmulatorError> {
    s.parse().map_err(|e| EmulatorError::Usage(format!("{e}")))
}

/// `3` or `proxy:3`.
fn relation_number(s: &str) -> Result<u32, EmulatorError> {
    s.rsplit(':')
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            EmulatorError::Usage(format!(
                "invalid relation {s:?}: expected a number or endpoint:number"
            ))
        })
}

fn parse_pairs(pairs: &[String]) -> Result<BTreeMap<String, String>, EmulatorError> {
    pairs
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| EmulatorError::Usage(format!("expected key=value, got {pair:?}")))
        })
        .collect()
}

fn join(units: &[UnitName]) -> String {
    units
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        EmulatorCli::command().debug_assert();
        let cli = EmulatorCli::try_parse_from([
            "juju-emulator",
            "--model-dir",
            "/m",
            "deploy",
            "./c",
            "etcd",
            "-n",
            "3",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            EmulatorCommand::Deploy { units: 3, .. }
        ));
        assert_eq!(relation_number("proxy:3").unwrap(), 3);
        assert!(relation_number("x").is_err());
    }

    #[test]
    fn without_a_model_directory_the_cli_says_how_to_give_one() {
        let cli = EmulatorCli::try_parse_from(["juju-emulator", "status"]).unwrap();
        let err = run_cli(
            &cli,
            Path::new("/bin/true"),
            &BTreeMap::new(),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("--model-dir"), "{err}");
    }
}
