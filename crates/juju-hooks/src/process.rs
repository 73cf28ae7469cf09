//! [`HookTools`](crate::HookTools) by spawning Juju's real hook tools.
//!
//! Every call is one child process with an exact, fixed argv (see each method of
//! [`HookTools`]): reads always pass `--format=json` and are decoded strictly; `-r` and its
//! value are two arguments; relation writes go as one JSON object on stdin (`--file -`), so
//! values never appear on a command line.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};

use wait_timeout::ChildExt;

use crate::argv;
use crate::error::{ToolError, ToolErrorKind};
use crate::ids::{Endpoint, RelationId, UnitName};
use crate::secret::{SecretContent, SecretOwnerKind, SecretUri};
use crate::tools::{
    BagOwner, Config, Databag, HookTools, LogLevel, SecretRevision, SecretSummary, WorkloadStatus,
    WriteScope,
};

/// How long a tool may run before it is killed, unless set with [`ProcessHookTools::timeout`].
pub const DEFAULT_TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// At most this much of a tool's stderr is kept in an error, so a runaway tool cannot flood
/// the logs.
const MAX_STDERR_BYTES: usize = 8 * 1024;

/// Runs Juju's hook tools as child processes.
///
/// The child inherits the environment (the tools need `JUJU_CONTEXT_ID` and the agent socket
/// variables) and the working directory. A tool that does not finish within the timeout is
/// killed and reported as [`ToolErrorKind::Timeout`].
///
/// Error texts: [`ToolErrorKind::Usage`] and [`ToolErrorKind::Runtime`] carry the tool's stderr,
/// trimmed, with Juju's leading `ERROR ` word removed (the rest is Juju's text verbatim, e.g.
/// `cannot write relation settings`), capped at 8 KiB.
///
/// Arguments: a `status-set` or `juju-log` message that starts with `-` is passed after `--`
/// (Juju's option parser ends options there); `leader-set` keys that are empty, contain `=` or
/// start with `-` are refused as [`ToolErrorKind::Usage`] without running the tool. A
/// `leader-set` error shows `key=...` instead of values, since leader data may be secret.
///
/// Each instance counts its tool calls and the wall time spent in them
/// ([`ProcessHookTools::tool_time`]); clones share that account, so a caller can keep a clone
/// to read it after handing the tools to a library.
#[derive(Clone, Debug)]
pub struct ProcessHookTools {
    tools_dir: Option<PathBuf>,
    timeout: Duration,
    spent: Arc<ToolAccount>,
}

/// Tool calls made and the wall time spent in them, as [`ProcessHookTools::tool_time`] reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ToolTime {
    /// Tool processes run (or tried: a tool that could not be started counts too).
    pub calls: u64,
    /// Their wall time summed, each from just before its spawn to after the child was reaped
    /// and its output collected (so process creation and pipe handling are included).
    pub total: Duration,
}

/// The shared counters behind [`ToolTime`]; atomics, so the tools stay `Send` and `Sync`.
#[derive(Debug, Default)]
struct ToolAccount {
    calls: AtomicU64,
    micros: AtomicU64,
}

impl ToolAccount {
    fn add(&self, spent: Duration) {
        let micros = u64::try_from(spent.as_micros()).unwrap_or(u64::MAX);
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn get(&self) -> ToolTime {
        ToolTime {
            calls: self.calls.load(Ordering::Relaxed),
            total: Duration::from_micros(self.micros.load(Ordering::Relaxed)),
        }
    }
}

impl Default for ProcessHookTools {
    fn default() -> Self {
        Self::new()
    }
}

impl ProcessHookTools {
    /// Tools found on `PATH`, as inside a hook (Juju puts its tools directory first on `PATH`).
    pub fn new() -> Self {
        Self {
            tools_dir: None,
            timeout: DEFAULT_TOOL_TIMEOUT,
            spent: Arc::default(),
        }
    }

