//! The requirer's flags, status and files across every hook, on the in-memory model.

use etcd_proxy::testing::TestPki;
use etcd_proxy::Publication;
use juju_hooks::testing::HookInvocation;
use juju_hooks::StatusKind;

use crate::support::{creds, unit, World};

const CLUSTER: &str = "etcd0=https://10.0.0.1:2380,etcd1=https://10.0.0.2:2380";
const OTHER_CLUSTER: &str = "etcd0=https://10.0.0.1:2380";

fn full(pki: &TestPki) -> Publication {
    Publication {
        cluster: Some(CLUSTER.parse().unwrap()),
        credentials: Some(creds(pki)),
        client_urls: None,
    }
}

fn kube_flags(world: &World) -> Vec<String> {
    world.flags("kube/0")
}

fn status(world: &World) -> (StatusKind, String) {
    let s = world.model.status_get(&unit("kube/0"));
    (s.kind, s.message)
}

#[test]
fn requirer_flags_follow_data_arriving_cluster_first() {
    let pki = TestPki::generate();
    let mut world = World::new(&[("etcd", 1)]);
    let n = world.relate("etcd");
    assert_eq!(kube_flags(&world), ["proxy.connected"]);
    assert_eq!(status(&world).0, StatusKind::Waiting);

    world.provider_writes(n, "etcd/0", &[("cluster", CLUSTER)]);
    assert_eq!(
        kube_flags(&world),
        [
            "proxy.available",
            "proxy.cluster.changed",
            "proxy.connected"
        ]
    );
    assert_eq!(
        status(&world).0,
        StatusKind::Waiting,
        "https needs credentials"
    );

    let creds = creds(&pki);
    world.provider_writes(
        n,
        "etcd/0",
        &[
            ("client_ca", creds.ca_pem()),
            ("client_cert", creds.cert_pem()),
        ],
    );
    assert!(!kube_flags(&world).contains(&"proxy.tls.available".to_owned()));
    world.provider_writes(n, "etcd/0", &[("client_key", creds.key_pem())]);
    assert!(kube_flags(&world).contains(&"proxy.tls.available".to_owned()));
    assert!(kube_flags(&world).contains(&"proxy.tls.changed".to_owned()));
    assert_eq!(status(&world).0, StatusKind::Active);
}

#[test]
fn requirer_flags_follow_data_arriving_credentials_first() {
    let pki = TestPki::generate();
    let mut world = World::new(&[("etcd", 1)]);
    let n = world.relate("etcd");
    let creds = creds(&pki);
    world.provider_writes(
        n,
        "etcd/0",
        &[
            ("client_ca", creds.ca_pem()),
            ("client_cert", creds.cert_pem()),
            ("client_key", creds.key_pem()),
        ],
    );
    assert_eq!(
        kube_flags(&world),
        [
            "proxy.connected",
            "proxy.tls.available",
            "proxy.tls.changed"
        ]
    );
    world.provider_writes(n, "etcd/0", &[("cluster", CLUSTER)]);
    assert!(kube_flags(&world).contains(&"proxy.available".to_owned()));
}

#[test]
fn requirer_accepts_the_legacy_cluster_string_key() {
    let mut world = World::new(&[("etcd", 1)]);
    let n = world.relate("etcd");
    world.provider_writes(n, "etcd/0", &[("cluster_string", CLUSTER)]);
    assert!(kube_flags(&world).contains(&"proxy.available".to_owned()));
}

#[test]
fn three_units_on_three_relations_then_departures() {
    let pki = TestPki::generate();
    let mut world = World::new(&[("etcd-a", 3), ("etcd-b", 1), ("etcd-c", 1)]);
    for u in ["etcd-a/0", "etcd-a/1", "etcd-a/2", "etcd-b/0", "etcd-c/0"] {
        world.publish.insert(unit(u), full(&pki));
    }
    let a = world.relate("etcd-a");
    world.relate("etcd-b");
    world.relate("etcd-c");
    let flags = kube_flags(&world);
    for f in ["proxy.connected", "proxy.available", "proxy.tls.available"] {
        assert!(flags.contains(&f.to_owned()), "{f} missing from {flags:?}");
    }

    // One of three units departs: nothing is cleared.
    let hooks = world.model.remove_unit(&unit("etcd-a/2")).unwrap();
    world.settle(hooks);
    assert!(kube_flags(&world).contains(&"proxy.tls.available".to_owned()));

    // Whole relations go: the last one clears everything.
    for app in ["etcd-a", "etcd-b"] {
        let number = world
            .model
            .relations
            .iter()
            .find(|(_, r)| r.ends.iter().any(|e| e.app.as_str() == app))
            .map(|(n, _)| *n)
            .unwrap();
        let hooks = world.model.unrelate(number).unwrap();
        world.settle(hooks);
        assert!(kube_flags(&world).contains(&"proxy.available".to_owned()));
    }
    let _ = a;
    let last = *world.model.relations.keys().next().unwrap();
    let hooks = world.model.unrelate(last).unwrap();
    world.settle(hooks);
    let left: Vec<String> = kube_flags(&world)
        .into_iter()
        .filter(|f| !f.ends_with(".changed"))
        .collect();
    assert!(
        left.is_empty(),
        "flags left after the last departure: {left:?}"
    );
    assert_eq!(status(&world).0, StatusKind::Waiting);
}

