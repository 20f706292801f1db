//! Anthropic's Messages API behind the OpenAI chat-completions shape.
//!
//! The gateway speaks OpenAI's chat-completions dialect to the browser whatever the provider.
//! For a provider of kind `anthropic` the forwarder translates three things here: the
//! *request* (an OpenAI chat-completions body becomes a Messages API body,
//! [`to_messages_request`]), the *response* (a Messages API `message` becomes a
//! `chat.completion`, [`to_chat_completion`]) and the *stream* (Anthropic's named SSE events
//! become `chat.completion.chunk` events, [`StreamTranslator`]). The translation follows the
//! API version [`API_VERSION`]. A *block* is one element of a Messages API `content` array
//! (`text`, `image`, `tool_use`, `tool_result`); a *turn* is one Messages API message, which
//! may hold the blocks of several consecutive OpenAI messages of the same role.
//!
//! What a request keeps, and how:
//! - `model`, `messages`, `stream`, `top_p` are copied (`messages` translated as below);
//! - `system` and `developer` messages are joined with blank lines into the top-level `system`;
//! - consecutive `user`/`tool` messages, and consecutive `assistant` messages, are merged into
//!   one turn each, because Anthropic requires the roles to alternate; the first turn must be
//!   the user's;
//! - content parts: `text` becomes a text block, `image_url` an image block (a base64 source
//!   from a `data:` URL, else a URL source);
//! - `max_completion_tokens`, else `max_tokens`, else [`DEFAULT_MAX_TOKENS`] becomes
//!   `max_tokens`, which Anthropic requires;
//! - `temperature` is clamped to Anthropic's range 0 to 1 (OpenAI allows up to 2; a value above
//!   1 becomes 1 rather than being scaled, so the common values 0 to 1 mean the same thing on
//!   both sides);
//! - `top_k` (not OpenAI's, but sent by some clients) is copied;
//! - `stop` (a string or a list) becomes `stop_sequences`;
//! - `user` becomes `metadata.user_id`;
//! - `tools` (functions), `tool_choice`, `parallel_tool_calls`, assistant `tool_calls` and
//!   `tool` messages become Anthropic's tools, `tool_use` and `tool_result` blocks.
//!
//! What a request drops: `response_format` (Anthropic has no JSON mode; the app asks for JSON
//! in the prompt and extracts it from the text), `stream_options` (Anthropic always reports
//! usage), and every other field (`frequency_penalty`, `presence_penalty`, `seed`, `logprobs`,
//! `logit_bias`, `metadata`, `store`, message `name`s, ...), which Anthropic has no equivalent
//! for. A request that needs what cannot be translated (`n` above 1, legacy `functions`, audio
//! or file parts, an unknown role) is refused with `VAL_CHAT_REQUEST` naming the field.

use super::stream::{Shaper, StreamFault};
use super::LlmError;
use bytes::Bytes;
use eventsource_stream::{Event, EventStream};
use futures::{channel::mpsc, task::noop_waker_ref, StreamExt};
use model::wire::{ModelInfo, Usage};
use serde_json::{json, Map, Value};
use std::{
    collections::HashMap,
    convert::Infallible,
    task::{Context, Poll},
};

/// The `anthropic-version` header value the translation is written against.
pub const API_VERSION: &str = "2023-06-01";

/// The `max_tokens` sent when the client sets no limit (Anthropic requires one).
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

fn invalid(message: impl Into<String>) -> LlmError {
    LlmError::BadRequest(message.into())
}

/// Translates an OpenAI chat-completions request into a Messages API request.
pub fn to_messages_request(body: &Value) -> Result<Value, LlmError> {
    let body = body
        .as_object()
        .ok_or_else(|| invalid("the body must be a JSON object"))?;
    for legacy in ["functions", "function_call"] {
        if body.get(legacy).is_some_and(|v| !v.is_null()) {
            return Err(invalid(format!(
                "`{legacy}` is not supported for Anthropic providers: use `tools` and `tool_choice`"
            )));
        }
    }
    if body
        .get("n")
        .is_some_and(|n| !n.is_null() && n.as_u64() != Some(1))
    {
        return Err(invalid(
            "`n` must be 1 for Anthropic providers, which return one choice per call: remove it",
        ));
    }
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| invalid("the body needs a `model`: name the Anthropic model to use"))?;
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("the body needs a `messages` array"))?;

    let mut out = Map::new();
    out.insert("model".into(), json!(model));
    let (system, turns) = translate_messages(messages)?;
    if !system.is_empty() {
        out.insert("system".into(), json!(system.join("\n\n")));
    }
    out.insert("messages".into(), Value::Array(turns));
    out.insert("max_tokens".into(), json!(max_tokens(body)?));
    if let Some(t) = number(body, "temperature")? {
        // Anthropic's range is 0 to 1, OpenAI's 0 to 2: clamp rather than scale (see the
        // module documentation).
        out.insert("temperature".into(), json!(t.clamp(0.0, 1.0)));
    }
    if let Some(p) = number(body, "top_p")? {
        out.insert("top_p".into(), json!(p));
    }
    if let Some(k) = body.get("top_k").filter(|v| !v.is_null()) {
        let k = k
            .as_u64()
            .ok_or_else(|| invalid("`top_k` must be a whole number"))?;
        out.insert("top_k".into(), json!(k));
    }
    let stops = stop_sequences(body.get("stop"))?;
    if !stops.is_empty() {
        out.insert("stop_sequences".into(), json!(stops));
    }
    if let Some(stream) = body.get("stream").filter(|v| !v.is_null()) {
        let stream = stream
            .as_bool()
            .ok_or_else(|| invalid("`stream` must be true or false"))?;
        out.insert("stream".into(), json!(stream));
    }
    if let Some(user) = body.get("user").and_then(Value::as_str) {
        out.insert("metadata".into(), json!({ "user_id": user }));
    }
    translate_tools(body, &mut out)?;
    Ok(Value::Object(out))
}

