//! Prometheus metrics.
//!
//! SKELETON: the public API below is the contract the rest of the server calls; the
//! implementation is being written.

use crate::ratelimit::LimitKind;
use crate::AppState;
use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Metrics {}

impl Metrics {
    pub fn new() -> Self {
        Metrics::default()
    }

    /// One HTTP request answered.
    pub fn http_request(&self, _method: &str, _route: &str, _status: u16, _elapsed: Duration) {}

    /// One LLM call ended; `outcome` is `ok` or the `AI_*`/`RATE_*` code it ended with.
    pub fn llm_call(
        &self,
        _provider_kind: &str,
        _stream: bool,
        _outcome: &str,
        _elapsed: Duration,
    ) {
    }

    /// Time from sending the upstream request to its first body byte.
    pub fn llm_first_byte(&self, _provider_kind: &str, _elapsed: Duration) {}

    /// Gap between two chunks of a stream.
    pub fn llm_chunk_gap(&self, _elapsed: Duration) {}

    /// An upstream failure, by its `AI_*` code.
    pub fn upstream_error(&self, _code: &str) {}

    /// A retry of an upstream call; `reason` is `429`, `5xx` or `connect`.
    pub fn upstream_retry(&self, _reason: &str) {}

    /// A request refused by a rate limit.
    pub fn rate_limited(&self, _kind: LimitKind) {}

    /// Tokens reported by providers.
    pub fn tokens(&self, _prompt: u64, _completion: u64) {}

    /// A stream the client left before it ended (the upstream call was cancelled).
    pub fn client_cancelled(&self) {}

    /// The text exposition format.
    pub fn render(&self) -> String {
        String::new()
    }
}

/// Middleware: counts and times every request by method, matched route and status.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    state.metrics.http_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// `GET /metrics`.
pub async fn endpoint(State(state): State<AppState>) -> Response {
    state.metrics.render().into_response()
}
