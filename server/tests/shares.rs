//! Share links (issue 16) against the real server on a real socket with a temporary SQLite
//! file: links created through the API from drafts pushed through sync (the library fixture
//! of `model/tests/data`), their pages opened by a reader without an account, downloads,
//! expiry on the server's injected clock, revocation, the one 404 for every link that cannot
//! be opened, ownership, encrypted links, headers, the per-address lookup limit, and the token
//! kept out of the database. `share_logs.rs` keeps it out of the logs and the metrics.
//!
//! A *reader* is an HTTP client without cookies, as someone who was sent the link.

#![allow(clippy::unwrap_used)]

mod common;
mod sharing;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use common::{start_server, Client, Reply};
use model::sync::Mutation;
use model::wire::ShareKind;
use rand::RngCore;
use reqwest::{header, StatusCode};
use serde_json::json;
use server::clock::{now_ms, Clock};
use server::share::{ENCRYPTED_POLICY, PLAIN_POLICY};
use sha2::{Digest, Sha256};
use sharing::*;
use std::time::Duration;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn a_plain_link_opens_downloads_expires_and_is_revoked_and_dead_links_look_alike() {
    let clock = Clock::manual(now_ms());
    let server = start_server(|c| c.clock = clock.clone()).await;
    let mut alice = Owner::register(&server, "alice").await;
    let (domain, first) = alice.library("Library").await;

    let created = alice
        .create(json!({
            "draft_id": first.id,
            "expires_at": clock.now_ms() + HOUR_MS,
            "label": "  for the DBA  ",
        }))
        .await;
    let share = &created.share;
    assert_eq!(share.kind, ShareKind::Plain);
    assert_eq!(share.draft_id, first.id);
    assert_eq!(share.domain_id, Some(domain.id));
    assert_eq!(share.label.as_deref(), Some("for the DBA"));
    assert!(share.preview);
    assert_eq!(share.open_count, 0);
    assert!(created.path.starts_with("/s/"), "{}", created.path);
    let token = token_of(&created.path);
    assert_eq!(token.len(), 43);
    assert!(URL_SAFE_NO_PAD.decode(token).unwrap().len() == 32);

    // The page: a whole document, every table, the diagram inline, the downloads, no script.
    let page = read(&server, &created.path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    check_private(&page, PLAIN_POLICY, "the page");
    assert!(page
        .header(header::CONTENT_TYPE)
        .starts_with("text/html; charset=utf-8"));
    let html = &page.body;
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    for needle in [
        "<html lang=\"en\">",
        "<meta charset=\"utf-8\">",
        "<meta name=\"viewport\"",
        "<meta name=\"robots\" content=\"noindex\">",
        "<meta property=\"og:title\"",
        "<meta property=\"og:description\"",
        "<meta property=\"og:type\"",
        "<link rel=\"stylesheet\" href=\"/pkg/",
        "A read-only shared draft from",
        "<svg",
        &format!("{}/download/sql-postgres", created.path),
    ] {
        assert!(html.contains(needle), "{needle} missing from the page");
    }
    for table in V1_TABLES {
        assert!(html.contains(table), "table {table} missing from the page");
    }
    assert!(!html.contains("<script"), "a plain page runs no script");

    // An opening is counted at the server's clock.
    let opened_at = clock.now_ms();
    let listed = alice.list().await;
    assert_eq!(listed.shares.len(), 1);
    assert_eq!(listed.shares[0].open_count, 1);
    assert_eq!(listed.shares[0].last_opened_at, Some(opened_at));

    // A download: the file, its name, the same headers; not counted as an opening.
    clock.advance(Duration::from_secs(60));
    let sql = read(&server, &format!("{}/download/sql-postgres", created.path)).await;
    assert_eq!(sql.status, StatusCode::OK, "{}", sql.body);
    check_private(&sql, PLAIN_POLICY, "the download");
    assert!(sql.body.contains("CREATE TABLE"), "{}", sql.body);
    for table in V1_TABLES {
        assert!(sql.body.contains(table), "{table} missing from the SQL");
    }
    let disposition = sql.header(header::CONTENT_DISPOSITION);
    assert!(
        disposition.starts_with("attachment; filename=\"") && disposition.contains(".sql"),
        "{disposition}"
    );
    assert!(sql
        .header(header::CONTENT_TYPE)
        .starts_with("application/sql"));
    let listed = alice.list().await;
    assert_eq!(listed.shares[0].open_count, 1);
    assert_eq!(listed.shares[0].last_opened_at, Some(opened_at));

    // Every way a link cannot be opened answers the same page, byte for byte.
    let mut dead = vec![];
    dead.push((
        "unknown token",
        read(&server, &format!("/s/{}", unknown_token())).await,
    ));
    dead.push(("malformed token", read(&server, "/s/not-a-token").await));
    // Any other address under a link's is no page either, live link or not.
    dead.push((
        "a path under a live link",
        read(&server, &format!("{}/dictionary/extra", created.path)).await,
    ));
    dead.push((
        "a path under an encrypted link's address",
        read(&server, &format!("/e/{}/x", unknown_token())).await,
    ));
    dead.push((
        "a download's path, longer",
        read(
            &server,
            &format!("{}/download/sql-postgres/x", created.path),
        )
        .await,
    ));
    dead.push((
        "unknown format",
        read(&server, &format!("{}/download/docx", created.path)).await,
    ));
    dead.push((
        "download of an unknown token",
        read(
            &server,
            &format!("/s/{}/download/sql-postgres", unknown_token()),
        )
        .await,
    ));

    let revoked = alice.create(json!({ "draft_id": first.id })).await;
    assert_eq!(read(&server, &revoked.path).await.status, StatusCode::OK);
    let reply = alice
        .http
        .delete(&format!("/api/v1/shares/{}", revoked.share.id))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    dead.push(("revoked", read(&server, &revoked.path).await));
    dead.push((
        "download of a revoked link",
        read(&server, &format!("{}/download/sql-postgres", revoked.path)).await,
    ));
    // Revoking again changes nothing.
    let again = alice
        .http
        .delete(&format!("/api/v1/shares/{}", revoked.share.id))
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT, "{}", again.text);

    // A draft deleted since its link was made.
    let second = draft(&domain, 2, library(LIBRARY_V2));
    alice
        .push(vec![Mutation::CreateDraft {
            draft: Box::new(second.clone()),
        }])
        .await;
    let orphan = alice.create(json!({ "draft_id": second.id })).await;
    assert_eq!(read(&server, &orphan.path).await.status, StatusCode::OK);
    alice
        .push(vec![Mutation::DeleteDraft {
            domain_id: domain.id,
            draft_id: second.id,
        }])
        .await;
    dead.push(("draft deleted", read(&server, &orphan.path).await));

    // An expired link, once the server's clock passes its expiry.
    assert_eq!(read(&server, &created.path).await.status, StatusCode::OK);
    clock.advance(Duration::from_millis(HOUR_MS as u64));
    dead.push(("expired", read(&server, &created.path).await));
    dead.push((
        "download of an expired link",
        read(&server, &format!("{}/download/sql-postgres", created.path)).await,
    ));

    let (_, first_dead) = &dead[0];
    assert_eq!(first_dead.status, StatusCode::NOT_FOUND);
    assert!(first_dead
        .body
        .contains("This link does not exist or is no longer shared"));
    assert!(first_dead.body.starts_with("<!DOCTYPE html>"));
    check_private(first_dead, PLAIN_POLICY, "the 404");
    for (what, page) in &dead {
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{what}");
        assert_eq!(page.body, first_dead.body, "{what}: another body");
        assert_eq!(page.shape(), first_dead.shape(), "{what}: other headers");
    }

    // The owner sees every link, newest first, revoked and expired ones with their times.
    let listed = alice.list().await;
    let ids: Vec<Uuid> = listed.shares.iter().map(|s| s.id).collect();
    assert_eq!(ids, vec![orphan.share.id, revoked.share.id, share.id]);
    assert!(listed.shares[1].revoked_at.is_some());
    assert_eq!(listed.shares[2].expires_at, share.expires_at);
    assert_eq!(listed.shares[2].open_count, 2);
}

