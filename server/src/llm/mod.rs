//! The LLM gateway: forwards an OpenAI-style chat-completions request to the user's provider
//! with the key from the vault, and passes the answer back.
//!
//! Streams are passed through chunk by chunk as they arrive (no buffering); on the way, a
//! [`UsageTap`] reads the `usage` the provider reports for token accounting. Every upstream
//! failure becomes an `AI_*` error that says what to do. The gateway does not build prompts or
//! parse models: that happens in the browser.

pub mod anthropic;
pub mod stream;

use crate::error::ApiError;
use crate::ratelimit::LlmGrant;
use crate::routes::providers::StoredProvider;
use crate::vault::PlainKey;
use crate::AppState;
use app::wire::{parse_stream_event, ModelInfo, StreamEvent, Usage};
use axum::{
    body::Body,
    http::{header, HeaderValue, StatusCode},
    response::Response,
};
use futures::StreamExt;
use serde_json::Value;
use std::time::Duration;
use uuid::Uuid;

/// The largest error body read from a provider.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// When to give up on a provider and how to retry it, from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub connect: Duration,
    pub first_byte: Duration,
    pub idle: Duration,
    pub total: Duration,
    pub retries: u32,
    pub retry_base: Duration,
    pub retry_max_wait: Duration,
}

impl Policy {
    pub fn from_config(config: &crate::config::Config) -> Self {
        let ms = Duration::from_millis;
        Policy {
            connect: ms(config.upstream_connect_timeout_ms),
            first_byte: ms(config.upstream_first_byte_timeout_ms),
            idle: ms(config.upstream_idle_timeout_ms),
            total: ms(config.upstream_total_timeout_ms),
            retries: config.upstream_retries,
            retry_base: ms(config.upstream_retry_base_ms),
            retry_max_wait: ms(config.upstream_retry_max_wait_ms),
        }
    }
}

/// One call to forward: whose, to which provider, with which key and body.
pub struct Call {
    pub user: Uuid,
    pub provider: StoredProvider,
    pub key: PlainKey,
    pub body: Value,
}

/// The tokens a call is charged before it runs: its messages' characters / 4, plus
/// `max_completion_tokens` or `max_tokens`, or `default_completion` when it sets neither.
pub fn estimate_tokens(body: &Value, default_completion: u64) -> u64 {
    let prompt_chars: usize = body
        .get("messages")
        .and_then(Value::as_array)
        .map(|messages| {
            messages
                .iter()
                .map(|m| match m.get("content") {
                    Some(Value::String(text)) => text.len(),
                    Some(other) => other.to_string().len(),
                    None => 0,
                })
                .sum()
        })
        .unwrap_or(0);
    let completion = ["max_completion_tokens", "max_tokens"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_u64))
        .unwrap_or(default_completion);
    (prompt_chars as u64).div_ceil(4) + completion
}

/// Lists the models the provider offers.
pub async fn list_models(
    _state: &AppState,
    _provider: &StoredProvider,
    _key: &PlainKey,
) -> Result<Vec<ModelInfo>, ApiError> {
    Err(ApiError::internal("listing models is not written yet"))
}

/// Forwards the call to the provider and returns the response to send to the client. The
/// grant's token charge is corrected with the reported usage when the call ends.
pub async fn forward(state: &AppState, call: Call, _grant: LlmGrant) -> Result<Response, ApiError> {
    let Call {
        user,
        provider,
        key,
        mut body,
    } = call;
    let (http, provider, key) = (&state.http, &provider, &key);
    let first_byte_timeout = Policy::from_config(&state.config).first_byte;
    let object = body
        .as_object_mut()
        .ok_or_else(|| ApiError::invalid("VAL_CHAT_REQUEST", "the body must be a JSON object"))?;
    if !object.get("messages").is_some_and(Value::is_array) {
        return Err(ApiError::invalid(
            "VAL_CHAT_REQUEST",
            "the body needs a `messages` array",
        ));
    }
    if object
        .get("model")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        object.insert("model".into(), Value::String(provider.model.clone()));
    }
    let stream = object
        .get("stream")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if stream {
        // Ask for usage in the stream's last chunk, for token accounting.
        object.insert(
            "stream_options".into(),
            serde_json::json!({ "include_usage": true }),
        );
    }
    let url = format!(
        "{}/chat/completions",
        provider.base_url.trim_end_matches('/')
    );
    let mut request = http.post(&url).json(&body);
    if !key.expose().is_empty() {
        request = request.bearer_auth(key.expose());
    }
    let started = std::time::Instant::now();
    let upstream = match tokio::time::timeout(first_byte_timeout, request.send()).await {
        Err(_) => {
            return Err(upstream_error(
                "AI_UPSTREAM_TIMEOUT",
                StatusCode::GATEWAY_TIMEOUT,
                format!(
                    "the provider did not answer within {} ms: try again later",
                    first_byte_timeout.as_millis()
                ),
            ))
        }
        Ok(Err(e)) => return Err(transport_error(&e)),
        Ok(Ok(response)) => response,
    };
    let status = upstream.status();
    if !status.is_success() {
        return Err(status_error(upstream, key).await);
    }
    tracing::info!(%user, provider = %provider.id, stream, first_byte_ms = started.elapsed().as_millis() as u64, "llm call forwarded");
    let content_type = upstream
        .headers()
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_static(if stream {
                "text/event-stream"
            } else {
                "application/json"
            })
        });
    let mut tap = UsageTap::new(user, provider.id, stream);
    let chunks = upstream.bytes_stream().map(move |chunk| {
        if let Ok(bytes) = &chunk {
            tap.feed(bytes);
        }
        chunk
    });
    let mut response = Response::new(Body::from_stream(chunks));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Tell reverse proxies (nginx) not to buffer the stream.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

