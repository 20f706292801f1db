//! A provider of kind `anthropic` through the gateway: the real server on a real socket, the
//! fake provider's Messages API endpoint on another. The client speaks OpenAI's
//! chat-completions dialect and gets OpenAI-shaped answers; the fake sees Messages API
//! requests.
//!
//! The fake answers only what the real API would: it refuses a request without the
//! `anthropic-version` header, or with a key other than `expect_key` in `x-api-key`, or without
//! `max_tokens`, or with a `system` role among the messages. A successful call therefore shows
//! that the gateway sent the headers and a Messages-shaped body.
//!
//! One test needs no socket: the fake's stream events, read back through the gateway's
//! translation, give the reply and the usage.

#![allow(clippy::unwrap_used)]

mod common;

use common::{start_fake, start_server, Client, Reply, TestServer};
use fake_provider::{anthropic::stream_events, Fake, FakeOptions, Rule, Script};
use model::wire::{parse_stream_event, StreamEvent, Usage};
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::llm::{
    anthropic::StreamTranslator,
    stream::{Shaper, StreamFault},
};
use std::{sync::Arc, time::Duration};

const KEY: &str = "sk-ant-test-SECRET-8765";
const REPLY: &str = "Hello from the fake Claude: caf\u{e9} and a model.";
const SYSTEM: &str = "answer in JSON";
const PROMPT: &str = "draft a library";

/// The server, a signed-in client and an Anthropic provider on the fake holding `key`.
struct Setup {
    _server: TestServer,
    alice: Client,
    provider: String,
    fake: Arc<Fake>,
}

async fn setup(key: &str, drip: bool) -> Setup {
    let (fake_url, fake) = start_fake(FakeOptions {
        script: Script {
            rules: vec![Rule {
                when_contains: String::new(),
                reply: REPLY.into(),
            }],
        },
        chunk_chars: 5,
        chunk_delay: if drip {
            Duration::from_millis(200)
        } else {
            Duration::ZERO
        },
        expect_key: Some(KEY.into()),
        record: true,
    })
    .await;
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let added = alice
        .post(
            "/api/v1/providers",
            json!({ "name": "claude", "kind": "anthropic", "base_url": fake_url,
                "model": "fake-model", "api_key": key }),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert_eq!(added.json()["kind"], "anthropic");
    let provider = added.json()["id"].as_str().unwrap().to_string();
    Setup {
        _server: server,
        alice,
        provider,
        fake,
    }
}

impl Setup {
    async fn chat(&mut self, body: Value) -> Reply {
        let path = format!("/api/v1/llm/{}/chat/completions", self.provider);
        self.alice.post(&path, body).await
    }

    fn seen(&self) -> Vec<Value> {
        let requests = self.fake.requests.lock().unwrap();
        requests.iter().map(|r| r.body.clone()).collect()
    }

    fn assert_no_key(&self) {
        for text in self.alice.seen.lock().unwrap().iter() {
            assert!(
                !text.contains(KEY) && !text.contains("SECRET"),
                "the key leaked: {text}"
            );
        }
    }
}

fn messages() -> Value {
    json!([{ "role": "system", "content": SYSTEM }, { "role": "user", "content": PROMPT }])
}

/// The JSON of each `data:` event of a stream, and whether it ended with `[DONE]`.
fn events(reply: &Reply) -> (Vec<Value>, bool) {
    let data: Vec<&str> = reply
        .text
        .split("\n\n")
        .filter_map(|event| event.strip_prefix("data: "))
        .collect();
    let done = data.last() == Some(&"[DONE]");
    let json = data
        .iter()
        .filter(|d| **d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("{d}: {e}")))
        .collect();
    (json, done)
}

