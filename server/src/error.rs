//! The API's one error type and its JSON envelope.
//!
//! Every failure of an `/api` route becomes an [`ApiError`]; [`IntoResponse`] maps each variant
//! to a status and a semantic code in a single `match`, in the envelope
//! `{"error": {"code", "message", "details"}}`. 4xx messages say what was wrong and how to fix
//! it; 5xx messages say nothing internal, and the cause goes to the log.

use app::wire::{ErrorBody, ErrorEnvelope};
use axum::{
    extract::rejection::{JsonRejection, PathRejection},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::Value;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("sign in first")]
    Unauthenticated,
    #[error("wrong username or password")]
    BadCredentials,
    #[error(
        "this request needs the x-dm-csrf header: send it from the app, not a cross-site form"
    )]
    CsrfHeaderMissing,
    #[error("{message}")]
    Invalid {
        code: &'static str,
        message: String,
        details: Value,
    },
    #[error("{what} not found: check the id")]
    NotFound { what: &'static str },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("the request body is too large: send less (the server's limit is DM_BODY_LIMIT)")]
    BodyTooLarge,
    #[error("too many requests: wait {} seconds", retry_after.as_secs().max(1))]
    RateLimited { limit: u32, retry_after: Duration },
    /// The LLM provider failed; `status` is what we answer with.
    #[error("{message}")]
    Upstream {
        code: &'static str,
        status: StatusCode,
        message: String,
        retry_after: Option<u64>,
    },
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut details = Value::Null;
        let mut retry_after = None;
        let (status, code) = match &self {
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "AUTH_REQUIRED"),
            ApiError::BadCredentials => (StatusCode::UNAUTHORIZED, "AUTH_INVALID_CREDENTIALS"),
            ApiError::CsrfHeaderMissing => (StatusCode::FORBIDDEN, "AUTH_CSRF"),
            ApiError::Invalid {
                code, details: d, ..
            } => {
                details = d.clone();
                (StatusCode::BAD_REQUEST, *code)
            }
            ApiError::NotFound { .. } => (StatusCode::NOT_FOUND, "RES_NOT_FOUND"),
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, *code),
            ApiError::BodyTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "VAL_BODY_TOO_LARGE"),
            ApiError::RateLimited {
                limit,
                retry_after: wait,
            } => {
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                retry_after = Some(secs.max(1));
                details = serde_json::json!({ "limit_per_minute": limit });
                (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED")
            }
            ApiError::Upstream {
                code,
                status,
                retry_after: wait,
                ..
            } => {
                retry_after = *wait;
                (*status, *code)
            }
            ApiError::Database(e) => {
                tracing::error!(error = %e, "database error");
                (StatusCode::INTERNAL_SERVER_ERROR, "DB_ERROR")
            }
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "SYS_INTERNAL")
            }
        };
        let message = if status.is_server_error() && !matches!(self, ApiError::Upstream { .. }) {
            "something went wrong on the server: try again, and tell the administrator if it persists"
                .to_string()
        } else {
            self.to_string()
        };
        let body = ErrorEnvelope {
            error: ErrorBody {
                code: code.to_string(),
                message,
                details,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::BodyTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::invalid(
                "VAL_CONTENT_TYPE",
                "send the body as JSON with content-type: application/json",
            ),
            StatusCode::UNPROCESSABLE_ENTITY => ApiError::invalid(
                "VAL_FIELDS",
                format!(
                    "the JSON has wrong or missing fields: {}",
                    rejection.body_text()
                ),
            ),
            _ => ApiError::invalid(
                "VAL_JSON",
                format!("the body is not valid JSON: {}", rejection.body_text()),
            ),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::invalid(
            "VAL_PATH",
            format!("the URL is malformed: {}", rejection.body_text()),
        )
    }
}
