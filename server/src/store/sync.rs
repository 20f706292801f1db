//! The sync store (DESIGN §6). A *domain row* is a domain's latest state (its JSON record)
//! with the user's version at which it last changed; a replaced state is kept in
//! `domain_versions`. A *draft row* is an immutable draft's JSON record, or, once deleted, a
//! tombstone with an empty body. Each user has a *version* (`sync_users`) that every change
//! advances, and each browser a *client row* (`sync_clients`) with the last mutation id
//! applied; the parts of a mutation too large for one push wait in `sync_parts`.
//!
//! A push runs in one [`SyncTx`], begun with `BEGIN IMMEDIATE` so that concurrent pushes
//! queue for the write lock instead of failing on it; a pull reads in one [`PullTx`], a
//! snapshot in which versions, rows and mutation ids agree.

use super::{Store, StoreError};
use sqlx::{Sqlite, Transaction};
use uuid::Uuid;

/// A domain as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DomainRow {
    #[sqlx(try_from = "String")]
    pub user_id: Uuid,
    pub body: String,
    pub updated_at: i64,
}

/// A draft as stored: its owner, its JSON record (empty once deleted) and whether deleted.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DraftRow {
    #[sqlx(try_from = "String")]
    pub user_id: Uuid,
    pub body: String,
    pub deleted: bool,
}

/// A browser's sync state: whose it is and the last mutation id applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientRow {
    pub user_id: Uuid,
    pub last_mutation_id: u64,
}

/// One record changed after a version, as a pull returns it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ChangedRow {
    /// `domain` or `draft`.
    pub kind: String,
    pub id: String,
    /// The JSON record; empty for a deleted draft.
    pub body: String,
    pub deleted: bool,
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct Owner {
    #[sqlx(try_from = "String")]
    user_id: Uuid,
}

#[derive(sqlx::FromRow)]
struct ClientSql {
    user_id: String,
    last_mutation_id: i64,
}

