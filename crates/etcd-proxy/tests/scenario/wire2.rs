//! Wire version 2 on the in-memory model: negotiation both ways, mixed versions, the
//! secret's life (grant, rotation, revoke, removal), fallbacks without secrets or unit
//! state, and what the provider's records cost. Juju rules followed: juju/juju 3.6
//! `worker/uniter/runner/context/context.go` (secrets and state staged until the hook
//! commits), `jujuc/secret-get.go` (first read pins, `--refresh` re-pins), via the model of
//! `juju_hooks::testing`.

use std::collections::{BTreeMap, VecDeque};

use etcd_proxy::testing::TestPki;
use etcd_proxy::{ClientCredentials, Provider, Publication, Requirer};
use juju_hooks::testing::{EndpointRole, HookInvocation, Model, RelationEnd, ToolCall};
use juju_hooks::{AppName, Databag, FlagStore, MemoryFlagStore, StatusKind, UnitName, UnitState};

const CLUSTER: &str = "etcd0=https://10.0.0.1:2380,etcd1=https://10.0.0.2:2380";
const KEYS: [&str; 4] = [
    "client_ca",
    "client_cert",
    "client_key",
    "client_credentials_secret",
];

fn unit(name: &str) -> UnitName {
    name.parse().unwrap()
}

fn app(name: &str) -> AppName {
    name.parse().unwrap()
}

/// What an application's hooks see of Juju.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Juju {
    /// 3.6: secrets and unit state.
    V3_6,
    /// 2.9: unit state, no secrets.
    V2_9,
    /// 2.7: neither.
    V2_7,
}

struct Ran {
    hook: HookInvocation,
    calls: Vec<ToolCall>,
    ok: bool,
}

struct World {
    model: Model,
    juju: BTreeMap<AppName, Juju>,
    stores: BTreeMap<UnitName, MemoryFlagStore>,
    publish: Publication,
    log: Vec<Ran>,
    hooks_run: u64,
    /// Requirer units that saw `proxy.tls.changed` (and cleared it, as a charm would).
    tls_changes: BTreeMap<UnitName, usize>,
    seen: BTreeMap<UnitName, Option<ClientCredentials>>,
    fail_next: Option<UnitName>,
}

impl World {
    fn new(etcd_units: u32, etcd_juju: Juju) -> Self {
        let mut world = World {
            model: Model::new("wire2"),
            juju: BTreeMap::new(),
            stores: BTreeMap::new(),
            publish: Publication::default(),
            log: Vec::new(),
            hooks_run: 0,
            tls_changes: BTreeMap::new(),
            seen: BTreeMap::new(),
            fail_next: None,
        };
        let provides = BTreeMap::from([(
            "proxy".parse().unwrap(),
            (EndpointRole::Provides, "etcd-proxy".into()),
        )]);
        world
            .model
            .deploy(&app("etcd"), provides, etcd_units)
            .unwrap();
        world.juju.insert(app("etcd"), etcd_juju);
        world
    }

    fn requirer(&mut self, name: &str, units: u32, juju: Juju) -> u32 {
        let requires = BTreeMap::from([(
            "proxy".parse().unwrap(),
            (EndpointRole::Requires, "etcd-proxy".into()),
        )]);
        self.model.deploy(&app(name), requires, units).unwrap();
        self.juju.insert(app(name), juju);
        let (number, hooks) = self
            .model
            .relate(
                &RelationEnd::new(app("etcd"), "proxy".parse().unwrap()),
                &RelationEnd::new(app(name), "proxy".parse().unwrap()),
            )
            .unwrap();
        self.settle(hooks);
        number
    }

    fn settle(&mut self, hooks: Vec<HookInvocation>) {
        let mut queue = VecDeque::from(hooks);
        let mut budget = 5_000;
        while let Some(hook) = queue.pop_front() {
            budget -= 1;
            assert!(budget > 0, "hooks kept firing");
            queue.extend(self.run(hook));
        }
    }

