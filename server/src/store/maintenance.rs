//! What the operations commands (`backup`, `restore`) do to a SQLite database file itself,
//! beside or instead of a running server: a *maintenance connection* ([`Maintenance`]) is one
//! connection to an existing file, opened without creating or migrating it, for `VACUUM INTO`
//! (a consistent copy while the server writes) and a WAL checkpoint; the checks of a backup
//! before it is restored (SQLite's quick check, its tables, its applied migrations) run on a
//! read-only [`Store`] ([`Store::open_read_only`]).

use super::{Store, StoreError};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The database file that a SQLite `url` names.
pub fn database_path(url: &str) -> Result<PathBuf, StoreError> {
    let options = SqliteConnectOptions::from_str(url)?;
    Ok(options.get_filename().to_path_buf())
}

/// One connection to an existing database file.
pub struct Maintenance {
    connection: SqliteConnection,
}

impl Maintenance {
    /// Opens the file at `path`, which must exist, waiting up to five seconds for a lock.
    pub async fn open(path: &Path, read_only: bool) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(read_only)
            .busy_timeout(std::time::Duration::from_secs(5));
        Ok(Maintenance {
            connection: SqliteConnection::connect_with(&options).await?,
        })
    }

    /// Writes a consistent copy of the database into `file`, which must not exist or be
    /// empty. `VACUUM INTO` reads one snapshot, so a server may keep writing meanwhile.
    pub async fn vacuum_into(&mut self, file: &Path) -> Result<(), StoreError> {
        sqlx::query("VACUUM INTO ?")
            .bind(file.to_string_lossy().into_owned())
            .execute(&mut self.connection)
            .await?;
        Ok(())
    }

    /// Moves everything committed from the write-ahead log into the main file and empties
    /// the log.
    pub async fn checkpoint(&mut self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut self.connection)
            .await?;
        Ok(())
    }

    pub async fn close(self) -> Result<(), StoreError> {
        Ok(self.connection.close().await?)
    }
}

impl Store {
    /// SQLite's quick check of the whole file: `ok`, or what is damaged.
    pub async fn quick_check(&self) -> Result<String, StoreError> {
        let (quick,): (String,) = sqlx::query_as("PRAGMA quick_check")
            .fetch_one(&self.pool)
            .await?;
        Ok(quick)
    }

    /// The names of the file's tables.
    pub async fn table_names(&self) -> Result<Vec<String>, StoreError> {
        let tables: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&self.pool)
                .await?;
        Ok(tables.into_iter().map(|(name,)| name).collect())
    }

    /// The versions of the migrations applied to the file.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        let applied: Vec<(i64,)> = sqlx::query_as("SELECT version FROM _sqlx_migrations")
            .fetch_all(&self.pool)
            .await?;
        Ok(applied.into_iter().map(|(version,)| version).collect())
    }
}
