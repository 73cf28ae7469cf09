//! An example machine charm in Rust: a local etcd proxy fed by the `etcd-proxy` relation.
//!
//! The charm directory (`charm/`) holds `metadata.yaml`, `config.yaml` and a `dispatch`
//! that execs `bin/rust-proxy-requirer`, this crate's binary. Every hook runs [`handle`]:
//!
//! 1. installs the etcd package once (`apt-get install etcd-server`), retried by later hooks
//!    until it succeeds;
//! 2. [`etcd_proxy::Requirer::sync`] reads what changed on the relation and derives the flags;
//! 3. with valid credentials (`proxy.tls.available`), saves them to `credentials-dir`
//!    (key `0600`, certificates `0644`, written only when they differ);
//! 4. with a cluster too (`proxy.available`), renders the proxy's systemd unit
//!    ([`etcd_proxy::proxy`]) for `proxy-mode` and `listen-address`, installs it, and
//!    restarts the service only when the unit, the credentials or the proxy's last inputs
//!    changed;
//! 5. sets the status: the library's description of the relation, or `blocked` with the
//!    reason when the configuration or the certificate does not fit the mode.
//!
//! The machine is behind [`Workload`]: [`Machine`] runs `apt-get` and `systemctl`,
//! [`DryRun`] (option `dry-run`) logs the command lines instead, and [`RecordingWorkload`]
//! records them in memory for tests.
//!
//! The same logic runs on the in-memory Juju model, with no process and no file outside a
//! temporary directory:
//!
//! ```
//! use juju_hooks::testing::{run, HookInvocation, Model};
//! use juju_hooks::{HookTools, UnitName, UnitState};
//! use rust_proxy_requirer::{handle, CharmConfig, RecordingWorkload};
//!
//! let model = Model::new("example");
//! # let mut model = model;
//! let unit: UnitName = "kube/0".parse()?;
//! model.deploy(&"kube".parse()?, Default::default(), 1)?;
//! let charm_dir = tempfile::tempdir()?;
//! let mut state = UnitState::default();
//! let mut workload = RecordingWorkload::default();
//! let outcome = run(&model, &HookInvocation::new(unit, "install"), charm_dir.path(), |ctx, tools| {
//!     let config = CharmConfig::from_config(&tools.config_get()?);
//!     handle(ctx, tools, &mut state, &config, &mut workload).map(|_| ())
//! })?;
//! outcome.result?;
//! assert_eq!(workload.installed, ["etcd-server"]);
//! assert_eq!(outcome.model.status_get(&"kube/0".parse()?).message,
//!            "waiting for a relation to etcd on endpoint proxy");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod charm;
mod config;
mod workload;

pub use charm::{handle, CharmError, HookSummary, ENDPOINT, STATE_NAMESPACE};
pub use config::{CharmConfig, ProxySettings};
pub use workload::{
    for_config, DryRun, Machine, RecordingWorkload, Workload, WorkloadError, DRY_RUN_LOG,
};
