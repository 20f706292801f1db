//! The LLM gateway: forwards an OpenAI-style chat-completions request to the user's provider
//! with the key from the vault, and passes the answer back.
//!
//! A *call* is one client request; an *attempt* is one upstream request made for it. Before
//! the client hears anything, the forwarder waits for the provider's status, headers and
//! *first byte* (the first body chunk), so that every failure up to that point is a proper
//! HTTP error, and the ones worth it (429, 5xx, a refused connection) are retried with
//! jittered exponential backoff. After the first byte the client's stream is committed: the
//! provider's chunks go through a [`Shaper`] as they arrive (no buffering, no coalescing), and
//! a failure ends the stream with one final in-band event
//! `data: {"error":{"code":"AI_STREAM_…","message":"…"}}` and no `[DONE]`, which the OpenAI
//! SDKs raise as an API error.
//!
//! Every call, however it ends (answered, failed, or left by the client), is closed by its
//! `Ledger`: the rate limiter's token charge is corrected with the reported usage, metrics
//! are recorded and one log line is written. The gateway does not build prompts or parse
//! models: that happens in the browser.
//!
//! Every failure is an [`LlmError`]: a request that cannot be sent (`VAL_CHAT_REQUEST`), a key
//! that cannot go into a header (`AI_KEY_INVALID`), or the provider's failure with its `AI_*`
//! code and the status to answer with. The API turns it into its envelope at its edge
//! (`crate::error`); the gateway knows nothing of the API's error type.

pub mod anthropic;
pub mod request;
pub mod stream;

use crate::egress::{self, EgressRefused};
use crate::metrics::Metrics;
use crate::ratelimit::{LlmGrant, RateLimiter};
use crate::store::StoredProvider;
use crate::vault::PlainKey;
use crate::AppState;
use axum::{
    body::Body,
    http::{header, HeaderValue, StatusCode},
    response::Response,
};
use bytes::Bytes;
use futures::{stream::BoxStream, StreamExt};
use model::wire::{ModelInfo, ProviderKind, Usage};
use serde_json::Value;
use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};
use stream::{PassThrough, Shaper, StreamFault};
use tokio::time::{timeout_at, Instant};
use uuid::Uuid;

/// The largest error body read from a provider.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// The largest non-streamed answer read from a provider.
const MAX_BODY: usize = 32 * 1024 * 1024;
/// The largest model list read from a provider.
const MAX_MODELS_BODY: usize = 8 * 1024 * 1024;

/// Why a call could not be forwarded, or how the provider failed.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The client's request cannot be sent to this provider (`VAL_CHAT_REQUEST`, 400); the
    /// message names the field and what to send instead.
    #[error("{0}")]
    BadRequest(String),
    /// The request's fields are wrong (`VAL_CHAT_REQUEST`, 400, with `details.fields`),
    /// found before anything is sent upstream.
    #[error("the request has wrong fields")]
    Fields(Vec<model::wire::FieldError>),
    /// The stored key cannot be sent in a header (`AI_KEY_INVALID`, 400).
    #[error(
        "the API key has characters that cannot be sent in a header: enter it again under Settings"
    )]
    KeyInvalid,
    /// The provider failed, or could not be reached in time: an `AI_*` code, the status the
    /// client gets, a message that quotes the provider (key scrubbed) and names the remedy,
    /// and how long the client should wait before trying again.
    #[error("{message}")]
    Upstream {
        code: &'static str,
        status: StatusCode,
        message: String,
        retry_after: Option<Duration>,
    },
    /// The upstream URL policy refuses the provider's address (`VAL_UPSTREAM_FORBIDDEN`,
    /// 400): see `crate::egress`.
    #[error(transparent)]
    Forbidden(#[from] EgressRefused),
    /// A bug of ours; the cause goes to the log, not to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl LlmError {
    /// The code the failure is counted, logged and answered under.
    pub fn code(&self) -> &'static str {
        match self {
            LlmError::BadRequest(_) | LlmError::Fields(_) => "VAL_CHAT_REQUEST",
            LlmError::KeyInvalid => "AI_KEY_INVALID",
            LlmError::Upstream { code, .. } => code,
            LlmError::Forbidden(_) => "VAL_UPSTREAM_FORBIDDEN",
            LlmError::Internal(_) => "SYS_INTERNAL",
        }
    }

    fn internal(cause: impl std::fmt::Display) -> Self {
        LlmError::Internal(cause.to_string())
    }
}

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
    /// This policy with the provider's own retry count, when it sets one.
    pub fn for_provider(self, provider: &StoredProvider) -> Self {
        Policy {
            retries: provider.retries.unwrap_or(self.retries),
            ..self
        }
    }

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

    /// The wait before retry number `attempt` (0 for the first retry) after a failure that
    /// may be retried, or `None` to give up: when the retries are used up, or when the
    /// provider's `Retry-After` is longer than `retry_max_wait`. Without a `Retry-After`, the
    /// wait is [`backoff`] with the random draw `unit`.
    pub fn retry_wait(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        unit: f64,
    ) -> Option<Duration> {
        if attempt >= self.retries {
            return None;
        }
        match retry_after {
            Some(wait) if wait > self.retry_max_wait => None,
            Some(wait) => Some(wait),
            None => Some(backoff(self.retry_base, self.retry_max_wait, attempt, unit)),
        }
    }
}

