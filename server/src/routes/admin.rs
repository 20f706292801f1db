//! The administrator's API under `/api/v1/admin`: accounts (list, deactivate, reactivate,
//! delete), invite codes (make, list, revoke) and the audit log (read, newest first).
//!
//! Every route needs an administrator. Reads (`GET`) accept a password session or an API
//! token, so a monitoring script can read the audit log; every change needs a password
//! session, so a leaked token cannot lock accounts out or mint invites. An administrator
//! cannot deactivate or delete their own account here (that is `DELETE /auth/account`), and
//! the store refuses to deactivate or delete the last active administrator.
//!
//! Deactivation deletes the account's sessions and keeps its API tokens, which the store's
//! credential lookups refuse while the account is deactivated; the credential cache drops the
//! account's entries at once, so neither works from the very next request. Reactivation
//! lets the tokens work again; the user signs in anew.

use super::account::last_admin;
use super::auth::ClientIp;
use super::{ApiJson, ApiPath};
use crate::audit::{Audit, Event};
use crate::auth::{self, AuthVia, CurrentUser};
use crate::store::{AdminUserRow, UserChange};
use crate::{clock::now_ms, error::ApiError, AppState};
use axum::{
    extract::{Query, State},
    http::StatusCode,
    Json,
};
use model::wire::{AdminUser, AuditEvent, AuditPage, InviteCreated, InviteInfo, InviteInput};
use serde::Deserialize;
use uuid::Uuid;

/// Every invite code starts with this, to tell it from other secrets.
pub const INVITE_PREFIX: &str = "inv_";
/// Most audit events in one page.
pub const MAX_AUDIT_PAGE: u32 = 500;

/// Refuses anyone but an administrator.
fn require_admin(user: &CurrentUser) -> Result<(), ApiError> {
    if user.is_admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            code: "AUTH_ADMIN_REQUIRED",
            message: "only an administrator may do this: ask one".into(),
        })
    }
}

/// Refuses anyone but an administrator signed in with the password.
fn require_admin_session(user: &CurrentUser) -> Result<(), ApiError> {
    require_admin(user)?;
    match user.via {
        AuthVia::Session(_) => Ok(()),
        AuthVia::Token(_) => Err(ApiError::Forbidden {
            code: "AUTH_SESSION_REQUIRED",
            message: "sign in with your password to administer accounts: an API token may only \
                      read"
                .into(),
        }),
    }
}

