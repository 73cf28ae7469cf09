//! TLS client credentials as the provider publishes them: a CA, a client certificate and its
//! private key, each a PEM text — validated before anyone saves or uses them.
//!
//! # What "valid" means
//!
//! Checked in this order; the first failure is the reported reason, naming its key:
//!
//! 1. Each value is at most [`MAX_PEM_LEN`] bytes and well-formed PEM (no truncated section, no
//!    bad base64). Text outside the PEM sections is ignored, as openssl does: easyrsa writes a
//!    human-readable dump before the certificate.
//! 2. `client_ca` holds 1 to [`MAX_CA_CERTIFICATES`] certificates (a bundle is allowed, so a
//!    provider can publish the old and the new CA while it rotates them) and nothing else.
//! 3. `client_cert` holds exactly one certificate and nothing else. A chain is not accepted:
//!    the deployed provider sends a single leaf signed directly by the CA.
//! 4. `client_key` holds exactly one private key (PKCS#8, PKCS#1 RSA or SEC1 EC; not
//!    encrypted) and nothing else — a certificate where the key belongs is refused.
//! 5. A value other than `client_key` that contains any private key is refused: certificates
//!    are saved world-readable, and a key pasted into one would leak.
//! 6. Every certificate is DER that parses as X.509.
//! 7. The key matches the certificate (same public key).
//! 8. The certificate is signed by one of the CA certificates (issuer name and signature),
//!    and, as etcd's Go TLS demands, the two signature-algorithm fields of each certificate
//!    agree, the signing CA certificate does not say CA:FALSE, and an extended key usage,
//!    when present, includes clientAuth.
//! 9. The certificate, and the CA certificate that signed it, are within their validity period
//!    now. An expired or not-yet-valid certificate fails every TLS handshake, so it is
//!    reported as invalid with its dates rather than rendered into a proxy that cannot connect.
//!
//! Checks 7 and 8 cost most (a public key derived from the private key, a signature
//! verified). Texts that passed them before, listed by their [`Proofs`], skip them: the same
//! publication is validated again by every command of a hook and in every later hook.
//!
//! Error messages never contain key material, nor any excerpt of a value.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls_pki_types::pem::{self, PemObject, SectionKind};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest as _, Sha256};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

/// The largest PEM value accepted (256 KiB): a CA bundle of 16 large certificates fits many
/// times over; hostile input is refused before it is decoded.
pub const MAX_PEM_LEN: usize = 256 * 1024;

/// The most certificates accepted in `client_ca`.
pub const MAX_CA_CERTIFICATES: usize = 16;

/// Which of the three credential values a problem is about; named as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CredentialKey {
    /// `client_ca`.
    ClientCa,
    /// `client_cert`.
    ClientCert,
    /// `client_key`.
    ClientKey,
}

impl CredentialKey {
    /// The relation key (`client_ca`, `client_cert`, `client_key`).
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKey::ClientCa => crate::wire::KEY_CLIENT_CA,
            CredentialKey::ClientCert => crate::wire::KEY_CLIENT_CERT,
            CredentialKey::ClientKey => crate::wire::KEY_CLIENT_KEY,
        }
    }
}