/// Exponential backoff with full jitter: a uniform draw between zero and
/// `base * 2^attempt`, at most `max_wait`. Full jitter spreads the retries of many clients
/// that failed together, so they do not come back together. `unit` is the random draw in
/// `[0, 1)`, passed in so that tests can choose it.
pub fn backoff(base: Duration, max_wait: Duration, attempt: u32, unit: f64) -> Duration {
    let ceiling = base
        .saturating_mul(2u32.saturating_pow(attempt))
        .min(max_wait);
    ceiling.mul_f64(unit.clamp(0.0, 1.0))
}

/// Reads a `Retry-After` value: whole seconds, or an HTTP date (IMF-fixdate,
/// `Sun, 06 Nov 1994 08:49:37 GMT`, or one of the two obsolete forms that HTTP still allows,
/// read by `httpdate`) counted from `now`; a date in the past means now.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
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

/// Lists the models the provider offers: `GET {base_url}/models`, in OpenAI's shape
/// (`data[].id`) or, for Anthropic, in its own; with the same timeouts, retries and errors as
/// a chat call.
pub async fn list_models(
    state: &AppState,
    provider: &StoredProvider,
    key: &PlainKey,
) -> Result<Vec<ModelInfo>, LlmError> {
    let headers = auth_headers(provider.kind, key)?;
    let url = upstream_url(provider, "models")?;
    let mut upstream = Upstream::new(state, provider, key, Instant::now());
    let result: Result<Vec<ModelInfo>, LlmError> = async {
        let client = state.egress.client(&url)?;
        let opened = upstream
            .open(|| client.get(url.clone()).headers(headers.clone()))
            .await?;
        let body = upstream.read_all(opened, MAX_MODELS_BODY).await?;
        let value: Value = serde_json::from_slice(&body).map_err(|e| malformed(&e))?;
        if provider.kind == ProviderKind::Anthropic {
            return Ok(anthropic::parse_models(&value));
        }
        let data = value.get("data").and_then(Value::as_array).ok_or_else(|| {
            upstream_error(
                "AI_UPSTREAM_MALFORMED",
                StatusCode::BAD_GATEWAY,
                "the provider's model list has no `data` array: check that the base URL is an OpenAI-compatible API".into(),
            )
        })?;
        Ok(data
            .iter()
            .filter_map(|m| {
                Some(ModelInfo {
                    id: m.get("id")?.as_str()?.to_string(),
                    name: m.get("name").and_then(Value::as_str).map(str::to_string),
                })
            })
            .collect())
    }
    .await;
    if let Err(e) = &result {
        state.metrics.upstream_error(e.code());
    }
    result
}

