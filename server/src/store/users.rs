//! Accounts: a *user row* is an account's id, name, Argon2id password hash, whether it is an
//! administrator, when it was deactivated (if it is) and its last password sign-in. The first
//! account created becomes an administrator whatever was asked, decided by the same statement
//! that inserts it.
//!
//! A *registration gate* ([`Gate`]) is what registration must get past besides a free
//! username: nothing (`open`), being the very first account (`closed`, and `invite` without a
//! code), or an unused, unexpired invite code, consumed in the same transaction that inserts
//! the account. An *active administrator* is an administrator who is not deactivated; the
//! statements that deactivate or delete an account keep at least one.

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
    pub deactivated_at: Option<i64>,
}

/// An account as the administrator lists it, with how much it holds.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AdminUserRow {
    #[sqlx(try_from = "String")]
    pub id: Uuid,
    pub username: String,
    pub is_admin: bool,
    pub created_at: i64,
    pub deactivated_at: Option<i64>,
    pub last_sign_in_at: Option<i64>,
    pub domains: i64,
    pub drafts: i64,
    pub providers: i64,
    pub tokens: i64,
    pub sessions: i64,
}

/// What a new account must get past.
#[derive(Clone, Copy, Debug)]
pub enum Gate<'a> {
    /// Anyone may register.
    Open,
    /// Only the first account of the install (it becomes the administrator).
    FirstAccount,
    /// The invite code whose SHA-256 this is, unused and live at `now`.
    Invite { code_hash: &'a [u8], now: i64 },
}

/// How a registration went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registered {
    /// The account exists; whether it is an administrator.
    Created {
        is_admin: bool,
    },
    UsernameTaken,
    /// [`Gate::FirstAccount`] and there are accounts already.
    NotFirst,
    /// [`Gate::Invite`] and the code is not usable.
    Invite(InviteProblem),
}

/// Why an invite code cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InviteProblem {
    /// No such code (never made, or revoked).
    Unknown,
    Used,
    Expired,
}

/// How an administrator's change to an account went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserChange {
    Done,
    /// No such account (or, for deactivation and reactivation, already in that state).
    NotFound,
    /// The account is the last active administrator.
    LastAdmin,
}

