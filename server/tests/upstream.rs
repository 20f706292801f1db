//! Every way a provider can fail, through the real server on a real socket and the fake
//! provider on another: error statuses, rate limits with and without a usable `Retry-After`,
//! server errors that pass on a retry, a first byte that never comes, a slow drip, a reset,
//! malformed JSON, a stream cut before `[DONE]`, a call that runs out of total time, and a
//! client that leaves mid-stream. Each failure is asked of the fake by directives in the model
//! name (`fake-model?status=503&times=1`), streamed and not; after each, the server is still
//! healthy and a normal call still works.
//!
//! A streamed failure after the first byte is an *in-band error*: the stream's last event is
//! `data: {"error":{"code","message"}}` and no `[DONE]` follows.

#![allow(clippy::unwrap_used)]

mod common;

use common::{start_fake, start_server, Client, Reply, TestServer};
use fake_provider::{Fake, FakeOptions, Rule, Script};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use server::config::Config;
use std::{
    sync::{atomic::Ordering, Arc},
    time::{Duration, Instant},
};

/// What the fake answers; 42 characters, so 6 content events of 8 characters.
const REPLY: &str = "Hello from the fake provider, all is well.";

/// A server, a fake provider and a signed-in user with a provider pointing at the fake.
struct Setup {
    _server: TestServer,
    fake: Arc<Fake>,
    fake_url: String,
    alice: Client,
    provider: String,
}

async fn setup(configure: impl FnOnce(&mut Config)) -> Setup {
    let (fake_url, fake) = start_fake(FakeOptions {
        script: Script {
            rules: vec![Rule {
                when_contains: String::new(),
                reply: REPLY.into(),
            }],
        },
        chunk_chars: 8,
        chunk_delay: Duration::ZERO,
        expect_key: Some("sk-upstream-test-key".into()),
        record: true,
    })
    .await;
    let server = start_server(|config| {
        // Quick retries, so that the tests of what is retried do not wait.
        config.upstream_retry_base_ms = 10;
        configure(config);
    })
    .await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let provider = alice
        .add_provider("fake", &fake_url, "sk-upstream-test-key")
        .await;
    Setup {
        _server: server,
        fake,
        fake_url,
        alice,
        provider,
    }
}

impl Setup {
    async fn chat(&mut self, model: &str, stream: bool) -> Reply {
        let path = format!("/api/v1/llm/{}/chat/completions", self.provider);
        let body = json!({
            "model": model,
            "messages": [{ "role": "user", "content": "say hello" }],
            "stream": stream,
        });
        self.alice.post(&path, body).await
    }

    /// A streamed call whose response the test reads (and drops) chunk by chunk itself.
    async fn raw_stream(&self, model: &str) -> reqwest::Response {
        let url = format!(
            "{}/api/v1/llm/{}/chat/completions",
            self.alice.base, self.provider
        );
        reqwest::Client::new()
            .post(url)
            .header("x-dm-csrf", "1")
            .header(header::COOKIE, self.alice.cookie.clone().unwrap())
            .json(&json!({
                "model": model,
                "messages": [{ "role": "user", "content": "say hello" }],
                "stream": true,
            }))
            .send()
            .await
            .unwrap()
    }

    /// Requests the fake has received so far.
    fn upstream_requests(&self) -> usize {
        self.fake.requests.lock().unwrap().len()
    }

    /// The server is healthy and answers a normal call, streamed and not.
    async fn still_fine(&mut self) {
        assert_eq!(self.alice.get("/healthz").await.status, StatusCode::OK);
        let reply = self.chat("fake-model", true).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(streamed(&reply), Ok(REPLY.to_string()));
        let reply = self.chat("fake-model", false).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(
            model::wire::completion_text(&reply.text).unwrap().0,
            REPLY,
            "{}",
            reply.text
        );
        self.no_key_seen();
    }

    fn no_key_seen(&self) {
        for text in self.alice.seen.lock().unwrap().iter() {
            assert!(
                !text.contains("sk-upstream-test-key"),
                "the key leaked: {text}"
            );
        }
    }
}

/// The data payloads of a stream's events.
fn data(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|event| {
            let lines: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .collect();
            (!lines.is_empty()).then(|| lines.join("\n"))
        })
        .collect()
}