#[test]
fn departure_of_the_last_unit_clears_the_flags() {
    let pki = TestPki::generate();
    let mut world = World::new(&[("etcd", 1)]);
    world.publish.insert(unit("etcd/0"), full(&pki));
    world.relate("etcd");
    assert!(kube_flags(&world).contains(&"proxy.available".to_owned()));
    let hooks = world.model.remove_unit(&unit("etcd/0")).unwrap();
    world.settle(hooks);
    for f in ["proxy.connected", "proxy.available", "proxy.tls.available"] {
        assert!(!kube_flags(&world).contains(&f.to_owned()), "{f} still set");
    }
}

#[test]
fn removing_a_key_clears_its_flag() {
    let pki = TestPki::generate();
    let mut world = World::new(&[("etcd", 1)]);
    world.publish.insert(unit("etcd/0"), full(&pki));
    let n = world.relate("etcd");
    world.provider_writes(n, "etcd/0", &[("client_key", "")]);
    let flags = kube_flags(&world);
    assert!(!flags.contains(&"proxy.tls.available".to_owned()));
    assert!(flags.contains(&"proxy.available".to_owned()));
    world.provider_writes(n, "etcd/0", &[("cluster", "")]);
    assert!(!kube_flags(&world).contains(&"proxy.available".to_owned()));
}

#[test]
fn garbage_in_each_key_sets_no_flag_and_blocks_naming_the_key() {
    let pki = TestPki::generate();
    let creds = creds(&pki);
    let garbage: [(&str, &str); 5] = [
        ("cluster", "etcd0=https://10.0.0.1:2380\nExecStart=/bin/sh"),
        ("client_ca", "-----BEGIN CERTIFICATE-----\ngarbage\n"),
        ("client_cert", "not a certificate"),
        ("client_key", creds.cert_pem()),
        ("client_urls", "https://10.0.0.1:2379/path"),
    ];
    for (key, value) in garbage {
        let mut world = World::new(&[("etcd", 1)]);
        world.creds_dir = Some(tempfile::tempdir().unwrap());
        let n = world.relate("etcd");
        let mut data = vec![
            ("cluster", CLUSTER),
            ("client_ca", creds.ca_pem()),
            ("client_cert", creds.cert_pem()),
            ("client_key", creds.key_pem()),
        ];
        data.retain(|(k, _)| *k != key);
        data.push((key, value));
        world.provider_writes(n, "etcd/0", &data);
        let flags = kube_flags(&world);
        assert!(
            !flags.contains(&"proxy.available".to_owned())
                && !flags.contains(&"proxy.tls.available".to_owned()),
            "{key}: availability flag set: {flags:?}"
        );
        let (kind, message) = status(&world);
        assert_eq!(kind, StatusKind::Blocked, "{key}");
        assert!(message.contains(key), "{key}: status {message:?}");
        assert!(!message.contains('\n'), "one line: {message:?}");
        let dir = world.creds_dir.as_ref().unwrap().path();
        assert_eq!(
            std::fs::read_dir(dir).unwrap().count(),
            0,
            "{key}: files written"
        );
    }
}

#[test]
fn disagreeing_units_resolve_to_one_whole_publication() {
    let pki = TestPki::generate();
    let other = TestPki::generate();
    let mut world = World::new(&[("etcd", 3)]);
    world.publish.insert(unit("etcd/0"), full(&pki));
    world.publish.insert(unit("etcd/1"), full(&pki));
    world.publish.insert(
        unit("etcd/2"),
        Publication {
            cluster: Some(OTHER_CLUSTER.parse().unwrap()),
            credentials: Some(creds(&other)),
            client_urls: None,
        },
    );
    world.creds_dir = Some(tempfile::tempdir().unwrap());
    world.relate("etcd");
    let dir = world.creds_dir.as_ref().unwrap().path().join("kube-0");
    // The majority wins, and the files are one unit's set: the key matches the cert.
    let cert = std::fs::read_to_string(dir.join("client-cert.pem")).unwrap();
    let key = std::fs::read_to_string(dir.join("client-key.pem")).unwrap();
    let ca = std::fs::read_to_string(dir.join("client-ca.pem")).unwrap();
    let majority = creds(&pki);
    assert_eq!(
        (cert.as_str(), key.as_str(), ca.as_str()),
        (majority.cert_pem(), majority.key_pem(), majority.ca_pem())
    );
}

