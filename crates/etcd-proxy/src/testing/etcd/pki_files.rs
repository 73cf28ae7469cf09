//! A [`TestPki`] written to files, plus the member certificate etcd needs.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::testing::{CertSpec, IssuedCert, TestPki};

/// A certificate and its key, in memory and on disk.
#[derive(Clone)]
pub struct CertFiles {
    /// PEM certificate.
    pub cert_pem: String,
    /// PEM private key (PKCS#8). `Debug` hides it.
    pub key_pem: String,
    /// Where `cert_pem` is written (mode 0644).
    pub cert_path: PathBuf,
    /// Where `key_pem` is written (mode 0600).
    pub key_path: PathBuf,
}

impl std::fmt::Debug for CertFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertFiles")
            .field("cert_path", &self.cert_path)
            .field("key_path", &self.key_path)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// The certificates of one test cluster, shaped like the etcd charm's: one CA, a member
/// certificate for `127.0.0.1`/`localhost` (serverAuth and clientAuth, as easyrsa issues
/// them), the relation's client certificate (CN `client`) and a CN-less one.
#[derive(Debug)]
pub struct PkiFiles {
    /// Everything generated, including the broken variants (other CA, impostor CA, ...).
    pub generated: TestPki,
    /// PEM of the CA.
    pub ca_pem: String,
    /// Where `ca_pem` is written.
    pub ca_path: PathBuf,
    /// The members' server and peer certificate.
    pub server: CertFiles,
    /// The relation's client certificate: CN `client`.
    pub client: CertFiles,
    /// A client certificate with an empty subject, as grpc-proxy needs.
    pub client_no_cn: CertFiles,
}

impl PkiFiles {
    /// Generates a PKI and writes it under `dir`.
    ///
    /// # Panics
    /// If the files cannot be written.
    pub fn generate(dir: &Path) -> PkiFiles {
        fs::create_dir_all(dir).expect("create the PKI directory");
        let generated = TestPki::generate();
        let ca_path = dir.join("ca.crt");
        fs::write(&ca_path, &generated.ca_pem).expect("write the CA");
        let member = generated.issue(&CertSpec::server(
            "etcd-server",
            &["127.0.0.1", "localhost"],
        ));
        PkiFiles {
            ca_pem: generated.ca_pem.clone(),
            ca_path,
            server: write_pair(dir, "server", &member),
            client: write_pair(dir, "client", &generated.client),
            client_no_cn: write_pair(dir, "client-no-cn", &generated.cnless_client),
            generated,
        }
    }
}

fn write_pair(dir: &Path, stem: &str, issued: &IssuedCert) -> CertFiles {
    let pair = CertFiles {
        cert_pem: issued.cert_pem.clone(),
        key_pem: issued.key_pem.clone(),
        cert_path: dir.join(format!("{stem}.crt")),
        key_path: dir.join(format!("{stem}.key")),
    };
    fs::write(&pair.cert_path, &pair.cert_pem).expect("write a certificate");
    fs::write(&pair.key_path, &pair.key_pem).expect("write a key");
    fs::set_permissions(&pair.key_path, fs::Permissions::from_mode(0o600)).expect("chmod a key");
    pair
}
