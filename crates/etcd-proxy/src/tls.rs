//! TLS client material for talking to etcd: trust exactly one CA (the cluster's, never the
//! system roots) and present a client certificate, as etcd's client-cert auth demands.
//!
//! The PEMs are checked up front by building a rustls `ClientConfig` (ring provider), so a
//! certificate that does not match its key is a typed error here instead of a failure deep in
//! the HTTP stack.
//!
//! X.509 v1 client certificates (what `openssl x509 -req` makes without extensions) work as
//! they do with etcd, whose Go TLS accepts them: rustls checks that a key matches its
//! certificate by parsing the certificate with webpki, which refuses v1, so the check is made
//! here on the raw SubjectPublicKeyInfo instead, and rustls is handed keys that do not
//! offer it their public half (it then skips its own check). Nothing else on the client side
//! parses the client certificate; the server judges it.

use std::fmt;
use std::sync::Arc;

use rustls::crypto::{CryptoProvider, KeyProvider};
use rustls::sign::{Signer, SigningKey};
use rustls::{ClientConfig, RootCertStore, SignatureAlgorithm, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::credentials::ClientCredentials;

/// The PEM material could not be turned into a TLS client configuration.
///
/// Messages name the offending part, never its contents.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The CA PEM holds no certificate.
    #[error("the CA PEM holds no certificate")]
    NoCaCertificate,
    /// A CA certificate could not be parsed or is unusable as a trust anchor.
    #[error("the CA certificate is invalid: {0}")]
    BadCa(String),
    /// The client certificate PEM holds no certificate.
    #[error("the client certificate PEM holds no certificate")]
    NoClientCertificate,
    /// The client certificate PEM could not be decoded.
    #[error("the client certificate PEM is invalid: {0}")]
    BadClientCertificate(String),
    /// The private key PEM holds no (PKCS#1, PKCS#8 or SEC1) key, or cannot be decoded.
    #[error("the client key PEM holds no usable private key")]
    BadKey,
    /// An RSA key larger than ring signs with (etcd takes it; this client cannot use it).
    #[error(
        "the client key is an RSA key of {bits} bits; this TLS client signs with at most 4096 \
         (etcd itself takes it)"
    )]
    KeyTooLarge {
        /// The modulus size.
        bits: usize,
    },
    /// rustls refused the certificate and key, typically because they do not belong together.
    #[error("the client certificate and key are unusable together: {0}")]
    Unusable(String),
}

/// Where etcd requests go, and with what identity: the trusted CA plus an optional client
/// certificate chain and key. Cheap to clone.
#[derive(Clone)]
pub struct ClientTls {
    ca_count: usize,
    has_identity: bool,
    config: Arc<ClientConfig>,
    ureq: ureq::tls::TlsConfig,
}

