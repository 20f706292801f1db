//! The versioned JSON API under `/api/v1`, and the extractors its handlers share.
//!
//! Handlers take [`ApiJson`] and [`ApiPath`] instead of axum's `Json` and `Path` so that a
//! malformed body or URL becomes an [`ApiError`] envelope with a `VAL_*` code, never axum's
//! plain-text rejection. Unknown routes and methods under `/api` answer with the envelope too.

pub mod account;
pub mod admin;
pub mod auth;
pub mod health;
pub mod llm;
pub mod openapi;
pub mod providers;
pub mod shares;
pub mod sync;
pub mod tokens;

use crate::{auth::require_csrf_header, error::ApiError, AppState};
use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Request},
    http::{header, request::Parts, HeaderMap, StatusCode},
    middleware,
    routing::{delete, get, post},
    Router,
};
use model::wire::FieldError;
use serde::de::DeserializeOwned;

/// A JSON body whose rejection is an [`ApiError`]: `VAL_CONTENT_TYPE` without a JSON
/// content type, `VAL_BODY_TOO_LARGE` past the body limit, `VAL_JSON` for text that is not
/// JSON, and `VAL_FIELDS` for JSON of the wrong shape, with the field's path and what is
/// wrong with it in `details.fields`.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::invalid(
                "VAL_CONTENT_TYPE",
                "send the body as JSON with content-type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::BodyTooLarge
            } else {
                ApiError::invalid(
                    "VAL_JSON",
                    format!("the body could not be read: {}", rejection.body_text()),
                )
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Whether the request says its body is JSON (`application/json`, or a `+json` type).
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Reads `T` from JSON text; see [`ApiJson`] for the errors.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = match serde_path_to_error::deserialize(&mut deserializer) {
        Ok(value) => value,
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.classify() != serde_json::error::Category::Data {
                return Err(ApiError::invalid(
                    "VAL_JSON",
                    format!("the body is not valid JSON: {inner}"),
                ));
            }
            return Err(ApiError::fields(
                "VAL_FIELDS",
                vec![field_error(&path, &inner)],
            ));
        }
    };
    deserializer
        .end()
        .map_err(|e| ApiError::invalid("VAL_JSON", format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// A serde error at `path` as a [`FieldError`]: without serde's line and column, and a
/// missing field named in the path rather than in the reason.
fn field_error(path: &str, error: &serde_json::Error) -> FieldError {
    let text = error.to_string();
    let reason = match text.rfind(" at line ") {
        Some(at) => &text[..at],
        None => text.as_str(),
    };
    let parent = if path == "." { "" } else { path };
    if let Some(name) = reason
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        let path = if parent.is_empty() {
            name.to_string()
        } else {
            format!("{parent}.{name}")
        };
        return FieldError {
            path,
            reason: "is required".into(),
        };
    }
    FieldError {
        path: parent.to_string(),
        reason: reason.to_string(),
    }
}

/// Path parameters whose rejection is an [`ApiError`].
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(ApiError::from)
    }
}

/// The `/api/v1` router.
pub fn api() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/auth/sessions", get(auth::sessions))
        .route("/auth/sessions/{id}", delete(auth::revoke_session))
        .route("/auth/password", post(account::change_password))
        .route("/auth/account", delete(account::delete_account))
        .route("/admin/users", get(admin::users))
        .route("/admin/users/{id}", delete(admin::delete_user))
        .route("/admin/users/{id}/deactivate", post(admin::deactivate))
        .route("/admin/users/{id}/reactivate", post(admin::reactivate))
        .route(
            "/admin/invites",
            get(admin::invites).post(admin::create_invite),
        )
        .route("/admin/invites/{id}", delete(admin::revoke_invite))
        .route("/admin/audit", get(admin::audit))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", delete(tokens::revoke))
        .route("/shares", get(shares::list).post(shares::create))
        .route("/shares/{id}", delete(shares::revoke))
        .route("/providers", get(providers::list).post(providers::create))
        .route("/providers/{id}", delete(providers::remove))
        .route("/providers/{id}/test", post(providers::test))
        .route("/providers/{id}/models", get(providers::models))
        .route(
            "/llm/{provider}/chat/completions",
            post(llm::chat_completions),
        )
        .route("/llm/{provider}/models", get(llm::models))
        .route("/openapi.json", get(openapi::document))
        // Its own body limit, whatever DM_BODY_LIMIT says: the browser's push batches (whole
        // mutations up to 256 KiB, parts escaped) stay under it, so a model of any size syncs.
        .route(
            "/sync/push",
            post(sync::push).layer(axum::extract::DefaultBodyLimit::max(sync::PUSH_BODY_LIMIT)),
        )
        .route("/sync/pull", get(sync::pull))
        .fallback(|| async { ApiError::NotFound { what: "API route" } })
        // axum adds the `Allow` header with the route's methods to this answer.
        .method_not_allowed_fallback(|method: axum::http::Method| async move {
            ApiError::MethodNotAllowed {
                method: method.to_string(),
            }
        })
        .layer(middleware::from_fn(require_csrf_header))
}
