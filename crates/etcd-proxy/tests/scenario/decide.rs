//! The sans-I/O core on plain data: the rules of wire version 2 without any hook tool.

use std::collections::BTreeMap;

use etcd_proxy::decide::{
    ExistingSecret, PemCredentials, ProviderInput, RelationData, RequirerInput, RequirerSide,
    SecretProblem, SecretRead, SecretResult,
};
use etcd_proxy::testing::TestPki;
use juju_hooks::{Databag, RelationId, StatusKind};

const URI: &str = "secret:cu9pk5rr0ui3c8lb2fmg";

fn rid(s: &str) -> RelationId {
    s.parse().unwrap()
}

fn bag(pairs: &[(&str, &str)]) -> Databag {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn pem(pki: &TestPki) -> PemCredentials {
    PemCredentials {
        ca: pki.ca_pem.clone(),
        cert: pki.client.cert_pem.clone(),
        key: pki.client.key_pem.clone(),
    }
}

fn v2_relation(secret: SecretResult) -> RelationData {
    RelationData {
        app: Some(bag(&[
            ("cluster", "etcd0=https://10.0.0.1:2380"),
            ("client_credentials_secret", URI),
        ])),
        units: BTreeMap::from([("etcd/0".parse().unwrap(), Databag::new())]),
        remote_app: Some("etcd".parse().unwrap()),
        secret: Some(SecretRead {
            uri: URI.into(),
            result: secret,
        }),
    }
}

fn requirer(relations: BTreeMap<RelationId, RelationData>) -> RequirerInput {
    RequirerInput {
        endpoint: "proxy".parse().unwrap(),
        relations,
        previous: Default::default(),
        juju_version: Some("3.6.1".into()),
        leader: true,
    }
}

#[test]
fn the_application_databag_with_a_readable_secret_is_used_whole() {
    let pki = TestPki::generate();
    let relation = v2_relation(SecretResult::Content(pem(&pki).secret_content()));
    let decision = requirer(BTreeMap::from([(rid("proxy:1"), relation)])).decide();
    assert_eq!(
        decision.status.kind,
        StatusKind::Active,
        "{:?}",
        decision.status
    );
    let source = decision.source.unwrap();
    assert!(source.application);
    assert_eq!(source.owner, "etcd");
    let received = decision.publication.unwrap();
    assert_eq!(received.credentials.unwrap(), pem(&pki));
    assert!(decision
        .set_flags
        .contains(&"proxy.tls.available".to_owned()));
    assert!(decision.set_flags.contains(&"proxy.tls.changed".to_owned()));
    assert_eq!(
        decision.advertise[&rid("proxy:1")],
        bag(&[("wire_version", "2")])
    );
}

#[test]
fn a_secret_that_cannot_be_used_blocks_naming_the_secret_and_the_reason() {
    let pki = TestPki::generate();
    let mut missing_field = pem(&pki).secret_content();
    missing_field.remove("client-key");
    let mut bad_pem = pem(&pki).secret_content();
    bad_pem.insert("client-cert".into(), "junk".into());
    for (result, reason) in [
        (
            SecretResult::Unavailable(SecretProblem::NotGranted),
            "cannot be read: not granted",
        ),
        (
            SecretResult::Unavailable(SecretProblem::NotFound),
            "cannot be read: not found",
        ),
        (
            SecretResult::Content(missing_field),
            "lacks field(s) client-key",
        ),
        (
            SecretResult::Content(bad_pem),
            "field client-cert: no PEM certificate",
        ),
    ] {
        let relation = v2_relation(result);
        let decision = requirer(BTreeMap::from([(rid("proxy:1"), relation)])).decide();
        assert_eq!(decision.status.kind, StatusKind::Blocked);
        let message = &decision.status.message;
        assert!(
            message.starts_with(&format!(
                "proxy: etcd sent client_credentials_secret: {URI}"
            )) && message.contains(reason),
            "{message}"
        );
        assert!(decision.publication.is_none());
        assert!(decision
            .clear_flags
            .contains(&"proxy.tls.available".to_owned()));
        assert!(decision.clear_flags.contains(&"proxy.available".to_owned()));
    }
}

#[test]
fn without_a_valid_application_publication_the_unit_databags_are_used() {
    let pki = TestPki::generate();
    let mut relation = v2_relation(SecretResult::Unavailable(SecretProblem::NotGranted));
    relation.units.insert(
        "etcd/0".parse().unwrap(),
        pki.python_provider_databag("etcd0=https://10.0.0.1:2380"),
    );
    let decision = requirer(BTreeMap::from([(rid("proxy:1"), relation)])).decide();
    let source = decision.source.unwrap();
    assert!(!source.application);
    assert_eq!(source.owner, "etcd/0");
    assert_eq!(decision.status.kind, StatusKind::Active);
}

#[test]
fn old_juju_and_non_leaders_do_not_advertise() {
    let relations = BTreeMap::from([(rid("proxy:1"), RelationData::default())]);
    for (version, leader) in [(Some("3.0.4"), true), (Some("3.6.0"), false), (None, true)] {
        let input = RequirerInput {
            juju_version: version.map(str::to_owned),
            leader,
            ..requirer(relations.clone())
        };
        assert!(input.decide().advertise.is_empty(), "{version:?} {leader}");
    }
}

fn provider(pki: &TestPki, leader: bool, secrets: bool) -> ProviderInput {
    ProviderInput {
        endpoint: "proxy".parse().unwrap(),
        cluster: Some("etcd0=https://10.0.0.1:2380".into()),
        client_urls: Some(vec!["https://10.0.0.1:2379".into()]),
        credentials: Some(pem(pki)),
        leader,
        secrets_supported: secrets,
        relations: BTreeMap::from([
            (rid("proxy:1"), RequirerSide::default()),
            (
                rid("proxy:2"),
                RequirerSide {
                    wire_version: Some("2".into()),
                },
            ),
        ]),
        secret: None,
    }
}

#[test]
fn mixed_versions_get_raw_keys_on_one_and_only_the_secret_on_the_other() {
    let pki = TestPki::generate();
    let input = provider(&pki, true, true);
    let first = input.decide();
    let plan = first.secret.clone().unwrap();
    assert!(plan.create && plan.grant == [rid("proxy:2")] && plan.revoke.is_empty());
    // Until the secret has a URI, the version-2 relation gets nothing.
    assert_eq!(first.relations[&rid("proxy:2")].app, None);
    let v1 = &first.relations[&rid("proxy:1")];
    assert_eq!(v1.unit["client_key"], pki.client.key_pem);
    assert_eq!(v1.app.as_ref(), Some(&Databag::new()));

    let created = ProviderInput {
        secret: Some(ExistingSecret {
            uri: URI.into(),
            content_digest: Some(plan.content_digest.clone()),
            granted: [rid("proxy:2")].into(),
        }),
        ..input
    };
    let next = created.decide();
    let v2 = &next.relations[&rid("proxy:2")];
    assert!(v2.unit.is_empty());
    let app = v2.app.as_ref().unwrap();
    assert_eq!(
        app.keys().collect::<Vec<_>>(),
        ["client_credentials_secret", "client_urls", "cluster"]
    );
    let plan = next.secret.unwrap();
    assert!(!plan.create && !plan.update && plan.grant.is_empty());
    assert_eq!(
        plan.content.secret_content()["client-key"],
        pki.client.key_pem
    );
}

#[test]
fn without_secrets_the_application_databag_carries_the_raw_keys() {
    let pki = TestPki::generate();
    let decision = provider(&pki, true, false).decide();
    assert!(decision.secret.is_none());
    let app = decision.relations[&rid("proxy:2")].app.clone().unwrap();
    assert_eq!(app["client_key"], pki.client.key_pem);
    assert!(!app.contains_key("client_credentials_secret"));
}

#[test]
fn non_leaders_write_nothing_on_version_2_relations() {
    let pki = TestPki::generate();
    let decision = provider(&pki, false, true).decide();
    let v2 = &decision.relations[&rid("proxy:2")];
    assert!(v2.unit.is_empty() && v2.app.is_none());
    assert!(decision.secret.is_none() && decision.remove_secret.is_none());
    assert_eq!(decision.relations[&rid("proxy:1")].app, None);
}

#[test]
fn a_secret_no_relation_uses_is_removed_and_new_content_is_one_update() {
    let pki = TestPki::generate();
    let existing = ExistingSecret {
        uri: URI.into(),
        content_digest: Some("0".into()),
        granted: [rid("proxy:2"), rid("proxy:9")].into(),
    };
    let mut input = provider(&pki, true, true);
    input.secret = Some(existing);
    let plan = input.decide().secret.unwrap();
    assert!(plan.update && plan.revoke == [rid("proxy:9")]);
    input.relations.remove(&rid("proxy:2"));
    let decision = input.decide();
    assert!(decision.secret.is_none());
    assert_eq!(decision.remove_secret.as_deref(), Some(URI));
}

#[test]
fn invalid_input_is_refused_whole() {
    let pki = TestPki::generate();
    let mut input = provider(&pki, true, true);
    input.cluster = Some("junk".into());
    let decision = input.decide();
    assert!(decision.refused.unwrap().starts_with("cluster:"));
    assert!(decision.relations.is_empty() && decision.secret.is_none());
}

#[test]
fn inputs_and_decisions_round_trip_through_json() {
    let pki = TestPki::generate();
    let input = provider(&pki, true, true);
    let json = serde_json::to_value(&input).unwrap();
    let back: ProviderInput = serde_json::from_value(json).unwrap();
    assert_eq!(back.decide(), input.decide());
    let relation = v2_relation(SecretResult::Content(pem(&pki).secret_content()));
    let decision = requirer(BTreeMap::from([(rid("proxy:1"), relation)])).decide();
    let json = serde_json::to_string(&decision).unwrap();
    let back: etcd_proxy::decide::RequirerDecision = serde_json::from_str(&json).unwrap();
    assert_eq!(back.seen, decision.seen);
    assert_eq!(back.status, decision.status);
}

/// The next run skips the costly checks of credentials proven in this one: `seen.proven`
/// holds the proof of the valid publication, and only that (never the key).
#[test]
fn the_valid_credentials_are_remembered_as_proven_for_the_next_run() {
    let pki = TestPki::generate();
    let relation = v2_relation(SecretResult::Content(pem(&pki).secret_content()));
    let input = requirer(BTreeMap::from([(rid("proxy:1"), relation)]));
    let first = input.decide();
    assert_eq!(
        first.seen.proven,
        etcd_proxy::Proofs::from([pki.credentials().proof()])
    );
    let recorded = serde_json::to_string(&first.seen).unwrap();
    assert!(!recorded.contains("PRIVATE KEY"), "{recorded}");

    let again = RequirerInput {
        previous: first.seen.clone(),
        ..input
    }
    .decide();
    assert_eq!(again.seen, first.seen);
    assert_eq!(again.publication.unwrap().credentials.unwrap(), pem(&pki));
    assert!(!again.set_flags.contains(&"proxy.tls.changed".to_owned()));
}

/// Invalid credentials leave no proof behind.
#[test]
fn invalid_credentials_are_not_remembered_as_proven() {
    let pki = TestPki::generate();
    let mut content = pem(&pki).secret_content();
    content.insert("client-key".into(), pki.unrelated_key_pem.clone());
    let relation = v2_relation(SecretResult::Content(content));
    let decision = requirer(BTreeMap::from([(rid("proxy:1"), relation)])).decide();
    assert!(decision.publication.is_none());
    assert!(decision.seen.proven.is_empty());
}