    /// Runs a hook on every provider unit (as `config-changed` after new data).
    fn provider_hook(&mut self, name: &str) {
        let units: Vec<UnitName> = self.model.applications[&app("etcd")]
            .units
            .keys()
            .cloned()
            .collect();
        let hooks = units
            .into_iter()
            .map(|u| HookInvocation::new(u, name))
            .collect();
        self.settle(hooks);
    }

    fn run(&mut self, hook: HookInvocation) -> Vec<HookInvocation> {
        let who = hook.unit.clone();
        let juju = self.juju[who.app()];
        let mut store = self.stores.remove(&who).unwrap_or_default();
        self.hooks_run += 1;
        let context_id = format!("{who}-{}-{}", hook.hook, self.hooks_run);
        let fail = self.fail_next.as_ref() == Some(&who);
        if fail {
            self.fail_next = None;
        }
        let publish = self.publish.clone();
        let mut seen = None;
        let mut tls_changed = false;
        let outcome =
            juju_hooks::testing::run(&self.model, &hook, "/charm".as_ref(), |ctx, tools| {
                let mut ctx = ctx.clone();
                ctx.context_id = Some(context_id.clone());
                ctx.juju_version = Some(
                    match juju {
                        Juju::V3_6 => "3.6.1",
                        Juju::V2_9 => "2.9.46",
                        Juju::V2_7 => "2.7.8",
                    }
                    .to_owned(),
                );
                if juju != Juju::V3_6 {
                    tools.lack_secrets();
                }
                if juju == Juju::V2_7 {
                    tools.lack_state();
                }
                let mut state = store.load()?;
                if who.app().as_str() == "etcd" {
                    let provider = Provider::new("proxy".parse()?);
                    if publish.cluster.is_some() || publish.credentials.is_some() {
                        provider.publish(&ctx, tools, &mut state, &publish)?;
                    } else {
                        provider.sync(&ctx, tools, &mut state)?;
                    }
                } else {
                    let report = Requirer::new("proxy".parse()?).sync(&ctx, tools, &mut state)?;
                    seen = Some(report.credentials().cloned());
                    // The charm acts on the flag and clears it.
                    tls_changed = state.flags.remove("proxy.tls.changed");
                }
                if fail {
                    return Err("the charm failed after the command".into());
                }
                store.save(&state)?;
                Ok::<(), Box<dyn std::error::Error>>(())
            })
            .unwrap();
        if let Some(credentials) = seen {
            self.seen.insert(who.clone(), credentials);
        }
        if tls_changed && outcome.result.is_ok() {
            *self.tls_changes.entry(who.clone()).or_default() += 1;
        }
        self.stores.insert(who, store);
        self.model = outcome.model;
        self.log.push(Ran {
            hook,
            calls: outcome.calls,
            ok: outcome.result.is_ok(),
        });
        outcome.next
    }

    fn flags(&self, of: &str) -> Vec<String> {
        self.state(of).flags.into_iter().collect()
    }

    fn state(&self, of: &str) -> UnitState {
        self.stores
            .get(&unit(of))
            .map(|s| s.load().unwrap())
            .unwrap_or_default()
    }

    fn app_bag(&self, number: u32, of: &str) -> Databag {
        self.model.relations[&number]
            .app_bags
            .get(&app(of))
            .cloned()
            .unwrap_or_default()
    }

    fn unit_bag(&self, number: u32, of: &str) -> Databag {
        self.model.relations[&number]
            .unit_bags
            .get(&unit(of))
            .cloned()
            .unwrap_or_default()
    }

    /// Every databag of relation `number`, with its owner.
    fn all_bags(&self, number: u32) -> Vec<(String, Databag)> {
        let rel = &self.model.relations[&number];
        rel.unit_bags
            .iter()
            .map(|(u, b)| (u.to_string(), b.clone()))
            .chain(rel.app_bags.iter().map(|(a, b)| (a.to_string(), b.clone())))
            .collect()
    }

