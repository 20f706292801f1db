//! The operations commands of the `server` binary: `rotate-master-key`, `create-user`,
//! `backup` and `restore`. Each uses the same [`Config`] as `serve` (data directory, database
//! URL, master key), prints one result line on standard output, and on failure one lower-case
//! line on standard error that says what to do, with exit code 1.
//!
//! The *server lock* is an advisory lock on `<data-dir>/server.lock`, held by `serve` for its
//! lifetime. The commands that must not run beside a server (`rotate-master-key`, which would
//! leave the running server with the old key, and `restore`, which replaces its database) take
//! the same lock and refuse when they cannot. `backup` and `create-user` are safe beside a
//! running server and take no lock.

use anyhow::{anyhow, bail, Context};
use server::{
    audit::{Audit, Event},
    auth,
    clock::now_ms,
    config::Config,
    store::{self, Maintenance, Store},
    vault::{self, Vault},
};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// The name of the lock file in the data directory.
const LOCK_FILE: &str = "server.lock";

/// The tables a Data Modeller database has (besides sqlx's `_sqlx_migrations`).
const OUR_TABLES: [&str; 5] = ["users", "sessions", "providers", "domains", "drafts"];

/// Holds the server lock until dropped (the operating system releases it when the process
/// ends, however it ends).
pub struct ServerLock {
    _file: File,
}

/// Creates the data directory (owner-only) if missing and takes the server lock, or says that
/// a server is running on it.
pub fn lock_data_dir(data_dir: &Path) -> anyhow::Result<ServerLock> {
    create_data_dir(data_dir)?;
    let path = data_dir.join(LOCK_FILE);
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(ServerLock { _file: file }),
        Err(TryLockError::WouldBlock) => bail!(
            "a server is running on the data directory {}: stop it first",
            data_dir.display()
        ),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// Creates the data directory with mode 0700 if it does not exist, as `serve` does.
fn create_data_dir(data_dir: &Path) -> anyhow::Result<()> {
    if data_dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))
}

/// The database file that `config` names.
fn database_path(config: &Config) -> anyhow::Result<PathBuf> {
    store::database_path(&config.database_url())
        .context("the database URL is not a SQLite URL: check DM_DATABASE_URL")
}

/// `rotate-master-key`: re-seals every provider key with a new master key. From the key file,
/// the new key is generated and written to `master.key.next` before the database is touched,
/// and renamed over `master.key` once the database has committed; from `DM_MASTER_KEY`, the
/// new key comes from `DM_NEW_MASTER_KEY` and the operator sets it in place of the old one.
pub async fn rotate_master_key(config: &Config) -> anyhow::Result<String> {
    let new_env = std::env::var("DM_NEW_MASTER_KEY").ok();
    if config.master_key.is_none() && new_env.is_some() {
        bail!(
            "DM_NEW_MASTER_KEY is set but the master key comes from the key file: unset it \
             (a new key file is generated) or set DM_MASTER_KEY as well"
        );
    }
    let new_from_env = match (&config.master_key, new_env) {
        (Some(_), Some(encoded)) => Some(Vault::from_base64(&encoded).map_err(|_| {
            anyhow!(
                "DM_NEW_MASTER_KEY is not 32 bytes of base64: generate one with \
                 `openssl rand -base64 32`"
            )
        })?),
        (Some(_), None) => bail!(
            "the master key comes from DM_MASTER_KEY: set DM_NEW_MASTER_KEY to the new key \
             (base64 of 32 bytes, `openssl rand -base64 32`) and run again"
        ),
        (None, _) => None,
    };
    let _lock = lock_data_dir(&config.data_dir)?;
    let store = Store::connect(&config.database_url()).await?;
    // Also finishes or undoes an earlier rotation that was interrupted.
    let old = vault::open_vault(config, &store).await?;
    let from_env = new_from_env.is_some();
    let message = match new_from_env {
        Some(new) => {
            let count = vault::rotate(&store, &old, &new).await?;
            record_rotation(&store, count, from_env).await;
            format!(
                "re-encrypted {count} provider keys: now set DM_MASTER_KEY to the value of \
                 DM_NEW_MASTER_KEY before starting the server (the old key no longer opens them)"
            )
        }
        None => {
            let next = vault::next_key_file(&config.data_dir);
            let new = tokio::task::spawn_blocking(move || Vault::create_key_file(&next)).await??;
            let dir = config.data_dir.clone();
            tokio::task::spawn_blocking(move || vault::sync_dir(&dir)).await??;
            let rotated = vault::rotate(&store, &old, &new).await;
            // The same step that a start after a crash takes: keep the key that opens the
            // check value (the new one if the transaction committed), drop the other.
            let leftover = vault::resolve_leftover(&config.data_dir, &store).await?;
            let count = rotated?;
            if leftover != vault::Leftover::KeptNew {
                bail!("the rotated database does not open with the new master key: report this");
            }
            record_rotation(&store, count, from_env).await;
            format!(
                "re-encrypted {count} provider keys with a new master key in {}",
                vault::key_file(&config.data_dir).display()
            )
        }
    };
    store.close().await;
    Ok(message)
}

