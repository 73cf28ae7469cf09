//! Real etcd processes for tests and demos: a 3-member cluster on 127.0.0.1 with client and
//! peer TLS and client-cert auth on both (as the etcd charm runs it), certificates generated
//! on the spot, free ports, readiness waited for, and every process killed — by its own
//! handle — when its owner is dropped, also when a test fails.
//!
//! Nothing here reads the environment: callers say where the binaries are
//! ([`EtcdBins::locate`] takes the values a caller read). Not for production: these helpers
//! panic when something they need fails.

mod cluster;
mod daemon;
mod pki_files;

use std::ffi::OsStr;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use cluster::{EtcdCluster, EtcdctlTls, MemberAddrs, PUT_GET_LIMIT};
pub use daemon::Daemon;

use crate::proxy::EtcdVersion;
pub use pki_files::{CertFiles, PkiFiles};

/// The etcd binaries to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EtcdBins {
    /// `etcd` (server, gateway, grpc-proxy, v2 proxy).
    pub etcd: PathBuf,
    /// `etcdctl` (v3 API).
    pub etcdctl: PathBuf,
}

impl EtcdBins {
    /// Finds the binaries: `etcd` is `etcd_bin` if given, else the first `etcd` on
    /// `search_path` (a `PATH`-style list); `etcdctl` is `etcdctl_bin` if given, else the one
    /// next to `etcd`, else the first on `search_path`. `None` unless both are files.
    pub fn locate(
        etcd_bin: Option<PathBuf>,
        etcdctl_bin: Option<PathBuf>,
        search_path: Option<&OsStr>,
    ) -> Option<EtcdBins> {
        let on_path = |name: &str| {
            std::env::split_paths(search_path?)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.is_file())
        };
        let etcd = etcd_bin.or_else(|| on_path("etcd"))?;
        let etcdctl = etcdctl_bin
            .or_else(|| {
                let sibling = etcd.with_file_name("etcdctl");
                sibling.is_file().then_some(sibling)
            })
            .or_else(|| on_path("etcdctl"))?;
        (etcd.is_file() && etcdctl.is_file()).then_some(EtcdBins { etcd, etcdctl })
    }

    /// The version `etcd --version` reports.
    ///
    /// # Panics
    /// If etcd cannot be run or prints no version.
    pub fn version(&self) -> EtcdVersion {
        let output = std::process::Command::new(&self.etcd)
            .arg("--version")
            .env_clear()
            .output()
            .expect("etcd --version runs");
        let text = String::from_utf8_lossy(&output.stdout);
        EtcdVersion::parse(&text).unwrap_or_else(|| panic!("no version in {text:?}"))
    }
}

/// A loopback port that was free a moment ago (bind port 0, read it, release it). Callers
/// retry when a process then fails to bind it.
///
/// # Panics
/// If no loopback port can be bound at all.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Polls `check` every 50 ms until it returns `Some` or `limit` passes.
pub fn wait_for<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if start.elapsed() >= limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How long a proxy may take to accept connections.
pub const PROXY_READY_LIMIT: Duration = Duration::from_secs(15);

/// Starts a rendered proxy exactly as its unit would, but without systemd: the `ExecStart`
/// argv, with the environment file's variables as the whole environment. Waits (at most
/// [`PROXY_READY_LIMIT`]) until it accepts connections on `listen`.
///
/// # Errors
/// The proxy exited or never listened; the message ends with its log.
pub fn start_proxy(
    rendered: &crate::proxy::RenderedProxy,
    listen: std::net::SocketAddr,
    log_path: &std::path::Path,
) -> Result<Daemon, String> {
    let mut proxy = Daemon::spawn(
        rendered.mode.as_str(),
        &rendered.exec_start,
        &rendered.environment,
        log_path,
    );
    let ready = wait_for(PROXY_READY_LIMIT, || {
        if !proxy.is_running() {
            return Some(false);
        }
        std::net::TcpStream::connect_timeout(&listen, Duration::from_millis(200))
            .is_ok()
            .then_some(true)
    });
    if ready == Some(true) {
        Ok(proxy)
    } else {
        Err(format!(
            "{} did not listen on {listen}\n{}",
            rendered.mode,
            proxy.log_tail(40)
        ))
    }
}
