//! A fake OpenAI-compatible provider for tests and demos: `/v1/chat/completions` (streamed and
//! not) and `/v1/models`, answering from a script, and failing on request.
//!
//! A *script* is a list of rules; the first rule whose `when_contains` occurs in the last user
//! message (ignoring case; an empty string matches everything) gives the reply. Streams are cut
//! into chunks of `chunk_chars` characters sent `chunk_delay` apart, as real providers do, so
//! progress is visible. With `expect_key` set, a request without that bearer key gets the 401
//! a real provider would send. Every request is recorded for tests to inspect.
//!
//! *Directives* in the model name, after `?`, make one request fail in a chosen way, e.g.
//! `fake-model?status=503&times=1` (see [`Directives`]). A *chunk* is one piece of the body
//! as sent: one SSE event of a stream, or one `chunk_chars` slice of a non-streamed body that
//! a directive asked to send in pieces. A stream dropped before it finished (the client went
//! away) is counted in [`Fake::cancelled`].
//!
//! It is a crate of its own, depending on none of the server, so that the demo's provider
//! builds in under a minute; the server's tests and benchmarks use it as a dev-dependency.

pub mod anthropic;

use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

/// One scripted answer.
#[derive(Clone, Debug, Deserialize)]
pub struct Rule {
    #[serde(default)]
    pub when_contains: String,
    pub reply: String,
}

/// The rules, tried in order.
#[derive(Clone, Debug, Deserialize)]
pub struct Script {
    pub rules: Vec<Rule>,
}

impl Script {
    /// The demo script: a lending-library model first, and the change set that adds an audit
    /// log (and a few other changes) when the instruction asks for "audit log".
    pub fn demo() -> Self {
        let v1 = include_str!("../../../model/tests/data/library-v1.json");
        let v2 = include_str!("../../../model/tests/data/library-v2-changes.json");
        Script {
            rules: vec![
                Rule {
                    when_contains: "audit log".into(),
                    reply: format!(
                        "Here are the changes for an audit log.\n\n```json\n{v2}\n```\n"
                    ),
                },
                Rule {
                    when_contains: String::new(),
                    reply: format!("Here is a first draft of the model.\n\n```json\n{v1}\n```\n"),
                },
            ],
        }
    }

    /// The reply to `prompt`, if a rule matches.
    pub fn reply_for(&self, prompt: &str) -> Option<&str> {
        let prompt = prompt.to_lowercase();
        self.rules
            .iter()
            .find(|r| {
                r.when_contains.is_empty() || prompt.contains(&r.when_contains.to_lowercase())
            })
            .map(|r| r.reply.as_str())
    }
}

/// How the fake behaves.
#[derive(Clone, Debug)]
pub struct FakeOptions {
    pub script: Script,
    pub chunk_chars: usize,
    pub chunk_delay: Duration,
    pub expect_key: Option<String>,
    /// Keep every request in `Fake::requests` for tests to inspect; the program turns it off,
    /// so that a long load run neither grows in memory nor queues on the lock.
    pub record: bool,
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            script: Script::demo(),
            chunk_chars: 48,
            chunk_delay: Duration::from_millis(15),
            expect_key: None,
            record: true,
        }
    }
}

/// A request as the fake received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub authorization: Option<String>,
    pub body: Value,
}

/// The fake's state: options, the requests seen so far, and the streams its clients left.
#[derive(Debug)]
pub struct Fake {
    pub options: FakeOptions,
    pub requests: Mutex<Vec<Recorded>>,
    /// Response bodies dropped before they finished: the client closed the connection.
    pub cancelled: AtomicUsize,
    /// Requests seen per exact model string, for `times`.
    seen: Mutex<HashMap<String, u32>>,
}

