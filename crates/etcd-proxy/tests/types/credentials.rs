//! Client credentials built from a PKI generated at test time.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use etcd_proxy::testing::{CertSpec, TestPki};
use etcd_proxy::{ClientCredentials, CredentialKey, CredentialsProblem, SubjectAltName};

fn check(ca: &str, cert: &str, key: &str) -> Result<ClientCredentials, String> {
    ClientCredentials::from_pem(ca, cert, key).map_err(|e| e.to_string())
}

#[test]
fn the_provider_credentials_are_valid_and_described() {
    let pki = TestPki::generate();
    let creds = pki.credentials();
    assert_eq!(creds.common_name(), Some("client"));
    assert!(creds.has_common_name());
    assert_eq!(creds.subject(), "CN=client");
    assert_eq!(creds.issuer(), "CN=Test etcd CA");
    assert!(creds.not_before() < SystemTime::now());
    assert!(creds.not_after() > SystemTime::now() + Duration::from_secs(86_400 * 365 * 100));
    // The PEM texts are kept byte for byte, newlines included.
    assert_eq!(creds.ca_pem(), pki.ca_pem);
    assert_eq!(creds.cert_pem(), pki.client.cert_pem);
    assert_eq!(creds.key_pem(), pki.client.key_pem);
    assert!(creds.cert_pem().ends_with("-----END CERTIFICATE-----\n"));
    assert_eq!(creds.ca_ders().len(), 1);
}

#[test]
fn a_cnless_certificate_reports_no_common_name() {
    let pki = TestPki::generate();
    let creds = check(
        &pki.ca_pem,
        &pki.cnless_client.cert_pem,
        &pki.cnless_client.key_pem,
    )
    .unwrap();
    assert_eq!(creds.common_name(), None);
    assert!(!creds.has_common_name());
}

#[test]
fn sans_are_reported() {
    let pki = TestPki::generate();
    let server = pki.issue(&CertSpec::server("etcd0", &["127.0.0.1", "etcd0.example"]));
    let creds = check(&pki.ca_pem, &server.cert_pem, &server.key_pem).unwrap();
    assert_eq!(
        creds.sans(),
        [
            SubjectAltName::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            SubjectAltName::Dns("etcd0.example".into()),
        ]
    );
    assert_eq!(creds.sans()[0].to_string(), "IP:127.0.0.1");
}

#[test]
fn debug_never_shows_the_key() {
    let pki = TestPki::generate();
    let creds = pki.credentials();
    let debug = format!("{creds:?} {creds:#?}");
    assert!(debug.contains("<redacted>"), "{debug}");
    assert!(debug.contains("CN=client"), "{debug}");
    assert!(!debug.contains("PRIVATE KEY"), "{debug}");
    let key_body: Vec<&str> = pki
        .client
        .key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    for line in key_body {
        assert!(!debug.contains(line), "key material in Debug: {debug}");
    }
    let issued = format!("{:?}", pki.client);
    assert!(!issued.contains("PRIVATE KEY"));
}

#[test]
fn text_around_the_pem_sections_is_ignored_and_crlf_is_fine() {
    let pki = TestPki::generate();
    // easyrsa writes a human-readable dump before the certificate.
    let with_dump = format!(
        "Certificate:\n    Data:\n        Version: 3 (0x2)\n{}",
        pki.client.cert_pem
    );
    let crlf_key = pki.client.key_pem.replace('\n', "\r\n");
    let no_final_newline = pki.ca_pem.trim_end().to_owned();
    let creds = check(&no_final_newline, &with_dump, &crlf_key).unwrap();
    assert_eq!(creds.cert_pem(), with_dump);
}

#[test]
fn a_ca_bundle_is_accepted_when_one_of_them_signed_the_certificate() {
    let pki = TestPki::generate();
    let bundle = format!("{}{}", pki.other_ca_pem, pki.ca_pem);
    let creds = check(&bundle, &pki.client.cert_pem, &pki.client.key_pem).unwrap();
    assert_eq!(creds.ca_ders().len(), 2);
    // The impostor has the right name but the wrong key; the real CA after it still counts.
    let with_impostor = format!("{}{}", pki.impostor_ca_pem, pki.ca_pem);
    check(&with_impostor, &pki.client.cert_pem, &pki.client.key_pem).unwrap();
}