/// The system text and the turns of a conversation.
fn translate_messages(messages: &[Value]) -> Result<(Vec<String>, Vec<Value>), LlmError> {
    let mut system = Vec::new();
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let role = message
            .get("role")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("messages[{i}] needs a `role`")))?;
        let (role, blocks) = match role {
            "system" | "developer" => {
                system.push(plain_text(message.get("content"), i)?);
                continue;
            }
            "user" => ("user", user_blocks(message.get("content"), i)?),
            "assistant" => ("assistant", assistant_blocks(message, i)?),
            // Anthropic carries tool results in the user's turn.
            "tool" => ("user", vec![tool_result(message, i)?]),
            other => {
                return Err(invalid(format!(
                    "messages[{i}] has the role `{other}`, which Anthropic providers do not support: use system, user, assistant or tool"
                )))
            }
        };
        match turns.last_mut() {
            Some((last, prior)) if *last == role => prior.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    match turns.first() {
        None => {
            return Err(invalid(
                "the conversation needs at least one user message besides the system messages",
            ))
        }
        Some((role, _)) if *role != "user" => {
            return Err(invalid(
                "the first message after the system messages must be from the user, as Anthropic requires: start the conversation with a user message",
            ))
        }
        Some(_) => {}
    }
    let turns = turns
        .into_iter()
        .map(|(role, blocks)| json!({ "role": role, "content": turn_content(blocks) }))
        .collect();
    Ok((system, turns))
}

/// A turn's content: a plain string when it is one text block (the common case, and the
/// simplest form for the provider), else the blocks.
fn turn_content(mut blocks: Vec<Value>) -> Value {
    if blocks.is_empty() {
        return json!("");
    }
    if blocks.len() == 1 && blocks[0].get("type").and_then(Value::as_str) == Some("text") {
        return blocks.remove(0)["text"].take();
    }
    Value::Array(blocks)
}

/// The text of a string or of an array of text parts (joined with blank lines).
fn plain_text(content: Option<&Value>, i: usize) -> Result<String, LlmError> {
    match content {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Array(parts)) => {
            let mut texts = Vec::new();
            for part in parts {
                match part_type(part) {
                    "text" | "refusal" => texts.push(part_text(part)),
                    other => return Err(unsupported_part(other, i)),
                }
            }
            Ok(texts.join("\n\n"))
        }
        Some(_) => Err(bad_content(i)),
    }
}

fn part_type(part: &Value) -> &str {
    part.get("type").and_then(Value::as_str).unwrap_or("")
}

fn part_text(part: &Value) -> String {
    ["text", "refusal"]
        .iter()
        .find_map(|k| part.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
        .to_string()
}

fn unsupported_part(kind: &str, i: usize) -> LlmError {
    invalid(format!(
        "messages[{i}] has a content part of type `{kind}`, which Anthropic providers do not support here: send text (or image_url in user messages)"
    ))
}

fn bad_content(i: usize) -> LlmError {
    invalid(format!(
        "messages[{i}].content must be a string or an array of content parts"
    ))
}

fn text_block(text: String) -> Option<Value> {
    // Anthropic rejects empty text blocks; an empty part adds nothing anyway.
    (!text.is_empty()).then(|| json!({ "type": "text", "text": text }))
}

fn user_blocks(content: Option<&Value>, i: usize) -> Result<Vec<Value>, LlmError> {
    match content {
        None | Some(Value::Null) => Err(invalid(format!("messages[{i}] needs `content`"))),
        Some(Value::String(text)) => Ok(text_block(text.clone()).into_iter().collect()),
        Some(Value::Array(parts)) => {
            let mut blocks = Vec::new();
            for part in parts {
                match part_type(part) {
                    "text" => blocks.extend(text_block(part_text(part))),
                    "image_url" => blocks.push(image_block(part, i)?),
                    other => return Err(unsupported_part(other, i)),
                }
            }
            Ok(blocks)
        }
        Some(_) => Err(bad_content(i)),
    }
}

/// An image block from an `image_url` part: a `data:` URL becomes a base64 source, an
/// `http(s)` URL a URL source.
fn image_block(part: &Value, i: usize) -> Result<Value, LlmError> {
    let url = part
        .get("image_url")
        .and_then(|u| u.get("url").or(Some(u)))
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("messages[{i}] has an image_url part without a url")))?;
    let source = if let Some(data_url) = url.strip_prefix("data:") {
        let (meta, data) = data_url.split_once(',').unwrap_or((data_url, ""));
        let media_type = meta.strip_suffix(";base64").ok_or_else(|| {
            invalid(format!(
                "messages[{i}] has an image data URL that is not base64: encode the image as base64"
            ))
        })?;
        json!({ "type": "base64", "media_type": media_type, "data": data })
    } else if url.starts_with("https://") || url.starts_with("http://") {
        json!({ "type": "url", "url": url })
    } else {
        return Err(invalid(format!(
            "messages[{i}] has an image url that is neither a data: URL nor an http(s) URL"
        )));
    };
    Ok(json!({ "type": "image", "source": source }))
}

fn assistant_blocks(message: &Value, i: usize) -> Result<Vec<Value>, LlmError> {
    let mut blocks: Vec<Value> = text_block(plain_text(message.get("content"), i)?)
        .into_iter()
        .collect();
    let calls = match message.get("tool_calls") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(calls)) => calls.as_slice(),
        Some(_) => {
            return Err(invalid(format!(
                "messages[{i}].tool_calls must be an array"
            )))
        }
    };
    for (j, call) in calls.iter().enumerate() {
        let field = |name: &str| {
            call.pointer(name)
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(format!("messages[{i}].tool_calls[{j}] needs `{name}`")))
        };
        let (id, name) = (field("/id")?, field("/function/name")?);
        let arguments = call
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .unwrap_or("");
        let input: Value = if arguments.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(arguments).map_err(|e| {
                invalid(format!(
                    "messages[{i}].tool_calls[{j}].function.arguments is not JSON ({e}): send the arguments as a JSON object in a string"
                ))
            })?
        };
        blocks.push(json!({ "type": "tool_use", "id": id, "name": name, "input": input }));
    }
    Ok(blocks)
}

