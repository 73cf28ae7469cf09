//! Running one hook and reading back what it cost: wall time from the emulator's hook report,
//! tool calls (and their own durations) from the emulator's call log, matched by context id.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::PathBuf;

use juju_emulator::store::CallRecord;
use juju_hooks::testing::HookInvocation;

use crate::world::{Dispatch, World};
use crate::Fallible;

/// What one hook run cost.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Wall time of the hook process (spawn to exit), µs.
    pub wall_us: u64,
    /// CPU time (user + sys) of the hook's whole process tree, µs: less sensitive than the
    /// wall time to the other work of a shared machine.
    pub cpu_us: u64,
    /// Sum of the durations the tools logged for this hook's calls, µs.
    pub tools_us: u64,
    /// Calls per tool name.
    pub calls: BTreeMap<String, usize>,
    /// Whether the hook replaced the unit's state file (a no-op hook should not).
    pub state_written: bool,
    /// Size of the state file after the hook, bytes.
    pub state_bytes: u64,
    /// The calls in order: tool and arguments (private keys redacted by the emulator).
    pub argv: Vec<(String, Vec<String>)>,
    /// What the binary accounted itself (`--timings`), summed over its runs in the hook;
    /// `None` when the dispatch did not ask for it.
    pub accounted: Option<Accounted>,
}

/// The binary's own account of its runs in one hook (`--timings` lines, summed).
#[derive(Clone, Debug, Default)]
pub struct Accounted {
    /// Runs of the binary (lines).
    pub commands: u64,
    /// Wall time from `main` to the end, µs.
    pub wall_us: u64,
    /// Tool calls it made.
    pub tool_calls: u64,
    /// Time in those calls, spawn to reap, µs.
    pub tool_us: u64,
    /// wall − tool: its own work, µs.
    pub own_us: u64,
    /// Each run's command (e.g. `requires sync`) and own work, µs, in run order.
    pub own_by_command: Vec<(String, u64)>,
}

impl Accounted {
    /// The lines of `path`, summed; `None` for no file.
    fn read(path: &std::path::Path) -> Fallible<Option<Self>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut sum = Self::default();
        for line in text.lines() {
            let value: serde_json::Value = serde_json::from_str(line)?;
            let field = |key: &str| {
                value[key]
                    .as_u64()
                    .ok_or_else(|| format!("timings line without {key}: {line}"))
            };
            sum.commands += 1;
            sum.wall_us += field("wall_us")?;
            sum.tool_calls += field("tool_calls")?;
            sum.tool_us += field("tool_us")?;
            let own_us = field("own_us")?;
            sum.own_us += own_us;
            let command = value["command"].as_str().unwrap_or("?").to_owned();
            sum.own_by_command.push((command, own_us));
        }
        Ok(Some(sum))
    }
}

impl Sample {
    /// Wall time minus the tools' own time: the binary (and the dispatch script, and the
    /// process start-up of every tool call, which the tools cannot time themselves).
    pub fn own_us(&self) -> u64 {
        self.wall_us.saturating_sub(self.tools_us)
    }
}

/// Reads `calls.jsonl` incrementally, so each hook's lines are read once.
pub struct CallLog {
    path: PathBuf,
    offset: u64,
}

impl CallLog {
    /// The log of `world`'s model, from its current end.
    pub fn new(world: &World) -> Self {
        let path = world.emulator.dir().join("calls.jsonl");
        let offset = std::fs::metadata(&path).map_or(0, |m| m.len());
        Self { path, offset }
    }

    /// The calls logged since the last read that belong to `context_id`.
    fn take(&mut self, context_id: &str) -> Fallible<Vec<CallRecord>> {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return Ok(Vec::new());
        };
        file.seek(SeekFrom::Start(self.offset))?;
        let mut records = Vec::new();
        let mut reader = BufReader::new(file);
        let mut line = String::new();
        loop {
            line.clear();
            let read = reader.read_line(&mut line)?;
            if read == 0 {
                break;
            }
            self.offset += read as u64;
            let record: CallRecord = serde_json::from_str(line.trim_end())?;
            // Only this hook's calls: the log is shared by every hook of the model.
            if record.context_id.as_deref() == Some(context_id) {
                records.push(record);
            }
        }
        Ok(records)
    }
}

