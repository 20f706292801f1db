//! Browser sessions: a *session row* is one signed-in browser, found by the SHA-256 of its
//! token (the token itself is never stored), with its own id (to list and revoke it without
//! handling the token), the browser's user agent and its expiry in milliseconds.

use super::{Store, StoreError};
use uuid::Uuid;

/// A session to insert.
pub struct NewSession<'a> {
    pub id: Uuid,
    pub token_hash: &'a [u8],
    pub user: Uuid,
    pub user_agent: Option<&'a str>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A session as listed to its owner.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionRow {
    #[sqlx(try_from = "String")]
    pub id: Uuid,
    pub created_at: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
}

/// The owner of a live session, with the session's id and expiry.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionUser {
    #[sqlx(try_from = "String")]
    pub user_id: Uuid,
    pub username: String,
    pub is_admin: bool,
    #[sqlx(try_from = "String")]
    pub session_id: Uuid,
    pub expires_at: i64,
}

impl Store {
    pub async fn insert_session(&self, session: NewSession<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, user_agent, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(session.id.to_string())
        .bind(session.token_hash)
        .bind(session.user.to_string())
        .bind(session.user_agent)
        .bind(session.created_at)
        .bind(session.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user of the session whose token hashes to `token_hash`, if it is live at `now` and
    /// the account is not deactivated.
    pub async fn session_user(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> Result<Option<SessionUser>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT u.id AS user_id, u.username, u.is_admin, s.id AS session_id, s.expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND s.expires_at > ? AND u.deactivated_at IS NULL",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Deletes the session whose token hashes to `token_hash`, if any.
    pub async fn delete_session_by_token(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The user's sessions live at `now`, newest first.
    pub async fn sessions(&self, user: Uuid, now: i64) -> Result<Vec<SessionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, created_at, expires_at, user_agent FROM sessions \
             WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC",
        )
        .bind(user.to_string())
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Deletes one of the user's sessions; returns whether there was one (another user's
    /// session is left alone and reads as none).
    pub async fn delete_session(&self, user: Uuid, id: Uuid) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE id = ? AND user_id = ?")
            .bind(id.to_string())
            .bind(user.to_string())
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() > 0)
    }
}
