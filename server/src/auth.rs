//! Accounts and sessions: Argon2id password hashes, opaque session tokens in an HttpOnly,
//! SameSite=Strict cookie, API tokens for programs, and the CSRF guard for cookie-authenticated
//! mutations.
//!
//! A *session token* is 32 random bytes (base64url) handed to the browser once in a cookie; an
//! *API token* is `dm_` and 32 random bytes (base64url) that a program sends as
//! `Authorization: Bearer`. The database keeps only the SHA-256 of either. [`CurrentUser`] is
//! the extractor that every route touching user data takes, so ownership checks start from an
//! authenticated user id; it says how the user was authenticated ([`AuthVia`]).

use crate::store::NewSession;
use crate::{clock::now_ms, error::ApiError, AppState};
use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use axum::{
    extract::{FromRequestParts, Request},
    http::{header, request::Parts, HeaderMap, Method},
    middleware::Next,
    response::Response,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const SESSION_COOKIE: &str = "dm_session";
pub const CSRF_HEADER: &str = "x-dm-csrf";
/// Every API token starts with this, so that a leaked one is recognisable (secret scanners).
pub const TOKEN_PREFIX: &str = "dm_";

/// How a request was authenticated: a browser session or an API token (by their row ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthVia {
    Session(Uuid),
    Token(Uuid),
}

/// The authenticated user of a request.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: Uuid,
    pub username: String,
    pub is_admin: bool,
    pub via: AuthVia,
}

impl CurrentUser {
    /// Refuses requests made with an API token: managing sessions and tokens needs a person
    /// signed in, so a leaked token cannot mint more tokens.
    pub fn require_session(&self) -> Result<Uuid, ApiError> {
        match self.via {
            AuthVia::Session(id) => Ok(id),
            AuthVia::Token(_) => Err(ApiError::Forbidden {
                code: "AUTH_SESSION_REQUIRED",
                message: "sign in with your password to manage sessions and API tokens: an API token cannot".into(),
            }),
        }
    }
}

/// 32 random bytes, base64url.
pub fn random_secret() -> String {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

/// A new API token.
pub fn new_api_token() -> String {
    format!("{TOKEN_PREFIX}{}", random_secret())
}

/// Hashes a password with Argon2id and a random salt (blocking: call off the async runtime).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

/// Checks a password against a stored hash (blocking: call off the async runtime).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Creates a session for `user` and returns the `Set-Cookie` value that carries it.
pub async fn start_session(
    state: &AppState,
    user: Uuid,
    user_agent: Option<&str>,
) -> Result<String, ApiError> {
    let token = random_secret();
    let now = now_ms();
    let max_age_secs = i64::from(state.config.session_days) * 24 * 3600;
    let user_agent = user_agent.map(|ua| ua.chars().take(200).collect::<String>());
    state
        .store
        .insert_session(NewSession {
            id: Uuid::now_v7(),
            token_hash: &token_hash(&token),
            user,
            user_agent: user_agent.as_deref(),
            created_at: now,
            expires_at: now + max_age_secs * 1000,
        })
        .await?;
    Ok(cookie(&token, max_age_secs, state.config.cookie_secure))
}

/// The `Set-Cookie` value for a session token (an empty token with max-age 0 clears it).
pub fn cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The session token in the request's cookies, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The API token in an `Authorization: Bearer` header, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Deletes the session behind `token`.
pub async fn end_session(state: &AppState, token: &str) -> Result<(), ApiError> {
    let hash = token_hash(token);
    state.store.delete_session_by_token(&hash).await?;
    state.caches.auth.remove(&hash);
    Ok(())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // A bearer token wins over a cookie: a program that sends one means it.
        let (hash, bearer) = match bearer_token(&parts.headers) {
            Some(token) => (token_hash(token), true),
            None => (
                token_hash(&session_token(&parts.headers).ok_or(ApiError::Unauthenticated)?),
                false,
            ),
        };
        let now = now_ms();
        let instant = std::time::Instant::now();
        if let Some((user, expires_at)) = state.caches.auth.get(&hash, instant) {
            if expires_at.is_none_or(|at| at > now) {
                return Ok(user);
            }
        }
        // Read before the database, so a revocation during the lookup keeps it uncached.
        let epoch = state.caches.epoch();
        let (user, expires_at) = if bearer {
            token_user(state, &hash, now).await?
        } else {
            session_user(state, &hash, now).await?
        };
        state
            .caches
            .remember_credential(epoch, hash, (user.clone(), expires_at), instant);
        Ok(user)
    }
}

/// The owner of an API token, from the database.
async fn token_user(
    state: &AppState,
    hash: &[u8],
    now: i64,
) -> Result<(CurrentUser, Option<i64>), ApiError> {
    let row = state
        .store
        .token_user(hash, now)
        .await?
        .ok_or(ApiError::BadToken)?;
    // The last use is kept to the minute: no write on every request of a busy client.
    if row.last_used_at.is_none_or(|t| now - t > 60_000) {
        state.store.touch_token(row.token_id, now).await?;
    }
    let user = CurrentUser {
        id: row.user_id,
        username: row.username,
        is_admin: row.is_admin,
        via: AuthVia::Token(row.token_id),
    };
    Ok((user, row.expires_at))
}

/// The owner of a browser session, from the database.
async fn session_user(
    state: &AppState,
    hash: &[u8],
    now: i64,
) -> Result<(CurrentUser, Option<i64>), ApiError> {
    let row = state
        .store
        .session_user(hash, now)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let user = CurrentUser {
        id: row.user_id,
        username: row.username,
        is_admin: row.is_admin,
        via: AuthVia::Session(row.session_id),
    };
    Ok((user, Some(row.expires_at)))
}

/// Refuses state-changing requests that lack the CSRF header. A cross-site page can make the
/// browser send a form POST with the user's cookie, but cannot add a custom header without a
/// CORS preflight, which this server never grants. Requests with a bearer token are not at
/// risk (a browser never adds one by itself), so API clients need no extra header.
pub async fn require_csrf_header(request: Request, next: Next) -> Result<Response, ApiError> {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let bearer = bearer_token(request.headers()).is_some();
    if !safe && !bearer && !request.headers().contains_key(CSRF_HEADER) {
        return Err(ApiError::CsrfHeaderMissing);
    }
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_round_trip() {
        let hash = hash_password("correct horse battery").expect("hashes");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; dm_session=tok-en; b=2".parse().expect("header"),
        );
        assert_eq!(session_token(&headers).as_deref(), Some("tok-en"));
        headers.insert(header::COOKIE, "dm_sessionx=1".parse().expect("header"));
        assert_eq!(session_token(&headers), None);
    }

    #[test]
    fn reads_bearer_tokens() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            "Bearer dm_abc ".parse().expect("header"),
        );
        assert_eq!(bearer_token(&headers), Some("dm_abc"));
        headers.insert(
            header::AUTHORIZATION,
            "bearer dm_x".parse().expect("header"),
        );
        assert_eq!(bearer_token(&headers), Some("dm_x"));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().expect("header"));
        assert_eq!(bearer_token(&headers), None);
        let token = new_api_token();
        assert!(token.starts_with("dm_") && token.len() == 3 + 43, "{token}");
    }

    #[test]
    fn cookie_attributes() {
        let c = cookie("t", 60, true);
        assert_eq!(
            c,
            "dm_session=t; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure"
        );
    }
}