fn upstream_error(code: &'static str, status: StatusCode, message: String) -> ApiError {
    ApiError::Upstream {
        code,
        status,
        message,
        retry_after: None,
    }
}

fn transport_error(e: &reqwest::Error) -> ApiError {
    if e.is_timeout() {
        upstream_error(
            "AI_UPSTREAM_TIMEOUT",
            StatusCode::GATEWAY_TIMEOUT,
            "the provider timed out: try again later".into(),
        )
    } else if e.is_connect() {
        upstream_error(
            "AI_UPSTREAM_UNREACHABLE",
            StatusCode::BAD_GATEWAY,
            "the provider could not be reached: check its base URL under Providers".into(),
        )
    } else {
        tracing::warn!(error = %e, "provider request failed");
        upstream_error(
            "AI_UPSTREAM_FAILED",
            StatusCode::BAD_GATEWAY,
            "the call to the provider failed: try again".into(),
        )
    }
}

/// Maps a provider's error status to an `AI_*` error, quoting the provider's own message with
/// the key scrubbed out of it.
async fn status_error(upstream: reqwest::Response, key: &PlainKey) -> ApiError {
    let status = upstream.status();
    let retry_after = upstream
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut body = Vec::new();
    let mut stream = upstream.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX_ERROR_BODY)]).into_owned();
    let said = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| text.chars().take(300).collect());
    let said = if key.expose().len() >= 8 {
        said.replace(key.expose(), "[redacted]")
    } else {
        said
    };
    let (code, ours, what) = match status.as_u16() {
        401 | 403 => (
            "AI_PROVIDER_AUTH",
            StatusCode::BAD_GATEWAY,
            "the provider rejected the API key: update it under Providers",
        ),
        404 => (
            "AI_PROVIDER_NOT_FOUND",
            StatusCode::BAD_GATEWAY,
            "the provider does not know this model or URL: check the provider settings",
        ),
        429 => (
            "AI_PROVIDER_RATE_LIMITED",
            StatusCode::TOO_MANY_REQUESTS,
            "the provider is rate-limiting you: wait and try again",
        ),
        400..=499 => (
            "AI_PROVIDER_REJECTED",
            StatusCode::BAD_GATEWAY,
            "the provider refused the request",
        ),
        _ => (
            "AI_PROVIDER_UNAVAILABLE",
            StatusCode::BAD_GATEWAY,
            "the provider failed: try again later",
        ),
    };
    tracing::warn!(
        upstream_status = status.as_u16(),
        code,
        "provider returned an error"
    );
    let message = if said.trim().is_empty() {
        format!("{what} (status {})", status.as_u16())
    } else {
        format!("{what} (status {}: {})", status.as_u16(), said.trim())
    };
    ApiError::Upstream {
        code,
        status: ours,
        message,
        retry_after,
    }
}

/// Reads `usage` from the SSE lines (or JSON body) passing through, and logs it when the
/// response is done. Only complete lines are parsed; the buffer holds at most one line.
struct UsageTap {
    user: Uuid,
    provider: Uuid,
    line: Vec<u8>,
    /// The start of a non-streamed body (one JSON document); unused for streams.
    whole: Option<Vec<u8>>,
    usage: Option<Usage>,
}

impl UsageTap {
    fn new(user: Uuid, provider: Uuid, stream: bool) -> Self {
        UsageTap {
            user,
            provider,
            line: Vec::new(),
            whole: (!stream).then(Vec::new),
            usage: None,
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        if let Some(whole) = self.whole.as_mut() {
            if whole.len() < MAX_ERROR_BODY {
                whole.extend_from_slice(bytes);
            }
            return;
        }
        for &b in bytes {
            if b == b'\n' {
                self.line_done();
            } else if self.line.len() < 1 << 20 {
                self.line.push(b);
            }
        }
    }

    fn line_done(&mut self) {
        let line = std::mem::take(&mut self.line);
        let Some(data) = line.strip_prefix(b"data:") else {
            return;
        };
        if !data.windows(7).any(|w| w == b"\"usage\"") {
            return;
        }
        if let Ok(StreamEvent::Delta {
            usage: Some(usage), ..
        }) = parse_stream_event(&String::from_utf8_lossy(data))
        {
            self.usage = Some(usage);
        }
    }
}

impl Drop for UsageTap {
    fn drop(&mut self) {
        if let Some(whole) = &self.whole {
            // A non-streamed answer is one JSON document with `usage` at the top level.
            if let Ok(StreamEvent::Delta { usage, .. }) =
                parse_stream_event(&String::from_utf8_lossy(whole))
            {
                self.usage = usage;
            }
        }
        let usage = self.usage.unwrap_or_default();
        tracing::info!(
            user = %self.user,
            provider = %self.provider,
            prompt_tokens = usage.prompt_tokens,
            completion_tokens = usage.completion_tokens,
            total_tokens = usage.total_tokens,
            "llm call finished"
        );
    }
}
