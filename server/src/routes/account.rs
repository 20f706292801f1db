//! The signed-in user's own account: `POST /auth/password` changes the password,
//! `DELETE /auth/account` deletes the account and everything of it.
//!
//! Both need a password session (an API token cannot) and the current password, checked with
//! the same Argon2id helpers and per-IP attempt limit as login. A password change ends every
//! other session of the user at once and keeps the one that asked; API tokens are left as
//! they are (they are listed and revoked on their own in Settings). Deleting the account
//! deletes every row of it through the schema's `ON DELETE CASCADE` (sessions, tokens,
//! providers, domains and their versions, drafts, invites it made) and clears the cookie; the
//! audit log keeps the record of the deletion. The last administrator of an install that has
//! other accounts cannot delete their account.

use super::auth::{check_attempts, check_password, ClientIp, Peer};
use super::ApiJson;
use crate::audit::{Audit, Event};
use crate::auth::{self, CurrentUser};
use crate::store::UserChange;
use crate::{error::ApiError, AppState};
use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use model::wire::{PasswordChange, PasswordConfirmation};
use uuid::Uuid;

fn session_required() -> ApiError {
    ApiError::Forbidden {
        code: "AUTH_SESSION_REQUIRED",
        message: "sign in with your password to change or delete your account: an API token cannot"
            .into(),
    }
}

/// Checks `password` against the user's stored hash on the hashing pool; a wrong one is
/// refused (and recorded as a failed sign-in).
async fn confirm(
    state: &AppState,
    user: &CurrentUser,
    ip: std::net::IpAddr,
    password: String,
) -> Result<(), ApiError> {
    let row = state
        .store
        .user_by_id(user.id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let hash = row.password_hash;
    let ok = auth::verify(password, hash).await?;
    if !ok {
        Audit::by(Event::SignInFailed, user)
            .target(user.id, &user.username)
            .ip(ip)
            .details(serde_json::json!({ "reason": "wrong_password_confirmation" }))
            .record(&state.store)
            .await;
        return Err(ApiError::Forbidden {
            code: "AUTH_WRONG_PASSWORD",
            message: "the current password is wrong: type it again".into(),
        });
    }
    Ok(())
}

/// `POST /api/v1/auth/password`: `{current_password, new_password}` → 204.
pub async fn change_password(
    State(state): State<AppState>,
    peer: Peer,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    user: CurrentUser,
    ApiJson(change): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let session = session_of(&user)?;
    check_attempts(&state, peer, &headers)?;
    check_password(&change.new_password)?;
    confirm(&state, &user, ip, change.current_password).await?;
    let hash = auth::hash(change.new_password).await?;
    if !state.store.change_password(user.id, &hash, session).await? {
        return Err(ApiError::Unauthenticated);
    }
    // The other sessions are gone from the database; drop them from the cache too.
    state.caches.forget_user(user.id);
    tracing::info!(user = %user.id, "password changed");
    Audit::by(Event::PasswordChanged, &user)
        .target(user.id, &user.username)
        .ip(ip)
        .record(&state.store)
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/auth/account`: `{password}` → 204, the cookie cleared.
pub async fn delete_account(
    State(state): State<AppState>,
    peer: Peer,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    user: CurrentUser,
    ApiJson(confirmation): ApiJson<PasswordConfirmation>,
) -> Result<Response, ApiError> {
    session_of(&user)?;
    check_attempts(&state, peer, &headers)?;
    confirm(&state, &user, ip, confirmation.password).await?;
    match state.store.delete_user(user.id).await? {
        UserChange::Done => {}
        UserChange::LastAdmin => return Err(last_admin()),
        UserChange::NotFound => return Err(ApiError::Unauthenticated),
    }
    state.caches.forget_user(user.id);
    tracing::info!(user = %user.id, "account deleted by its owner");
    Audit::by(Event::AccountDeleted, &user)
        .target(user.id, &user.username)
        .ip(ip)
        .record(&state.store)
        .await;
    let clear = auth::cookie("", 0, state.config.cookie_secure);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

fn session_of(user: &CurrentUser) -> Result<Uuid, ApiError> {
    match user.via {
        auth::AuthVia::Session(id) => Ok(id),
        auth::AuthVia::Token(_) => Err(session_required()),
    }
}

/// The refusal to remove the last active administrator.
pub fn last_admin() -> ApiError {
    ApiError::Conflict {
        code: "AUTH_LAST_ADMIN",
        message: "this is the last active administrator: make another administrator first \
                  (`server create-user --admin`)"
            .into(),
    }
}
