//! The store: every SQL statement of the server, the row types they read, and the one
//! connection pool they run on.
//!
//! A *row* is what one statement reads, as a named struct (`#[derive(sqlx::FromRow)]`); the
//! store hands out rows or the domain types built from them (a [`StoredProvider`], a
//! [`SealedKey`]), never SQL or a pool. A *store transaction* ([`SyncTx`], [`RotationTx`]) is
//! a handle on one database transaction: its methods run inside it, [`SyncTx::commit`] or
//! [`RotationTx::commit`] makes them durable at once, and dropping the handle undoes them all.
//! Callers keep their own rules (last writer wins, a key that does not open) and call the
//! store for every read and write, so the rules exist once whatever the database.
//!
//! [`Store`] is concrete: a SQLite pool (a file under the data directory, WAL mode, foreign
//! keys on) opened once at start ([`Store::connect`]), with its methods grouped by concern in
//! the submodules `users` (accounts, registration gates, the administrator's changes),
//! `sessions`, `tokens`, `invites`, `audit`, `providers`, `vault`, `sync`, `shares` and, for the
//! operations commands, `maintenance`. Its public signatures speak only of `Uuid`s, strings,
//! numbers and the types defined here, and every failure is a [`StoreError`].
//!
//! PostgreSQL slots in behind the same signatures, as atuin's `atuin-server-sqlite` and
//! `atuin-server-postgres` sit behind `atuin-server-database`: the statements of each
//! submodule move to a `sqlite` backend, a `postgres` backend gets its own statements (`$1`
//! placeholders, `BYTEA`, a `LOCK TABLE providers` where SQLite's rotation says `BEGIN
//! IMMEDIATE`) and its own `migrations/postgres`, and [`Store`] and the transaction handles
//! become enums over the two, chosen by the scheme of `DM_DATABASE_URL`. Routes, auth, the
//! vault and the gateway take `&Store` and stay as they are; only `maintenance` (backup with
//! `VACUUM INTO`, restore of a file) stays SQLite's, since PostgreSQL backs up with `pg_dump`.

mod audit;
mod invites;
mod maintenance;
mod providers;
mod sessions;
mod shares;
mod sync;
mod tokens;
mod users;
mod vault;

pub use audit::{AuditRow, NewAuditEvent};
pub use invites::InviteRow;
pub use maintenance::{database_path, Maintenance};
pub use providers::StoredProvider;
pub use sessions::{NewSession, SessionRow, SessionUser};
pub use shares::{NewShare, ShareDraftRow, ShareRow, SharedLink};
pub use sync::{DomainRow, DraftRow, SyncTx};
pub use tokens::{NewToken, TokenRow, TokenUser};
pub use users::{AdminUserRow, Gate, InviteProblem, Registered, UserChange, UserRow};
pub use vault::{RotationTx, SealedKey, SealedRow};

use crate::files;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::{path::Path, str::FromStr, time::Duration};

/// The migrations of `server/migrations`, embedded at compile time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Why the store could not do what was asked. Callers turn it into their own error at their
/// edge (`ApiError::Database`, `VaultError::Store`, an operations command's message).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the database failed ({0}): check that the data directory is writable and the disk \
         is not full"
    )]
    Database(#[from] sqlx::Error),
    #[error(
        "cannot bring the database schema up to date ({0}): restore a backup made by this \
         server version"
    )]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "cannot make the database file {path} owner-only ({source}): run the server as the \
         file's owner, or `chmod 600` it and its -wal and -shm files"
    )]
    Private {
        path: String,
        source: std::io::Error,
    },
}

/// Makes a database file and its companions owner-only.
async fn make_private(database: &Path) -> Result<(), StoreError> {
    let error = |path: &Path, source| StoreError::Private {
        path: path.display().to_string(),
        source,
    };
    let path = database.to_path_buf();
    // File work is blocking I/O: keep it off the async runtime.
    tokio::task::spawn_blocking(move || {
        match files::make_private(&path) {
            // A missing folder is SQLite's to report, as it always has.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(error(&path, e)),
            Ok(()) => {}
        }
        for companion in files::sqlite_companions(&path) {
            files::restrict_if_exists(&companion).map_err(|e| error(&companion, e))?;
        }
        Ok(())
    })
    .await
    .map_err(|e| error(database, std::io::Error::other(e)))?
}

/// The server's database: every statement runs through it. Cloning shares the pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    /// The file and its `-wal` and `-shm` files are made owner-only first (see
    /// [`crate::files`]), so SQLite never creates them readable by others.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?;
        // sqlx names an in-memory database like a file (`file:sqlx-in-memory-…`) without
        // saying so publicly: ask the URL.
        if !(url.contains(":memory:") || url.contains("mode=memory")) {
            make_private(options.get_filename()).await?;
        }
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Store { pool })
    }

    /// Opens an existing database file read-only, without creating or migrating it, on one
    /// connection: for checking a backup before it is restored.
    pub async fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new().filename(path).read_only(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        Ok(Store { pool })
    }

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Whether the database answers (the readiness probe).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Deletes the sessions and API tokens expired at `now`; returns how many.
    pub async fn delete_expired(&self, now: i64) -> Result<u64, StoreError> {
        let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        let tokens =
            sqlx::query("DELETE FROM api_tokens WHERE expires_at IS NOT NULL AND expires_at <= ?")
                .bind(now)
                .execute(&self.pool)
                .await?;
        Ok(sessions.rows_affected() + tokens.rows_affected())
    }
}
