//! Every entry of the bad-input corpus, through the wire parser.

use std::collections::BTreeSet;

use etcd_proxy::testing::{corpus_path, load_corpus, TestPki};
use etcd_proxy::{ClientUrlsField, ClusterField, CredentialsField, RemoteData};
use juju_hooks::Databag;

const CLUSTER: &str = "etcd0=https://10.0.0.1:2380,etcd1=https://10.0.0.2:2380";

/// The Python provider's four keys plus `client_urls`, all valid.
fn valid_base(pki: &TestPki) -> Databag {
    let mut bag = pki.python_provider_databag(CLUSTER);
    bag.insert(
        "client_urls".into(),
        "https://10.0.0.1:2379,https://10.0.0.2:2379".into(),
    );
    bag
}

#[test]
fn the_base_databag_is_valid() {
    let pki = TestPki::generate();
    let data = RemoteData::from_databag(&valid_base(&pki));
    assert!(matches!(data.cluster, ClusterField::Valid(_)));
    assert!(matches!(data.credentials, CredentialsField::Valid(_)));
    assert!(matches!(data.client_urls, ClientUrlsField::Valid(_)));
}

#[test]
fn the_corpus_has_at_least_100_distinct_cases_and_every_recipe_is_known() {
    let pki = TestPki::generate();
    let corpus = load_corpus(&corpus_path(), &pki).unwrap();
    let distinct: BTreeSet<_> = corpus
        .iter()
        .map(|c| (c.key.clone(), c.value.clone(), c.also.clone()))
        .collect();
    assert!(distinct.len() >= 100, "{} distinct cases", distinct.len());
    assert_eq!(distinct.len(), corpus.len(), "duplicate corpus entries");
    assert!(
        corpus.iter().any(|c| c.value.len() > 1024 * 1024),
        "no 1 MiB+ case"
    );
    for name in TestPki::RECIPES {
        assert!(pki.recipe(name).is_some(), "{name}");
    }
    assert!(pki.recipe("no-such-recipe").is_none());
}

#[test]
fn every_corpus_entry_is_invalid_with_its_documented_reason() {
    let pki = TestPki::generate();
    let base = valid_base(&pki);
    let corpus = load_corpus(&corpus_path(), &pki).unwrap();
    let mut failures = Vec::new();
    for case in &corpus {
        let data = RemoteData::from_databag(&case.apply_to(&base));
        let invalid = data.invalid();
        let ok = match invalid.as_slice() {
            [only] => {
                let message = only.to_string();
                only.key == case.expected_key
                    && only.reason.contains(&case.reason)
                    && message
                        .chars()
                        .all(|c| c.is_ascii() && !c.is_ascii_control())
                    && message.len() < 300
            }
            _ => false,
        };
        if !ok {
            let got: Vec<String> = invalid.iter().map(|i| i.to_string()).collect();
            failures.push(format!(
                "#{} {} ({}): expected {}: ...{}..., got {:?}",
                case.index, case.key, case.note, case.expected_key, case.reason, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_debug_output_holds_no_key_material() {
    let pki = TestPki::generate();
    let corpus = load_corpus(&corpus_path(), &pki).unwrap();
    let debug = format!("{corpus:?}");
    assert!(!debug.contains("PRIVATE KEY-----"));
    for key in [&pki.client.key_pem, &pki.unrelated_key_pem] {
        for line in key.lines().filter(|l| !l.starts_with("-----")) {
            assert!(!debug.contains(line), "key material in Debug output");
        }
    }
    assert!(debug.contains("<redacted: holds a private key>"));
    assert!(
        debug.len() < 200 * corpus.len(),
        "Debug must not print huge values"
    );
}