/// Forwards the call to the provider and returns the response to send to the client. The
/// grant's token charge is corrected with the reported usage when the call ends, however it
/// ends.
pub async fn forward(state: &AppState, call: Call, grant: LlmGrant) -> Result<Response, LlmError> {
    let Call {
        user,
        provider,
        key,
        mut body,
    } = call;
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let mut ledger = Ledger {
        limiter: state.limiter.clone(),
        metrics: state.metrics.clone(),
        user,
        provider: provider.id,
        kind: provider.kind,
        stream,
        charged: grant.charged,
        started: Instant::now(),
        first_byte: None,
        retries: 0,
        answered: false,
        usage: None,
        outcome: None,
    };
    let answer = match answer(state, &provider, &key, &mut body, &mut ledger).await {
        Ok(answer) => answer,
        Err(e) => {
            ledger.end(e.code());
            return Err(e);
        }
    };
    let mut response = match answer {
        Answer::Whole(bytes) => {
            ledger.end("ok");
            let mut response = Response::new(Body::from(bytes));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Answer::Stream {
            first,
            rest,
            shaper,
        } => {
            let policy = state.policy;
            let relay = Relay {
                upstream: Some(rest.bytes_stream().boxed()),
                first: Some(first),
                shaper,
                deadline: ledger.started + policy.total,
                ledger,
                key,
                policy,
                last: Instant::now(),
            };
            let chunks = futures::stream::unfold(relay, |mut relay| async move {
                let bytes = relay.next().await?;
                Some((Ok::<_, std::convert::Infallible>(bytes), relay))
            });
            let mut response = Response::new(Body::from_stream(chunks));
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            // Tell reverse proxies (nginx) not to buffer the stream.
            headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
            response
        }
    };
    *response.status_mut() = StatusCode::OK;
    Ok(response)
}

/// A provider's answer, up to the point where the client is told it succeeded.
enum Answer {
    /// A non-streamed answer, read whole and checked.
    Whole(Bytes),
    /// A stream whose first chunk has arrived and been shaped.
    Stream {
        first: Bytes,
        rest: reqwest::Response,
        shaper: Box<dyn Shaper>,
    },
}

/// Checks the request, sends it (with retries), and waits for the first byte; a non-streamed
/// answer is read whole.
async fn answer(
    state: &AppState,
    provider: &StoredProvider,
    key: &PlainKey,
    body: &mut Value,
    ledger: &mut Ledger,
) -> Result<Answer, LlmError> {
    // `request::check` has refused every body that is not an object with a `messages` list.
    let object = body
        .as_object_mut()
        .ok_or_else(|| LlmError::BadRequest("the body must be a JSON object".into()))?;
    if object
        .get("model")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        object.insert("model".into(), Value::String(provider.model.clone()));
    }
    let model = object
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let client_wants_usage = object
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let stream = ledger.stream;
    let (path, payload) = if provider.kind == ProviderKind::Anthropic {
        ("messages", anthropic::to_messages_request(body)?)
    } else {
        if stream {
            // Ask for usage in the stream's last chunk, for token accounting; the
            // pass-through leaves that chunk out again if the client did not ask for it.
            match object.get_mut("stream_options") {
                Some(Value::Object(options)) => {
                    options.insert("include_usage".into(), Value::Bool(true));
                }
                _ => {
                    object.insert(
                        "stream_options".into(),
                        serde_json::json!({ "include_usage": true }),
                    );
                }
            }
        }
        ("chat/completions", std::mem::take(body))
    };
    let payload = Bytes::from(serde_json::to_vec(&payload).map_err(LlmError::internal)?);
    let url = upstream_url(provider, path)?;
    let headers = auth_headers(provider.kind, key)?;
    let client = state.egress.client(&url)?;
    let mut upstream = Upstream::new(state, provider, key, ledger.started);
    let opened = upstream
        .open(|| {
            client
                .post(url.clone())
                .headers(headers.clone())
                .header(header::CONTENT_TYPE, "application/json")
                .body(payload.clone())
        })
        .await;
    ledger.retries = upstream.retries;
    let opened = opened?;
    if let Some(elapsed) = upstream.first_byte {
        state
            .metrics
            .llm_first_byte(provider.kind.as_str(), elapsed);
    }
    let first_byte = ledger.started.elapsed();
    ledger.first_byte = Some(first_byte);
    tracing::info!(
        user = %ledger.user,
        provider = %provider.id,
        stream,
        first_byte_ms = first_byte.as_millis() as u64,
        retries = upstream.retries,
        "llm call forwarded"
    );
    if !stream {
        let bytes = upstream.read_all(opened, MAX_BODY).await?;
        let (bytes, usage) = whole_answer(provider.kind, bytes, key)?;
        ledger.usage = usage;
        ledger.answered = true;
        return Ok(Answer::Whole(bytes));
    }
    let mut shaper: Box<dyn Shaper> = if provider.kind == ProviderKind::Anthropic {
        Box::new(anthropic::StreamTranslator::new(model, client_wants_usage))
    } else {
        Box::new(PassThrough::new(client_wants_usage))
    };
    let Opened { response, first } = opened;
    let Some(first) = first else {
        return Err(upstream_error(
            "AI_UPSTREAM_INCOMPLETE",
            StatusCode::BAD_GATEWAY,
            "the provider answered with an empty stream: try again".into(),
        ));
    };
    // Nothing has reached the client yet: a fault in the first chunk is still an HTTP error.
    let first = shaper
        .feed(&first)
        .map_err(|fault| early_fault(fault, provider.kind, key))?;
    ledger.usage = shaper.usage();
    Ok(Answer::Stream {
        first,
        rest: response,
        shaper,
    })
}

/// Checks a non-streamed answer and reads its usage; Anthropic's is translated.
fn whole_answer(
    kind: ProviderKind,
    bytes: Vec<u8>,
    key: &PlainKey,
) -> Result<(Bytes, Option<Usage>), LlmError> {
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| malformed(&e))?;
    let (bytes, value) = if kind == ProviderKind::Anthropic {
        let value = anthropic::to_chat_completion(&value).map_err(|f| early_fault(f, kind, key))?;
        let bytes = Bytes::from(serde_json::to_vec(&value).map_err(LlmError::internal)?);
        (bytes, value)
    } else {
        if !value.get("choices").is_some_and(Value::is_array) {
            if value.get("error").is_some_and(|e| !e.is_null()) {
                let said = provider_message(&value).unwrap_or("unknown error");
                return Err(early_fault(
                    StreamFault::Provider(said.to_string()),
                    kind,
                    key,
                ));
            }
            // Whatever else it is, it is not passed on: the URL may not be a provider at all.
            return Err(upstream_error(
                "AI_UPSTREAM_MALFORMED",
                StatusCode::BAD_GATEWAY,
                "the provider's answer is not a chat completion (it has no `choices`): check \
                 the provider's base URL"
                    .into(),
            ));
        }
        (Bytes::from(bytes), value)
    };
    let usage = value
        .get("usage")
        .and_then(|u| serde_json::from_value::<Usage>(u.clone()).ok());
    Ok((bytes, usage))
}

/// `{base_url}/{path}` as a URL.
fn upstream_url(provider: &StoredProvider, path: &str) -> Result<reqwest::Url, LlmError> {
    let text = format!("{}/{path}", provider.base_url.trim_end_matches('/'));
    reqwest::Url::parse(&text).map_err(|_| LlmError::Forbidden(EgressRefused::NotHttp))
}

/// The provider's authentication headers, marked sensitive so that no debug output shows them.
fn auth_headers(kind: ProviderKind, key: &PlainKey) -> Result<header::HeaderMap, LlmError> {
    let secret = |value: String| {
        let mut value = HeaderValue::from_str(&value).map_err(|_| LlmError::KeyInvalid)?;
        value.set_sensitive(true);
        Ok::<_, LlmError>(value)
    };
    let mut headers = header::HeaderMap::new();
    let key = key.expose();
    match kind {
        ProviderKind::Anthropic => {
            if !key.is_empty() {
                headers.insert("x-api-key", secret(key.to_string())?);
            }
            headers.insert(
                "anthropic-version",
                HeaderValue::from_static(anthropic::API_VERSION),
            );
        }
        ProviderKind::OpenAi | ProviderKind::OpenRouter | ProviderKind::Compatible => {
            if !key.is_empty() {
                headers.insert(header::AUTHORIZATION, secret(format!("Bearer {key}"))?);
            }
            if kind == ProviderKind::OpenRouter {
                // OpenRouter shows the app's name on its activity page.
                headers.insert("x-title", HeaderValue::from_static("Data Modeller"));
            }
        }
    }
    Ok(headers)
}