impl fmt::Display for CredentialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with a credential value. Messages are one line and carry no input text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsProblem {
    /// The value is empty.
    #[error("empty value")]
    Empty,
    /// The value is larger than [`MAX_PEM_LEN`].
    #[error("value too large ({len} bytes, at most {max})")]
    TooLarge {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A PEM section has a BEGIN line but no matching END line.
    #[error("truncated PEM: a section has no END line")]
    Truncated,
    /// A line starting with `-----BEGIN ` is malformed.
    #[error("malformed PEM BEGIN line")]
    MalformedBegin,
    /// The base64 body of a section does not decode.
    #[error("malformed PEM: invalid base64")]
    BadBase64,
    /// No PEM section of the expected kind.
    #[error("no PEM {expected} found")]
    NotFound {
        /// What was expected (`certificate`, `private key`).
        expected: &'static str,
    },
    /// More items than allowed.
    #[error("{found} {what}s found, expected {expected}")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// How many were found.
        found: usize,
        /// How many are allowed (`1`, `at most 16`).
        expected: String,
    },
    /// A certificate where a private key belongs.
    #[error("a certificate where a private key belongs")]
    CertificateInsteadOfKey,
    /// A private key inside a certificate value, which would be saved world-readable.
    #[error("contains a private key; refused so it is never saved world-readable")]
    ContainsPrivateKey,
    /// A PEM section of another kind (e.g. a CSR, a CRL, a public key).
    #[error("unexpected PEM section '{label}'")]
    UnexpectedSection {
        /// The section's label, as recognised.
        label: &'static str,
    },
    /// An encrypted private key, which a proxy cannot use without a passphrase.
    #[error("encrypted or unsupported private key format; an unencrypted PKCS#8, PKCS#1 or SEC1 key is needed")]
    UnsupportedKeyFormat,
    /// An old-style (OpenSSL "traditional") encrypted PEM key: `Proc-Type: 4,ENCRYPTED`
    /// headers in the section, which is not plain base64 then.
    #[error(
        "an encrypted private key (PEM Proc-Type: 4,ENCRYPTED); the proxy cannot use it without \
         its passphrase: publish it decrypted (openssl rsa -in KEY -out PLAIN)"
    )]
    EncryptedKey,
    /// The certificate's DER does not parse.
    #[error("certificate does not parse: {why}")]
    BadCertificate {
        /// The parser's one-line reason (about structure, never content).
        why: String,
    },
    /// The key's DER does not parse or its algorithm is unsupported.
    #[error("private key does not parse or has an unsupported algorithm")]
    BadKey,
    /// The private key belongs to another certificate.
    #[error("private key does not match client_cert")]
    KeyMismatch,
    /// The certificate's issuer is none of the CA certificates' subjects.
    #[error("not issued by client_ca (issuer {issuer})")]
    UnknownIssuer {
        /// The certificate's issuer name, escaped and shortened.
        issuer: String,
    },
    /// The issuer name matches but the signature does not verify with the CA's key.
    #[error("signature does not verify with client_ca")]
    BadSignature,
    /// The certificate that signed `client_cert` says it is not a CA (basic constraints
    /// CA:FALSE); etcd's TLS refuses to chain through it.
    #[error("the issuing certificate is not a CA (basicConstraints CA:FALSE)")]
    IssuerNotCa,
    /// `client_cert` has an extended key usage without clientAuth: etcd refuses it as a
    /// client certificate.
    #[error("extended key usage lacks clientAuth; etcd refuses it as a client certificate")]
    NoClientAuth,
    /// The signature algorithm inside the signed part differs from the one outside it; etcd
    /// (Go) refuses to parse such a certificate.
    #[error("its two signature algorithm fields differ")]
    SignatureAlgorithmMismatch,
    /// The certificate's validity ended.
    #[error("certificate expired at {not_after}")]
    Expired {
        /// The end of validity, RFC 3339 UTC.
        not_after: String,
    },
    /// The certificate's validity has not started.
    #[error("certificate not valid before {not_before}")]
    NotYetValid {
        /// The start of validity, RFC 3339 UTC.
        not_before: String,
    },
}

/// A credential value is invalid: which key, and why. `Display` is one line,
/// `client_cert: certificate expired at 2024-01-01T00:00:00Z`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct CredentialsError {
    /// The value at fault.
    pub key: CredentialKey,
    /// What is wrong with it.
    pub problem: CredentialsProblem,
}

impl CredentialsError {
    fn new(key: CredentialKey, problem: CredentialsProblem) -> Self {
        Self { key, problem }
    }
}

/// One entry of a certificate's subject alternative names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SubjectAltName {
    /// A DNS name.
    Dns(String),
    /// An IP address.
    Ip(IpAddr),
    /// A URI.
    Uri(String),
    /// An e-mail address.
    Email(String),
}

