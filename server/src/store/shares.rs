//! Share links: a *share row* is one read-only link of a user to a draft (or a pair of drafts
//! of one domain), found by the SHA-256 of its token (the token itself is never stored), with
//! its kind (`plain`: rendered from the synced drafts; `encrypted`: the sealed draft the
//! browser uploaded, in `ciphertext`), an optional label, expiry and revocation, and how often
//! and when its page was last opened.
//!
//! The store only reads and writes: whether a link is live at a given time is decided by the
//! caller (`share::live`), from the times a [`SharedLink`] carries.

use super::{Store, StoreError};
use uuid::Uuid;

/// A link to insert.
pub struct NewShare<'a> {
    pub id: Uuid,
    pub user: Uuid,
    pub token_hash: &'a [u8],
    pub draft_id: Uuid,
    pub old_draft_id: Option<Uuid>,
    /// The drafts' domain (plain links only).
    pub domain_id: Option<Uuid>,
    pub label: Option<&'a str>,
    pub preview: bool,
    /// The sealed draft of an encrypted link; `None` makes a plain link.
    pub ciphertext: Option<&'a [u8]>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

/// A link as listed to its owner (never its hash or ciphertext).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareRow {
    pub id: Uuid,
    /// `plain` or `encrypted`.
    pub kind: String,
    pub draft_id: Uuid,
    pub old_draft_id: Option<Uuid>,
    pub domain_id: Option<Uuid>,
    pub label: Option<String>,
    pub preview: bool,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_opened_at: Option<i64>,
    pub open_count: i64,
}

/// A link found by its token's hash, with what its page needs: whose it is, what it points
/// to, and the times that decide whether it is live.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedLink {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The stored hash, for the caller's constant-time comparison.
    pub token_hash: Vec<u8>,
    /// `plain` or `encrypted`.
    pub kind: String,
    pub draft_id: Uuid,
    pub old_draft_id: Option<Uuid>,
    pub preview: bool,
    pub ciphertext: Option<Vec<u8>>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl std::fmt::Debug for SharedLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedLink")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("kind", &self.kind)
            .field("draft_id", &self.draft_id)
            .field("old_draft_id", &self.old_draft_id)
            .field("preview", &self.preview)
            .field(
                "ciphertext",
                &self
                    .ciphertext
                    .as_ref()
                    .map(|c| format!("{} bytes", c.len())),
            )
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

/// A synced draft as a plain link reads it: its domain, its JSON record (empty once deleted)
/// and whether it was deleted.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ShareDraftRow {
    #[sqlx(try_from = "String")]
    pub domain_id: Uuid,
    pub body: String,
    pub deleted: bool,
}

#[derive(sqlx::FromRow)]
struct ShareSql {
    id: String,
    kind: String,
    draft_id: String,
    old_draft_id: Option<String>,
    domain_id: Option<String>,
    label: Option<String>,
    preview: bool,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    last_opened_at: Option<i64>,
    open_count: i64,
}

#[derive(sqlx::FromRow)]
struct LinkSql {
    id: String,
    user_id: String,
    token_hash: Vec<u8>,
    kind: String,
    draft_id: String,
    old_draft_id: Option<String>,
    preview: bool,
    ciphertext: Option<Vec<u8>>,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

/// A stored id; a column that is not one is a corrupt row, reported as a decoding failure.
fn uuid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
}

fn optional_uuid(text: Option<&str>) -> Result<Option<Uuid>, StoreError> {
    text.map(uuid).transpose()
}

impl TryFrom<ShareSql> for ShareRow {
    type Error = StoreError;

    fn try_from(row: ShareSql) -> Result<Self, StoreError> {
        Ok(ShareRow {
            id: uuid(&row.id)?,
            kind: row.kind,
            draft_id: uuid(&row.draft_id)?,
            old_draft_id: optional_uuid(row.old_draft_id.as_deref())?,
            domain_id: optional_uuid(row.domain_id.as_deref())?,
            label: row.label,
            preview: row.preview,
            created_at: row.created_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
            last_opened_at: row.last_opened_at,
            open_count: row.open_count,
        })
    }
}