/// An upstream response with a success status and its first body chunk (`None` when the
/// body was empty).
struct Opened {
    response: reqwest::Response,
    first: Option<Bytes>,
}

/// How one attempt failed.
enum AttemptError {
    /// The provider answered with an error status.
    Status(reqwest::Response),
    /// No answer: connection refused, reset before the headers, TLS failure.
    Send(reqwest::Error),
    /// The body broke after a success status, before its first chunk.
    Body(reqwest::Error),
}

async fn attempt(request: reqwest::RequestBuilder) -> Result<Opened, AttemptError> {
    let mut response = request.send().await.map_err(AttemptError::Send)?;
    if !response.status().is_success() {
        return Err(AttemptError::Status(response));
    }
    let first = response.chunk().await.map_err(AttemptError::Body)?;
    Ok(Opened { response, first })
}

/// What the attempts of one call share.
struct Upstream<'a> {
    key: &'a PlainKey,
    /// What API the provider speaks: only a known provider's error messages are quoted.
    kind: ProviderKind,
    policy: Policy,
    metrics: &'a Metrics,
    /// When the whole call must be over.
    deadline: Instant,
    /// Retries made so far.
    retries: u32,
    /// Time from the successful attempt's request to its first byte.
    first_byte: Option<Duration>,
}

impl<'a> Upstream<'a> {
    fn new(
        state: &'a AppState,
        provider: &StoredProvider,
        key: &'a PlainKey,
        started: Instant,
    ) -> Self {
        let policy = state.policy.for_provider(provider);
        Upstream {
            key,
            kind: provider.kind,
            policy,
            metrics: &state.metrics,
            deadline: started + policy.total,
            retries: 0,
            first_byte: None,
        }
    }