/// Failure modes for one request, read from its model name after `?`
/// (`fake-model?status=429&retry_after=1&times=1`). Unknown names and unreadable values are
/// ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directives {
    /// `status=N`: answer with this status and an error body.
    pub status: Option<u16>,
    /// `times=N`: fail only the first N requests with this exact model string.
    pub times: Option<u32>,
    /// `retry_after=S`: send `Retry-After: S` (with a 429 unless `status` says otherwise).
    pub retry_after: Option<u64>,
    /// `first_byte_ms=N`: wait this long before the response headers.
    pub first_byte: Option<Duration>,
    /// `drip_ms=N`: wait this long between chunks.
    pub drip: Option<Duration>,
    /// `reset_after=N`: send N chunks, then abort the connection.
    pub reset_after: Option<usize>,
    /// `malformed_after=N`: the N-th chunk's JSON is broken (counting from 1); a non-streamed
    /// body is broken JSON.
    pub malformed_after: Option<usize>,
    /// `cut_after=N`: end the body cleanly after N chunks, without `[DONE]`.
    pub cut_after: Option<usize>,
    /// `linger_ms=N`: keep the body open this long after the last chunk, as a provider
    /// that closes its connection a while after `[DONE]` does.
    pub linger: Option<Duration>,
    /// `location=URL`: send `Location: URL` (with a 307 unless `status` says otherwise), as a
    /// provider that redirects elsewhere would; the rest of the model name after it is the URL.
    pub location: Option<String>,
    /// `error_code=CODE`: put `"code": CODE` in the error body, as OpenAI does for
    /// `context_length_exceeded` or `content_policy_violation`.
    pub error_code: Option<String>,
}

/// Reads the directives in a model name.
pub fn directives(model: &str) -> Directives {
    let mut d = Directives::default();
    let Some((_, query)) = model.split_once('?') else {
        return d;
    };
    let query = match query.split_once("location=") {
        Some((before, url)) => {
            d.location = Some(url.to_string());
            before
        }
        None => query,
    };
    for pair in query.split('&') {
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        let number = value.trim().parse::<u64>().ok();
        let ms = number.map(Duration::from_millis);
        let count = number.and_then(|n| usize::try_from(n).ok());
        match name.trim() {
            "status" => d.status = number.and_then(|n| u16::try_from(n).ok()),
            "times" => d.times = number.and_then(|n| u32::try_from(n).ok()),
            "retry_after" => d.retry_after = number,
            "first_byte_ms" => d.first_byte = ms,
            "drip_ms" => d.drip = ms,
            "reset_after" => d.reset_after = count,
            "malformed_after" => d.malformed_after = count,
            "cut_after" => d.cut_after = count,
            "linger_ms" => d.linger = ms,
            "error_code" => d.error_code = Some(value.trim().to_string()),
            _ => {}
        }
    }
    d
}

impl Directives {
    /// The error status to answer with: `status`, or 429 when only `retry_after` is given, or
    /// 307 when only `location` is.
    pub fn failure_status(&self) -> Option<StatusCode> {
        match (self.status, self.retry_after, &self.location) {
            (Some(status), _, _) => StatusCode::from_u16(status).ok(),
            (None, Some(_), _) => Some(StatusCode::TOO_MANY_REQUESTS),
            (None, None, Some(_)) => Some(StatusCode::TEMPORARY_REDIRECT),
            (None, None, None) => None,
        }
    }

    /// Waits `first_byte`, if set.
    pub async fn wait_first_byte(&self) {
        if let Some(wait) = self.first_byte {
            tokio::time::sleep(wait).await;
        }
    }

    /// Whether the body goes out in pieces (a directive acts on its chunks).
    fn chunked(&self) -> bool {
        self.drip.is_some()
            || self.reset_after.is_some()
            || self.cut_after.is_some()
            || self.linger.is_some()
    }
}

impl Fake {
    /// The directives that apply to this request: those in `model`, or none once `times`
    /// requests with this exact model string have had them. Counts the request.
    pub fn active(&self, model: &str) -> Directives {
        let d = directives(model);
        let Some(times) = d.times else {
            return d;
        };
        let Ok(mut seen) = self.seen.lock() else {
            return d;
        };
        let n = seen.entry(model.to_string()).or_default();
        *n += 1;
        if *n <= times {
            d
        } else {
            Directives::default()
        }
    }

