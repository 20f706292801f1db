//! A provider key never leaves the server: a whole session (providers of every kind added,
//! tested and listed; calls streamed and not, through a session and an API token; upstream
//! failures before and during a stream; a rate-limited call; the metrics scraped) runs with
//! every log target at TRACE, captured, and every log line, response body, response header
//! and metric is scanned for the keys.

#![allow(clippy::unwrap_used)]

mod common;

use common::{start_fake, start_server, Client, LogCapture};
use fake_provider::FakeOptions;
use serde_json::json;
use std::time::Duration;

const KEY: &str = "sk-log-scan-SECRET-2468";

// One thread: the subscriber set with `set_default` sees every task of the test, including
// the server's and the HTTP client's.
#[tokio::test(flavor = "current_thread")]
async fn the_key_is_in_no_log_line() {
    let (capture, _guard) = LogCapture::install();

    let (fake_url, _) = start_fake(FakeOptions {
        chunk_delay: Duration::ZERO,
        expect_key: Some(KEY.into()),
        ..FakeOptions::default()
    })
    .await;
    let server = start_server(|c| {
        c.upstream_retries = 1;
        c.upstream_retry_base_ms = 10;
        c.llm_requests_per_minute = 25;
    })
    .await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let good = alice.add_provider("good", &fake_url, KEY).await;
    let bad = alice
        .add_provider("bad", &fake_url, &format!("{KEY}-wrong"))
        .await;
    let anthropic = alice
        .post(
            "/api/v1/providers",
            json!({ "name": "claude", "kind": "anthropic", "base_url": fake_url, "model": "fake-model", "api_key": KEY }),
        )
        .await;
    let anthropic = anthropic.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let token = alice.create_token("scan").await;
    let mut program = Client::new(&server.base);
    program.bearer = Some(token);

    let messages = json!([{ "role": "user", "content": "a library" }]);
    let models = [
        "fake-model",
        "fake-model?status=401",
        "fake-model?status=500",
        "fake-model?status=429&retry_after=1&times=1",
        "fake-model?cut_after=2",
        "fake-model?malformed_after=2",
    ];
    for provider in [&good, &bad, &anthropic] {
        alice
            .post(&format!("/api/v1/providers/{provider}/test"), json!({}))
            .await;
        alice
            .get(&format!("/api/v1/providers/{provider}/models"))
            .await;
        for model in models {
            for stream in [true, false] {
                let client = if stream { &mut program } else { &mut alice };
                let reply = client
                    .post(
                        &format!("/api/v1/llm/{provider}/chat/completions"),
                        json!({ "model": model, "messages": messages, "stream": stream }),
                    )
                    .await;
                assert!(
                    reply.status.is_success()
                        || reply.text.contains("AI_")
                        || reply.text.contains("RATE_"),
                    "{}",
                    reply.text
                );
            }
        }
    }
    alice.get("/api/v1/providers").await;
    alice.get("/metrics").await;
    alice.get("/api/v1/openapi.json").await;
    drop(server);
    tokio::time::sleep(Duration::from_millis(50)).await;

    let logs = capture.text();
    assert!(
        logs.contains("llm call forwarded"),
        "the capture works: {}",
        &logs[..logs.len().min(2000)]
    );
    assert!(logs.contains("provider returned an error"));
    assert!(
        !logs.contains(KEY) && !logs.contains("SECRET"),
        "the key is in the logs"
    );
    let seen: Vec<String> = alice
        .seen
        .lock()
        .unwrap()
        .iter()
        .chain(program.seen.lock().unwrap().iter())
        .cloned()
        .collect();
    assert!(
        seen.iter().any(|t| t.contains("llm_calls_total")),
        "the metrics were scraped"
    );
    for text in &seen {
        assert!(!text.contains("SECRET"), "the key is in a response: {text}");
    }
}
