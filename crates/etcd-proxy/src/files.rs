//! Atomic, write-if-changed files: the only way this crate writes to disk.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Writing a file failed; the previous file (if any) is still intact.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct FileError {
    /// The file we tried to write.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: std::io::Error,
}

/// Who should own a written file (`None` keeps the writer's id).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ownership {
    /// The owning user id.
    pub uid: Option<u32>,
    /// The owning group id.
    pub gid: Option<u32>,
}

/// Makes `path` hold exactly `contents` with permission bits `mode`, and reports whether
/// anything changed.
///
/// Nothing is written when the file already has these contents, mode and owner. Otherwise
/// the contents go to a temporary file in the same directory, which is synced and renamed
/// over `path`, so readers see the old or the new file, never a partial one. A symlink at
/// `path` is replaced, never followed. Missing parent directories are created with mode
/// `0755`.
///
/// # Errors
/// Any I/O failure, with the path; the previous file is then untouched.
pub fn ensure_file(
    path: &Path,
    contents: &[u8],
    mode: u32,
    owner: Ownership,
) -> Result<bool, FileError> {
    let changed = ensure_file_unsynced_dir(path, contents, mode, owner)?;
    if changed {
        sync_dir(path)?;
    }
    Ok(changed)
}

/// The directory `path` is in (`.` for a bare name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Makes the renames into `path`'s directory durable (one fsync of the directory).
///
/// # Errors
/// The directory could not be opened or synced.
pub(crate) fn sync_dir(path: &Path) -> Result<(), FileError> {
    fs::File::open(parent_of(path))
        .and_then(|d| d.sync_all())
        .map_err(|source| FileError {
            path: path.to_owned(),
            source,
        })
}

/// [`ensure_file`] without the directory fsync, for a caller that writes several files into
/// one directory and syncs it once ([`sync_dir`]).
pub(crate) fn ensure_file_unsynced_dir(
    path: &Path,
    contents: &[u8],
    mode: u32,
    owner: Ownership,
) -> Result<bool, FileError> {
    let err = |source| FileError {
        path: path.to_owned(),
        source,
    };
    if is_current(path, contents, mode, owner).map_err(err)? {
        return Ok(false);
    }
    let dir = parent_of(path);
    create_dirs(dir).map_err(err)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(contents).map_err(err)?;
    // The umask may have narrowed the mode given at creation.
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(mode)).map_err(err)?;
    if owner != Ownership::default() {
        std::os::unix::fs::chown(tmp.path(), owner.uid, owner.gid).map_err(err)?;
    }
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(true)
}

/// Whether `path` is a regular file (not a symlink) with these contents, mode and owner.
fn is_current(path: &Path, contents: &[u8], mode: u32, owner: Ownership) -> std::io::Result<bool> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    if !meta.file_type().is_file()
        || meta.mode() & 0o7777 != mode
        || owner.uid.is_some_and(|uid| uid != meta.uid())
        || owner.gid.is_some_and(|gid| gid != meta.gid())
        || meta.len() != contents.len() as u64
    {
        return Ok(false);
    }
    Ok(fs::read(path)? == contents)
}

fn create_dirs(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    // DirBuilder's mode goes through the umask; set 0755 on the directories we created so a
    // non-root proxy can still reach the certificates.
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        missing.push(d);
        cur = d.parent();
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)?;
    for d in missing {
        fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    }
    Ok(())
}

use std::os::unix::fs::DirBuilderExt;

#[cfg(test)]
mod tests {
    use super::*;

    fn mode_of(path: &Path) -> u32 {
        fs::symlink_metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn writes_once_then_reports_no_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/key.pem");
        assert!(ensure_file(&path, b"secret", 0o600, Ownership::default()).unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"secret");
        assert_eq!(mode_of(&path), 0o600);
        assert_eq!(mode_of(&dir.path().join("sub")), 0o755);
        assert!(!ensure_file(&path, b"secret", 0o600, Ownership::default()).unwrap());
        assert!(ensure_file(&path, b"secret", 0o644, Ownership::default()).unwrap());
        assert_eq!(mode_of(&path), 0o644);
        assert!(ensure_file(&path, b"other", 0o644, Ownership::default()).unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"other");
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("sub")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn replaces_a_symlink_instead_of_following_it() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"do not touch").unwrap();
        let link = dir.path().join("client-key.pem");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(ensure_file(&link, b"key", 0o600, Ownership::default()).unwrap());
        assert_eq!(fs::read(&victim).unwrap(), b"do not touch");
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_file());
    }
}
