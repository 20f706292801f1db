//! Register, log in, log out, who am I, and the user's sessions.
//!
//! Registration follows `DM_REGISTRATION` ([`Registration`]): open, by invite code, or
//! closed; in every mode the first account of an install may register (it becomes the
//! administrator), so a fresh install is never locked out, and `server create-user` works
//! whatever the mode. Every refusal is a 403 with a code of its own and an audit event, and
//! comes after the per-IP attempt limit but before the password is hashed.
//!
//! A deactivated account's login is refused with `AUTH_ACCOUNT_DEACTIVATED` only once the
//! password has verified: a guesser without the password sees `AUTH_INVALID_CREDENTIALS` as
//! for any wrong password, so the code tells nothing to someone who does not already know the
//! password.

use super::{ApiJson, ApiPath};
use crate::audit::{Audit, Event};
use crate::auth::{self, CurrentUser};
use crate::config::Registration;
use crate::store::{Gate, InviteProblem, Registered};
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
#[derive(Clone, Copy)]
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

/// The client's IP address as an extractor (see [`client_ip`]), for the audit log.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = Peer::from_request_parts(parts, state).await?;
        Ok(ClientIp(client_ip(state, peer, &parts.headers)))
    }
}

/// The client's IP address: the peer of the connection, or the last `X-Forwarded-For` entry
/// when the server is configured to trust its proxy. In-process tests have no peer.
pub fn client_ip(state: &AppState, peer: Peer, headers: &HeaderMap) -> IpAddr {
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

/// Takes one attempt from the client address's register/login allowance (also charged by a
/// password change and an account deletion, which verify a password too).
pub fn check_attempts(state: &AppState, peer: Peer, headers: &HeaderMap) -> Result<(), ApiError> {
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
    check_password(&c.password)
}

/// A new password's rules.
pub fn check_password(password: &str) -> Result<(), ApiError> {
    if !(10..=1024).contains(&password.chars().count()) {
        return Err(ApiError::invalid(
            "VAL_PASSWORD",
            "the password needs 10 to 1024 characters",
        ));
    }
    Ok(())
}

/// A registration refused by the mode or the invite code.
fn refused(code: &'static str) -> ApiError {
    let message = match code {
        "AUTH_REGISTRATION_CLOSED" => {
            "registration is closed on this server: ask its administrator for an account"
        }
        "AUTH_INVITE_REQUIRED" => {
            "this server registers by invitation: enter the invite code an administrator gave you"
        }
        "AUTH_INVITE_USED" => "this invite code was used already: ask the administrator for a new one",
        "AUTH_INVITE_EXPIRED" => "this invite code has expired: ask the administrator for a new one",
        _ => "this invite code is unknown or revoked: check it, or ask the administrator for a new one",
    };
    ApiError::Forbidden {
        code,
        message: message.into(),
    }
}

fn invite_code(problem: InviteProblem) -> &'static str {
    match problem {
        InviteProblem::Unknown => "AUTH_INVITE_INVALID",
        InviteProblem::Used => "AUTH_INVITE_USED",
        InviteProblem::Expired => "AUTH_INVITE_EXPIRED",
    }
}

