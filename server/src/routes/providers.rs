//! A user's LLM providers: add (the key goes into the vault), list (masked), delete.

use super::{ApiJson, ApiPath};
use crate::auth::CurrentUser;
use crate::vault::{PlainKey, SealedKey};
use crate::{db::now_ms, error::ApiError, AppState};
use axum::{extract::State, http::StatusCode, Json};
use model::wire::{mask_key, ProviderInfo, ProviderInput, ProviderKind, ProviderTest};
use uuid::Uuid;

/// A provider row with its key still sealed.
#[derive(Clone, Debug)]
pub struct StoredProvider {
    pub id: Uuid,
    pub name: String,
    pub kind: ProviderKind,
    pub base_url: String,
    pub model: String,
    pub key: SealedKey,
}

type Row = (
    String,
    String,
    String,
    String,
    Vec<u8>,
    Vec<u8>,
    String,
    i64,
    String,
);

const COLUMNS: &str =
    "id, name, base_url, model, key_nonce, key_ciphertext, key_hint, created_at, kind";

/// The stored kind; an unknown one (a newer server's) reads as OpenAI-compatible.
fn kind(stored: &str) -> ProviderKind {
    ProviderKind::parse(stored).unwrap_or_default()
}

fn info(row: &Row) -> Result<ProviderInfo, ApiError> {
    Ok(ProviderInfo {
        id: Uuid::parse_str(&row.0).map_err(ApiError::internal)?,
        name: row.1.clone(),
        kind: kind(&row.8),
        base_url: row.2.clone(),
        model: row.3.clone(),
        key_masked: if row.6.is_empty() {
            "(no key)".into()
        } else {
            format!("••••{}", row.6)
        },
        created_at: row.7,
    })
}

/// Loads one of the user's providers; another user's provider is "not found". Served from
/// the provider cache when it can be (see `crate::cache`).
pub async fn load(state: &AppState, user: Uuid, id: Uuid) -> Result<StoredProvider, ApiError> {
    let now = std::time::Instant::now();
    if let Some(hit) = state.caches.providers.get(&(user, id), now) {
        return Ok(hit);
    }
    let provider = load_row(state, user, id).await?;
    state
        .caches
        .providers
        .insert((user, id), provider.clone(), now);
    Ok(provider)
}

/// Opens a provider's sealed key; a key that does not open is the user's to enter again.
pub fn open_key(
    state: &AppState,
    user: Uuid,
    provider: &StoredProvider,
) -> Result<PlainKey, ApiError> {
    state
        .vault
        .open(user, provider.id, &provider.key)
        .map_err(|e| ApiError::invalid("AI_KEY_UNREADABLE", e.to_string()))
}

async fn load_row(state: &AppState, user: Uuid, id: Uuid) -> Result<StoredProvider, ApiError> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM providers WHERE id = ? AND user_id = ?"
    ))
    .bind(id.to_string())
    .bind(user.to_string())
    .fetch_optional(&state.pool)
    .await?;
    let row = row.ok_or(ApiError::NotFound { what: "provider" })?;
    Ok(StoredProvider {
        id,
        kind: kind(&row.8),
        name: row.1,
        base_url: row.2,
        model: row.3,
        key: SealedKey {
            nonce: row.4,
            ciphertext: row.5,
        },
    })
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<ProviderInfo>>, ApiError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM providers WHERE user_id = ? ORDER BY created_at, id"
    ))
    .bind(user.id.to_string())
    .fetch_all(&state.pool)
    .await?;
    rows.iter()
        .map(info)
        .collect::<Result<Vec<_>, _>>()
        .map(Json)
}

