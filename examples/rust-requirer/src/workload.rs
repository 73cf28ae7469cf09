//! What the charm changes on the machine besides files: packages and services. Behind a
//! trait so that tests and dry runs never run `apt-get` or `systemctl`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use etcd_proxy::proxy::{RecordingServiceManager, ServiceError, ServiceManager, Systemctl};

/// Installing a package failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// The command could not be started or failed.
    #[error("{command} failed: {detail}")]
    Command {
        /// The command line.
        command: String,
        /// The exit status and standard error, or why it could not start.
        detail: String,
    },
    /// The dry-run log could not be written.
    #[error("cannot write {path}: {source}")]
    Log {
        /// The log file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// The machine, as far as the charm changes it.
pub trait Workload {
    /// Installs `package` (idempotent: installing an installed package is a no-op).
    ///
    /// # Errors
    /// The package manager failed.
    fn install_package(&mut self, package: &str) -> Result<(), WorkloadError>;

    /// The service manager that (re)starts the proxy.
    fn services(&mut self) -> &mut dyn ServiceManager;
}

/// The real machine: `apt-get` and `systemctl`.
#[derive(Debug, Default)]
pub struct Machine {
    systemctl: Systemctl,
}

impl Workload for Machine {
    fn install_package(&mut self, package: &str) -> Result<(), WorkloadError> {
        // The package lists of a fresh machine may be stale or empty.
        run_apt(&["update", "-q"])?;
        run_apt(&["install", "-y", "-q", "--no-install-recommends", package])
    }

    fn services(&mut self) -> &mut dyn ServiceManager {
        &mut self.systemctl
    }
}

fn run_apt(args: &[&str]) -> Result<(), WorkloadError> {
    let command = format!("apt-get {}", args.join(" "));
    let output = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .output()
        .map_err(|e| WorkloadError::Command {
            command: command.clone(),
            detail: e.to_string(),
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(WorkloadError::Command {
        command,
        detail: format!(
            "{}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ),
    })
}

/// `dry-run`: appends each change it would make, as the command line, to a log file.
#[derive(Debug)]
pub struct DryRun {
    log: PathBuf,
}

/// The dry-run log's name in the charm directory.
pub const DRY_RUN_LOG: &str = "dry-run.log";

impl DryRun {
    /// Logs to `<charm_dir>/dry-run.log`.
    pub fn in_charm_dir(charm_dir: &Path) -> Self {
        Self {
            log: charm_dir.join(DRY_RUN_LOG),
        }
    }

    /// The log file.
    pub fn log(&self) -> &Path {
        &self.log
    }

    fn record(&self, line: &str) -> Result<(), std::io::Error> {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        writeln!(file, "{line}")
    }

    fn record_service(&self, line: String) -> Result<(), ServiceError> {
        self.record(&line).map_err(|source| ServiceError::Spawn {
            command: format!("{line} (dry run, logging to {})", self.log.display()),
            source,
        })
    }
}

impl Workload for DryRun {
    fn install_package(&mut self, package: &str) -> Result<(), WorkloadError> {
        self.record(&format!("apt-get install -y {package}"))
            .map_err(|source| WorkloadError::Log {
                path: self.log.clone(),
                source,
            })
    }

    fn services(&mut self) -> &mut dyn ServiceManager {
        self
    }
}

impl ServiceManager for DryRun {
    fn name(&self) -> &str {
        // Started only on paper: turning the dry run off restarts for real.
        "dry-run"
    }

    fn daemon_reload(&mut self) -> Result<(), ServiceError> {
        self.record_service("systemctl daemon-reload".into())
    }

    fn enable(&mut self, unit: &str) -> Result<(), ServiceError> {
        self.record_service(format!("systemctl enable {unit}"))
    }

    fn restart(&mut self, unit: &str) -> Result<(), ServiceError> {
        self.record_service(format!("systemctl restart {unit}"))
    }
}

/// For tests in memory: records installs and service calls, changes nothing.
#[derive(Debug, Default)]
pub struct RecordingWorkload {
    /// The packages installed, in order.
    pub installed: Vec<String>,
    /// The service calls, in order.
    pub services: RecordingServiceManager,
}

impl Workload for RecordingWorkload {
    fn install_package(&mut self, package: &str) -> Result<(), WorkloadError> {
        self.installed.push(package.to_owned());
        Ok(())
    }

    fn services(&mut self) -> &mut dyn ServiceManager {
        &mut self.services
    }
}

/// The workload the `dry-run` option asks for.
pub fn for_config(dry_run: bool, charm_dir: &Path) -> Box<dyn Workload> {
    if dry_run {
        Box::new(DryRun::in_charm_dir(charm_dir))
    } else {
        Box::new(Machine::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_run_logs_the_command_lines_it_would_run() {
        let dir = tempfile::tempdir().unwrap();
        let mut dry = DryRun::in_charm_dir(dir.path());
        dry.install_package("etcd-server").unwrap();
        dry.services().daemon_reload().unwrap();
        dry.services().restart("etcd-proxy.service").unwrap();
        let log = std::fs::read_to_string(dir.path().join(DRY_RUN_LOG)).unwrap();
        assert_eq!(
            log,
            "apt-get install -y etcd-server\nsystemctl daemon-reload\n\
             systemctl restart etcd-proxy.service\n"
        );
    }

    #[test]
    fn dry_run_reports_a_log_it_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let mut dry = DryRun::in_charm_dir(&dir.path().join("missing"));
        let err = dry.install_package("etcd-server").unwrap_err();
        assert!(err.to_string().contains("dry-run.log"), "{err}");
        assert!(dry.services().enable("x.service").is_err());
    }
}