#[test]
fn rotation_changes_files_once_and_keeps_flags() {
    let pki = TestPki::generate();
    let rotated = TestPki::generate();
    let mut world = World::new(&[("etcd", 1)]);
    world.creds_dir = Some(tempfile::tempdir().unwrap());
    world.publish.insert(unit("etcd/0"), full(&pki));
    world.relate("etcd");
    assert_eq!(world.file_changes[&unit("kube/0")], 1);

    world.publish.insert(unit("etcd/0"), full(&rotated));
    let next = world.run(HookInvocation::new(unit("etcd/0"), "config-changed"));
    world.settle(next);
    // The provider's config-changed published; the requirer's -changed saved once.
    assert_eq!(world.file_changes[&unit("kube/0")], 2);
    let flags = kube_flags(&world);
    assert!(flags.contains(&"proxy.tls.available".to_owned()));
    let key = std::fs::read_to_string(
        world
            .creds_dir
            .as_ref()
            .unwrap()
            .path()
            .join("kube-0/client-key.pem"),
    )
    .unwrap();
    assert_eq!(key, creds(&rotated).key_pem());
}

#[test]
fn a_failing_hook_tool_persists_nothing() {
    let pki = TestPki::generate();
    let mut world = World::new(&[("etcd", 1)]);
    world.relate("etcd");
    let before = world.state("kube/0");
    world.fault = Some(crate::support::Fault {
        unit: unit("kube/0"),
        tool: "relation-get",
        code: 1,
    });
    world.publish.insert(unit("etcd/0"), full(&pki));
    let next = world.run(HookInvocation::new(unit("etcd/0"), "config-changed"));
    assert_eq!(next.len(), 1, "one -changed for kube/0");
    let retry = next[0].clone();
    world.settle(next);
    assert!(
        world.log.last().is_some_and(|r| !r.ok),
        "the injected failure fired"
    );
    assert_eq!(
        world.state("kube/0"),
        before,
        "state unchanged after a failed hook"
    );
    // Juju retries the failed hook; this time it succeeds.
    world.run(retry);
    assert!(kube_flags(&world).contains(&"proxy.tls.available".to_owned()));
}

#[test]
fn running_twice_with_the_same_data_rewrites_nothing() {
    let pki = TestPki::generate();
    let mut world = World::new(&[("etcd", 1)]);
    world.creds_dir = Some(tempfile::tempdir().unwrap());
    world.publish.insert(unit("etcd/0"), full(&pki));
    let n = world.relate("etcd");
    let rid = world.rid(n, "kube/0");
    let changes = world.file_changes[&unit("kube/0")];
    let writes = world.stores[&unit("kube/0")].writes();
    for _ in 0..2 {
        world.run(HookInvocation::changed(
            unit("kube/0"),
            rid.clone(),
            unit("etcd/0"),
        ));
    }
    assert_eq!(
        world.file_changes[&unit("kube/0")],
        changes,
        "no file rewritten"
    );
    let _ = writes;
    // A hook that is not about the relation reads nothing and rewrites no state.
    let writes = world.stores[&unit("kube/0")].writes();
    world.run(HookInvocation::new(unit("kube/0"), "update-status"));
    assert_eq!(world.stores[&unit("kube/0")].writes(), writes);
    // Status is set only when it changes: no status-set in the repeated runs.
    assert!(
        !world
            .last_calls()
            .iter()
            .any(|c| c.starts_with("status-set")),
        "{:?}",
        world.last_calls()
    );
}

#[test]
fn changed_hook_reads_only_the_changed_unit() {
    let pki = TestPki::generate();
    let mut world = World::new(&[("etcd", 3)]);
    for u in ["etcd/0", "etcd/1", "etcd/2"] {
        world.publish.insert(unit(u), full(&pki));
    }
    let n = world.relate("etcd");
    let rid = world.rid(n, "kube/0");
    world.run(HookInvocation::changed(
        unit("kube/0"),
        rid.clone(),
        unit("etcd/1"),
    ));
    let reads: Vec<String> = world
        .last_calls()
        .into_iter()
        .filter(|c| c.starts_with("relation-get"))
        .collect();
    assert_eq!(
        reads,
        [format!("relation-get --format=json -r {rid} - etcd/1")]
    );

    world.run(HookInvocation::new(unit("kube/0"), "update-status"));
    assert!(world.last_calls().is_empty(), "{:?}", world.last_calls());
}