#[tokio::test]
async fn only_the_tokens_hash_is_stored() {
    let server = start_server(|_| {}).await;
    let mut alice = Owner::register(&server, "alice").await;
    let (_, first) = alice.library("Library").await;
    let plain = alice.create(json!({ "draft_id": first.id })).await;
    let sealed: Vec<u8> = (0..64).map(|i| i as u8).collect();
    let encrypted = alice
        .create(json!({ "draft_id": first.id, "ciphertext": URL_SAFE_NO_PAD.encode(&sealed) }))
        .await;
    let db = database(&server).await;
    for created in [&plain, &encrypted] {
        let token = token_of(&created.path);
        let (hash,): (Vec<u8>,) = sqlx::query_as("SELECT token_hash FROM shares WHERE id = ?")
            .bind(created.share.id.to_string())
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(hash, Sha256::digest(token.as_bytes()).to_vec());
        let columns: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM pragma_table_info('shares')")
                .fetch_all(&db)
                .await
                .unwrap();
        assert!(columns.len() >= 15, "{columns:?}");
        for (column,) in columns {
            let (hits,): (i64,) = sqlx::query_as(&format!(
                "SELECT COUNT(*) FROM shares WHERE instr(CAST(\"{column}\" AS TEXT), ?) > 0 \
                 OR instr(CAST(\"{column}\" AS BLOB), CAST(? AS BLOB)) > 0"
            ))
            .bind(token)
            .bind(token)
            .fetch_one(&db)
            .await
            .unwrap();
            assert_eq!(hits, 0, "the token is in shares.{column}");
        }
    }
    db.close().await;
    // Nor anywhere in the file or its log.
    let mut bytes = std::fs::read(server.dir.path().join("data/data-modeller.db")).unwrap();
    bytes.extend(
        std::fs::read(server.dir.path().join("data/data-modeller.db-wal")).unwrap_or_default(),
    );
    for created in [&plain, &encrypted] {
        let token = token_of(&created.path).as_bytes();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token),
            "the token is in the database file"
        );
    }
}