/// A successful stream's text, or the in-band error code it ended with. Every event before
/// the end must be JSON, and an in-band error must be the last event, with no `[DONE]`.
fn streamed(reply: &Reply) -> Result<String, String> {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "text/event-stream");
    let events = data(&reply.text);
    let mut text = String::new();
    for (i, payload) in events.iter().enumerate() {
        let last = i + 1 == events.len();
        if payload == "[DONE]" {
            assert!(last, "[DONE] is last: {}", reply.text);
            return Ok(text);
        }
        let event: Value = serde_json::from_str(payload)
            .unwrap_or_else(|e| panic!("event {i} is not JSON ({e}): {}", reply.text));
        if let Some(code) = event.pointer("/error/code").and_then(Value::as_str) {
            assert!(last, "the error is the last event: {}", reply.text);
            let message = event["error"]["message"].as_str().unwrap();
            assert!(
                message.contains(": "),
                "the message says what to do: {message}"
            );
            return Err(code.to_string());
        }
        for choice in event["choices"].as_array().unwrap() {
            text.push_str(choice["delta"]["content"].as_str().unwrap_or_default());
        }
    }
    panic!(
        "the stream ended with neither [DONE] nor an error: {}",
        reply.text
    )
}

fn status_and_code(reply: &Reply) -> (StatusCode, String) {
    (reply.status, reply.code())
}

