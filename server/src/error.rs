//! The API's one error type and its JSON envelope.
//!
//! Every failure of an `/api` route becomes an [`ApiError`]; [`IntoResponse`] maps each variant
//! to a status and a semantic code in a single `match`, in the envelope
//! `{"error": {"code", "message", "details"}}`. 4xx messages say what was wrong and how to fix
//! it; 5xx messages say nothing internal, and the cause goes to the log.
//!
//! The layers below have their own error types, turned into an [`ApiError`] here and nowhere
//! else: a [`StoreError`] is always a `DB_ERROR` (500), and a gateway [`LlmError`] keeps its
//! `AI_*` or `VAL_*` code and status (the `From` impls at the end of this module).

use crate::llm::LlmError;
use crate::ratelimit::{LimitKind, Limited};
use crate::store::StoreError;
use axum::{
    extract::rejection::{JsonRejection, PathRejection},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use model::wire::{ErrorBody, ErrorEnvelope, FieldError};
use serde_json::Value;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("sign in first")]
    Unauthenticated,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("the API token is unknown, revoked or expired: create a new one in Settings")]
    BadToken,
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
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
    /// The route exists but not for this method; the `Allow` header lists the ones it takes.
    #[error("this route does not take the {method} method: use one in the Allow header")]
    MethodNotAllowed { method: String },
    #[error("{what} not found: check the id")]
    NotFound { what: &'static str },
    /// Not found, with a message that says why and what to do (`RES_NOT_FOUND` as well).
    #[error("{message}")]
    Missing { message: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("the request body is too large: send less (the server's limit is DM_BODY_LIMIT)")]
    BodyTooLarge,
    #[error("{}", rate_message(.0))]
    RateLimited(Limited),
    /// The LLM provider failed; `status` is what we answer with.
    #[error("{message}")]
    Upstream {
        code: &'static str,
        status: StatusCode,
        message: String,
        retry_after: Option<u64>,
    },
    #[error("database error")]
    Database(#[from] StoreError),
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

    /// A `VAL_*` error for the wrong fields of a request: the first one's reason is the
    /// message, and `details.fields` lists them all.
    pub fn fields(code: &'static str, fields: Vec<FieldError>) -> Self {
        let message = match fields.as_slice() {
            [] => "the request is malformed".to_string(),
            [one] => field_message(one),
            [first, rest @ ..] => format!(
                "{} (and {} more wrong field{})",
                field_message(first),
                rest.len(),
                if rest.len() == 1 { "" } else { "s" }
            ),
        };
        ApiError::Invalid {
            code,
            message,
            details: serde_json::json!({ "fields": fields }),
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
        let limited = match &self {
            ApiError::RateLimited(limited) => Some(*limited),
            _ => None,
        };
        let (status, code) = match &self {
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "AUTH_REQUIRED"),
            ApiError::BadCredentials => (StatusCode::UNAUTHORIZED, "AUTH_INVALID_CREDENTIALS"),
            ApiError::BadToken => (StatusCode::UNAUTHORIZED, "AUTH_INVALID_TOKEN"),
            ApiError::Forbidden { code, .. } => (StatusCode::FORBIDDEN, *code),
            ApiError::CsrfHeaderMissing => (StatusCode::FORBIDDEN, "AUTH_CSRF"),
            ApiError::Invalid {
                code, details: d, ..
            } => {
                details = d.clone();
                (StatusCode::BAD_REQUEST, *code)
            }
            ApiError::MethodNotAllowed { .. } => (StatusCode::METHOD_NOT_ALLOWED, "VAL_METHOD"),
            ApiError::NotFound { .. } | ApiError::Missing { .. } => {
                (StatusCode::NOT_FOUND, "RES_NOT_FOUND")
            }
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, *code),
            ApiError::BodyTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "VAL_BODY_TOO_LARGE"),
            ApiError::RateLimited(limited) => {
                retry_after = Some(whole_seconds(limited.retry_after));
                details = serde_json::json!({
                    "limit_per_minute": limited.limit,
                    "retry_after_ms": limited.retry_after.as_millis() as u64,
                });
                let code = match limited.kind {
                    LimitKind::Requests => "RATE_LLM_REQUESTS",
                    LimitKind::Tokens => "RATE_LLM_TOKENS",
                    LimitKind::AuthAttempts => "RATE_AUTH_ATTEMPTS",
                    LimitKind::ShareLookups => "RATE_SHARE_LOOKUPS",
                };
                (StatusCode::TOO_MANY_REQUESTS, code)
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
        if matches!(self, ApiError::Upstream { .. }) {
            // The gateway has already retried the provider as far as its policy allows:
            // tell clients not to retry on top (the official SDKs honour this header), so
            // one call cannot turn into retries times retries upstream requests.
            response
                .headers_mut()
                .insert("x-should-retry", HeaderValue::from_static("false"));
        }
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(limited) = limited {
            limited.write_headers(response.headers_mut());
        }
        response
    }
}

fn field_message(field: &FieldError) -> String {
    if field.path.is_empty() {
        field.reason.clone()
    } else {
        format!("`{}`: {}", field.path, field.reason)
    }
}

/// A wait rounded up to whole seconds, at least one (the unit of `Retry-After`).
pub fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

fn rate_message(limited: &Limited) -> String {
    let what = match limited.kind {
        LimitKind::Requests => "LLM calls per minute",
        LimitKind::Tokens => "LLM tokens per minute",
        LimitKind::AuthAttempts => "sign-in attempts per minute from your address",
        LimitKind::ShareLookups => "share links opened per minute from your address",
    };
    format!(
        "too many requests: the limit is {} {what}; wait {} seconds and try again",
        limited.limit,
        whole_seconds(limited.retry_after)
    )
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

impl From<LlmError> for ApiError {
    fn from(e: LlmError) -> Self {
        match e {
            LlmError::BadRequest(message) => ApiError::invalid("VAL_CHAT_REQUEST", message),
            LlmError::Fields(fields) => ApiError::fields("VAL_CHAT_REQUEST", fields),
            e @ LlmError::Forbidden(_) => ApiError::Invalid {
                code: "VAL_UPSTREAM_FORBIDDEN",
                message: e.to_string(),
                details: serde_json::json!({
                    "fields": [FieldError { path: "base_url".into(), reason: e.to_string() }]
                }),
            },
            e @ LlmError::KeyInvalid => ApiError::invalid("AI_KEY_INVALID", e.to_string()),
            LlmError::Upstream {
                code,
                status,
                message,
                retry_after,
            } => ApiError::Upstream {
                code,
                status,
                message,
                retry_after: retry_after.map(whole_seconds),
            },
            LlmError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

#[cfg(test)]
// Tests fail loudly on purpose; `unwrap` is the shortest way to say "this must work".
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The status, code, message and `Retry-After` the client gets for `error`.
    async fn answer(error: impl Into<ApiError>) -> (StatusCode, String, String, Option<String>) {
        let response = error.into().into_response();
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_string());
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let envelope: ErrorEnvelope = serde_json::from_slice(&body).unwrap();
        (
            status,
            envelope.error.code,
            envelope.error.message,
            retry_after,
        )
    }

    #[tokio::test]
    async fn gateway_errors_keep_their_codes_and_statuses() {
        let check =
            |error: LlmError, status: u16, code: &'static str, retry: Option<&'static str>| {
                let said = error.to_string();
                async move {
                    let (got_status, got_code, message, retry_after) = answer(error).await;
                    assert_eq!(got_status.as_u16(), status, "{code}");
                    assert_eq!(got_code, code);
                    assert_eq!(retry_after.as_deref(), retry, "{code}");
                    if status < 500 || code.starts_with("AI_") {
                        assert_eq!(message, said, "{code}: the client reads what went wrong");
                    } else {
                        assert!(
                            !message.contains("bug 42"),
                            "5xx bodies say nothing internal"
                        );
                    }
                }
            };
        check(
            LlmError::BadRequest("`n` above 1 is not supported".into()),
            400,
            "VAL_CHAT_REQUEST",
            None,
        )
        .await;
        check(LlmError::KeyInvalid, 400, "AI_KEY_INVALID", None).await;
        check(
            LlmError::Upstream {
                code: "AI_PROVIDER_RATE_LIMITED",
                status: StatusCode::TOO_MANY_REQUESTS,
                message: "the provider is rate-limiting you: wait and try again".into(),
                retry_after: Some(Duration::from_millis(1200)),
            },
            429,
            "AI_PROVIDER_RATE_LIMITED",
            Some("2"),
        )
        .await;
        check(
            LlmError::Upstream {
                code: "AI_UPSTREAM_TIMEOUT",
                status: StatusCode::GATEWAY_TIMEOUT,
                message: "the provider timed out: try again later".into(),
                retry_after: None,
            },
            504,
            "AI_UPSTREAM_TIMEOUT",
            None,
        )
        .await;
        check(
            LlmError::Internal("bug 42".into()),
            500,
            "SYS_INTERNAL",
            None,
        )
        .await;
    }

    #[tokio::test]
    async fn store_errors_are_db_errors_that_say_nothing_internal() {
        // A real store failure: a query on a closed store.
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let store = crate::store::Store::connect(&url).await.unwrap();
        store.close().await;
        let error = store.ping().await.unwrap_err();
        let (status, code, message, _) = answer(error).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(code, "DB_ERROR");
        assert!(
            message.starts_with("something went wrong on the server"),
            "{message}"
        );
    }
}
