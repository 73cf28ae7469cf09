//! A throw-away PKI made with rcgen: a CA, the certificates the deployed provider sends, and
//! the broken variants the tests need.

use std::fmt;

use juju_hooks::Databag;
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::credentials::ClientCredentials;
use crate::wire::{KEY_CLIENT_CA, KEY_CLIENT_CERT, KEY_CLIENT_KEY, KEY_CLUSTER};

/// When a generated certificate is valid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TestValidity {
    /// From 1975 to 4096 (rcgen's default): valid whenever the tests run.
    #[default]
    Current,
    /// 2000 to 2001: expired.
    Expired,
    /// From the year 3000: not yet valid.
    NotYetValid,
}

/// What certificate to issue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertSpec {
    /// The subject CN; `None` gives an empty subject (what `etcd grpc-proxy` needs).
    pub common_name: Option<String>,
    /// Subject alternative names: IP addresses or DNS names.
    pub sans: Vec<String>,
    /// Add the serverAuth usage (etcd member certificates); clientAuth is present unless
    /// [`Self::no_client_auth`].
    pub server: bool,
    /// Leave clientAuth out of the extended key usage (a server-only certificate, which etcd
    /// refuses as a client certificate).
    pub no_client_auth: bool,
    /// The validity period.
    pub validity: TestValidity,
}

impl CertSpec {
    /// A client certificate with the given CN, like easyrsa's `build-client-full client`.
    pub fn client(common_name: &str) -> Self {
        Self {
            common_name: Some(common_name.to_owned()),
            ..Self::default()
        }
    }

    /// A server-and-client certificate for etcd members on the given addresses.
    pub fn server(common_name: &str, sans: &[&str]) -> Self {
        Self {
            common_name: Some(common_name.to_owned()),
            sans: sans.iter().map(|s| (*s).to_owned()).collect(),
            server: true,
            no_client_auth: false,
            validity: TestValidity::Current,
        }
    }
}

/// A certificate and its private key, as PEM texts ending in a newline.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedCert {
    /// The certificate.
    pub cert_pem: String,
    /// The private key (PKCS#8). Secret, even in tests: `Debug` hides it.
    pub key_pem: String,
}

impl fmt::Debug for IssuedCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCert")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &format_args!("<redacted>"))
            .finish()
    }
}

/// A CA and the certificates the tests need, generated fresh (ECDSA P-256) on every call.
pub struct TestPki {
    /// The CA certificate (CN `Test etcd CA`), what the provider sends as `client_ca`.
    pub ca_pem: String,
    ca: Issuer<'static, KeyPair>,
    /// The client certificate the deployed provider sends: CN `client`, signed by the CA.
    pub client: IssuedCert,
    /// A valid client certificate without a subject CN (usable with `etcd grpc-proxy`).
    pub cnless_client: IssuedCert,
    /// A client certificate that expired in 2001.
    pub expired_client: IssuedCert,
    /// A client certificate valid only from the year 3000.
    pub future_client: IssuedCert,
    /// Another CA, unrelated to [`Self::ca_pem`].
    pub other_ca_pem: String,
    /// A CN=`client` certificate signed by the other CA.
    pub foreign_client: IssuedCert,
    /// A CA with the same name as the real one but another key: its name matches the client
    /// certificate's issuer, its signature does not.
    pub impostor_ca_pem: String,
    /// A CA certificate that expired in 2001, and a client certificate it signed.
    pub expired_ca_pem: String,
    /// A current client certificate signed by the expired CA.
    pub client_of_expired_ca: IssuedCert,
    /// A private key that belongs to none of the certificates.
    pub unrelated_key_pem: String,
    /// An issuer whose basic constraints say CA:FALSE, and a client certificate it signed.
    pub non_ca_issuer_pem: String,
    /// A CN=`client` certificate signed by the CA:FALSE issuer.
    pub client_of_non_ca: IssuedCert,
    /// A CN=`client` certificate whose extended key usage is serverAuth only.
    pub server_only_client: IssuedCert,
}

impl fmt::Debug for TestPki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestPki").finish_non_exhaustive()
    }
}

const CA_NAME: &str = "Test etcd CA";

fn new_key() -> KeyPair {
    KeyPair::generate().expect("rcgen generates an ECDSA key")
}

fn ca_params(name: &str, validity: TestValidity) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, name.to_owned());
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    set_validity(&mut params, validity);
    params
}