fn tool_result(message: &Value, i: usize) -> Result<Value, LlmError> {
    let id = message
        .get("tool_call_id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            invalid(format!(
                "messages[{i}] (a tool result) needs `tool_call_id`"
            ))
        })?;
    let content = plain_text(message.get("content"), i)?;
    Ok(json!({ "type": "tool_result", "tool_use_id": id, "content": content }))
}

fn max_tokens(body: &Map<String, Value>) -> Result<u64, LlmError> {
    for key in ["max_completion_tokens", "max_tokens"] {
        match body.get(key) {
            None | Some(Value::Null) => continue,
            Some(value) => {
                return value.as_u64().filter(|n| *n > 0).ok_or_else(|| {
                    invalid(format!("`{key}` must be a whole number of at least 1"))
                })
            }
        }
    }
    Ok(DEFAULT_MAX_TOKENS)
}

fn number(body: &Map<String, Value>, key: &str) -> Result<Option<f64>, LlmError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_f64()
            .map(Some)
            .ok_or_else(|| invalid(format!("`{key}` must be a number"))),
    }
}

fn stop_sequences(stop: Option<&Value>) -> Result<Vec<String>, LlmError> {
    let wrong = || invalid("`stop` must be a string or an array of strings");
    match stop {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(list)) => list
            .iter()
            .map(|s| s.as_str().map(str::to_string).ok_or_else(wrong))
            .collect(),
        Some(_) => Err(wrong()),
    }
}

/// `tools`, `tool_choice` and `parallel_tool_calls`.
fn translate_tools(
    body: &Map<String, Value>,
    out: &mut Map<String, Value>,
) -> Result<(), LlmError> {
    if let Some(tools) = body.get("tools").filter(|v| !v.is_null()) {
        let tools = tools
            .as_array()
            .ok_or_else(|| invalid("`tools` must be an array"))?;
        let mut translated = Vec::new();
        for (j, tool) in tools.iter().enumerate() {
            if tool.get("type").and_then(Value::as_str) != Some("function") {
                return Err(invalid(format!(
                    "tools[{j}] is not of type `function`: Anthropic providers take function tools only"
                )));
            }
            let function = tool.get("function").unwrap_or(&Value::Null);
            let name = function
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(format!("tools[{j}].function needs a `name`")))?;
            let mut item = json!({
                "name": name,
                "input_schema": function
                    .get("parameters")
                    .filter(|p| !p.is_null())
                    .cloned()
                    .unwrap_or_else(|| json!({ "type": "object", "properties": {} })),
            });
            if let Some(description) = function.get("description").and_then(Value::as_str) {
                item["description"] = json!(description);
            }
            translated.push(item);
        }
        out.insert("tools".into(), Value::Array(translated));
    }
    let mut choice = match body.get("tool_choice") {
        None | Some(Value::Null) => None,
        Some(Value::String(mode)) => Some(match mode.as_str() {
            "auto" => json!({ "type": "auto" }),
            "required" => json!({ "type": "any" }),
            "none" => json!({ "type": "none" }),
            other => {
                return Err(invalid(format!(
                    "`tool_choice` `{other}` is unknown: use auto, required, none or a function"
                )))
            }
        }),
        Some(object) => {
            let name = object
                .pointer("/function/name")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    invalid("`tool_choice` must be auto, required, none or {\"type\":\"function\",\"function\":{\"name\":...}}")
                })?;
            Some(json!({ "type": "tool", "name": name }))
        }
    };
    if body.get("parallel_tool_calls").and_then(Value::as_bool) == Some(false)
        && out.contains_key("tools")
    {
        let choice = choice.get_or_insert_with(|| json!({ "type": "auto" }));
        if choice["type"] != "none" {
            choice["disable_parallel_tool_use"] = json!(true);
        }
    }
    if let Some(choice) = choice {
        out.insert("tool_choice".into(), choice);
    }
    Ok(())
}

/// Translates a Messages API response into an OpenAI `chat.completion` object.
pub fn to_chat_completion(body: &Value) -> Result<Value, StreamFault> {
    chat_completion_at(body, unix_now())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// [`to_chat_completion`] with the `created` time given (for tests).
fn chat_completion_at(body: &Value, created: u64) -> Result<Value, StreamFault> {
    if let Some(fault) = provider_error(body) {
        return Err(fault);
    }
    let blocks = body
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| StreamFault::Malformed("the message has no content array".into()))?;
    let mut text = String::new();
    let mut calls = Vec::new();
    for block in blocks {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(block.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("tool_use") => calls.push(json!({
                "id": block.get("id").cloned().unwrap_or(Value::Null),
                "type": "function",
                "function": {
                    "name": block.get("name").cloned().unwrap_or(Value::Null),
                    "arguments": block.get("input").unwrap_or(&json!({})).to_string(),
                },
            })),
            // Thinking and other block kinds have no place in a chat completion.
            _ => {}
        }
    }
    let mut message = json!({ "role": "assistant", "content": text });
    if !calls.is_empty() {
        if text.is_empty() {
            message["content"] = Value::Null;
        }
        message["tool_calls"] = Value::Array(calls);
    }
    let mut completion = json!({
        "id": body.get("id").cloned().unwrap_or_else(|| json!("chatcmpl-anthropic")),
        "object": "chat.completion",
        "created": created,
        "model": body.get("model").cloned().unwrap_or(Value::Null),
        "choices": [{
            "index": 0,
            "message": message,
            "finish_reason": finish_reason(body.get("stop_reason")),
        }],
    });
    if let Some(usage) = body.get("usage") {
        let (input, output) = token_counts(usage);
        completion["usage"] = usage_json(openai_usage(input, output));
    }
    Ok(completion)
}