    /// Calls of `tool` by units of `of` since log entry `from`.
    fn calls(&self, from: usize, of: &str, tool: &str) -> Vec<String> {
        self.log[from..]
            .iter()
            .filter(|r| r.hook.unit.app().as_str() == of)
            .flat_map(|r| {
                r.calls
                    .iter()
                    .filter(|c| c.tool == tool)
                    .map(ToolCall::command_line)
            })
            .collect()
    }

    fn status(&self, of: &str) -> (StatusKind, String) {
        let status = self.model.status_get(&unit(of));
        (status.kind, status.message)
    }
}

fn publication(pki: &TestPki) -> Publication {
    Publication {
        cluster: Some(CLUSTER.parse().unwrap()),
        credentials: Some(pki.credentials()),
        client_urls: Some(vec!["https://10.0.0.1:2379".parse().unwrap()]),
    }
}

#[track_caller]
fn assert_no_credential_in_any_bag(world: &World, number: u32, pki: &TestPki) {
    for (owner, bag) in world.all_bags(number) {
        for key in ["client_ca", "client_cert", "client_key"] {
            assert!(!bag.contains_key(key), "{owner} holds {key}");
        }
        for value in bag.values() {
            assert!(
                !value.contains(&pki.client.key_pem) && !value.contains("PRIVATE KEY"),
                "{owner} holds key material"
            );
        }
    }
}

#[test]
fn a_juju_3_requirer_gets_the_publication_in_the_application_databag_and_a_secret() {
    let pki = TestPki::generate();
    let mut world = World::new(2, Juju::V3_6);
    world.publish = publication(&pki);
    let n = world.requirer("kube", 1, Juju::V3_6);

    assert_eq!(world.app_bag(n, "kube")["wire_version"], "2");
    let published = world.app_bag(n, "etcd");
    assert_eq!(
        published.keys().collect::<Vec<_>>(),
        ["client_credentials_secret", "client_urls", "cluster"]
    );
    assert_eq!(published["cluster"], CLUSTER);
    // The provider units write no interface key of their own there.
    for etcd in ["etcd/0", "etcd/1"] {
        let bag = world.unit_bag(n, etcd);
        for key in KEYS.iter().chain(&["cluster", "client_urls"]) {
            assert!(!bag.contains_key(*key), "{etcd} wrote {key}");
        }
    }
    assert_no_credential_in_any_bag(&world, n, &pki);
    // One application-owned secret, granted to this relation.
    assert_eq!(world.model.secrets.len(), 1);
    let uri = world.model.secrets.keys().next().unwrap().to_string();
    assert_eq!(published["client_credentials_secret"], uri);
    let flags = world.flags("kube/0");
    for flag in ["proxy.connected", "proxy.available", "proxy.tls.available"] {
        assert!(flags.contains(&flag.to_owned()), "{flags:?}");
    }
    assert_eq!(
        world.status("kube/0"),
        (
            StatusKind::Active,
            "proxy: etcd cluster of 2 member(s), TLS credentials ready".to_owned()
        )
    );
    assert_eq!(
        world.seen[&unit("kube/0")].as_ref(),
        Some(&pki.credentials())
    );
}

#[test]
fn a_requirer_that_does_not_advertise_gets_raw_keys_in_every_unit_databag() {
    let pki = TestPki::generate();
    let mut world = World::new(2, Juju::V3_6);
    world.publish = publication(&pki);
    let n = world.requirer("old", 1, Juju::V2_9);
    assert!(!world.app_bag(n, "old").contains_key("wire_version"));
    assert!(world.app_bag(n, "etcd").is_empty());
    for etcd in ["etcd/0", "etcd/1"] {
        assert_eq!(world.unit_bag(n, etcd)["client_key"], pki.client.key_pem);
    }
    assert!(world.model.secrets.is_empty());
    assert!(world
        .flags("old/0")
        .contains(&"proxy.tls.available".to_owned()));
}