    /// Sends the request built by `request` until an attempt gets a success status and a
    /// first byte, retrying 429, 5xx and refused connections.
    async fn open(
        &mut self,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Opened, LlmError> {
        loop {
            let sent = Instant::now();
            let first_byte_by = (sent + self.policy.first_byte).min(self.deadline);
            let failed = match timeout_at(first_byte_by, attempt(request())).await {
                Err(_) => return Err(self.first_byte_timeout(first_byte_by)),
                Ok(Ok(opened)) => {
                    self.first_byte = Some(sent.elapsed());
                    return Ok(opened);
                }
                Ok(Err(failed)) => failed,
            };
            let (reason, retry_after) = match &failed {
                AttemptError::Status(response) => {
                    let status = response.status();
                    let retry_after = response
                        .headers()
                        .get(header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, SystemTime::now()));
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        ("429", retry_after)
                    } else if status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED {
                        ("5xx", retry_after)
                    } else {
                        return Err(self.give_up(failed, retry_after).await);
                    }
                }
                AttemptError::Send(e) => {
                    if let Some(refused) = egress::refusal(e) {
                        return Err(LlmError::Forbidden(refused));
                    }
                    if !e.is_connect() {
                        return Err(self.give_up(failed, None).await);
                    }
                    ("connect", None)
                }
                AttemptError::Body(_) => return Err(self.give_up(failed, None).await),
            };
            match self
                .policy
                .retry_wait(self.retries, retry_after, rand::random())
            {
                Some(wait) if Instant::now() + wait < self.deadline => {
                    drop(failed);
                    tracing::info!(
                        retry = self.retries + 1,
                        reason,
                        wait_ms = wait.as_millis() as u64,
                        "retrying the provider"
                    );
                    self.metrics.upstream_retry(reason);
                    tokio::time::sleep(wait).await;
                    self.retries += 1;
                }
                _ => return Err(self.give_up(failed, retry_after).await),
            }
        }
    }

    fn first_byte_timeout(&self, at: Instant) -> LlmError {
        let limit = if at >= self.deadline {
            self.policy.total
        } else {
            self.policy.first_byte
        };
        upstream_error(
            "AI_UPSTREAM_TIMEOUT",
            StatusCode::GATEWAY_TIMEOUT,
            format!(
                "the provider did not answer within {} ms: try again later",
                limit.as_millis()
            ),
        )
    }

    /// The error for a failed attempt that is not retried.
    async fn give_up(&self, failed: AttemptError, retry_after: Option<Duration>) -> LlmError {
        match failed {
            AttemptError::Status(response) => self.status_error(response, retry_after).await,
            AttemptError::Send(e) => transport_error(e),
            AttemptError::Body(e) => {
                tracing::warn!(error = %e.without_url(), "provider body broke before its first byte");
                upstream_error(
                    "AI_UPSTREAM_INCOMPLETE",
                    StatusCode::BAD_GATEWAY,
                    "the provider's answer broke off before it began: try again".into(),
                )
            }
        }
    }

    /// Maps a provider's error status to an `AI_*` error, quoting the provider's own message
    /// with the key scrubbed out of it.
    async fn status_error(
        &self,
        mut upstream: reqwest::Response,
        retry_after: Option<Duration>,
    ) -> LlmError {
        let status = upstream.status();
        let mut body = Vec::new();
        let read_by = (Instant::now() + self.policy.idle).min(self.deadline);
        let _ = timeout_at(read_by, async {
            while let Ok(Some(chunk)) = upstream.chunk().await {
                body.extend_from_slice(&chunk);
                if body.len() >= MAX_ERROR_BODY {
                    break;
                }
            }
        })
        .await;
        let body: Option<Value> =
            serde_json::from_slice(&body[..body.len().min(MAX_ERROR_BODY)]).ok();
        let refusal = body.as_ref().and_then(refusal_kind);
        let (code, ours, what) = match (status.as_u16(), refusal) {
            (300..=399, _) => (
                "AI_PROVIDER_UNAVAILABLE",
                StatusCode::BAD_GATEWAY,
                "the provider answered with a redirect, which is not followed: set the \
                 provider's base URL to the address it redirects to",
            ),
            (400..=499, Some(Refusal::TokenLimit)) => (
                "AI_TOKEN_LIMIT",
                StatusCode::BAD_REQUEST,
                "the prompt and the answer asked for do not fit the model's context window: \
                 shorten the prompt, ask for fewer tokens, or pick a model with a larger context",
            ),
            (400..=499, Some(Refusal::ContentPolicy)) => (
                "AI_CONTENT_POLICY",
                StatusCode::BAD_REQUEST,
                "the provider refused the request under its content policy: rephrase it",
            ),
            (401 | 403, _) => (
                "AI_PROVIDER_AUTH",
                StatusCode::BAD_GATEWAY,
                "the provider rejected the API key: update it under Settings",
            ),
            (404, _) => (
                "AI_PROVIDER_NOT_FOUND",
                StatusCode::BAD_GATEWAY,
                "the provider does not know this model or URL: check the provider settings",
            ),
            (429, _) => (
                "AI_PROVIDER_RATE_LIMITED",
                StatusCode::TOO_MANY_REQUESTS,
                "the provider is rate-limiting you: wait and try again",
            ),
            (400..=499, _) => (
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
            retries = self.retries,
            "provider returned an error"
        );
        // Only a known provider's own error message is quoted, and only its message field,
        // bounded and cleaned: the body of an arbitrary URL could be anything the server can
        // reach. A redirect's body is never quoted: it describes where the redirect points.
        let said = body
            .as_ref()
            .filter(|_| !status.is_redirection())
            .and_then(|body| quote(self.kind, body, self.key));
        let message = match said {
            Some(said) => format!("{what} (status {}: {said})", status.as_u16()),
            None => format!("{what} (status {})", status.as_u16()),
        };
        // A client told to come back gets a time to come back at, even when the provider
        // gave none.
        let retry_after = match retry_after {
            Some(wait) => Some(wait),
            None if code == "AI_PROVIDER_RATE_LIMITED" => Some(self.policy.retry_max_wait),
            None => None,
        };
        LlmError::Upstream {
            code,
            status: ours,
            message,
            retry_after,
        }
    }

    /// Reads the rest of a body, at most `limit` bytes, under the idle and total timeouts.
    async fn read_all(&self, opened: Opened, limit: usize) -> Result<Vec<u8>, LlmError> {
        let Opened {
            mut response,
            first,
        } = opened;
        let mut body = first.map(|b| b.to_vec()).unwrap_or_default();
        loop {
            if body.len() > limit {
                return Err(upstream_error(
                    "AI_UPSTREAM_TOO_LARGE",
                    StatusCode::BAD_GATEWAY,
                    format!(
                        "the provider's answer is larger than {} MiB: ask for less",
                        limit >> 20
                    ),
                ));
            }
            let idle_by = (Instant::now() + self.policy.idle).min(self.deadline);
            match timeout_at(idle_by, response.chunk()).await {
                Err(_) => {
                    let message = if idle_by >= self.deadline {
                        format!(
                            "the provider did not finish its answer within {} ms: ask for less, or try again later",
                            self.policy.total.as_millis()
                        )
                    } else {
                        format!(
                            "the provider stopped sending for {} ms: try again later",
                            self.policy.idle.as_millis()
                        )
                    };
                    return Err(upstream_error(
                        "AI_UPSTREAM_TIMEOUT",
                        StatusCode::GATEWAY_TIMEOUT,
                        message,
                    ));
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e.without_url(), "provider body broke");
                    return Err(upstream_error(
                        "AI_UPSTREAM_INCOMPLETE",
                        StatusCode::BAD_GATEWAY,
                        "the provider's answer broke off before it was complete: try again".into(),
                    ));
                }
                Ok(Ok(None)) => return Ok(body),
                Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
            }
        }
    }
}

/// A committed stream on its way to the client: the upstream body, the shaper, and the
/// ledger that closes the call when the stream ends or is dropped.
struct Relay {
    /// `None` once the upstream has ended or failed; dropping it closes the connection.
    upstream: Option<BoxStream<'static, reqwest::Result<Bytes>>>,
    /// The first chunk, already shaped.
    first: Option<Bytes>,
    shaper: Box<dyn Shaper>,
    ledger: Ledger,
    key: PlainKey,
    policy: Policy,
    deadline: Instant,
    /// When the last upstream chunk arrived.
    last: Instant,
}