impl fmt::Display for SubjectAltName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubjectAltName::Dns(n) => write!(f, "DNS:{n}"),
            SubjectAltName::Ip(ip) => write!(f, "IP:{ip}"),
            SubjectAltName::Uri(u) => write!(f, "URI:{u}"),
            SubjectAltName::Email(e) => write!(f, "email:{e}"),
        }
    }
}

/// Validated TLS client credentials: a CA (or CA bundle), a client certificate signed by it,
/// and the certificate's private key. See the [module docs](self) for every check made.
///
/// The PEM texts are kept exactly as given (newlines included), so what is saved to disk is
/// what the provider sent. `Debug` shows the certificate's subject and dates, never the key.
/// Two values are equal when their three PEM texts are.
#[derive(Clone)]
pub struct ClientCredentials {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
    ca_ders: Vec<CertificateDer<'static>>,
    cert_der: CertificateDer<'static>,
    subject: String,
    issuer: String,
    common_name: Option<String>,
    has_common_name: bool,
    sans: Vec<SubjectAltName>,
    not_before: i64,
    not_after: i64,
    /// The position of the signing CA in `ca_ders` (at most [`MAX_CA_CERTIFICATES`]).
    signer: u16,
}

/// Credentials that passed the key match and the signature check before: a SHA-256 digest
/// of their three PEM texts → the position in `client_ca` of the certificate that signed the
/// client certificate. See [`ClientCredentials::from_pem_proven`].
pub type Proofs = BTreeMap<String, usize>;

impl ClientCredentials {
    /// Validates the three PEM values against the current time.
    ///
    /// # Errors
    /// The first failed check, naming its key.
    pub fn from_pem(
        ca_pem: impl Into<String>,
        cert_pem: impl Into<String>,
        key_pem: impl Into<String>,
    ) -> Result<Self, CredentialsError> {
        Self::from_pem_at(ca_pem, cert_pem, key_pem, SystemTime::now())
    }

    /// Validates the three PEM values as of `now` (for tests and for checking ahead of time).
    ///
    /// # Errors
    /// The first failed check, naming its key.
    pub fn from_pem_at(
        ca_pem: impl Into<String>,
        cert_pem: impl Into<String>,
        key_pem: impl Into<String>,
        now: SystemTime,
    ) -> Result<Self, CredentialsError> {
        Self::from_pem_proven(ca_pem, cert_pem, key_pem, now, &Proofs::new())
    }

    /// Validates as [`Self::from_pem_at`], except that texts whose digest is in `proofs`
    /// (from [`Self::proof`] of an earlier validation of the very same texts) skip the key
    /// match and the signature check; every other check, the dates included, still runs.
    ///
    /// # Errors
    /// The first failed check, naming its key.
    pub fn from_pem_proven(
        ca_pem: impl Into<String>,
        cert_pem: impl Into<String>,
        key_pem: impl Into<String>,
        now: SystemTime,
        proofs: &Proofs,
    ) -> Result<Self, CredentialsError> {
        let (ca_pem, cert_pem, key_pem) = (ca_pem.into(), cert_pem.into(), key_pem.into());
        use CredentialKey::{ClientCa, ClientCert};

        let ca_ders = read_certificates(ClientCa, &ca_pem, MAX_CA_CERTIFICATES)?;
        let mut cert_ders = read_certificates(ClientCert, &cert_pem, 1)?;
        let key_der = read_private_key(&key_pem)?;
        let cert_der = cert_ders.remove(0);

        let cas = ca_ders
            .iter()
            .map(|der| parse_certificate(ClientCa, der))
            .collect::<Result<Vec<_>, _>>()?;
        let cert = parse_certificate(ClientCert, &cert_der)?;

        // Hashed only when there is something to look up: `proof` hashes on demand.
        let proven = (!proofs.is_empty())
            .then(|| texts_digest([&ca_pem, &cert_pem, &key_pem]))
            .and_then(|digest| proofs.get(&digest).copied())
            .filter(|&i| cas.get(i).is_some_and(|ca| names_issuer_of(ca, &cert)));
        let signer_index = match proven {
            Some(index) => index,
            None => {
                check_key_matches(&cert, key_der)?;
                find_signer(&cert, &cas)?
            }
        };
        let signer = &cas[signer_index];
        check_usage(&cert, signer)?;

        let now = unix_seconds(now);
        check_validity(ClientCert, &cert, now)?;
        check_validity(ClientCa, signer, now)?;

        let common_names: Vec<&str> = cert
            .subject()
            .iter_common_name()
            .filter_map(|cn| cn.as_str().ok())
            .collect();
        let has_common_name = cert.subject().iter_common_name().next().is_some();
        let credentials = Self {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            common_name: common_names.first().map(|cn| (*cn).to_owned()),
            has_common_name,
            sans: subject_alt_names(&cert),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            cert_der: cert_der.clone(),
            ca_ders: ca_ders.clone(),
            ca_pem,
            cert_pem,
            key_pem,
            signer: u16::try_from(signer_index).unwrap_or(u16::MAX),
        };
        Ok(credentials)
    }