#[test]
fn mixed_versions_on_two_relation_ids_each_get_their_own() {
    let pki = TestPki::generate();
    let mut world = World::new(1, Juju::V3_6);
    world.publish = publication(&pki);
    let old = world.requirer("old", 1, Juju::V2_9);
    let new = world.requirer("new", 2, Juju::V3_6);
    assert_eq!(
        world.unit_bag(old, "etcd/0")["client_key"],
        pki.client.key_pem
    );
    assert_no_credential_in_any_bag(&world, new, &pki);
    for requirer in ["old/0", "new/0", "new/1"] {
        assert!(
            world
                .flags(requirer)
                .contains(&"proxy.tls.available".to_owned()),
            "{requirer}"
        );
        assert_eq!(
            world.seen[&unit(requirer)].as_ref(),
            Some(&pki.credentials())
        );
    }
    // The old requirer cannot read the secret: it is granted to the new relation only.
    let uri: juju_hooks::SecretUri = world.app_bag(new, "etcd")["client_credentials_secret"]
        .parse()
        .unwrap();
    let record = &world.model.secrets[&uri];
    assert_eq!(record.grants.keys().collect::<Vec<_>>(), [&new]);
}

#[test]
fn rotation_is_one_secret_set_and_one_tls_changed_per_requirer_unit() {
    let pki = TestPki::generate();
    let mut world = World::new(2, Juju::V3_6);
    world.publish = publication(&pki);
    world.requirer("kube", 2, Juju::V3_6);
    let before = world.log.len();
    let changes_before = world.tls_changes.clone();

    let pki2 = TestPki::generate();
    world.publish = publication(&pki2);
    world.provider_hook("config-changed");

    let sets = world.calls(before, "etcd", "secret-set");
    assert_eq!(sets.len(), 1, "only the leader, once: {sets:?}");
    let refreshes = world.calls(before, "kube", "secret-get");
    assert!(
        refreshes.iter().all(|c| c.ends_with("--refresh")) && refreshes.len() == 2,
        "{refreshes:?}"
    );
    for requirer in ["kube/0", "kube/1"] {
        let was = changes_before.get(&unit(requirer)).copied().unwrap_or(0);
        assert_eq!(world.tls_changes[&unit(requirer)], was + 1, "{requirer}");
        assert_eq!(
            world.seen[&unit(requirer)].as_ref(),
            Some(&pki2.credentials())
        );
    }
    // No relation data changed: the rotation travelled in the secret alone.
    assert!(world.calls(before, "etcd", "relation-set").is_empty());
}

/// Juju fires `secret-remove` on the owner (the leader, for an application-owned secret) with
/// `JUJU_SECRET_REVISION` once no consumer tracks that revision (juju/juju 3.6
/// `worker/uniter/secrets`, `jujuc/secret-remove.go` `--revision`): the provider removes it,
/// so revisions do not pile up one per rotation, and keeps the latest.
#[test]
fn revisions_no_requirer_tracks_are_removed_and_the_latest_kept() {
    let mut world = World::new(2, Juju::V3_6);
    world.publish = publication(&TestPki::generate());
    world.requirer("kube", 2, Juju::V3_6);
    let uri = world.model.secrets.keys().next().unwrap().clone();
    let before = world.log.len();
    for _ in 0..2 {
        world.publish = publication(&TestPki::generate());
        world.provider_hook("config-changed");
    }
    let record = &world.model.secrets[&uri];
    assert_eq!(record.latest, 3);
    assert_eq!(
        record.revisions.keys().copied().collect::<Vec<_>>(),
        [3],
        "revisions 1 and 2 removed"
    );
    let removals = world.calls(before, "etcd", "secret-remove");
    assert_eq!(
        removals,
        [
            format!("secret-remove {uri} --revision 1"),
            format!("secret-remove {uri} --revision 2"),
        ]
    );
    let remove_hooks: Vec<String> = world.log[before..]
        .iter()
        .filter(|r| r.hook.hook == "secret-remove")
        .map(|r| r.hook.unit.to_string())
        .collect();
    assert_eq!(remove_hooks, ["etcd/0", "etcd/0"], "on the leader only");
    assert!(world.log.iter().all(|r| r.ok));
    // The requirers still read the latest revision.
    world.provider_hook("update-status");
    assert_eq!(world.status("kube/0").0, StatusKind::Active);
}

