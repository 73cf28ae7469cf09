//! Property tests: no reader panics on any databag, and nothing invalid reads as valid.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use etcd_proxy::testing::TestPki;
use etcd_proxy::wire::{parse_client_urls, CREDENTIAL_KEYS, KEY_CLUSTER};
use etcd_proxy::{ClientCredentials, ClusterField, CredentialsField, RemoteData};
use proptest::prelude::*;

fn pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(TestPki::generate)
}

/// Text that looks like PEM: BEGIN/END lines with known and unknown labels, base64-ish
/// bodies, pieces of real certificates and keys, and noise.
fn pem_like() -> impl Strategy<Value = String> {
    let label = prop_oneof![
        Just("CERTIFICATE"),
        Just("PRIVATE KEY"),
        Just("RSA PRIVATE KEY"),
        Just("EC PRIVATE KEY"),
        Just("ENCRYPTED PRIVATE KEY"),
        Just("PUBLIC KEY"),
        Just("X509 CRL"),
        Just("FOO"),
    ];
    let line = prop_oneof![
        label.clone().prop_map(|l| format!("-----BEGIN {l}-----")),
        label.prop_map(|l| format!("-----END {l}-----")),
        "[A-Za-z0-9+/=]{0,64}",
        any::<String>(),
        (0usize..40).prop_map(|i| pki()
            .client
            .cert_pem
            .lines()
            .nth(i)
            .unwrap_or("")
            .to_owned()),
        (0usize..10).prop_map(|i| pki().client.key_pem.lines().nth(i).unwrap_or("").to_owned()),
    ];
    prop::collection::vec(line, 0..30).prop_map(|lines| lines.join("\n"))
}

fn databag_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        any::<String>(),
        pem_like(),
        Just(pki().ca_pem.clone()),
        Just(pki().client.cert_pem.clone()),
        Just(pki().client.key_pem.clone()),
        Just(pki().unrelated_key_pem.clone()),
        "[a-z0-9=,:/.\\[\\]-]{0,60}",
    ]
}

fn databag() -> impl Strategy<Value = BTreeMap<String, String>> {
    let key = prop_oneof![
        Just("cluster".to_owned()),
        Just("cluster_string".to_owned()),
        Just("client_ca".to_owned()),
        Just("client_cert".to_owned()),
        Just("client_key".to_owned()),
        Just("client_urls".to_owned()),
        "[a-z_]{1,12}",
    ];
    prop::collection::btree_map(key, databag_value(), 0..8)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn credentials_never_panic_on_arbitrary_bytes(ca in any::<Vec<u8>>(), cert in any::<Vec<u8>>(), key in any::<Vec<u8>>()) {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let _ = ClientCredentials::from_pem(text(&ca), text(&cert), text(&key));
    }

    #[test]
    fn credentials_never_panic_on_pem_like_text(ca in pem_like(), cert in pem_like(), key in pem_like()) {
        if let Err(e) = ClientCredentials::from_pem(ca, cert, key) {
            let message = e.to_string();
            prop_assert!(!message.contains('\n'), "{}", message);
            prop_assert!(!message.contains("PRIVATE KEY-----"), "{}", message);
        }
    }

    #[test]
    fn client_urls_never_panic(text in any::<String>()) {
        let _ = parse_client_urls(&text);
    }

    #[test]
    fn an_arbitrary_databag_never_reads_as_valid_unless_it_is(bag in databag()) {
        let data = RemoteData::from_databag(&bag);
        if let ClusterField::Valid(cluster) = &data.cluster {
            // Valid only when the governing key's text itself parses.
            let text = bag.get(KEY_CLUSTER).filter(|v| !v.is_empty()).or(bag.get("cluster_string"));
            prop_assert_eq!(text.map(|t| t.parse().ok()), Some(Some(cluster.clone())));
        }
        if let CredentialsField::Valid(creds) = &data.credentials {
            prop_assert_eq!(creds.ca_pem(), &bag[CREDENTIAL_KEYS[0]]);
            prop_assert_eq!(creds.cert_pem(), &bag[CREDENTIAL_KEYS[1]]);
            prop_assert_eq!(creds.key_pem(), &bag[CREDENTIAL_KEYS[2]]);
            prop_assert!(ClientCredentials::from_pem(creds.ca_pem(), creds.cert_pem(), creds.key_pem()).is_ok());
        }
        for invalid in data.invalid() {
            prop_assert!(!invalid.to_string().contains('\n'));
            prop_assert!(invalid.to_string().len() < 400);
        }
    }
}
