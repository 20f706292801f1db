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
pub mod sync;
pub mod tokens;

use crate::{auth::require_csrf_header, error::ApiError, AppState};
use axum::{
    extract::{FromRequest, FromRequestParts, Path, Request},
    http::request::Parts,
    middleware,
    routing::{delete, get, post},
    Json, Router,
};
use serde::de::DeserializeOwned;

/// A JSON body whose rejection is an [`ApiError`].
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| ApiJson(v))
            .map_err(ApiError::from)
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
        .route("/sync/push", post(sync::push))
        .route("/sync/pull", get(sync::pull))
        .fallback(|| async { ApiError::NotFound { what: "API route" } })
        .method_not_allowed_fallback(|| async {
            ApiError::invalid("VAL_METHOD", "this route does not take that HTTP method")
        })
        .layer(middleware::from_fn(require_csrf_header))
}