#[test]
fn the_grant_is_revoked_when_a_relation_breaks_and_the_secret_removed_when_unused() {
    let pki = TestPki::generate();
    let mut world = World::new(1, Juju::V3_6);
    world.publish = publication(&pki);
    let a = world.requirer("kube", 1, Juju::V3_6);
    let b = world.requirer("web", 1, Juju::V3_6);
    assert_eq!(world.model.secrets.len(), 1);
    let uri = world.model.secrets.keys().next().unwrap().clone();
    assert_eq!(world.model.secrets[&uri].grants.len(), 2);

    let before = world.log.len();
    let hooks = world.model.unrelate(a).unwrap();
    world.settle(hooks);
    let revokes = world.calls(before, "etcd", "secret-revoke");
    assert_eq!(revokes.len(), 1, "{revokes:?}");
    assert!(revokes[0].contains(&format!("proxy:{a}")));
    assert_eq!(
        world.model.secrets[&uri].grants.keys().collect::<Vec<_>>(),
        [&b]
    );

    let hooks = world.model.unrelate(b).unwrap();
    world.settle(hooks);
    assert!(
        world.model.secrets.is_empty(),
        "removed with its last relation"
    );
    assert!(world.log.iter().all(|r| r.ok));
}

#[test]
fn without_secrets_the_application_databag_carries_the_raw_keys() {
    let pki = TestPki::generate();
    let mut world = World::new(1, Juju::V2_9);
    world.publish = publication(&pki);
    let n = world.requirer("kube", 1, Juju::V3_6);
    let published = world.app_bag(n, "etcd");
    assert_eq!(published["client_key"], pki.client.key_pem);
    assert!(!published.contains_key("client_credentials_secret"));
    assert!(!world.unit_bag(n, "etcd/0").contains_key("client_key"));
    assert!(world
        .flags("kube/0")
        .contains(&"proxy.tls.available".to_owned()));
}

#[test]
fn a_secret_that_cannot_be_read_blocks_names_the_secret_and_writes_nothing() {
    let pki = TestPki::generate();
    let mut world = World::new(1, Juju::V3_6);
    world.publish = publication(&pki);
    let n = world.requirer("kube", 1, Juju::V3_6);
    // The grant disappears behind the provider's back (an operator, a bug).
    let uri = world.model.secrets.keys().next().unwrap().clone();
    world.model.secrets.get_mut(&uri).unwrap().grants.clear();
    world.model.secrets.get_mut(&uri).unwrap().consumers.clear();
    let rid = world.model.relation_id(n, &unit("kube/0")).unwrap();
    let hooks = vec![HookInvocation::app_changed(
        unit("kube/0"),
        rid,
        app("etcd"),
    )];
    // Forget what the requirer read, so it must read the secret again.
    let mut state = world.state("kube/0");
    state.data.remove("etcd-proxy/proxy/requirer");
    let mut store = MemoryFlagStore::new();
    store.save(&state).unwrap();
    world.stores.insert(unit("kube/0"), store);
    world.settle(hooks);

    assert!(
        world.log.last().unwrap().ok,
        "invalid data is not a hook failure"
    );
    let (kind, message) = world.status("kube/0");
    assert_eq!(kind, StatusKind::Blocked);
    assert!(
        message.contains(&format!("client_credentials_secret: {uri} cannot be read")),
        "{message}"
    );
    let flags = world.flags("kube/0");
    assert!(
        !flags.contains(&"proxy.tls.available".to_owned()),
        "{flags:?}"
    );
    assert!(!flags.contains(&"proxy.available".to_owned()), "{flags:?}");
}