/// Keeps one active administrator: true when the account (its id bound to the `?`) is not an
/// active administrator, or another active administrator exists.
const NOT_LAST_ADMIN: &str = "(is_admin = 0 OR deactivated_at IS NOT NULL OR EXISTS \
     (SELECT 1 FROM users o WHERE o.is_admin = 1 AND o.deactivated_at IS NULL AND o.id != ?))";

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

    /// Adds an account past `gate`. The gate is checked by the statements that insert: the
    /// first account by one conditional insert, an invite by consuming it in the transaction
    /// that inserts the account (the insert comes first, so the transaction holds SQLite's
    /// write lock from its first statement and two registrations cannot share one code).
    pub async fn register_user(
        &self,
        id: Uuid,
        username: &str,
        password_hash: &str,
        gate: Gate<'_>,
        now: i64,
    ) -> Result<Registered, StoreError> {
        let created = |row: Option<(bool,)>| match row {
            Some((is_admin,)) => Registered::Created { is_admin },
            None => Registered::UsernameTaken,
        };
        match gate {
            Gate::Open => Ok(created(
                self.insert_user(id, username, password_hash, false, now)
                    .await?
                    .map(|a| (a,)),
            )),
            Gate::FirstAccount => {
                let row: Option<(bool,)> = sqlx::query_as(
                    "INSERT INTO users (id, username, password_hash, is_admin, created_at) \
                     SELECT ?, ?, ?, 1, ? WHERE NOT EXISTS (SELECT 1 FROM users) \
                     ON CONFLICT (username) DO NOTHING RETURNING is_admin",
                )
                .bind(id.to_string())
                .bind(username)
                .bind(password_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                Ok(
                    row.map_or(Registered::NotFirst, |(is_admin,)| Registered::Created {
                        is_admin,
                    }),
                )
            }
            Gate::Invite { code_hash, now } => {
                let mut tx = self.pool.begin().await?;
                let row: Option<(bool,)> = sqlx::query_as(
                    "INSERT INTO users (id, username, password_hash, is_admin, created_at) \
                     VALUES (?, ?, ?, 0, ?) ON CONFLICT (username) DO NOTHING RETURNING is_admin",
                )
                .bind(id.to_string())
                .bind(username)
                .bind(password_hash)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                if row.is_none() {
                    return Ok(Registered::UsernameTaken);
                }
                let used = sqlx::query(
                    "UPDATE invites SET used_at = ?, used_by = ? WHERE code_hash = ? \
                     AND used_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
                )
                .bind(now)
                .bind(id.to_string())
                .bind(code_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if used.rows_affected() == 0 {
                    // Dropping the transaction undoes the insert; say why the code failed.
                    let found: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
                        "SELECT used_at, expires_at FROM invites WHERE code_hash = ?",
                    )
                    .bind(code_hash)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let problem = match found {
                        None => InviteProblem::Unknown,
                        Some((Some(_), _)) => InviteProblem::Used,
                        Some((None, _)) => InviteProblem::Expired,
                    };
                    return Ok(Registered::Invite(problem));
                }
                tx.commit().await?;
                Ok(created(row))
            }
        }
    }

    /// Whether any account exists.
    pub async fn has_users(&self) -> Result<bool, StoreError> {
        let (any,): (bool,) = sqlx::query_as("SELECT EXISTS (SELECT 1 FROM users)")
            .fetch_one(&self.pool)
            .await?;
        Ok(any)
    }

    /// The account named `username` (ignoring case), if any.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, username, password_hash, is_admin, deactivated_at FROM users \
             WHERE username = ?",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The account `id`, if any.
    pub async fn user_by_id(&self, id: Uuid) -> Result<Option<UserRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, username, password_hash, is_admin, deactivated_at FROM users WHERE id = ?",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Records a password sign-in at `now`.
    pub async fn record_sign_in(&self, id: Uuid, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET last_sign_in_at = ? WHERE id = ?")
            .bind(now)
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Replaces the account's password hash and deletes its sessions except `keep`, in one
    /// transaction; returns whether the account exists.
    pub async fn change_password(
        &self,
        id: Uuid,
        password_hash: &str,
        keep: Uuid,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(password_hash)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = ? AND id != ?")
            .bind(id.to_string())
            .bind(keep.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(updated.rows_affected() > 0)
    }

    /// Every account with its counts, oldest first.
    pub async fn admin_users(&self) -> Result<Vec<AdminUserRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT u.id, u.username, u.is_admin, u.created_at, u.deactivated_at, \
             u.last_sign_in_at, \
             (SELECT COUNT(*) FROM domains d WHERE d.user_id = u.id) AS domains, \
             (SELECT COUNT(*) FROM drafts r WHERE r.user_id = u.id) AS drafts, \
             (SELECT COUNT(*) FROM providers p WHERE p.user_id = u.id) AS providers, \
             (SELECT COUNT(*) FROM api_tokens t WHERE t.user_id = u.id) AS tokens, \
             (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id) AS sessions \
             FROM users u ORDER BY u.created_at, u.id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Deactivates an active account at `now` and deletes its sessions (its API tokens stay,
    /// refused while it is deactivated), unless it is the last active administrator.
    pub async fn deactivate_user(&self, id: Uuid, now: i64) -> Result<UserChange, StoreError> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(&format!(
            "UPDATE users SET deactivated_at = ? WHERE id = ? AND deactivated_at IS NULL \
             AND {NOT_LAST_ADMIN}"
        ))
        .bind(now)
        .bind(id.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            let found: Option<(bool, Option<i64>)> =
                sqlx::query_as("SELECT is_admin, deactivated_at FROM users WHERE id = ?")
                    .bind(id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
            return Ok(match found {
                Some((true, None)) => UserChange::LastAdmin,
                _ => UserChange::NotFound,
            });
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = ?")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(UserChange::Done)
    }

    /// Reactivates a deactivated account.
    pub async fn reactivate_user(&self, id: Uuid) -> Result<UserChange, StoreError> {
        let updated = sqlx::query(
            "UPDATE users SET deactivated_at = NULL WHERE id = ? AND deactivated_at IS NOT NULL",
        )
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(if updated.rows_affected() > 0 {
            UserChange::Done
        } else {
            UserChange::NotFound
        })
    }

    /// Deletes an account and, through the schema's `ON DELETE CASCADE`, every row of it
    /// (sessions, API tokens, providers, domains, their versions, drafts, the invites it
    /// made), unless it is the last active administrator of an install that has other
    /// accounts (the only account may go: the next one to register becomes administrator).
    /// One statement decides and deletes.
    pub async fn delete_user(&self, id: Uuid) -> Result<UserChange, StoreError> {
        let deleted = sqlx::query(&format!(
            "DELETE FROM users WHERE id = ? AND ({NOT_LAST_ADMIN} \
             OR NOT EXISTS (SELECT 1 FROM users o WHERE o.id != ?))"
        ))
        .bind(id.to_string())
        .bind(id.to_string())
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        if deleted.rows_affected() > 0 {
            return Ok(UserChange::Done);
        }
        Ok(if self.user_by_id(id).await?.is_some() {
            UserChange::LastAdmin
        } else {
            UserChange::NotFound
        })
    }
}