    /// What [`Self::from_pem_proven`] needs to skip the costly checks for these texts later:
    /// their digest, and which CA certificate signed the client certificate.
    pub fn proof(&self) -> (String, usize) {
        let texts = [self.ca_pem.as_str(), &self.cert_pem, &self.key_pem];
        (texts_digest(texts), usize::from(self.signer))
    }

    /// The CA PEM text, as given.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The client certificate PEM text, as given.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The private key PEM text, as given. **Secret**: write it only to a `0600` file or a
    /// TLS configuration; never log, print or put it in an error.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// The CA certificates, DER-encoded, in the order given.
    pub fn ca_ders(&self) -> &[CertificateDer<'static>] {
        &self.ca_ders
    }

    /// The client certificate, DER-encoded.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// The certificate's subject in RFC 4514 form (`CN=client`). Untrusted text: escape it
    /// before showing it.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The certificate's issuer in RFC 4514 form. Untrusted text, as [`Self::subject`].
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The subject's first common name, if it has one that is a readable string.
    pub fn common_name(&self) -> Option<&str> {
        self.common_name.as_deref()
    }

    /// Whether the subject has a common name at all. `etcd grpc-proxy` (3.4+) refuses to start
    /// with such a certificate, so the proxy renderer checks this first.
    pub fn has_common_name(&self) -> bool {
        self.has_common_name
    }

    /// The certificate's subject alternative names (DNS, IP, URI and e-mail entries).
    pub fn sans(&self) -> &[SubjectAltName] {
        &self.sans
    }

    /// The start of the certificate's validity.
    pub fn not_before(&self) -> SystemTime {
        system_time(self.not_before)
    }

    /// The end of the certificate's validity.
    pub fn not_after(&self) -> SystemTime {
        system_time(self.not_after)
    }
}

impl PartialEq for ClientCredentials {
    fn eq(&self, other: &Self) -> bool {
        self.ca_pem == other.ca_pem
            && self.cert_pem == other.cert_pem
            && self.key_pem == other.key_pem
    }
}

impl Eq for ClientCredentials {}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("subject", &self.subject)
            .field("issuer", &self.issuer)
            .field("not_before", &rfc3339(self.not_before))
            .field("not_after", &rfc3339(self.not_after))
            .field("ca_certificates", &self.ca_ders.len())
            .field("key", &format_args!("<redacted>"))
            .finish()
    }
}

/// The PEM sections of one value, sorted by kind. Labels of unknown sections are reduced to
/// whether they look like a private key, so nothing of the input survives.
#[derive(Default)]
struct PemSections {
    certificates: Vec<CertificateDer<'static>>,
    keys: Vec<PrivateKeyDer<'static>>,
    other: Vec<&'static str>,
    /// Private-key sections we cannot use (encrypted, OpenSSH, DSA, ...).
    foreign_keys: usize,
}