#[test]
fn with_unit_state_the_hook_after_a_publish_confirms_with_one_state_get() {
    let pki = TestPki::generate();
    for (juju, state_gets, own_reads) in [(Juju::V2_9, 1, 0), (Juju::V2_7, 0, 1)] {
        let mut world = World::new(1, juju);
        world.publish = publication(&pki);
        world.requirer("old", 1, Juju::V2_9);
        // A new publication in one hook, then the next hook.
        world.publish.cluster = Some("etcd0=https://10.0.0.1:2380".parse().unwrap());
        world.publish.client_urls = None;
        world.provider_hook("config-changed");
        let writes = world
            .log
            .iter()
            .rposition(|r| r.hook.hook == "config-changed")
            .unwrap();
        assert_eq!(
            world.log[writes]
                .calls
                .iter()
                .filter(|c| c.tool == "relation-set")
                .count(),
            1
        );
        world.provider_hook("update-status");
        let before = world.log.len();
        world.provider_hook("update-status");
        let last = &world.log[before - 1];
        assert_eq!(last.hook.hook, "update-status");
        let count = |tool: &str| last.calls.iter().filter(|c| c.tool == tool).count();
        let own = last
            .calls
            .iter()
            .filter(|c| c.tool == "relation-get" && c.args.ends_with("etcd/0"))
            .count();
        assert_eq!(count("state-get"), state_gets, "{juju:?}: {:?}", last.calls);
        assert_eq!(own, own_reads, "{juju:?}: {:?}", last.calls);
        assert_eq!(count("relation-set"), 0, "{juju:?}");
        // Steady state: nothing at all.
        let calls: Vec<&str> = world.log[before].calls.iter().map(|c| c.tool).collect();
        assert!(calls.is_empty(), "{juju:?}: {calls:?}");
    }
}

#[test]
fn a_publish_in_a_hook_that_fails_is_made_again_with_unit_state() {
    let pki = TestPki::generate();
    let mut world = World::new(1, Juju::V2_9);
    world.requirer("old", 1, Juju::V2_9);
    world.publish = publication(&pki);
    world.fail_next = Some(unit("etcd/0"));
    world.provider_hook("config-changed");
    assert!(!world.log.last().unwrap().ok);
    assert!(!world.unit_bag(0, "etcd/0").contains_key("cluster"));
    // Juju discarded the write and the receipt with it: the next hook writes again, with
    // no read of its own databag.
    let before = world.log.len();
    world.provider_hook("update-status");
    assert_eq!(world.calls(before, "etcd", "relation-set").len(), 1);
    assert!(world
        .calls(before, "etcd", "relation-get")
        .iter()
        .all(|c| !c.ends_with("etcd/0")));
    assert_eq!(world.unit_bag(0, "etcd/0")["cluster"], CLUSTER);
}

#[test]
fn a_v2_requirer_reads_one_application_databag_not_its_units() {
    let pki = TestPki::generate();
    let mut world = World::new(5, Juju::V3_6);
    world.publish = publication(&pki);
    let n = world.requirer("kube", 1, Juju::V3_6);
    // A later -changed of one provider unit: membership only, no databag.
    let rid = world.model.relation_id(n, &unit("kube/0")).unwrap();
    let before = world.log.len();
    world.settle(vec![HookInvocation::changed(
        unit("kube/0"),
        rid.clone(),
        unit("etcd/3"),
    )]);
    let calls: Vec<String> = world.log[before]
        .calls
        .iter()
        .map(ToolCall::command_line)
        .collect();
    assert_eq!(calls, [format!("relation-list --format=json -r {rid}")]);
    // A fresh start reads the application databag and the secret, no unit databag.
    world.stores.remove(&unit("kube/0"));
    let before = world.log.len();
    world.settle(vec![HookInvocation::new(unit("kube/0"), "upgrade-charm")]);
    let gets: Vec<String> = world.log[before]
        .calls
        .iter()
        .filter(|c| c.tool == "relation-get")
        .map(ToolCall::command_line)
        .collect();
    assert_eq!(
        gets,
        [format!("relation-get --format=json -r {rid} --app - etcd")]
    );
}

