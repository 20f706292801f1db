//! Accounts and sessions: Argon2id password hashes, opaque session tokens in an HttpOnly,
//! SameSite=Strict cookie, and the CSRF guard for cookie-authenticated mutations.
//!
//! A *session token* is 32 random bytes (base64url) handed to the browser once; the database
//! keeps only its SHA-256. [`CurrentUser`] is the extractor that every route touching user
//! data takes, so ownership checks start from an authenticated user id.

use crate::{db::now_ms, error::ApiError, AppState};
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
use sqlx::SqlitePool;
use uuid::Uuid;

pub const SESSION_COOKIE: &str = "dm_session";
pub const CSRF_HEADER: &str = "x-dm-csrf";

/// The authenticated user of a request.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: Uuid,
    pub username: String,
    pub is_admin: bool,
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

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Creates a session for `user` and returns the `Set-Cookie` value that carries it.
pub async fn start_session(state: &AppState, user: Uuid) -> Result<String, ApiError> {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let now = now_ms();
    let max_age_secs = i64::from(state.config.session_days) * 24 * 3600;
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
    )
    .bind(token_hash(&token))
    .bind(user.to_string())
    .bind(now)
    .bind(now + max_age_secs * 1000)
    .execute(&state.pool)
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

/// Deletes the session behind `token`.
pub async fn end_session(pool: &SqlitePool, token: &str) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
        .bind(token_hash(token))
        .execute(pool)
        .await?;
    Ok(())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = session_token(&parts.headers).ok_or(ApiError::Unauthenticated)?;
        let row: Option<(String, String, bool)> = sqlx::query_as(
            "SELECT u.id, u.username, u.is_admin FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND s.expires_at > ?",
        )
        .bind(token_hash(&token))
        .bind(now_ms())
        .fetch_optional(&state.pool)
        .await?;
        let (id, username, is_admin) = row.ok_or(ApiError::Unauthenticated)?;
        let id = Uuid::parse_str(&id).map_err(ApiError::internal)?;
        Ok(CurrentUser {
            id,
            username,
            is_admin,
        })
    }
}

/// Refuses state-changing requests that lack the CSRF header. A cross-site page can make the
/// browser send a form POST with the user's cookie, but cannot add a custom header without a
/// CORS preflight, which this server never grants.
pub async fn require_csrf_header(request: Request, next: Next) -> Result<Response, ApiError> {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && !request.headers().contains_key(CSRF_HEADER) {
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
    fn cookie_attributes() {
        let c = cookie("t", 60, true);
        assert_eq!(
            c,
            "dm_session=t; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure"
        );
    }
}