fn read_sections(key: CredentialKey, text: &str) -> Result<PemSections, CredentialsError> {
    let fail = |problem| CredentialsError::new(key, problem);
    if text.is_empty() {
        return Err(fail(CredentialsProblem::Empty));
    }
    if text.len() > MAX_PEM_LEN {
        return Err(fail(CredentialsProblem::TooLarge {
            len: text.len(),
            max: MAX_PEM_LEN,
        }));
    }
    // Old-style encrypted keys carry RFC 1421 headers, which the PEM reader reports as bad
    // base64; tell what it is instead.
    if text
        .lines()
        .any(|line| line.trim_start().starts_with("Proc-Type:") && line.contains("ENCRYPTED"))
    {
        return Err(fail(if key == CredentialKey::ClientKey {
            CredentialsProblem::EncryptedKey
        } else {
            CredentialsProblem::ContainsPrivateKey
        }));
    }
    let mut sections = PemSections::default();
    for item in <(SectionKind, Vec<u8>) as PemObject>::pem_slice_iter(text.as_bytes()) {
        let (kind, der) = item.map_err(|e| fail(pem_problem(&e)))?;
        match kind {
            SectionKind::Certificate => sections.certificates.push(CertificateDer::from(der)),
            SectionKind::PrivateKey => sections.keys.push(PrivateKeyDer::Pkcs8(der.into())),
            SectionKind::RsaPrivateKey => sections.keys.push(PrivateKeyDer::Pkcs1(der.into())),
            SectionKind::EcPrivateKey => sections.keys.push(PrivateKeyDer::Sec1(der.into())),
            SectionKind::PublicKey => sections.other.push("PUBLIC KEY"),
            SectionKind::Crl => sections.other.push("X509 CRL"),
            SectionKind::Csr => sections.other.push("CERTIFICATE REQUEST"),
            _ => sections.other.push("unknown"),
        }
    }
    // The PEM reader skips sections it does not know; count the private-key ones among them.
    let key_labels = text
        .lines()
        .filter(|line| line.starts_with("-----BEGIN ") && line.contains("PRIVATE KEY"))
        .count();
    sections.foreign_keys = key_labels.saturating_sub(sections.keys.len());
    Ok(sections)
}

fn pem_problem(error: &pem::Error) -> CredentialsProblem {
    match error {
        pem::Error::MissingSectionEnd { .. } => CredentialsProblem::Truncated,
        pem::Error::IllegalSectionStart { .. } => CredentialsProblem::MalformedBegin,
        pem::Error::SectionTooLarge => CredentialsProblem::TooLarge {
            len: 0,
            max: MAX_PEM_LEN,
        },
        _ => CredentialsProblem::BadBase64,
    }
}

fn read_certificates(
    key: CredentialKey,
    text: &str,
    max: usize,
) -> Result<Vec<CertificateDer<'static>>, CredentialsError> {
    let fail = |problem| CredentialsError::new(key, problem);
    let sections = read_sections(key, text)?;
    if !sections.keys.is_empty() || sections.foreign_keys > 0 {
        return Err(fail(CredentialsProblem::ContainsPrivateKey));
    }
    if let Some(label) = sections.other.first() {
        return Err(fail(CredentialsProblem::UnexpectedSection { label }));
    }
    match sections.certificates.len() {
        0 => Err(fail(CredentialsProblem::NotFound {
            expected: "certificate",
        })),
        n if n > max => Err(fail(CredentialsProblem::TooMany {
            what: "certificate",
            found: n,
            expected: if max == 1 {
                "1".into()
            } else {
                format!("at most {max}")
            },
        })),
        _ => Ok(sections.certificates),
    }
}