impl ClientTls {
    /// Trust only the certificates in `ca_pem`; authenticate with `cert_pem` (leaf first,
    /// optionally followed by intermediates) and `key_pem`.
    ///
    /// # Errors
    /// A [`TlsError`] naming the part that is missing, undecodable or inconsistent.
    pub fn from_pem(ca_pem: &str, cert_pem: &str, key_pem: &str) -> Result<Self, TlsError> {
        let roots = parse_ca(ca_pem)?;
        let chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::BadClientCertificate(e.to_string()))?;
        if chain.is_empty() {
            return Err(TlsError::NoClientCertificate);
        }
        let key =
            PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|_| TlsError::BadKey)?;
        check_pair(&chain[0], &key)?;
        let config = builder(&roots)?
            .with_client_auth_cert(chain.clone(), key)
            .map_err(|e| TlsError::Unusable(e.to_string()))?;
        // ureq keeps its own copy; its PEM reader accepts what rustls-pki-types did above.
        let ureq_key =
            ureq::tls::PrivateKey::from_pem(key_pem.as_bytes()).map_err(|_| TlsError::BadKey)?;
        let ureq_chain: Vec<ureq::tls::Certificate<'static>> = chain
            .iter()
            .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
            .collect();
        let identity = ureq::tls::ClientCert::new_with_certs(&ureq_chain, ureq_key);
        Ok(ClientTls {
            ca_count: roots.len(),
            has_identity: true,
            config: Arc::new(config),
            ureq: ureq_config(&roots, Some(identity)),
        })
    }

    /// The relation's validated credentials: trust their CA, present their certificate.
    ///
    /// # Errors
    /// As [`ClientTls::from_pem`] (not expected for validated credentials, but rustls has
    /// the last word).
    pub fn from_credentials(credentials: &ClientCredentials) -> Result<Self, TlsError> {
        Self::from_pem(
            credentials.ca_pem(),
            credentials.cert_pem(),
            credentials.key_pem(),
        )
    }

    /// Trust only the certificates in `ca_pem` and present no client certificate (etcd with
    /// client-cert auth will refuse such a client; useful to check exactly that).
    ///
    /// # Errors
    /// [`TlsError::NoCaCertificate`] or [`TlsError::BadCa`].
    pub fn anonymous(ca_pem: &str) -> Result<Self, TlsError> {
        let roots = parse_ca(ca_pem)?;
        let config = builder(&roots)?.with_no_client_auth();
        Ok(ClientTls {
            ca_count: roots.len(),
            has_identity: false,
            config: Arc::new(config),
            ureq: ureq_config(&roots, None),
        })
    }

    /// Whether a client certificate is presented.
    pub fn has_client_certificate(&self) -> bool {
        self.has_identity
    }

    /// The equivalent rustls configuration (ring provider, TLS 1.2 and 1.3), for callers
    /// with their own transport.
    pub fn rustls_config(&self) -> Arc<ClientConfig> {
        Arc::clone(&self.config)
    }

    /// The same material as a ureq TLS configuration.
    pub(crate) fn ureq_config(&self) -> ureq::tls::TlsConfig {
        self.ureq.clone()
    }
}

fn ureq_config(
    roots: &[CertificateDer<'static>],
    identity: Option<ureq::tls::ClientCert>,
) -> ureq::tls::TlsConfig {
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let roots: Vec<Certificate<'static>> = roots
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    TlsConfig::builder()
        .root_certs(RootCerts::Specific(Arc::new(roots)))
        .client_cert(identity)
        .unversioned_rustls_crypto_provider(provider())
        .build()
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTls")
            .field("ca_certificates", &self.ca_count)
            .field("client_certificate", &self.has_identity)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// ring, with keys loaded by [`UncheckedKeys`].
fn provider() -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        key_provider: &UncheckedKeys,
        ..rustls::crypto::ring::default_provider()
    })
}

/// The client key belongs to the first certificate of the chain: their public keys (as
/// SubjectPublicKeyInfo) are the same.
fn check_pair(leaf: &CertificateDer<'_>, key: &PrivateKeyDer<'_>) -> Result<(), TlsError> {
    let signing = rustls::crypto::ring::sign::any_supported_type(key).map_err(|_| {
        match crate::big_rsa::private_key_parts(key) {
            Some(rsa) if rsa.bits() > 4096 => TlsError::KeyTooLarge { bits: rsa.bits() },
            _ => TlsError::BadKey,
        }
    })?;
    let spki = signing.public_key().ok_or(TlsError::BadKey)?;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref())
        .map_err(|e| TlsError::BadClientCertificate(crate::cluster::excerpt(&e.to_string())))?;
    if spki.as_ref() == cert.public_key().raw {
        Ok(())
    } else {
        Err(TlsError::Unusable(
            "the private key does not belong to the client certificate".into(),
        ))
    }
}

/// ring's key loading, with keys that keep their public half to themselves, so that rustls
/// leaves the key-matches-certificate check to [`check_pair`] (see the module docs).
#[derive(Debug)]
struct UncheckedKeys;