/// Issue 12 item 3: junk in a remote databag never grows the requirer's state, and a refused
/// value is stored once, cut to the size validation allows.
#[test]
fn the_requirers_state_keeps_only_interface_keys_cut_to_size() {
    let pki = TestPki::generate();
    let mut world = World::new(1, Juju::V3_6);
    world.publish = publication(&pki);
    let n = world.requirer("old", 1, Juju::V2_9);
    let state_size = |world: &World| serde_json::to_string(&world.state("old/0")).unwrap().len();
    let healthy = state_size(&world);
    let junk = "j".repeat(10 << 20);
    let rel = world.model.relations.get_mut(&n).unwrap();
    let bag = rel.unit_bags.get_mut(&unit("etcd/0")).unwrap();
    for key in ["junk-1", "junk-2", "junk-3"] {
        bag.insert(key.to_owned(), junk.clone());
    }
    let rid = world.model.relation_id(n, &unit("old/0")).unwrap();
    world.settle(vec![HookInvocation::changed(
        unit("old/0"),
        rid.clone(),
        unit("etcd/0"),
    )]);
    assert!(world.log.last().unwrap().ok);
    assert!(
        state_size(&world) < healthy + 1024,
        "{} bytes",
        state_size(&world)
    );
    assert!(world
        .flags("old/0")
        .contains(&"proxy.tls.available".to_owned()));

    // A refused value: kept once, cut to the limit plus one byte, still refused.
    let rel = world.model.relations.get_mut(&n).unwrap();
    let bag = rel.unit_bags.get_mut(&unit("etcd/0")).unwrap();
    bag.insert("client_key".to_owned(), junk.clone());
    world.settle(vec![HookInvocation::changed(
        unit("old/0"),
        rid,
        unit("etcd/0"),
    )]);
    let size = state_size(&world);
    let limit = etcd_proxy::credentials::MAX_PEM_LEN;
    assert!(size < healthy + limit + 2048, "{size} bytes");
    let (kind, message) = world.status("old/0");
    assert_eq!(kind, StatusKind::Blocked);
    assert!(message.contains("client_key: value too large"), "{message}");
}

/// The requirer's `wire_version` write is confirmed like the provider's records: by the
/// provider's answer, or by one `state-get` of its receipt (never a read per relation).
#[test]
fn the_requirers_advertisement_is_confirmed_by_its_receipt() {
    let mut world = World::new(1, Juju::V3_6);
    // A provider with nothing to publish yet: no answer in its application databag.
    let n = world.requirer("kube", 1, Juju::V3_6);
    assert_eq!(world.app_bag(n, "kube")["wire_version"], "2");
    let rid = world.model.relation_id(n, &unit("kube/0")).unwrap();
    let own = format!("relation-get --format=json -r {rid} --app - kube");
    let reads_own = |world: &World| {
        world
            .log
            .iter()
            .filter(|r| r.hook.unit == unit("kube/0"))
            .flat_map(|r| r.calls.iter().map(ToolCall::command_line))
            .filter(|c| *c == own)
            .count()
    };
    assert_eq!(reads_own(&world), 0);
    let state_gets = world.calls(0, "kube", "state-get").len();
    assert_eq!(state_gets, 1, "one receipt check after the hook that wrote");
    let writes = world.calls(0, "kube", "relation-set").len();
    assert_eq!(writes, 1);
    // Steady state: nothing.
    let before = world.log.len();
    world.settle(vec![HookInvocation::new(unit("kube/0"), "update-status")]);
    assert!(
        world.log[before].calls.is_empty(),
        "{:?}",
        world.log[before].calls
    );
}
