//! Writing the rendered files, and telling the service manager — only when something changed.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::RenderedProxy;
use crate::files::{ensure_file, FileError, Ownership};

/// Installing the rendered files failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// Writing the unit or the environment file failed.
    #[error(transparent)]
    File(#[from] FileError),
    /// A stale file could not be removed.
    #[error("cannot remove {path}: {source}")]
    Remove {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// Writes the environment file (if any) and then the unit at `unit_path`, atomically and
/// only where the contents differ, both mode `0644` (they hold paths and URLs, no secret).
/// When the environment file's contents change, the files of
/// [`RenderedProxy::clear_on_change`] are removed first (v2-proxy's sticky member file would
/// otherwise override the new cluster): removed before, not after, so that a crash in
/// between never leaves a stale member file next to an environment file that a retried
/// run finds unchanged.
///
/// Returns whether anything changed: the caller restarts the service only then.
///
/// # Errors
/// The first file that could not be written or removed.
pub fn install(rendered: &RenderedProxy, unit_path: &Path) -> Result<bool, InstallError> {
    let mut changed = false;
    if let Some((env_path, contents)) = &rendered.env_file {
        // Bounded, and never blocking on a FIFO: anything but our file reads as different.
        let limit = contents.len() as u64;
        let new_contents = juju_hooks::read_regular_file(env_path, limit)
            .ok()
            .as_deref()
            != Some(contents.as_bytes());
        if new_contents {
            for stale in &rendered.clear_on_change {
                match std::fs::remove_file(stale) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(source) => {
                        return Err(InstallError::Remove {
                            path: stale.clone(),
                            source,
                        })
                    }
                }
            }
        }
        // Before the unit, so the unit never names an environment file that is not there yet.
        changed |= ensure_file(env_path, contents.as_bytes(), 0o644, Ownership::default())?;
    }
    changed |= ensure_file(
        unit_path,
        rendered.unit_file.as_bytes(),
        0o644,
        Ownership::default(),
    )?;
    Ok(changed)
}

/// A service-manager operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The unit file name is not a `NAME.service` systemd accepts.
    #[error("not a service unit name: {0:?}")]
    InvalidUnitName(String),
    /// The command could not be started.
    #[error("cannot run {command}: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The command ran and failed.
    #[error("{command} failed ({status}): {stderr}")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// Its standard error, trimmed.
        stderr: String,
    },
}

/// The service manager, as far as the proxy needs it. The real one runs `systemctl`;
/// tests use [`RecordingServiceManager`].
pub trait ServiceManager {
    /// Which manager this is. A proxy last started by another manager (say, a dry run that
    /// only logged) counts as not started, so switching managers restarts it.
    fn name(&self) -> &str {
        "systemd"
    }
    /// Reloads unit files (`systemctl daemon-reload`).
    fn daemon_reload(&mut self) -> Result<(), ServiceError>;
    /// Starts `unit` at boot (`systemctl enable UNIT`).
    fn enable(&mut self, unit: &str) -> Result<(), ServiceError>;
    /// (Re)starts `unit` now (`systemctl restart UNIT`).
    fn restart(&mut self, unit: &str) -> Result<(), ServiceError>;
}

/// When `changed`, reloads unit files, enables and restarts the unit whose file is
/// `unit_path`; otherwise does nothing. Returns whether it restarted.
///
/// # Errors
/// An invalid unit file name, or the first failing operation.
pub fn restart_if_changed(
    changed: bool,
    unit_path: &Path,
    manager: &mut dyn ServiceManager,
) -> Result<bool, ServiceError> {
    if !changed {
        return Ok(false);
    }
    let unit = unit_name(unit_path)?;
    manager.daemon_reload()?;
    manager.enable(&unit)?;
    manager.restart(&unit)?;
    Ok(true)
}

/// The unit name of a unit file path: `NAME.service`, NAME of ASCII letters, digits and
/// `-_.@:`, starting with a letter or digit.
fn unit_name(unit_path: &Path) -> Result<String, ServiceError> {
    let name = unit_path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let stem = name.strip_suffix(".service").unwrap_or_default();
    let valid = stem
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | ':'));
    if valid {
        Ok(name.to_owned())
    } else {
        Err(ServiceError::InvalidUnitName(
            unit_path.display().to_string(),
        ))
    }
}

/// The real service manager: runs `systemctl` by its full path (never through `PATH`,
/// which a hook inherits from wherever it was started).
#[derive(Clone, Debug)]
pub struct Systemctl {
    program: PathBuf,
}

/// Where systemd installs `systemctl`: `/usr/bin` (merged /usr, every Ubuntu Juju deploys
/// today), `/bin` on older layouts.
const SYSTEMCTL_PATHS: [&str; 2] = ["/usr/bin/systemctl", "/bin/systemctl"];

impl Default for Systemctl {
    fn default() -> Self {
        let found = SYSTEMCTL_PATHS
            .iter()
            .find(|path| Path::new(path).is_file())
            .unwrap_or(&SYSTEMCTL_PATHS[0]);
        Systemctl {
            program: PathBuf::from(found),
        }
    }
}

impl Systemctl {
    /// The program run.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// Runs `program` instead of `systemctl` from PATH (e.g. a full path).
    pub fn with_program(program: impl Into<PathBuf>) -> Self {
        Systemctl {
            program: program.into(),
        }
    }

    fn run(&self, args: &[&str]) -> Result<(), ServiceError> {
        let command = format!("{} {}", self.program.display(), args.join(" "));
        let output = Command::new(&self.program)
            .args(args)
            .output()
            .map_err(|source| ServiceError::Spawn {
                command: command.clone(),
                source,
            })?;
        if output.status.success() {
            Ok(())
        } else {
            Err(ServiceError::Failed {
                command,
                status: output.status.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            })
        }
    }
}

impl ServiceManager for Systemctl {
    fn daemon_reload(&mut self) -> Result<(), ServiceError> {
        self.run(&["daemon-reload"])
    }

    fn enable(&mut self, unit: &str) -> Result<(), ServiceError> {
        self.run(&["enable", unit])
    }

    fn restart(&mut self, unit: &str) -> Result<(), ServiceError> {
        self.run(&["restart", unit])
    }
}

/// One operation a [`RecordingServiceManager`] saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceCall {
    /// `daemon-reload`.
    DaemonReload,
    /// `enable UNIT`.
    Enable(String),
    /// `restart UNIT`.
    Restart(String),
}

/// A service manager for tests: records every call and succeeds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordingServiceManager {
    /// The calls, in order.
    pub calls: Vec<ServiceCall>,
}

impl ServiceManager for RecordingServiceManager {
    fn daemon_reload(&mut self) -> Result<(), ServiceError> {
        self.calls.push(ServiceCall::DaemonReload);
        Ok(())
    }

    fn enable(&mut self, unit: &str) -> Result<(), ServiceError> {
        self.calls.push(ServiceCall::Enable(unit.to_owned()));
        Ok(())
    }

    fn restart(&mut self, unit: &str) -> Result<(), ServiceError> {
        self.calls.push(ServiceCall::Restart(unit.to_owned()));
        Ok(())
    }
}