fn read_private_key(text: &str) -> Result<PrivateKeyDer<'static>, CredentialsError> {
    let fail = |problem| CredentialsError::new(CredentialKey::ClientKey, problem);
    let mut sections = read_sections(CredentialKey::ClientKey, text)?;
    let keys = sections.keys.len() + sections.foreign_keys;
    if keys > 1 {
        return Err(fail(CredentialsProblem::TooMany {
            what: "private key",
            found: keys,
            expected: "1".into(),
        }));
    }
    if sections.foreign_keys > 0 {
        return Err(fail(CredentialsProblem::UnsupportedKeyFormat));
    }
    if !sections.certificates.is_empty() {
        return Err(fail(if keys == 0 {
            CredentialsProblem::CertificateInsteadOfKey
        } else {
            CredentialsProblem::UnexpectedSection {
                label: "CERTIFICATE",
            }
        }));
    }
    if let Some(label) = sections.other.first() {
        return Err(fail(CredentialsProblem::UnexpectedSection { label }));
    }
    sections
        .keys
        .pop()
        .ok_or(fail(CredentialsProblem::NotFound {
            expected: "private key",
        }))
}

fn parse_certificate<'a>(
    key: CredentialKey,
    der: &'a CertificateDer<'static>,
) -> Result<X509Certificate<'a>, CredentialsError> {
    let fail = |why: String| CredentialsError::new(key, CredentialsProblem::BadCertificate { why });
    match x509_parser::parse_x509_certificate(der.as_ref()) {
        Ok((rest, _)) if !rest.is_empty() => {
            Err(fail("trailing data after the certificate".into()))
        }
        Ok((_, cert)) if cert.signature_algorithm != cert.tbs_certificate.signature => Err(
            CredentialsError::new(key, CredentialsProblem::SignatureAlgorithmMismatch),
        ),
        Ok((_, cert)) => Ok(cert),
        Err(e) => Err(fail(one_line(&e.to_string()))),
    }
}

/// What etcd's Go TLS demands of a client certificate and its issuer beyond the signature:
/// clientAuth (or anyExtendedKeyUsage) when an extended key usage is present, and an issuer
/// that does not say CA:FALSE (one without basic constraints, as X.509 v1, is accepted).
fn check_usage(
    cert: &X509Certificate<'_>,
    signer: &X509Certificate<'_>,
) -> Result<(), CredentialsError> {
    let bad = |key, why: &str| {
        CredentialsError::new(key, CredentialsProblem::BadCertificate { why: why.into() })
    };
    match signer.basic_constraints() {
        Ok(Some(constraints)) if !constraints.value.ca => Err(CredentialsError::new(
            CredentialKey::ClientCert,
            CredentialsProblem::IssuerNotCa,
        )),
        Err(_) => Err(bad(CredentialKey::ClientCa, "invalid basic constraints")),
        Ok(_) => Ok(()),
    }?;
    match cert.extended_key_usage() {
        Ok(Some(usage)) if !(usage.value.client_auth || usage.value.any) => Err(
            CredentialsError::new(CredentialKey::ClientCert, CredentialsProblem::NoClientAuth),
        ),
        Err(_) => Err(bad(CredentialKey::ClientCert, "invalid extended key usage")),
        Ok(_) => Ok(()),
    }
}

fn check_key_matches(
    cert: &X509Certificate<'_>,
    key_der: PrivateKeyDer<'static>,
) -> Result<(), CredentialsError> {
    let fail = |problem| CredentialsError::new(CredentialKey::ClientKey, problem);
    let Ok(signing_key) = rustls::crypto::ring::sign::any_supported_type(&key_der) else {
        // ring loads RSA keys of at most 4096 bits; etcd takes larger ones.
        let key = crate::big_rsa::private_key_parts(&key_der)
            .filter(|key| key.bits() <= crate::big_rsa::MAX_RSA_BITS)
            .ok_or(fail(CredentialsProblem::BadKey))?;
        return if crate::big_rsa::public_key_parts(cert.public_key()) == Some(key) {
            Ok(())
        } else {
            Err(fail(CredentialsProblem::KeyMismatch))
        };
    };
    // Compare the key's SubjectPublicKeyInfo with the certificate's ourselves: rustls'
    // `keys_match` parses the certificate with webpki, which refuses X.509 v1 certificates
    // (what `openssl x509 -req` makes without extensions) and would call that a mismatch.
    let spki = signing_key
        .public_key()
        .ok_or(fail(CredentialsProblem::BadKey))?;
    if spki.as_ref() == cert.public_key().raw {
        Ok(())
    } else {
        Err(fail(CredentialsProblem::KeyMismatch))
    }
}

