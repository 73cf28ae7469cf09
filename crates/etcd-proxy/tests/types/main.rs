//! Tests of the typed relation data: URLs and cluster strings, client credentials, the wire
//! codec, and the bad-input corpus.

mod cluster_props;
mod corpus;
mod credentials;
mod rsa;
mod wire;
mod wire_props;

/// An X.509 v1 client certificate (made by `openssl x509 -req` without extensions) is valid:
/// its key match is checked on the raw SubjectPublicKeyInfo, not through webpki.
#[test]
fn v1_certificate_from_openssl_is_accepted() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let read = |name: &str| std::fs::read_to_string(format!("{data}/{name}")).unwrap();
    let creds = etcd_proxy::ClientCredentials::from_pem(
        read("v1-test-ca.pem"),
        read("v1-test-client.pem"),
        read("v1-test-client-key.pem"),
    );
    assert!(creds.is_ok(), "{:?}", creds.err());
    let mismatched = etcd_proxy::ClientCredentials::from_pem(
        read("v1-test-ca.pem"),
        read("v1-test-client.pem"),
        read("rsa-test-client-key.pkcs8.pem"),
    );
    assert!(mismatched.is_err());
}
