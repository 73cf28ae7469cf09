//! The real-etcd harness lives in `etcd_proxy::testing::etcd` (so the demo can use it too);
//! this module adds what only tests do: finding etcd through the environment, and skipping
//! loudly (or failing under CI) when it is missing.

pub use etcd_proxy::testing::etcd::*;

/// The etcd binaries from `ETCD_BIN`/`ETCDCTL_BIN` or PATH.
///
/// Returns `None` after printing a loud `SKIPPED` line when etcd is missing; panics instead
/// when `CI` is set or `ETCD_PROXY_REQUIRE_ETCD=1`, because CI must never skip silently.
pub fn etcd_bins(test: &str) -> Option<EtcdBins> {
    let etcd = std::env::var_os("ETCD_BIN").map(Into::into);
    let etcdctl = std::env::var_os("ETCDCTL_BIN").map(Into::into);
    let path = std::env::var_os("PATH");
    if let Some(bins) = EtcdBins::locate(etcd.clone(), etcdctl.clone(), path.as_deref()) {
        return Some(bins);
    }
    let required = std::env::var_os("CI").is_some()
        || std::env::var("ETCD_PROXY_REQUIRE_ETCD").as_deref() == Ok("1");
    let msg = format!(
        "SKIPPED: etcd not found ({test}): ETCD_BIN={etcd:?} ETCDCTL_BIN={etcdctl:?}, none on \
         PATH; install etcd-server and etcd-client or set ETCD_BIN/ETCDCTL_BIN"
    );
    if required {
        panic!("{msg} (CI or ETCD_PROXY_REQUIRE_ETCD=1: etcd is required)");
    }
    // Straight to stderr, past the test harness's capture, so a skip is never silent.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n========== {msg} ==========\n");
    None
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
