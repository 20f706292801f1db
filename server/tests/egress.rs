//! The upstream URL policy against server-side request forgery: providers that point at
//! loopback, private, link-local, unique-local and metadata addresses, directly or through a
//! name, are refused when saved and when connecting (DNS rebinding), and the internal service
//! behind them is never reached; what an administrator allows works.

#![allow(clippy::unwrap_used)]

mod common;

use common::{start_fake, start_server, Client, Reply};
use fake_provider::FakeOptions;
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::egress::{AllowList, Resolver};
use std::{
    net::IpAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

/// An internal service that only the server can reach: it counts every request it gets and
/// answers with something a provider never would.
async fn start_internal() -> (u16, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let router = axum::Router::new().fallback(move || {
        let counted = counted.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            axum::Json(json!({ "AccessKeyId": "internal-secret" }))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (port, hits)
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

async fn add_provider(client: &mut Client, name: &str, base_url: &str) -> Reply {
    client
        .post(
            "/api/v1/providers",
            json!({ "name": name, "base_url": base_url, "model": "fake-model", "api_key": "sk-test-key-1234" }),
        )
        .await
}

/// `(status, code, the field the error names)` of a refusal.
fn refusal(reply: &Reply) -> (StatusCode, String, Value) {
    let body = reply.json();
    (
        reply.status,
        reply.code(),
        body["error"]["details"]["fields"][0]["path"].clone(),
    )
}

#[tokio::test]
async fn internal_addresses_are_refused_when_saved() {
    let (port, hits) = start_internal().await;
    let server = start_server(|c| {
        c.upstream_allow = AllowList::default();
        c.resolver = Resolver::table(&[
            ("models.example.test", &[&[ip("127.0.0.1")]]),
            (
                "mixed.example.test",
                &[&[ip("93.184.215.14"), ip("192.168.0.10")]],
            ),
            ("metadata.example.test", &[&[ip("169.254.169.254")]]),
        ]);
    })
    .await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let refused = [
        format!("http://127.0.0.1:{port}/internal/metadata?x="),
        format!("http://127.9.9.9:{port}/"),
        format!("http://[::1]:{port}/v1"),
        format!("http://[::ffff:127.0.0.1]:{port}/v1"),
        format!("http://0.0.0.0:{port}/v1"),
        "http://10.0.0.1/v1".into(),
        "http://172.16.5.4:8080/v1".into(),
        "http://172.31.255.254/v1".into(),
        "http://192.168.1.1/v1".into(),
        "http://169.254.169.254/latest".into(),
        "http://[fd00:ec2::254]/latest".into(),
        "http://[fd12:3456::1]:11434/v1".into(),
        "http://[fe80::1]/v1".into(),
        "http://100.100.100.200/latest".into(),
        format!("http://models.example.test:{port}/v1"),
        "https://mixed.example.test/v1".into(),
        "http://metadata.example.test/latest".into(),
    ];
    for (n, url) in refused.iter().enumerate() {
        let reply = add_provider(&mut alice, &format!("p{n}"), url).await;
        assert_eq!(
            refusal(&reply),
            (
                StatusCode::BAD_REQUEST,
                "VAL_UPSTREAM_FORBIDDEN".into(),
                json!("base_url")
            ),
            "{url}: {}",
            reply.text
        );
        let message = reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(message.contains("DM_UPSTREAM_ALLOW"), "{message}");
        if url.contains(".test") {
            assert!(
                !message.contains("127.0.0.1") && !message.contains("192.168"),
                "a name's internal address is not told: {message}"
            );
        }
    }
    assert_eq!(alice.get("/api/v1/providers").await.json(), json!([]));
    // A name that does not resolve is a typo, said as such.
    let reply = add_provider(&mut alice, "typo", "https://no-such-host.invalid/v1").await;
    assert_eq!(reply.code(), "VAL_UPSTREAM_FORBIDDEN", "{}", reply.text);
    assert!(reply.text.contains("could not be found"), "{}", reply.text);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the internal service was reached"
    );
}

#[tokio::test]
async fn a_name_that_rebinds_to_loopback_is_refused_when_connecting() {
    let (port, hits) = start_internal().await;
    // A public address when the provider is saved, loopback for every lookup after.
    let server = start_server(|c| {
        c.upstream_allow = AllowList::default();
        c.resolver = Resolver::table(&[(
            "rebind.example.test",
            &[&[ip("93.184.215.14")], &[ip("127.0.0.1")]],
        )]);
    })
    .await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let reply = add_provider(
        &mut alice,
        "rebind",
        &format!("http://rebind.example.test:{port}/v1"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let id = reply.json()["id"].as_str().unwrap().to_string();
    for stream in [false, true] {
        let reply = alice
            .post(
                &format!("/api/v1/llm/{id}/chat/completions"),
                json!({ "messages": [{ "role": "user", "content": "hi" }], "stream": stream }),
            )
            .await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (StatusCode::BAD_REQUEST, "VAL_UPSTREAM_FORBIDDEN"),
            "{}",
            reply.text
        );
        assert!(!reply.text.contains("internal-secret"), "{}", reply.text);
    }
    let models = alice.get(&format!("/api/v1/providers/{id}/models")).await;
    assert_eq!(models.code(), "VAL_UPSTREAM_FORBIDDEN", "{}", models.text);
    let test = alice
        .post(&format!("/api/v1/providers/{id}/test"), json!({}))
        .await;
    assert_eq!(test.code(), "VAL_UPSTREAM_FORBIDDEN", "{}", test.text);
    assert!(!test.text.contains("internal-secret"), "{}", test.text);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the internal service was reached"
    );
}

#[tokio::test]
async fn what_the_administrator_allows_works_and_nothing_more() {
    let (fake_url, _) = start_fake(FakeOptions::default()).await;
    let fake_port = reqwest::Url::parse(&fake_url).unwrap().port().unwrap();
    let (internal_port, hits) = start_internal().await;
    for (allow, base_url, allowed) in [
        ("127.0.0.0/8".to_string(), fake_url.clone(), true),
        (format!("127.0.0.1:{fake_port}"), fake_url.clone(), true),
        (
            format!("localhost:{fake_port}"),
            format!("http://localhost:{fake_port}/v1"),
            true,
        ),
        (
            format!("127.0.0.1:{fake_port}"),
            format!("http://127.0.0.1:{internal_port}/v1"),
            false,
        ),
        (
            format!("localhost:{fake_port}"),
            format!("http://localhost:{internal_port}/v1"),
            false,
        ),
        ("10.0.0.0/8".to_string(), fake_url.clone(), false),
    ] {
        let server = start_server(|c| c.upstream_allow = allow.parse().unwrap()).await;
        let mut alice = Client::new(&server.base);
        alice.register("alice").await;
        let reply = add_provider(&mut alice, "local", &base_url).await;
        if !allowed {
            assert_eq!(
                reply.code(),
                "VAL_UPSTREAM_FORBIDDEN",
                "{allow} {base_url}: {}",
                reply.text
            );
            continue;
        }
        assert_eq!(reply.status, StatusCode::CREATED, "{allow}: {}", reply.text);
        let id = reply.json()["id"].as_str().unwrap().to_string();
        let answer = alice
            .post(
                &format!("/api/v1/llm/{id}/chat/completions"),
                json!({ "messages": [{ "role": "user", "content": "hi" }] }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{allow}: {}", answer.text);
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the internal service was reached"
    );
}

/// The policy also reads from the environment, as an operator sets it, and a bad entry stops
/// the server with a message that names it.
#[test]
fn allow_lists_read_from_text() {
    assert!("127.0.0.1:11434,10.0.0.0/8".parse::<AllowList>().is_ok());
    let error = "127.0.0.1:11434,10.0.0.0/99"
        .parse::<AllowList>()
        .unwrap_err()
        .to_string();
    assert!(error.contains("`10.0.0.0/99`"), "{error}");
}
