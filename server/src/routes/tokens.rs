//! API tokens: a signed-in user creates named tokens for programs (the OpenAI SDK, scripts),
//! lists them (never the secret again) and revokes them.
//!
//! The secret is shown once, in the answer to its creation; the database keeps its SHA-256
//! and its first characters (the *prefix*) to tell tokens apart. Managing tokens needs a
//! password session: a token cannot create or revoke tokens.

use super::auth::ClientIp;
use super::{ApiJson, ApiPath};
use crate::audit::{Audit, Event};
use crate::auth::{self, CurrentUser};
use crate::store::{NewToken, TokenRow};
use crate::{clock::now_ms, error::ApiError, AppState};
use axum::{extract::State, http::StatusCode, Json};
use model::wire::{TokenCreated, TokenInfo, TokenInput};
use uuid::Uuid;

/// Characters of a token kept to recognise it: `dm_` and six of the secret.
const PREFIX_CHARS: usize = 9;
/// Most tokens a user may hold.
const MAX_TOKENS: i64 = 50;

fn info(row: TokenRow) -> TokenInfo {
    TokenInfo {
        id: row.id,
        name: row.name,
        prefix: row.prefix,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        expires_at: row.expires_at,
    }
}

/// `GET /api/v1/tokens`.
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    user.require_session()?;
    let rows = state.store.tokens(user.id, now_ms()).await?;
    Ok(Json(rows.into_iter().map(info).collect()))
}

/// `POST /api/v1/tokens`: `{name, expires_in_days?}` → `{token, info}`.
pub async fn create(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: CurrentUser,
    ApiJson(input): ApiJson<TokenInput>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    user.require_session()?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "VAL_TOKEN_NAME",
            "the token name needs 1 to 64 printable characters",
        ));
    }
    if input
        .expires_in_days
        .is_some_and(|d| !(1..=3650).contains(&d))
    {
        return Err(ApiError::invalid(
            "VAL_TOKEN_EXPIRY",
            "a token lives 1 to 3650 days: leave the lifetime empty for a token that does not expire",
        ));
    }
    if state.store.token_count(user.id).await? >= MAX_TOKENS {
        return Err(ApiError::Conflict {
            code: "VAL_TOKEN_LIMIT",
            message: format!("you have {MAX_TOKENS} tokens: revoke one you no longer use"),
        });
    }
    let token = auth::new_api_token();
    let id = Uuid::now_v7();
    let now = now_ms();
    let expires_at = input
        .expires_in_days
        .map(|days| now + i64::from(days) * 24 * 3600 * 1000);
    let prefix: String = token.chars().take(PREFIX_CHARS).collect();
    let inserted = state
        .store
        .insert_token(NewToken {
            id,
            user: user.id,
            name,
            token_hash: &auth::token_hash(&token),
            prefix: &prefix,
            created_at: now,
            expires_at,
        })
        .await?;
    if !inserted {
        return Err(ApiError::Conflict {
            code: "VAL_TOKEN_EXISTS",
            message: "you already have a token with this name: pick another or revoke the old one"
                .into(),
        });
    }
    tracing::info!(user = %user.id, token = %id, "api token created");
    Audit::by(Event::TokenCreated, &user)
        .target(id, name)
        .ip(ip)
        .details(serde_json::json!({ "expires_at": expires_at }))
        .record(&state.store)
        .await;
    let info = TokenInfo {
        id,
        name: name.to_string(),
        prefix,
        created_at: now,
        last_used_at: None,
        expires_at,
    };
    Ok((StatusCode::CREATED, Json(TokenCreated { token, info })))
}

/// `DELETE /api/v1/tokens/{id}`: the token stops working at once.
pub async fn revoke(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    user.require_session()?;
    if !state.store.delete_token(user.id, id).await? {
        return Err(ApiError::NotFound { what: "token" });
    }
    state.caches.forget_credential(auth::AuthVia::Token(id));
    tracing::info!(user = %user.id, token = %id, "api token revoked");
    Audit::by(Event::TokenRevoked, &user)
        .target(id, "token")
        .ip(ip)
        .record(&state.store)
        .await;
    Ok(StatusCode::NO_CONTENT)
}