    /// Tools from an explicit directory (e.g. `/var/lib/juju/tools/unit-etcd-0`, or an
    /// emulator's), ignoring `PATH`.
    pub fn with_tools_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            tools_dir: Some(dir.into()),
            timeout: DEFAULT_TOOL_TIMEOUT,
            spent: Arc::default(),
        }
    }

    /// Sets the time limit for one tool call (default [`DEFAULT_TOOL_TIMEOUT`]).
    #[must_use]
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = limit;
        self
    }

    /// The time limit for one tool call.
    pub fn time_limit(&self) -> Duration {
        self.timeout
    }

    /// The tool calls made so far by these tools and their clones, and the wall time spent in
    /// them: what a hook spends in Juju rather than in its own code. Arguments refused before
    /// any tool ran are not calls.
    pub fn tool_time(&self) -> ToolTime {
        self.spent.get()
    }

    /// Runs `tool args...`, feeding `stdin` if given; returns stdout on exit 0.
    fn run(
        &self,
        tool: &str,
        args: &[String],
        stdin: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, ToolError> {
        self.run_shown(tool, args, &command_line(tool, args), stdin)
    }

    /// Like [`Self::run`], with the command line to show in errors given separately (so values
    /// passed as arguments can be kept out of it).
    fn run_shown(
        &self,
        tool: &str,
        args: &[String],
        shown: &str,
        stdin: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, ToolError> {
        let started = Instant::now();
        let result = self.spawn_and_wait(tool, args, shown, stdin, started);
        self.spent.add(started.elapsed());
        result
    }

    /// Runs the tool to its end (or its time limit, counted from `started`).
    fn spawn_and_wait(
        &self,
        tool: &str,
        args: &[String],
        shown: &str,
        stdin: Option<Vec<u8>>,
        started: Instant,
    ) -> Result<Vec<u8>, ToolError> {
        let fail = |kind| ToolError::new(shown, kind);
        let program = match &self.tools_dir {
            Some(dir) => dir.join(tool),
            None => PathBuf::from(tool),
        };
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                fail(ToolErrorKind::Unsupported {
                    tool: tool.to_owned(),
                })
            } else {
                fail(ToolErrorKind::Spawn(e))
            }
        })?;

        // Feed stdin and drain both pipes until they end, then reap the tool: all within the
        // time limit.
        let deadline = started + self.timeout;
        let (stdout, stderr) = match exchange(&mut child, stdin, deadline) {
            Ok(Some(pipes)) => pipes,
            Ok(None) => {
                kill_and_reap(&mut child);
                return Err(fail(self.timeout_kind()));
            }
            Err(e) => {
                kill_and_reap(&mut child);
                return Err(fail(ToolErrorKind::Spawn(e)));
            }
        };
        // wait-timeout may return up to a millisecond early: wait out the rest, so that a
        // tool is killed only once its whole time limit has passed.
        let status = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match child.wait_timeout(left) {
                Ok(Some(status)) => break status,
                Ok(None) if !left.is_zero() && Instant::now() < deadline => continue,
                Ok(None) => {
                    kill_and_reap(&mut child);
                    return Err(fail(self.timeout_kind()));
                }
                Err(e) => {
                    kill_and_reap(&mut child);
                    return Err(fail(ToolErrorKind::Spawn(e)));
                }
            }
        };
        match exit_kind(status, &stderr) {
            None => Ok(stdout),
            // A shell's "command not found".
            Some(ToolErrorKind::Runtime { code: 127, .. }) => {
                Err(fail(ToolErrorKind::Unsupported {
                    tool: tool.to_owned(),
                }))
            }
            Some(kind) => Err(fail(kind)),
        }
    }

    fn timeout_kind(&self) -> ToolErrorKind {
        // Whole seconds, rounded up, so that a sub-second limit never reads as "0 s".
        let millis = self.timeout.as_millis();
        let seconds = u64::try_from(millis.div_ceil(1000)).unwrap_or(u64::MAX);
        ToolErrorKind::Timeout { seconds }
    }

    /// Runs a read tool and decodes its JSON output with `decode`.
    fn read<T>(
        &self,
        tool: &str,
        args: &[String],
        decode: impl FnOnce(serde_json::Value) -> Result<T, String>,
    ) -> Result<T, ToolError> {
        let out = self.run(tool, args, None)?;
        parse_json(&out).and_then(decode).map_err(|reason| {
            ToolError::new(command_line(tool, args), ToolErrorKind::Decode { reason })
        })
    }
}