#[tokio::test]
async fn a_call_is_translated_both_ways() {
    let mut s = setup(KEY, false).await;
    let reply = s
        .chat(
            json!({ "messages": messages(), "temperature": 1.5, "stop": "END",
            "response_format": { "type": "json_object" } }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let answer = reply.json();
    assert_eq!(answer["object"], "chat.completion");
    assert_eq!(answer["model"], "fake-model");
    assert_eq!(answer["choices"][0]["message"]["role"], "assistant");
    assert_eq!(answer["choices"][0]["message"]["content"], REPLY);
    assert_eq!(answer["choices"][0]["finish_reason"], "stop");
    // The fake counts four characters a token, the system prompt included.
    let prompt_tokens = (SYSTEM.len() + PROMPT.len()) / 4;
    let completion_tokens = REPLY.len() / 4;
    assert_eq!(
        answer["usage"],
        json!({ "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens })
    );
    // The OpenAI client library reads it as a completion.
    assert_eq!(
        model::wire::completion_text(&reply.text).unwrap().0,
        REPLY.to_string()
    );

    let seen = s.seen();
    assert_eq!(
        seen,
        vec![json!({
            "model": "fake-model",
            "system": SYSTEM,
            "messages": [{ "role": "user", "content": PROMPT }],
            "max_tokens": 4096,
            "temperature": 1.0,
            "stop_sequences": ["END"],
        })],
        "a Messages API body: system apart, max_tokens set, response_format dropped"
    );
    let requests = s.fake.requests.lock().unwrap().clone();
    assert_eq!(requests[0].authorization, None, "the key goes in x-api-key");
    drop(requests);

    // A limit the reply does not fit in: cut, with finish_reason `length`.
    let reply = s
        .chat(json!({ "messages": messages(), "max_completion_tokens": 2 }))
        .await;
    let answer = reply.json();
    assert_eq!(answer["choices"][0]["finish_reason"], "length", "{answer}");
    assert_eq!(answer["choices"][0]["message"]["content"], "Hello fr");
    assert_eq!(s.seen()[1]["max_tokens"], 2);
    s.assert_no_key();
}

#[tokio::test]
async fn a_stream_is_translated_into_chunks() {
    let mut s = setup(KEY, false).await;
    let reply = s
        .chat(
            json!({ "messages": messages(), "stream": true, "max_tokens": 1000,
            "stream_options": { "include_usage": true } }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.headers["content-type"], "text/event-stream");
    let (chunks, done) = events(&reply);
    assert!(done, "the stream ends with [DONE]: {}", reply.text);
    assert!(chunks
        .iter()
        .all(|c| c["object"] == "chat.completion.chunk" && c["model"] == "fake-model"));
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({ "role": "assistant", "content": "" })
    );
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, REPLY);
    // One chunk per delta of five characters: the stream is not re-chunked.
    let deltas = chunks
        .iter()
        .filter(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        })
        .count();
    assert_eq!(deltas, REPLY.chars().count().div_ceil(5));
    let finish: Vec<&Value> = chunks
        .iter()
        .map(|c| &c["choices"][0]["finish_reason"])
        .filter(|f| !f.is_null())
        .collect();
    assert_eq!(finish, [&json!("stop")]);
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    let prompt_tokens = (SYSTEM.len() + PROMPT.len()) / 4;
    assert_eq!(last["usage"]["prompt_tokens"], prompt_tokens);
    assert_eq!(last["usage"]["completion_tokens"], REPLY.len() / 4);

    let seen = s.seen();
    assert_eq!(seen[0]["stream"], true);
    assert_eq!(seen[0]["max_tokens"], 1000);
    assert_eq!(seen[0]["system"], SYSTEM);
    assert!(seen[0].get("stream_options").is_none());

    // Whether a client that did not ask for usage gets the usage chunk is the gateway's
    // policy (`KEEP_UNASKED_USAGE`), tested with the OpenAI side; the translator's part is
    // unit-tested in `llm::anthropic`.
    s.assert_no_key();
}

#[tokio::test]
async fn faults_become_ai_errors() {
    let mut s = setup("sk-ant-wrong-key-0000", false).await;
    for stream in [false, true] {
        let reply = s
            .chat(json!({ "messages": messages(), "stream": stream }))
            .await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (StatusCode::BAD_GATEWAY, "AI_PROVIDER_AUTH"),
            "{}",
            reply.text
        );
        assert!(
            reply.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("invalid x-api-key"),
            "Anthropic's error message is quoted: {}",
            reply.text
        );
    }
    let models = s
        .alice
        .get(&format!("/api/v1/providers/{}/models", s.provider))
        .await;
    assert_eq!(models.code(), "AI_PROVIDER_AUTH");

    // What cannot be translated never reaches the provider.
    let before = s.seen().len();
    let reply = s
        .chat(json!({ "messages": [{ "role": "assistant", "content": "hello" }, { "role": "user", "content": "hi" }] }))
        .await;
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (StatusCode::BAD_REQUEST, "VAL_CHAT_REQUEST")
    );
    assert!(
        reply.text.contains("must be from the user"),
        "{}",
        reply.text
    );
    assert_eq!(s.seen().len(), before);
}

