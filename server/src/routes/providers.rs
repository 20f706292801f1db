//! A user's LLM providers: add (the key goes into the vault), list (masked), delete.

use super::auth::ClientIp;
use super::{ApiJson, ApiPath};
use crate::audit::{Audit, Event};
use crate::auth::CurrentUser;
use crate::llm::LlmError;
use crate::store::StoredProvider;
use crate::vault::PlainKey;
use crate::{clock::now_ms, error::ApiError, AppState};
use axum::{extract::State, http::StatusCode, Json};
use model::wire::{mask_key, FieldError, ProviderInfo, ProviderInput, ProviderKind, ProviderTest};
use uuid::Uuid;

fn info(provider: &StoredProvider) -> ProviderInfo {
    ProviderInfo {
        id: provider.id,
        name: provider.name.clone(),
        kind: provider.kind,
        base_url: provider.base_url.clone(),
        model: provider.model.clone(),
        key_masked: if provider.key_hint.is_empty() {
            "(no key)".into()
        } else {
            format!("••••{}", provider.key_hint)
        },
        created_at: provider.created_at,
        retries: provider.retries,
    }
}

/// Loads one of the user's providers; another user's provider is "not found". Served from
/// the provider cache when it can be (see `crate::cache`).
pub async fn load(state: &AppState, user: Uuid, id: Uuid) -> Result<StoredProvider, ApiError> {
    let now = std::time::Instant::now();
    if let Some(hit) = state.caches.providers.get(&(user, id), now) {
        return Ok(hit);
    }
    let provider = state
        .store
        .provider(user, id)
        .await?
        .ok_or(ApiError::NotFound { what: "provider" })?;
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

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<ProviderInfo>>, ApiError> {
    let providers = state.store.providers(user.id).await?;
    Ok(Json(providers.iter().map(info).collect()))
}

/// The most retries a provider may ask for: more would only hold a user's call for minutes.
const MAX_RETRIES: u32 = 5;

/// Checks the input and returns the base URL to store (the kind's default when none is
/// given). Every wrong field is listed in `details.fields`; the error's code and message are
/// the first one's.
fn check(input: &ProviderInput) -> Result<String, ApiError> {
    let mut wrong: Vec<(&'static str, FieldError)> = Vec::new();
    let mut field = |code, path: &str, reason: String| {
        wrong.push((
            code,
            FieldError {
                path: path.into(),
                reason,
            },
        ));
    };
    if input.name.trim().is_empty() || input.name.chars().count() > 64 {
        field(
            "VAL_PROVIDER_NAME",
            "name",
            "the provider name needs 1 to 64 characters".into(),
        );
    }
    let base_url = match (input.base_url.trim(), input.kind.default_base_url()) {
        ("", Some(default)) => default.to_string(),
        ("", None) => {
            field(
                "VAL_BASE_URL",
                "base_url",
                "an OpenAI-compatible provider needs its base URL, e.g. https://llm.example.com/v1"
                    .into(),
            );
            String::new()
        }
        (given, _) => given.trim_end_matches('/').to_string(),
    };
    if !base_url.is_empty() {
        match reqwest::Url::parse(&base_url) {
            Err(e) => field(
                "VAL_BASE_URL",
                "base_url",
                format!("the base URL is not a URL ({e}): use e.g. https://api.openai.com/v1"),
            ),
            Ok(url) if !matches!(url.scheme(), "http" | "https") || url.host().is_none() => {
                field(
                    "VAL_BASE_URL",
                    "base_url",
                    "the base URL must be http:// or https:// with a host".into(),
                );
            }
            Ok(url) if !url.username().is_empty() || url.password().is_some() => field(
                "VAL_BASE_URL",
                "base_url",
                "the base URL must not carry a user name or password: put the key in the API key field"
                    .into(),
            ),
            Ok(_) => {}
        }
    }
    if input.model.trim().is_empty() || input.model.len() > 200 {
        field(
            "VAL_MODEL",
            "model",
            "name the model to use, e.g. gpt-4o-mini".into(),
        );
    }
    if input.api_key.len() > 4096 || input.api_key.chars().any(char::is_control) {
        field(
            "VAL_API_KEY",
            "api_key",
            "the API key is malformed: paste it again".into(),
        );
    } else if input.api_key.trim().is_empty() && input.kind != ProviderKind::Compatible {
        field(
            "VAL_API_KEY",
            "api_key",
            format!("{} needs an API key: paste it", input.kind.label()),
        );
    }
    if input.retries.is_some_and(|n| n > MAX_RETRIES) {
        field(
            "VAL_RETRIES",
            "retries",
            format!("retries must be between 0 and {MAX_RETRIES}"),
        );
    }
    match wrong.first() {
        None => Ok(base_url),
        Some((code, _)) => {
            let code = *code;
            Err(ApiError::fields(
                code,
                wrong.into_iter().map(|(_, field)| field).collect(),
            ))
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: CurrentUser,
    ApiJson(input): ApiJson<ProviderInput>,
) -> Result<(StatusCode, Json<ProviderInfo>), ApiError> {
    let base_url = check(&input)?;
    // The upstream URL policy, checked now so that the user hears at once; the gateway checks
    // again at every connection (see `crate::egress`).
    let url = reqwest::Url::parse(&base_url).map_err(ApiError::internal)?;
    state
        .egress
        .check(&url)
        .await
        .map_err(|refused| ApiError::from(LlmError::Forbidden(refused)))?;
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
    let provider = StoredProvider {
        id,
        name: input.name.trim().to_string(),
        kind: input.kind,
        base_url,
        model: input.model.trim().to_string(),
        key: sealed,
        key_hint: hint,
        created_at: now_ms(),
        retries: input.retries,
    };
    if !state.store.insert_provider(user.id, &provider).await? {
        return Err(ApiError::Conflict {
            code: "VAL_PROVIDER_EXISTS",
            message:
                "you already have a provider with this name: pick another or delete the old one"
                    .into(),
        });
    }
    tracing::info!(user = %user.id, provider = %id, "provider added");
    // The kind and the host only: never the key nor its hint, nor the rest of the URL (a
    // query string or user-info part could carry a credential).
    let host = reqwest::Url::parse(&provider.base_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_string));
    Audit::by(Event::ProviderCreated, &user)
        .target(id, &provider.name)
        .ip(ip)
        .details(serde_json::json!({ "kind": provider.kind.as_str(), "host": host }))
        .record(&state.store)
        .await;
    Ok((StatusCode::CREATED, Json(info(&provider))))
}

pub async fn remove(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let name = state.store.provider(user.id, id).await?.map(|p| p.name);
    if !state.store.delete_provider(user.id, id).await? {
        return Err(ApiError::NotFound { what: "provider" });
    }
    state.caches.forget_provider(user.id, id);
    Audit::by(Event::ProviderDeleted, &user)
        .target(id, name.as_deref().unwrap_or("provider"))
        .ip(ip)
        .record(&state.store)
        .await;
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
    Ok(Json(
        crate::llm::list_models(&state, &provider, &key).await?,
    ))
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
        Err(LlmError::Upstream { code, message, .. }) => ProviderTest {
            ok: false,
            latency_ms,
            code: Some(code.to_string()),
            message,
            models: 0,
            model_listed: None,
        },
        Err(other) => return Err(other.into()),
    };
    tracing::info!(user = %user.id, provider = %id, ok = result.ok, latency_ms, "provider tested");
    Ok(Json(result))
}
