//! The audit log: an *audit event* is one security-relevant thing that happened (a sign-in, a
//! failed one, a token or provider created, an administrator's action, a key rotation), with
//! when (ms), who did it (the *actor*: an account's id and name, or the operator), what it was
//! done to (the *target*), the client's IP address and details as JSON. Callers never put a
//! secret in it. Events have increasing integer ids, which page the log newest first.

use super::{Store, StoreError};

/// An event to record.
#[derive(Clone, Debug)]
pub struct NewAuditEvent<'a> {
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor: &'a str,
    pub event: &'a str,
    pub target_id: Option<String>,
    pub target: Option<&'a str>,
    pub ip: Option<String>,
    /// JSON text.
    pub details: String,
}

/// An event as read.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor: String,
    pub event: String,
    pub target_id: Option<String>,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub details: String,
}

impl Store {
    pub async fn insert_audit(&self, event: NewAuditEvent<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_events (at, actor_id, actor, event, target_id, target, ip, details) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(event.at)
        .bind(event.actor_id)
        .bind(event.actor)
        .bind(event.event)
        .bind(event.target_id)
        .bind(event.target)
        .bind(event.ip)
        .bind(event.details)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Up to `limit` events with ids below `before` (all when `None`), newest first.
    pub async fn audit_events(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, at, actor_id, actor, event, target_id, target, ip, details \
             FROM audit_events WHERE id < ? ORDER BY id DESC LIMIT ?",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Deletes the events older than `cutoff` (ms); returns how many.
    pub async fn prune_audit(&self, cutoff: i64) -> Result<u64, StoreError> {
        let deleted = sqlx::query("DELETE FROM audit_events WHERE at < ?")
            .bind(cutoff)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected())
    }
}