    /// Keeps a request in `requests`, unless recording is off.
    fn record(&self, authorization: Option<String>, body: &Value) {
        if let Some(mut requests) = self
            .options
            .record
            .then(|| self.requests.lock().ok())
            .flatten()
        {
            requests.push(Recorded {
                authorization,
                body: body.clone(),
            });
        }
    }

    /// Wraps a response body so that dropping it before its end counts in `cancelled`. The
    /// body ends at its last item or at its first error.
    pub fn track<T, E>(
        self: &Arc<Self>,
        body: impl Stream<Item = Result<T, E>> + Send + 'static,
    ) -> impl Stream<Item = Result<T, E>> + Send + 'static
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        /// Counts a drop before the end.
        struct Guard {
            fake: Arc<Fake>,
            finished: bool,
        }
        impl Drop for Guard {
            fn drop(&mut self) {
                if !self.finished {
                    self.fake.cancelled.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        let guard = Guard {
            fake: self.clone(),
            finished: false,
        };
        futures::stream::unfold(
            (Box::pin(body), guard),
            |(mut body, mut guard)| async move {
                if guard.finished {
                    return None;
                }
                match body.next().await {
                    None => {
                        guard.finished = true;
                        drop(guard);
                        None
                    }
                    Some(Err(e)) => {
                        guard.finished = true;
                        Some((Err(e), (body, guard)))
                    }
                    Some(Ok(item)) => Some((Ok(item), (body, guard))),
                }
            },
        )
    }

    /// A streamed answer of SSE `events`, chunk-delayed as configured, with the event that
    /// `malformed_after` names replaced by `broken`; `failed` is the answer if the response
    /// cannot be built.
    fn event_stream(
        self: &Arc<Self>,
        mut events: Vec<String>,
        broken: &str,
        d: &Directives,
        failed: impl FnOnce() -> Response,
    ) -> Response {
        if let Some(n) = d.malformed_after.filter(|n| (1..=events.len()).contains(n)) {
            events[n - 1] = broken.to_string();
        }
        Response::builder()
            .header(header::CONTENT_TYPE, "text/event-stream")
            .header(header::CACHE_CONTROL, "no-cache")
            .body(self.pieces_body(events, self.options.chunk_delay, d))
            .unwrap_or_else(|_| failed())
    }

    /// A non-streamed answer: broken in half for `malformed_after`, sent in `chunk_chars`
    /// pieces when a directive acts on its chunks; `failed` is the answer if the response
    /// cannot be built.
    fn whole(
        self: &Arc<Self>,
        answer: String,
        d: &Directives,
        failed: impl FnOnce() -> Response,
    ) -> Response {
        let answer = if d.malformed_after.is_some() {
            answer[..answer.len() / 2].to_string()
        } else {
            answer
        };
        if !d.chunked() {
            return ([(header::CONTENT_TYPE, "application/json")], answer).into_response();
        }
        let chars: Vec<char> = answer.chars().collect();
        let pieces = chars
            .chunks(self.options.chunk_chars.max(1))
            .map(|piece| piece.iter().collect())
            .collect();
        Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(self.pieces_body(pieces, Duration::ZERO, d))
            .unwrap_or_else(|_| failed())
    }

    /// Sends `pieces` as a body, honouring `drip`, `reset_after` and `cut_after`;
    /// `delay` is the gap between pieces when `drip` is not set.
    fn pieces_body(self: &Arc<Self>, pieces: Vec<String>, delay: Duration, d: &Directives) -> Body {
        let delay = d.drip.unwrap_or(delay);
        let (reset_after, cut_after, linger) = (d.reset_after, d.cut_after, d.linger);
        let pieces = futures::stream::unfold(
            (pieces.into_iter(), 0usize),
            move |(mut pieces, sent)| async move {
                if sent > 0 && !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                if reset_after == Some(sent) {
                    if delay.is_zero() {
                        // Let the pieces before the reset reach the client first.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    let reset = std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "the fake provider resets the connection (reset_after)",
                    );
                    return Some((Err(reset), (pieces, sent + 1)));
                }
                if cut_after == Some(sent) {
                    return None;
                }
                let Some(piece) = pieces.next() else {
                    if let Some(linger) = linger {
                        tokio::time::sleep(linger).await;
                    }
                    return None;
                };
                Some((Ok(piece), (pieces, sent + 1)))
            },
        );
        Body::from_stream(self.track(pieces))
    }
}

/// The fake's router.
pub fn router(options: FakeOptions) -> (Router, Arc<Fake>) {
    let fake = Arc::new(Fake {
        options,
        requests: Mutex::new(Vec::new()),
        cancelled: AtomicUsize::new(0),
        seen: Mutex::new(HashMap::new()),
    });
    let router = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/models", get(models))
        .merge(anthropic::routes())
        .with_state(fake.clone());
    (router, fake)
}

/// An OpenAI-style error answer, with `Retry-After` if given.
pub fn openai_error(status: StatusCode, message: &str, retry_after: Option<u64>) -> Response {
    let kind = match status.as_u16() {
        401 => "authentication_error",
        429 => "rate_limit_error",
        500..=599 => "server_error",
        _ => "invalid_request_error",
    };
    let mut response = (
        status,
        Json(json!({ "error": { "message": message, "type": kind } })),
    )
        .into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, seconds.into());
    }
    response
}