/// Records a master-key rotation in the audit log (how many keys, where the key lives; never
/// a key).
async fn record_rotation(store: &Store, count: usize, from_env: bool) {
    Audit::operator(Event::MasterKeyRotated)
        .details(serde_json::json!({
            "provider_keys": count,
            "master_key": if from_env { "DM_MASTER_KEY" } else { "master.key" },
        }))
        .record(store)
        .await;
}

/// Checks a new account's username and password with the rules of registration.
fn check_new_account(username: &str, password: &str) -> anyhow::Result<()> {
    let credentials = model::wire::Credentials {
        username: username.to_string(),
        password: password.to_string(),
        invite: None,
    };
    server::routes::auth::check_credentials(&credentials).map_err(|e| anyhow!("{e}"))
}

/// The new account's password: `DM_NEW_PASSWORD`, else the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("DM_NEW_PASSWORD") {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// `create-user`: adds an account (an administrator with `admin`).
pub async fn create_user(config: &Config, username: &str, admin: bool) -> anyhow::Result<String> {
    let password = tokio::task::spawn_blocking(read_password).await??;
    check_new_account(username, &password)?;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await?
        .map_err(|_| anyhow!("cannot hash the password"))?;
    create_data_dir(&config.data_dir)?;
    let store = Store::connect(&config.database_url()).await?;
    // As with registration, the first account is an administrator whatever was asked, so
    // that an install never ends up without one.
    let id = Uuid::now_v7();
    let inserted = store
        .insert_user(id, username, &hash, admin, now_ms())
        .await;
    if let Ok(Some(admin)) = inserted {
        Audit::operator(Event::AccountCreated)
            .target(id, username)
            .details(serde_json::json!({ "admin": admin, "registration": "create-user" }))
            .record(&store)
            .await;
    }
    store.close().await;
    let Some(admin) = inserted? else {
        bail!("the username {username} is taken: pick another");
    };
    Ok(format!(
        "created {} {username}",
        if admin { "administrator" } else { "user" }
    ))
}

/// Creates `path` empty with mode 0600, refusing an existing file.
fn create_private(path: &Path) -> anyhow::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow!("{} exists: choose a new file name", path.display())
        } else {
            anyhow!("cannot create {}: {e}", path.display())
        }
    })
}

/// Opens the database without creating or migrating it.
async fn open_existing(path: &Path, read_only: bool) -> anyhow::Result<Maintenance> {
    if !path.is_file() {
        bail!("there is no database at {}", path.display());
    }
    Maintenance::open(path, read_only)
        .await
        .with_context(|| format!("cannot open the database {}", path.display()))
}

/// `backup`: a consistent copy of the database in a new file, owner-only. `VACUUM INTO` reads
/// one snapshot, so the server may keep running and writing.
pub async fn backup(config: &Config, file: &Path) -> anyhow::Result<String> {
    let source = database_path(config)?;
    let mut connection = open_existing(&source, true).await?;
    // The empty 0600 file is what VACUUM INTO fills (it accepts an empty file), so the copy
    // is never readable by others and an existing file is never overwritten.
    drop(create_private(file)?);
    let copied = connection.vacuum_into(file).await;
    connection.close().await?;
    if let Err(e) = copied {
        let _ = std::fs::remove_file(file);
        return Err(e).context("cannot write the backup");
    }
    File::open(file)?.sync_all()?;
    Ok(format!(
        "backed up {} to {}: its provider keys open only with this server's master key, so keep \
         master.key (or DM_MASTER_KEY) safe as well, apart from the backup",
        source.display(),
        file.display()
    ))
}

/// Checks that `path` is a Data Modeller database this server can run: it passes SQLite's
/// quick check, has the migrations table and our tables, and applied no migration unknown to
/// this version. Returns a read-only store on it for the key check.
async fn check_restorable(path: &Path) -> anyhow::Result<Store> {
    let backup = Store::open_read_only(path)
        .await
        .with_context(|| format!("{} is not a SQLite database", path.display()))?;
    let not_ours = || {
        anyhow!(
            "{} is not a Data Modeller database: restore a file made by `server backup`",
            path.display()
        )
    };
    let quick = backup.quick_check().await.map_err(|_| not_ours())?;
    if quick != "ok" {
        bail!(
            "{} is damaged ({quick}): restore another backup",
            path.display()
        );
    }
    let tables = backup.table_names().await.map_err(|_| not_ours())?;
    let has = |name: &str| tables.iter().any(|t| t == name);
    if !has("_sqlx_migrations") || !OUR_TABLES.iter().all(|t| has(t)) {
        return Err(not_ours());
    }
    let applied = backup.applied_migrations().await.map_err(|_| not_ours())?;
    if let Some(version) = applied
        .iter()
        .find(|v| !store::MIGRATOR.iter().any(|m| m.version == **v))
    {
        bail!(
            "{} was written by a newer server (migration {version}): restore it with that version",
            path.display()
        );
    }
    Ok(backup)
}

