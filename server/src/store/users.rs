//! Accounts: a *user row* is an account's id, name, Argon2id password hash and whether it is
//! an administrator. The first account created becomes an administrator whatever was asked,
//! decided by the same statement that inserts it.

use super::{Store, StoreError};
use uuid::Uuid;

/// An account as stored.
#[derive(Clone, sqlx::FromRow)]
pub struct UserRow {
    #[sqlx(try_from = "String")]
    pub id: Uuid,
    pub username: String,
    pub password_hash: String,
    pub is_admin: bool,
}

impl Store {
    /// Adds an account unless the username is taken (ignoring case); returns whether it is an
    /// administrator (`admin`, or the first account), or `None` when the name is taken. One
    /// statement decides and inserts, so two concurrent first accounts cannot both become
    /// administrators.
    pub async fn insert_user(
        &self,
        id: Uuid,
        username: &str,
        password_hash: &str,
        admin: bool,
        now: i64,
    ) -> Result<Option<bool>, StoreError> {
        let inserted: Option<(bool,)> = sqlx::query_as(
            "INSERT INTO users (id, username, password_hash, is_admin, created_at) \
             VALUES (?, ?, ?, ? OR (SELECT COUNT(*) = 0 FROM users), ?) \
             ON CONFLICT (username) DO NOTHING RETURNING is_admin",
        )
        .bind(id.to_string())
        .bind(username)
        .bind(password_hash)
        .bind(admin)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(inserted.map(|(is_admin,)| is_admin))
    }

    /// The account named `username` (ignoring case), if any.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, username, password_hash, is_admin FROM users WHERE username = ?",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?)
    }
}
