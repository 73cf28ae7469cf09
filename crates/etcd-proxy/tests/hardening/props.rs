//! Property tests: whatever a remote unit publishes, the requirer sets an availability flag
//! or writes a credential file only for valid data, as judged by the independent parsers
//! (`ClusterString::from_str`, `ClientCredentials::from_pem`, `parse_client_urls`), and
//! never panics.
//!
//! Databags are either random (wire keys and junk keys, any text, valid-looking fragments,
//! generated PEMs and mutations of them) or a valid publication with a few random edits, so
//! that valid, almost valid and invalid data all come up often.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use etcd_proxy::testing::TestPki;
use etcd_proxy::wire::parse_client_urls;
use etcd_proxy::{ClientCredentials, ClusterString, RemoteData};
use juju_hooks::{Databag, FlagStore, MemoryFlagStore, StatusKind};
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::support::{
    bag, changed_hook, publication, related_model, related_model_with, requirer_hook,
    set_remote_bag, set_unit_bag, unit, upgrade_hook,
};

const CASES: u32 = 192;

const WIRE_KEYS: [&str; 6] = [
    "cluster",
    "cluster_string",
    "client_ca",
    "client_cert",
    "client_key",
    "client_urls",
];

const CLUSTER_FRAGMENTS: &[&str] = &[
    "etcd0=https://10.0.0.1:2380",
    "etcd0=https://10.0.0.1:2380,etcd1=https://10.0.0.2:2380",
    "etcd0=http://10.0.0.1:2380",
    "a=http://h:1",
    "etcd0=https://[::1]:2380",
    "etcd0=https://10.0.0.1:2380,etcd0=https://10.0.0.1:2380",
    "etcd0=https://10.0.0.1:2380,",
    "=https://10.0.0.1:2380",
    "etcd0=ftp://10.0.0.1:2380",
    "etcd0=https://user@10.0.0.1:2380",
    "etcd0=https://10.0.0.1:2380/path",
    "etcd0=https://10.0.0.1:99999",
    "etcd0=https://10.0.0.1:2380\netcd1=https://10.0.0.2:2380",
    "etcd0=https://10.0.0.1:2380; rm -rf /",
    "https://10.0.0.1:2379",
    "https://10.0.0.1:2379,https://10.0.0.2:2379",
    "https://10.0.0.1:2379,",
    " ",
];

/// What the independent parsers say about a databag.
#[derive(Debug)]
struct Expected {
    /// Some wire key has a non-empty value (so the unit's publication is considered).
    publishes: bool,
    cluster_valid: bool,
    tls_valid: bool,
    /// The key of the first invalid part (cluster, credentials, client URLs), if any.
    first_invalid: Option<String>,
}

fn present<'a>(bag: &'a Databag, key: &str) -> Option<&'a str> {
    bag.get(key).map(String::as_str).filter(|v| !v.is_empty())
}

fn expected(bag: &Databag) -> Expected {
    let publishes = WIRE_KEYS.iter().any(|k| present(bag, k).is_some());
    let cluster = match (present(bag, "cluster"), present(bag, "cluster_string")) {
        (Some(text), _) => Some(("cluster", text.parse::<ClusterString>().is_ok())),
        (None, Some(text)) => Some(("cluster_string", text.parse::<ClusterString>().is_ok())),
        (None, None) => None,
    };
    let credentials = match (
        present(bag, "client_ca"),
        present(bag, "client_cert"),
        present(bag, "client_key"),
    ) {
        (Some(ca), Some(cert), Some(key)) => {
            Some(match ClientCredentials::from_pem(ca, cert, key) {
                Ok(_) => Ok(()),
                Err(e) => Err(e.key.as_str().to_owned()),
            })
        }
        _ => None, // missing or incomplete: neither valid nor invalid
    };
    let urls_ok = present(bag, "client_urls").map(|t| parse_client_urls(t).is_ok());

    let mut invalid = Vec::new();
    if let Some((key, false)) = cluster {
        invalid.push(key.to_owned());
    }
    if let Some(Err(key)) = &credentials {
        invalid.push(key.clone());
    }
    if urls_ok == Some(false) {
        invalid.push("client_urls".to_owned());
    }
    let usable = invalid.is_empty();
    Expected {
        publishes,
        cluster_valid: usable && matches!(cluster, Some((_, true))),
        tls_valid: usable && matches!(credentials, Some(Ok(()))),
        first_invalid: invalid.into_iter().next(),
    }
}