/// Refuses an administrator's action on their own account.
fn not_self(user: &CurrentUser, id: Uuid, what: &str) -> Result<(), ApiError> {
    if user.id == id {
        return Err(ApiError::Forbidden {
            code: "AUTH_ADMIN_SELF",
            message: format!(
                "you cannot {what} your own account here: delete it from Settings, or ask \
                 another administrator"
            ),
        });
    }
    Ok(())
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn admin_user(row: AdminUserRow) -> AdminUser {
    AdminUser {
        id: row.id,
        username: row.username,
        is_admin: row.is_admin,
        created_at: row.created_at,
        deactivated_at: row.deactivated_at,
        last_sign_in_at: row.last_sign_in_at,
        domains: count(row.domains),
        drafts: count(row.drafts),
        providers: count(row.providers),
        tokens: count(row.tokens),
        sessions: count(row.sessions),
    }
}

/// `GET /api/v1/admin/users`: every account, oldest first.
pub async fn users(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<AdminUser>>, ApiError> {
    require_admin(&user)?;
    let rows = state.store.admin_users().await?;
    Ok(Json(rows.into_iter().map(admin_user).collect()))
}

/// The account `id`'s name, for the audit log; a missing account is "not found".
async fn username(state: &AppState, id: Uuid) -> Result<String, ApiError> {
    Ok(state
        .store
        .user_by_id(id)
        .await?
        .ok_or(ApiError::NotFound { what: "account" })?
        .username)
}

fn changed(change: UserChange) -> Result<(), ApiError> {
    match change {
        UserChange::Done => Ok(()),
        UserChange::NotFound => Err(ApiError::NotFound { what: "account" }),
        UserChange::LastAdmin => Err(last_admin()),
    }
}

/// The checks every change to another account starts with (an administrator signed in with the
/// password, not on their own account, an account that exists); returns the account's name.
async fn account_to_change(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    verb: &str,
) -> Result<String, ApiError> {
    require_admin_session(user)?;
    not_self(user, id, verb)?;
    username(state, id).await
}

/// Records an administrator's change to the account `id`.
async fn record(
    state: &AppState,
    user: &CurrentUser,
    event: Event,
    id: Uuid,
    name: &str,
    ip: std::net::IpAddr,
) {
    Audit::by(event, user)
        .target(id, name)
        .ip(ip)
        .record(&state.store)
        .await;
}

/// `POST /api/v1/admin/users/{id}/deactivate`: the account's sessions and tokens stop at once.
pub async fn deactivate(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let name = account_to_change(&state, &user, id, "deactivate").await?;
    let change = state.store.deactivate_user(id, now_ms()).await?;
    // Also after a refusal: dropping cache entries is always safe.
    state.caches.forget_user(id);
    changed(change)?;
    tracing::info!(admin = %user.id, user = %id, "account deactivated");
    record(&state, &user, Event::UserDeactivated, id, &name, ip).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/admin/users/{id}/reactivate`.
pub async fn reactivate(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let name = account_to_change(&state, &user, id, "reactivate").await?;
    changed(state.store.reactivate_user(id).await?)?;
    tracing::info!(admin = %user.id, user = %id, "account reactivated");
    record(&state, &user, Event::UserReactivated, id, &name, ip).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/admin/users/{id}`: the account and every row of it.
pub async fn delete_user(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let name = account_to_change(&state, &user, id, "delete").await?;
    let change = state.store.delete_user(id).await?;
    state.caches.forget_user(id);
    changed(change)?;
    tracing::info!(admin = %user.id, user = %id, "account deleted by an administrator");
    record(&state, &user, Event::UserDeleted, id, &name, ip).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/admin/invites`: every invite code (never the code), newest first.
pub async fn invites(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<InviteInfo>>, ApiError> {
    require_admin(&user)?;
    let rows = state.store.invites().await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| InviteInfo {
                id: row.id,
                created_by: row.created_by,
                created_at: row.created_at,
                expires_at: row.expires_at,
                used_at: row.used_at,
                used_by: row.used_by,
            })
            .collect(),
    ))
}

/// `POST /api/v1/admin/invites`: `{expires_in_days?}` → `{code, info}`; the code is shown
/// this once, and the database keeps only its SHA-256.
pub async fn create_invite(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: CurrentUser,
    ApiJson(input): ApiJson<InviteInput>,
) -> Result<(StatusCode, Json<InviteCreated>), ApiError> {
    require_admin_session(&user)?;
    if input
        .expires_in_days
        .is_some_and(|d| !(1..=365).contains(&d))
    {
        return Err(ApiError::invalid(
            "VAL_INVITE_EXPIRY",
            "an invite lives 1 to 365 days: leave the lifetime empty for one that does not expire",
        ));
    }
    let code = format!("{INVITE_PREFIX}{}", auth::random_secret());
    let id = Uuid::now_v7();
    let now = now_ms();
    let expires_at = input
        .expires_in_days
        .map(|days| now + i64::from(days) * 24 * 3600 * 1000);
    state
        .store
        .insert_invite(id, &auth::token_hash(&code), user.id, now, expires_at)
        .await?;
    tracing::info!(admin = %user.id, invite = %id, "invite created");
    Audit::by(Event::InviteCreated, &user)
        .target(id, "invite")
        .ip(ip)
        .details(serde_json::json!({ "expires_at": expires_at }))
        .record(&state.store)
        .await;
    let info = InviteInfo {
        id,
        created_by: user.username.clone(),
        created_at: now,
        expires_at,
        used_at: None,
        used_by: None,
    };
    Ok((StatusCode::CREATED, Json(InviteCreated { code, info })))
}

/// `DELETE /api/v1/admin/invites/{id}`: the code no longer registers anyone.
pub async fn revoke_invite(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    require_admin_session(&user)?;
    if !state.store.delete_invite(id).await? {
        return Err(ApiError::NotFound { what: "invite" });
    }
    tracing::info!(admin = %user.id, invite = %id, "invite revoked");
    Audit::by(Event::InviteRevoked, &user)
        .target(id, "invite")
        .ip(ip)
        .record(&state.store)
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// The audit log's query: events with ids below `before`, at most `limit` (default 100).
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    pub before: Option<i64>,
    pub limit: Option<u32>,
}

/// `GET /api/v1/admin/audit?before=&limit=`: the audit log, newest first.
pub async fn audit(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    require_admin(&user)?;
    let Query(query) = query.map_err(|e| {
        ApiError::invalid(
            "VAL_QUERY",
            format!(
                "the query is malformed ({}): use ?before=<event id>&limit=<1 to {MAX_AUDIT_PAGE}>",
                e.body_text()
            ),
        )
    })?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
        return Err(ApiError::invalid(
            "VAL_QUERY",
            format!("limit takes 1 to {MAX_AUDIT_PAGE} events: page with ?before=<event id>"),
        ));
    }
    let rows = state.store.audit_events(query.before, limit).await?;
    let next_before = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let events = rows
        .into_iter()
        .map(|row| AuditEvent {
            id: row.id,
            at: row.at,
            actor_id: row.actor_id,
            actor: row.actor,
            event: row.event,
            target_id: row.target_id,
            target: row.target,
            ip: row.ip,
            details: serde_json::from_str(&row.details).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(Json(AuditPage {
        events,
        next_before,
    }))
}