/// Each error status has its code; the provider's own message is quoted only for a known
/// provider kind (here OpenAI's API at the fake's URL), never for an OpenAI-compatible URL,
/// whose body could be anything the server can reach.
#[tokio::test]
async fn error_statuses_are_mapped_and_quoted() {
    let mut s = setup(|c| c.upstream_retries = 1).await;
    let compatible = s.provider.clone();
    let reply = s
        .alice
        .post(
            "/api/v1/providers",
            json!({ "name": "openai", "kind": "openai", "base_url": s.fake_url, "model": "fake-model", "api_key": "sk-upstream-test-key" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let openai = reply.json()["id"].as_str().unwrap().to_string();
    let cases = [
        (400, "AI_PROVIDER_REJECTED", 1),
        (401, "AI_PROVIDER_AUTH", 1),
        (404, "AI_PROVIDER_NOT_FOUND", 1),
        (500, "AI_PROVIDER_UNAVAILABLE", 2),
        (503, "AI_PROVIDER_UNAVAILABLE", 2),
    ];
    for (status, code, attempts) in cases {
        for (stream, provider) in [
            (true, &openai),
            (false, &openai),
            (true, &compatible),
            (false, &compatible),
        ] {
            s.provider = provider.clone();
            let before = s.upstream_requests();
            let reply = s.chat(&format!("fake-model?status={status}"), stream).await;
            assert_eq!(
                status_and_code(&reply),
                (StatusCode::BAD_GATEWAY, code.to_string()),
                "{status} stream {stream}: {}",
                reply.text
            );
            let message = reply.json()["error"]["message"]
                .as_str()
                .unwrap()
                .to_string();
            let quoted =
                message.contains(&format!("the fake provider fails with {status} as asked"));
            assert_eq!(quoted, *provider == openai, "{message}");
            assert!(message.contains(&format!("status {status}")), "{message}");
            assert_eq!(
                s.upstream_requests() - before,
                attempts,
                "{status}: 5xx is retried once, 4xx is not"
            );
        }
    }
    s.provider = compatible;
    s.still_fine().await;
}

/// A provider that answers with a redirect, to an internal service here: the redirect is not
/// followed (the request and its key would go to an address the provider's URL does not name),
/// the user gets an error that says so without quoting where it points, and the service is
/// never reached.
#[tokio::test]
async fn redirects_are_not_followed() {
    let mut s = setup(|c| c.upstream_retries = 1).await;
    let (internal_url, internal) = start_fake(FakeOptions {
        script: Script {
            rules: vec![Rule {
                when_contains: String::new(),
                reply: "internal secrets".into(),
            }],
        },
        chunk_chars: 8,
        chunk_delay: Duration::ZERO,
        expect_key: None,
        record: true,
    })
    .await;
    let target = format!("{internal_url}/chat/completions");
    for (status, stream) in [(307, false), (307, true), (302, false), (308, true)] {
        let before = s.upstream_requests();
        let reply = s
            .chat(
                &format!("fake-model?status={status}&location={target}"),
                stream,
            )
            .await;
        assert_eq!(
            status_and_code(&reply),
            (
                StatusCode::BAD_GATEWAY,
                "AI_PROVIDER_UNAVAILABLE".to_string()
            ),
            "{status} stream {stream}: {}",
            reply.text
        );
        let message = reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            message.contains("redirect, which is not followed"),
            "{message}"
        );
        assert!(!message.contains(&internal_url), "{message}");
        assert_eq!(
            s.upstream_requests() - before,
            1,
            "{status}: a redirect is neither followed nor retried"
        );
    }
    assert_eq!(
        internal.requests.lock().unwrap().len(),
        0,
        "the internal service was reached"
    );
    s.still_fine().await;
}

#[tokio::test]
async fn a_rate_limit_with_retry_after_is_waited_out_and_retried() {
    let mut s = setup(|_| {}).await;
    for stream in [true, false] {
        let before = s.upstream_requests();
        let started = Instant::now();
        let reply = s
            .chat(
                &format!("fake-model?retry_after=1&times=1&case={stream}"),
                stream,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        if stream {
            assert_eq!(streamed(&reply), Ok(REPLY.to_string()));
        }
        assert_eq!(s.upstream_requests() - before, 2);
        assert!(
            started.elapsed() >= Duration::from_millis(950),
            "the provider's Retry-After of 1 s is honoured"
        );
    }
    s.still_fine().await;
}

#[tokio::test]
async fn a_rate_limit_longer_than_the_max_wait_goes_to_the_client() {
    let mut s = setup(|c| c.upstream_retry_max_wait_ms = 2000).await;
    for stream in [true, false] {
        let before = s.upstream_requests();
        let reply = s.chat("fake-model?retry_after=30", stream).await;
        assert_eq!(
            status_and_code(&reply),
            (
                StatusCode::TOO_MANY_REQUESTS,
                "AI_PROVIDER_RATE_LIMITED".into()
            ),
            "{}",
            reply.text
        );
        assert_eq!(reply.headers[header::RETRY_AFTER], "30");
        assert_eq!(s.upstream_requests() - before, 1, "not retried");
    }
    // A 429 without a usable Retry-After is retried; when the retries run out, the client is
    // still told when to come back.
    let before = s.upstream_requests();
    let reply = s.chat("fake-model?status=429", false).await;
    assert_eq!(reply.code(), "AI_PROVIDER_RATE_LIMITED");
    assert!(reply.headers.contains_key(header::RETRY_AFTER));
    assert_eq!(
        s.upstream_requests() - before,
        3,
        "the first try and 2 retries"
    );
    s.still_fine().await;
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let mut s = setup(|c| c.upstream_retries = 2).await;
    for stream in [true, false] {
        for model in [
            format!("fake-model?status=503&times=1&case={stream}"),
            format!("fake-model?status=500&times=2&case={stream}"),
        ] {
            let before = s.upstream_requests();
            let reply = s.chat(&model, stream).await;
            assert_eq!(reply.status, StatusCode::OK, "{model}: {}", reply.text);
            if stream {
                assert_eq!(streamed(&reply), Ok(REPLY.to_string()));
            } else {
                assert_eq!(model::wire::completion_text(&reply.text).unwrap().0, REPLY);
            }
            assert!(s.upstream_requests() - before >= 2);
        }
    }
    s.still_fine().await;
}

#[tokio::test]
async fn a_first_byte_later_than_the_timeout_is_a_504() {
    let mut s = setup(|c| c.upstream_first_byte_timeout_ms = 300).await;
    for stream in [true, false] {
        let before = s.upstream_requests();
        let reply = s.chat("fake-model?first_byte_ms=3000", stream).await;
        assert_eq!(
            status_and_code(&reply),
            (StatusCode::GATEWAY_TIMEOUT, "AI_UPSTREAM_TIMEOUT".into()),
            "{}",
            reply.text
        );
        assert!(reply.text.contains("300 ms"), "{}", reply.text);
        assert_eq!(
            s.upstream_requests() - before,
            1,
            "a timeout is not retried"
        );
    }
    s.still_fine().await;
}

#[tokio::test]
async fn a_slow_drip_beyond_the_idle_timeout_ends_the_call() {
    let mut s = setup(|c| c.upstream_idle_timeout_ms = 300).await;
    let reply = s.chat("fake-model?drip_ms=3000", true).await;
    assert_eq!(streamed(&reply), Err("AI_STREAM_IDLE_TIMEOUT".into()));
    let reply = s.chat("fake-model?drip_ms=3000", false).await;
    assert_eq!(
        status_and_code(&reply),
        (StatusCode::GATEWAY_TIMEOUT, "AI_UPSTREAM_TIMEOUT".into()),
        "{}",
        reply.text
    );
    assert!(reply.text.contains("stopped sending"), "{}", reply.text);
    s.still_fine().await;
}

#[tokio::test]
async fn a_reset_mid_stream_is_an_incomplete_answer() {
    let mut s = setup(|_| {}).await;
    let reply = s.chat("fake-model?reset_after=3", true).await;
    assert_eq!(streamed(&reply), Err("AI_STREAM_INCOMPLETE".into()));
    assert!(
        data(&reply.text).len() >= 2,
        "the events before the reset went through: {}",
        reply.text
    );
    let reply = s.chat("fake-model?reset_after=3", false).await;
    assert_eq!(
        status_and_code(&reply),
        (StatusCode::BAD_GATEWAY, "AI_UPSTREAM_INCOMPLETE".into()),
        "{}",
        reply.text
    );
    // A reset before the first byte is an HTTP error, not an in-band one.
    let reply = s.chat("fake-model?reset_after=0", true).await;
    assert_eq!(
        status_and_code(&reply),
        (StatusCode::BAD_GATEWAY, "AI_UPSTREAM_INCOMPLETE".into()),
        "{}",
        reply.text
    );
    s.still_fine().await;
}

#[tokio::test]
async fn malformed_json_is_caught() {
    let mut s = setup(|_| {}).await;
    let reply = s.chat("fake-model?malformed_after=3", true).await;
    assert_eq!(streamed(&reply), Err("AI_STREAM_MALFORMED".into()));
    assert_eq!(
        data(&reply.text).len(),
        3,
        "2 events, then the error instead of the broken one: {}",
        reply.text
    );
    let reply = s.chat("fake-model?malformed_after=1", true).await;
    assert_eq!(
        status_and_code(&reply),
        (StatusCode::BAD_GATEWAY, "AI_UPSTREAM_MALFORMED".into()),
        "a broken first event is an HTTP error: {}",
        reply.text
    );
    let reply = s.chat("fake-model?malformed_after=1", false).await;
    assert_eq!(
        status_and_code(&reply),
        (StatusCode::BAD_GATEWAY, "AI_UPSTREAM_MALFORMED".into()),
        "{}",
        reply.text
    );
    s.still_fine().await;
}

#[tokio::test]
async fn a_stream_cut_before_done_is_incomplete() {
    let mut s = setup(|_| {}).await;
    let reply = s.chat("fake-model?cut_after=4", true).await;
    assert_eq!(streamed(&reply), Err("AI_STREAM_INCOMPLETE".into()));
    assert_eq!(
        data(&reply.text).len(),
        5,
        "4 events and the error: {}",
        reply.text
    );
    // A non-streamed body cut short is not JSON.
    let reply = s.chat("fake-model?cut_after=2", false).await;
    assert_eq!(
        status_and_code(&reply),
        (StatusCode::BAD_GATEWAY, "AI_UPSTREAM_MALFORMED".into()),
        "{}",
        reply.text
    );
    s.still_fine().await;
}

#[tokio::test]
async fn a_call_longer_than_the_total_timeout_ends() {
    // 10 events 250 ms apart take over 2 s: past the total of 1 s, never idle for 3 s.
    let mut s = setup(|c| {
        c.upstream_total_timeout_ms = 1000;
        c.upstream_idle_timeout_ms = 3000;
    })
    .await;
    let reply = s.chat("fake-model?drip_ms=250", true).await;
    assert_eq!(streamed(&reply), Err("AI_STREAM_TOTAL_TIMEOUT".into()));
    let reply = s.chat("fake-model?drip_ms=250", false).await;
    assert_eq!(
        status_and_code(&reply),
        (StatusCode::GATEWAY_TIMEOUT, "AI_UPSTREAM_TIMEOUT".into()),
        "{}",
        reply.text
    );
    assert!(reply.text.contains("did not finish"), "{}", reply.text);
    // The total covers the wait for the first byte too.
    let reply = s.chat("fake-model?first_byte_ms=3000", true).await;
    assert_eq!(reply.code(), "AI_UPSTREAM_TIMEOUT", "{}", reply.text);
    s.still_fine().await;
}

#[tokio::test]
async fn a_client_that_leaves_mid_stream_cancels_the_upstream_call() {
    let mut s = setup(|_| {}).await;
    assert_eq!(s.fake.cancelled.load(Ordering::SeqCst), 0);
    let mut response = s.raw_stream("fake-model?drip_ms=300").await;
    assert_eq!(response.status(), StatusCode::OK);
    let first = response.chunk().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: "));
    drop(response);
    let mut waited = Duration::ZERO;
    while s.fake.cancelled.load(Ordering::SeqCst) == 0 {
        assert!(
            waited < Duration::from_secs(5),
            "the upstream stream was not dropped"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    s.still_fine().await;
    assert_eq!(
        s.fake.cancelled.load(Ordering::SeqCst),
        1,
        "finished streams are not counted"
    );
}

#[tokio::test]
async fn a_client_that_leaves_after_done_made_a_complete_call() {
    // Browsers stop reading at `[DONE]` and drop the response; the provider here keeps its
    // connection open for 2 s after `[DONE]`, so the relay is still running when they do.
    let mut s = setup(|_| {}).await;
    let mut response = s.raw_stream("fake-model?linger_ms=2000").await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut received = Vec::new();
    while !received.windows(6).any(|w| w == b"[DONE]") {
        let chunk = response
            .chunk()
            .await
            .unwrap()
            .expect("the stream ended before [DONE]");
        received.extend_from_slice(&chunk);
    }
    drop(response);
    // The call is recorded when the relay notices the client left.
    let ok = r#"llm_calls_total{provider_kind="compatible",stream="true",outcome="ok"}"#;
    let cancelled =
        r#"llm_calls_total{provider_kind="compatible",stream="true",outcome="client_cancelled"}"#;
    let deadline = Instant::now() + Duration::from_secs(10);
    let scrape = loop {
        let scrape = s.alice.get("/metrics").await.text;
        if scrape.lines().any(|l| l.starts_with(ok)) || Instant::now() > deadline {
            break scrape;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        scrape.lines().any(|l| l == format!("{ok} 1")),
        "the call is not counted as ok:\n{scrape}"
    );
    assert!(
        !scrape.lines().any(|l| l.starts_with(cancelled)),
        "a complete call counted as cancelled:\n{scrape}"
    );
    assert!(
        scrape.lines().any(|l| l == "llm_client_cancelled_total 0"),
        "{scrape}"
    );
}

#[tokio::test]
async fn usage_is_always_asked_for_and_passed_on_when_the_client_asks() {
    let mut s = setup(|_| {}).await;
    let path = format!("/api/v1/llm/{}/chat/completions", s.provider);
    let reply = s
        .alice
        .post(
            &path,
            json!({
                "messages": [{ "role": "user", "content": "say hello" }],
                "stream": true,
                "stream_options": { "include_usage": true, "other": 1 },
            }),
        )
        .await;
    assert_eq!(streamed(&reply), Ok(REPLY.to_string()));
    let events = data(&reply.text);
    let usage: Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert_eq!(usage["usage"]["completion_tokens"], REPLY.len() / 4);
    let seen = s.fake.requests.lock().unwrap().last().unwrap().body.clone();
    assert_eq!(
        seen["model"], "fake-model",
        "the provider's model is filled in"
    );
    assert_eq!(
        seen["stream_options"],
        json!({ "include_usage": true, "other": 1 }),
        "the client's other stream options are kept"
    );
    // Without include_usage, the provider is still asked (for token accounting), but the
    // client gets exactly what it asked for: no usage chunk.
    let reply = s.chat("fake-model", true).await;
    assert_eq!(streamed(&reply), Ok(REPLY.to_string()));
    assert!(!reply.text.contains("\"usage\""), "{}", reply.text);
    let seen = s.fake.requests.lock().unwrap().last().unwrap().body.clone();
    assert_eq!(seen["stream_options"], json!({ "include_usage": true }));
}

#[tokio::test]
async fn models_are_listed_through_the_gateway() {
    let mut s = setup(|_| {}).await;
    let reply = s
        .alice
        .get(&format!("/api/v1/providers/{}/models", s.provider))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json(), json!([{ "id": "fake-model" }]));
    let reply = s
        .alice
        .get(&format!("/api/v1/llm/{}/models", s.provider))
        .await;
    assert_eq!(reply.json()["data"][0]["id"], "fake-model");
    // A wrong key is the provider's 401, mapped.
    let fake_url = s.fake_url.clone();
    let wrong = s.alice.add_provider("wrong", &fake_url, "sk-wrong").await;
    let reply = s
        .alice
        .get(&format!("/api/v1/providers/{wrong}/models"))
        .await;
    assert_eq!(
        status_and_code(&reply),
        (StatusCode::BAD_GATEWAY, "AI_PROVIDER_AUTH".into()),
        "{}",
        reply.text
    );
    // The fake answers in Anthropic's shape to Anthropic's headers.
    let anthropic: Value = reqwest::Client::new()
        .get(format!("{fake_url}/models"))
        .header("x-api-key", "sk-upstream-test-key")
        .header("anthropic-version", "2023-06-01")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(anthropic["data"][0]["type"], "model");
    assert_eq!(anthropic["data"][0]["id"], "fake-model");
    assert_eq!(anthropic["has_more"], false);
    assert_eq!(anthropic["last_id"], "fake-model");
}

/// A request with fields of the wrong type or range is refused before anything goes
/// upstream, with every wrong field named; the provider is not blamed for it.
#[tokio::test]
async fn wrong_fields_never_reach_the_provider() {
    let mut s = setup(|_| {}).await;
    let path = format!("/api/v1/llm/{}/chat/completions", s.provider);
    for (body, paths) in [
        (
            json!({ "messages": [{ "role": "user", "content": "hi" }], "stream": "yes" }),
            vec!["stream"],
        ),
        (
            json!({ "messages": [{ "role": "user", "content": "hi" }], "temperature": 9, "max_tokens": -1 }),
            vec!["temperature", "max_tokens"],
        ),
        (
            json!({ "messages": [{ "role": "robot", "content": "hi" }] }),
            vec!["messages[0].role"],
        ),
        (json!({ "prompt": "hi" }), vec!["messages"]),
    ] {
        let reply = s.alice.post(&path, body.clone()).await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (StatusCode::BAD_REQUEST, "VAL_CHAT_REQUEST"),
            "{body}: {}",
            reply.text
        );
        let fields: Vec<String> = reply.json()["error"]["details"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(fields, paths, "{body}");
    }
    assert_eq!(s.upstream_requests(), 0, "nothing reached the provider");
    s.still_fine().await;
}

/// A context-length refusal and a content-policy refusal have codes of their own; for an
/// OpenAI-compatible URL the provider's words are not quoted.
#[tokio::test]
async fn context_and_content_refusals_have_their_own_codes() {
    let mut s = setup(|_| {}).await;
    for (model, code) in [
        (
            "fake-model?status=400&error_code=context_length_exceeded",
            "AI_TOKEN_LIMIT",
        ),
        (
            "fake-model?status=400&error_code=content_policy_violation",
            "AI_CONTENT_POLICY",
        ),
        ("fake-model?status=400", "AI_PROVIDER_REJECTED"),
    ] {
        for stream in [false, true] {
            let reply = s.chat(model, stream).await;
            let expected = if code == "AI_PROVIDER_REJECTED" {
                StatusCode::BAD_GATEWAY
            } else {
                StatusCode::BAD_REQUEST
            };
            assert_eq!(
                status_and_code(&reply),
                (expected, code.to_string()),
                "{model}: {}",
                reply.text
            );
            assert_eq!(reply.headers["x-should-retry"], "false");
            assert!(!reply.text.contains("the fake provider"), "{}", reply.text);
        }
    }
    s.still_fine().await;
}
