//! Invite codes for invite-only registration: an *invite row* is one code an administrator
//! made, found by the SHA-256 of the code (the code itself is shown once and never stored),
//! with an optional expiry and, once used, when and by which account. Registration consumes a
//! code in `users::register_user`; revoking one deletes its row.

use super::{InviteProblem, Store, StoreError};
use uuid::Uuid;

/// An invite as the administrator lists it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InviteRow {
    #[sqlx(try_from = "String")]
    pub id: Uuid,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub used_at: Option<i64>,
    pub used_by: Option<String>,
}

impl Store {
    /// Adds an invite made by `admin`.
    pub async fn insert_invite(
        &self,
        id: Uuid,
        code_hash: &[u8],
        admin: Uuid,
        now: i64,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO invites (id, code_hash, created_by, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(code_hash)
        .bind(admin.to_string())
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every invite, newest first, with the usernames of who made and who used it.
    pub async fn invites(&self) -> Result<Vec<InviteRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT i.id, c.username AS created_by, i.created_at, i.expires_at, i.used_at, \
             u.username AS used_by FROM invites i JOIN users c ON c.id = i.created_by \
             LEFT JOIN users u ON u.id = i.used_by ORDER BY i.created_at DESC, i.id DESC",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Why the code that hashes to `code_hash` cannot be used at `now`, or `None` when it can
    /// (a check before the password is hashed; registration checks again as it consumes it).
    pub async fn invite_problem(
        &self,
        code_hash: &[u8],
        now: i64,
    ) -> Result<Option<InviteProblem>, StoreError> {
        let found: Option<(Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT used_at, expires_at FROM invites WHERE code_hash = ?")
                .bind(code_hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match found {
            None => Some(InviteProblem::Unknown),
            Some((Some(_), _)) => Some(InviteProblem::Used),
            Some((None, Some(expires_at))) if expires_at <= now => Some(InviteProblem::Expired),
            Some((None, _)) => None,
        })
    }

    /// Deletes an invite; returns whether there was one.
    pub async fn delete_invite(&self, id: Uuid) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM invites WHERE id = ?")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() > 0)
    }
}
