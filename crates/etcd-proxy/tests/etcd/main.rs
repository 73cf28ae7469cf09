//! End-to-end tests against real etcd processes (3-member TLS clusters on 127.0.0.1).
//!
//! etcd comes from `ETCD_BIN`/`ETCDCTL_BIN` or PATH; without it the tests print a loud
//! `SKIPPED` line, except under `CI` or `ETCD_PROXY_REQUIRE_ETCD=1`, where they fail.

mod endpoints;
mod harness;
mod membership;
mod proxy;
pub mod support;