/// An Anthropic error body or event, `{"type":"error","error":{"type","message"}}`.
fn provider_error(body: &Value) -> Option<StreamFault> {
    if body.get("type").and_then(Value::as_str) != Some("error") {
        return None;
    }
    let error = body.get("error").unwrap_or(&Value::Null);
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("unknown error");
    Some(StreamFault::Provider(
        match error.get("type").and_then(Value::as_str) {
            Some(kind) => format!("{message} ({kind})"),
            None => message.to_string(),
        },
    ))
}

/// OpenAI's `finish_reason` for Anthropic's `stop_reason`.
fn finish_reason(stop_reason: Option<&Value>) -> &'static str {
    match stop_reason.and_then(Value::as_str) {
        Some("max_tokens") => "length",
        Some("tool_use") => "tool_calls",
        Some("refusal") => "content_filter",
        // end_turn, stop_sequence, pause_turn and whatever comes next.
        _ => "stop",
    }
}

/// Input tokens (with the cache's, which are billed as input too) and output tokens, where a
/// `usage` object gives them.
fn token_counts(usage: &Value) -> (Option<u64>, Option<u64>) {
    let get = |k: &str| usage.get(k).and_then(Value::as_u64);
    let input = [
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ]
    .iter()
    .filter_map(|k| get(k))
    .reduce(|a, b| a + b);
    (input, get("output_tokens"))
}

fn openai_usage(input: Option<u64>, output: Option<u64>) -> Usage {
    let (prompt, completion) = (input.unwrap_or(0), output.unwrap_or(0));
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
    }
}

fn usage_json(usage: Usage) -> Value {
    json!({
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    })
}

/// Reads Anthropic's `GET /v1/models` list (`data[].id`, `data[].display_name`); an
/// OpenAI-shaped list reads as well, without names.
pub fn parse_models(body: &Value) -> Vec<ModelInfo> {
    body.get("data")
        .and_then(Value::as_array)
        .map(|models| {
            models
                .iter()
                .filter_map(|m| {
                    Some(ModelInfo {
                        id: m.get("id")?.as_str()?.to_string(),
                        name: m
                            .get("display_name")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The SSE parser's input: text pushed by [`StreamTranslator::feed`].
type Pushed = mpsc::UnboundedReceiver<Result<String, Infallible>>;

/// Translates a Messages API event stream into OpenAI `chat.completion.chunk` events.
///
/// The SSE framing is parsed by the `eventsource-stream` crate. Its parser is a pull-based
/// `Stream` adapter, while a [`Shaper`] is pushed bytes; the two meet through an unbounded
/// channel: `feed` sends the chunk into the channel and polls the parser with a no-op waker
/// until it has no complete event left (`Pending`). Nothing waits, so the waker is never
/// needed. The chunk is checked for UTF-8 first, because the crate would keep invalid bytes
/// in its buffer for good instead of reporting them.
pub struct StreamTranslator {
    model: String,
    include_usage: bool,
    created: u64,
    id: String,
    input: mpsc::UnboundedSender<Result<String, Infallible>>,
    events: EventStream<Pushed>,
    /// The bytes of a character cut by a chunk boundary.
    utf8_tail: Vec<u8>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    /// OpenAI's `tool_calls[].index` for each Anthropic content block index of a tool use.
    tools: HashMap<u64, usize>,
    /// The chunk with `finish_reason` has been sent.
    finished: bool,
    /// `message_stop` has been seen and `[DONE]` sent.
    done: bool,
}

impl StreamTranslator {
    /// `model` names the model in the chunks; `include_usage` adds the final usage chunk
    /// (what the client asked for with `stream_options.include_usage`).
    pub fn new(model: String, include_usage: bool) -> Self {
        let (input, pushed) = mpsc::unbounded();
        StreamTranslator {
            model,
            include_usage,
            created: unix_now(),
            id: "chatcmpl-anthropic".into(),
            input,
            events: EventStream::new(pushed),
            utf8_tail: Vec::new(),
            input_tokens: None,
            output_tokens: None,
            tools: HashMap::new(),
            finished: false,
            done: false,
        }
    }

    /// The chunk's text, keeping a character cut at its end for the next chunk.
    fn decode(&mut self, chunk: &[u8]) -> Result<String, StreamFault> {
        let mut bytes = std::mem::take(&mut self.utf8_tail);
        bytes.extend_from_slice(chunk);
        match String::from_utf8(bytes) {
            Ok(text) => Ok(text),
            Err(e) if e.utf8_error().error_len().is_some() => Err(StreamFault::Malformed(
                "the stream is not valid UTF-8".into(),
            )),
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let mut bytes = e.into_bytes();
                self.utf8_tail = bytes.split_off(valid);
                String::from_utf8(bytes)
                    .map_err(|_| StreamFault::Malformed("the stream is not valid UTF-8".into()))
            }
        }
    }

    fn chunk(&self, delta: Value, finish_reason: Option<&str>) -> String {
        let chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish_reason }],
        });
        format!("data: {chunk}\n\n")
    }

    /// The OpenAI events for one Anthropic event.
    fn translate(&mut self, event: &Event) -> Result<String, StreamFault> {
        let data: Value = serde_json::from_str(&event.data).map_err(|e| {
            StreamFault::Malformed(format!("a `{}` event is not JSON: {e}", event.event))
        })?;
        let kind = data
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or(&event.event);
        let mut out = String::new();
        match kind {
            "message_start" => {
                let message = data.get("message").unwrap_or(&Value::Null);
                if let Some(id) = message.get("id").and_then(Value::as_str) {
                    self.id = id.to_string();
                }
                self.note_usage(message.get("usage"));
                out.push_str(&self.chunk(json!({ "role": "assistant", "content": "" }), None));
            }
            "content_block_start" => {
                let block = data.get("content_block").unwrap_or(&Value::Null);
                match block.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        let text = block.get("text").and_then(Value::as_str).unwrap_or("");
                        if !text.is_empty() {
                            out.push_str(&self.chunk(json!({ "content": text }), None));
                        }
                    }
                    Some("tool_use") => {
                        let index = self.tools.len();
                        let block_index = data.get("index").and_then(Value::as_u64).unwrap_or(0);
                        self.tools.insert(block_index, index);
                        let call = json!({
                            "index": index,
                            "id": block.get("id").cloned().unwrap_or(Value::Null),
                            "type": "function",
                            "function": { "name": block.get("name").cloned().unwrap_or(Value::Null), "arguments": "" },
                        });
                        out.push_str(&self.chunk(json!({ "tool_calls": [call] }), None));
                    }
                    _ => {}
                }
            }
            "content_block_delta" => {
                let delta = data.get("delta").unwrap_or(&Value::Null);
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => {
                        let text = delta.get("text").and_then(Value::as_str).unwrap_or("");
                        out.push_str(&self.chunk(json!({ "content": text }), None));
                    }
                    Some("input_json_delta") => {
                        let block_index = data.get("index").and_then(Value::as_u64).unwrap_or(0);
                        if let Some(&index) = self.tools.get(&block_index) {
                            let json = delta
                                .get("partial_json")
                                .and_then(Value::as_str)
                                .unwrap_or("");
                            let call = json!({ "index": index, "function": { "arguments": json } });
                            out.push_str(&self.chunk(json!({ "tool_calls": [call] }), None));
                        }
                    }
                    // Thinking and signature deltas have no place in a chat completion.
                    _ => {}
                }
            }
            "message_delta" => {
                self.note_usage(data.get("usage"));
                if let Some(reason) = data.pointer("/delta/stop_reason").filter(|r| !r.is_null()) {
                    self.finished = true;
                    out.push_str(&self.chunk(json!({}), Some(finish_reason(Some(reason)))));
                }
            }
            "message_stop" => {
                if !self.finished {
                    self.finished = true;
                    out.push_str(&self.chunk(json!({}), Some("stop")));
                }
                if self.include_usage {
                    let usage = self.usage().unwrap_or_default();
                    let chunk = json!({
                        "id": self.id,
                        "object": "chat.completion.chunk",
                        "created": self.created,
                        "model": self.model,
                        "choices": [],
                        "usage": usage_json(usage),
                    });
                    out.push_str(&format!("data: {chunk}\n\n"));
                }
                out.push_str("data: [DONE]\n\n");
                self.done = true;
            }
            "error" => {
                return Err(provider_error(
                    &json!({ "type": "error", "error": data.get("error") }),
                )
                .unwrap_or_else(|| StreamFault::Provider("unknown error".into())));
            }
            // `ping`, `content_block_stop`, and event types added after this was written
            // (Anthropic's versioning policy says clients should ignore them).
            _ => {}
        }
        Ok(out)
    }

    /// Records the token counts of a `usage` object; later counts replace earlier ones, as
    /// Anthropic's are cumulative.
    fn note_usage(&mut self, usage: Option<&Value>) {
        if let Some(usage) = usage {
            let (input, output) = token_counts(usage);
            self.input_tokens = input.or(self.input_tokens);
            self.output_tokens = output.or(self.output_tokens);
        }
    }
}

