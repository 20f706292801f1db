//! The key vault's rows: the providers' sealed keys and the *check value* (table
//! `vault_meta`, one row), a known text sealed with the master key that tells at start
//! whether the key is the right one. The store only moves sealed bytes; sealing and opening
//! is the vault's (`crate::vault`). A *rotation* ([`RotationTx`]) re-seals every provider
//! key and the check value in one transaction that holds the write lock from its start.

use super::{Store, StoreError};
use futures::TryStreamExt;
use sqlx::{Sqlite, SqliteExecutor, Transaction};

/// A provider key as stored: nonce and ciphertext (with its tag). Its plain counterpart,
/// `vault::PlainKey`, is another type, so one cannot be stored where the other belongs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedKey {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// A provider's sealed key with the ids it is bound to, as stored (text, so that a row
/// with a damaged id can still be named).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SealedRow {
    pub id: String,
    pub user_id: String,
    pub key_nonce: Vec<u8>,
    pub key_ciphertext: Vec<u8>,
}

impl SealedRow {
    pub fn sealed(&self) -> SealedKey {
        SealedKey {
            nonce: self.key_nonce.clone(),
            ciphertext: self.key_ciphertext.clone(),
        }
    }
}

const SEALED_ROWS: &str =
    "SELECT id, user_id, key_nonce, key_ciphertext FROM providers ORDER BY rowid";

/// The check value's row.
#[derive(sqlx::FromRow)]
struct CheckRow {
    check_nonce: Vec<u8>,
    check_ciphertext: Vec<u8>,
}

async fn read_check(executor: impl SqliteExecutor<'_>) -> Result<Option<SealedKey>, StoreError> {
    let row: Option<CheckRow> =
        sqlx::query_as("SELECT check_nonce, check_ciphertext FROM vault_meta WHERE id = 1")
            .fetch_optional(executor)
            .await?;
    Ok(row.map(|row| SealedKey {
        nonce: row.check_nonce,
        ciphertext: row.check_ciphertext,
    }))
}

impl Store {
    /// The check value, if one was written.
    pub async fn vault_check(&self) -> Result<Option<SealedKey>, StoreError> {
        read_check(&self.pool).await
    }

    /// Writes the check value unless there is one: of two servers starting at once on a
    /// fresh database, the first one's stays (re-read it to learn which).
    pub async fn insert_vault_check(&self, sealed: &SealedKey, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO vault_meta (id, check_nonce, check_ciphertext, updated_at) VALUES (1, ?, ?, ?) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&sealed.nonce)
        .bind(&sealed.ciphertext)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How many providers (of all users) there are.
    pub async fn provider_count(&self) -> Result<i64, StoreError> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM providers")
            .fetch_one(&self.pool)
            .await?;
        Ok(count)
    }

    /// Every provider's sealed key, in insertion order.
    pub async fn sealed_keys(&self) -> Result<Vec<SealedRow>, StoreError> {
        Ok(sqlx::query_as(SEALED_ROWS).fetch_all(&self.pool).await?)
    }

    /// Reads the sealed keys one by one until `opens` accepts one: `None` when there are
    /// none, else whether one was accepted. Rows after the accepted one are not read.
    pub async fn any_sealed_key(
        &self,
        mut opens: impl FnMut(&SealedRow) -> bool,
    ) -> Result<Option<bool>, StoreError> {
        let mut rows = sqlx::query_as::<_, SealedRow>(SEALED_ROWS).fetch(&self.pool);
        let mut seen = false;
        while let Some(row) = rows.try_next().await? {
            if opens(&row) {
                return Ok(Some(true));
            }
            seen = true;
        }
        Ok(seen.then_some(false))
    }

    /// Starts a rotation. `BEGIN IMMEDIATE` takes the write lock now, so no provider can be
    /// added with the old key between the rotation's reads and its commit.
    pub async fn begin_rotation(&self) -> Result<RotationTx, StoreError> {
        Ok(RotationTx {
            tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
        })
    }
}

/// A master-key rotation under way: one transaction, committed by [`RotationTx::commit`],
/// rolled back when dropped.
pub struct RotationTx {
    tx: Transaction<'static, Sqlite>,
}

impl RotationTx {
    /// The check value, if one was written.
    pub async fn vault_check(&mut self) -> Result<Option<SealedKey>, StoreError> {
        read_check(&mut *self.tx).await
    }

    /// Every provider's sealed key, in insertion order.
    pub async fn sealed_keys(&mut self) -> Result<Vec<SealedRow>, StoreError> {
        Ok(sqlx::query_as(SEALED_ROWS).fetch_all(&mut *self.tx).await?)
    }

    /// Replaces the sealed key of the provider `id` (as stored).
    pub async fn reseal(&mut self, id: &str, sealed: &SealedKey) -> Result<(), StoreError> {
        sqlx::query("UPDATE providers SET key_nonce = ?, key_ciphertext = ? WHERE id = ?")
            .bind(&sealed.nonce)
            .bind(&sealed.ciphertext)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Writes the check value, replacing the old one.
    pub async fn write_vault_check(
        &mut self,
        sealed: &SealedKey,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO vault_meta (id, check_nonce, check_ciphertext, updated_at) VALUES (1, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET check_nonce = excluded.check_nonce, \
             check_ciphertext = excluded.check_ciphertext, updated_at = excluded.updated_at",
        )
        .bind(&sealed.nonce)
        .bind(&sealed.ciphertext)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Makes every change of the rotation durable at once.
    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.tx.commit().await?)
    }
}
