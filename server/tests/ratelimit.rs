//! Rate limits on the real server: LLM requests and tokens per user (with the charge corrected
//! by the provider's reported usage), register and login attempts per client address, and the
//! `429` answers with `Retry-After` and OpenAI's `x-ratelimit-*` headers.

#![allow(clippy::unwrap_used)]

mod common;

use common::{start_fake, start_server, Client, TestServer};
use fake_provider::{FakeOptions, Rule, Script};
use reqwest::{header::HeaderMap, StatusCode};
use serde_json::{json, Value};
use server::config::Config;
use std::time::Duration;

/// One answer of the server, as the tests read it.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
            .to_str()
            .unwrap()
    }

    fn number(&self, name: &str) -> u64 {
        self.header(name).parse().unwrap()
    }
}

/// POSTs `body` with the CSRF header, an optional session cookie and extra headers.
async fn post(
    http: &reqwest::Client,
    url: &str,
    cookie: Option<&str>,
    extra: &[(&str, &str)],
    body: &Value,
) -> Answer {
    let mut request = http.post(url).header("x-dm-csrf", "1").json(body);
    if let Some(cookie) = cookie {
        request = request.header(reqwest::header::COOKIE, cookie);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        headers,
        body,
    }
}

/// A server whose fake provider always replies `reply`, and one signed-in user with that
/// provider.
struct Setup {
    /// Kept for its lifetime: dropping it stops the server.
    _server: TestServer,
    http: reqwest::Client,
    user: User,
}

struct User {
    cookie: String,
    chat_url: String,
}

async fn setup(reply: &str, configure: impl FnOnce(&mut Config)) -> Setup {
    let (fake_url, _fake) = start_fake(FakeOptions {
        chunk_delay: Duration::ZERO,
        script: Script {
            rules: vec![Rule {
                when_contains: String::new(),
                reply: reply.to_string(),
            }],
        },
        ..Default::default()
    })
    .await;
    let server = start_server(configure).await;
    let user = user(&server, "alice", &fake_url).await;
    Setup {
        _server: server,
        http: reqwest::Client::new(),
        user,
    }
}

async fn user(server: &TestServer, name: &str, fake_url: &str) -> User {
    let mut client = Client::new(&server.base);
    client.register(name).await;
    let provider = client.add_provider("fake", fake_url, "sk-test-1234").await;
    User {
        cookie: client.cookie.unwrap(),
        chat_url: format!("{}/api/v1/llm/{provider}/chat/completions", server.base),
    }
}

/// A non-streamed call whose estimate is 1 prompt token plus `max_tokens`. Not streamed, so
/// that the charge is settled before the answer reaches the test.
async fn chat(http: &reqwest::Client, user: &User, max_tokens: u64) -> Answer {
    let body = json!({
        "messages": [{ "role": "user", "content": "hi" }],
        "max_tokens": max_tokens,
    });
    post(http, &user.chat_url, Some(&user.cookie), &[], &body).await
}

#[tokio::test]
async fn a_concurrent_burst_gets_exactly_the_request_limit() {
    let setup = setup("ok", |config| config.llm_requests_per_minute = 10).await;
    let calls = (0..40).map(|_| chat(&setup.http, &setup.user, 10));
    let answers = futures::future::join_all(calls).await;
    let (allowed, refused): (Vec<_>, Vec<_>) =
        answers.iter().partition(|a| a.status == StatusCode::OK);
    assert_eq!(
        allowed.len(),
        10,
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert_eq!(refused.len(), 30);
    let mut remaining: Vec<u64> = allowed
        .iter()
        .map(|a| a.number("x-ratelimit-remaining-requests"))
        .collect();
    remaining.sort_unstable();
    assert_eq!(remaining, (0..10).collect::<Vec<_>>());
    for answer in &allowed {
        assert_eq!(answer.number("x-ratelimit-limit-requests"), 10);
        assert_eq!(answer.number("x-ratelimit-limit-tokens"), 200_000);
        assert!(answer.number("x-ratelimit-remaining-tokens") < 200_000);
        assert!(answer.header("x-ratelimit-reset-requests").ends_with('s'));
        assert!(answer.header("x-ratelimit-reset-tokens").ends_with('s'));
    }
    for answer in &refused {
        assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(answer.code(), "RATE_LLM_REQUESTS", "{}", answer.body);
        // One call comes back every 6 s.
        assert!((1..=6).contains(&answer.number("retry-after")));
        assert_eq!(answer.number("x-ratelimit-limit-requests"), 10);
        assert_eq!(answer.number("x-ratelimit-remaining-requests"), 0);
        let reset = answer.header("x-ratelimit-reset-requests");
        assert!(reset.ends_with('s') && reset != "0s", "{reset}");
    }
}

#[tokio::test]
async fn users_are_limited_separately() {
    let (fake_url, _fake) = start_fake(FakeOptions {
        chunk_delay: Duration::ZERO,
        ..Default::default()
    })
    .await;
    let server = start_server(|config| config.llm_requests_per_minute = 2).await;
    let (alice, bob) = (
        user(&server, "alice", &fake_url).await,
        user(&server, "bob", &fake_url).await,
    );
    let http = reqwest::Client::new();
    for _ in 0..2 {
        assert_eq!(chat(&http, &alice, 10).await.status, StatusCode::OK);
    }
    assert_eq!(chat(&http, &alice, 10).await.code(), "RATE_LLM_REQUESTS");
    let answer = chat(&http, &bob, 10).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.number("x-ratelimit-remaining-requests"), 1);
}