impl Shaper for StreamTranslator {
    fn feed(&mut self, chunk: &[u8]) -> Result<Bytes, StreamFault> {
        if self.done {
            return Ok(Bytes::new());
        }
        let text = self.decode(chunk)?;
        if !text.is_empty() {
            // The receiver lives in `self.events`, so the send cannot fail.
            let _ = self.input.unbounded_send(Ok(text));
        }
        let mut out = String::new();
        let mut cx = Context::from_waker(noop_waker_ref());
        while !self.done {
            match self.events.poll_next_unpin(&mut cx) {
                Poll::Ready(Some(Ok(event))) => out.push_str(&self.translate(&event)?),
                Poll::Ready(Some(Err(e))) => return Err(StreamFault::Malformed(e.to_string())),
                Poll::Ready(None) | Poll::Pending => break,
            }
        }
        Ok(Bytes::from(out))
    }

    fn finish(&mut self) -> Result<Bytes, StreamFault> {
        // Every complete event was translated by `feed`; an event without its blank line at
        // the end of the body is discarded, as the SSE standard says.
        if self.done {
            Ok(Bytes::new())
        } else {
            Err(StreamFault::Incomplete)
        }
    }

    fn usage(&self) -> Option<Usage> {
        (self.input_tokens.is_some() || self.output_tokens.is_some())
            .then(|| openai_usage(self.input_tokens, self.output_tokens))
    }

