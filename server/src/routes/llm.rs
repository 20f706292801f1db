//! `POST /api/v1/llm/{provider}/chat/completions`: the rate-limited, authenticated gateway.

use super::{providers, ApiJson, ApiPath};
use crate::auth::CurrentUser;
use crate::llm::{self, Call};
use crate::{error::ApiError, AppState};
use axum::{extract::State, response::Response};
use serde_json::Value;
use uuid::Uuid;

pub async fn chat_completions(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(provider_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    llm::request::check(&body).map_err(|wrong| ApiError::from(llm::LlmError::Fields(wrong)))?;
    let provider = providers::load(&state, user.id, provider_id).await?;
    let estimate = llm::estimate_tokens(&body, state.config.llm_default_completion_tokens);
    let grant = state
        .limiter
        .check_llm(user.id, estimate)
        .map_err(|limited| {
            tracing::info!(user = %user.id, kind = ?limited.kind, "llm call rate-limited");
            state.metrics.rate_limited(limited.kind);
            ApiError::RateLimited(limited)
        })?;
    let key = providers::open_key(&state, user.id, &provider).inspect_err(|_| {
        state.limiter.settle(user.id, grant.charged, 0);
    })?;
    let call = Call {
        user: user.id,
        provider,
        key,
        body,
    };
    let mut response = llm::forward(&state, call, grant).await?;
    grant.write_headers(response.headers_mut());
    Ok(response)
}

/// `GET /api/v1/llm/{provider}/models`: the provider's models in OpenAI's list shape, so that
/// OpenAI clients pointed at `/api/v1/llm/{provider}` can list them.
pub async fn models(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(provider_id): ApiPath<Uuid>,
) -> Result<axum::Json<Value>, ApiError> {
    let provider = providers::load(&state, user.id, provider_id).await?;
    let key = providers::open_key(&state, user.id, &provider)?;
    let models = llm::list_models(&state, &provider, &key).await?;
    let data: Vec<Value> = models
        .into_iter()
        .map(|m| serde_json::json!({ "id": m.id, "object": "model", "owned_by": provider.kind.as_str() }))
        .collect();
    Ok(axum::Json(
        serde_json::json!({ "object": "list", "data": data }),
    ))
}