/// Checks the input and returns the base URL to store (the kind's default when none is given).
fn check(input: &ProviderInput) -> Result<String, ApiError> {
    if input.name.trim().is_empty() || input.name.chars().count() > 64 {
        return Err(ApiError::invalid(
            "VAL_PROVIDER_NAME",
            "the provider name needs 1 to 64 characters",
        ));
    }
    let base_url =
        match (input.base_url.trim(), input.kind.default_base_url()) {
            ("", Some(default)) => default.to_string(),
            ("", None) => return Err(ApiError::invalid(
                "VAL_BASE_URL",
                "an OpenAI-compatible provider needs its base URL, e.g. http://localhost:11434/v1",
            )),
            (given, _) => given.trim_end_matches('/').to_string(),
        };
    let url = reqwest::Url::parse(&base_url).map_err(|e| {
        ApiError::invalid(
            "VAL_BASE_URL",
            format!("the base URL is not a URL ({e}): use e.g. https://api.openai.com/v1"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ApiError::invalid(
            "VAL_BASE_URL",
            "the base URL must be http:// or https:// with a host",
        ));
    }
    if input.model.trim().is_empty() || input.model.len() > 200 {
        return Err(ApiError::invalid(
            "VAL_MODEL",
            "name the model to use, e.g. gpt-4o-mini",
        ));
    }
    if input.api_key.len() > 4096 || input.api_key.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "VAL_API_KEY",
            "the API key is malformed: paste it again",
        ));
    }
    if input.api_key.trim().is_empty() && input.kind != ProviderKind::Compatible {
        return Err(ApiError::invalid(
            "VAL_API_KEY",
            format!("{} needs an API key: paste it", input.kind.label()),
        ));
    }
    Ok(base_url)
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(input): ApiJson<ProviderInput>,
) -> Result<(StatusCode, Json<ProviderInfo>), ApiError> {
    let base_url = check(&input)?;
    let id = Uuid::now_v7();
    let key = PlainKey::new(input.api_key.trim().to_string());
    let sealed = state
        .vault
        .seal(user.id, id, &key)
        .map_err(ApiError::internal)?;
    let masked = mask_key(key.expose());
    let hint = if key.expose().is_empty() {
        String::new()
    } else {
        masked.trim_start_matches('•').to_string()
    };
    let now = now_ms();
    let inserted = sqlx::query(
        "INSERT INTO providers (id, user_id, name, base_url, model, key_nonce, key_ciphertext, key_hint, created_at, kind) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, name) DO NOTHING",
    )
    .bind(id.to_string())
    .bind(user.id.to_string())
    .bind(input.name.trim())
    .bind(&base_url)
    .bind(input.model.trim())
    .bind(&sealed.nonce)
    .bind(&sealed.ciphertext)
    .bind(&hint)
    .bind(now)
    .bind(input.kind.as_str())
    .execute(&state.pool)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(ApiError::Conflict {
            code: "VAL_PROVIDER_EXISTS",
            message:
                "you already have a provider with this name: pick another or delete the old one"
                    .into(),
        });
    }
    tracing::info!(user = %user.id, provider = %id, "provider added");
    let row: Row = (
        id.to_string(),
        input.name.trim().to_string(),
        base_url,
        input.model.trim().to_string(),
        sealed.nonce,
        sealed.ciphertext,
        hint,
        now,
        input.kind.as_str().to_string(),
    );
    Ok((StatusCode::CREATED, Json(info(&row)?)))
}

pub async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let deleted = sqlx::query("DELETE FROM providers WHERE id = ? AND user_id = ?")
        .bind(id.to_string())
        .bind(user.id.to_string())
        .execute(&state.pool)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(ApiError::NotFound { what: "provider" });
    }
    state.caches.forget_provider(user.id, id);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/providers/{id}/models`: the models the provider lists.
pub async fn models(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<model::wire::ModelInfo>>, ApiError> {
    let provider = load(&state, user.id, id).await?;
    let key = open_key(&state, user.id, &provider)?;
    crate::llm::list_models(&state, &provider, &key)
        .await
        .map(Json)
}

/// `POST /api/v1/providers/{id}/test`: asks the provider for its model list with the stored
/// key. The answer is the test's result (200 even when the provider failed): whether it
/// answered, how fast, the `AI_*` code and message if not, and whether it lists the model.
pub async fn test(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ProviderTest>, ApiError> {
    let provider = load(&state, user.id, id).await?;
    let key = open_key(&state, user.id, &provider)?;
    let started = std::time::Instant::now();
    let listed = crate::llm::list_models(&state, &provider, &key).await;
    let latency_ms = started.elapsed().as_millis() as u64;
    let result = match listed {
        Ok(models) => {
            let model_listed =
                (!models.is_empty()).then(|| models.iter().any(|m| m.id == provider.model));
            let message = match model_listed {
                Some(true) | None => {
                    format!(
                        "connected: the provider lists {} model{}",
                        models.len(),
                        if models.len() == 1 { "" } else { "s" }
                    )
                }
                Some(false) => format!(
                    "connected, but the provider does not list the model `{}`: check its name",
                    provider.model
                ),
            };
            ProviderTest {
                ok: true,
                latency_ms,
                code: None,
                message,
                models: models.len(),
                model_listed,
            }
        }
        Err(ApiError::Upstream { code, message, .. }) => ProviderTest {
            ok: false,
            latency_ms,
            code: Some(code.to_string()),
            message,
            models: 0,
            model_listed: None,
        },
        Err(other) => return Err(other),
    };
    tracing::info!(user = %user.id, provider = %id, ok = result.ok, latency_ms, "provider tested");
    Ok(Json(result))
}
