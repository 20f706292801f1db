//! API tokens: a *token row* is one named bearer token of a user, found by the SHA-256 of
//! the token (never stored in the clear), with its first characters (the *prefix*, to tell
//! tokens apart), its last use (kept to the minute) and an optional expiry in milliseconds.

use super::{Store, StoreError};
use uuid::Uuid;

/// A token to insert.
pub struct NewToken<'a> {
    pub id: Uuid,
    pub user: Uuid,
    pub name: &'a str,
    pub token_hash: &'a [u8],
    pub prefix: &'a str,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

/// A token as listed to its owner.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TokenRow {
    #[sqlx(try_from = "String")]
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// The owner of a live token, with the token's id, last use and expiry.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TokenUser {
    #[sqlx(try_from = "String")]
    pub user_id: Uuid,
    pub username: String,
    pub is_admin: bool,
    #[sqlx(try_from = "String")]
    pub token_id: Uuid,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
}

impl Store {
    /// The user of the token that hashes to `token_hash`, if it is live at `now` and the
    /// account is not deactivated.
    pub async fn token_user(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> Result<Option<TokenUser>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT u.id AS user_id, u.username, u.is_admin, t.id AS token_id, t.last_used_at, \
             t.expires_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = ? AND (t.expires_at IS NULL OR t.expires_at > ?) \
             AND u.deactivated_at IS NULL",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Records that the token was used at `now`.
    pub async fn touch_token(&self, id: Uuid, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
            .bind(now)
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The user's tokens live at `now`, oldest first.
    pub async fn tokens(&self, user: Uuid, now: i64) -> Result<Vec<TokenRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, name, prefix, created_at, last_used_at, expires_at FROM api_tokens \
             WHERE user_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at, id",
        )
        .bind(user.to_string())
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many tokens the user holds, expired ones included.
    pub async fn token_count(&self, user: Uuid) -> Result<i64, StoreError> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_tokens WHERE user_id = ?")
            .bind(user.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(count)
    }

    /// Adds a token unless the user has one of that name; returns whether it was added.
    pub async fn insert_token(&self, token: NewToken<'_>) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, name) DO NOTHING",
        )
        .bind(token.id.to_string())
        .bind(token.user.to_string())
        .bind(token.name)
        .bind(token.token_hash)
        .bind(token.prefix)
        .bind(token.created_at)
        .bind(token.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(inserted.rows_affected() > 0)
    }

    /// Deletes one of the user's tokens; returns whether there was one.
    pub async fn delete_token(&self, user: Uuid, id: Uuid) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM api_tokens WHERE id = ? AND user_id = ?")
            .bind(id.to_string())
            .bind(user.to_string())
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() > 0)
    }
}