#[tokio::test]
async fn links_are_their_owners_only() {
    let server = start_server(|_| {}).await;
    let mut alice = Owner::register(&server, "alice").await;
    let mut bob = Owner::register(&server, "bob").await;
    let (_, first) = alice.library("Library").await;
    let link = alice.create(json!({ "draft_id": first.id })).await;

    // Bob cannot share Alice's draft: it is "not found", as a draft that never synced.
    let stolen = bob.share(json!({ "draft_id": first.id })).await;
    refused(&stolen, StatusCode::NOT_FOUND, "RES_NOT_FOUND");
    let unknown = bob.share(json!({ "draft_id": Uuid::now_v7() })).await;
    refused(&unknown, StatusCode::NOT_FOUND, "RES_NOT_FOUND");
    assert_eq!(stolen.text, unknown.text);
    assert_eq!(
        unknown.json()["error"]["message"],
        "draft not found on the server: sync it first (it may still be waiting to upload)"
    );
    let (_, bobs) = bob.library("Bob's library").await;
    let pair = bob
        .share(json!({ "draft_id": bobs.id, "old_draft_id": first.id }))
        .await;
    refused(&pair, StatusCode::NOT_FOUND, "RES_NOT_FOUND");

    // Nor list, nor revoke Alice's links.
    assert!(bob.list().await.shares.is_empty());
    let revoke = bob
        .http
        .delete(&format!("/api/v1/shares/{}", link.share.id))
        .await;
    refused(&revoke, StatusCode::NOT_FOUND, "RES_NOT_FOUND");
    assert_eq!(read(&server, &link.path).await.status, StatusCode::OK);
    assert_eq!(alice.list().await.shares.len(), 1);

    // Without an account nothing; with a cookie but without the CSRF header, no change; an API
    // token may manage links.
    let mut stranger = Client::new(&server.base);
    let anonymous = stranger
        .post("/api/v1/shares", json!({ "draft_id": first.id }))
        .await;
    refused(&anonymous, StatusCode::UNAUTHORIZED, "AUTH_REQUIRED");
    let cookie = alice.http.cookie.clone().unwrap();
    let forged = reqwest::Client::new()
        .post(format!("{}/api/v1/shares", server.base))
        .header(header::COOKIE, cookie)
        .json(&json!({ "draft_id": first.id }))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.text().await.unwrap().contains("AUTH_CSRF"));
    let token = alice.http.create_token("links").await;
    let mut program = Client::new(&server.base);
    program.bearer = Some(token);
    let by_token = program
        .post("/api/v1/shares", json!({ "draft_id": first.id }))
        .await;
    assert_eq!(by_token.status, StatusCode::CREATED, "{}", by_token.text);
    assert_eq!(alice.list().await.shares.len(), 2);
}