/// Whether `ca`'s subject is `cert`'s issuer.
fn names_issuer_of(ca: &X509Certificate<'_>, cert: &X509Certificate<'_>) -> bool {
    ca.subject().as_raw() == cert.issuer().as_raw()
}

/// The position of the CA certificate that issued and signed `cert`.
fn find_signer(
    cert: &X509Certificate<'_>,
    cas: &[X509Certificate<'_>],
) -> Result<usize, CredentialsError> {
    let fail = |problem| CredentialsError::new(CredentialKey::ClientCert, problem);
    let mut named = cas
        .iter()
        .enumerate()
        .filter(|(_, ca)| names_issuer_of(ca, cert))
        .peekable();
    if named.peek().is_none() {
        return Err(fail(CredentialsProblem::UnknownIssuer {
            issuer: crate::cluster::excerpt(&cert.issuer().to_string()),
        }));
    }
    named
        .find(|(_, ca)| {
            cert.verify_signature(Some(ca.public_key())).is_ok()
                || crate::big_rsa::signed_by_large_key(cert, ca.public_key())
        })
        .map(|(index, _)| index)
        .ok_or(fail(CredentialsProblem::BadSignature))
}

/// SHA-256 over the texts, each preceded by its length, so that no two different triples
/// share the input.
fn texts_digest(texts: [&str; 3]) -> String {
    let mut hasher = Sha256::new();
    for text in texts {
        hasher.update((text.len() as u64).to_be_bytes());
        hasher.update(text.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn check_validity(
    key: CredentialKey,
    cert: &X509Certificate<'_>,
    now: i64,
) -> Result<(), CredentialsError> {
    let validity = cert.validity();
    let (not_before, not_after) = (
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    );
    if now > not_after {
        return Err(CredentialsError::new(
            key,
            CredentialsProblem::Expired {
                not_after: rfc3339(not_after),
            },
        ));
    }
    if now < not_before {
        return Err(CredentialsError::new(
            key,
            CredentialsProblem::NotYetValid {
                not_before: rfc3339(not_before),
            },
        ));
    }
    Ok(())
}

fn subject_alt_names(cert: &X509Certificate<'_>) -> Vec<SubjectAltName> {
    let Ok(Some(extension)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    extension
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(n) => Some(SubjectAltName::Dns((*n).to_owned())),
            GeneralName::URI(u) => Some(SubjectAltName::Uri((*u).to_owned())),
            GeneralName::RFC822Name(e) => Some(SubjectAltName::Email((*e).to_owned())),
            GeneralName::IPAddress(bytes) => ip_from_bytes(bytes).map(SubjectAltName::Ip),
            _ => None,
        })
        .collect()
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(IpAddr::from(v4));
    }
    <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from)
}

fn one_line(text: &str) -> String {
    crate::cluster::excerpt(text.lines().next().unwrap_or(""))
}

fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

fn system_time(seconds: i64) -> SystemTime {
    let magnitude = Duration::from_secs(seconds.unsigned_abs());
    let moved = if seconds >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    };
    moved.unwrap_or(UNIX_EPOCH)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time (proleptic Gregorian calendar, UTC).
pub(crate) fn rfc3339(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    // Days to civil date, after Howard Hinnant's public-domain algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_704_067_199), "2023-12-31T23:59:59Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn unix_seconds_and_system_time_round_trip() {
        for s in [0, 1, -1, 1_700_000_000, -86_400] {
            assert_eq!(unix_seconds(system_time(s)), s);
        }
    }

    #[test]
    fn garbage_values_are_named_and_explained() {
        let err = ClientCredentials::from_pem("hello", "x", "y").unwrap_err();
        assert_eq!(err.to_string(), "client_ca: no PEM certificate found");
        let err = ClientCredentials::from_pem("", "x", "y").unwrap_err();
        assert_eq!(err.to_string(), "client_ca: empty value");
        let truncated = "-----BEGIN CERTIFICATE-----\nMIIB\n";
        let err = ClientCredentials::from_pem(truncated, "x", "y").unwrap_err();
        assert_eq!(err.problem, CredentialsProblem::Truncated);
    }
}

