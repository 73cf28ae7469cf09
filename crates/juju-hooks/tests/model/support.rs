//! Shared builders: a provider `etcd` (endpoint `proxy`) and a requirer `kube` (endpoint
//! `etcd`) of interface `etcd-proxy`, so relation ids differ per side (`proxy:N` / `etcd:N`).

use std::collections::BTreeMap;
use std::path::Path;

use juju_hooks::testing::{EndpointRole, HookInvocation, Model, RelationEnd};
use juju_hooks::{AppName, Databag, Endpoint, RelationId, UnitName};

pub fn unit(name: &str) -> UnitName {
    name.parse().unwrap()
}

pub fn app(name: &str) -> AppName {
    name.parse().unwrap()
}

pub fn rid(id: &str) -> RelationId {
    id.parse().unwrap()
}

pub fn endpoint(name: &str) -> Endpoint {
    name.parse().unwrap()
}

pub fn bag(pairs: &[(&str, &str)]) -> Databag {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

pub fn charm_dir() -> &'static Path {
    Path::new("charm")
}

pub fn etcd_end() -> RelationEnd {
    RelationEnd::new(app("etcd"), endpoint("proxy"))
}

pub fn kube_end() -> RelationEnd {
    RelationEnd::new(app("kube"), endpoint("etcd"))
}

/// `etcd` and `kube` deployed with the given unit counts, not related yet.
pub fn deployed(etcd_units: u32, kube_units: u32) -> Model {
    let mut model = Model::new("test");
    let endpoints =
        |name: &str, role| BTreeMap::from([(endpoint(name), (role, "etcd-proxy".to_owned()))]);
    model
        .deploy(
            &app("etcd"),
            endpoints("proxy", EndpointRole::Provides),
            etcd_units,
        )
        .unwrap();
    model
        .deploy(
            &app("kube"),
            endpoints("etcd", EndpointRole::Requires),
            kube_units,
        )
        .unwrap();
    model
}

/// `etcd` and `kube` related, with every relation hook run by a charm that did nothing.
pub fn related(etcd_units: u32, kube_units: u32) -> (Model, u32) {
    let mut model = deployed(etcd_units, kube_units);
    let (number, hooks) = model.relate(&etcd_end(), &kube_end()).unwrap();
    model.settle(hooks).unwrap();
    (model, number)
}

/// A hook in one readable line: `unit hook relation remote=.. departing=..`.
pub fn describe(hook: &HookInvocation) -> String {
    let mut line = format!("{} {}", hook.unit, hook.hook);
    if let Some(relation) = &hook.relation {
        line += &format!(" {relation}");
    }
    if let Some(remote) = &hook.remote_unit {
        line += &format!(" remote={remote}");
    }
    if let Some(app) = &hook.remote_app {
        line += &format!(" app={app}");
    }
    if let Some(departing) = &hook.departing_unit {
        line += &format!(" departing={departing}");
    }
    line
}

pub fn describe_all(hooks: &[HookInvocation]) -> Vec<String> {
    hooks.iter().map(describe).collect()
}

/// Runs `hooks` one by one as no-op hooks, stopping at (and returning) the first one whose
/// description starts with `stop_at`, which is left unrun.
pub fn run_until(model: &mut Model, hooks: Vec<HookInvocation>, stop_at: &str) -> HookInvocation {
    for hook in hooks {
        if describe(&hook).starts_with(stop_at) {
            return hook;
        }
        model.begin_hook(&hook).unwrap();
        let next = model.commit(&hook.unit, Default::default());
        assert!(
            next.is_empty(),
            "no-op hook {} fired {next:?}",
            describe(&hook)
        );
    }
    panic!("no hook starting with {stop_at:?}");
}