fn set_validity(params: &mut CertificateParams, validity: TestValidity) {
    match validity {
        TestValidity::Current => {}
        TestValidity::Expired => {
            params.not_before = date_time_ymd(2000, 1, 1);
            params.not_after = date_time_ymd(2001, 1, 1);
        }
        TestValidity::NotYetValid => {
            params.not_before = date_time_ymd(3000, 1, 1);
            params.not_after = date_time_ymd(3001, 1, 1);
        }
    }
}

/// A self-signed CA: its PEM and an issuer for signing.
fn make_ca(name: &str, validity: TestValidity) -> (String, Issuer<'static, KeyPair>) {
    let key = new_key();
    let params = ca_params(name, validity);
    let cert = params.self_signed(&key).expect("rcgen self-signs a CA");
    (cert.pem(), Issuer::new(params, key))
}

fn issue_with(issuer: &Issuer<'static, KeyPair>, spec: &CertSpec) -> IssuedCert {
    let key = new_key();
    let mut params = CertificateParams::new(spec.sans.clone()).expect("valid test SANs");
    params.distinguished_name = DistinguishedName::new();
    if let Some(cn) = &spec.common_name {
        params
            .distinguished_name
            .push(DnType::CommonName, cn.clone());
    }
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = if spec.no_client_auth {
        Vec::new()
    } else {
        vec![ExtendedKeyUsagePurpose::ClientAuth]
    };
    if spec.server {
        params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::ServerAuth);
    }
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, spec.validity);
    let cert = params
        .signed_by(&key, issuer)
        .expect("rcgen signs a certificate");
    IssuedCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

impl TestPki {
    /// Generates everything. Takes a few milliseconds.
    ///
    /// # Panics
    /// If rcgen fails, which it does not for these fixed parameters.
    pub fn generate() -> Self {
        let (ca_pem, ca) = make_ca(CA_NAME, TestValidity::Current);
        let (other_ca_pem, other_ca) = make_ca("Other CA", TestValidity::Current);
        let (impostor_ca_pem, _) = make_ca(CA_NAME, TestValidity::Current);
        let (expired_ca_pem, expired_ca) = make_ca("Expired CA", TestValidity::Expired);
        let non_ca_key = new_key();
        let mut non_ca = ca_params("Not a CA", TestValidity::Current);
        non_ca.is_ca = IsCa::ExplicitNoCa;
        let non_ca_issuer_pem = non_ca
            .self_signed(&non_ca_key)
            .expect("rcgen self-signs")
            .pem();
        let non_ca = Issuer::new(non_ca, non_ca_key);
        let server_only = CertSpec {
            server: true,
            no_client_auth: true,
            ..CertSpec::client("client")
        };
        let expired = CertSpec {
            validity: TestValidity::Expired,
            ..CertSpec::client("client")
        };
        let future = CertSpec {
            validity: TestValidity::NotYetValid,
            ..CertSpec::client("client")
        };
        Self {
            client: issue_with(&ca, &CertSpec::client("client")),
            cnless_client: issue_with(&ca, &CertSpec::default()),
            expired_client: issue_with(&ca, &expired),
            future_client: issue_with(&ca, &future),
            foreign_client: issue_with(&other_ca, &CertSpec::client("client")),
            client_of_expired_ca: issue_with(&expired_ca, &CertSpec::client("client")),
            unrelated_key_pem: new_key().serialize_pem(),
            client_of_non_ca: issue_with(&non_ca, &CertSpec::client("client")),
            server_only_client: issue_with(&ca, &server_only),
            non_ca_issuer_pem,
            ca_pem,
            ca,
            other_ca_pem,
            impostor_ca_pem,
            expired_ca_pem,
        }
    }

    /// Issues another certificate from the CA (e.g. etcd member certificates for 127.0.0.1).
    ///
    /// # Panics
    /// If a SAN is neither an IP address nor a valid DNS name.
    pub fn issue(&self, spec: &CertSpec) -> IssuedCert {
        issue_with(&self.ca, spec)
    }

    /// The valid CN=`client` credentials, validated.
    ///
    /// # Panics
    /// Never for a generated PKI; a panic means the validation under test is broken.
    pub fn credentials(&self) -> ClientCredentials {
        ClientCredentials::from_pem(&self.ca_pem, &self.client.cert_pem, &self.client.key_pem)
            .expect("the generated client credentials are valid")
    }

