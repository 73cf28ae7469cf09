//! A throw-away PKI made at test time, shaped like the etcd charm's: one CA, a server
//! certificate for 127.0.0.1/localhost used by every member (serverAuth and clientAuth, as
//! easyrsa issues them), the relation's client certificate (CN `client`) and a CN-less one.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

/// A certificate and its key, in memory and on disk.
#[derive(Clone)]
pub struct CertPair {
    /// PEM certificate.
    pub cert_pem: String,
    /// PEM private key (PKCS#8).
    pub key_pem: String,
    /// Where `cert_pem` is written.
    pub cert_path: PathBuf,
    /// Where `key_pem` is written (mode 0600).
    pub key_path: PathBuf,
}

impl std::fmt::Debug for CertPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertPair")
            .field("cert_path", &self.cert_path)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// The certificates of one test cluster.
#[derive(Clone, Debug)]
pub struct Pki {
    /// PEM of the CA every certificate here chains to.
    pub ca_pem: String,
    /// Where `ca_pem` is written.
    pub ca_path: PathBuf,
    /// The members' server (and peer) certificate.
    pub server: CertPair,
    /// The relation's client certificate: subject CN `client`, clientAuth.
    pub client: CertPair,
    /// A client certificate with no subject CN (only `O=proxy`), as grpc-proxy needs.
    pub client_no_cn: CertPair,
}

impl Pki {
    /// Generates a PKI and writes it under `dir`.
    pub fn generate(dir: &Path) -> Pki {
        fs::create_dir_all(dir).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::default();
        ca_params.distinguished_name = name(&[(DnType::CommonName, "etcd-test-ca")]);
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let ca_pem = ca_cert.pem();
        let ca_path = dir.join("ca.crt");
        fs::write(&ca_path, &ca_pem).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let server = leaf(
            dir,
            "server",
            &issuer,
            name(&[(DnType::CommonName, "etcd-server")]),
            &["127.0.0.1", "localhost"],
            &[
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
        );
        let client = leaf(
            dir,
            "client",
            &issuer,
            name(&[(DnType::CommonName, "client")]),
            &[],
            &[ExtendedKeyUsagePurpose::ClientAuth],
        );
        let client_no_cn = leaf(
            dir,
            "client-no-cn",
            &issuer,
            name(&[(DnType::OrganizationName, "proxy")]),
            &[],
            &[ExtendedKeyUsagePurpose::ClientAuth],
        );
        Pki {
            ca_pem,
            ca_path,
            server,
            client,
            client_no_cn,
        }
    }
}

fn name(parts: &[(DnType, &str)]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for (ty, value) in parts {
        dn.push(ty.clone(), *value);
    }
    dn
}

fn leaf(
    dir: &Path,
    stem: &str,
    issuer: &Issuer<'_, KeyPair>,
    subject: DistinguishedName,
    sans: &[&str],
    usages: &[ExtendedKeyUsagePurpose],
) -> CertPair {
    let key = KeyPair::generate().unwrap();
    let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(sans).unwrap();
    params.distinguished_name = subject;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = usages.to_vec();
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, issuer).unwrap();
    let pair = CertPair {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        cert_path: dir.join(format!("{stem}.crt")),
        key_path: dir.join(format!("{stem}.key")),
    };
    fs::write(&pair.cert_path, &pair.cert_pem).unwrap();
    fs::write(&pair.key_path, &pair.key_pem).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&pair.key_path, fs::Permissions::from_mode(0o600)).unwrap();
    pair
}
