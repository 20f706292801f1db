//! The sync store: a *domain row* is a domain's latest version (its JSON record as the
//! browser pushed it, and its `updated_at`); a *domain version* is a version a push replaced,
//! kept in `domain_versions`; a *draft row* is an immutable draft's JSON record. A push runs
//! in one [`SyncTx`]: the caller reads and writes through it and commits once, so a push is
//! applied whole or not at all.

use super::{Store, StoreError};
use sqlx::{Sqlite, Transaction};
use uuid::Uuid;

/// A domain as stored: its owner, its JSON record and its `updated_at`.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DomainRow {
    #[sqlx(try_from = "String")]
    pub user_id: Uuid,
    pub body: String,
    pub updated_at: i64,
}

/// A draft as stored: its owner and its JSON record.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DraftRow {
    #[sqlx(try_from = "String")]
    pub user_id: Uuid,
    pub body: String,
}

impl Store {
    /// Starts a push.
    pub async fn begin_sync(&self) -> Result<SyncTx, StoreError> {
        Ok(SyncTx {
            tx: self.pool.begin().await?,
        })
    }

    /// The JSON records of the user's domains, by id.
    pub async fn domain_bodies(&self, user: Uuid) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT body FROM domains WHERE user_id = ? ORDER BY id")
                .bind(user.to_string())
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(body,)| body).collect())
    }

    /// The JSON records of the user's drafts, by domain, then age.
    pub async fn draft_bodies(&self, user: Uuid) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT body FROM drafts WHERE user_id = ? ORDER BY domain_id, created_at, id",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(body,)| body).collect())
    }
}

#[derive(sqlx::FromRow)]
struct Owner {
    #[sqlx(try_from = "String")]
    user_id: Uuid,
}

/// A push under way: one transaction, committed by [`SyncTx::commit`], rolled back when
/// dropped (a refused record undoes the records of the push before it).
pub struct SyncTx {
    tx: Transaction<'static, Sqlite>,
}

impl SyncTx {
    /// The domain `id` of any user, if stored.
    pub async fn domain(&mut self, id: Uuid) -> Result<Option<DomainRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT user_id, body, updated_at FROM domains WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(&mut *self.tx)
                .await?,
        )
    }

    /// Keeps a domain's version that is about to be replaced, stamped `replaced_at`.
    pub async fn keep_domain_version(
        &mut self,
        id: Uuid,
        replaced: &DomainRow,
        replaced_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO domain_versions (domain_id, user_id, body, updated_at, replaced_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(replaced.user_id.to_string())
        .bind(&replaced.body)
        .bind(replaced.updated_at)
        .bind(replaced_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Replaces a stored domain's record.
    pub async fn update_domain(
        &mut self,
        id: Uuid,
        body: &str,
        updated_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE domains SET body = ?, updated_at = ? WHERE id = ?")
            .bind(body)
            .bind(updated_at)
            .bind(id.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Stores a new domain of `user`.
    pub async fn insert_domain(
        &mut self,
        id: Uuid,
        user: Uuid,
        body: &str,
        updated_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO domains (id, user_id, body, updated_at) VALUES (?, ?, ?, ?)")
            .bind(id.to_string())
            .bind(user.to_string())
            .bind(body)
            .bind(updated_at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// The draft `id` of any user, if stored.
    pub async fn draft(&mut self, id: Uuid) -> Result<Option<DraftRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT user_id, body FROM drafts WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(&mut *self.tx)
                .await?,
        )
    }

    /// The owner of the domain `id`, if stored.
    pub async fn domain_owner(&mut self, id: Uuid) -> Result<Option<Uuid>, StoreError> {
        let owner: Option<Owner> = sqlx::query_as("SELECT user_id FROM domains WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(owner.map(|o| o.user_id))
    }

    /// Stores a new draft of `user` in the domain `domain`.
    pub async fn insert_draft(
        &mut self,
        id: Uuid,
        user: Uuid,
        domain: Uuid,
        body: &str,
        created_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO drafts (id, user_id, domain_id, body, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(user.to_string())
        .bind(domain.to_string())
        .bind(body)
        .bind(created_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Makes every change of the push durable at once.
    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.tx.commit().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A migrated store in a temporary directory, with one user.
    async fn store_with_user() -> (Store, tempfile::TempDir, Uuid) {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let store = Store::connect(&url).await.expect("database");
        let user = Uuid::now_v7();
        store
            .insert_user(user, "u", "h", false, 0)
            .await
            .expect("user")
            .expect("a new name");
        (store, dir, user)
    }

    #[tokio::test]
    async fn a_push_is_applied_whole_or_not_at_all() {
        let (store, _dir, user) = store_with_user().await;
        let (domain, draft) = (Uuid::now_v7(), Uuid::now_v7());

        // Dropped before its commit (a later record was refused): nothing is stored.
        let mut tx = store.begin_sync().await.expect("begins");
        tx.insert_domain(domain, user, "{\"v\":1}", 1)
            .await
            .expect("domain");
        tx.insert_draft(draft, user, domain, "{\"d\":1}", 1)
            .await
            .expect("draft");
        assert_eq!(tx.domain_owner(domain).await.expect("reads"), Some(user));
        drop(tx);
        assert!(store.domain_bodies(user).await.expect("reads").is_empty());
        assert!(store.draft_bodies(user).await.expect("reads").is_empty());

        // Committed: everything is stored, and a replaced version is kept.
        let mut tx = store.begin_sync().await.expect("begins");
        tx.insert_domain(domain, user, "{\"v\":1}", 1)
            .await
            .expect("domain");
        tx.insert_draft(draft, user, domain, "{\"d\":1}", 1)
            .await
            .expect("draft");
        tx.commit().await.expect("commits");
        let mut tx = store.begin_sync().await.expect("begins");
        let stored = tx.domain(domain).await.expect("reads").expect("stored");
        assert_eq!((stored.user_id, stored.updated_at), (user, 1));
        tx.keep_domain_version(domain, &stored, 2)
            .await
            .expect("kept");
        tx.update_domain(domain, "{\"v\":2}", 2)
            .await
            .expect("updated");
        tx.commit().await.expect("commits");
        assert_eq!(
            store.domain_bodies(user).await.expect("reads"),
            ["{\"v\":2}"]
        );
        assert_eq!(
            store.draft_bodies(user).await.expect("reads"),
            ["{\"d\":1}"]
        );
        let mut tx = store.begin_sync().await.expect("begins");
        let kept = tx.draft(draft).await.expect("reads").expect("stored");
        assert_eq!((kept.user_id, kept.body.as_str()), (user, "{\"d\":1}"));
    }
}
