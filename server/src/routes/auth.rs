//! Register, log in, log out, and who am I.

use super::{ApiJson, ApiPath};
use crate::auth::{self, CurrentUser};
use crate::{clock::now_ms, error::ApiError, AppState};
use axum::{
    extract::{ConnectInfo, FromRequestParts, State},
    http::request::Parts,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use model::wire::{Credentials, SessionInfo, UserInfo};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use uuid::Uuid;

/// The connection's peer address, when the server runs on a socket (in-process tests have
/// none).
pub struct Peer(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| *addr),
        ))
    }
}

/// The client's IP address: the peer of the connection, or the last `X-Forwarded-For` entry
/// when the server is configured to trust its proxy. In-process tests have no peer.
fn client_ip(state: &AppState, peer: Peer, headers: &HeaderMap) -> IpAddr {
    let forwarded = state
        .config
        .trust_forwarded_for
        .then(|| headers.get("x-forwarded-for")?.to_str().ok())
        .flatten()
        .and_then(|list| list.rsplit(',').next())
        .and_then(|last| last.trim().parse::<IpAddr>().ok());
    forwarded
        .or(peer.0.map(|addr| addr.ip()))
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Takes one attempt from the client address's register/login allowance.
fn check_attempts(state: &AppState, peer: Peer, headers: &HeaderMap) -> Result<(), ApiError> {
    let ip = client_ip(state, peer, headers);
    state.limiter.check_auth(ip).map_err(|limited| {
        tracing::info!(%ip, "sign-in attempts rate-limited");
        state.metrics.rate_limited(limited.kind);
        ApiError::RateLimited(limited)
    })
}

/// A real Argon2id hash to verify against when the user does not exist, so that a login for a
/// missing user costs as much as one with a wrong password. Made once, on the hashing pool.
static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::USER_AGENT)?.to_str().ok()
}

pub fn check_credentials(c: &Credentials) -> Result<(), ApiError> {
    let name_ok = (3..=64).contains(&c.username.chars().count())
        && c.username
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "_.-".contains(ch));
    if !name_ok {
        return Err(ApiError::invalid(
            "VAL_USERNAME",
            "the username needs 3 to 64 characters: letters, digits, `_`, `.` or `-`",
        ));
    }
    if !(10..=1024).contains(&c.password.chars().count()) {
        return Err(ApiError::invalid(
            "VAL_PASSWORD",
            "the password needs 10 to 1024 characters",
        ));
    }
    Ok(())
}

fn signed_in(user: UserInfo, cookie: String, status: StatusCode) -> Response {
    (status, [(header::SET_COOKIE, cookie)], Json(user)).into_response()
}

pub async fn register(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    ApiJson(credentials): ApiJson<Credentials>,
) -> Result<Response, ApiError> {
    check_attempts(&state, peer, &headers)?;
    check_credentials(&credentials)?;
    let hash = auth::hash(credentials.password.clone()).await?;
    let id = Uuid::now_v7();
    // The first account becomes the administrator (the store decides it in the insert, so two
    // concurrent first registrations cannot both become administrators).
    let inserted = state
        .store
        .insert_user(id, &credentials.username, &hash, false, now_ms())
        .await?;
    let Some(is_admin) = inserted else {
        return Err(ApiError::Conflict {
            code: "VAL_USERNAME_TAKEN",
            message: "that username is taken: pick another".into(),
        });
    };
    tracing::info!(user = %id, admin = is_admin, "account created");
    let cookie = auth::start_session(&state, id, user_agent(&headers)).await?;
    let user = UserInfo {
        id,
        username: credentials.username,
        is_admin,
    };
    Ok(signed_in(user, cookie, StatusCode::CREATED))
}

pub async fn login(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    ApiJson(credentials): ApiJson<Credentials>,
) -> Result<Response, ApiError> {
    check_attempts(&state, peer, &headers)?;
    let row = state.store.user_by_name(&credentials.username).await?;
    let hash = match &row {
        Some(row) => row.password_hash.clone(),
        None => DUMMY_HASH
            .get_or_try_init(|| auth::hash("no such user here".into()))
            .await?
            .clone(),
    };
    let ok = auth::verify(credentials.password, hash).await?;
    let Some(user) = row.filter(|_| ok) else {
        return Err(ApiError::BadCredentials);
    };
    let cookie = auth::start_session(&state, user.id, user_agent(&headers)).await?;
    Ok(signed_in(
        UserInfo {
            id: user.id,
            username: user.username,
            is_admin: user.is_admin,
        },
        cookie,
        StatusCode::OK,
    ))
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = auth::session_token(&headers) {
        auth::end_session(&state, &token).await?;
    }
    let clear = auth::cookie("", 0, state.config.cookie_secure);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

pub async fn me(user: CurrentUser) -> Json<UserInfo> {
    Json(UserInfo {
        id: user.id,
        username: user.username,
        is_admin: user.is_admin,
    })
}

/// `GET /api/v1/auth/sessions`: the user's signed-in sessions, newest first.
pub async fn sessions(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<SessionInfo>>, ApiError> {
    let current = user.require_session()?;
    let rows = state.store.sessions(user.id, now_ms()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| SessionInfo {
                id: row.id,
                created_at: row.created_at,
                expires_at: row.expires_at,
                user_agent: row.user_agent,
                current: row.id == current,
            })
            .collect(),
    ))
}

/// `DELETE /api/v1/auth/sessions/{id}`: signs one of the user's sessions out (the current
/// one too: then the browser is signed out).
pub async fn revoke_session(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    user.require_session()?;
    if !state.store.delete_session(user.id, id).await? {
        return Err(ApiError::NotFound { what: "session" });
    }
    state.caches.forget_credential(auth::AuthVia::Session(id));
    tracing::info!(user = %user.id, session = %id, "session revoked");
    Ok(StatusCode::NO_CONTENT)
}