impl Store {
    pub async fn insert_share(&self, share: NewShare<'_>) -> Result<(), StoreError> {
        let kind = if share.ciphertext.is_some() {
            "encrypted"
        } else {
            "plain"
        };
        sqlx::query(
            "INSERT INTO shares (id, user_id, token_hash, kind, draft_id, old_draft_id, domain_id, \
             label, preview, ciphertext, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(share.id.to_string())
        .bind(share.user.to_string())
        .bind(share.token_hash)
        .bind(kind)
        .bind(share.draft_id.to_string())
        .bind(share.old_draft_id.map(|id| id.to_string()))
        .bind(share.domain_id.map(|id| id.to_string()))
        .bind(share.label)
        .bind(share.preview)
        .bind(share.ciphertext)
        .bind(share.created_at)
        .bind(share.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user's links, newest first, revoked and expired ones included.
    pub async fn shares(&self, user: Uuid) -> Result<Vec<ShareRow>, StoreError> {
        let rows: Vec<ShareSql> = sqlx::query_as(
            "SELECT id, kind, draft_id, old_draft_id, domain_id, label, preview, created_at, \
             expires_at, revoked_at, last_opened_at, open_count FROM shares \
             WHERE user_id = ? ORDER BY created_at DESC, id DESC",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ShareRow::try_from).collect()
    }

    /// How many of the user's links are not revoked (expired ones included: they keep their
    /// ciphertext until revoked).
    pub async fn unrevoked_share_count(&self, user: Uuid) -> Result<i64, StoreError> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM shares WHERE user_id = ? AND revoked_at IS NULL")
                .bind(user.to_string())
                .fetch_one(&self.pool)
                .await?;
        Ok(count)
    }

    /// The link whose token hashes to `token_hash`, whatever its times, if its owner's account
    /// is not deactivated.
    pub async fn shared_link(&self, token_hash: &[u8]) -> Result<Option<SharedLink>, StoreError> {
        let row: Option<LinkSql> = sqlx::query_as(
            "SELECT s.id, s.user_id, s.token_hash, s.kind, s.draft_id, s.old_draft_id, s.preview, \
             s.ciphertext, s.expires_at, s.revoked_at FROM shares s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND u.deactivated_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(SharedLink {
                id: uuid(&row.id)?,
                user_id: uuid(&row.user_id)?,
                token_hash: row.token_hash,
                kind: row.kind,
                draft_id: uuid(&row.draft_id)?,
                old_draft_id: optional_uuid(row.old_draft_id.as_deref())?,
                preview: row.preview,
                ciphertext: row.ciphertext,
                expires_at: row.expires_at,
                revoked_at: row.revoked_at,
            })
        })
        .transpose()
    }

    /// Counts one opening of the link's page at `now`.
    pub async fn touch_share(&self, id: Uuid, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE shares SET last_opened_at = ?, open_count = open_count + 1 WHERE id = ?",
        )
        .bind(now)
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Revokes one of the user's links at `now` (a link revoked before keeps its first
    /// revocation time) and empties an encrypted link's ciphertext, which nothing will serve
    /// again; returns whether the user has such a link (another user's reads as none).
    pub async fn revoke_share(&self, user: Uuid, id: Uuid, now: i64) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE shares SET revoked_at = COALESCE(revoked_at, ?), \
             ciphertext = CASE WHEN ciphertext IS NULL THEN NULL ELSE x'' END \
             WHERE id = ? AND user_id = ?",
        )
        .bind(now)
        .bind(id.to_string())
        .bind(user.to_string())
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() > 0)
    }

    /// One of the user's synced drafts, deleted ones included (as tombstones).
    pub async fn share_draft(
        &self,
        user: Uuid,
        id: Uuid,
    ) -> Result<Option<ShareDraftRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT domain_id, body, deleted FROM drafts WHERE id = ? AND user_id = ?",
        )
        .bind(id.to_string())
        .bind(user.to_string())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The JSON record of one of the user's domains.
    pub async fn share_domain(&self, user: Uuid, id: Uuid) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT body FROM domains WHERE id = ? AND user_id = ?")
                .bind(id.to_string())
                .bind(user.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(body,)| body))
    }
}