/// The gate a registration must pass, decided before the password is hashed; the inner
/// `Err` is the refusal's code. Without accounts, any mode lets the first one in.
async fn gate<'a>(
    state: &AppState,
    invite_hash: Option<&'a [u8]>,
) -> Result<Result<Gate<'a>, &'static str>, ApiError> {
    let mode = state.config.registration;
    let first = |code| async move {
        Ok::<_, ApiError>(if state.store.has_users().await? {
            Err(code)
        } else {
            Ok(Gate::FirstAccount)
        })
    };
    match (mode, invite_hash) {
        (Registration::Open, _) => Ok(Ok(Gate::Open)),
        (Registration::Invite, Some(code_hash)) => {
            let now = now_ms();
            Ok(match state.store.invite_problem(code_hash, now).await? {
                None => Ok(Gate::Invite { code_hash, now }),
                Some(problem) => Err(invite_code(problem)),
            })
        }
        (Registration::Invite, None) => first("AUTH_INVITE_REQUIRED").await,
        (Registration::Closed, _) => first("AUTH_REGISTRATION_CLOSED").await,
    }
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
    let ip = client_ip(&state, peer, &headers);
    check_attempts(&state, peer, &headers)?;
    check_credentials(&credentials)?;
    let refusal = |code: &'static str| {
        Audit::new(Event::RegistrationRefused, None, &credentials.username)
            .ip(ip)
            .details(serde_json::json!({ "reason": code }))
    };
    let invite_hash = credentials
        .invite
        .as_deref()
        .map(str::trim)
        .filter(|code| !code.is_empty())
        .map(auth::token_hash);
    let gate = match gate(&state, invite_hash.as_deref()).await? {
        Ok(gate) => gate,
        Err(code) => {
            refusal(code).record(&state.store).await;
            return Err(refused(code));
        }
    };
    let hash = auth::hash(credentials.password.clone()).await?;
    let id = Uuid::now_v7();
    // The first account becomes the administrator (the store decides it in the insert, so two
    // concurrent first registrations cannot both become administrators), and the gate is
    // checked again by the statements that insert (an invite is consumed with the insert).
    let registered = state
        .store
        .register_user(id, &credentials.username, &hash, gate, now_ms())
        .await?;
    let is_admin = match registered {
        Registered::Created { is_admin } => is_admin,
        Registered::UsernameTaken => {
            return Err(ApiError::Conflict {
                code: "VAL_USERNAME_TAKEN",
                message: "that username is taken: pick another".into(),
            })
        }
        Registered::NotFirst | Registered::Invite(_) => {
            let code = match registered {
                Registered::Invite(problem) => invite_code(problem),
                _ if state.config.registration == Registration::Invite => "AUTH_INVITE_REQUIRED",
                _ => "AUTH_REGISTRATION_CLOSED",
            };
            refusal(code).record(&state.store).await;
            return Err(refused(code));
        }
    };
    tracing::info!(user = %id, admin = is_admin, "account created");
    Audit::new(Event::AccountCreated, Some(id), &credentials.username)
        .target(id, &credentials.username)
        .ip(ip)
        .details(serde_json::json!({
            "admin": is_admin,
            "registration": format!("{:?}", state.config.registration).to_lowercase(),
        }))
        .record(&state.store)
        .await;
    let cookie = auth::start_session(&state, id, user_agent(&headers)).await?;
    state.store.record_sign_in(id, now_ms()).await?;
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
    let ip = client_ip(&state, peer, &headers);
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
    let failed = |reason: &str, id: Option<Uuid>| {
        let audit = Audit::new(Event::SignInFailed, None, &credentials.username)
            .ip(ip)
            .details(serde_json::json!({ "reason": reason }));
        match id {
            Some(id) => audit.target(id, &credentials.username),
            None => audit,
        }
    };
    let Some(user) = row.filter(|_| ok) else {
        failed("bad_credentials", None).record(&state.store).await;
        return Err(ApiError::BadCredentials);
    };
    if user.deactivated_at.is_some() {
        failed("deactivated", Some(user.id))
            .record(&state.store)
            .await;
        return Err(ApiError::Forbidden {
            code: "AUTH_ACCOUNT_DEACTIVATED",
            message: "this account is deactivated: ask the administrator to reactivate it".into(),
        });
    }
    let cookie = auth::start_session(&state, user.id, user_agent(&headers)).await?;
    let now = now_ms();
    state.store.record_sign_in(user.id, now).await?;
    Audit::new(Event::SignIn, Some(user.id), &user.username)
        .ip(ip)
        .record(&state.store)
        .await;
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
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = auth::session_token(&headers) {
        let who = state
            .store
            .session_user(&auth::token_hash(&token), now_ms())
            .await?;
        auth::end_session(&state, &token).await?;
        if let Some(who) = who {
            Audit::new(Event::SignOut, Some(who.user_id), &who.username)
                .ip(ip)
                .record(&state.store)
                .await;
        }
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
    ClientIp(ip): ClientIp,
    user: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    user.require_session()?;
    if !state.store.delete_session(user.id, id).await? {
        return Err(ApiError::NotFound { what: "session" });
    }
    state.caches.forget_credential(auth::AuthVia::Session(id));
    tracing::info!(user = %user.id, session = %id, "session revoked");
    Audit::by(Event::SessionRevoked, &user)
        .target(id, "session")
        .ip(ip)
        .record(&state.store)
        .await;
    Ok(StatusCode::NO_CONTENT)
}
