//! Running one hook process the way the Juju unit agent does: find the handler, build the
//! `JUJU_*` environment, run it in the unit's charm dir, and capture its output.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use juju_hooks::testing::HookInvocation;
use wait_timeout::ChildExt;

use crate::error::EmulatorError;
use crate::tools::MODEL_DIR_VAR;

/// The Juju version the emulated agent reports in `JUJU_VERSION`. Where 3.6.x releases
/// differ, the emulator follows 3.6.0 (e.g. `secret-remove --revision` of a missing revision
/// fails the hook at commit; a later 3.6 controller skips it, but the stored sources do not
/// say from which release, so no later version is claimed).
pub const JUJU_VERSION: &str = "3.6.0";

/// Which program runs a hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Handler {
    /// `<charm>/dispatch`, run with `JUJU_DISPATCH_PATH=hooks/<name>`.
    Dispatch(PathBuf),
    /// The legacy `<charm>/hooks/<name>` (or `<charm>/actions/<name>` for an action).
    Hook(PathBuf),
    /// Neither exists: Juju skips the hook as a success.
    Missing,
}

/// Finds the handler of `name` in `location` (`hooks` or `actions`): an executable
/// `dispatch`, else `<location>/<name>`, as juju/juju 3.6 `worker/uniter/runner/runner.go`
/// (`runCharmHookWithLocation`, `discoverHookHandler`) does. A file that exists but is not
/// executable is an error, as it is for Juju.
pub(crate) fn find_handler(
    charm_dir: &Path,
    location: &str,
    name: &str,
) -> Result<Handler, String> {
    let dispatch = charm_dir.join("dispatch");
    if dispatch.exists() {
        return executable(&dispatch).map(|()| Handler::Dispatch(dispatch));
    }
    let legacy = charm_dir.join(location).join(name);
    if legacy.exists() {
        return executable(&legacy).map(|()| Handler::Hook(legacy));
    }
    Ok(Handler::Missing)
}

fn executable(path: &Path) -> Result<(), String> {
    let mode = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o111 == 0 {
        return Err(format!(
            "{}: permission denied (not executable)",
            path.display()
        ));
    }
    Ok(())
}

/// What the hook environment is built from.
pub(crate) struct HookEnv<'a> {
    pub invocation: &'a HookInvocation,
    pub context_id: &'a str,
    pub model_name: &'a str,
    pub model_dir: &'a Path,
    pub charm_dir: &'a Path,
    pub tools_dir: &'a Path,
    /// Test-only additions ([`crate::Emulator::with_extra_env`]); cannot override Juju's
    /// variables (a `PATH` goes between the tools dir and the system path).
    pub extra: &'a BTreeMap<String, String>,
}

/// The `PATH` after the tools dir: the unit agent's own (systemd's default), never the
/// caller's.
pub(crate) const SYSTEM_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/snap/bin";