fn error(status: StatusCode, message: &str) -> Response {
    openai_error(status, message, None)
}

/// Whether the request carries the expected key, as a bearer token or (Anthropic's way) as
/// `x-api-key`.
fn key_ok(fake: &Fake, headers: &HeaderMap) -> bool {
    let Some(expected) = &fake.options.expect_key else {
        return true;
    };
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    header(header::AUTHORIZATION.as_str()) == Some(&format!("Bearer {expected}"))
        || header("x-api-key") == Some(expected)
}

async fn models(State(fake): State<Arc<Fake>>, headers: HeaderMap) -> Response {
    if !key_ok(&fake, &headers) {
        return error(StatusCode::UNAUTHORIZED, "Incorrect API key provided");
    }
    if headers.contains_key("anthropic-version") {
        let model = json!({
            "type": "model", "id": "fake-model", "display_name": "Fake Model",
            "created_at": "2025-01-01T00:00:00Z",
        });
        return Json(json!({
            "data": [model], "has_more": false, "first_id": "fake-model", "last_id": "fake-model",
        }))
        .into_response();
    }
    Json(json!({
        "object": "list",
        "data": [{ "id": "fake-model", "object": "model", "owned_by": "data-modeller" }],
    }))
    .into_response()
}

async fn chat(State(fake): State<Arc<Fake>>, headers: HeaderMap, body: String) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Ok(body) = serde_json::from_str::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "the body is not JSON");
    };
    fake.record(authorization, &body);
    if !key_ok(&fake, &headers) {
        return error(StatusCode::UNAUTHORIZED, "Incorrect API key provided");
    }
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("fake-model")
        .to_string();
    let d = fake.active(&model);
    d.wait_first_byte().await;
    if let Some(status) = d.failure_status() {
        let message = format!("the fake provider fails with {} as asked", status.as_u16());
        let mut response = match &d.error_code {
            Some(code) => {
                let body = json!({ "error": { "message": message, "type": "invalid_request_error", "code": code } });
                (status, Json(body)).into_response()
            }
            None => openai_error(status, &message, d.retry_after),
        };
        if let Some(value) = d
            .location
            .as_deref()
            .and_then(|url| header::HeaderValue::from_str(url).ok())
        {
            response.headers_mut().insert(header::LOCATION, value);
        }
        return response;
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return error(StatusCode::BAD_REQUEST, "messages is required");
    };
    let prompt = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .and_then(|m| m.get("content").and_then(Value::as_str))
        .unwrap_or_default();
    let Some(reply) = fake.options.script.reply_for(prompt).map(str::to_string) else {
        return error(
            StatusCode::BAD_REQUEST,
            "the fake provider's script has no reply for this prompt",
        );
    };
    let prompt_chars: usize = messages
        .iter()
        .filter_map(|m| m.get("content")?.as_str())
        .map(str::len)
        .sum();
    let usage = json!({
        "prompt_tokens": prompt_chars / 4,
        "completion_tokens": reply.len() / 4,
        "total_tokens": prompt_chars / 4 + reply.len() / 4,
    });
    let chunk_chars = fake.options.chunk_chars.max(1);
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    if !stream {
        let answer = json!({
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "model": model,
            "choices": [{ "index": 0, "message": { "role": "assistant", "content": reply }, "finish_reason": "stop" }],
            "usage": usage,
        })
        .to_string();
        return fake.whole(answer, &d, || {
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not build the body",
            )
        });
    }
    let include_usage = body
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let events = stream_events(&reply, &model, chunk_chars, include_usage.then_some(usage));
    fake.event_stream(
        events,
        "data: {\"id\": \"chatcmpl-fake\", \"choices\": [{\"delta\": {\"content\": \"bro\n\n",
        &d,
        || {
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not build the stream",
            )
        },
    )
}

