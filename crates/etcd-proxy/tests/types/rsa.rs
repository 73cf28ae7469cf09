//! RSA credentials, as easyrsa issues them for the deployed provider (PKCS#1 and PKCS#8 keys).

use std::path::Path;

use etcd_proxy::ClientCredentials;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair,
};

fn data(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn named(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

/// An RSA CA and an RSA `CN=client` certificate signed by it, made now from the stored keys.
fn rsa_pki() -> (String, String) {
    let ca_key = KeyPair::from_pem(&data("rsa-test-ca-key.pem")).unwrap();
    let client_key = KeyPair::from_pem(&data("rsa-test-client-key.pkcs8.pem")).unwrap();
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = named("Vault RSA CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_pem = ca_params.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca_params, ca_key);
    let mut params = CertificateParams::default();
    params.distinguished_name = named("client");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert_pem = params.signed_by(&client_key, &issuer).unwrap().pem();
    (ca_pem, cert_pem)
}

#[test]
fn rsa_credentials_with_a_pkcs1_or_pkcs8_key_are_valid() {
    let (ca, cert) = rsa_pki();
    for key in [
        "rsa-test-client-key.pkcs1.pem",
        "rsa-test-client-key.pkcs8.pem",
    ] {
        let creds = ClientCredentials::from_pem(&ca, &cert, data(key))
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(creds.common_name(), Some("client"));
    }
}

#[test]
fn an_rsa_key_of_another_certificate_does_not_match() {
    let (ca, cert) = rsa_pki();
    let err = ClientCredentials::from_pem(&ca, &cert, data("rsa-test-ca-key.pem")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "client_key: private key does not match client_cert"
    );
}

#[test]
fn an_rsa_certificate_is_checked_against_the_rsa_ca() {
    let (ca, cert) = rsa_pki();
    let key = data("rsa-test-client-key.pkcs1.pem");
    assert!(ClientCredentials::from_pem(&ca, &cert, &key).is_ok());
    // A CA with the same name but another RSA key: the issuer name matches, the RSA
    // signature must not.
    let other_key = KeyPair::from_pem(&data("rsa-test-client-key.pkcs8.pem")).unwrap();
    let mut impostor = CertificateParams::default();
    impostor.distinguished_name = named("Vault RSA CA");
    impostor.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let impostor_pem = impostor.self_signed(&other_key).unwrap().pem();
    let err = ClientCredentials::from_pem(&impostor_pem, &cert, &key).unwrap_err();
    assert_eq!(
        err.to_string(),
        "client_cert: signature does not verify with client_ca"
    );
}

/// etcd takes an 8192-bit RSA client key (ring loads at most 4096 bits): the contract does,
/// and the TLS client says plainly why it cannot sign with it.
#[test]
fn an_8192_bit_rsa_client_key_is_valid() {
    let (ca, cert, key) = (
        data("rsa-test-ca.pem"),
        data("rsa8192-test-client.pem"),
        data("rsa8192-test-client-key.pem"),
    );
    let creds = ClientCredentials::from_pem(&ca, &cert, &key).unwrap();
    assert_eq!(creds.common_name(), Some("client"));
    // Another key of the right kind does not match.
    let err =
        ClientCredentials::from_pem(&ca, &cert, data("rsa-test-client-key.pkcs8.pem")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "client_key: private key does not match client_cert"
    );
    let err = etcd_proxy::tls::ClientTls::from_credentials(&creds).unwrap_err();
    assert!(err.to_string().contains("RSA key of 8192 bits"), "{err}");
}

/// A CA with a 16384-bit RSA key (ring verifies signatures of keys up to 8192 bits): its
/// signature is checked all the same, and a wrong one is still refused.
#[test]
fn a_ca_with_a_16384_bit_rsa_key_signs_valid_certificates() {
    let (ca, cert, key) = (
        data("rsa16384-test-ca.pem"),
        data("rsa16384-test-client.pem"),
        data("rsa16384-test-client-key.pem"),
    );
    ClientCredentials::from_pem(&ca, &cert, &key).unwrap();
    // One base64 character of the signature (the last body line) changed.
    let mut lines: Vec<String> = cert.lines().map(str::to_owned).collect();
    let last = lines.len() - 2;
    let first = lines[last].remove(0);
    lines[last].insert(0, if first == 'A' { 'B' } else { 'A' });
    let tampered = lines.join("\n") + "\n";
    let err = ClientCredentials::from_pem(&ca, &tampered, &key).unwrap_err();
    assert_eq!(
        err.to_string(),
        "client_cert: signature does not verify with client_ca"
    );
}
