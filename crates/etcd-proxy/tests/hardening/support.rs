//! Shared helpers: a seeded RNG, publications, and one requirer hook on the in-memory model.

use std::path::Path;

use etcd_proxy::testing::TestPki;
use etcd_proxy::{save_client_credentials, CredentialPaths, InterfaceError, Ownership, Requirer};
use juju_hooks::testing::{HookInvocation, Model};
use juju_hooks::{Databag, Endpoint, FlagStore, RelationId, UnitName};

pub const ENDPOINT: &str = "proxy";

pub fn endpoint() -> Endpoint {
    ENDPOINT.parse().unwrap()
}

pub fn unit(name: &str) -> UnitName {
    name.parse().unwrap()
}

/// xorshift64*: tiny, seeded, so a failing run can be repeated with the seed it prints.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform enough in `0..=max`.
    pub fn below_or_eq(&mut self, max: u64) -> u64 {
        self.next_u64() % (max + 1)
    }
}

/// The seed from `HARDENING_SEED`, else a fixed default.
pub fn seed() -> u64 {
    std::env::var("HARDENING_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_CAFE_F00D_0001)
}

pub fn bag(pairs: &[(&str, &str)]) -> Databag {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A complete, valid publication from `pki` with `cluster`.
pub fn publication(pki: &TestPki, cluster: &str) -> Databag {
    bag(&[
        ("cluster", cluster),
        ("client_ca", &pki.ca_pem),
        ("client_cert", &pki.client.cert_pem),
        ("client_key", &pki.client.key_pem),
    ])
}

/// `etcd` (one unit) related to `kube` (one unit) on `proxy`, settled; the relation number.
pub fn related_model() -> (Model, u32) {
    related_model_with(1)
}

/// `etcd` with `etcd_units` units related to one `kube` unit on `proxy`, settled.
pub fn related_model_with(etcd_units: u32) -> (Model, u32) {
    Model::with_relation(("etcd", etcd_units), ("kube", 1), ENDPOINT, "etcd-proxy").unwrap()
}

/// Replaces what `etcd/0` published, as if it had committed `bag`.
pub fn set_remote_bag(model: &mut Model, number: u32, bag: &Databag) {
    set_unit_bag(model, number, &unit("etcd/0"), bag);
}

/// Replaces what `of` published (keeping the addresses Juju seeds), as if it had committed
/// `bag`.
pub fn set_unit_bag(model: &mut Model, number: u32, of: &UnitName, bag: &Databag) {
    let rel = model.relations.get_mut(&number).unwrap();
    let mut new = rel.unit_bags.get(of).cloned().unwrap_or_default();
    new.retain(|k, _| k.ends_with("-address") || k == "egress-subnets");
    new.extend(bag.iter().map(|(k, v)| (k.clone(), v.clone())));
    rel.unit_bags.insert(of.clone(), new);
}

/// `upgrade-charm` on `kube/0`: a hook that re-reads everything.
pub fn upgrade_hook() -> HookInvocation {
    HookInvocation::new(unit("kube/0"), "upgrade-charm")
}

/// `proxy-relation-changed` on `kube/0` for `etcd/0`.
pub fn changed_hook(model: &Model, number: u32) -> HookInvocation {
    let rid: RelationId = model.relation_id(number, &unit("kube/0")).unwrap();
    HookInvocation::changed(unit("kube/0"), rid, unit("etcd/0"))
}

/// What a requirer charm does in every hook: sync, save the credentials when valid, and
/// commit the state only if all of that succeeded. Returns the hook's result.
pub fn requirer_hook(
    model: &mut Model,
    hook: &HookInvocation,
    store: &mut dyn FlagStore,
    creds_dir: &Path,
) -> Result<etcd_proxy::RequirerReport, InterfaceError> {
    let mut report = None;
    let outcome = juju_hooks::testing::run(model, hook, Path::new("/charm"), |ctx, tools| {
        let mut state = store.load()?;
        let r = Requirer::new(endpoint()).sync(ctx, tools, &mut state)?;
        if let Some(credentials) = r.credentials() {
            save_client_credentials(
                credentials,
                &CredentialPaths::in_dir(creds_dir),
                Ownership::default(),
            )?;
        }
        store.save(&state)?;
        report = Some(r);
        Ok::<(), InterfaceError>(())
    })
    .unwrap();
    *model = outcome.model;
    outcome.result.map(|()| report.unwrap())
}
