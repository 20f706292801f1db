//! The real server on a real socket with a temporary SQLite file, and the fake provider on
//! another socket: accounts, the key vault, the LLM gateway (streamed and not) and rate limits,
//! as the browser uses them. Sync has its own file, `sync.rs`.

#![allow(clippy::unwrap_used)]

mod common;

use common::{start_fake, start_server, Client};
use fake_provider::FakeOptions;
use model::wire::{parse_stream_event, StreamEvent};
use model::{parse_model, validate, Conventions};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

const KEY: &str = "sk-test-SECRET-4321";

fn fake_options() -> FakeOptions {
    FakeOptions {
        chunk_delay: Duration::ZERO,
        expect_key: Some(KEY.into()),
        ..FakeOptions::default()
    }
}

fn messages(instruction: &str) -> Value {
    json!([{ "role": "system", "content": "answer in JSON" }, { "role": "user", "content": instruction }])
}

#[tokio::test]
async fn accounts_first_user_is_admin_and_sessions_work() {
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    assert_eq!(alice.register("alice").await["is_admin"], true);
    let mut bob = Client::new(&server.base);
    assert_eq!(bob.register("bob").await["is_admin"], false);
    assert_eq!(
        alice.get("/api/v1/auth/me").await.json()["username"],
        "alice"
    );

    let mut again = Client::new(&server.base);
    let taken = again
        .post(
            "/api/v1/auth/register",
            json!({ "username": "ALICE", "password": "another long one" }),
        )
        .await;
    assert_eq!(
        (taken.status, taken.code().as_str()),
        (StatusCode::CONFLICT, "VAL_USERNAME_TAKEN")
    );
    let wrong = again
        .post(
            "/api/v1/auth/login",
            json!({ "username": "alice", "password": "not her password" }),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.code().as_str()),
        (StatusCode::UNAUTHORIZED, "AUTH_INVALID_CREDENTIALS")
    );
    let missing = again
        .post(
            "/api/v1/auth/login",
            json!({ "username": "nobody", "password": "not her password" }),
        )
        .await;
    assert_eq!(missing.code(), "AUTH_INVALID_CREDENTIALS");
    let ok = again
        .post(
            "/api/v1/auth/login",
            json!({ "username": "alice", "password": "correct horse battery" }),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let cookie = ok
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );

    let out = again.call(Method::POST, "/api/v1/auth/logout", None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        again.get("/api/v1/auth/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    // Alice's other session is still valid.
    assert_eq!(alice.get("/api/v1/auth/me").await.status, StatusCode::OK);
}

#[tokio::test]
async fn providers_are_masked_owned_and_stored_encrypted() {
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let id = alice
        .add_provider("fake", "http://127.0.0.1:9/v1/", KEY)
        .await;
    let list = alice.get("/api/v1/providers").await.json();
    assert_eq!(list[0]["key_masked"], "••••4321");
    assert_eq!(list[0]["base_url"], "http://127.0.0.1:9/v1");

    let bad = alice
        .post(
            "/api/v1/providers",
            json!({ "name": "x", "base_url": "ftp://h", "model": "m", "api_key": "k" }),
        )
        .await;
    assert_eq!(bad.code(), "VAL_BASE_URL");
    let dup = alice
        .post(
            "/api/v1/providers",
            json!({ "name": "fake", "base_url": "http://127.0.0.1:8/v1", "model": "m", "api_key": "k" }),
        )
        .await;
    assert_eq!(dup.code(), "VAL_PROVIDER_EXISTS");

    // Bob can neither see, use nor delete Alice's provider.
    let mut bob = Client::new(&server.base);
    bob.register("bob").await;
    assert_eq!(bob.get("/api/v1/providers").await.json(), json!([]));
    let use_it = bob
        .post(
            &format!("/api/v1/llm/{id}/chat/completions"),
            json!({ "messages": messages("hi") }),
        )
        .await;
    assert_eq!(
        (use_it.status, use_it.code().as_str()),
        (StatusCode::NOT_FOUND, "RES_NOT_FOUND")
    );
    let del = bob
        .call(Method::DELETE, &format!("/api/v1/providers/{id}"), None)
        .await;
    assert_eq!(del.status, StatusCode::NOT_FOUND);

    // The key is not in the database file in the clear.
    let db = std::fs::read(server.dir.path().join("data/data-modeller.db")).unwrap();
    let wal =
        std::fs::read(server.dir.path().join("data/data-modeller.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(!bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()));
    }
    assert_eq!(
        alice
            .call(Method::DELETE, &format!("/api/v1/providers/{id}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(alice.get("/api/v1/providers").await.json(), json!([]));
}

/// The browser's path: streamed answer through the gateway, parsed and validated by the core.
#[tokio::test]
async fn llm_gateway_streams_and_forwards_the_key() {
    let (fake_url, fake) = start_fake(fake_options()).await;
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let id = alice.add_provider("fake", &fake_url, KEY).await;

    let reply = alice
        .post(
            &format!("/api/v1/llm/{id}/chat/completions"),
            json!({ "messages": messages("a library"), "stream": true, "stream_options": { "include_usage": true } }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.headers["content-type"], "text/event-stream");
    assert_eq!(reply.headers["x-ratelimit-limit-requests"], "30");
    let mut text = String::new();
    let mut done = false;
    let mut usage = None;
    for line in reply.text.lines().filter_map(|l| l.strip_prefix("data: ")) {
        match parse_stream_event(line).unwrap() {
            StreamEvent::Done => done = true,
            StreamEvent::Delta { content, usage: u } => {
                text.push_str(&content);
                usage = u.or(usage);
            }
        }
    }
    assert!(done);
    assert!(
        usage.is_some_and(|u| u.total_tokens > 0),
        "usage is asked for and passed through"
    );
    let model = parse_model(&text).unwrap();
    assert_eq!(validate(&model, &Conventions::default()), vec![]);
    assert_eq!(model.entities.len(), 4);

    // Non-streamed, with the instruction that the demo script answers with draft 2's changes.
    let reply = alice
        .post(
            &format!("/api/v1/llm/{id}/chat/completions"),
            json!({ "messages": messages("add an audit log") }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let (text, _) = model::wire::completion_text(&reply.text).unwrap();
    let set = model::parse_change_set(&text).unwrap();
    let applied = model::apply(&model, &set.changes, None);
    assert!(applied.model.entity("audit_log").is_some());

    let seen = fake.requests.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(&*format!("Bearer {KEY}"))
    );
    assert_eq!(
        seen[0].body["model"], "fake-model",
        "the provider's model is filled in"
    );
    assert_eq!(seen[0].body["stream_options"]["include_usage"], true);
    assert!(seen[1].body.get("stream_options").is_none());

    assert_no_key(&alice);
}

fn assert_no_key(client: &Client) {
    for text in client.seen.lock().unwrap().iter() {
        assert!(
            !text.contains(KEY) && !text.contains("SECRET"),
            "the key leaked: {text}"
        );
    }
}

#[tokio::test]
async fn upstream_failures_become_ai_errors() {
    let (fake_url, _) = start_fake(fake_options()).await;
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let wrong_key = alice
        .add_provider("wrong-key", &fake_url, "sk-wrong-key-9999")
        .await;
    // Port 9 (discard) is closed on loopback: the connection is refused.
    let unreachable = alice
        .add_provider("down", "http://127.0.0.1:9/v1", KEY)
        .await;

    let body = json!({ "messages": messages("x"), "stream": true });
    let reply = alice
        .post(
            &format!("/api/v1/llm/{wrong_key}/chat/completions"),
            body.clone(),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (StatusCode::BAD_GATEWAY, "AI_PROVIDER_AUTH")
    );
    // An OpenAI-compatible URL could be anything: its error body is never quoted.
    assert!(!reply.text.contains("Incorrect API key"), "{}", reply.text);
    assert!(reply.text.contains("status 401"), "{}", reply.text);
    let reply = alice
        .post(&format!("/api/v1/llm/{unreachable}/chat/completions"), body)
        .await;
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (StatusCode::BAD_GATEWAY, "AI_UPSTREAM_UNREACHABLE")
    );
    let reply = alice
        .post(
            &format!("/api/v1/llm/{wrong_key}/chat/completions"),
            json!({ "stream": true }),
        )
        .await;
    assert_eq!(reply.code(), "VAL_CHAT_REQUEST");
    assert_no_key(&alice);
    assert_eq!(alice.get("/healthz").await.status, StatusCode::OK);
}

/// Data survives a restart of the server on the same data directory and master key file.
#[tokio::test]
async fn data_and_keys_survive_a_restart() {
    let (fake_url, _) = start_fake(fake_options()).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let provider = {
        let server = start_server(|c| c.data_dir = data.clone()).await;
        let mut alice = Client::new(&server.base);
        alice.register("alice").await;
        alice.add_provider("fake", &fake_url, KEY).await
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let server = start_server(|c| c.data_dir = data.clone()).await;
    let mut alice = Client::new(&server.base);
    let login = alice
        .post(
            "/api/v1/auth/login",
            json!({ "username": "alice", "password": "correct horse battery" }),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK);
    let reply = alice
        .post(
            &format!("/api/v1/llm/{provider}/chat/completions"),
            json!({ "messages": messages("x") }),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "the key still opens after a restart: {}",
        reply.text
    );
}

/// Regression: the first-admin decision and the insert are one statement, so a burst of first
/// registrations yields exactly one administrator.
#[tokio::test]
async fn concurrent_first_registrations_make_one_admin() {
    let server = start_server(|_| {}).await;
    let registrations = (0..6).map(|i| {
        let base = server.base.clone();
        tokio::spawn(async move { Client::new(&base).register(&format!("user{i}")).await })
    });
    let users = futures::future::join_all(registrations).await;
    let admins = users
        .into_iter()
        .filter(|u| u.as_ref().unwrap()["is_admin"] == true)
        .count();
    assert_eq!(admins, 1);
}
