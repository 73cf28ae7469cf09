//! The provider's flag and publications across hooks, on the in-memory model.

use std::collections::BTreeMap;

use etcd_proxy::testing::TestPki;
use etcd_proxy::Publication;
use juju_hooks::testing::{EndpointRole, HookInvocation, RelationEnd};

use crate::support::{app, creds, endpoint, unit, Fault, World, INTERFACE};

const CLUSTER: &str = "etcd0=https://10.0.0.1:2380,etcd1=https://10.0.0.2:2380";

fn relation_sets(world: &World) -> Vec<String> {
    world
        .log
        .iter()
        .flat_map(|r| r.calls.iter())
        .map(|c| c.command_line())
        .filter(|c| c.starts_with("relation-set"))
        .collect()
}

/// Adds a second requirer application `web` and relates it to `etcd`.
fn relate_web(world: &mut World) -> u32 {
    let requires = BTreeMap::from([(endpoint(), (EndpointRole::Requires, INTERFACE.into()))]);
    world.model.deploy(&app("web"), requires, 2).unwrap();
    let (number, hooks) = world
        .model
        .relate(
            &RelationEnd::new(app("etcd"), endpoint()),
            &RelationEnd::new(app("web"), endpoint()),
        )
        .unwrap();
    world.settle(hooks);
    number
}

#[test]
fn provider_publishes_the_python_wire_format_once_per_relation() {
    let pki = TestPki::generate();
    let mut world = World::new(&[("etcd", 1)]);
    world.publish.insert(
        unit("etcd/0"),
        Publication {
            cluster: Some(CLUSTER.parse().unwrap()),
            credentials: Some(creds(&pki)),
            client_urls: None,
        },
    );
    let n = world.relate("etcd");
    let bag = world.bag(n, "etcd/0");
    assert_eq!(bag["cluster"], CLUSTER);
    assert_eq!(bag["client_ca"], pki.ca_pem);
    assert_eq!(bag["client_cert"], pki.client.cert_pem);
    assert_eq!(bag["client_key"], pki.client.key_pem);
    assert!(bag["client_cert"].contains('\n'), "raw PEM, not JSON");
    assert!(!bag.contains_key("client_urls"));
    assert_eq!(
        relation_sets(&world).len(),
        1,
        "{:?}",
        relation_sets(&world)
    );
    assert!(world
        .flags("etcd/0")
        .contains(&"proxy.connected".to_owned()));

    // Steady state: more hooks publish nothing.
    world.run(HookInvocation::new(unit("etcd/0"), "update-status"));
    world.run(HookInvocation::new(unit("etcd/0"), "config-changed"));
    assert_eq!(relation_sets(&world).len(), 1);

    // A new relation costs one relation-set, on that relation only.
    let m = relate_web(&mut world);
    let sets = relation_sets(&world);
    assert_eq!(sets.len(), 2, "{sets:?}");
    let rid = world.rid(m, "etcd/0");
    assert_eq!(sets[1], format!("relation-set -r {rid} --file -"));
    assert_eq!(world.bag(m, "etcd/0")["cluster"], CLUSTER);
}

#[test]
fn provider_connected_survives_one_departure_and_clears_with_the_last() {
    let mut world = World::new(&[("etcd", 1)]);
    world.relate("etcd");
    relate_web(&mut world);
    assert!(world
        .flags("etcd/0")
        .contains(&"proxy.connected".to_owned()));
    let hooks = world.model.remove_unit(&unit("web/1")).unwrap();
    world.settle(hooks);
    assert!(world
        .flags("etcd/0")
        .contains(&"proxy.connected".to_owned()));
    for gone in ["web/0", "kube/0"] {
        let hooks = world.model.remove_unit(&unit(gone)).unwrap();
        world.settle(hooks);
    }
    assert!(!world
        .flags("etcd/0")
        .contains(&"proxy.connected".to_owned()));
}

#[test]
fn provider_rotation_rewrites_only_what_changed() {
    let pki = TestPki::generate();
    let rotated = TestPki::generate();
    let mut world = World::new(&[("etcd", 1)]);
    let publication = |p: &TestPki| Publication {
        cluster: Some(CLUSTER.parse().unwrap()),
        credentials: Some(creds(p)),
        client_urls: None,
    };
    world.publish.insert(unit("etcd/0"), publication(&pki));
    let n = world.relate("etcd");
    world.publish.insert(unit("etcd/0"), publication(&rotated));
    let next = world.run(HookInvocation::new(unit("etcd/0"), "config-changed"));
    world.settle(next);
    assert_eq!(world.bag(n, "etcd/0")["client_key"], rotated.client.key_pem);
    assert!(world
        .flags("kube/0")
        .contains(&"proxy.tls.changed".to_owned()));
}