/// `restore`: replaces the database with a backup, only while no server runs. The backup is
/// copied beside the database and checked there; the current database is checkpointed (so its
/// write-ahead log holds nothing) and kept as `<db>.before-restore`; its stale `-wal` and
/// `-shm` files are removed; then the copy is renamed over the database in one step.
pub async fn restore(config: &Config, file: &Path) -> anyhow::Result<String> {
    let _lock = lock_data_dir(&config.data_dir)?;
    let target = database_path(config)?;
    let sibling = |suffix: &str| {
        let mut name = target.clone().into_os_string();
        name.push(suffix);
        PathBuf::from(name)
    };
    let (staged, before) = (sibling(".restore-tmp"), sibling(".before-restore"));
    if !file.is_file() {
        bail!("there is no file {}", file.display());
    }
    let mut wal = file.as_os_str().to_owned();
    wal.push("-wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        bail!(
            "{} has a write-ahead log beside it (a live database?): make the file with \
             `server backup`",
            file.display()
        );
    }
    if before.exists() {
        bail!(
            "{} exists from an earlier restore: move it away first",
            before.display()
        );
    }
    if let Some(dir) = target.parent() {
        create_data_dir(dir)?;
    }
    // A leftover from an interrupted restore is ours to replace.
    let _ = std::fs::remove_file(&staged);
    {
        let mut out = create_private(&staged)?;
        let mut input =
            File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
        std::io::copy(&mut input, &mut out).context("cannot copy the backup")?;
        out.flush()?;
        out.sync_all()?;
    }
    let checked = match check_restorable(&staged).await {
        Ok(backup) => check_key(config, &backup).await.map(|()| backup),
        Err(e) => Err(e),
    };
    let backup = match checked {
        Ok(backup) => backup,
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
    };
    let key_note = key_note(config);
    backup.close().await;
    if target.exists() {
        // The checkpoint moves everything committed into the main file, so the kept copy
        // is whole and the -wal file removed below holds nothing.
        let mut current = open_existing(&target, false).await?;
        current
            .checkpoint()
            .await
            .context("cannot checkpoint the current database")?;
        current.close().await?;
        std::fs::hard_link(&target, &before)
            .or_else(|_| std::fs::copy(&target, &before).map(|_| ()))
            .with_context(|| format!("cannot keep the current database as {}", before.display()))?;
        // A database from an older version may be readable by others; its copy must not be.
        server::files::restrict_if_exists(&before)
            .with_context(|| format!("cannot make {} owner-only", before.display()))?;
    }
    // A stale log beside the new file would be applied to it on the next open.
    for suffix in ["-wal", "-shm"] {
        match std::fs::remove_file(sibling(suffix)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).context("cannot remove the old write-ahead log");
            }
            _ => {}
        }
    }
    std::fs::rename(&staged, &target).context("cannot move the restored database in place")?;
    if let Some(dir) = target.parent() {
        vault::sync_dir(dir)?;
    }
    let kept = if before.exists() {
        format!(" (the previous one is kept as {})", before.display())
    } else {
        String::new()
    };
    Ok(format!(
        "restored {} from {}{kept}{key_note}",
        target.display(),
        file.display()
    ))
}

/// Refuses a backup whose sealed keys the configured master key (if there is one yet) does not
/// open: the server would refuse to start on it.
async fn check_key(config: &Config, backup: &Store) -> anyhow::Result<()> {
    let vault = match &config.master_key {
        Some(secret) => Vault::from_base64(&secret.0)?,
        None => match Vault::from_key_file(&vault::key_file(&config.data_dir)) {
            Ok(vault) => vault,
            // No key yet: the operator puts the backup's key in place (see the note).
            Err(_) => return Ok(()),
        },
    };
    if !vault::check_only(backup, &vault).await? {
        bail!(
            "the backup's keys were sealed with another master key: put that key in place \
             (master.key or DM_MASTER_KEY) and restore again"
        );
    }
    Ok(())
}

/// What the operator still has to do about the master key after a restore, if anything.
fn key_note(config: &Config) -> String {
    if config.master_key.is_none() && !vault::key_file(&config.data_dir).exists() {
        format!(
            ": copy the master.key that belongs to this backup into {} (or set DM_MASTER_KEY) \
             before starting the server",
            config.data_dir.display()
        )
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_accounts_follow_the_registration_rules() {
        let check = |user: &str, password: &str, ok: bool| {
            assert_eq!(
                check_new_account(user, password).is_ok(),
                ok,
                "{user:?} {password:?}"
            )
        };
        check("alice", "correct horse battery", true);
        check("a.b-c_9", "0123456789", true);
        check("al", "correct horse battery", false);
        check(&"a".repeat(65), "correct horse battery", false);
        check("alice smith", "correct horse battery", false);
        check("alice", "short", false);
        check("alice", &"p".repeat(1025), false);
    }

    #[test]
    fn a_second_lock_on_the_data_directory_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let first = lock_data_dir(&data).expect("locks");
        let second = lock_data_dir(&data).err().expect("refused").to_string();
        assert!(second.contains("a server is running"), "{second}");
        drop(first);
        lock_data_dir(&data).expect("free again");
    }
}