#[tokio::test]
async fn what_a_link_is_made_of_is_checked() {
    let server = start_server(|_| {}).await;
    let mut alice = Owner::register(&server, "alice").await;
    let (_, first) = alice.library("Library").await;
    let (_, other) = alice.library("Another library").await;
    let check = |reply: Reply, code: &str| refused(&reply, StatusCode::BAD_REQUEST, code);

    check(
        alice
            .share(json!({ "draft_id": first.id, "label": "x".repeat(201) }))
            .await,
        "VAL_SHARE_LABEL",
    );
    check(
        alice
            .share(json!({ "draft_id": first.id, "expires_at": now_ms() - 1 }))
            .await,
        "VAL_SHARE_EXPIRY",
    );
    check(
        alice
            .share(json!({ "draft_id": first.id, "old_draft_id": first.id }))
            .await,
        "VAL_SHARE_PAIR",
    );
    check(
        alice
            .share(json!({ "draft_id": first.id, "old_draft_id": other.id }))
            .await,
        "VAL_SHARE_PAIR",
    );
    for ciphertext in [
        "not base64url!".to_string(),
        URL_SAFE_NO_PAD.encode([0u8; 27]),
        base64::engine::general_purpose::URL_SAFE.encode([0u8; 40]),
    ] {
        check(
            alice
                .share(json!({ "draft_id": first.id, "ciphertext": ciphertext }))
                .await,
            "VAL_SHARE_CIPHERTEXT",
        );
    }
    check(
        alice.share(json!({ "label": "no draft" })).await,
        "VAL_FIELDS",
    );
    // A label of spaces is no label; 200 characters are allowed.
    let blank = alice
        .create(json!({ "draft_id": first.id, "label": "   " }))
        .await;
    assert_eq!(blank.share.label, None);
    let long = alice
        .create(json!({ "draft_id": first.id, "label": "é".repeat(200) }))
        .await;
    assert_eq!(long.share.label.unwrap().chars().count(), 200);
    let private = alice
        .create(json!({ "draft_id": first.id, "preview": false }))
        .await;
    assert!(!private.share.preview);
    let page = read(&server, &private.path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("og:"), "no preview was asked for");
    assert!(page.body.contains("<title>"));
}

#[tokio::test]
async fn a_pair_link_shows_the_impact_of_the_newer_draft() {
    let server = start_server(|_| {}).await;
    let mut alice = Owner::register(&server, "alice").await;
    let (domain, first) = alice.library("Library").await;
    let second = draft(&domain, 2, library(LIBRARY_V2));
    alice
        .push(vec![Mutation::CreateDraft {
            draft: Box::new(second.clone()),
        }])
        .await;
    let link = alice
        .create(json!({ "draft_id": second.id, "old_draft_id": first.id }))
        .await;
    assert_eq!(link.share.old_draft_id, Some(first.id));
    let page = read(&server, &link.path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("id=\"share-changes\""),
        "no impact section"
    );
    assert!(
        page.body.contains("audit_log"),
        "the added table is missing"
    );
    let migration = read(
        &server,
        &format!("{}/download/migration-postgres", link.path),
    )
    .await;
    assert_eq!(migration.status, StatusCode::OK, "{}", migration.body);
    assert!(migration.body.contains("audit_log"), "{}", migration.body);
}