#[test]
fn provider_failed_relation_set_is_retried_next_hook() {
    let pki = TestPki::generate();
    let mut world = World::new(&[("etcd", 1)]);
    let n = world.relate("etcd");
    world.publish.insert(
        unit("etcd/0"),
        Publication {
            cluster: Some(CLUSTER.parse().unwrap()),
            credentials: Some(creds(&pki)),
            client_urls: None,
        },
    );
    world.fault = Some(Fault {
        unit: unit("etcd/0"),
        tool: "relation-set",
        code: 1,
    });
    world.run(HookInvocation::new(unit("etcd/0"), "config-changed"));
    assert!(world.log.last().is_some_and(|r| !r.ok));
    assert!(!world.bag(n, "etcd/0").contains_key("cluster"));
    let next = world.run(HookInvocation::new(unit("etcd/0"), "update-status"));
    world.settle(next);
    assert_eq!(world.bag(n, "etcd/0")["cluster"], CLUSTER);
    assert!(world
        .flags("kube/0")
        .contains(&"proxy.available".to_owned()));
}

#[test]
fn provider_replacing_a_publication_removes_keys_it_no_longer_sends() {
    let pki = TestPki::generate();
    let mut world = World::new(&[("etcd", 1)]);
    let urls = etcd_proxy::wire::parse_client_urls("https://127.0.0.1:2379").unwrap();
    world.publish.insert(
        unit("etcd/0"),
        Publication {
            cluster: Some(CLUSTER.parse().unwrap()),
            credentials: Some(creds(&pki)),
            client_urls: Some(urls),
        },
    );
    let n = world.relate("etcd");
    assert_eq!(
        world.bag(n, "etcd/0")["client_urls"],
        "https://127.0.0.1:2379"
    );
    // Confirm the first publication, then replace it.
    world.run(HookInvocation::new(unit("etcd/0"), "update-status"));
    world.publish.insert(
        unit("etcd/0"),
        Publication {
            cluster: Some("etcd0=https://10.0.0.9:2380".parse().unwrap()),
            credentials: None,
            client_urls: Some(Vec::new()),
        },
    );
    let next = world.run(HookInvocation::new(unit("etcd/0"), "config-changed"));
    world.settle(next);
    let bag = world.bag(n, "etcd/0");
    assert_eq!(bag["cluster"], "etcd0=https://10.0.0.9:2380");
    assert!(!bag.contains_key("client_urls"), "{bag:?}");
    assert_eq!(
        bag["client_key"], pki.client.key_pem,
        "credentials left as published"
    );
}

#[test]
fn python_named_setters_publish_in_pieces_and_refuse_a_mismatched_key() {
    use etcd_proxy::{InterfaceError, Provider};
    use juju_hooks::{FlagStore, MemoryFlagStore};

    let pki = TestPki::generate();
    let mut world = World::new(&[("etcd", 1)]);
    let n = world.relate("etcd");
    let mut store = MemoryFlagStore::new();
    let hook = HookInvocation::new(unit("etcd/0"), "config-changed");
    let provider = Provider::new(endpoint());

    // A key that belongs to another certificate: refused, nothing sent.
    let refused = juju_hooks::testing::run(&world.model, &hook, &world.charm_dir, |ctx, tools| {
        let mut state = store.load()?;
        provider.set_client_credentials(
            ctx,
            tools,
            &mut state,
            &pki.unrelated_key_pem,
            &pki.client.cert_pem,
            &pki.ca_pem,
        )?;
        Ok::<(), InterfaceError>(())
    })
    .unwrap();
    let err = refused.result.unwrap_err();
    assert!(err.to_string().contains("client_key"), "{err}");
    assert!(refused.calls.iter().all(|c| c.tool != "relation-set"));

    // The cluster first (old name), then the credentials: both end up on the relation.
    let outcome = juju_hooks::testing::run(&world.model, &hook, &world.charm_dir, |ctx, tools| {
        let mut state = store.load()?;
        provider.provide_cluster_string(ctx, tools, &mut state, &CLUSTER.parse().unwrap())?;
        provider.set_client_credentials(
            ctx,
            tools,
            &mut state,
            &pki.client.key_pem,
            &pki.client.cert_pem,
            &pki.ca_pem,
        )?;
        store.save(&state)?;
        Ok::<(), InterfaceError>(())
    })
    .unwrap();
    assert!(outcome.result.is_ok());
    world.model = outcome.model;
    let bag = world.bag(n, "etcd/0");
    assert_eq!(bag["cluster"], CLUSTER);
    assert_eq!(bag["client_key"], pki.client.key_pem);
}

#[test]
fn a_new_cluster_string_without_client_urls_withdraws_the_old_ones() {
    let pki = TestPki::generate();
    let mut world = World::new(&[("etcd", 1)]);
    let urls = etcd_proxy::wire::parse_client_urls("https://127.0.0.1:2379").unwrap();
    world.publish.insert(
        unit("etcd/0"),
        Publication {
            cluster: Some(CLUSTER.parse().unwrap()),
            credentials: Some(creds(&pki)),
            client_urls: Some(urls),
        },
    );
    let n = world.relate("etcd");
    world.publish.insert(
        unit("etcd/0"),
        Publication {
            cluster: Some("etcd0=https://10.0.0.9:2380".parse().unwrap()),
            credentials: None,
            client_urls: None,
        },
    );
    let next = world.run(HookInvocation::new(unit("etcd/0"), "config-changed"));
    world.settle(next);
    let bag = world.bag(n, "etcd/0");
    assert_eq!(bag["cluster"], "etcd0=https://10.0.0.9:2380");
    assert!(!bag.contains_key("client_urls"), "{bag:?}");
}