/// Runs `invocation` on the world's unit with `dispatch`, and measures it. A hook or tool
/// call that fails is an error: a failing run would measure the wrong thing.
pub fn run_hook(
    world: &mut World,
    log: &mut CallLog,
    invocation: &HookInvocation,
    dispatch: &Dispatch,
) -> Fallible<Sample> {
    world.set_dispatch(dispatch)?;
    match std::fs::remove_file(world.timings_file()) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    let state_before = file_identity(&world.state_file());
    let cpu_before = children_cpu_us()?;
    let report = world.emulator.run_hook(invocation.clone())?;
    let cpu_us = (children_cpu_us()? - cpu_before).max(0.0) as u64;
    if !report.succeeded() {
        return Err(format!(
            "{} on {} with {dispatch:?}: {:?}\nstdout: {}\nstderr: {}",
            invocation.hook, invocation.unit, report.outcome, report.stdout, report.stderr
        )
        .into());
    }
    let records = log.take(&report.context_id)?;
    if records.len() != report.tool_calls {
        return Err(format!(
            "{}: the emulator counted {} calls, the log has {}",
            invocation.hook,
            report.tool_calls,
            records.len()
        )
        .into());
    }
    let mut calls = BTreeMap::new();
    let mut tools_us = 0;
    for record in &records {
        if record.exit_code != 0 {
            return Err(format!(
                "{}: {} {:?} exited {}",
                invocation.hook, record.tool, record.argv, record.exit_code
            )
            .into());
        }
        *calls.entry(record.tool.clone()).or_insert(0) += 1;
        tools_us += record.duration_us;
    }
    let accounted = Accounted::read(&world.timings_file())?;
    if let Some(a) = &accounted {
        // Every call of these hooks is the binary's: its count must be the emulator's.
        if a.tool_calls != records.len() as u64 {
            return Err(format!(
                "{}: the binary accounted {} calls, the emulator logged {}",
                invocation.hook,
                a.tool_calls,
                records.len()
            )
            .into());
        }
    }
    Ok(Sample {
        wall_us: report.duration_us,
        cpu_us,
        tools_us,
        calls,
        state_written: file_identity(&world.state_file()) != state_before,
        state_bytes: std::fs::metadata(world.state_file()).map_or(0, |m| m.len()),
        argv: records
            .iter()
            .map(|r| (r.tool.clone(), r.argv.clone()))
            .collect(),
        accounted,
    })
}

/// CPU time (user + sys) of this process's children that were waited for, and theirs, µs.
pub fn children_cpu_us() -> Fallible<f64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage only writes the struct it is given, which lives for the call.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    // SAFETY: getrusage succeeded, so it filled the struct.
    let usage = unsafe { usage.assume_init() };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    Ok(us(usage.ru_utime) + us(usage.ru_stime))
}

/// Inode and modification time: the binary replaces its state file by renaming a new one
/// over it, so either changes when it writes.
fn file_identity(path: &std::path::Path) -> Option<(u64, i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.ino(), m.mtime(), m.mtime_nsec()))
}

/// Minimum and median of a set of microsecond figures.
#[derive(Clone, Copy, Debug, Default)]
pub struct Spread {
    /// The smallest value.
    pub min: u64,
    /// The median (upper middle for an even count).
    pub median: u64,
}

impl Spread {
    /// Of `values` (zero when empty).
    pub fn of(values: impl IntoIterator<Item = u64>) -> Self {
        let mut v: Vec<u64> = values.into_iter().collect();
        v.sort_unstable();
        match v.as_slice() {
            [] => Self::default(),
            s => Self {
                min: s[0],
                median: s[s.len() / 2],
            },
        }
    }
}

/// The calls of a set of samples when they agree, as `tool n, tool n`; otherwise every
/// distinct pattern, so a scenario that does not repeat itself shows.
pub fn calls_text(samples: &[Sample]) -> String {
    let mut patterns: Vec<&BTreeMap<String, usize>> = Vec::new();
    for s in samples {
        if !patterns.contains(&&s.calls) {
            patterns.push(&s.calls);
        }
    }
    patterns
        .iter()
        .map(|calls| format_calls(calls))
        .collect::<Vec<_>>()
        .join(" / ")
}

/// `relation-list 1, relation-get 1`, or `none`.
pub fn format_calls(calls: &BTreeMap<String, usize>) -> String {
    if calls.is_empty() {
        return "none".to_owned();
    }
    calls
        .iter()
        .map(|(tool, n)| format!("{tool} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A bash body that makes exactly the hook-tool calls of `sample`, with the same arguments,
/// output discarded: the hook the binary's hook is compared with, so that what remains is the
/// binary's own time (its process start-ups included). A call reading `--file -` gets
/// `stdin_for(tool)` on its standard input (the emulator does not log stdin).
pub fn replay_script(sample: &Sample, stdin_for: impl Fn(&str) -> PathBuf) -> String {
    let quote = |w: &str| format!("'{}'", w.replace('\'', "'\\''"));
    let mut body = String::new();
    for (tool, argv) in &sample.argv {
        let args: Vec<String> = argv.iter().map(|a| quote(a)).collect();
        let stdin = if argv.windows(2).any(|w| w[0] == "--file" && w[1] == "-") {
            format!(" < {}", quote(&stdin_for(tool).to_string_lossy()))
        } else {
            String::new()
        };
        body.push_str(&format!("{tool} {}{stdin} >/dev/null\n", args.join(" ")));
    }
    body.push_str("exit 0");
    body
}
