//! A share link's token never reaches a log line or a metric: links are created, opened,
//! downloaded, revoked and looked up unknown with every log target at TRACE, captured, and
//! every line and the `/metrics` page are scanned for the tokens.
//!
//! This test has its binary to itself: tracing caches per call site whether anyone listens,
//! and a test running beside it on another thread, with no subscriber, could make the capture
//! miss events (and the scan pass on nothing).

#![allow(clippy::unwrap_used)]

mod common;
mod sharing;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use common::{start_server, LogCapture};
use serde_json::json;
use sharing::*;

// One thread: the subscriber set with `set_default` sees every task of the test, the
// server's included.
#[tokio::test(flavor = "current_thread")]
async fn the_token_is_in_no_log_line_and_no_metric() {
    let (capture, _guard) = LogCapture::install();

    let server = start_server(|_| {}).await;
    let mut alice = Owner::register(&server, "alice").await;
    let (_, first) = alice.library("Library").await;
    let plain = alice.create(json!({ "draft_id": first.id })).await;
    let encrypted = alice
        .create(json!({ "draft_id": first.id, "ciphertext": URL_SAFE_NO_PAD.encode([5u8; 40]) }))
        .await;
    let unknown = unknown_token();
    let mut paths = vec![
        plain.path.clone(),
        format!("{}/download/sql-postgres", plain.path),
        format!("{}/download/nothing", plain.path),
        encrypted.path.clone(),
        format!("/s/{unknown}"),
        format!("/e/{unknown}"),
    ];
    for path in &paths {
        read(&server, path).await;
    }
    alice
        .http
        .delete(&format!("/api/v1/shares/{}", plain.share.id))
        .await;
    paths.push(plain.path.clone());
    read(&server, &plain.path).await;
    let metrics = alice.http.get("/metrics").await.text;
    drop(server);

    let logs = capture.text();
    assert!(logs.contains("TRACE"), "nothing was logged at TRACE");
    for token in [token_of(&plain.path), token_of(&encrypted.path), &unknown] {
        for line in logs.lines() {
            assert!(!line.contains(token), "a log line holds a token: {line}");
        }
        assert!(!metrics.contains(token), "the metrics hold a token");
    }
    // The capture did see the requests, with their redacted paths.
    assert!(
        logs.contains("uri=/s/{token}/download/sql-postgres"),
        "{logs}"
    );
    assert!(logs.contains("uri=/e/{token}"), "{logs}");
    for route in [
        "route=\"/s/{token}\"",
        "route=\"/s/{token}/download/{format}\"",
        "route=\"/e/{token}\"",
    ] {
        assert!(metrics.contains(route), "{route} missing from {metrics}");
    }
}
