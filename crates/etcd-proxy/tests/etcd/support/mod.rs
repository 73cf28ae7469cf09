//! A reusable real-etcd harness: binaries, certificates, free ports and supervised processes.

pub mod cluster;
pub mod daemon;
pub mod pki;

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The etcd binaries a test runs.
#[derive(Clone, Debug)]
pub struct EtcdBins {
    /// `etcd` (server, gateway, grpc-proxy, v2 proxy).
    pub etcd: PathBuf,
    /// `etcdctl` (v3 API).
    pub etcdctl: PathBuf,
}

/// Finds etcd via `ETCD_BIN` (else PATH) and etcdctl via `ETCDCTL_BIN` (else next to etcd,
/// else PATH).
///
/// Returns `None` after printing a loud `SKIPPED` line when etcd is missing; panics instead
/// when `CI` is set or `ETCD_PROXY_REQUIRE_ETCD=1`, because CI must never skip silently.
pub fn etcd_bins(test: &str) -> Option<EtcdBins> {
    let etcd = std::env::var_os("ETCD_BIN")
        .map(PathBuf::from)
        .or_else(|| on_path("etcd"));
    let etcdctl = std::env::var_os("ETCDCTL_BIN")
        .map(PathBuf::from)
        .or_else(|| {
            let sibling = etcd.as_ref()?.with_file_name("etcdctl");
            sibling.is_file().then_some(sibling)
        })
        .or_else(|| on_path("etcdctl"));
    match (etcd, etcdctl) {
        (Some(etcd), Some(etcdctl)) if etcd.is_file() && etcdctl.is_file() => {
            Some(EtcdBins { etcd, etcdctl })
        }
        (etcd, etcdctl) => {
            let required = std::env::var_os("CI").is_some()
                || std::env::var("ETCD_PROXY_REQUIRE_ETCD").as_deref() == Ok("1");
            let msg = format!(
                "SKIPPED: etcd not found ({test}): etcd={etcd:?} etcdctl={etcdctl:?}; \
                 install etcd-server and etcd-client or set ETCD_BIN/ETCDCTL_BIN"
            );
            if required {
                panic!("{msg} (CI or ETCD_PROXY_REQUIRE_ETCD=1: etcd is required)");
            }
            // Straight to stderr, past the test harness's capture, so a skip is never silent.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "\n========== {msg} ==========\n");
            None
        }
    }
}

/// Returns the etcd binaries or ends the test early (see [`etcd_bins`]).
#[macro_export]
macro_rules! require_etcd {
    () => {
        match $crate::support::etcd_bins(module_path!()) {
            Some(bins) => bins,
            None => return,
        }
    };
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A loopback port that was free a moment ago (bind port 0, read it, release it). Callers
/// retry when a process then fails to bind it.
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

impl EtcdBins {
    /// `(major, minor)` from `etcd --version` (`etcd Version: 3.4.23`).
    pub fn version(&self) -> (u32, u32) {
        let output = std::process::Command::new(&self.etcd)
            .arg("--version")
            .output()
            .expect("etcd --version");
        let text = String::from_utf8_lossy(&output.stdout);
        let version = text
            .lines()
            .find_map(|l| l.strip_prefix("etcd Version: "))
            .unwrap_or_else(|| panic!("no version in {text:?}"));
        let mut parts = version.trim().split('.').map(|p| p.parse::<u32>().unwrap());
        (parts.next().unwrap(), parts.next().unwrap())
    }
}
