//! Saving the relation's client credentials to disk (the requirer's `save_client_credentials`).

use std::path::{Path, PathBuf};

use crate::credentials::ClientCredentials;
use crate::files::{ensure_file_unsynced_dir, sync_dir, FileError, Ownership};

/// Where the three credential files go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialPaths {
    /// The CA certificate (`client_ca`).
    pub ca: PathBuf,
    /// The client certificate (`client_cert`).
    pub cert: PathBuf,
    /// The private key (`client_key`).
    pub key: PathBuf,
}

impl CredentialPaths {
    /// The layout of the original README: `client-ca.pem`, `client-cert.pem` and
    /// `client-key.pem` in `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            ca: dir.join("client-ca.pem"),
            cert: dir.join("client-cert.pem"),
            key: dir.join("client-key.pem"),
        }
    }
}

/// File modes: the key is private, the certificates are public.
const KEY_MODE: u32 = 0o600;
const CERT_MODE: u32 = 0o644;

/// Writes the credentials, each file atomically and only if it differs; returns whether any
/// file changed (so a service restarts only on change). The key is written `0600`, the
/// certificates `0644`; `owner` optionally sets their owner and group.
///
/// # Errors
/// A file could not be written; the files already written keep their new content, the
/// others their old one.
pub fn save_client_credentials(
    credentials: &ClientCredentials,
    paths: &CredentialPaths,
    owner: Ownership,
) -> Result<bool, FileError> {
    // Key first: a certificate never sits next to a key it does not match for longer than
    // the gap between two renames. Each file is synced before its rename; each directory
    // that got a rename is synced once at the end (usually one, for all three).
    let mut changed_dirs: Vec<(&Path, &PathBuf)> = Vec::new();
    let files = [
        (&paths.key, credentials.key_pem(), KEY_MODE),
        (&paths.cert, credentials.cert_pem(), CERT_MODE),
        (&paths.ca, credentials.ca_pem(), CERT_MODE),
    ];
    let mut any = false;
    for (path, pem, mode) in files {
        if ensure_file_unsynced_dir(path, pem.as_bytes(), mode, owner)? {
            any = true;
            let dir = path.parent().unwrap_or(Path::new("."));
            if !changed_dirs.iter().any(|(d, _)| *d == dir) {
                changed_dirs.push((dir, path));
            }
        }
    }
    for (_, path) in changed_dirs {
        sync_dir(path)?;
    }
    Ok(any)
}
