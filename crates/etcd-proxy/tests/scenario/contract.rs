//! docs/wire-contract.md's examples parse and behave as written.

use std::collections::BTreeSet;

use etcd_proxy::testing::TestPki;
use etcd_proxy::{wire, ClusterString, Publication};
use juju_hooks::testing::HookInvocation;

use crate::support::{creds, unit, World};

fn contract() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/wire-contract.md");
    std::fs::read_to_string(path).expect("docs/wire-contract.md")
}

/// The backticked values of the table row that starts with `| `key` |`.
fn row_examples(doc: &str, key: &str) -> Vec<String> {
    let start = format!("| `{key}` |");
    let row = doc
        .lines()
        .find(|l| l.starts_with(&start))
        .unwrap_or_else(|| panic!("no row for {key}"));
    row.split('`')
        .skip(1)
        .step_by(2)
        .skip(1)
        .map(str::to_owned)
        .collect()
}

/// The flag names of the table under the heading line `heading`.
fn table_flags(doc: &str, heading: &str) -> BTreeSet<String> {
    doc.lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.split('`').nth(1))
        .filter(|f| f.starts_with("{endpoint}"))
        .map(|f| f.replace("{endpoint}", "proxy"))
        .collect()
}

#[test]
fn cluster_example_is_canonical() {
    let doc = contract();
    let example = row_examples(&doc, "cluster").pop().unwrap();
    let cluster: ClusterString = example.parse().unwrap();
    assert_eq!(cluster.to_string(), example);
}

#[test]
fn client_urls_example_round_trips() {
    let doc = contract();
    let example = row_examples(&doc, "client_urls").pop().unwrap();
    let urls = wire::parse_client_urls(&example).unwrap();
    assert_eq!(wire::format_client_urls(&urls), example);
}

#[test]
fn a_full_publication_raises_exactly_the_documented_requirer_flags() {
    let doc = contract();
    let documented = table_flags(&doc, "Requirer:");
    assert_eq!(documented.len(), 5, "{documented:?}");
    let pki = TestPki::generate();
    let mut world = World::new(&[("etcd", 1)]);
    let example = row_examples(&doc, "cluster").pop().unwrap();
    world.publish.insert(
        unit("etcd/0"),
        Publication {
            cluster: Some(example.parse().unwrap()),
            credentials: Some(creds(&pki)),
            client_urls: None,
        },
    );
    world.relate("etcd");
    let flags: BTreeSet<String> = world.flags("kube/0").into_iter().collect();
    assert_eq!(flags, documented);
    let provider: BTreeSet<String> = world.flags("etcd/0").into_iter().collect();
    assert_eq!(provider, table_flags(&doc, "Provider:"));
}

#[test]
fn documented_waiting_status_is_what_the_requirer_sets() {
    let doc = contract();
    let mut world = World::new(&[("etcd", 1)]);
    world.run(HookInvocation::new(unit("kube/0"), "install"));
    let status = world.model.status_get(&unit("kube/0"));
    let documented =
        "waiting for a relation to etcd on endpoint `{endpoint}`".replace("`{endpoint}`", "proxy");
    assert_eq!(status.message, documented);
    assert!(doc.contains("waiting for a relation to etcd on endpoint `{endpoint}`"));
}

#[test]
fn wire_version_2_names_are_the_ones_the_code_speaks() {
    let doc = contract();
    assert_eq!(
        row_examples(&doc, wire::KEY_WIRE_VERSION).pop().as_deref(),
        Some(wire::WIRE_VERSION_2)
    );
    let uri = row_examples(&doc, wire::KEY_CREDENTIALS_SECRET)
        .pop()
        .unwrap();
    assert!(wire::is_secret_uri(&uri), "{uri}");
    for field in wire::SECRET_FIELDS {
        assert!(
            doc.lines()
                .any(|l| l.starts_with(&format!("| `{field}` |"))),
            "no row for secret field {field}"
        );
    }
    assert!(doc.contains("`etcd-proxy-{endpoint}-client-credentials`"));
    assert_eq!(
        etcd_proxy::decide::secret_label(&"proxy".parse().unwrap()),
        "etcd-proxy-proxy-client-credentials"
    );
}