fn command_line(tool: &str, args: &[String]) -> String {
    std::iter::once(tool)
        .chain(args.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Feeds `input` to the child's stdin and reads its stdout and stderr until both end, in
/// this thread: poll(2) over the three pipes, so that neither side can block the other and
/// no thread is started per pipe. `None` when `deadline` passes first.
///
/// A tool that exits without reading its input is judged by its exit status alone; a read
/// error ends that output early, and the exit status still tells what happened.
fn exchange(
    child: &mut Child,
    input: Option<Vec<u8>>,
    deadline: Instant,
) -> std::io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let input = input.unwrap_or_default();
    let mut stdin = child.stdin.take().filter(|_| !input.is_empty());
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    for fd in [pipe_fd(&stdin), pipe_fd(&stdout), pipe_fd(&stderr)]
        .into_iter()
        .flatten()
    {
        rustix::io::ioctl_fionbio(fd, true)?;
    }
    let (mut written, mut out, mut err) = (0, Vec::new(), Vec::new());
    while stdin.is_some() || stdout.is_some() || stderr.is_some() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        let Some([ready_in, ready_out, ready_err]) =
            poll_pipes([pipe_fd(&stdin), pipe_fd(&stdout), pipe_fd(&stderr)], left)?
        else {
            continue; // interrupted by a signal
        };
        if ready_in {
            if let Some(pipe) = stdin.as_mut() {
                match pipe.write(&input[written..]) {
                    Ok(n) => written += n,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    // The tool closed its stdin (it exited, or does not read it).
                    Err(_) => written = input.len(),
                }
            }
            if written >= input.len() {
                stdin = None; // closing it ends the tool's input
            }
        }
        if ready_out && !drain_ready(&mut stdout, &mut out) {
            stdout = None;
        }
        if ready_err && !drain_ready(&mut stderr, &mut err) {
            stderr = None;
        }
    }
    Ok(Some((out, err)))
}

fn pipe_fd<P: AsFd>(pipe: &Option<P>) -> Option<BorrowedFd<'_>> {
    pipe.as_ref().map(AsFd::as_fd)
}