impl KeyProvider for UncheckedKeys {
    fn load_private_key(
        &self,
        key_der: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        let key = rustls::crypto::ring::sign::any_supported_type(&key_der)?;
        Ok(Arc::new(UncheckedKey(key)))
    }
}

/// A ring signing key without [`SigningKey::public_key`].
#[derive(Debug)]
struct UncheckedKey(Arc<dyn SigningKey>);

impl SigningKey for UncheckedKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        self.0.choose_scheme(offered)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.0.algorithm()
    }
}

fn parse_ca(ca_pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let roots = CertificateDer::pem_slice_iter(ca_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadCa(e.to_string()))?;
    if roots.is_empty() {
        return Err(TlsError::NoCaCertificate);
    }
    Ok(roots)
}

fn builder(
    roots: &[CertificateDer<'static>],
) -> Result<rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>, TlsError> {
    let mut store = RootCertStore::empty();
    for root in roots {
        store
            .add(root.clone())
            .map_err(|e| TlsError::BadCa(e.to_string()))?;
    }
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Unusable(e.to_string()))?
        .with_root_certificates(store))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(cn: Option<&str>) -> (String, String, String) {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let mut leaf = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        leaf.distinguished_name = rcgen::DistinguishedName::new();
        if let Some(cn) = cn {
            leaf.distinguished_name.push(rcgen::DnType::CommonName, cn);
        }
        let cert = leaf.signed_by(&key, &issuer).unwrap();
        (ca_cert.pem(), cert.pem(), key.serialize_pem())
    }

    #[test]
    fn accepts_a_matching_certificate_and_key() {
        let (ca, cert, key) = issue(Some("client"));
        let tls = ClientTls::from_pem(&ca, &cert, &key).unwrap();
        assert!(tls.has_client_certificate());
        assert!(tls.rustls_config().client_auth_cert_resolver.has_certs());
    }

    #[test]
    fn rejects_a_key_of_another_certificate() {
        let (ca, cert, _) = issue(Some("client"));
        let (_, _, other_key) = issue(None);
        let err = ClientTls::from_pem(&ca, &cert, &other_key).unwrap_err();
        assert!(matches!(err, TlsError::Unusable(_)), "{err:?}");
    }

    /// What `openssl x509 -req` makes without extensions; etcd accepts it, and so does the
    /// client that asks etcd for its members (webpki alone would refuse it).
    #[test]
    fn an_x509_v1_client_certificate_makes_a_client() {
        let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
        let read = |name: &str| std::fs::read_to_string(format!("{data}/{name}")).unwrap();
        let (ca, cert, key) = (
            read("v1-test-ca.pem"),
            read("v1-test-client.pem"),
            read("v1-test-client-key.pem"),
        );
        let tls = ClientTls::from_pem(&ca, &cert, &key).unwrap();
        assert!(tls.has_client_certificate());
        let (_, _, other_key) = issue(None);
        let err = ClientTls::from_pem(&ca, &cert, &other_key).unwrap_err();
        assert!(matches!(err, TlsError::Unusable(_)), "{err:?}");
    }

    #[test]
    fn rejects_missing_parts_by_name() {
        let (ca, cert, key) = issue(None);
        assert!(matches!(
            ClientTls::from_pem("", &cert, &key),
            Err(TlsError::NoCaCertificate)
        ));
        assert!(matches!(
            ClientTls::from_pem(&ca, "garbage", &key),
            Err(TlsError::NoClientCertificate)
        ));
        assert!(matches!(
            ClientTls::from_pem(&ca, &cert, &cert),
            Err(TlsError::BadKey)
        ));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let (ca, cert, key) = issue(None);
        let tls = ClientTls::from_pem(&ca, &cert, &key).unwrap();
        let shown = format!("{tls:?}");
        assert!(shown.contains("redacted"));
        assert!(!shown.contains("PRIVATE KEY"));
        let body: String = key.lines().nth(1).unwrap().chars().take(20).collect();
        assert!(!shown.contains(&body));
    }
}
