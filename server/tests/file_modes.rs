//! The files that hold user data or the key to it are owner-only (0600) whoever made the data
//! directory: a database, its write-ahead log and shared-memory index, the master key and a
//! backup (and the copy a restore keeps), in an operator-made 0755 folder where an older
//! version left them 0644.

#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use server::{config::Config, AppState};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The database, its `-wal` and `-shm` files and the master key of `data`.
fn private_files(data: &Path) -> [PathBuf; 4] {
    let db = data.join("data-modeller.db");
    [
        db.with_file_name("data-modeller.db-wal"),
        db.with_file_name("data-modeller.db-shm"),
        db,
        data.join("master.key"),
    ]
}

/// Starts the server's state on `data`, writes a row (so the log files exist), checks every
/// file is 0600 while it runs, and closes the database.
async fn start_and_check(data: &Path, when: &str) {
    let state = AppState::start(Config::for_data_dir(data.to_path_buf()))
        .await
        .unwrap();
    state.store.delete_expired(0).await.unwrap();
    for file in private_files(data) {
        assert_eq!(mode(&file), 0o600, "{when}: {}", file.display());
    }
    state.store.close().await;
}

#[tokio::test]
async fn data_files_are_owner_only_in_an_operator_made_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    set_mode(&data, 0o755);

    // A first start creates the files private although the folder is open.
    start_and_check(&data, "first start").await;

    // What an older version or a hand-made set-up leaves: everything readable by others,
    // including logs of an unclean stop.
    for file in private_files(&data) {
        if !file.exists() {
            std::fs::write(&file, b"").unwrap();
        }
        set_mode(&file, 0o644);
    }
    start_and_check(&data, "restart").await;
    assert_eq!(mode(&data), 0o755, "the operator's folder is left as it is");

    // A backup by the operations command, into the same open folder.
    let backup = data.join("backup.db");
    let output = server_command(&["backup", backup.to_str().unwrap()], &data)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(mode(&backup), 0o600);

    // A restore over a database an older version left 0644: the kept copy is private too.
    let db = data.join("data-modeller.db");
    set_mode(&db, 0o644);
    let output = server_command(&["restore", backup.to_str().unwrap()], &data)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&data.join("data-modeller.db.before-restore")), 0o600);
}

/// The server binary running an operations command on `data`, configured by nothing else.
fn server_command(args: &[&str], data: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("DM_MASTER_KEY")
        .env_remove("DM_DATABASE_URL")
        .env_remove("DM_DATA_DIR");
    command
}