#[test]
fn each_broken_part_is_named() {
    let pki = TestPki::generate();
    let (ca, cert, key) = (&pki.ca_pem, &pki.client.cert_pem, &pki.client.key_pem);
    let cases: Vec<(String, String, String, &str)> = vec![
        (
            ca.clone(),
            cert.clone(),
            pki.unrelated_key_pem.clone(),
            "client_key: private key does not match client_cert",
        ),
        (
            ca.clone(),
            cert.clone(),
            cert.clone(),
            "client_key: a certificate where a private key belongs",
        ),
        (
            ca.clone(),
            key.clone(),
            key.clone(),
            "client_cert: contains a private key",
        ),
        (
            ca.clone(),
            cert.clone(),
            format!("{key}{key}"),
            "client_key: 2 private keys found, expected 1",
        ),
        (
            ca.clone(),
            format!("{cert}{cert}"),
            key.clone(),
            "client_cert: 2 certificates found, expected 1",
        ),
        (
            pki.other_ca_pem.clone(),
            cert.clone(),
            key.clone(),
            "client_cert: not issued by client_ca (issuer CN=Test etcd CA)",
        ),
        (
            pki.impostor_ca_pem.clone(),
            cert.clone(),
            key.clone(),
            "client_cert: signature does not verify with client_ca",
        ),
        (
            ca.clone(),
            pki.expired_client.cert_pem.clone(),
            pki.expired_client.key_pem.clone(),
            "client_cert: certificate expired at 2001-01-01T00:00:00Z",
        ),
        (
            ca.clone(),
            pki.future_client.cert_pem.clone(),
            pki.future_client.key_pem.clone(),
            "client_cert: certificate not valid before 3000-01-01T00:00:00Z",
        ),
        (
            pki.expired_ca_pem.clone(),
            pki.client_of_expired_ca.cert_pem.clone(),
            pki.client_of_expired_ca.key_pem.clone(),
            "client_ca: certificate expired at 2001-01-01T00:00:00Z",
        ),
    ];
    for (ca, cert, key, expected) in cases {
        let message = check(&ca, &cert, &key).unwrap_err();
        assert!(
            message.starts_with(expected),
            "expected {expected:?}, got {message:?}"
        );
        assert!(!message.contains('\n'));
    }
}

#[test]
fn expiry_is_judged_at_the_given_time() {
    let pki = TestPki::generate();
    let (cert, key) = (&pki.expired_client.cert_pem, &pki.expired_client.key_pem);
    let in_2000 = UNIX_EPOCH + Duration::from_secs(960_000_000);
    let creds = ClientCredentials::from_pem_at(&pki.ca_pem, cert, key, in_2000).unwrap();
    assert!(creds.not_after() < SystemTime::now());
    let err = ClientCredentials::from_pem(&pki.ca_pem, cert, key).unwrap_err();
    assert_eq!(err.key, CredentialKey::ClientCert);
    assert!(matches!(err.problem, CredentialsProblem::Expired { .. }));
}

#[test]
fn errors_never_contain_key_material() {
    let pki = TestPki::generate();
    let key = &pki.client.key_pem;
    let body: Vec<&str> = key.lines().filter(|l| !l.starts_with("-----")).collect();
    let attempts = [
        check(&pki.ca_pem, key, key),
        check(key, key, key),
        check(&pki.ca_pem, &pki.client.cert_pem, &format!("{key}{key}")),
        check(&pki.ca_pem, &pki.client.cert_pem, &key[..key.len() / 2]),
        check(&pki.ca_pem, &pki.client.cert_pem, &key.replace('M', "*")),
    ];
    for attempt in attempts {
        let message = attempt.unwrap_err();
        for line in &body {
            assert!(!message.contains(line), "{message}");
        }
    }
}

#[test]
fn an_old_style_encrypted_key_is_called_what_it_is() {
    let pki = TestPki::generate();
    // What `openssl genrsa -aes128` (OpenSSL 1.x) writes: RFC 1421 headers, then base64.
    let encrypted = "-----BEGIN RSA PRIVATE KEY-----\n\
                     Proc-Type: 4,ENCRYPTED\n\
                     DEK-Info: AES-128-CBC,3F17F5316E2BAC89BE3AE6AA2E4B1A2C\n\
                     \n\
                     dGhpcyBpcyBub3QgYSByZWFsIGtleSwganVzdCBjaXBoZXJ0ZXh0IGJ5dGVz\n\
                     -----END RSA PRIVATE KEY-----\n";
    let message = check(&pki.ca_pem, &pki.client.cert_pem, encrypted).unwrap_err();
    assert!(
        message.starts_with("client_key: an encrypted private key"),
        "{message}"
    );
    assert!(!message.contains("base64"), "{message}");
    // In a certificate value it is a private key that must not be saved world-readable.
    let message = check(
        &pki.ca_pem,
        &format!("{}{encrypted}", pki.client.cert_pem),
        &pki.client.key_pem,
    )
    .unwrap_err();
    assert!(
        message.starts_with("client_cert: contains a private key"),
        "{message}"
    );
}

/// etcd (Go crypto/x509 and crypto/tls) refuses these; so does the contract.
#[test]
fn what_etcd_refuses_is_refused() {
    let pki = TestPki::generate();
    let message = check(
        &pki.non_ca_issuer_pem,
        &pki.client_of_non_ca.cert_pem,
        &pki.client_of_non_ca.key_pem,
    )
    .unwrap_err();
    assert_eq!(
        message,
        "client_cert: the issuing certificate is not a CA (basicConstraints CA:FALSE)"
    );
    let message = check(
        &pki.ca_pem,
        &pki.server_only_client.cert_pem,
        &pki.server_only_client.key_pem,
    )
    .unwrap_err();
    assert!(
        message.starts_with("client_cert: extended key usage lacks clientAuth"),
        "{message}"
    );
    let mismatched = pki.recipe("cert_sig_alg_mismatch").unwrap();
    let message = check(&pki.ca_pem, &mismatched, &pki.client.key_pem).unwrap_err();
    assert_eq!(
        message,
        "client_cert: its two signature algorithm fields differ"
    );
    // A certificate without any extended key usage is fine (Go treats it as any usage).
    let plain = pki.issue(&CertSpec {
        no_client_auth: true,
        ..CertSpec::client("client")
    });
    check(&pki.ca_pem, &plain.cert_pem, &plain.key_pem).unwrap();
}