#[tokio::test]
async fn provider_errors_are_read_from_anthropics_shape() {
    let mut s = setup(KEY, false).await;
    // The fake fails a request as its model name asks, in Anthropic's error shape.
    let reply = s
        .chat(json!({ "model": "fake-model?status=400", "messages": messages() }))
        .await;
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (StatusCode::BAD_GATEWAY, "AI_PROVIDER_REJECTED"),
        "{}",
        reply.text
    );
    assert!(
        reply.text.contains("the fake provider fails with 400"),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn a_broken_stream_ends_with_an_in_band_error() {
    // Events 200 ms apart, so the client has had the first chunk before the fault.
    let mut s = setup(KEY, true).await;
    for (directive, code) in [
        ("malformed_after=4", "AI_STREAM_MALFORMED"),
        ("cut_after=4", "AI_STREAM_INCOMPLETE"),
    ] {
        let reply = s
            .chat(json!({ "model": format!("fake-model?{directive}"), "messages": messages(), "stream": true }))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let (chunks, done) = events(&reply);
        assert!(!done, "{}", reply.text);
        assert_eq!(
            chunks[0]["choices"][0]["delta"]["role"], "assistant",
            "{}",
            reply.text
        );
        assert_eq!(
            chunks.last().unwrap()["error"]["code"],
            code,
            "{}",
            reply.text
        );
    }
}

#[tokio::test]
async fn models_are_listed_in_anthropics_shape() {
    let mut s = setup(KEY, false).await;
    let reply = s
        .alice
        .get(&format!("/api/v1/providers/{}/models", s.provider))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    // The fake answers in Anthropic's shape (with display names) only to `anthropic-version`.
    assert_eq!(
        reply.json(),
        json!([{ "id": "fake-model", "name": "Fake Model" }])
    );
    s.assert_no_key();
}

/// The fake's stream, read back through the gateway's translation, gives the reply and the
/// usage.
#[test]
fn the_fake_stream_translates_back_into_the_reply() {
    let reply = "Here is a draft: caf\u{e9} \u{1f600} and more text than one chunk holds.";
    let events = stream_events(reply, "fake-model", 7, "end_turn", (10, 5));
    assert!(events.len() > 8, "the reply is cut into several deltas");
    let mut translator = StreamTranslator::new("fake-model".into(), true);
    let mut out = String::new();
    for event in &events {
        let bytes = translator.feed(event.as_bytes()).unwrap();
        out.push_str(std::str::from_utf8(&bytes).unwrap());
    }
    assert_eq!(translator.finish(), Ok(bytes::Bytes::new()));
    let mut text = String::new();
    let mut done = false;
    for data in out.split("\n\n").filter_map(|e| e.strip_prefix("data: ")) {
        match parse_stream_event(data).unwrap() {
            StreamEvent::Delta { content, .. } => text.push_str(&content),
            StreamEvent::Done => done = true,
        }
    }
    assert_eq!(text, reply);
    assert!(done);
    let usage = Usage {
        prompt_tokens: 10,
        completion_tokens: 5,
        total_tokens: 15,
    };
    assert_eq!(translator.usage(), Some(usage));

    // Without message_stop the translation reports an incomplete stream.
    let mut cut = StreamTranslator::new("fake-model".into(), false);
    for event in &events[..events.len() - 1] {
        cut.feed(event.as_bytes()).unwrap();
    }
    assert_eq!(cut.finish(), Err(StreamFault::Incomplete));
}