    fn complete(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
// Tests fail loudly on purpose; `unwrap` is the shortest way to say "this must work".
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    fn check(input: Value, expected: Value) {
        let got = to_messages_request(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(got, expected, "for {input}");
    }

    fn check_refused(input: Value, says: &str) {
        match to_messages_request(&input).map_err(ApiError::from) {
            Err(ApiError::Invalid { code, message, .. }) => {
                assert_eq!(code, "VAL_CHAT_REQUEST", "for {input}");
                assert!(message.contains(says), "for {input}: {message}");
                assert!(!message.ends_with('.'), "{message}");
            }
            other => panic!("{input} gave {other:?}"),
        }
    }

    fn user(text: &str) -> Value {
        json!({ "role": "user", "content": text })
    }

    #[test]
    fn requests_translate() {
        // The minimum: max_tokens gets its default.
        check(
            json!({ "model": "claude", "messages": [user("hi")] }),
            json!({ "model": "claude", "max_tokens": 4096, "messages": [user("hi")] }),
        );
        // System and developer messages go to `system`; max_completion_tokens wins.
        check(
            json!({ "model": "m", "max_tokens": 10, "max_completion_tokens": 20, "messages": [
                { "role": "system", "content": "be brief" },
                { "role": "developer", "content": [{ "type": "text", "text": "use JSON" }] },
                user("hi"),
            ] }),
            json!({ "model": "m", "max_tokens": 20, "system": "be brief\n\nuse JSON", "messages": [user("hi")] }),
        );
        // Sampling, stop, stream and user are kept; the rest is dropped.
        check(
            json!({ "model": "m", "messages": [user("hi")], "max_tokens": 5, "temperature": 0.2,
                "top_p": 0.9, "top_k": 40, "stop": "END", "stream": true, "user": "u-1",
                "stream_options": { "include_usage": true }, "response_format": { "type": "json_object" },
                "frequency_penalty": 1, "seed": 7, "n": 1, "metadata": { "a": "b" } }),
            json!({ "model": "m", "messages": [user("hi")], "max_tokens": 5, "temperature": 0.2,
                "top_p": 0.9, "top_k": 40, "stop_sequences": ["END"], "stream": true,
                "metadata": { "user_id": "u-1" } }),
        );
        // Temperature is clamped to 0..1; a stop list is kept as it is.
        check(
            json!({ "model": "m", "messages": [user("hi")], "temperature": 1.6, "stop": ["a", "b"] }),
            json!({ "model": "m", "messages": [user("hi")], "max_tokens": 4096, "temperature": 1.0,
                "stop_sequences": ["a", "b"] }),
        );
        check(
            json!({ "model": "m", "messages": [user("hi")], "temperature": -1, "stop": null }),
            json!({ "model": "m", "messages": [user("hi")], "max_tokens": 4096, "temperature": 0.0 }),
        );
        // Consecutive messages of one role merge into one turn; an assistant prefill stays.
        check(
            json!({ "model": "m", "messages": [user("a"), user("b"),
                { "role": "assistant", "content": "c" }, { "role": "assistant", "content": [{ "type": "text", "text": "d" }] }] }),
            json!({ "model": "m", "max_tokens": 4096, "messages": [
                { "role": "user", "content": [{ "type": "text", "text": "a" }, { "type": "text", "text": "b" }] },
                { "role": "assistant", "content": [{ "type": "text", "text": "c" }, { "type": "text", "text": "d" }] },
            ] }),
        );
        // Images: a data URL becomes a base64 source, an https URL a URL source.
        check(
            json!({ "model": "m", "messages": [{ "role": "user", "content": [
                { "type": "text", "text": "what is this" },
                { "type": "image_url", "image_url": { "url": "data:image/png;base64,iVBORw0KGgo=" } },
                { "type": "image_url", "image_url": { "url": "https://example.com/a.jpg", "detail": "low" } },
            ] }] }),
            json!({ "model": "m", "max_tokens": 4096, "messages": [{ "role": "user", "content": [
                { "type": "text", "text": "what is this" },
                { "type": "image", "source": { "type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo=" } },
                { "type": "image", "source": { "type": "url", "url": "https://example.com/a.jpg" } },
            ] }] }),
        );
        // Tools, a forced tool, a tool call and its result (merged with the next user message).
        check(
            json!({ "model": "m", "parallel_tool_calls": false,
                "tools": [{ "type": "function", "function": { "name": "add", "description": "adds",
                    "parameters": { "type": "object", "properties": { "a": { "type": "number" } } } } },
                    { "type": "function", "function": { "name": "now" } }],
                "tool_choice": { "type": "function", "function": { "name": "add" } },
                "messages": [user("1+2?"),
                    { "role": "assistant", "content": null, "tool_calls": [{ "id": "call_1", "type": "function",
                        "function": { "name": "add", "arguments": "{\"a\":1}" } }] },
                    { "role": "tool", "tool_call_id": "call_1", "content": "3" },
                    user("thanks")] }),
            json!({ "model": "m", "max_tokens": 4096,
                "tools": [{ "name": "add", "description": "adds",
                    "input_schema": { "type": "object", "properties": { "a": { "type": "number" } } } },
                    { "name": "now", "input_schema": { "type": "object", "properties": {} } }],
                "tool_choice": { "type": "tool", "name": "add", "disable_parallel_tool_use": true },
                "messages": [user("1+2?"),
                    { "role": "assistant", "content": [{ "type": "tool_use", "id": "call_1", "name": "add", "input": { "a": 1 } }] },
                    { "role": "user", "content": [{ "type": "tool_result", "tool_use_id": "call_1", "content": "3" },
                        { "type": "text", "text": "thanks" }] }] }),
        );
        for (openai, anthropic) in [("auto", "auto"), ("required", "any"), ("none", "none")] {
            check(
                json!({ "model": "m", "messages": [user("x")], "tool_choice": openai }),
                json!({ "model": "m", "max_tokens": 4096, "messages": [user("x")], "tool_choice": { "type": anthropic } }),
            );
        }
    }

    #[test]
    fn untranslatable_requests_are_refused() {
        let with = |messages: Value| json!({ "model": "m", "messages": messages });
        check_refused(
            with(json!([{ "role": "assistant", "content": "hello" }, user("hi")])),
            "first message after the system messages must be from the user",
        );
        check_refused(
            with(json!([{ "role": "system", "content": "be brief" }])),
            "at least one user message",
        );
        check_refused(
            with(json!([{ "role": "function", "content": "x" }])),
            "`function`",
        );
        check_refused(
            with(json!([{ "content": "x" }])),
            "messages[0] needs a `role`",
        );
        check_refused(
            with(
                json!([{ "role": "user", "content": [{ "type": "input_audio", "input_audio": {} }] }]),
            ),
            "`input_audio`",
        );
        check_refused(
            with(
                json!([{ "role": "user", "content": [{ "type": "image_url", "image_url": { "url": "data:image/svg+xml,<svg/>" } }] }]),
            ),
            "not base64",
        );
        check_refused(
            with(
                json!([user("x"), { "role": "assistant", "tool_calls": [{ "id": "c", "function": { "name": "f", "arguments": "{oops" } }] }]),
            ),
            "tool_calls[0].function.arguments is not JSON",
        );
        check_refused(
            with(json!([user("x"), { "role": "tool", "content": "3" }])),
            "`tool_call_id`",
        );
        check_refused(
            json!({ "model": "m", "messages": [user("x")], "n": 2 }),
            "`n` must be 1",
        );
        check_refused(
            json!({ "model": "m", "messages": [user("x")], "functions": [] }),
            "`functions`",
        );
        check_refused(
            json!({ "model": "m", "messages": [user("x")], "max_tokens": 0 }),
            "`max_tokens` must be a whole number",
        );
        check_refused(
            json!({ "model": "m", "messages": [user("x")], "tools": [{ "type": "web_search" }] }),
            "tools[0]",
        );
        check_refused(json!({ "messages": [user("x")] }), "`model`");
        check_refused(json!({ "model": "m" }), "`messages`");
    }

    #[test]
    fn responses_translate() {
        let body = json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
            "content": [{ "type": "thinking", "thinking": "hmm" }, { "type": "text", "text": "Hello" }, { "type": "text", "text": " world" }],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": { "input_tokens": 10, "cache_read_input_tokens": 5, "cache_creation_input_tokens": 1, "output_tokens": 7 },
        });
        assert_eq!(
            chat_completion_at(&body, 42).unwrap(),
            json!({
                "id": "msg_1", "object": "chat.completion", "created": 42, "model": "claude-x",
                "choices": [{ "index": 0, "message": { "role": "assistant", "content": "Hello world" }, "finish_reason": "stop" }],
                "usage": { "prompt_tokens": 16, "completion_tokens": 7, "total_tokens": 23 },
            })
        );
        let finish = |reason: &str| {
            let body = json!({ "content": [], "stop_reason": reason });
            chat_completion_at(&body, 0).unwrap()["choices"][0]["finish_reason"].clone()
        };
        assert_eq!(finish("max_tokens"), "length");
        assert_eq!(finish("stop_sequence"), "stop");
        assert_eq!(finish("tool_use"), "tool_calls");

        let tool = json!({
            "id": "msg_2", "model": "m", "stop_reason": "tool_use",
            "content": [{ "type": "tool_use", "id": "toolu_1", "name": "add", "input": { "a": 1 } }],
        });
        assert_eq!(
            chat_completion_at(&tool, 0).unwrap()["choices"][0]["message"],
            json!({ "role": "assistant", "content": null, "tool_calls": [
                { "id": "toolu_1", "type": "function", "function": { "name": "add", "arguments": "{\"a\":1}" } }] })
        );
        // `to_chat_completion` stamps the current time.
        assert!(
            to_chat_completion(&body).unwrap()["created"]
                .as_u64()
                .unwrap()
                > 1_700_000_000
        );
    }