/// Waits at most `left` until one of the open pipes (stdin for writing, the others for
/// reading) is ready; which are. `None` when a signal interrupted the wait.
fn poll_pipes(
    pipes: [Option<BorrowedFd<'_>>; 3],
    left: Duration,
) -> std::io::Result<Option<[bool; 3]>> {
    let mut fds = Vec::with_capacity(3);
    let mut slots = [None; 3];
    for (slot, (pipe, flags)) in
        slots.iter_mut().zip(
            pipes
                .into_iter()
                .zip([PollFlags::OUT, PollFlags::IN, PollFlags::IN]),
        )
    {
        if let Some(fd) = pipe {
            *slot = Some(fds.len());
            fds.push(PollFd::from_borrowed_fd(fd, flags));
        }
    }
    let timeout = Timespec::try_from(left).unwrap_or(Timespec {
        tv_sec: i64::MAX,
        tv_nsec: 0,
    });
    match rustix::event::poll(&mut fds, Some(&timeout)) {
        Ok(_) => {
            Ok(Some(slots.map(|slot| {
                slot.is_some_and(|i| !fds[i].revents().is_empty())
            })))
        }
        Err(rustix::io::Errno::INTR) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Reads what a non-blocking pipe holds now into `buf`; `false` once it ended (or failed).
fn drain_ready<R: Read>(pipe: &mut Option<R>, buf: &mut Vec<u8>) -> bool {
    let Some(reader) = pipe.as_mut() else {
        return false;
    };
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// Kills the child (by its own handle, so only the process we started) and reaps it.
fn kill_and_reap(child: &mut Child) {
    // The child may have exited just now; kill then fails harmlessly and wait reaps it.
    let _ = child.kill();
    let _ = child.wait();
}

/// Maps a finished tool's status to an error kind, or `None` for success.
fn exit_kind(status: ExitStatus, stderr: &[u8]) -> Option<ToolErrorKind> {
    if status.success() {
        return None;
    }
    let stderr = juju_error_text(stderr);
    Some(match status.code() {
        Some(2) => ToolErrorKind::Usage { stderr },
        Some(code) => ToolErrorKind::Runtime { code, stderr },
        None => ToolErrorKind::Killed { stderr },
    })
}

/// The tool's stderr as text: lossy UTF-8, trimmed, without Juju's `ERROR ` prefix, capped.
fn juju_error_text(stderr: &[u8]) -> String {
    let capped = &stderr[..stderr.len().min(MAX_STDERR_BYTES)];
    let text = String::from_utf8_lossy(capped);
    let text = text.trim();
    let text = text.strip_prefix("ERROR ").unwrap_or(text);
    let mut text = text.to_owned();
    if stderr.len() > MAX_STDERR_BYTES {
        text.push_str(" [...]");
    }
    text
}

fn parse_json(out: &[u8]) -> Result<serde_json::Value, String> {
    if out.iter().all(u8::is_ascii_whitespace) {
        return Err("no output".to_owned());
    }
    serde_json::from_slice(out).map_err(|e| format!("not JSON: {e}"))
}

fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a map",
    }
}

/// A map of strings; `null` (Juju's output for "nothing") is the empty map.
fn decode_string_map(value: serde_json::Value) -> Result<Databag, String> {
    match value {
        serde_json::Value::Null => Ok(Databag::new()),
        serde_json::Value::Object(map) => map
            .into_iter()
            .map(|(key, value)| match value {
                serde_json::Value::String(s) => Ok((key, s)),
                other => Err(format!(
                    "value of key {key:?} is {}, expected a string",
                    kind_of(&other)
                )),
            })
            .collect(),
        other => Err(format!(
            "expected a map of strings, got {}",
            kind_of(&other)
        )),
    }
}

/// A list of strings each parsed as `T`; `null` is the empty list.
fn decode_list<T: std::str::FromStr>(value: serde_json::Value, what: &str) -> Result<Vec<T>, String>
where
    T::Err: std::fmt::Display,
{
    let items = match value {
        serde_json::Value::Null => return Ok(Vec::new()),
        serde_json::Value::Array(items) => items,
        other => {
            return Err(format!(
                "expected a list of {what}s, got {}",
                kind_of(&other)
            ))
        }
    };
    items
        .into_iter()
        .map(|item| match item {
            serde_json::Value::String(s) => s.parse().map_err(|e| format!("{e}")),
            other => Err(format!("expected a {what}, got {}", kind_of(&other))),
        })
        .collect()
}

fn decode_status(value: serde_json::Value) -> Result<WorkloadStatus, String> {
    let serde_json::Value::Object(map) = value else {
        return Err(format!("expected a status map, got {}", kind_of(&value)));
    };
    let kind = match map.get("status") {
        Some(serde_json::Value::String(s)) => s.parse()?,
        Some(other) => {
            return Err(format!(
                "\"status\" is {}, expected a string",
                kind_of(other)
            ))
        }
        None => return Err("no \"status\" key".to_owned()),
    };
    let message = match map.get("message") {
        Some(serde_json::Value::String(s)) => s.clone(),
        None | Some(serde_json::Value::Null) => String::new(),
        Some(other) => {
            return Err(format!(
                "\"message\" is {}, expected a string",
                kind_of(other)
            ))
        }
    };
    Ok(WorkloadStatus { kind, message })
}

fn invalid_argument(shown: String, reason: String) -> ToolError {
    // Juju would reject (or silently mangle) such an argument; refuse before running the tool.
    ToolError::new(shown, ToolErrorKind::Usage { stderr: reason })
}

/// Juju's rule for secret field names: `^[a-z](?:-?[a-z0-9]){2,}$` (so also safe as a file
/// name).
pub(crate) fn is_secret_field(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() >= 3
        && bytes[0].is_ascii_lowercase()
        && !name.ends_with('-')
        && !name.contains("--")
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// The secret's values, each in a file of a fresh private directory (removed on drop).
struct SecretFiles {
    dir: tempfile::TempDir,
    fields: Vec<String>,
}

impl SecretFiles {
    fn write(tool: &str, content: &SecretContent) -> Result<Self, ToolError> {
        let content = content.values();
        if let Some(bad) = content.keys().find(|k| !is_secret_field(k)) {
            return Err(invalid_argument(
                tool.to_owned(),
                format!("key {bad:?} not valid"),
            ));
        }
        let spawn = |e| ToolError::new(tool, ToolErrorKind::Spawn(e));
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let dir = tempfile::Builder::new()
            .prefix("juju-secret-")
            .tempdir()
            .map_err(spawn)?;
        // Only this user (the agent runs as the same user) may read the values.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .map_err(spawn)?;
        for (field, value) in content {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(dir.path().join(field))
                .map_err(spawn)?;
            file.write_all(value.as_bytes()).map_err(spawn)?;
        }
        Ok(Self {
            dir,
            fields: content.keys().cloned().collect(),
        })
    }

    fn dir(&self) -> String {
        self.dir.path().to_string_lossy().into_owned()
    }

    fn fields(&self) -> Vec<&str> {
        self.fields.iter().map(String::as_str).collect()
    }
}

/// `secret-info-get --format=json`: `{"<id>": {"revision": N, "label": "...", ...}}`.
fn decode_secret_info(value: serde_json::Value) -> Result<SecretSummary, String> {
    let serde_json::Value::Object(map) = value else {
        return Err(format!("expected a map, got {}", kind_of(&value)));
    };
    let mut entries = map.into_iter();
    let (Some((id, info)), None) = (entries.next(), entries.next()) else {
        return Err("expected exactly one secret".to_owned());
    };
    let uri: SecretUri = id.parse().map_err(|e| format!("{e}"))?;
    let revision = info
        .get("revision")
        .and_then(serde_json::Value::as_u64)
        .and_then(|r| u32::try_from(r).ok())
        .ok_or("no numeric \"revision\"")?;
    let label = info
        .get("label")
        .and_then(serde_json::Value::as_str)
        .filter(|l| !l.is_empty())
        .map(str::to_owned);
    Ok(SecretSummary {
        uri,
        label,
        revision,
    })
}

impl HookTools for ProcessHookTools {
    fn relation_ids(&mut self, endpoint: &Endpoint) -> Result<Vec<RelationId>, ToolError> {
        self.read("relation-ids", &argv::relation_ids(endpoint), |v| {
            decode_list(v, "relation id")
        })
    }

    fn relation_list(&mut self, relation: &RelationId) -> Result<Vec<UnitName>, ToolError> {
        self.read("relation-list", &argv::relation_list(relation), |v| {
            decode_list(v, "unit name")
        })
    }

    fn relation_get(
        &mut self,
        relation: &RelationId,
        owner: &BagOwner,
    ) -> Result<Databag, ToolError> {
        let args = argv::relation_get(relation, owner);
        self.read("relation-get", &args, decode_string_map)
    }

    fn relation_set(
        &mut self,
        relation: &RelationId,
        scope: WriteScope,
        changes: &Databag,
    ) -> Result<(), ToolError> {
        let args = argv::relation_set(relation, scope);
        let body = serde_json::to_vec(changes).map_err(|e| {
            invalid_argument(
                command_line("relation-set", &args),
                format!("cannot encode: {e}"),
            )
        })?;
        self.run("relation-set", &args, Some(body)).map(drop)
    }

    fn is_leader(&mut self) -> Result<bool, ToolError> {
        self.read("is-leader", &argv::is_leader(), |v| match v {
            serde_json::Value::Bool(b) => Ok(b),
            other => Err(format!("expected a boolean, got {}", kind_of(&other))),
        })
    }

    fn leader_get(&mut self) -> Result<Databag, ToolError> {
        self.read("leader-get", &argv::leader_get(), decode_string_map)
    }

    fn leader_set(&mut self, changes: &Databag) -> Result<(), ToolError> {
        // leader-set has no --file: the pairs go on the command line. Errors show only the keys,
        // since leader data may be secret.
        let pairs: Vec<String> = changes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let shown = std::iter::once("leader-set".to_owned())
            .chain(changes.iter().map(|(k, v)| {
                let value = if v.is_empty() { "" } else { "..." };
                format!("{k}={value}")
            }))
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(key) = changes
            .keys()
            .find(|k| k.is_empty() || k.contains('=') || k.starts_with('-'))
        {
            return Err(invalid_argument(
                shown,
                format!("key {key:?} cannot be passed to leader-set"),
            ));
        }
        self.run_shown("leader-set", &pairs, &shown, None).map(drop)
    }

    fn status_set(&mut self, status: &WorkloadStatus) -> Result<(), ToolError> {
        self.run("status-set", &argv::status_set(status), None)
            .map(drop)
    }

    fn status_get(&mut self) -> Result<WorkloadStatus, ToolError> {
        self.read("status-get", &argv::status_get(), decode_status)
    }

    fn juju_log(&mut self, level: LogLevel, message: &str) -> Result<(), ToolError> {
        self.run("juju-log", &argv::juju_log(level, message), None)
            .map(drop)
    }

    fn config_get(&mut self) -> Result<Config, ToolError> {
        self.read("config-get", &argv::config_get(), |v| match v {
            serde_json::Value::Null => Ok(Config::new()),
            serde_json::Value::Object(map) => Ok(map.into_iter().collect()),
            other => Err(format!("expected a map, got {}", kind_of(&other))),
        })
    }

    fn secret_add(
        &mut self,
        content: &SecretContent,
        owner: SecretOwnerKind,
        label: Option<&str>,
    ) -> Result<SecretUri, ToolError> {
        let files = SecretFiles::write("secret-add", content)?;
        let args = argv::secret_add(owner, label, &files.fields(), &files.dir());
        let out = self.run("secret-add", &args, None)?;
        String::from_utf8_lossy(&out).trim().parse().map_err(|e| {
            ToolError::new(
                command_line("secret-add", &args),
                ToolErrorKind::Decode {
                    reason: format!("expected a secret URI: {e}"),
                },
            )
        })
    }

    fn secret_get(
        &mut self,
        uri: Option<&SecretUri>,
        label: Option<&str>,
        revision: SecretRevision,
    ) -> Result<SecretContent, ToolError> {
        let args = argv::secret_get(uri, label, revision);
        self.read("secret-get", &args, |v| {
            let values = decode_string_map(v)?;
            SecretContent::new(values).map_err(|e| e.to_string())
        })
    }

    fn secret_set(&mut self, uri: &SecretUri, content: &SecretContent) -> Result<(), ToolError> {
        let files = SecretFiles::write("secret-set", content)?;
        let args = argv::secret_set(uri, &files.fields(), &files.dir());
        self.run("secret-set", &args, None).map(drop)
    }

    fn secret_grant(
        &mut self,
        uri: &SecretUri,
        relation: &RelationId,
        unit: Option<&UnitName>,
    ) -> Result<(), ToolError> {
        let args = argv::secret_access(uri, relation, unit);
        self.run("secret-grant", &args, None).map(drop)
    }

    fn secret_revoke(
        &mut self,
        uri: &SecretUri,
        relation: &RelationId,
        unit: Option<&UnitName>,
    ) -> Result<(), ToolError> {
        let args = argv::secret_access(uri, relation, unit);
        self.run("secret-revoke", &args, None).map(drop)
    }

    fn secret_remove(&mut self, uri: &SecretUri) -> Result<(), ToolError> {
        self.run("secret-remove", &argv::secret_remove(uri), None)
            .map(drop)
    }

    fn secret_remove_revision(&mut self, uri: &SecretUri, revision: u32) -> Result<(), ToolError> {
        let args = argv::secret_remove_revision(uri, revision);
        self.run("secret-remove", &args, None).map(drop)
    }

    fn secret_ids(&mut self) -> Result<Vec<SecretUri>, ToolError> {
        self.read("secret-ids", &argv::secret_ids(), |v| {
            decode_list(v, "secret URI")
        })
    }

    fn secret_info_get(
        &mut self,
        uri: Option<&SecretUri>,
        label: Option<&str>,
    ) -> Result<SecretSummary, ToolError> {
        let args = argv::secret_info_get(uri, label);
        self.read("secret-info-get", &args, decode_secret_info)
    }

    fn state_get(&mut self) -> Result<Databag, ToolError> {
        self.read("state-get", &argv::state_get(), decode_string_map)
    }

    fn state_set(&mut self, values: &Databag) -> Result<(), ToolError> {
        let args = argv::state_set();
        let body = serde_json::to_vec(values).map_err(|e| {
            invalid_argument(
                command_line("state-set", &args),
                format!("cannot encode: {e}"),
            )
        })?;
        self.run("state-set", &args, Some(body)).map(drop)
    }

    fn state_delete(&mut self, key: &str) -> Result<(), ToolError> {
        self.run("state-delete", &argv::state_delete(key), None)
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::StatusKind;

    #[test]
    fn juju_error_text_drops_only_the_leading_error_word() {
        assert_eq!(
            juju_error_text(b"ERROR permission denied\n"),
            "permission denied"
        );
        assert_eq!(
            juju_error_text(b"ERROR yaml: unmarshal errors:\n  line 1: ERROR x\n"),
            "yaml: unmarshal errors:\n  line 1: ERROR x"
        );
        assert_eq!(juju_error_text(b"  plain text \n"), "plain text");
        assert_eq!(juju_error_text(b"\xff\xfe"), "\u{fffd}\u{fffd}");
    }

    #[test]
    fn a_sub_second_timeout_reads_as_one_second() {
        let kind = |ms| {
            ProcessHookTools::new()
                .timeout(Duration::from_millis(ms))
                .timeout_kind()
        };
        assert!(matches!(kind(300), ToolErrorKind::Timeout { seconds: 1 }));
        assert!(matches!(
            kind(60_000),
            ToolErrorKind::Timeout { seconds: 60 }
        ));
        assert!(matches!(
            kind(60_001),
            ToolErrorKind::Timeout { seconds: 61 }
        ));
        assert_eq!(ProcessHookTools::new().time_limit(), DEFAULT_TOOL_TIMEOUT);
    }

    #[test]
    fn string_maps_are_strict() {
        let ok = serde_json::json!({"a": "1", "b": ""});
        assert_eq!(decode_string_map(ok).unwrap().len(), 2);
        assert!(decode_string_map(serde_json::Value::Null)
            .unwrap()
            .is_empty());
        for bad in [
            serde_json::json!({"a": 1}),
            serde_json::json!({"a": null}),
            serde_json::json!({"a": ["x"]}),
            serde_json::json!("a"),
            serde_json::json!(true),
        ] {
            assert!(decode_string_map(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn lists_parse_every_item() {
        let ids: Vec<RelationId> =
            decode_list(serde_json::json!(["proxy:1", "proxy:10"]), "relation id").unwrap();
        assert_eq!(ids.len(), 2);
        let bad = decode_list::<UnitName>(serde_json::json!(["etcd/0", "etcd"]), "unit name");
        assert!(bad.unwrap_err().contains("etcd"));
    }

    #[test]
    fn status_needs_a_known_status_word() {
        let status =
            decode_status(serde_json::json!({"status": "blocked", "status-data": {}})).unwrap();
        assert_eq!(status, WorkloadStatus::new(StatusKind::Blocked, ""));
        assert!(decode_status(serde_json::json!({"status": "BLOCKED"})).is_err());
        assert!(decode_status(serde_json::json!([])).is_err());
    }

    #[test]
    fn secret_field_names_follow_juju() {
        for good in ["client-ca", "abc", "a1b", "client-key2"] {
            assert!(is_secret_field(good), "{good}");
        }
        for bad in [
            "ab",
            "Client",
            "client_ca",
            "-abc",
            "abc-",
            "a--b",
            "../x",
            "1ab",
            "",
        ] {
            assert!(!is_secret_field(bad), "{bad}");
        }
    }

    #[test]
    fn secret_info_is_keyed_by_id() {
        let info = decode_secret_info(serde_json::json!({
            "cu9pk5rr0ui3c8lb2fmg": {"revision": 3, "label": "creds", "owner": "application"}
        }))
        .unwrap();
        assert_eq!(info.uri.to_string(), "secret:cu9pk5rr0ui3c8lb2fmg");
        assert_eq!((info.revision, info.label.as_deref()), (3, Some("creds")));
        assert!(decode_secret_info(serde_json::json!({})).is_err());
        assert!(
            decode_secret_info(serde_json::json!({"cu9pk5rr0ui3c8lb2fmg": {"label": "l"}}))
                .is_err()
        );
        assert!(decode_secret_info(serde_json::json!({"x": {"revision": 1}})).is_err());
    }

    #[test]
    fn empty_output_is_not_json() {
        assert_eq!(parse_json(b" \n").unwrap_err(), "no output");
        assert!(parse_json(b"{} {}").is_err());
    }
}