#[tokio::test]
async fn an_encrypted_link_serves_its_ciphertext_and_nothing_else() {
    let server = start_server(|_| {}).await;
    let mut alice = Owner::register(&server, "alice").await;
    let (_, first) = alice.library("Library").await;
    let mut sealed = vec![0u8; 12 + 16 + 300];
    rand::thread_rng().fill_bytes(&mut sealed);
    let encoded = URL_SAFE_NO_PAD.encode(&sealed);
    // The ids of a synced draft: the server must still not render it.
    let link = alice
        .create(json!({ "draft_id": first.id, "ciphertext": encoded, "preview": true }))
        .await;
    assert_eq!(link.share.kind, ShareKind::Encrypted);
    assert!(!link.share.preview, "an encrypted page has no preview");
    assert_eq!(link.share.domain_id, None);
    assert!(link.path.starts_with("/e/"), "{}", link.path);

    let db = database(&server).await;
    let (stored,): (Vec<u8>,) = sqlx::query_as("SELECT ciphertext FROM shares WHERE id = ?")
        .bind(link.share.id.to_string())
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stored, sealed);

    let page = read(&server, &link.path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    check_private(&page, ENCRYPTED_POLICY, "the encrypted page");
    let html = &page.body;
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains(&format!(
            "<main id=\"share\" class=\"share\" data-ciphertext=\"{encoded}\" \
             data-tools-js=\"/pkg/"
        )),
        "{html}"
    );
    assert!(html.contains("data-tools-wasm=\"/pkg/"));
    assert!(
        html.contains("<p id=\"share-status\" role=\"status\">This link is end-to-end encrypted")
    );
    assert!(html.contains("needs JavaScript"));
    assert!(html.contains(
        "<noscript><p class=\"error\">This link is end-to-end encrypted: the server cannot read \
         it, so your browser has to decrypt it, and that needs JavaScript. Turn JavaScript on \
         for this page to read it.</p></noscript>"
    ));
    assert!(html.contains("<script type=\"module\" src=\"/pkg/"));
    assert_eq!(
        html.matches("<script").count(),
        1,
        "one script, no inline one"
    );
    assert!(!html.contains("og:"));
    for table in V1_TABLES {
        assert!(!html.contains(table), "the server rendered table {table}");
    }
    assert!(!html.contains("<svg"));
    let listed = alice.list().await;
    assert_eq!(listed.shares[0].open_count, 1);

    // An encrypted link's token opens nothing under /s/, and no downloads.
    let token = token_of(&link.path);
    let unknown = read(&server, &format!("/s/{}", unknown_token())).await;
    for path in [
        format!("/s/{token}"),
        format!("/s/{token}/download/sql-postgres"),
        format!("/e/{}", unknown_token()),
    ] {
        let page = read(&server, &path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(page.body, unknown.body, "{path}");
    }

    // Its drafts need not be synced.
    let unsynced = alice
        .create(
            json!({ "draft_id": Uuid::now_v7(), "ciphertext": URL_SAFE_NO_PAD.encode([9u8; 28]) }),
        )
        .await;
    assert_eq!(read(&server, &unsynced.path).await.status, StatusCode::OK);

    // Revoked: the same 404, and the ciphertext is gone.
    let reply = alice
        .http
        .delete(&format!("/api/v1/shares/{}", link.share.id))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let gone = read(&server, &link.path).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.body, unknown.body);
    assert_eq!(gone.shape(), unknown.shape());
    let (stored,): (Vec<u8>,) = sqlx::query_as("SELECT ciphertext FROM shares WHERE id = ?")
        .bind(link.share.id.to_string())
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(stored.is_empty());
}

#[tokio::test]
async fn lookups_are_rate_limited_per_address() {
    let server = start_server(|c| c.share_lookups_per_minute = 5).await;
    let mut alice = Owner::register(&server, "alice").await;
    let (_, first) = alice.library("Library").await;
    let link = alice.create(json!({ "draft_id": first.id })).await;
    let paths = [
        link.path.clone(),
        format!("{}/download/markdown", link.path),
        format!("/s/{}", unknown_token()),
        format!("/e/{}", unknown_token()),
        "/s/short".to_string(),
    ];
    for path in &paths {
        assert_ne!(
            read(&server, path).await.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{path}"
        );
    }
    let limited = read(&server, &link.path).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.body
    );
    let wait: u64 = limited.header(header::RETRY_AFTER).parse().unwrap();
    assert!((1..=12).contains(&wait), "{wait}");
    assert_eq!(limited.header("x-ratelimit-limit-requests"), "5");
    check_private(&limited, PLAIN_POLICY, "the 429");
    assert!(limited.body.contains("Too many links opened"));
    // The API is not charged by it.
    assert_eq!(alice.list().await.shares.len(), 1);
    let metrics = alice.http.get("/metrics").await.text;
    assert!(
        metrics.contains("rate_limited_total{kind=\"share_lookups\"} 1"),
        "{metrics}"
    );
}
