//! A fake OpenAI-compatible provider for tests and demos: `/v1/chat/completions` (streamed and
//! not) and `/v1/models`, answering from a script.
//!
//! A *script* is a list of rules; the first rule whose `when_contains` occurs in the last user
//! message (ignoring case; an empty string matches everything) gives the reply. Streams are cut
//! into chunks of `chunk_chars` characters sent `chunk_delay` apart, as real providers do, so
//! progress is visible. With `expect_key` set, a request without that bearer key gets the 401
//! a real provider would send. Every request is recorded for tests to inspect.

pub mod anthropic;

use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use std::{
    sync::{Arc, Mutex},
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
        let v1 = include_str!("../../../app/tests/data/library-v1.json");
        let v2 = include_str!("../../../app/tests/data/library-v2-changes.json");
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

    fn reply_for(&self, prompt: &str) -> Option<&str> {
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
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            script: Script::demo(),
            chunk_chars: 48,
            chunk_delay: Duration::from_millis(15),
            expect_key: None,
        }
    }
}

/// A request as the fake received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub authorization: Option<String>,
    pub body: Value,
}

/// The fake's state: options and the requests seen so far.
#[derive(Debug)]
pub struct Fake {
    pub options: FakeOptions,
    pub requests: Mutex<Vec<Recorded>>,
}

/// The fake's router.
pub fn router(options: FakeOptions) -> (Router, Arc<Fake>) {
    let fake = Arc::new(Fake {
        options,
        requests: Mutex::new(Vec::new()),
    });
    let router = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/models", get(models))
        .merge(anthropic::routes())
        .with_state(fake.clone());
    (router, fake)
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "message": message, "type": "invalid_request_error" } })),
    )
        .into_response()
}

async fn models() -> Json<Value> {
    Json(
        json!({ "object": "list", "data": [{ "id": "fake-model", "object": "model", "owned_by": "data-modeller" }] }),
    )
}

async fn chat(State(fake): State<Arc<Fake>>, headers: HeaderMap, body: String) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Ok(body) = serde_json::from_str::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "the body is not JSON");
    };
    if let Ok(mut requests) = fake.requests.lock() {
        requests.push(Recorded {
            authorization: authorization.clone(),
            body: body.clone(),
        });
    }
    if let Some(expected) = &fake.options.expect_key {
        if authorization.as_deref() != Some(&format!("Bearer {expected}")) {
            return error(StatusCode::UNAUTHORIZED, "Incorrect API key provided");
        }
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
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("fake-model")
        .to_string();
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
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    if !stream {
        return Json(json!({
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "model": model,
            "choices": [{ "index": 0, "message": { "role": "assistant", "content": reply }, "finish_reason": "stop" }],
            "usage": usage,
        }))
        .into_response();
    }
    let include_usage = body
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let (chunk_chars, delay) = (fake.options.chunk_chars.max(1), fake.options.chunk_delay);
    let events = async_stream(
        reply,
        model,
        chunk_chars,
        delay,
        include_usage.then_some(usage),
    );
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(events))
        .unwrap_or_else(|_| {
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not build the stream",
            )
        })
}

/// The SSE events of a streamed answer, sent `delay` apart.
fn async_stream(
    reply: String,
    model: String,
    chunk_chars: usize,
    delay: Duration,
    usage: Option<Value>,
) -> impl futures::Stream<Item = Result<String, std::convert::Infallible>> {
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
    futures::stream::iter(events.into_iter().enumerate()).then(move |(i, event)| async move {
        if i > 0 && !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Ok(event)
    })
}