/// The hook's whole environment: what the unit agent sets and nothing else — `HookVars`
/// ([context/context.go]), `OSDependentEnvVars` for Ubuntu ([context/env.go] `ubuntuEnv`:
/// `APT_LISTCHANGES_FRONTEND`, `DEBIAN_FRONTEND`, `LANG`, `TERM`, `PATH` with the tools dir
/// first), plus `JUJU_EMULATOR_DIR`, which the emulator's tools need.
pub(crate) fn hook_environment(h: &HookEnv<'_>) -> BTreeMap<String, String> {
    let inv = h.invocation;
    let mut env: BTreeMap<String, String> = h
        .extra
        .iter()
        .filter(|(k, _)| !k.starts_with("JUJU_") && !matches!(k.as_str(), "PATH" | "CHARM_DIR"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // The relation environment (and unit, hook, charm dir) as the model defines it.
    env.extend(inv.env(h.model_name, h.charm_dir));
    let agent = format!("unit-{}-{}", inv.unit.app(), inv.unit.number());
    let mut set = |k: &str, v: String| {
        env.insert(k.to_owned(), v);
    };
    let path = match h.extra.get("PATH") {
        Some(extra) => format!("{}:{extra}:{SYSTEM_PATH}", h.tools_dir.display()),
        None => format!("{}:{SYSTEM_PATH}", h.tools_dir.display()),
    };
    set("PATH", path);
    set("APT_LISTCHANGES_FRONTEND", "none".to_owned());
    set("DEBIAN_FRONTEND", "noninteractive".to_owned());
    set("LANG", "C.UTF-8".to_owned());
    set("TERM", "tmux-256color".to_owned());
    set("JUJU_CONTEXT_ID", h.context_id.to_owned());
    set("JUJU_MODEL_UUID", fake_uuid(h.model_name));
    set("JUJU_VERSION", JUJU_VERSION.to_owned());
    set("JUJU_SLA", "unsupported".to_owned());
    set("JUJU_API_ADDRESSES", "127.0.0.1:17070".to_owned());
    set("JUJU_MACHINE_ID", inv.unit.number().to_string());
    set("JUJU_AVAILABILITY_ZONE", String::new());
    set("JUJU_PRINCIPAL_UNIT", String::new());
    set("CLOUD_API_VERSION", String::new());
    for proxy in ["HTTP", "HTTPS", "FTP", "NO"] {
        set(&format!("JUJU_CHARM_{proxy}_PROXY"), String::new());
    }
    set("JUJU_AGENT_SOCKET_NETWORK", "unix".to_owned());
    set(
        "JUJU_AGENT_SOCKET_ADDRESS",
        format!("@{}/agents/{agent}/agent.socket", h.model_dir.display()),
    );
    set(MODEL_DIR_VAR, h.model_dir.display().to_string());
    env
}

/// A stable UUID-shaped id from the model name (only its shape matters to charms).
pub(crate) fn fake_uuid(name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let hex = format!("{h:016x}{:016x}", h.rotate_left(17) ^ 0x5bd1_e995);
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// How a hook process ended.
#[derive(Debug)]
pub(crate) struct ProcessResult {
    /// The exit code; `None` when killed by a signal or timed out.
    pub code: Option<i32>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
}

/// Runs `program` with exactly `env`, in `cwd`, with no stdin, in a process group of its
/// own; after `timeout` (if any) the whole group is killed. Output goes to temporary files
/// rather than pipes, so a daemon the hook leaves behind cannot keep us waiting.
pub(crate) fn run_process(
    program: &Path,
    cwd: &Path,
    env: &BTreeMap<String, String>,
    timeout: Option<Duration>,
    unit: &str,
    hook: &str,
) -> Result<ProcessResult, EmulatorError> {
    use std::os::unix::process::CommandExt;
    let spawn_error = |source| EmulatorError::Spawn {
        unit: unit.to_owned(),
        hook: hook.to_owned(),
        source,
    };
    let mut out = tempfile::tempfile().map_err(spawn_error)?;
    let mut err = tempfile::tempfile().map_err(spawn_error)?;
    let started = Instant::now();
    let mut child = Command::new(program)
        .current_dir(cwd)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(out.try_clone().map_err(spawn_error)?)
        .stderr(err.try_clone().map_err(spawn_error)?)
        .process_group(0)
        .spawn()
        .map_err(spawn_error)?;
    let status = match timeout {
        Some(timeout) => child.wait_timeout(timeout).map_err(spawn_error)?,
        None => Some(child.wait().map_err(spawn_error)?),
    };
    let (code, timed_out) = match status {
        Some(status) => (status.code(), false),
        None => {
            kill_group(&child);
            let _ = child.wait();
            (None, true)
        }
    };
    let duration = started.elapsed();
    Ok(ProcessResult {
        code,
        timed_out,
        stdout: read_all(&mut out),
        stderr: read_all(&mut err),
        duration,
    })
}

/// Kills the process group our child leads (its id is the child's pid: `process_group(0)`).
fn kill_group(child: &std::process::Child) {
    match libc::pid_t::try_from(child.id()) {
        // SAFETY: killpg only sends a signal; the group is the one our own child leads.
        Ok(pgid) if pgid > 0 => unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        },
        _ => {}
    }
}

fn read_all(file: &mut File) -> String {
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(0)).is_ok() {
        let _ = file.read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatch_wins_then_legacy_hooks_then_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            find_handler(dir.path(), "hooks", "install"),
            Ok(Handler::Missing)
        );
        std::fs::create_dir(dir.path().join("hooks")).unwrap();
        let hook = dir.path().join("hooks/install");
        std::fs::write(&hook, "#!/bin/sh\n").unwrap();
        assert!(
            find_handler(dir.path(), "hooks", "install").is_err(),
            "not executable"
        );
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(
            find_handler(dir.path(), "hooks", "install"),
            Ok(Handler::Hook(hook.clone()))
        );
        let dispatch = dir.path().join("dispatch");
        std::fs::write(&dispatch, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&dispatch, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(
            find_handler(dir.path(), "hooks", "install"),
            Ok(Handler::Dispatch(dispatch))
        );
    }

    #[test]
    fn relation_hooks_export_an_empty_remote_unit() {
        let invocation = HookInvocation {
            unit: "a/1".parse().unwrap(),
            hook: "db-relation-broken".into(),
            relation: Some("db:3".parse().unwrap()),
            remote_unit: None,
            remote_app: Some("b".parse().unwrap()),
            departing_unit: None,
            secret: None,
            action: None,
        };
        let extra: BTreeMap<String, String> =
            [("PATH", "/bin"), ("JUJU_STRAY", "x"), ("ETCD_BIN", "/e")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        let env = hook_environment(&HookEnv {
            invocation: &invocation,
            context_id: "a/1-db-relation-broken-1",
            model_name: "m",
            model_dir: Path::new("/m"),
            charm_dir: Path::new("/m/units/a-1/charm"),
            tools_dir: Path::new("/m/tools"),
            extra: &extra,
        });
        assert_eq!(env["PATH"], format!("/m/tools:/bin:{SYSTEM_PATH}"));
        assert_eq!(env["ETCD_BIN"], "/e");
        assert_eq!(env["JUJU_SLA"], "unsupported");
        assert_eq!(env["TERM"], "tmux-256color");
        assert_eq!(env["JUJU_REMOTE_UNIT"], "");
        assert_eq!(env["JUJU_REMOTE_APP"], "b");
        assert_eq!(env["JUJU_RELATION"], "db");
        assert_eq!(env["JUJU_RELATION_ID"], "db:3");
        assert_eq!(env["JUJU_DISPATCH_PATH"], "hooks/db-relation-broken");
        assert_eq!(env["CHARM_DIR"], "/m/units/a-1/charm");
        assert!(!env.contains_key("JUJU_STRAY"));
        assert!(!env.contains_key("JUJU_DEPARTING_UNIT"));
        assert_eq!(fake_uuid("m").len(), 36);
    }
}
