//! `POST /api/v1/llm/{provider}/chat/completions`: the rate-limited, authenticated gateway.

use super::{providers, ApiJson, ApiPath};
use crate::auth::CurrentUser;
use crate::llm::{self, limiter::Decision};
use crate::{error::ApiError, AppState};
use axum::{extract::State, http::HeaderValue, response::Response};
use serde_json::Value;
use uuid::Uuid;

pub async fn chat_completions(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(provider_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let (limit, remaining) = match state.limiter.check(user.id) {
        Decision::Allowed { limit, remaining } => (limit, remaining),
        Decision::Limited { limit, retry_after } => {
            tracing::info!(user = %user.id, "llm call rate-limited");
            return Err(ApiError::RateLimited { limit, retry_after });
        }
    };
    let provider = providers::load(&state, user.id, provider_id).await?;
    let key = state
        .vault
        .open(user.id, provider.id, &provider.key)
        .map_err(|e| ApiError::invalid("AI_KEY_UNREADABLE", e.to_string()))?;
    let mut response = llm::forward(
        &state.http,
        user.id,
        &provider,
        &key,
        body,
        state.config.first_byte_timeout(),
    )
    .await?;
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit-requests", HeaderValue::from(limit));
    headers.insert(
        "x-ratelimit-remaining-requests",
        HeaderValue::from(remaining),
    );
    Ok(response)
}
