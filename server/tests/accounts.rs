//! Accounts on the real server: API tokens (bearer) created, used, listed and revoked; the
//! user's sessions listed and revoked; what a token may not do; CSRF rules per kind of
//! authentication; and that every route keeps to its owner.

#![allow(clippy::unwrap_used)]

mod common;

use common::{start_fake, start_server, Client};
use fake_provider::FakeOptions;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn api_tokens_authenticate_programs_until_revoked() {
    let (fake_url, _) = start_fake(FakeOptions {
        chunk_delay: Duration::ZERO,
        ..FakeOptions::default()
    })
    .await;
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let provider = alice.add_provider("fake", &fake_url, "").await;
    let created = alice
        .post(
            "/api/v1/tokens",
            json!({ "name": "script", "expires_in_days": 30 }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let token = created.json()["token"].as_str().unwrap().to_string();
    let token_id = created.json()["info"]["id"].as_str().unwrap().to_string();
    assert!(token.starts_with("dm_"));
    assert_eq!(
        created.json()["info"]["prefix"].as_str().unwrap(),
        &token[..9]
    );

    // A program with the token: no cookie, no CSRF header.
    let mut program = Client::new(&server.base);
    program.bearer = Some(token.clone());
    assert_eq!(
        program.get("/api/v1/auth/me").await.json()["username"],
        "alice"
    );
    let call = program
        .post(
            &format!("/api/v1/llm/{provider}/chat/completions"),
            json!({ "messages": [{ "role": "user", "content": "a library" }] }),
        )
        .await;
    assert_eq!(call.status, StatusCode::OK, "{}", call.text);
    assert!(call.json()["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .contains("first draft"));

    // The list shows the token without its secret, with its last use.
    let list = alice.get("/api/v1/tokens").await;
    assert_eq!(list.json().as_array().unwrap().len(), 1);
    assert!(!list.text.contains(&token[9..]), "{}", list.text);
    assert!(list.json()[0]["last_used_at"].as_i64().is_some());

    // A token cannot mint tokens or list sessions: that needs the password.
    let minted = program
        .post("/api/v1/tokens", json!({ "name": "another" }))
        .await;
    assert_eq!(
        (minted.status, minted.code().as_str()),
        (StatusCode::FORBIDDEN, "AUTH_SESSION_REQUIRED")
    );
    assert_eq!(
        program.get("/api/v1/auth/sessions").await.code(),
        "AUTH_SESSION_REQUIRED"
    );

    // Same name twice is a conflict; bad names and lifetimes are refused with a code.
    let twice = alice
        .post("/api/v1/tokens", json!({ "name": "script" }))
        .await;
    assert_eq!(twice.code(), "VAL_TOKEN_EXISTS");
    for (body, code) in [
        (json!({ "name": " " }), "VAL_TOKEN_NAME"),
        (
            json!({ "name": "x", "expires_in_days": 0 }),
            "VAL_TOKEN_EXPIRY",
        ),
        (
            json!({ "name": "x", "expires_in_days": 99999 }),
            "VAL_TOKEN_EXPIRY",
        ),
    ] {
        let reply = alice.post("/api/v1/tokens", body).await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (StatusCode::BAD_REQUEST, code)
        );
    }

    // Another user can neither see nor revoke it.
    let mut bob = Client::new(&server.base);
    bob.register("bob").await;
    assert_eq!(bob.get("/api/v1/tokens").await.json(), json!([]));
    assert_eq!(
        bob.delete(&format!("/api/v1/tokens/{token_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Bob's token does not reach Alice's provider.
    let bob_token = bob.create_token("bob's").await;
    let mut bobs_program = Client::new(&server.base);
    bobs_program.bearer = Some(bob_token);
    let foreign = bobs_program
        .post(
            &format!("/api/v1/llm/{provider}/chat/completions"),
            json!({ "messages": [{ "role": "user", "content": "x" }] }),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    // A deleted provider is gone at once, although the gateway caches provider rows.
    let second = alice.add_provider("second", &fake_url, "").await;
    let body = json!({ "messages": [{ "role": "user", "content": "x" }] });
    let url = format!("/api/v1/llm/{second}/chat/completions");
    assert_eq!(
        program.post(&url, body.clone()).await.status,
        StatusCode::OK
    );
    assert_eq!(
        alice
            .delete(&format!("/api/v1/providers/{second}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(program.post(&url, body).await.status, StatusCode::NOT_FOUND);

    // Revoked: it stops working at once.
    assert_eq!(
        alice
            .delete(&format!("/api/v1/tokens/{token_id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let after = program.get("/api/v1/auth/me").await;
    assert_eq!(
        (after.status, after.code().as_str()),
        (StatusCode::UNAUTHORIZED, "AUTH_INVALID_TOKEN")
    );
    // A made-up token is refused the same way.
    program.bearer = Some("dm_not-a-real-token".into());
    assert_eq!(
        program.get("/api/v1/providers").await.code(),
        "AUTH_INVALID_TOKEN"
    );
}

#[tokio::test]
async fn sessions_are_listed_and_revocable() {
    let server = start_server(|_| {}).await;
    let mut laptop = Client::new(&server.base);
    laptop.register("carol").await;
    let mut phone = Client::new(&server.base);
    phone.http = reqwest::Client::builder()
        .user_agent("Phone Browser/1.0")
        .build()
        .unwrap();
    let login = phone
        .post(
            "/api/v1/auth/login",
            json!({ "username": "carol", "password": "correct horse battery" }),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK);

    let sessions = laptop.get("/api/v1/auth/sessions").await.json();
    let sessions = sessions.as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2);
    let current: Vec<_> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["user_agent"], "Phone Browser/1.0");

    // Signing the phone out from the laptop.
    let revoke = laptop
        .delete(&format!(
            "/api/v1/auth/sessions/{}",
            other["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    assert_eq!(phone.get("/api/v1/auth/me").await.code(), "AUTH_REQUIRED");
    assert_eq!(laptop.get("/api/v1/auth/me").await.status, StatusCode::OK);
    // Another user's session id is "not found".
    let mut dave = Client::new(&server.base);
    dave.register("dave").await;
    let carols = current[0]["id"].as_str().unwrap();
    assert_eq!(
        dave.delete(&format!("/api/v1/auth/sessions/{carols}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Logging out ends the session on the server, not only in the browser.
    let cookie = laptop.cookie.clone();
    laptop.post("/api/v1/auth/logout", json!({})).await;
    let mut replay = Client::new(&server.base);
    replay.cookie = cookie;
    assert_eq!(replay.get("/api/v1/auth/me").await.code(), "AUTH_REQUIRED");
}

#[tokio::test]
async fn cookie_mutations_need_the_csrf_header_bearer_ones_do_not() {
    let server = start_server(|_| {}).await;
    let mut erin = Client::new(&server.base);
    erin.register("erin").await;
    let token = erin.create_token("cli").await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/providers", server.base);
    let body =
        json!({ "name": "p", "base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key": "" });
    // A cross-site form would carry the cookie but not the header.
    let forged = http
        .post(&url)
        .header("cookie", erin.cookie.clone().unwrap())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.text().await.unwrap().contains("AUTH_CSRF"));
    let program = http
        .post(&url)
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(program.status(), StatusCode::CREATED);
}