#[cfg(all(test, feature = "testing"))]
mod proof_tests {
    use super::*;
    use crate::testing::TestPki;

    fn proofs_of(texts: [&str; 3], signer: usize) -> Proofs {
        Proofs::from([(texts_digest(texts), signer)])
    }

    #[test]
    fn a_proof_names_the_texts_and_the_ca_that_signed_among_same_named_ones() {
        let pki = TestPki::generate();
        // The impostor has the CA's name but did not sign: the signer is the second.
        let bundle = format!("{}{}", pki.impostor_ca_pem, pki.ca_pem);
        let texts = [bundle.as_str(), &pki.client.cert_pem, &pki.client.key_pem];
        let first = ClientCredentials::from_pem(texts[0], texts[1], texts[2]).unwrap();
        assert_eq!(first.proof(), (texts_digest(texts), 1));

        let proofs = Proofs::from([first.proof()]);
        let again = ClientCredentials::from_pem_proven(
            texts[0],
            texts[1],
            texts[2],
            SystemTime::now(),
            &proofs,
        )
        .unwrap();
        assert_eq!(again, first);
        assert_eq!(again.proof(), first.proof());
    }

    #[test]
    fn proven_texts_skip_the_key_match_but_never_the_dates() {
        let pki = TestPki::generate();
        let mismatched = [
            pki.ca_pem.as_str(),
            &pki.client.cert_pem,
            &pki.unrelated_key_pem,
        ];
        let [ca, cert, key] = mismatched;
        let now = SystemTime::now();
        let err = ClientCredentials::from_pem_at(ca, cert, key, now).unwrap_err();
        assert_eq!(err.problem, CredentialsProblem::KeyMismatch);
        // Only a proof of these very texts skips the check.
        assert!(
            ClientCredentials::from_pem_proven(ca, cert, key, now, &proofs_of(mismatched, 0))
                .is_ok()
        );

        let expired = [
            pki.ca_pem.as_str(),
            &pki.expired_client.cert_pem,
            &pki.expired_client.key_pem,
        ];
        let [ca, cert, key] = expired;
        let err = ClientCredentials::from_pem_proven(ca, cert, key, now, &proofs_of(expired, 0))
            .unwrap_err();
        assert!(
            matches!(err.problem, CredentialsProblem::Expired { .. }),
            "{err}"
        );
    }

    #[test]
    fn a_proof_of_other_texts_or_of_a_ca_not_naming_the_issuer_is_not_used() {
        let pki = TestPki::generate();
        let proofs = Proofs::from([pki.credentials().proof()]);
        let now = SystemTime::now();
        let err = ClientCredentials::from_pem_proven(
            &pki.ca_pem,
            &pki.client.cert_pem,
            &pki.unrelated_key_pem,
            now,
            &proofs,
        )
        .unwrap_err();
        assert_eq!(err.problem, CredentialsProblem::KeyMismatch);

        // A proof pointing at a CA of another name falls back to the full checks.
        let bundle = format!("{}{}", pki.other_ca_pem, pki.ca_pem);
        let texts = [bundle.as_str(), &pki.client.cert_pem, &pki.client.key_pem];
        let checked = ClientCredentials::from_pem_proven(
            texts[0],
            texts[1],
            texts[2],
            now,
            &proofs_of(texts, 0),
        )
        .unwrap();
        assert_eq!(checked.proof().1, 1);
    }
}