#[tokio::test]
async fn a_call_beyond_the_token_budget_is_refused() {
    // The reply costs 1000 completion tokens (the fake counts 4 characters a token), so the
    // second call is refused whether or not the first one's charge is corrected upwards.
    let reply = "x".repeat(4000);
    let setup = setup(&reply, |config| config.llm_tokens_per_minute = 1000).await;
    let first = chat(&setup.http, &setup.user, 600).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.number("x-ratelimit-remaining-tokens"), 399);
    let second = chat(&setup.http, &setup.user, 600).await;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(second.code(), "RATE_LLM_TOKENS", "{}", second.body);
    assert!(second.number("retry-after") >= 1);
    assert_eq!(second.number("x-ratelimit-limit-tokens"), 1000);
    assert!(second.number("x-ratelimit-remaining-tokens") < 601);
    assert!(second.headers.get("x-ratelimit-limit-requests").is_none());
    let third = chat(&setup.http, &setup.user, 600).await;
    assert_eq!(third.code(), "RATE_LLM_TOKENS");
}

#[tokio::test]
async fn the_reported_usage_refunds_the_estimate() {
    // Each call is charged 451 tokens up front and reports a usage of 0, so a budget of 1000
    // admits two calls on estimates alone and every call once the charges are refunded.
    let setup = setup("ok", |config| config.llm_tokens_per_minute = 1000).await;
    for call in 0..6 {
        let answer = chat(&setup.http, &setup.user, 450).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "call {call}: {}",
            answer.body
        );
        assert_eq!(answer.number("x-ratelimit-remaining-tokens"), 549);
    }
}

#[tokio::test]
async fn a_usage_above_the_estimate_is_charged() {
    // The first call is charged 11 tokens and reports 1000: the debt refuses the next one,
    // which the estimates alone (11 + 11 of 1000) would let through.
    let reply = "x".repeat(4000);
    let setup = setup(&reply, |config| config.llm_tokens_per_minute = 1000).await;
    assert_eq!(
        chat(&setup.http, &setup.user, 10).await.status,
        StatusCode::OK
    );
    let answer = chat(&setup.http, &setup.user, 10).await;
    assert_eq!(answer.code(), "RATE_LLM_TOKENS", "{}", answer.body);
}

fn credentials(username: &str, password: &str) -> Value {
    json!({ "username": username, "password": password })
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_address() {
    let server = start_server(|config| config.auth_attempts_per_minute = 10).await;
    let http = reqwest::Client::new();
    let register = format!("{}/api/v1/auth/register", server.base);
    let login = format!("{}/api/v1/auth/login", server.base);
    let good = credentials("carol", "correct horse battery");
    let bad = credentials("carol", "wrong horse battery");
    assert_eq!(
        post(&http, &register, None, &[], &good).await.status,
        StatusCode::CREATED
    );
    // Wrong passwords, unknown users and invalid registrations count too.
    for _ in 0..5 {
        assert_eq!(
            post(&http, &login, None, &[], &bad).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let nobody = credentials("nobody", "correct horse battery");
    assert_eq!(
        post(&http, &login, None, &[], &nobody).await.status,
        StatusCode::UNAUTHORIZED
    );
    let short = credentials("dave", "short");
    assert_eq!(
        post(&http, &register, None, &[], &short).await.status,
        StatusCode::BAD_REQUEST
    );
    for _ in 0..2 {
        assert_eq!(
            post(&http, &login, None, &[], &good).await.status,
            StatusCode::OK
        );
    }
    // The eleventh attempt is refused, even with the right password.
    let answer = post(&http, &login, None, &[], &good).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.code(), "RATE_AUTH_ATTEMPTS", "{}", answer.body);
    assert!((1..=6).contains(&answer.number("retry-after")));
    assert_eq!(answer.number("x-ratelimit-limit-requests"), 10);
    assert_eq!(answer.number("x-ratelimit-remaining-requests"), 0);
    let answer = post(
        &http,
        &register,
        None,
        &[],
        &credentials("erin", "correct horse battery"),
    )
    .await;
    assert_eq!(answer.code(), "RATE_AUTH_ATTEMPTS");
}

#[tokio::test]
async fn x_forwarded_for_is_ignored_unless_trusted() {
    let bad = credentials("frank", "wrong horse battery");
    let http = reqwest::Client::new();

    let server = start_server(|config| config.auth_attempts_per_minute = 10).await;
    let login = format!("{}/api/v1/auth/login", server.base);
    for i in 0..10 {
        let forwarded = format!("198.51.100.{i}");
        let answer = post(
            &http,
            &login,
            None,
            &[("x-forwarded-for", &forwarded)],
            &bad,
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let answer = post(
        &http,
        &login,
        None,
        &[("x-forwarded-for", "198.51.100.99")],
        &bad,
    )
    .await;
    assert_eq!(answer.code(), "RATE_AUTH_ATTEMPTS", "{}", answer.body);

    let server = start_server(|config| {
        config.auth_attempts_per_minute = 10;
        config.trust_forwarded_for = true;
    })
    .await;
    let login = format!("{}/api/v1/auth/login", server.base);
    // Behind a trusted proxy, each forwarded address has its own allowance...
    for i in 0..15 {
        let forwarded = format!("10.0.0.1, 198.51.100.{i}");
        let answer = post(
            &http,
            &login,
            None,
            &[("x-forwarded-for", &forwarded)],
            &bad,
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    }
    // ...counted by the last entry, the one the proxy added.
    for _ in 0..9 {
        let answer = post(
            &http,
            &login,
            None,
            &[("x-forwarded-for", "203.0.113.1, 198.51.100.3")],
            &bad,
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    }
    let answer = post(
        &http,
        &login,
        None,
        &[("x-forwarded-for", "198.51.100.3")],
        &bad,
    )
    .await;
    assert_eq!(answer.code(), "RATE_AUTH_ATTEMPTS", "{}", answer.body);
}