    #[test]
    fn response_faults() {
        let error = json!({ "type": "error", "error": { "type": "overloaded_error", "message": "Overloaded" } });
        assert_eq!(
            to_chat_completion(&error),
            Err(StreamFault::Provider(
                "Overloaded (overloaded_error)".into()
            ))
        );
        assert!(matches!(
            to_chat_completion(&json!({ "id": "msg" })),
            Err(StreamFault::Malformed(_))
        ));
    }

    #[test]
    fn models_are_read() {
        let body = json!({ "data": [
            { "type": "model", "id": "claude-a", "display_name": "Claude A", "created_at": "2025-01-01T00:00:00Z" },
            { "id": "fake-model", "object": "model" },
            { "display_name": "no id" },
        ], "has_more": false });
        assert_eq!(
            parse_models(&body),
            vec![
                ModelInfo {
                    id: "claude-a".into(),
                    name: Some("Claude A".into())
                },
                ModelInfo {
                    id: "fake-model".into(),
                    name: None
                },
            ]
        );
        assert!(parse_models(&json!({ "error": {} })).is_empty());
    }

    /// A typical stream as Anthropic sends it (from the Messages API streaming docs), with a
    /// two-byte character to be cut by byte-by-byte feeding.
    const STREAM: &str = "event: message_start\n\
data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-x\",\"stop_reason\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\
\n\
event: content_block_start\n\
data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\
\n\
event: ping\n\
data: {\"type\": \"ping\"}\n\
\n\
event: content_block_delta\n\
data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\
\n\
event: content_block_delta\n\
data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" caf\u{e9}\"}}\n\
\n\
event: content_block_stop\n\
data: {\"type\":\"content_block_stop\",\"index\":0}\n\
\n\
event: message_delta\n\
data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\
\n\
event: message_stop\n\
data: {\"type\":\"message_stop\"}\n\
\n";

    fn translator(include_usage: bool) -> StreamTranslator {
        let mut t = StreamTranslator::new("claude-x".into(), include_usage);
        t.created = 42;
        t
    }

    /// Feeds `input` in pieces of `size` bytes and finishes; returns the output and the
    /// translator.
    fn run(
        input: &[u8],
        size: usize,
        include_usage: bool,
    ) -> (Result<String, StreamFault>, StreamTranslator) {
        let mut t = translator(include_usage);
        let mut out = Vec::new();
        for piece in input.chunks(size) {
            match t.feed(piece) {
                Ok(bytes) => out.extend_from_slice(&bytes),
                Err(fault) => return (Err(fault), t),
            }
        }
        let result = t.finish().map(|bytes| {
            out.extend_from_slice(&bytes);
            String::from_utf8(out).unwrap()
        });
        (result, t)
    }

