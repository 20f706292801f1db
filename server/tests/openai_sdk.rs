//! The official `openai` Python SDK, pointed at the gateway with a Data Modeller API token,
//! calls it non-streamed and streamed, lists models, and meets our errors as SDK exceptions.
//!
//! The SDK lives in the venv that `bash .ci/dev test` installs and names in `DM_PYTHON`; the
//! script is `tests/sdk/openai_client.py`.

#![allow(clippy::unwrap_used)]

mod common;

use common::{start_fake, start_server, Client};
use fake_provider::FakeOptions;
use serde_json::Value;
use std::time::Duration;

const KEY: &str = "sk-sdk-SECRET-1357";

fn python() -> String {
    std::env::var("DM_PYTHON").unwrap_or_else(|_| {
        panic!(
            "DM_PYTHON is not set: run the tests with `bash .ci/dev test`, which installs the \
             openai SDK in a venv and exports DM_PYTHON"
        )
    })
}

#[tokio::test]
async fn the_openai_python_sdk_calls_the_gateway() {
    let (fake_url, _) = start_fake(FakeOptions {
        chunk_delay: Duration::from_millis(2),
        expect_key: Some(KEY.into()),
        ..FakeOptions::default()
    })
    .await;
    let server = start_server(|c| {
        // Retries of the injected 401 would only slow the test down.
        c.upstream_retries = 0;
    })
    .await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let provider = alice.add_provider("fake", &fake_url, KEY).await;
    let token = alice.create_token("sdk").await;

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/openai_client.py");
    let output = tokio::process::Command::new(python())
        .arg(script)
        .env("BASE", format!("{}/api/v1/llm/{provider}", server.base))
        .env("TOKEN", &token)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the script failed: {stderr}");
    let seen: Value = serde_json::from_str(stdout.trim()).unwrap();

    assert!(
        seen["text"].as_str().unwrap().contains("first draft"),
        "{seen}"
    );
    assert_eq!(seen["finish_reason"], "stop");
    assert!(seen["total_tokens"].as_u64().unwrap() > 0);
    // The stream carries the same text, in many chunks, with usage at the end.
    assert_eq!(seen["stream_text"], seen["text"]);
    assert!(seen["stream_chunks"].as_u64().unwrap() > 10, "{seen}");
    assert_eq!(seen["stream_total_tokens"], seen["total_tokens"]);
    assert_eq!(seen["plain_stream_usage_chunks"], 0);
    assert_eq!(seen["models"], serde_json::json!(["fake-model"]));

    assert_eq!(seen["bad_token"]["type"], "AuthenticationError");
    assert_eq!(seen["bad_token"]["status"], 401);
    assert_eq!(seen["bad_token"]["code"], "AUTH_INVALID_TOKEN");
    assert_eq!(seen["provider_auth"]["status"], 502);
    assert_eq!(seen["provider_auth"]["code"], "AI_PROVIDER_AUTH");
    // A stream cut before [DONE] surfaces as an SDK error, not as a silently short answer.
    assert_eq!(seen["cut_stream"]["type"], "APIError", "{seen}");
    assert!(seen["cut_stream"]["message"]
        .as_str()
        .unwrap()
        .contains("before it was complete"));
    assert!(!stdout.contains("SECRET") && !stderr.contains("SECRET"));
}

/// One SDK call with the SDK's default retries makes at most `1 + retries` upstream requests:
/// the gateway retries the provider itself and tells the SDK not to retry on top
/// (`x-should-retry: false`), with the server's retry count and with a provider's own.
#[tokio::test]
async fn sdk_retries_do_not_multiply_the_gateways() {
    let (fake_url, fake) = start_fake(FakeOptions {
        expect_key: Some(KEY.into()),
        ..FakeOptions::default()
    })
    .await;
    let server = start_server(|c| {
        c.upstream_retries = 2;
        c.upstream_retry_base_ms = 10;
    })
    .await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let default_retries = alice.add_provider("fake", &fake_url, KEY).await;
    let reply = alice
        .post(
            "/api/v1/providers",
            serde_json::json!({ "name": "no-retries", "base_url": fake_url, "model": "fake-model", "api_key": KEY, "retries": 0 }),
        )
        .await;
    assert_eq!(reply.json()["retries"], 0, "{}", reply.text);
    let no_retries = reply.json()["id"].as_str().unwrap().to_string();
    let token = alice.create_token("sdk").await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/retries.py");
    for (provider, model, status, code, most) in [
        (
            &default_retries,
            "fake-model?status=429&retry_after=1",
            429,
            "AI_PROVIDER_RATE_LIMITED",
            3,
        ),
        (
            &default_retries,
            "fake-model?status=503",
            502,
            "AI_PROVIDER_UNAVAILABLE",
            3,
        ),
        (
            &no_retries,
            "fake-model?status=503",
            502,
            "AI_PROVIDER_UNAVAILABLE",
            1,
        ),
        (
            &no_retries,
            "fake-model?status=429",
            429,
            "AI_PROVIDER_RATE_LIMITED",
            1,
        ),
    ] {
        let before = fake.requests.lock().unwrap().len();
        let output = tokio::process::Command::new(python())
            .arg(script)
            .env("BASE", format!("{}/api/v1/llm/{provider}", server.base))
            .env("TOKEN", &token)
            .env("MODEL", model)
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "the script failed: {stderr}");
        let seen: Value =
            serde_json::from_str(String::from_utf8_lossy(&output.stdout).trim()).unwrap();
        assert_eq!(
            seen["max_retries"], 2,
            "the SDK's default retries are on: {seen}"
        );
        assert_eq!(
            (seen["status"].as_u64(), seen["code"].as_str()),
            (Some(status), Some(code)),
            "{seen}"
        );
        let upstream = fake.requests.lock().unwrap().len() - before;
        assert_eq!(
            upstream, most,
            "{model}: upstream requests for one SDK call ({seen})"
        );
    }
}
