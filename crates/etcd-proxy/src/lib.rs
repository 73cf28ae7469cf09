//! The Juju `etcd-proxy` relation interface: the provider publishes an etcd cluster's
//! membership and TLS client credentials; the requirer validates them, saves the credentials
//! and renders a local etcd proxy service.
//!
//! The wire contract (keys, flags, what changed from the 2016 Python layer) is in
//! `docs/wire-contract.md` at the repository root.
//!
//! - [`Requirer::sync`] reads what changed on the relation (the fewest hook-tool calls, see
//!   [`view`]), derives the flags and sets the workload status; [`RequirerReport`] hands out
//!   the [`ClusterString`] and [`ClientCredentials`]; [`save_client_credentials`] writes them.
//! - [`Provider::publish`] validates and publishes a [`Publication`] on every relation id;
//!   [`Provider::sync`] keeps new relations up to date and derives `{endpoint}.connected`.
//! - [`decide`] is the sans-I/O core both use (plain data in, decisions out), for other
//!   front ends (the Python package); wire version 2 (credentials in a Juju secret, the
//!   publication in the application databag) is negotiated per relation id.
//! - Both change a [`juju_hooks::UnitState`] in memory; save it with a
//!   [`juju_hooks::FlagStore`] only when the hook's work succeeded.
//!
//! # A Rust charm's `main`
//!
//! A requirer charm whose every hook runs one binary (its `dispatch` execs it): read the
//! relation, and once the data is valid, save the credentials and run the local proxy.
//! Flags and kept data are saved only when the hook succeeds ([`juju_hooks::transact`]).
//! [`LocalProxy::ensure`] logs what it had to guess with `juju-log` and says so in the
//! workload status. `examples/rust-requirer` is a complete charm built this way.
//!
//! ```no_run
//! use etcd_proxy::proxy::Systemctl;
//! use etcd_proxy::{
//!     set_status_if_changed, CredentialPaths, InterfaceError, LocalProxy, ProxyPlan, Requirer,
//! };
//! use juju_hooks::{transact, CachedTools, Endpoint, FileFlagStore, JujuContext, ProcessHookTools};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let ctx = JujuContext::from_env()?;
//!     let mut tools = CachedTools::new(ProcessHookTools::new(), ctx.unit.clone());
//!     let mut store = FileFlagStore::in_charm_dir(&ctx.charm_dir, "my-charm");
//!     let endpoint: Endpoint = "proxy".parse()?;
//!     let plan = ProxyPlan::new(
//!         "/etc/systemd/system/etcd-proxy.service".into(),
//!         CredentialPaths::in_dir("/etc/ssl/etcd".as_ref()),
//!     );
//!     transact(&mut store, |state| {
//!         // The status is set once per hook: by `ensure`, or here while it cannot run.
//!         let requirer = Requirer::new(endpoint.clone()).without_status();
//!         let report = requirer.sync(&ctx, &mut tools, state)?;
//!         if report.cluster().is_some() && report.credentials().is_some() {
//!             let mut systemd = Systemctl::default();
//!             let proxy = LocalProxy::new(endpoint.clone());
//!             proxy.ensure(&ctx, &mut tools, &report, &plan, Some(&mut systemd), state)?;
//!         } else {
//!             set_status_if_changed(&mut tools, state, &report.status)?;
//!         }
//!         Ok::<(), InterfaceError>(())
//!     })?;
//!     Ok(())
//! }
//! ```
//!
//! # A requirer hook on the in-memory model
//!
//! ```
//! use etcd_proxy::Requirer;
//! use juju_hooks::testing::{run, HookInvocation, Model};
//! use juju_hooks::{FlagStore, MemoryFlagStore, UnitName};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // etcd/0 and kube/0 related on `proxy`, all hooks run.
//! let (mut model, number) = Model::with_relation(("etcd", 1), ("kube", 1), "proxy", "etcd-proxy")?;
//! let etcd: UnitName = "etcd/0".parse()?;
//! let kube: UnitName = "kube/0".parse()?;
//! // etcd/0 publishes a plain-http cluster string, as the deployed Python provider would.
//! let bag = model.relations.get_mut(&number).unwrap().unit_bags.get_mut(&etcd).unwrap();
//! bag.insert("cluster".into(), "etcd0=http://10.0.0.1:2380".into());
//!
//! // kube/0's proxy-relation-changed hook: sync, then save the flags because it succeeded.
//! let mut store = MemoryFlagStore::new();
//! let rid = model.relation_id(number, &kube).unwrap();
//! let hook = HookInvocation::changed(kube.clone(), rid, etcd);
//! let outcome = run(&model, &hook, "/var/lib/juju/charm".as_ref(), |ctx, tools| {
//!     let mut state = store.load()?;
//!     let report = Requirer::new("proxy".parse()?).sync(ctx, tools, &mut state)?;
//!     assert_eq!(report.cluster().unwrap().to_string(), "etcd0=http://10.0.0.1:2380");
//!     store.save(&state)?;
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! assert!(outcome.result.is_ok());
//! let flags = store.load()?.flags;
//! assert!(flags.contains("proxy.connected") && flags.contains("proxy.available"));
//! assert!(!flags.contains("proxy.tls.available"));
//! // A first run reads everything once: relation-ids, relation-list, the provider's
//! // application databag (wire version 2), one relation-get per unit. Later `-changed`
//! // hooks read only the unit that changed.
//! let reads: Vec<String> = outcome.calls.iter().map(|c| c.command_line()).collect();
//! assert_eq!(reads, [
//!     "relation-ids --format=json proxy",
//!     "relation-list --format=json -r proxy:0",
//!     "relation-get --format=json -r proxy:0 --app - etcd",
//!     "relation-get --format=json -r proxy:0 - etcd/0",
//!     "status-set active proxy: etcd cluster of 1 member(s)",
//! ]);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod big_rsa;
pub mod cluster;
pub mod credentials;
pub mod decide;
pub mod endpoints;
mod error;
pub mod files;
mod local_proxy;
pub mod membership;
mod provider;
pub mod proxy;
mod requirer;
mod save;
mod state;
mod status;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;
pub mod view;
pub mod wire;

pub use error::InterfaceError;
pub use files::{ensure_file, FileError, Ownership};
pub use local_proxy::{LocalProxy, ProxyOutcome, ProxyPlan};
pub use provider::{Provider, ProviderReport, Publication};
pub use requirer::{choose, Chosen, Requirer, RequirerReport};
pub use save::{save_client_credentials, CredentialPaths};
pub use status::{set_status_if_changed, status_is_current};

pub use cluster::{
    ClusterEntry, ClusterString, ClusterStringError, EtcdUrl, MemberName, MemberNameError,
    UrlError, UrlHost, UrlScheme,
};
pub use credentials::{
    ClientCredentials, CredentialKey, CredentialsError, CredentialsProblem, Proofs, SubjectAltName,
};
pub use wire::{ClientUrlsField, ClusterField, CredentialsField, InvalidValue, RemoteData};
