//! The fake provider's Anthropic side: `POST /v1/messages`, streamed and not, in the shapes of
//! Anthropic's Messages API (`GET /v1/models` answers in Anthropic's shape when the request
//! carries `anthropic-version`; see the parent module).
//!
//! It answers from the same script as the OpenAI side (the last user message picks the rule),
//! records every request in [`Fake::requests`], and checks what the real API checks and the
//! translation must get right: the `anthropic-version` header, the key in `x-api-key` (not a
//! bearer token) when `expect_key` is set, a positive `max_tokens`, and no `system` role inside
//! `messages`. Errors have Anthropic's shape, `{"type":"error","error":{"type","message"}}`.
//! A reply longer than `max_tokens` (at four characters a token) is cut, with the stop reason
//! `max_tokens`. The failure directives in the model name work as on the OpenAI side; for a
//! stream, a *chunk* is one SSE event.

use super::Fake;
use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use serde_json::{json, Value};
use std::sync::Arc;

/// Routes to merge into the fake's router.
pub fn routes() -> Router<Arc<Fake>> {
    Router::new().route("/v1/messages", post(messages))
}

/// An Anthropic-style error answer, with `Retry-After` if given.
pub fn anthropic_error(status: StatusCode, message: &str, retry_after: Option<u64>) -> Response {
    let kind = match status.as_u16() {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    };
    let mut response = (
        status,
        Json(json!({ "type": "error", "error": { "type": kind, "message": message } })),
    )
        .into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, seconds.into());
    }
    response
}

fn bad_request(message: &str) -> Response {
    anthropic_error(StatusCode::BAD_REQUEST, message, None)
}

/// The text of a message's content: a string, or the text blocks joined.
fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

async fn messages(State(fake): State<Arc<Fake>>, headers: HeaderMap, body: String) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Ok(body) = serde_json::from_str::<Value>(&body) else {
        return bad_request("the body is not JSON");
    };
    fake.record(
        header(header::AUTHORIZATION.as_str()).map(str::to_string),
        &body,
    );
    if header("anthropic-version").is_none() {
        return bad_request("anthropic-version: header is required");
    }
    if let Some(expected) = &fake.options.expect_key {
        if header("x-api-key") != Some(expected) {
            return anthropic_error(StatusCode::UNAUTHORIZED, "invalid x-api-key", None);
        }
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
        return anthropic_error(status, &message, d.retry_after);
    }
    let Some(max_tokens) = body
        .get("max_tokens")
        .and_then(Value::as_u64)
        .filter(|n| *n > 0)
    else {
        return bad_request("max_tokens: Field required");
    };
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return bad_request("messages: Field required");
    };
    if messages.iter().any(|m| {
        m.get("role").and_then(Value::as_str) != Some("user")
            && m.get("role").and_then(Value::as_str) != Some("assistant")
    }) {
        return bad_request("messages: roles must be user or assistant; put system prompts in the top-level system parameter");
    }
    let prompt = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| text_of(m.get("content")))
        .unwrap_or_default();
    let Some(reply) = fake.options.script.reply_for(&prompt).map(str::to_string) else {
        return bad_request("the fake provider's script has no reply for this prompt");
    };
    // Four characters a token, as the OpenAI side counts.
    let (reply, stop_reason) = match usize::try_from(max_tokens.saturating_mul(4)) {
        Ok(limit) if reply.chars().count() > limit => {
            (reply.chars().take(limit).collect(), "max_tokens")
        }
        _ => (reply, "end_turn"),
    };
    let prompt_chars = text_of(body.get("system")).len()
        + messages
            .iter()
            .map(|m| text_of(m.get("content")).len())
            .sum::<usize>();
    let (input_tokens, output_tokens) = (prompt_chars / 4, reply.len() / 4);
    let chunk_chars = fake.options.chunk_chars.max(1);
    if !body.get("stream").and_then(Value::as_bool).unwrap_or(false) {
        let answer = json!({
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
            "content": [{ "type": "text", "text": reply }],
            "stop_reason": stop_reason, "stop_sequence": null,
            "usage": { "input_tokens": input_tokens, "output_tokens": output_tokens },
        })
        .to_string();
        return fake.whole(answer, &d, || {
            anthropic_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not build the body",
                None,
            )
        });
    }
    let events = stream_events(
        &reply,
        &model,
        chunk_chars,
        stop_reason,
        (input_tokens, output_tokens),
    );
    fake.event_stream(
        events,
        "event: content_block_delta\ndata: {\"type\": \"content_block_delta\", \"delta\": {\"te\n\n",
        &d,
        || {
            anthropic_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not build the stream",
                None,
            )
        },
    )
}

/// The SSE events of a streamed answer, in the order the Messages API sends them:
/// `message_start`, `content_block_start`, a `ping`, one `content_block_delta` per
/// `chunk_chars` characters, `content_block_stop`, `message_delta` (stop reason and output
/// tokens) and `message_stop`. Public so that the server's tests can read it back through the
/// gateway's translation (`server/tests/anthropic.rs`).
pub fn stream_events(
    reply: &str,
    model: &str,
    chunk_chars: usize,
    stop_reason: &str,
    (input_tokens, output_tokens): (usize, usize),
) -> Vec<String> {
    let event = |data: Value| {
        format!(
            "event: {}\ndata: {data}\n\n",
            data["type"].as_str().unwrap_or("")
        )
    };
    let mut events = vec![
        event(json!({ "type": "message_start", "message": {
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": null, "stop_sequence": null,
            "usage": { "input_tokens": input_tokens, "output_tokens": 1 },
        } })),
        event(
            json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "text", "text": "" } }),
        ),
        event(json!({ "type": "ping" })),
    ];
    let chars: Vec<char> = reply.chars().collect();
    events.extend(chars.chunks(chunk_chars).map(|piece| {
        let text: String = piece.iter().collect();
        event(json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "text_delta", "text": text } }))
    }));
    events.push(event(json!({ "type": "content_block_stop", "index": 0 })));
    events.push(event(json!({
        "type": "message_delta",
        "delta": { "stop_reason": stop_reason, "stop_sequence": null },
        "usage": { "output_tokens": output_tokens },
    })));
    events.push(event(json!({ "type": "message_stop" })));
    events
}