impl Relay {
    /// The next bytes for the client, or `None` when the stream is over.
    async fn next(&mut self) -> Option<Bytes> {
        if let Some(first) = self.first.take().filter(|b| !b.is_empty()) {
            self.ledger.answered = true;
            if self.shaper.complete() {
                self.ledger.end("ok");
            }
            return Some(first);
        }
        loop {
            let upstream = self.upstream.as_mut()?;
            let idle_by = (Instant::now() + self.policy.idle).min(self.deadline);
            let next = match timeout_at(idle_by, upstream.next()).await {
                Err(_) if idle_by >= self.deadline => {
                    let message = format!(
                        "the provider did not finish within {} ms: ask for less, or try again later",
                        self.policy.total.as_millis()
                    );
                    return Some(self.fail("AI_STREAM_TOTAL_TIMEOUT", message));
                }
                Err(_) => {
                    let message = format!(
                        "the provider sent nothing for {} ms: try again later",
                        self.policy.idle.as_millis()
                    );
                    return Some(self.fail("AI_STREAM_IDLE_TIMEOUT", message));
                }
                Ok(next) => next,
            };
            let shaped = match next {
                Some(Ok(chunk)) => {
                    self.ledger.metrics.llm_chunk_gap(self.last.elapsed());
                    self.last = Instant::now();
                    self.shaper.feed(&chunk)
                }
                Some(Err(e)) => {
                    tracing::warn!(error = %e.without_url(), "provider stream broke");
                    let message =
                        "the connection to the provider broke before the answer was complete: try again";
                    return Some(self.fail("AI_STREAM_INCOMPLETE", message.into()));
                }
                None => {
                    self.upstream = None;
                    let tail = self.shaper.finish();
                    if tail.is_ok() {
                        self.ledger.usage = self.shaper.usage().or(self.ledger.usage);
                        self.ledger.end("ok");
                    }
                    tail
                }
            };
            self.ledger.usage = self.shaper.usage().or(self.ledger.usage);
            match shaped {
                Ok(bytes) if bytes.is_empty() => continue,
                Ok(bytes) => {
                    self.ledger.answered = true;
                    // The end marker went out: the client has the whole answer, so a
                    // connection it closes from now on is not a cancelled call.
                    if self.shaper.complete() {
                        self.ledger.end("ok");
                    }
                    return Some(bytes);
                }
                Err(fault) => {
                    let (code, _, _) = fault_code(&fault);
                    let message = fault_message(&fault, self.ledger.kind, &self.key);
                    return Some(self.fail(code, message));
                }
            }
        }
    }

    /// Ends the stream with an in-band error event: the last bytes the client gets.
    fn fail(&mut self, code: &'static str, message: String) -> Bytes {
        self.upstream = None;
        self.ledger.end(code);
        tracing::warn!(code, %message, "llm stream failed");
        let event = serde_json::json!({ "error": { "code": code, "message": message } });
        Bytes::from(format!("data: {event}\n\n"))
    }
}

/// The in-band code of a stream fault, and the code and status it has as an HTTP error when
/// it happens before the client's first byte.
fn fault_code(fault: &StreamFault) -> (&'static str, &'static str, StatusCode) {
    match fault {
        StreamFault::Malformed(_) => (
            "AI_STREAM_MALFORMED",
            "AI_UPSTREAM_MALFORMED",
            StatusCode::BAD_GATEWAY,
        ),
        StreamFault::Incomplete => (
            "AI_STREAM_INCOMPLETE",
            "AI_UPSTREAM_INCOMPLETE",
            StatusCode::BAD_GATEWAY,
        ),
        StreamFault::Provider(_) => (
            "AI_STREAM_PROVIDER_ERROR",
            "AI_PROVIDER_UNAVAILABLE",
            StatusCode::BAD_GATEWAY,
        ),
    }
}

/// A stream fault before the client's first byte, as an HTTP error.
fn early_fault(fault: StreamFault, kind: ProviderKind, key: &PlainKey) -> LlmError {
    let (_, code, status) = fault_code(&fault);
    upstream_error(code, status, fault_message(&fault, kind, key))
}

/// What the client hears of a stream fault: a known provider's details as an [`excerpt`];
/// for an OpenAI-compatible URL only what kind of fault it was, since its body could be
/// anything the server can reach.
fn fault_message(fault: &StreamFault, kind: ProviderKind, key: &PlainKey) -> String {
    let text = match (kind, fault) {
        (ProviderKind::Compatible, StreamFault::Malformed(_)) => {
            "the provider sent an unreadable stream event".to_string()
        }
        (ProviderKind::Compatible, StreamFault::Provider(_)) => {
            "the provider reported an error".to_string()
        }
        _ => excerpt(&fault.to_string(), key),
    };
    format!("{text}: try again")
}

fn malformed(e: &serde_json::Error) -> LlmError {
    upstream_error(
        "AI_UPSTREAM_MALFORMED",
        StatusCode::BAD_GATEWAY,
        format!("the provider sent an answer that is not JSON ({e}): try again, or check the provider's base URL"),
    )
}

/// The message in a provider's error body: OpenAI's and Anthropic's `error.message`, a bare
/// `error` string, or a top-level `message`.
fn provider_message(body: &Value) -> Option<&str> {
    body.pointer("/error/message")
        .or_else(|| body.get("error").filter(|e| e.is_string()))
        .or_else(|| body.get("message"))
        .and_then(Value::as_str)
}

