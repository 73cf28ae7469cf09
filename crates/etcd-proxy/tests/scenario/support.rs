//! A small world for scenario tests: an in-memory Juju model, one flag store per unit, and
//! the provider and requirer charms as closures over the library.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;

use etcd_proxy::{CredentialPaths, InterfaceError, Ownership, Provider, Publication, Requirer};
use juju_hooks::testing::{EndpointRole, HookInvocation, Model, RelationEnd, ToolCall};
use juju_hooks::{
    AppName, Databag, Endpoint, FlagStore, HookTools, MemoryFlagStore, RelationId, UnitName,
    UnitState,
};

pub const ENDPOINT: &str = "proxy";
pub const INTERFACE: &str = "etcd-proxy";

pub fn creds(pki: &etcd_proxy::testing::TestPki) -> etcd_proxy::ClientCredentials {
    etcd_proxy::ClientCredentials::from_pem(
        pki.ca_pem.clone(),
        pki.client.cert_pem.clone(),
        pki.client.key_pem.clone(),
    )
    .unwrap()
}

pub fn unit(name: &str) -> UnitName {
    name.parse().unwrap()
}

pub fn app(name: &str) -> AppName {
    name.parse().unwrap()
}

pub fn endpoint() -> Endpoint {
    ENDPOINT.parse().unwrap()
}

/// One hook run as the world saw it.
#[derive(Debug)]
#[allow(dead_code)] // `hook` is there for failure messages
pub struct Ran {
    pub hook: HookInvocation,
    pub calls: Vec<ToolCall>,
    pub ok: bool,
}

/// A failure to inject into the next hook run on a unit.
pub struct Fault {
    pub unit: UnitName,
    pub tool: &'static str,
    pub code: i32,
}

pub struct World {
    pub model: Model,
    pub stores: BTreeMap<UnitName, MemoryFlagStore>,
    /// What each provider unit publishes in its hooks (nothing: it only syncs).
    pub publish: BTreeMap<UnitName, Publication>,
    /// Requirer units save their credentials here, if set.
    pub creds_dir: Option<tempfile::TempDir>,
    /// Times a requirer's credential files changed, per unit.
    pub file_changes: BTreeMap<UnitName, usize>,
    pub log: Vec<Ran>,
    pub fault: Option<Fault>,
    pub charm_dir: PathBuf,
}

impl World {
    /// `etcd` apps (name, units) related to one `kube` unit, each relation settled.
    pub fn new(etcd_apps: &[(&str, u32)]) -> Self {
        let mut world = World {
            model: Model::new("scenario"),
            stores: BTreeMap::new(),
            publish: BTreeMap::new(),
            creds_dir: None,
            file_changes: BTreeMap::new(),
            log: Vec::new(),
            fault: None,
            charm_dir: PathBuf::from("/charm"),
        };
        let requires = BTreeMap::from([(endpoint(), (EndpointRole::Requires, INTERFACE.into()))]);
        world.model.deploy(&app("kube"), requires, 1).unwrap();
        for (name, units) in etcd_apps {
            world.deploy_etcd(name, *units);
        }
        world
    }

    pub fn deploy_etcd(&mut self, name: &str, units: u32) {
        let provides = BTreeMap::from([(endpoint(), (EndpointRole::Provides, INTERFACE.into()))]);
        self.model.deploy(&app(name), provides, units).unwrap();
    }

    /// Relates `etcd_app` to `kube` and runs every resulting hook; returns the relation number.
    pub fn relate(&mut self, etcd_app: &str) -> u32 {
        let (number, hooks) = self
            .model
            .relate(
                &RelationEnd::new(app(etcd_app), endpoint()),
                &RelationEnd::new(app("kube"), endpoint()),
            )
            .unwrap();
        self.settle(hooks);
        number
    }

    pub fn rid(&self, number: u32, of: &str) -> RelationId {
        self.model.relation_id(number, &unit(of)).unwrap()
    }