fn version(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn to_sql(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Store {
    /// Starts a push: takes the database's write lock (waiting for it).
    pub async fn begin_sync(&self) -> Result<SyncTx, StoreError> {
        Ok(SyncTx {
            tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
        })
    }

    /// Starts a pull: one read snapshot.
    pub async fn begin_pull(&self) -> Result<PullTx, StoreError> {
        Ok(PullTx {
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

    /// The JSON records of the user's drafts that are not deleted, by domain, then age.
    pub async fn draft_bodies(&self, user: Uuid) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT body FROM drafts WHERE user_id = ? AND deleted = 0 ORDER BY domain_id, created_at, id",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(body,)| body).collect())
    }
}

async fn client_row<'c, E>(executor: E, client: Uuid) -> Result<Option<ClientRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = Sqlite>,
{
    let row: Option<ClientSql> =
        sqlx::query_as("SELECT user_id, last_mutation_id FROM sync_clients WHERE client_id = ?")
            .bind(client.to_string())
            .fetch_optional(executor)
            .await?;
    Ok(row.and_then(|r| {
        Some(ClientRow {
            user_id: Uuid::parse_str(&r.user_id).ok()?,
            last_mutation_id: version(r.last_mutation_id),
        })
    }))
}

async fn user_version<'c, E>(executor: E, user: Uuid) -> Result<u64, StoreError>
where
    E: sqlx::Executor<'c, Database = Sqlite>,
{
    let row: Option<(i64,)> = sqlx::query_as("SELECT version FROM sync_users WHERE user_id = ?")
        .bind(user.to_string())
        .fetch_optional(executor)
        .await?;
    Ok(row.map(|(v,)| version(v)).unwrap_or(0))
}

/// A pull under way: one read transaction.
pub struct PullTx {
    tx: Transaction<'static, Sqlite>,
}

impl PullTx {
    /// The client `id`, if it has pushed.
    pub async fn client(&mut self, id: Uuid) -> Result<Option<ClientRow>, StoreError> {
        client_row(&mut *self.tx, id).await
    }

    /// The user's version.
    pub async fn version(&mut self, user: Uuid) -> Result<u64, StoreError> {
        user_version(&mut *self.tx, user).await
    }

    /// The user's records changed after `since`, by version, at most `limit`, deleted drafts
    /// (tombstones) included even from version 0: a browser may hold drafts before its first
    /// pull (it pushes first, or kept them from the first sync version).
    pub async fn changed(
        &mut self,
        user: Uuid,
        since: u64,
        limit: u32,
    ) -> Result<Vec<ChangedRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT 'domain' AS kind, id, body, 0 AS deleted, version FROM domains
                 WHERE user_id = ?1 AND version > ?2
             UNION ALL
             SELECT 'draft' AS kind, id, body, deleted, version FROM drafts
                 WHERE user_id = ?1 AND version > ?2
             ORDER BY version LIMIT ?3",
        )
        .bind(user.to_string())
        .bind(to_sql(since))
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?)
    }
}

/// A push under way: one transaction, committed by [`SyncTx::commit`], rolled back when
/// dropped.
pub struct SyncTx {
    tx: Transaction<'static, Sqlite>,
}

impl SyncTx {
    /// The client `id`, if it has pushed before.
    pub async fn client(&mut self, id: Uuid) -> Result<Option<ClientRow>, StoreError> {
        client_row(&mut *self.tx, id).await
    }

    /// Records the last mutation id applied for a client of `user`, creating its row.
    pub async fn set_client(
        &mut self,
        id: Uuid,
        user: Uuid,
        last_mutation_id: u64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sync_clients (client_id, user_id, last_mutation_id, last_seen)
             VALUES (?, ?, ?, ?)
             ON CONFLICT (client_id) DO UPDATE SET
                 last_mutation_id = excluded.last_mutation_id, last_seen = excluded.last_seen",
        )
        .bind(id.to_string())
        .bind(user.to_string())
        .bind(to_sql(last_mutation_id))
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The user's version.
    pub async fn version(&mut self, user: Uuid) -> Result<u64, StoreError> {
        user_version(&mut *self.tx, user).await
    }

    /// Sets the user's version.
    pub async fn set_version(&mut self, user: Uuid, version: u64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sync_users (user_id, version) VALUES (?, ?)
             ON CONFLICT (user_id) DO UPDATE SET version = excluded.version",
        )
        .bind(user.to_string())
        .bind(to_sql(version))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Keeps part `index` of mutation `mutation` of a client (a retry replaces it).
    pub async fn put_part(
        &mut self,
        client: Uuid,
        mutation: u64,
        index: u32,
        count: u32,
        data: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sync_parts (client_id, mutation_id, idx, count, data) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (client_id, mutation_id, idx) DO UPDATE SET count = excluded.count, data = excluded.data",
        )
        .bind(client.to_string())
        .bind(to_sql(mutation))
        .bind(index)
        .bind(count)
        .bind(data)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Forgets the parts of a mutation that declared another count (a retry cut differently,
    /// by a newer version of the app), so that they cannot stand in for the new ones.
    pub async fn drop_other_parts(
        &mut self,
        client: Uuid,
        mutation: u64,
        count: u32,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM sync_parts WHERE client_id = ? AND mutation_id = ? AND count != ?",
        )
        .bind(client.to_string())
        .bind(to_sql(mutation))
        .bind(count)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The parts kept for a mutation, in order, each with the count it declared.
    pub async fn parts(
        &mut self,
        client: Uuid,
        mutation: u64,
    ) -> Result<Vec<(u32, u32, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT idx, count, data FROM sync_parts WHERE client_id = ? AND mutation_id = ? ORDER BY idx",
        )
        .bind(client.to_string())
        .bind(to_sql(mutation))
        .fetch_all(&mut *self.tx)
        .await?)
    }

    /// Forgets a client's parts up to mutation `mutation`.
    pub async fn drop_parts(&mut self, client: Uuid, mutation: u64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sync_parts WHERE client_id = ? AND mutation_id <= ?")
            .bind(client.to_string())
            .bind(to_sql(mutation))
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// The domain `id` of any user, if stored.
    pub async fn domain(&mut self, id: Uuid) -> Result<Option<DomainRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT user_id, body, updated_at FROM domains WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(&mut *self.tx)
                .await?,
        )
    }

    /// Keeps a domain's state that is about to be replaced, stamped `replaced_at`.
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

    /// Writes a domain of `user` (new or replaced) at `version`.
    pub async fn put_domain(
        &mut self,
        id: Uuid,
        user: Uuid,
        body: &str,
        updated_at: i64,
        version: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO domains (id, user_id, body, updated_at, version) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at,
                 version = excluded.version",
        )
        .bind(id.to_string())
        .bind(user.to_string())
        .bind(body)
        .bind(updated_at)
        .bind(to_sql(version))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The draft `id` of any user, if stored (a tombstone included).
    pub async fn draft(&mut self, id: Uuid) -> Result<Option<DraftRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT user_id, body, deleted FROM drafts WHERE id = ?")
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

    /// Stores a new draft of `user` in the domain `domain`, at `version`.
    pub async fn insert_draft(
        &mut self,
        id: Uuid,
        user: Uuid,
        domain: Uuid,
        body: &str,
        created_at: i64,
        version: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO drafts (id, user_id, domain_id, body, created_at, version) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(user.to_string())
        .bind(domain.to_string())
        .bind(body)
        .bind(created_at)
        .bind(to_sql(version))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Turns a draft into a tombstone at `version`: its body goes, its id stays taken.
    pub async fn delete_draft(&mut self, id: Uuid, version: u64) -> Result<(), StoreError> {
        sqlx::query("UPDATE drafts SET body = '', deleted = 1, version = ? WHERE id = ?")
            .bind(to_sql(version))
            .bind(id.to_string())
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
        let (domain, draft, client) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());

        // Dropped before its commit: nothing is stored, no version advanced.
        let mut tx = store.begin_sync().await.expect("begins");
        tx.put_domain(domain, user, "{\"v\":1}", 1, 1)
            .await
            .expect("domain");
        tx.insert_draft(draft, user, domain, "{\"d\":1}", 1, 2)
            .await
            .expect("draft");
        tx.set_version(user, 2).await.expect("version");
        tx.set_client(client, user, 2, 0).await.expect("client");
        assert_eq!(tx.domain_owner(domain).await.expect("reads"), Some(user));
        drop(tx);
        assert!(store.domain_bodies(user).await.expect("reads").is_empty());
        assert!(store.draft_bodies(user).await.expect("reads").is_empty());
        let mut pull = store.begin_pull().await.expect("begins");
        assert_eq!(pull.version(user).await.expect("reads"), 0);
        assert_eq!(pull.client(client).await.expect("reads"), None);
        drop(pull);

        // Committed: everything is there, in version order, and a tombstone hides its body.
        let mut tx = store.begin_sync().await.expect("begins");
        tx.put_domain(domain, user, "{\"v\":1}", 1, 1)
            .await
            .expect("domain");
        tx.insert_draft(draft, user, domain, "{\"d\":1}", 1, 2)
            .await
            .expect("draft");
        tx.set_version(user, 2).await.expect("version");
        tx.set_client(client, user, 2, 0).await.expect("client");
        tx.commit().await.expect("commits");
        let mut pull = store.begin_pull().await.expect("begins");
        assert_eq!(pull.version(user).await.expect("reads"), 2);
        let changed = pull.changed(user, 0, 10).await.expect("reads");
        let kinds: Vec<(&str, i64)> = changed
            .iter()
            .map(|c| (c.kind.as_str(), c.version))
            .collect();
        assert_eq!(kinds, [("domain", 1), ("draft", 2)]);
        assert_eq!(pull.changed(user, 2, 10).await.expect("reads").len(), 0);
        drop(pull);

        let mut tx = store.begin_sync().await.expect("begins");
        tx.delete_draft(draft, 3).await.expect("deletes");
        tx.set_version(user, 3).await.expect("version");
        tx.commit().await.expect("commits");
        let mut pull = store.begin_pull().await.expect("begins");
        let after = pull.changed(user, 2, 10).await.expect("reads");
        assert_eq!(after.len(), 1);
        assert!(after[0].deleted && after[0].body.is_empty());
        // A first pull gets the tombstone too: the browser may hold the draft already.
        let first = pull.changed(user, 0, 10).await.expect("reads");
        assert_eq!(first.len(), 2);
        assert!(first[1].deleted);
        assert!(store.draft_bodies(user).await.expect("reads").is_empty());
    }
}