/// What a known provider said, for quoting in our message: its error message, cleaned by
/// [`excerpt`]. An OpenAI-compatible base URL can be anything, so nothing of its body is
/// quoted.
fn quote(kind: ProviderKind, body: &Value, key: &PlainKey) -> Option<String> {
    if kind == ProviderKind::Compatible {
        return None;
    }
    let said = excerpt(provider_message(body)?, key);
    (!said.is_empty()).then_some(said)
}

/// At most 200 characters of `text`, control characters and runs of white space collapsed to
/// one space, and the key replaced.
fn excerpt(text: &str, key: &PlainKey) -> String {
    let cleaned: String = scrub(text, key)
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    match cleaned.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &cleaned[..at]),
        None => cleaned,
    }
}

/// A refusal that has a code of its own: the request does not fit the model's context, or
/// the provider's content policy refused it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    TokenLimit,
    ContentPolicy,
}

/// Recognises a refusal in a provider's error body: by OpenAI's `error.code`
/// (`context_length_exceeded`, `content_policy_violation`, `content_filter`), else by the
/// wording OpenAI, Anthropic, vLLM, llama.cpp and OpenRouter use in the message.
fn refusal_kind(body: &Value) -> Option<Refusal> {
    let error = body.get("error").unwrap_or(body);
    let code = ["code", "type"]
        .iter()
        .filter_map(|field| error.get(*field).and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    let message = provider_message(body)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let token_words = [
        "context_length_exceeded",
        "context length",
        "context window",
        "context size",
        "maximum context",
        "prompt is too long",
        "too many tokens",
        "exceeds the available context",
    ];
    let policy_words = [
        "content_policy_violation",
        "content_filter",
        "content policy",
        "content management policy",
        "safety system",
        "flagged as potentially violating",
    ];
    let said = |words: &[&str]| {
        words
            .iter()
            .any(|w| code.contains(w) || message.contains(w))
    };
    if said(&token_words) {
        Some(Refusal::TokenLimit)
    } else if said(&policy_words) {
        Some(Refusal::ContentPolicy)
    } else {
        None
    }
}

/// `text` with the key replaced, for messages that quote a provider.
fn scrub(text: &str, key: &PlainKey) -> String {
    if key.expose().len() >= 8 {
        text.replace(key.expose(), "[redacted]")
    } else {
        text.to_string()
    }
}

fn upstream_error(code: &'static str, status: StatusCode, message: String) -> LlmError {
    LlmError::Upstream {
        code,
        status,
        message,
        retry_after: None,
    }
}

fn transport_error(e: reqwest::Error) -> LlmError {
    // reqwest's messages name the URL; the log needs no URL (some providers take keys in it).
    let e = e.without_url();
    if e.is_timeout() {
        upstream_error(
            "AI_UPSTREAM_TIMEOUT",
            StatusCode::GATEWAY_TIMEOUT,
            "the provider timed out: try again later".into(),
        )
    } else if e.is_connect() {
        tracing::warn!(error = %e, "provider unreachable");
        upstream_error(
            "AI_UPSTREAM_UNREACHABLE",
            StatusCode::BAD_GATEWAY,
            "the provider could not be reached: check its base URL under Settings".into(),
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

/// Closes a call when dropped, however it ended: corrects the rate limiter's token charge,
/// records the metrics and writes the call's one log line. A call dropped without an outcome
/// was left by its client (hyper drops the handler or the response body when the connection
/// closes), so it counts as cancelled.
struct Ledger {
    limiter: Arc<RateLimiter>,
    metrics: Arc<Metrics>,
    user: Uuid,
    provider: Uuid,
    kind: ProviderKind,
    stream: bool,
    charged: u64,
    started: Instant,
    first_byte: Option<Duration>,
    retries: u32,
    /// Whether any of the answer reached the client.
    answered: bool,
    usage: Option<Usage>,
    /// `ok`, or the code the call failed with; the first one set stays.
    outcome: Option<&'static str>,
}

impl Ledger {
    fn end(&mut self, outcome: &'static str) {
        self.outcome.get_or_insert(outcome);
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        let cancelled = self.outcome.is_none();
        let outcome = self.outcome.unwrap_or("client_cancelled");
        let actual = match self.usage {
            Some(u) => u.total_tokens.max(u.prompt_tokens + u.completion_tokens),
            // Output went out but was not counted: the estimate stands.
            None if self.answered => self.charged,
            None => 0,
        };
        self.limiter.settle(self.user, self.charged, actual);
        let elapsed = self.started.elapsed();
        if cancelled {
            self.metrics.client_cancelled();
        }
        if outcome.starts_with("AI_") {
            self.metrics.upstream_error(outcome);
        }
        if let Some(u) = self.usage {
            self.metrics.tokens(u.prompt_tokens, u.completion_tokens);
        }
        self.metrics
            .llm_call(self.kind.as_str(), self.stream, outcome, elapsed);
        let usage = self.usage.unwrap_or_default();
        tracing::info!(
            user = %self.user,
            provider = %self.provider,
            kind = self.kind.as_str(),
            stream = self.stream,
            outcome,
            first_byte_ms = self.first_byte.map(|d| d.as_millis() as u64),
            total_ms = elapsed.as_millis() as u64,
            retries = self.retries,
            prompt_tokens = usage.prompt_tokens,
            completion_tokens = usage.completion_tokens,
            total_tokens = actual,
            "llm call finished"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(retries: u32) -> Policy {
        let ms = Duration::from_millis;
        Policy {
            connect: ms(1000),
            first_byte: ms(1000),
            idle: ms(1000),
            total: ms(10_000),
            retries,
            retry_base: ms(100),
            retry_max_wait: ms(1000),
        }
    }

    #[test]
    fn backoff_is_full_jitter_under_a_doubling_ceiling() {
        let ms = Duration::from_millis;
        let check = |attempt, unit, expected| {
            assert_eq!(
                backoff(ms(100), ms(1000), attempt, unit),
                expected,
                "attempt {attempt}, draw {unit}"
            );
        };
        check(0, 0.0, ms(0));
        check(0, 0.5, ms(50));
        check(1, 0.5, ms(100));
        check(2, 0.5, ms(200));
        check(3, 0.75, ms(600));
        check(4, 0.5, ms(500));
        check(40, 1.0, ms(1000));
        check(2, 7.0, ms(400));
    }

    #[test]
    fn retry_wait_honours_retry_after_and_the_retry_count() {
        let ms = Duration::from_millis;
        let p = policy(2);
        assert_eq!(p.retry_wait(0, None, 0.5), Some(ms(50)));
        assert_eq!(p.retry_wait(1, None, 0.5), Some(ms(100)));
        assert_eq!(p.retry_wait(2, None, 0.5), None, "retries used up");
        assert_eq!(p.retry_wait(0, Some(ms(700)), 0.5), Some(ms(700)));
        assert_eq!(p.retry_wait(0, Some(ms(1000)), 0.5), Some(ms(1000)));
        assert_eq!(
            p.retry_wait(0, Some(ms(1001)), 0.5),
            None,
            "too long to wait"
        );
        assert_eq!(policy(0).retry_wait(0, None, 0.5), None);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        let check = |value, expected: Option<u64>| {
            assert_eq!(
                parse_retry_after(value, now),
                expected.map(Duration::from_secs),
                "{value}"
            );
        };
        check("120", Some(120));
        check(" 0 ", Some(0));
        check("Sun, 06 Nov 1994 08:49:37 GMT", Some(0));
        check("Sun, 06 Nov 1994 08:50:07 GMT", Some(30));
        check("Thu, 01 Jan 1970 00:00:00 GMT", Some(0));
        check("Mon, 07 Nov 1994 08:49:37 GMT", Some(86_400));
        check(
            "Wed, 01 Mar 1995 00:00:00 GMT",
            Some(794_016_000 - 784_111_777),
        );
        check("-3", None);
        check("soon", None);
        check("Sun, 06 Nov 1994 08:49:37 UTC", None);
        check("Sun, 06 Foo 1994 08:49:37 GMT", None);
    }

    #[test]
    fn only_known_providers_are_quoted_and_only_their_message_field() {
        let key = PlainKey::new("sk-secret-1234".into());
        let check = |kind, body: Value, expected: Option<&str>| {
            assert_eq!(quote(kind, &body, &key).as_deref(), expected, "{body}");
        };
        let openai = ProviderKind::OpenAi;
        check(
            openai,
            serde_json::json!({ "error": { "message": "bad key sk-secret-1234" } }),
            Some("bad key [redacted]"),
        );
        check(
            openai,
            serde_json::json!({ "error": "overloaded" }),
            Some("overloaded"),
        );
        check(
            ProviderKind::Anthropic,
            serde_json::json!({ "message": "nope\n\u{1b}[31m  red" }),
            Some("nope [31m red"),
        );
        check(
            openai,
            serde_json::json!({ "detail": 1, "secret": "x" }),
            None,
        );
        check(
            openai,
            serde_json::json!({ "error": { "message": "  " } }),
            None,
        );
        check(
            ProviderKind::Compatible,
            serde_json::json!({ "error": { "message": "internal: db password" } }),
            None,
        );
        let long = "x".repeat(500);
        let quoted = quote(openai, &serde_json::json!({ "message": long }), &key).expect("quoted");
        assert_eq!(
            quoted.chars().count(),
            201,
            "200 characters and an ellipsis"
        );
    }

    #[test]
    fn recognises_context_and_content_refusals() {
        let check = |body: Value, expected: Option<Refusal>| {
            assert_eq!(refusal_kind(&body), expected, "{body}");
        };
        check(
            serde_json::json!({ "error": { "message": "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.", "type": "invalid_request_error", "code": "context_length_exceeded" } }),
            Some(Refusal::TokenLimit),
        );
        check(
            serde_json::json!({ "type": "error", "error": { "type": "invalid_request_error", "message": "prompt is too long: 210000 tokens > 200000 maximum" } }),
            Some(Refusal::TokenLimit),
        );
        check(
            serde_json::json!({ "object": "error", "message": "This model's maximum context length is 4096 tokens.", "type": "BadRequestError", "code": 400 }),
            Some(Refusal::TokenLimit),
        );
        check(
            serde_json::json!({ "error": { "code": "content_policy_violation", "message": "Your request was rejected as a result of our safety system." } }),
            Some(Refusal::ContentPolicy),
        );
        check(
            serde_json::json!({ "error": { "code": "content_filter", "message": "The response was filtered" } }),
            Some(Refusal::ContentPolicy),
        );
        check(
            serde_json::json!({ "error": { "message": "Invalid value for 'temperature'" } }),
            None,
        );
    }
}