    fn chunk(delta: Value, finish: Value) -> String {
        let chunk = json!({ "id": "msg_1", "object": "chat.completion.chunk", "created": 42, "model": "claude-x",
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }] });
        format!("data: {chunk}\n\n")
    }

    #[test]
    fn a_stream_translates_into_chunks() {
        let usage = json!({ "id": "msg_1", "object": "chat.completion.chunk", "created": 42, "model": "claude-x",
            "choices": [], "usage": { "prompt_tokens": 25, "completion_tokens": 15, "total_tokens": 40 } });
        let expected = [
            chunk(json!({ "role": "assistant", "content": "" }), Value::Null),
            chunk(json!({ "content": "Hello" }), Value::Null),
            chunk(json!({ "content": " caf\u{e9}" }), Value::Null),
            chunk(json!({}), json!("stop")),
            format!("data: {usage}\n\n"),
            "data: [DONE]\n\n".to_string(),
        ]
        .concat();
        let (whole, t) = run(STREAM.as_bytes(), STREAM.len(), true);
        assert_eq!(whole.unwrap(), expected);
        assert_eq!(
            t.usage(),
            Some(Usage {
                prompt_tokens: 25,
                completion_tokens: 15,
                total_tokens: 40
            })
        );
        let (bytewise, _) = run(STREAM.as_bytes(), 1, true);
        assert_eq!(bytewise.unwrap(), expected);
        // With \r\n line ends, cut in the middle of each pair, the output is the same.
        let crlf = STREAM.replace('\n', "\r\n");
        assert_eq!(run(crlf.as_bytes(), 1, true).0.unwrap(), expected);
        assert_eq!(run(crlf.as_bytes(), 7, true).0.unwrap(), expected);
        // Without include_usage there is no usage chunk.
        let (plain, _) = run(STREAM.as_bytes(), 13, false);
        assert_eq!(
            plain.unwrap(),
            expected.replace(&format!("data: {usage}\n\n"), "")
        );
    }

    #[test]
    fn each_event_is_sent_on_at_once() {
        let mut t = translator(false);
        let first_event_end = STREAM.find("\n\n").unwrap() + 2;
        let (first, rest) = STREAM.as_bytes().split_at(first_event_end);
        // Half an event gives nothing yet; its end gives its chunk.
        assert!(t.feed(&first[..20]).unwrap().is_empty());
        assert_eq!(
            t.feed(&first[20..]).unwrap(),
            chunk(json!({ "role": "assistant", "content": "" }), Value::Null).as_bytes()
        );
        assert_eq!(
            t.usage(),
            Some(Usage {
                prompt_tokens: 25,
                completion_tokens: 1,
                total_tokens: 26
            })
        );
        assert!(!t.feed(rest).unwrap().is_empty());
        // Bytes after message_stop are ignored.
        assert!(t.feed(b"event: ping\ndata: {}\n\n").unwrap().is_empty());
        assert_eq!(t.finish(), Ok(Bytes::new()));
    }

    #[test]
    fn a_tool_use_stream_translates() {
        let events = [
            json!({ "type": "message_start", "message": { "id": "msg_1", "usage": { "input_tokens": 3, "output_tokens": 1 } } }),
            json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "text", "text": "" } }),
            json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "text_delta", "text": "Let me add." } }),
            json!({ "type": "content_block_stop", "index": 0 }),
            json!({ "type": "content_block_start", "index": 1, "content_block": { "type": "tool_use", "id": "toolu_1", "name": "add", "input": {} } }),
            json!({ "type": "content_block_delta", "index": 1, "delta": { "type": "input_json_delta", "partial_json": "{\"a\":" } }),
            json!({ "type": "content_block_delta", "index": 1, "delta": { "type": "input_json_delta", "partial_json": "1}" } }),
            json!({ "type": "content_block_stop", "index": 1 }),
            json!({ "type": "message_delta", "delta": { "stop_reason": "tool_use" }, "usage": { "output_tokens": 9 } }),
            json!({ "type": "message_stop" }),
        ];
        let input: String = events
            .iter()
            .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
            .collect();
        let expected = [
            chunk(json!({ "role": "assistant", "content": "" }), Value::Null),
            chunk(json!({ "content": "Let me add." }), Value::Null),
            chunk(json!({ "tool_calls": [{ "index": 0, "id": "toolu_1", "type": "function", "function": { "name": "add", "arguments": "" } }] }), Value::Null),
            chunk(json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "{\"a\":" } }] }), Value::Null),
            chunk(json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "1}" } }] }), Value::Null),
            chunk(json!({}), json!("tool_calls")),
            "data: [DONE]\n\n".to_string(),
        ]
        .concat();
        assert_eq!(
            run(input.as_bytes(), input.len(), false).0.unwrap(),
            expected
        );
        assert_eq!(run(input.as_bytes(), 1, false).0.unwrap(), expected);
    }

    #[test]
    fn stream_faults() {
        let start_end = STREAM.find("\n\n").unwrap() + 2;
        let start = &STREAM[..start_end];
        // An error event.
        let error = format!(
            "{start}event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}}}\n\n"
        );
        for size in [1, error.len()] {
            assert_eq!(
                run(error.as_bytes(), size, true).0,
                Err(StreamFault::Provider(
                    "Overloaded (overloaded_error)".into()
                ))
            );
        }
        // Broken JSON.
        let broken =
            format!("{start}event: content_block_delta\ndata: {{\"type\":\"content_bl\n\n");
        assert!(matches!(
            run(broken.as_bytes(), 5, true).0,
            Err(StreamFault::Malformed(_))
        ));
        // Bytes that are not UTF-8.
        let mut bad = start.as_bytes().to_vec();
        bad.extend_from_slice(b"data: \xff\xfe\n\n");
        assert!(matches!(
            run(&bad, 3, true).0,
            Err(StreamFault::Malformed(_))
        ));
        // The body ends before message_stop: after a complete event, inside an event, and
        // inside a character.
        let cut = STREAM.find("event: message_stop").unwrap();
        assert_eq!(
            run(&STREAM.as_bytes()[..cut], 9, true).0,
            Err(StreamFault::Incomplete)
        );
        assert_eq!(
            run(&STREAM.as_bytes()[..cut + 30], 9, true).0,
            Err(StreamFault::Incomplete)
        );
        let e_acute = STREAM.find('\u{e9}').unwrap();
        assert_eq!(
            run(&STREAM.as_bytes()[..e_acute + 1], 4, true).0,
            Err(StreamFault::Incomplete)
        );
        assert_eq!(run(b"", 1, true).0, Err(StreamFault::Incomplete));
    }
}