    /// Runs hooks and everything they trigger, like a settled Juju model.
    pub fn settle(&mut self, hooks: Vec<HookInvocation>) {
        let mut queue = VecDeque::from(hooks);
        let mut budget = 10_000;
        while let Some(hook) = queue.pop_front() {
            budget -= 1;
            assert!(budget > 0, "hooks kept firing");
            queue.extend(self.run(hook));
        }
    }

    /// Runs one hook with the charm of the unit's application; returns the hooks it triggers.
    pub fn run(&mut self, hook: HookInvocation) -> Vec<HookInvocation> {
        let unit = hook.unit.clone();
        let mut store = self.stores.remove(&unit).unwrap_or_default();
        let fault = match &self.fault {
            Some(f) if f.unit == unit => self.fault.take(),
            _ => None,
        };
        let publish = self.publish.get(&unit).cloned();
        let creds = self
            .creds_dir
            .as_ref()
            .map(|d| CredentialPaths::in_dir(&d.path().join(unit.to_string().replace('/', "-"))));
        let is_requirer = unit.app().as_str() == "kube";
        let mut files_changed = false;
        let outcome =
            juju_hooks::testing::run(&self.model, &hook, &self.charm_dir, |ctx, tools| {
                if let Some(fault) = &fault {
                    tools.fail(fault.tool, fault.code, "ERROR injected failure");
                }
                let mut state = store.load()?;
                if is_requirer {
                    let report = Requirer::new(endpoint()).sync(ctx, tools, &mut state)?;
                    if let (Some(paths), Some(credentials)) = (&creds, report.credentials()) {
                        files_changed = etcd_proxy::save_client_credentials(
                            credentials,
                            paths,
                            Ownership::default(),
                        )?;
                    }
                } else {
                    let provider = Provider::new(endpoint());
                    match &publish {
                        Some(data) => provider.publish(ctx, tools, &mut state, data)?,
                        None => provider.sync(ctx, tools, &mut state)?,
                    };
                }
                store.save(&state)?;
                Ok::<(), InterfaceError>(())
            })
            .unwrap();
        self.stores.insert(unit.clone(), store);
        if files_changed {
            *self.file_changes.entry(unit).or_default() += 1;
        }
        self.model = outcome.model;
        self.log.push(Ran {
            hook,
            calls: outcome.calls,
            ok: outcome.result.is_ok(),
        });
        outcome.next
    }

    /// The saved state of a unit (default if it never ran).
    pub fn state(&self, of: &str) -> UnitState {
        self.stores
            .get(&unit(of))
            .map(|s| s.load().unwrap())
            .unwrap_or_default()
    }

    pub fn flags(&self, of: &str) -> Vec<String> {
        self.state(of).flags.into_iter().collect()
    }

    /// Overwrites a provider unit's databag as if that unit had committed it, and fires the
    /// `-changed` hooks Juju would.
    pub fn provider_writes(&mut self, number: u32, of: &str, changes: &[(&str, &str)]) {
        let writer = unit(of);
        let rid = self.rid(number, of);
        let changes: Databag = changes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let hook = HookInvocation::new(writer.clone(), "update-status");
        let outcome = juju_hooks::testing::run(&self.model, &hook, &self.charm_dir, |_, tools| {
            tools.relation_set(&rid, juju_hooks::WriteScope::Unit, &changes)
        })
        .unwrap();
        assert!(outcome.result.is_ok());
        self.model = outcome.model;
        self.settle(outcome.next);
    }

    /// Calls made by the last hook run.
    pub fn last_calls(&self) -> Vec<String> {
        self.log
            .last()
            .map(|r| r.calls.iter().map(ToolCall::command_line).collect())
            .unwrap_or_default()
    }

    pub fn bag(&self, number: u32, of: &str) -> Databag {
        self.model.relations[&number]
            .unit_bags
            .get(&unit(of))
            .cloned()
            .unwrap_or_default()
    }
}