/// The PEM texts the generators draw from: valid ones and the broken variants of the PKI.
fn pem_pool(pkis: &[TestPki]) -> Vec<String> {
    pkis.iter()
        .flat_map(|p| {
            [
                p.ca_pem.clone(),
                p.client.cert_pem.clone(),
                p.client.key_pem.clone(),
                p.cnless_client.cert_pem.clone(),
                p.expired_client.cert_pem.clone(),
                p.future_client.cert_pem.clone(),
                p.other_ca_pem.clone(),
                p.foreign_client.cert_pem.clone(),
                p.foreign_client.key_pem.clone(),
                p.impostor_ca_pem.clone(),
                p.unrelated_key_pem.clone(),
            ]
        })
        .collect()
}

#[derive(Clone, Debug)]
enum Mutation {
    Keep,
    Truncate(Index),
    ReplaceByte(Index, u8),
    Insert(Index, &'static str),
    Concat(String),
    Crlf,
    DropFirstLine,
    Pad,
}

fn mutation(pool: Vec<String>) -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => Just(Mutation::Keep),
        2 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), 0x20u8..0x7f).prop_map(|(i, b)| Mutation::ReplaceByte(i, b)),
        1 => (any::<Index>(), select(vec!["\n", "!!", "-----END CERTIFICATE-----\n", "\0", " "]))
            .prop_map(|(i, s)| Mutation::Insert(i, s)),
        1 => select(pool).prop_map(Mutation::Concat),
        1 => Just(Mutation::Crlf),
        1 => Just(Mutation::DropFirstLine),
        1 => Just(Mutation::Pad),
    ]
}

