//! A user's LLM providers: a *provider row* holds the provider's name, kind, base URL and
//! model, its API key sealed by the vault ([`SealedKey`]; the store never sees a key in the
//! clear) and the key's *hint*, its last four characters for the masked display.

use super::{SealedKey, Store, StoreError};
use model::wire::ProviderKind;
use uuid::Uuid;

/// A provider with its key still sealed.
#[derive(Clone, Debug)]
pub struct StoredProvider {
    pub id: Uuid,
    pub name: String,
    pub kind: ProviderKind,
    pub base_url: String,
    pub model: String,
    pub key: SealedKey,
    /// The key's last four characters, empty when there is no key.
    pub key_hint: String,
    pub created_at: i64,
    /// The gateway's retries for this provider; `None` for the server's default.
    pub retries: Option<u32>,
}

/// A provider row as read.
#[derive(sqlx::FromRow)]
struct ProviderRow {
    #[sqlx(try_from = "String")]
    id: Uuid,
    name: String,
    base_url: String,
    model: String,
    key_nonce: Vec<u8>,
    key_ciphertext: Vec<u8>,
    key_hint: String,
    created_at: i64,
    kind: String,
    retries: Option<i64>,
}

impl From<ProviderRow> for StoredProvider {
    fn from(row: ProviderRow) -> Self {
        StoredProvider {
            id: row.id,
            name: row.name,
            // An unknown kind (a newer server's) reads as OpenAI-compatible.
            kind: ProviderKind::parse(&row.kind).unwrap_or_default(),
            base_url: row.base_url,
            model: row.model,
            key: SealedKey {
                nonce: row.key_nonce,
                ciphertext: row.key_ciphertext,
            },
            key_hint: row.key_hint,
            created_at: row.created_at,
            retries: row.retries.and_then(|n| u32::try_from(n).ok()),
        }
    }
}

const COLUMNS: &str =
    "id, name, base_url, model, key_nonce, key_ciphertext, key_hint, created_at, kind, retries";

impl Store {
    /// One of the user's providers; another user's reads as none.
    pub async fn provider(
        &self,
        user: Uuid,
        id: Uuid,
    ) -> Result<Option<StoredProvider>, StoreError> {
        let row: Option<ProviderRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM providers WHERE id = ? AND user_id = ?"
        ))
        .bind(id.to_string())
        .bind(user.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(StoredProvider::from))
    }

    /// The user's providers, oldest first.
    pub async fn providers(&self, user: Uuid) -> Result<Vec<StoredProvider>, StoreError> {
        let rows: Vec<ProviderRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM providers WHERE user_id = ? ORDER BY created_at, id"
        ))
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(StoredProvider::from).collect())
    }

    /// Adds a provider for the user unless they have one of that name; returns whether it
    /// was added.
    pub async fn insert_provider(
        &self,
        user: Uuid,
        provider: &StoredProvider,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO providers (id, user_id, name, base_url, model, key_nonce, key_ciphertext, key_hint, created_at, kind, retries) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, name) DO NOTHING",
        )
        .bind(provider.id.to_string())
        .bind(user.to_string())
        .bind(&provider.name)
        .bind(&provider.base_url)
        .bind(&provider.model)
        .bind(&provider.key.nonce)
        .bind(&provider.key.ciphertext)
        .bind(&provider.key_hint)
        .bind(provider.created_at)
        .bind(provider.kind.as_str())
        .bind(provider.retries.map(i64::from))
        .execute(&self.pool)
        .await?;
        Ok(inserted.rows_affected() > 0)
    }

    /// Deletes one of the user's providers; returns whether there was one.
    pub async fn delete_provider(&self, user: Uuid, id: Uuid) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM providers WHERE id = ? AND user_id = ?")
            .bind(id.to_string())
            .bind(user.to_string())
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() > 0)
    }
}
