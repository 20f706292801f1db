//! Security headers through the real server on a socket: the app's Content-Security-Policy
//! with a fresh nonce per response that every inline script of the page carries, frame
//! protection everywhere, the closed policy on the API, HSTS only with secure cookies, and the
//! gateway's event stream still arriving event by event under the middleware.
//!
//! The pages render without the built site (`target/site`): the shell only names the wasm
//! bundle and stylesheet, it does not read them.

#![allow(clippy::unwrap_used)]

mod common;

use common::{start_fake, start_server, Client};
use fake_provider::{FakeOptions, Rule, Script};
use futures::StreamExt;
use reqwest::{header, StatusCode};
use serde_json::json;
use server::headers::CLOSED_POLICY;
use std::time::{Duration, Instant};

/// A page's status, policy and HTML.
async fn page(base: &str, path: &str) -> (StatusCode, header::HeaderMap, String) {
    let response = reqwest::get(format!("{base}{path}")).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

/// The nonce a policy allows scripts with.
fn nonce_of(policy: &str) -> String {
    let start = policy.find("'nonce-").expect("a nonce in the policy") + "'nonce-".len();
    let end = start + policy[start..].find('\'').unwrap();
    policy[start..end].to_string()
}

/// The attributes of every `<script …>` tag of `html`.
fn script_tags(html: &str) -> Vec<&str> {
    html.match_indices("<script")
        .map(|(i, _)| {
            let rest = &html[i + "<script".len()..];
            &rest[..rest.find('>').unwrap()]
        })
        .collect()
}

/// Checks a page's headers and that each of its scripts carries the policy's nonce; returns
/// the nonce.
fn check_page(path: &str, headers: &header::HeaderMap, html: &str) -> String {
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{path}"
    );
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    for directive in [
        "default-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "'wasm-unsafe-eval'",
    ] {
        assert!(
            policy.contains(directive),
            "{path}: {directive} in {policy}"
        );
    }
    assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
    let nonce = nonce_of(policy);
    assert!(nonce.len() >= 22, "{path}: a 128-bit nonce, not {nonce}");
    let scripts = script_tags(html);
    assert!(!scripts.is_empty(), "{path}: no script in {html}");
    for attributes in scripts {
        assert!(
            attributes.contains(&format!("nonce=\"{nonce}\"")),
            "{path}: a script without the response's nonce: <script{attributes}>"
        );
    }
    nonce
}

#[tokio::test]
async fn every_page_has_a_fresh_nonce_that_all_its_scripts_carry() {
    let server = start_server(|_| {}).await;
    let mut seen = std::collections::HashSet::new();
    for path in [
        "/",
        "/",
        "/login",
        "/domains/0190aaaa-0000-7000-8000-0000000000b1",
        "/domains/0190aaaa-0000-7000-8000-0000000000b1/review/1..2",
    ] {
        let (status, headers, html) = page(&server.base, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let nonce = check_page(path, &headers, &html);
        assert!(seen.insert(nonce), "{path}: a nonce used twice");
    }
    // The app's own 404 page is rendered by the fallback: the same policy, its own nonce.
    let (status, headers, html) = page(&server.base, "/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(seen.insert(check_page("/no/such/page", &headers, &html)));
    assert!(
        !headers.contains_key(header::STRICT_TRANSPORT_SECURITY),
        "HSTS over plain HTTP would lock browsers out"
    );
}

#[tokio::test]
async fn everything_that_is_not_a_page_gets_the_closed_policy() {
    let server = start_server(|_| {}).await;
    let mut client = Client::new(&server.base);
    for (path, status) in [
        ("/api/v1/auth/me", StatusCode::UNAUTHORIZED),
        ("/api/v1/no/such/route", StatusCode::NOT_FOUND),
        ("/healthz", StatusCode::OK),
        ("/metrics", StatusCode::OK),
    ] {
        let reply = client.get(path).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.text);
        assert_eq!(
            reply.headers[header::CONTENT_SECURITY_POLICY],
            CLOSED_POLICY,
            "{path}"
        );
        assert_eq!(reply.headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert!(!reply
            .headers
            .contains_key(header::STRICT_TRANSPORT_SECURITY));
    }
    client.register("alice").await;
    let reply = client.get("/api/v1/auth/me").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers[header::CONTENT_SECURITY_POLICY],
        CLOSED_POLICY
    );
}

#[tokio::test]
async fn hsts_only_when_cookies_are_secure() {
    let server = start_server(|c| c.cookie_secure = true).await;
    for path in ["/", "/api/v1/auth/me", "/healthz"] {
        let (_, headers, _) = page(&server.base, path).await;
        assert_eq!(
            headers[header::STRICT_TRANSPORT_SECURITY],
            "max-age=63072000; includeSubDomains",
            "{path}"
        );
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
    }
}

/// The middleware touches headers only: a streamed completion still arrives event by event,
/// the first long before the last, with the closed policy on it.
#[tokio::test]
async fn the_event_stream_is_not_buffered() {
    let delay = Duration::from_millis(150);
    let (fake_url, _fake) = start_fake(FakeOptions {
        script: Script {
            rules: vec![Rule {
                when_contains: String::new(),
                reply: "one two three four five six seven eight".into(),
            }],
        },
        chunk_chars: 5,
        chunk_delay: delay,
        expect_key: Some("sk-headers-test".into()),
        record: false,
    })
    .await;
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let provider = alice
        .add_provider("fake", &fake_url, "sk-headers-test")
        .await;
    let started = Instant::now();
    let response = alice
        .http
        .post(format!(
            "{}/api/v1/llm/{provider}/chat/completions",
            server.base
        ))
        .header("x-dm-csrf", "1")
        .header(header::COOKIE, alice.cookie.clone().unwrap())
        .json(&json!({
            "model": "fake-model",
            "messages": [{ "role": "user", "content": "hello" }],
            "stream": true,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    assert_eq!(
        response.headers()[header::CONTENT_SECURITY_POLICY],
        CLOSED_POLICY
    );
    let mut body = response.bytes_stream();
    let mut first_content = None;
    let mut text = String::new();
    while let Some(chunk) = body.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        if first_content.is_none() && text.contains("\"content\"") {
            first_content = Some(started.elapsed());
        }
    }
    let total = started.elapsed();
    let first = first_content.expect("a content event");
    assert!(text.contains("[DONE]"), "{text}");
    // Eight chunks, 150 ms apart: a buffered body would arrive all at once, at the end.
    assert!(
        total - first >= delay * 4,
        "the first event came at {first:?}, the end at {total:?}"
    );
}