/// The byte offset `at` moved back to a character boundary.
fn boundary(text: &str, at: &Index) -> usize {
    let mut i = at.index(text.len() + 1);
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(pem: &str, m: &Mutation) -> String {
    match m {
        Mutation::Keep => pem.to_owned(),
        Mutation::Truncate(at) => pem[..boundary(pem, at)].to_owned(),
        Mutation::ReplaceByte(at, b) => {
            let i = boundary(pem, at);
            let mut out = pem[..i].to_owned();
            out.push(char::from(*b));
            let rest = &pem[i..];
            out.push_str(
                rest.get(rest.chars().next().map_or(0, char::len_utf8)..)
                    .unwrap_or(""),
            );
            out
        }
        Mutation::Insert(at, s) => {
            let i = boundary(pem, at);
            format!("{}{s}{}", &pem[..i], &pem[i..])
        }
        Mutation::Concat(other) => format!("{pem}{other}"),
        Mutation::Crlf => pem.replace('\n', "\r\n"),
        Mutation::DropFirstLine => pem.split_once('\n').map_or("", |(_, r)| r).to_owned(),
        Mutation::Pad => format!("  \n{pem}\n\n"),
    }
}

fn value(pool: Vec<String>) -> BoxedStrategy<String> {
    let pem = (select(pool.clone()), mutation(pool)).prop_map(|(p, m)| mutate(&p, &m));
    prop_oneof![
        2 => any::<String>(),
        2 => select(CLUSTER_FRAGMENTS).prop_map(str::to_owned),
        1 => "[a-z0-9=,:/.\\[\\]@ -]{0,40}",
        4 => pem,
        1 => Just(String::new()),
    ]
    .boxed()
}

fn key() -> BoxedStrategy<String> {
    prop_oneof![
        6 => select(&WIRE_KEYS[..]).prop_map(str::to_owned),
        1 => select(vec!["private-address", "CLUSTER", "cluster ", "client-key", "", "egress-subnets"])
            .prop_map(str::to_owned),
        1 => "[a-z_-]{1,12}",
    ]
    .boxed()
}

#[derive(Clone, Debug)]
enum Edit {
    Remove(Index),
    Set(String, String),
}

/// Random bags, and valid publications with up to three edits.
fn databag(pkis: &[TestPki]) -> BoxedStrategy<Databag> {
    let pool = pem_pool(pkis);
    let random = prop::collection::vec((key(), value(pool.clone())), 0..8)
        .prop_map(|entries| entries.into_iter().collect::<Databag>());
    let mut valid = Vec::new();
    for (i, pki) in pkis.iter().enumerate() {
        let full = publication(pki, CLUSTER_FRAGMENTS[i % 2]);
        let mut with_urls = full.clone();
        with_urls.insert("client_urls".into(), "https://10.0.0.1:2379".into());
        let mut legacy = full.clone();
        let cluster = legacy.remove("cluster").unwrap();
        legacy.insert("cluster_string".into(), cluster);
        let creds_only: Databag = full
            .iter()
            .filter(|(k, _)| k.starts_with("client_"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        valid.extend([full, with_urls, legacy, creds_only]);
    }
    valid.push(bag(&[("cluster", CLUSTER_FRAGMENTS[0])]));
    let edit = prop_oneof![
        any::<Index>().prop_map(Edit::Remove),
        (key(), value(pool)).prop_map(|(k, v)| Edit::Set(k, v)),
    ];
    let edited = (select(valid), prop::collection::vec(edit, 0..4)).prop_map(|(mut bag, edits)| {
        for e in edits {
            match e {
                Edit::Remove(i) if !bag.is_empty() => {
                    let k = bag.keys().nth(i.index(bag.len())).unwrap().clone();
                    bag.remove(&k);
                }
                Edit::Remove(_) => {}
                Edit::Set(k, v) => {
                    bag.insert(k, v);
                }
            }
        }
        bag
    });
    prop_oneof![random, edited].boxed()
}

/// The bag for a failure message, with private keys shown by size only.
fn redacted(bag: &Databag) -> BTreeMap<&str, String> {
    bag.iter()
        .map(|(k, v)| {
            let shown = if v.contains("PRIVATE KEY") {
                format!("<private key text, {} bytes>", v.len())
            } else {
                v.clone()
            };
            (k.as_str(), shown)
        })
        .collect()
}

fn creds_files(dir: &Path) -> Option<[String; 3]> {
    let read = |n: &str| fs::read_to_string(dir.join(n)).ok();
    Some([
        read("client-ca.pem")?,
        read("client-cert.pem")?,
        read("client-key.pem")?,
    ])
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    })
}

/// One case: an optional valid first hook, then `-changed` (or `upgrade-charm`, which
/// re-reads everything) with `bag`; checks the flags, the files and the status against
/// [`expected`].
fn check_case(
    prior: Option<&Databag>,
    bag: &Databag,
    upgrade: bool,
) -> Result<Expected, TestCaseError> {
    let (mut model, number) = related_model();
    let creds = tempfile::tempdir().unwrap();
    let mut store = MemoryFlagStore::new();
    if let Some(prior) = prior {
        set_remote_bag(&mut model, number, prior);
        let hook = changed_hook(&model, number);
        requirer_hook(&mut model, &hook, &mut store, creds.path()).unwrap();
    }
    let flags_before = store.load().unwrap().flags;
    let files_before = creds_files(creds.path());

    set_remote_bag(&mut model, number, bag);
    let hook = if upgrade {
        upgrade_hook()
    } else {
        changed_hook(&model, number)
    };
    let report = requirer_hook(&mut model, &hook, &mut store, creds.path());
    let report = report.map_err(|e| TestCaseError::fail(format!("the hook failed: {e}")))?;
    let flags = store.load().unwrap().flags;
    let want = expected(bag);
    let has = |f: &str| flags.contains(f);

    prop_assert!(has("proxy.connected"));
    prop_assert_eq!(has("proxy.available"), want.publishes && want.cluster_valid);
    prop_assert_eq!(has("proxy.tls.available"), want.publishes && want.tls_valid);
    for (changed, valid) in [
        ("proxy.cluster.changed", want.cluster_valid),
        ("proxy.tls.changed", want.tls_valid),
    ] {
        if has(changed) && !flags_before.contains(changed) {
            prop_assert!(valid, "{} raised for invalid data", changed);
        }
    }
    prop_assert_eq!(
        report.cluster().is_some(),
        want.cluster_valid && want.publishes
    );
    prop_assert_eq!(
        report.credentials().is_some(),
        want.tls_valid && want.publishes
    );

    let files = creds_files(creds.path());
    if want.publishes && want.tls_valid {
        let published = ["client_ca", "client_cert", "client_key"].map(|k| bag[k].clone());
        prop_assert!(
            files == Some(published),
            "the files are not the published credentials"
        );
    } else {
        prop_assert!(
            files == files_before,
            "a credential file changed for invalid data"
        );
    }

    let status = model.status_get(&unit("kube/0"));
    match &want.first_invalid {
        Some(key) if want.publishes => {
            prop_assert_eq!(status.kind, StatusKind::Blocked);
            prop_assert!(
                status.message.contains(&format!("sent {key}: ")),
                "the status does not name {}: {}",
                key,
                status.message
            );
            prop_assert!(!status.message.contains('\n'), "multi-line status");
        }
        _ => prop_assert_ne!(status.kind, StatusKind::Blocked),
    }

    // Nothing of the private key reaches the status or the log.
    let logs = model.unit(&unit("kube/0")).unwrap().logs.clone();
    let texts = std::iter::once(&status.message).chain(logs.iter().map(|l| &l.message));
    let secrets = key_fragments(bag);
    for text in texts {
        prop_assert!(
            !secrets.iter().any(|s| text.contains(s.as_str())),
            "key material in a status or log message ({} bytes)",
            text.len()
        );
    }
    Ok(want)
}

/// Every 16-character piece of the base64 lines of `client_key` that no other value of the
/// bag contains (a key pasted into another key may be quoted as that key's value).
fn key_fragments(bag: &Databag) -> Vec<String> {
    let Some(key) = present(bag, "client_key") else {
        return Vec::new();
    };
    let others: Vec<&String> = bag
        .iter()
        .filter(|(k, _)| k.as_str() != "client_key")
        .map(|(_, v)| v)
        .collect();
    let mut out = Vec::new();
    for line in key
        .lines()
        .filter(|l| l.is_ascii() && !l.starts_with("-----"))
    {
        for start in 0..line.len().saturating_sub(15) {
            let piece = &line[start..start + 16];
            if !others.iter().any(|v| v.contains(piece)) {
                out.push(piece.to_owned());
            }
        }
    }
    out
}

#[test]
fn arbitrary_data_sets_flags_and_writes_files_only_when_valid() {
    let pkis = [TestPki::generate(), TestPki::generate()];
    let prior = publication(&pkis[0], CLUSTER_FRAGMENTS[0]);
    // Cases with: nothing valid, a valid cluster, valid TLS.
    let counts = [Cell::new(0usize), Cell::new(0), Cell::new(0)];
    let bump = |i: usize, on: bool| counts[i].set(counts[i].get() + usize::from(on));
    let mut runner = runner();
    let input = (any::<bool>(), databag(&pkis), any::<bool>());
    let result = runner.run(&input, |(with_prior, bag, upgrade)| {
        let want = check_case(with_prior.then_some(&prior), &bag, upgrade)?;
        bump(0, !want.cluster_valid && !want.tls_valid);
        bump(1, want.cluster_valid);
        bump(2, want.tls_valid);
        Ok(())
    });
    if let Err(e) = result {
        let shown = match &e {
            proptest::test_runner::TestError::Fail(reason, (prior, bag, upgrade)) => format!(
                "{reason}; prior publication: {prior}; upgrade-charm: {upgrade}; bag: {:#?}",
                redacted(bag)
            ),
            other => format!("{other}"),
        };
        panic!("{shown}");
    }
    let counts = counts.map(Cell::into_inner);
    eprintln!(
        "props: {CASES} cases: {} with nothing valid, {} with a valid cluster, {} with valid TLS",
        counts[0], counts[1], counts[2]
    );
    // The generator must reach both sides of the property.
    assert!(counts.iter().all(|&n| n > 0), "{counts:?}");
}

#[test]
fn parsers_never_panic_on_mutated_pems_or_arbitrary_bags() {
    let pkis = [TestPki::generate()];
    let pool = pem_pool(&pkis);
    let mut runner = runner();
    let three = (value(pool.clone()), value(pool.clone()), value(pool));
    runner
        .run(&(three, databag(&pkis)), |((ca, cert, key), bag)| {
            if let Err(e) = ClientCredentials::from_pem(&ca, &cert, &key) {
                let text = e.to_string();
                prop_assert!(!text.contains('\n'), "multi-line error");
                prop_assert!(!text.contains("PRIVATE KEY-----\n"), "key text in an error");
            }
            let data = RemoteData::from_databag(&bag);
            for invalid in data.invalid() {
                prop_assert!(!invalid.to_string().contains('\n'));
            }
            Ok(())
        })
        .unwrap_or_else(|e| match e {
            proptest::test_runner::TestError::Fail(reason, ((_, _, key), bag)) => panic!(
                "{reason}; key value of {} bytes; bag: {:#?}",
                key.len(),
                redacted(&bag)
            ),
            other => panic!("{other}"),
        });
}

/// Several remote units publish arbitrary data: `proxy.available` is set exactly when some
/// unit's publication is valid with a cluster string, and what the requirer uses (cluster
/// string and credential files) always comes from one valid publication, never mixed.
fn check_units(bags: &[Databag]) -> Result<bool, TestCaseError> {
    let (mut model, number) = related_model_with(bags.len() as u32);
    for (i, bag) in bags.iter().enumerate() {
        set_unit_bag(&mut model, number, &unit(&format!("etcd/{i}")), bag);
    }
    let creds = tempfile::tempdir().unwrap();
    let mut store = MemoryFlagStore::new();
    let hook = changed_hook(&model, number);
    let report = requirer_hook(&mut model, &hook, &mut store, creds.path())
        .map_err(|e| TestCaseError::fail(format!("the hook failed: {e}")))?;
    let flags = store.load().unwrap().flags;
    let wants: Vec<Expected> = bags.iter().map(expected).collect();

    let any_cluster = wants.iter().any(|w| w.publishes && w.cluster_valid);
    prop_assert_eq!(flags.contains("proxy.available"), any_cluster);
    prop_assert_eq!(
        flags.contains("proxy.tls.available"),
        report.credentials().is_some()
    );

    let files = creds_files(creds.path());
    let cluster_text = |bag: &Databag| {
        present(bag, "cluster")
            .or_else(|| present(bag, "cluster_string"))
            .and_then(|t| t.parse::<ClusterString>().ok())
            .map(|c| c.to_string())
    };
    let used_cluster = report.cluster().map(ToString::to_string);
    // One publication explains everything used.
    let source = bags.iter().zip(&wants).find(|(bag, want)| {
        let creds_match = match &files {
            Some(files) => {
                want.tls_valid
                    && *files == ["client_ca", "client_cert", "client_key"].map(|k| bag[k].clone())
            }
            None => !want.tls_valid || !want.publishes,
        };
        let cluster_match = match &used_cluster {
            Some(used) => want.cluster_valid && cluster_text(bag).as_ref() == Some(used),
            None => !want.cluster_valid,
        };
        want.publishes && want.first_invalid.is_none() && creds_match && cluster_match
    });
    let used = files.is_some() || used_cluster.is_some();
    if used {
        prop_assert!(
            source.is_some(),
            "the cluster and credentials used come from no single valid publication"
        );
    }
    Ok(used)
}

#[test]
fn with_several_units_only_one_whole_valid_publication_is_used() {
    let pkis = [TestPki::generate(), TestPki::generate()];
    let mut runner = runner();
    let used = Cell::new(0usize);
    let result = runner.run(&prop::collection::vec(databag(&pkis), 2..=3), |bags| {
        used.set(used.get() + usize::from(check_units(&bags)?));
        Ok(())
    });
    if let Err(e) = result {
        let shown = match &e {
            proptest::test_runner::TestError::Fail(reason, bags) => format!(
                "{reason}; bags: {:#?}",
                bags.iter().map(redacted).collect::<Vec<_>>()
            ),
            other => format!("{other}"),
        };
        panic!("{shown}");
    }
    eprintln!(
        "props: {CASES} multi-unit cases, {} used some data",
        used.get()
    );
    assert!(used.get() > 0, "no case had valid data to use");
}