    /// Exactly what the deployed Python provider (layer-etcd with interface-etcd-proxy) writes
    /// into its unit databag: four keys, raw strings, PEM files as read from disk.
    pub fn python_provider_databag(&self, cluster: &str) -> Databag {
        [
            (KEY_CLUSTER, cluster),
            (KEY_CLIENT_CA, self.ca_pem.as_str()),
            (KEY_CLIENT_CERT, self.client.cert_pem.as_str()),
            (KEY_CLIENT_KEY, self.client.key_pem.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// A named value built from this PKI, for corpus entries written `"@pki:NAME"`.
    /// Returns `None` for an unknown name. See [`Self::RECIPES`].
    pub fn recipe(&self, name: &str) -> Option<String> {
        let client = &self.client;
        let value = match name {
            "ca" => self.ca_pem.clone(),
            "client_cert" => client.cert_pem.clone(),
            "client_key" => client.key_pem.clone(),
            "ca_truncated" => cut_in_half(&self.ca_pem),
            "client_cert_truncated" => cut_in_half(&client.cert_pem),
            "client_key_truncated" => cut_in_half(&client.key_pem),
            "client_cert_missing_end" => without_end_line(&client.cert_pem),
            "client_key_missing_end" => without_end_line(&client.key_pem),
            "client_cert_body_halved" => halve_body(&client.cert_pem),
            "client_key_body_halved" => halve_body(&client.key_pem),
            "client_cert_bad_base64" => corrupt_base64(&client.cert_pem),
            "client_key_bad_base64" => corrupt_base64(&client.key_pem),
            "client_cert_as_key" => client.cert_pem.clone(),
            "ca_as_key" => self.ca_pem.clone(),
            "client_key_as_cert" => client.key_pem.clone(),
            "client_key_as_ca" => client.key_pem.clone(),
            "two_keys" => format!("{}{}", client.key_pem, self.unrelated_key_pem),
            "same_key_twice" => format!("{}{}", client.key_pem, client.key_pem),
            "key_and_cert" => format!("{}{}", client.key_pem, client.cert_pem),
            "two_client_certs" => format!("{}{}", client.cert_pem, self.cnless_client.cert_pem),
            "cert_with_key" => format!("{}{}", client.cert_pem, client.key_pem),
            "ca_with_key" => format!("{}{}", self.ca_pem, self.unrelated_key_pem),
            "unrelated_key" => self.unrelated_key_pem.clone(),
            "cnless_key" => self.cnless_client.key_pem.clone(),
            "expired_cert" => self.expired_client.cert_pem.clone(),
            "expired_key" => self.expired_client.key_pem.clone(),
            "future_cert" => self.future_client.cert_pem.clone(),
            "future_key" => self.future_client.key_pem.clone(),
            "foreign_cert" => self.foreign_client.cert_pem.clone(),
            "foreign_key" => self.foreign_client.key_pem.clone(),
            "other_ca" => self.other_ca_pem.clone(),
            "impostor_ca" => self.impostor_ca_pem.clone(),
            "expired_ca" => self.expired_ca_pem.clone(),
            "client_of_expired_ca_cert" => self.client_of_expired_ca.cert_pem.clone(),
            "client_of_expired_ca_key" => self.client_of_expired_ca.key_pem.clone(),
            "ca_bundle_17" => self.ca_pem.repeat(17),
            "encrypted_key" => relabel(&client.key_pem, "PRIVATE KEY", "ENCRYPTED PRIVATE KEY"),
            "openssh_key" => relabel(&client.key_pem, "PRIVATE KEY", "OPENSSH PRIVATE KEY"),
            "key_as_public_key" => relabel(&client.key_pem, "PRIVATE KEY", "PUBLIC KEY"),
            "cert_as_csr" => relabel(&client.cert_pem, "CERTIFICATE", "CERTIFICATE REQUEST"),
            "cert_as_crl" => relabel(&client.cert_pem, "CERTIFICATE", "X509 CRL"),
            "cert_labelled_key" => relabel(&client.cert_pem, "CERTIFICATE", "PRIVATE KEY"),
            "key_labelled_cert" => relabel(&client.key_pem, "PRIVATE KEY", "CERTIFICATE"),
            "cert_with_trailing_der" => append_der_byte(&client.cert_pem),
            "huge_cert" => format!("{}{}", client.cert_pem, "#".repeat(300 * 1024)),
            "cert_sig_alg_mismatch" => inner_sig_alg_sha384(&client.cert_pem),
            "server_only_cert" => self.server_only_client.cert_pem.clone(),
            "server_only_key" => self.server_only_client.key_pem.clone(),
            _ => return None,
        };
        Some(value)
    }

    /// Every name [`Self::recipe`] knows.
    pub const RECIPES: &'static [&'static str] = &[
        "ca",
        "client_cert",
        "client_key",
        "ca_truncated",
        "client_cert_truncated",
        "client_key_truncated",
        "client_cert_missing_end",
        "client_key_missing_end",
        "client_cert_body_halved",
        "client_key_body_halved",
        "client_cert_bad_base64",
        "client_key_bad_base64",
        "client_cert_as_key",
        "ca_as_key",
        "client_key_as_cert",
        "client_key_as_ca",
        "two_keys",
        "same_key_twice",
        "key_and_cert",
        "two_client_certs",
        "cert_with_key",
        "ca_with_key",
        "unrelated_key",
        "cnless_key",
        "expired_cert",
        "expired_key",
        "future_cert",
        "future_key",
        "foreign_cert",
        "foreign_key",
        "other_ca",
        "impostor_ca",
        "expired_ca",
        "client_of_expired_ca_cert",
        "client_of_expired_ca_key",
        "ca_bundle_17",
        "encrypted_key",
        "openssh_key",
        "key_as_public_key",
        "cert_as_csr",
        "cert_as_crl",
        "cert_labelled_key",
        "key_labelled_cert",
        "cert_with_trailing_der",
        "huge_cert",
        "cert_sig_alg_mismatch",
        "server_only_cert",
        "server_only_key",
    ];
}

/// The first half of the text: the END line is gone.
fn cut_in_half(pem: &str) -> String {
    let mut end = pem.len() / 2;
    while !pem.is_char_boundary(end) {
        end -= 1;
    }
    pem[..end].to_owned()
}

fn without_end_line(pem: &str) -> String {
    pem.lines()
        .filter(|line| !line.starts_with("-----END "))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// Keeps the BEGIN and END lines but drops the second half of the base64 body.
fn halve_body(pem: &str) -> String {
    let lines: Vec<&str> = pem.lines().collect();
    let body = &lines[1..lines.len() - 1];
    let kept = &body[..body.len() / 2];
    let mut out = format!("{}\n", lines[0]);
    for line in kept {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(lines[lines.len() - 1]);
    out.push('\n');
    out
}

/// Puts a character that is not base64 in the middle of the body.
fn corrupt_base64(pem: &str) -> String {
    let mut lines: Vec<String> = pem.lines().map(str::to_owned).collect();
    let middle = lines.len() / 2;
    lines[middle].replace_range(0..1, "*");
    lines.join("\n") + "\n"
}

fn relabel(pem: &str, from: &str, to: &str) -> String {
    pem.replace(&format!("BEGIN {from}-"), &format!("BEGIN {to}-"))
        .replace(&format!("END {from}-"), &format!("END {to}-"))
}

/// Appends a zero byte to the certificate's DER and re-encodes it.
fn append_der_byte(pem: &str) -> String {
    let der =
        CertificateDer::from_pem_slice(pem.as_bytes()).expect("a generated certificate parses");
    let mut bytes = der.as_ref().to_vec();
    bytes.push(0);
    certificate_pem(&bytes)
}

/// The certificate with the signature algorithm inside the signed part (the first of the
/// two, in `tbsCertificate`) changed from ecdsa-with-SHA256 to ecdsa-with-SHA384, the outer
/// one left alone: what etcd's Go TLS refuses as "inner and outer signature algorithm
/// identifiers don't match".
fn inner_sig_alg_sha384(pem: &str) -> String {
    const ECDSA_SHA256: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    let der =
        CertificateDer::from_pem_slice(pem.as_bytes()).expect("a generated certificate parses");
    let mut bytes = der.as_ref().to_vec();
    let at = bytes
        .windows(ECDSA_SHA256.len())
        .position(|w| w == ECDSA_SHA256)
        .expect("rcgen signs with ecdsa-with-SHA256");
    bytes[at + ECDSA_SHA256.len() - 1] = 0x03;
    certificate_pem(&bytes)
}

fn certificate_pem(bytes: &[u8]) -> String {
    let body = base64(bytes);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Standard base64 with padding (test data only; not constant-time).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
