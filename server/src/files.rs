//! Owner-only files: the database with its write-ahead log (`-wal`) and shared-memory index
//! (`-shm`), the master key and the backups hold user data or the key to it, so they are mode
//! 0600 whoever made the data directory and whatever umask the server runs under.
//!
//! *Making a file private* means creating it 0600 when it does not exist yet, and setting an
//! existing one to 0600 (an operator-made folder, a file left by an older version). SQLite
//! gives the `-wal` and `-shm` files it creates the mode of the database file, so a private
//! database keeps its logs private too; logs that already exist are set at start as well. Unix
//! only: elsewhere modes do not exist and these functions do nothing.

use std::{io, path::Path};

/// The mode of every file this module makes private.
#[cfg(unix)]
const OWNER_ONLY: u32 = 0o600;

/// Creates `path` empty with mode 0600 if it is missing, else sets it to 0600. Never
/// truncates: an existing file keeps its content.
pub fn make_private(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(OWNER_ONLY)
            .open(path);
        match created {
            // The umask can only take bits away from 0600, never add: nothing more to do.
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => restrict(path),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Sets `path` to mode 0600 if it exists; a missing file is not an error.
pub fn restrict_if_exists(path: &Path) -> io::Result<()> {
    match restrict(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Sets an existing file to 0600, leaving one that already is untouched (so a file the
/// server may read but not chmod still works when its mode is right).
fn restrict(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if mode != OWNER_ONLY {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(OWNER_ONLY))?;
            tracing::info!(
                path = %path.display(),
                was = %format!("{mode:o}"),
                "made owner-only (0600)"
            );
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// The paths of a SQLite database's write-ahead log and shared-memory index.
pub fn sqlite_companions(database: &Path) -> [std::path::PathBuf; 2] {
    ["-wal", "-shm"].map(|suffix| {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        name.into()
    })
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_missing_file_is_created_private_and_an_existing_one_restricted_keeping_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("fresh.db");
        make_private(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o600);
        let old = dir.path().join("old.db");
        std::fs::write(&old, b"content").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        make_private(&old).unwrap();
        assert_eq!(mode(&old), 0o600);
        assert_eq!(std::fs::read(&old).unwrap(), b"content");
        restrict_if_exists(&dir.path().join("absent")).unwrap();
    }

    #[test]
    fn companions_are_named_as_sqlite_names_them() {
        let [wal, shm] = sqlite_companions(Path::new("/d/data-modeller.db"));
        assert_eq!(wal, Path::new("/d/data-modeller.db-wal"));
        assert_eq!(shm, Path::new("/d/data-modeller.db-shm"));
    }
}