/// The SSE events of a streamed answer: the role, the reply in pieces of `chunk_chars`, the
/// finish reason, the usage if asked for, and `[DONE]`.
fn stream_events(
    reply: &str,
    model: &str,
    chunk_chars: usize,
    usage: Option<Value>,
) -> Vec<String> {
    let chunk = |delta: Value, finish: Value| {
        let event = json!({
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model,
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
        });
        format!("data: {event}\n\n")
    };
    let chars: Vec<char> = reply.chars().collect();
    let mut events = vec![chunk(
        json!({ "role": "assistant", "content": "" }),
        Value::Null,
    )];
    events.extend(chars.chunks(chunk_chars).map(|piece| {
        chunk(
            json!({ "content": piece.iter().collect::<String>() }),
            Value::Null,
        )
    }));
    events.push(chunk(json!({}), json!("stop")));
    if let Some(usage) = usage {
        let event = json!({ "id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model, "choices": [], "usage": usage });
        events.push(format!("data: {event}\n\n"));
    }
    events.push("data: [DONE]\n\n".to_string());
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_are_read_from_the_model_name() {
        assert_eq!(directives("fake-model"), Directives::default());
        assert_eq!(
            directives("fake-model?status=503&times=1&retry_after=2&first_byte_ms=30&drip_ms=5&reset_after=3&malformed_after=4&cut_after=5&linger_ms=7&nonsense=1&status2"),
            Directives {
                status: Some(503),
                times: Some(1),
                retry_after: Some(2),
                first_byte: Some(Duration::from_millis(30)),
                drip: Some(Duration::from_millis(5)),
                reset_after: Some(3),
                malformed_after: Some(4),
                cut_after: Some(5),
                linger: Some(Duration::from_millis(7)),
                location: None,
                error_code: None,
            }
        );
        assert_eq!(directives("m?status=abc").status, None);
        assert_eq!(
            directives("m?status=400&error_code=context_length_exceeded")
                .error_code
                .as_deref(),
            Some("context_length_exceeded")
        );
        // A location is the rest of the name, whatever it holds.
        let redirect = directives("m?times=1&location=http://10.0.0.1/v1/chat?a=1&b=2");
        assert_eq!(redirect.times, Some(1));
        assert_eq!(
            redirect.location.as_deref(),
            Some("http://10.0.0.1/v1/chat?a=1&b=2")
        );
        assert_eq!(
            redirect.failure_status(),
            Some(StatusCode::TEMPORARY_REDIRECT)
        );
        assert_eq!(
            directives("m?retry_after=3").failure_status(),
            Some(StatusCode::TOO_MANY_REQUESTS)
        );
    }

    #[test]
    fn times_counts_per_exact_model_string() {
        let (_, fake) = router(FakeOptions::default());
        let failing = "m?status=500&times=2";
        assert_eq!(fake.active(failing).status, Some(500));
        assert_eq!(fake.active("m?status=500&times=1").status, Some(500));
        assert_eq!(fake.active(failing).status, Some(500));
        assert_eq!(fake.active(failing), Directives::default());
        assert_eq!(fake.active("m?status=400").status, Some(400));
        assert_eq!(
            fake.active("m?status=400").status,
            Some(400),
            "no times: always"
        );
    }
}
