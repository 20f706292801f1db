//! Accounts an administrator can run, on the real server: registration modes (open, invite,
//! closed), the admin API (users, deactivation, deletion, invites, the audit log) and who may
//! call it, a user's password change and account deletion, and that a deleted account leaves
//! no row behind in any table (read straight from the SQLite file, every table enumerated, so
//! a table added later is covered too).

#![allow(clippy::unwrap_used)]

mod common;

use common::{start_fake, start_server, Client, Reply, TestServer};
use fake_provider::FakeOptions;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use server::config::{Config, Registration};
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::SqlitePool;
use std::collections::BTreeSet;

const PASSWORD: &str = "correct horse battery";

/// A server with the given registration mode and no per-IP attempt limit (the tests sign in
/// many times from one address).
async fn server_with(registration: Registration) -> TestServer {
    start_server(|config: &mut Config| {
        config.registration = registration;
        config.auth_attempts_per_minute = 0;
    })
    .await
}

/// `check(reply, status, code)`: the reply is an error envelope with that status and code.
#[track_caller]
fn check(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (status, code),
        "{}",
        reply.text
    );
}

async fn register_with(client: &mut Client, username: &str, invite: Option<&str>) -> Reply {
    let mut body = json!({ "username": username, "password": PASSWORD });
    if let Some(invite) = invite {
        body["invite"] = json!(invite);
    }
    client.post("/api/v1/auth/register", body).await
}

async fn login(client: &mut Client, username: &str, password: &str) -> Reply {
    client
        .post(
            "/api/v1/auth/login",
            json!({ "username": username, "password": password }),
        )
        .await
}

/// A read-only connection to the server's database file.
async fn database(server: &TestServer) -> SqlitePool {
    let path = server.dir.path().join("data").join("data-modeller.db");
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}?mode=ro", path.display()))
        .await
        .unwrap()
}

/// The tables (besides sqlx's own and the audit log, which outlives accounts on purpose) in
/// which some column holds `needle`, compared as text: every table and column there is.
async fn tables_holding(db: &SqlitePool, needle: &str) -> BTreeSet<String> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT IN ('_sqlx_migrations', 'audit_events')",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut holding = BTreeSet::new();
    for (table,) in tables {
        let columns: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info(?)")
            .bind(&table)
            .fetch_all(db)
            .await
            .unwrap();
        for (column,) in columns {
            let (hits,): (i64,) = sqlx::query_as(&format!(
                "SELECT COUNT(*) FROM \"{table}\" WHERE instr(CAST(\"{column}\" AS TEXT), ?) > 0"
            ))
            .bind(needle)
            .fetch_one(db)
            .await
            .unwrap();
            if hits > 0 {
                holding.insert(table.clone());
            }
        }
    }
    holding
}

fn set(tables: &[&str]) -> BTreeSet<String> {
    tables.iter().map(|t| t.to_string()).collect()
}

async fn create_invite(admin: &mut Client, body: Value) -> (String, String) {
    let reply = admin.post("/api/v1/admin/invites", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let code = reply.json()["code"].as_str().unwrap().to_string();
    assert!(code.starts_with("inv_"), "{code}");
    (
        code,
        reply.json()["info"]["id"].as_str().unwrap().to_string(),
    )
}

/// The audit log's event names, oldest first.
async fn audit_names(admin: &mut Client) -> Vec<String> {
    let page = admin.get("/api/v1/admin/audit?limit=500").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let mut names: Vec<String> = page.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    names.reverse();
    names
}

#[tokio::test]
async fn closed_registration_lets_only_the_first_account_in() {
    let server = server_with(Registration::Closed).await;
    let mut root = Client::new(&server.base);
    // A fresh install still gets its administrator.
    let first = register_with(&mut root, "root", None).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.json()["is_admin"], true);
    let mut eve = Client::new(&server.base);
    check(
        &register_with(&mut eve, "eve", None).await,
        StatusCode::FORBIDDEN,
        "AUTH_REGISTRATION_CLOSED",
    );
    // An invite code does not open a closed server.
    let (code, _) = create_invite(&mut root, json!({})).await;
    check(
        &register_with(&mut eve, "eve", Some(&code)).await,
        StatusCode::FORBIDDEN,
        "AUTH_REGISTRATION_CLOSED",
    );
    let names = audit_names(&mut root).await;
    assert_eq!(
        names,
        [
            "account.created",
            "account.registration_refused",
            "admin.invite_created",
            "account.registration_refused"
        ]
    );
    let page = root.get("/api/v1/admin/audit").await.json();
    assert_eq!(page["events"][0]["actor"], "eve");
    assert_eq!(
        page["events"][0]["details"]["reason"],
        "AUTH_REGISTRATION_CLOSED"
    );
    assert_eq!(page["events"][0]["ip"], "127.0.0.1");
    let users = root.get("/api/v1/admin/users").await.json();
    assert_eq!(users.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn invite_only_registration_takes_each_code_once() {
    let server = server_with(Registration::Invite).await;
    let mut root = Client::new(&server.base);
    // The first account needs no code: there is nobody to make one yet.
    assert_eq!(
        register_with(&mut root, "root", None).await.status,
        StatusCode::CREATED
    );
    let (code, id) = create_invite(&mut root, json!({ "expires_in_days": 7 })).await;
    let (expired, _) = create_invite(&mut root, json!({})).await;
    let (revoked, revoked_id) = create_invite(&mut root, json!({})).await;
    check(
        &root
            .post("/api/v1/admin/invites", json!({ "expires_in_days": 0 }))
            .await,
        StatusCode::BAD_REQUEST,
        "VAL_INVITE_EXPIRY",
    );
    // Expire one by hand: the server's clock is not ours to move.
    {
        let path = server.dir.path().join("data").join("data-modeller.db");
        let db = SqlitePoolOptions::new()
            .connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let hash = sha256(&expired);
        let done = sqlx::query("UPDATE invites SET expires_at = 1 WHERE code_hash = ?")
            .bind(hash)
            .execute(&db)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 1);
        db.close().await;
    }
    assert_eq!(
        root.delete(&format!("/api/v1/admin/invites/{revoked_id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    let mut eve = Client::new(&server.base);
    for (invite, code_expected) in [
        (None, "AUTH_INVITE_REQUIRED"),
        (Some(""), "AUTH_INVITE_REQUIRED"),
        (Some("inv_made-up"), "AUTH_INVITE_INVALID"),
        (Some(revoked.as_str()), "AUTH_INVITE_INVALID"),
        (Some(expired.as_str()), "AUTH_INVITE_EXPIRED"),
    ] {
        check(
            &register_with(&mut eve, "eve", invite).await,
            StatusCode::FORBIDDEN,
            code_expected,
        );
    }
    // A good code works once.
    let mut bob = Client::new(&server.base);
    let joined = register_with(&mut bob, "bob", Some(&code)).await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.text);
    assert_eq!(joined.json()["is_admin"], false);
    check(
        &register_with(&mut eve, "eve", Some(&code)).await,
        StatusCode::FORBIDDEN,
        "AUTH_INVITE_USED",
    );
    // A taken name does not use up the code.
    let (fresh, _) = create_invite(&mut root, json!({})).await;
    check(
        &register_with(&mut eve, "BOB", Some(&fresh)).await,
        StatusCode::CONFLICT,
        "VAL_USERNAME_TAKEN",
    );
    assert_eq!(
        register_with(&mut eve, "eve", Some(&fresh)).await.status,
        StatusCode::CREATED
    );

    // The list shows who used which code, never a code.
    let list = root.get("/api/v1/admin/invites").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.text.contains(&code[4..]) && !list.text.contains(&fresh[4..]));
    let used = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(used["used_by"], "bob");
    assert_eq!(used["created_by"], "root");
    assert!(used["expires_at"].as_i64().is_some() && used["used_at"].as_i64().is_some());
    // Neither the codes nor their hashes' inputs reach the audit log.
    let audit = root.get("/api/v1/admin/audit?limit=500").await.text;
    for secret in [&code, &expired, &revoked, &fresh] {
        assert!(!audit.contains(secret.as_str()), "{audit}");
    }
}

fn sha256(text: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).to_vec()
}

#[tokio::test]
async fn admin_routes_need_an_administrator_and_changes_need_a_session() {
    let server = server_with(Registration::Open).await;
    let mut root = Client::new(&server.base);
    root.register("root").await;
    let mut bob = Client::new(&server.base);
    let bob_id = bob.register("bob").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let root_id = root.get("/api/v1/auth/me").await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let routes = [
        (Method::GET, "/api/v1/admin/users".to_string(), true),
        (Method::GET, "/api/v1/admin/audit".to_string(), true),
        (Method::GET, "/api/v1/admin/invites".to_string(), true),
        (Method::POST, "/api/v1/admin/invites".to_string(), false),
        (
            Method::DELETE,
            format!("/api/v1/admin/invites/{bob_id}"),
            false,
        ),
        (
            Method::POST,
            format!("/api/v1/admin/users/{bob_id}/deactivate"),
            false,
        ),
        (
            Method::POST,
            format!("/api/v1/admin/users/{bob_id}/reactivate"),
            false,
        ),
        (
            Method::DELETE,
            format!("/api/v1/admin/users/{bob_id}"),
            false,
        ),
    ];
    // A user who is not an administrator: 403 everywhere, with a session or a token.
    let bob_token = bob.create_token("script").await;
    let mut bobs_program = Client::new(&server.base);
    bobs_program.bearer = Some(bob_token);
    for (method, path, _) in &routes {
        for client in [&mut bob, &mut bobs_program] {
            let reply = client.call(method.clone(), path, Some(&json!({}))).await;
            check(&reply, StatusCode::FORBIDDEN, "AUTH_ADMIN_REQUIRED");
        }
    }
    // Signed out: 401.
    let mut stranger = Client::new(&server.base);
    check(
        &stranger.get("/api/v1/admin/users").await,
        StatusCode::UNAUTHORIZED,
        "AUTH_REQUIRED",
    );
    // An administrator's token reads but changes nothing.
    let root_token = root.create_token("monitoring").await;
    let mut monitor = Client::new(&server.base);
    monitor.bearer = Some(root_token);
    for (method, path, read) in &routes {
        let reply = monitor.call(method.clone(), path, Some(&json!({}))).await;
        if *read {
            assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
        } else {
            check(&reply, StatusCode::FORBIDDEN, "AUTH_SESSION_REQUIRED");
        }
    }
    // Not on oneself.
    for (method, path) in [
        (
            Method::POST,
            format!("/api/v1/admin/users/{root_id}/deactivate"),
        ),
        (Method::DELETE, format!("/api/v1/admin/users/{root_id}")),
    ] {
        check(
            &root.call(method, &path, None).await,
            StatusCode::FORBIDDEN,
            "AUTH_ADMIN_SELF",
        );
    }
    // Unknown accounts and malformed queries.
    let unknown = "0190aaaa-0000-7000-8000-00000000ffff";
    check(
        &root
            .call(
                Method::POST,
                &format!("/api/v1/admin/users/{unknown}/deactivate"),
                None,
            )
            .await,
        StatusCode::NOT_FOUND,
        "RES_NOT_FOUND",
    );
    for query in ["limit=0", "limit=501", "before=x"] {
        check(
            &root.get(&format!("/api/v1/admin/audit?{query}")).await,
            StatusCode::BAD_REQUEST,
            "VAL_QUERY",
        );
    }

    // The list: every account with its counts, never a secret.
    let users = root.get("/api/v1/admin/users").await;
    assert!(!users.text.contains("argon2"), "{}", users.text);
    let users = users.json();
    assert_eq!(users.as_array().unwrap().len(), 2);
    assert_eq!(users[0]["username"], "root");
    assert_eq!(users[0]["is_admin"], true);
    assert_eq!(users[0]["tokens"], 1);
    assert_eq!(users[1]["username"], "bob");
    assert_eq!(users[1]["is_admin"], false);
    assert_eq!(users[1]["sessions"], 1);
    assert!(users[1]["created_at"].as_i64().is_some());
    assert!(users[1].get("deactivated_at").is_none());
}

#[tokio::test]
async fn a_deactivated_account_stops_at_once_and_reactivation_restores_it() {
    let server = server_with(Registration::Open).await;
    let mut root = Client::new(&server.base);
    root.register("root").await;
    let mut bob = Client::new(&server.base);
    let bob_id = bob.register("bob").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = bob.create_token("script").await;
    let mut program = Client::new(&server.base);
    program.bearer = Some(token.clone());
    // Both credentials used, so both sit in the server's credential cache.
    assert_eq!(bob.get("/api/v1/auth/me").await.status, StatusCode::OK);
    assert_eq!(program.get("/api/v1/auth/me").await.status, StatusCode::OK);

    let deactivate = format!("/api/v1/admin/users/{bob_id}/deactivate");
    assert_eq!(
        root.call(Method::POST, &deactivate, None).await.status,
        StatusCode::NO_CONTENT
    );
    // The very next request of each fails, well within the cache's lifetime.
    check(
        &bob.get("/api/v1/auth/me").await,
        StatusCode::UNAUTHORIZED,
        "AUTH_REQUIRED",
    );
    check(
        &program.get("/api/v1/providers").await,
        StatusCode::UNAUTHORIZED,
        "AUTH_INVALID_TOKEN",
    );
    // The password still verifies, but the account may not sign in; a wrong password says
    // nothing more than for anyone.
    let mut again = Client::new(&server.base);
    check(
        &login(&mut again, "bob", PASSWORD).await,
        StatusCode::FORBIDDEN,
        "AUTH_ACCOUNT_DEACTIVATED",
    );
    check(
        &login(&mut again, "bob", "wrong horse battery").await,
        StatusCode::UNAUTHORIZED,
        "AUTH_INVALID_CREDENTIALS",
    );
    check(
        &root.call(Method::POST, &deactivate, None).await,
        StatusCode::NOT_FOUND,
        "RES_NOT_FOUND",
    );
    let listed = root.get("/api/v1/admin/users").await.json();
    assert!(listed[1]["deactivated_at"].as_i64().is_some());
    assert_eq!(listed[1]["sessions"], 0);

    // Reactivated: the token works again and bob signs in.
    let reactivate = format!("/api/v1/admin/users/{bob_id}/reactivate");
    assert_eq!(
        root.call(Method::POST, &reactivate, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        program.get("/api/v1/auth/me").await.json()["username"],
        "bob"
    );
    assert_eq!(
        login(&mut again, "bob", PASSWORD).await.status,
        StatusCode::OK
    );
    assert!(
        root.get("/api/v1/admin/users").await.json()[1]["last_sign_in_at"]
            .as_i64()
            .is_some()
    );
    check(
        &root.call(Method::POST, &reactivate, None).await,
        StatusCode::NOT_FOUND,
        "RES_NOT_FOUND",
    );
}

/// Gives `client`'s account a token, a provider, and, pushed by one browser, a domain edited
/// once (so an older version is kept) and a draft, with a share link to it; returns (token, provider key, domain id,
/// draft id).
async fn fill_account(client: &mut Client, fake_url: &str, n: u32) -> [String; 4] {
    let token = client.create_token("script").await;
    let key = format!("sk-fill-key-{n}-Q7Z9");
    client.add_provider("fake", fake_url, &key).await;
    let domain_id = format!("0190aaaa-0000-7000-8000-0000000001{n:02}");
    let draft_id = format!("0190aaaa-0000-7000-8000-0000000002{n:02}");
    let client_id = format!("0190aaaa-0000-7000-8000-0000000003{n:02}");
    let model = include_str!("../../model/tests/data/library-v1.json");
    let domain = json!({ "id": domain_id, "name": "library", "description": "books", "created_at": 1, "updated_at": 1 });
    let draft = json!({
        "id": draft_id, "domain_id": domain_id, "number": 1, "parent_id": null, "created_at": 5,
        "provenance": { "source": "llm", "provider": "fake", "model": "m", "instruction": "", "prompt_hash": "h" },
        "model": serde_json::from_str::<Value>(model).unwrap(),
    });
    let edit = json!({
        "kind": "edit_domain", "domain_id": domain_id, "at": 2,
        "set": { "field": "description", "value": "lending" },
        "was": { "field": "description", "value": "books" },
    });
    let mutations = json!([
        { "id": 1, "mutation": { "kind": "create_domain", "domain": domain } },
        { "id": 2, "mutation": { "kind": "create_draft", "draft": draft } },
        { "id": 3, "mutation": edit },
    ]);
    let pushed = client
        .post(
            "/api/v1/sync/push",
            json!({ "client_id": client_id, "mutations": mutations }),
        )
        .await;
    assert_eq!(pushed.status, StatusCode::OK, "{}", pushed.text);
    assert_eq!(
        pushed.json(),
        json!({ "last_mutation_id": 3, "version": 3 }),
        "all applied"
    );
    let shared = client
        .post("/api/v1/shares", json!({ "draft_id": draft_id }))
        .await;
    assert_eq!(shared.status, StatusCode::CREATED, "{}", shared.text);
    [token, key, domain_id, draft_id]
}

#[tokio::test]
async fn deleting_an_account_leaves_no_row_of_it_in_any_table() {
    let (fake_url, _) = start_fake(FakeOptions::default()).await;
    let server = server_with(Registration::Invite).await;
    let mut root = Client::new(&server.base);
    root.register("root").await;
    root.add_provider("roots", &fake_url, "sk-root-key").await;
    let mut accounts = Vec::new();
    for (n, name) in [(1, "bob"), (2, "carol")] {
        let (code, _) = create_invite(&mut root, json!({})).await;
        let mut client = Client::new(&server.base);
        let reply = register_with(&mut client, name, Some(&code)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        let id = reply.json()["id"].as_str().unwrap().to_string();
        let filled = fill_account(&mut client, &fake_url, n).await;
        accounts.push((client, id, name, filled));
    }
    let db = database(&server).await;
    // The scan finds what it looks for: every table that holds an account's rows.
    let (_, first_id, _, [_, _, domain, draft]) = &accounts[0];
    assert_eq!(
        tables_holding(&db, first_id).await,
        set(&[
            "api_tokens",
            "domain_versions",
            "domains",
            "drafts",
            "invites",
            "providers",
            "sessions",
            "shares",
            "sync_clients",
            "sync_users",
            "users"
        ])
    );
    assert_eq!(
        tables_holding(&db, domain).await,
        set(&["domain_versions", "domains", "drafts", "shares"])
    );
    assert_eq!(tables_holding(&db, draft).await, set(&["drafts", "shares"]));

    // Bob is deleted by the administrator, Carol deletes her own account.
    let (mut carol, carol_id, _, carols) = accounts.pop().unwrap();
    let (mut bob, bob_id, _, bobs) = accounts.pop().unwrap();
    assert_eq!(
        root.delete(&format!("/api/v1/admin/users/{bob_id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    check(
        &bob.get("/api/v1/auth/me").await,
        StatusCode::UNAUTHORIZED,
        "AUTH_REQUIRED",
    );
    let confirm = |password: &str| json!({ "password": password });
    check(
        &carol
            .call(
                Method::DELETE,
                "/api/v1/auth/account",
                Some(&confirm("wrong horse battery")),
            )
            .await,
        StatusCode::FORBIDDEN,
        "AUTH_WRONG_PASSWORD",
    );
    let deleted = carol
        .call(
            Method::DELETE,
            "/api/v1/auth/account",
            Some(&confirm(PASSWORD)),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    assert!(carol.cookie.is_none(), "the cookie is cleared");
    check(
        &login(&mut carol, "carol", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "AUTH_INVALID_CREDENTIALS",
    );

    let [bob_token, bob_key, bob_domain, bob_draft] = bobs;
    let [carol_token, carol_key, carol_domain, carol_draft] = carols;
    for needle in [
        bob_id.as_str(),
        carol_id.as_str(),
        "bob",
        "carol",
        &bob_domain,
        &bob_draft,
        &carol_domain,
        &carol_draft,
        &bob_key[bob_key.len() - 4..],
        &carol_key[carol_key.len() - 4..],
    ] {
        assert_eq!(
            tables_holding(&db, needle).await,
            BTreeSet::new(),
            "{needle} is still stored"
        );
    }
    // Their tokens no longer exist even as hashes.
    for token in [&bob_token, &carol_token] {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM api_tokens WHERE token_hash = ?")
                .bind(sha256(token))
                .fetch_one(&db)
                .await
                .unwrap();
        assert_eq!(count, 0);
    }
    // The administrator's own rows are untouched.
    let root_id = root.get("/api/v1/auth/me").await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        tables_holding(&db, &root_id).await,
        set(&["invites", "providers", "sessions", "users"])
    );
    // The last administrator cannot delete their account while others remain...
    let mut dave = Client::new(&server.base);
    let (code, _) = create_invite(&mut root, json!({})).await;
    assert_eq!(
        register_with(&mut dave, "dave", Some(&code)).await.status,
        StatusCode::CREATED
    );
    check(
        &root
            .call(
                Method::DELETE,
                "/api/v1/auth/account",
                Some(&confirm(PASSWORD)),
            )
            .await,
        StatusCode::CONFLICT,
        "AUTH_LAST_ADMIN",
    );
    // ...and nobody deletes an account with an API token.
    let token = dave.create_token("t").await;
    dave.bearer = Some(token);
    check(
        &dave
            .call(
                Method::DELETE,
                "/api/v1/auth/account",
                Some(&confirm(PASSWORD)),
            )
            .await,
        StatusCode::FORBIDDEN,
        "AUTH_SESSION_REQUIRED",
    );
    db.close().await;
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_and_the_old_password() {
    let server = server_with(Registration::Open).await;
    let mut laptop = Client::new(&server.base);
    laptop.register("dana").await;
    let mut phone = Client::new(&server.base);
    assert_eq!(
        login(&mut phone, "dana", PASSWORD).await.status,
        StatusCode::OK
    );
    let token = laptop.create_token("script").await;
    let mut program = Client::new(&server.base);
    program.bearer = Some(token);
    // Cached on the server.
    assert_eq!(phone.get("/api/v1/auth/me").await.status, StatusCode::OK);

    let new_password = "a brand new horse battery";
    let change =
        |current: &str, new: &str| json!({ "current_password": current, "new_password": new });
    for (body, status, code) in [
        (
            change("wrong horse battery", new_password),
            StatusCode::FORBIDDEN,
            "AUTH_WRONG_PASSWORD",
        ),
        (
            change(PASSWORD, "short"),
            StatusCode::BAD_REQUEST,
            "VAL_PASSWORD",
        ),
        (
            json!({ "new_password": new_password }),
            StatusCode::BAD_REQUEST,
            "VAL_FIELDS",
        ),
    ] {
        check(
            &laptop.post("/api/v1/auth/password", body).await,
            status,
            code,
        );
    }
    check(
        &program
            .post("/api/v1/auth/password", change(PASSWORD, new_password))
            .await,
        StatusCode::FORBIDDEN,
        "AUTH_SESSION_REQUIRED",
    );
    // Nothing changed so far.
    assert_eq!(phone.get("/api/v1/auth/me").await.status, StatusCode::OK);

    let changed = laptop
        .post("/api/v1/auth/password", change(PASSWORD, new_password))
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.text);
    check(
        &phone.get("/api/v1/auth/me").await,
        StatusCode::UNAUTHORIZED,
        "AUTH_REQUIRED",
    );
    assert_eq!(laptop.get("/api/v1/auth/me").await.status, StatusCode::OK);
    assert_eq!(
        laptop
            .get("/api/v1/auth/sessions")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // API tokens are kept: they are revoked on their own.
    assert_eq!(program.get("/api/v1/auth/me").await.status, StatusCode::OK);
    check(
        &login(&mut phone, "dana", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "AUTH_INVALID_CREDENTIALS",
    );
    assert_eq!(
        login(&mut phone, "dana", new_password).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_audit_log_records_security_events_in_order_without_secrets() {
    let (fake_url, _) = start_fake(FakeOptions::default()).await;
    let server = server_with(Registration::Open).await;
    let mut root = Client::new(&server.base);
    root.register("root").await;
    let mut bob = Client::new(&server.base);
    let bob_id = bob.register("bob").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let provider_key = "sk-audit-provider-key-W4X8";
    let new_password = "a brand new horse battery";

    check(
        &login(&mut bob, "bob", "wrong horse battery").await,
        StatusCode::UNAUTHORIZED,
        "AUTH_INVALID_CREDENTIALS",
    );
    check(
        &login(&mut bob, "nobody\nhere", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "AUTH_INVALID_CREDENTIALS",
    );
    let mut phone = Client::new(&server.base);
    assert_eq!(
        login(&mut phone, "bob", PASSWORD).await.status,
        StatusCode::OK
    );
    let token = bob.create_token("script").await;
    let token_id = bob.get("/api/v1/tokens").await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let provider = bob.add_provider("fake", &fake_url, provider_key).await;
    assert_eq!(
        bob.delete(&format!("/api/v1/providers/{provider}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        bob.delete(&format!("/api/v1/tokens/{token_id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let sessions = bob.get("/api/v1/auth/sessions").await.json();
    let other = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        bob.delete(&format!("/api/v1/auth/sessions/{other}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let changed = bob
        .post(
            "/api/v1/auth/password",
            json!({ "current_password": PASSWORD, "new_password": new_password }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        bob.post("/api/v1/auth/logout", json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    let (invite, invite_id) = create_invite(&mut root, json!({ "expires_in_days": 1 })).await;
    assert_eq!(
        root.delete(&format!("/api/v1/admin/invites/{invite_id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    for action in ["deactivate", "reactivate"] {
        let path = format!("/api/v1/admin/users/{bob_id}/{action}");
        assert_eq!(
            root.call(Method::POST, &path, None).await.status,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        root.delete(&format!("/api/v1/admin/users/{bob_id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    assert_eq!(
        audit_names(&mut root).await,
        [
            "account.created",
            "account.created",
            "auth.sign_in_failed",
            "auth.sign_in_failed",
            "auth.sign_in",
            "token.created",
            "provider.created",
            "provider.deleted",
            "token.revoked",
            "auth.session_revoked",
            "auth.password_changed",
            "auth.sign_out",
            "admin.invite_created",
            "admin.invite_revoked",
            "admin.user_deactivated",
            "admin.user_reactivated",
            "admin.user_deleted",
        ]
    );
    // Actors, targets and addresses, as an administrator reads them.
    let events = root.get("/api/v1/admin/audit").await.json()["events"].clone();
    let newest = &events[0];
    assert_eq!(newest["actor"], "root");
    assert_eq!(newest["target"], "bob");
    assert_eq!(newest["target_id"], bob_id.as_str());
    let failed = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "auth.sign_in_failed")
        .map(|e| e["actor"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert_eq!(failed, ["nobodyhere", "bob"], "typed names, made printable");
    assert!(events
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["ip"] == "127.0.0.1"));
    let created = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "provider.created")
        .unwrap();
    assert_eq!(created["target"], "fake");
    assert_eq!(created["details"]["host"], "127.0.0.1");

    // Paging: newest first, `next_before` leads on, and the pages add up to the whole log.
    let mut seen = Vec::new();
    let mut before = None::<i64>;
    loop {
        let path = match before {
            Some(id) => format!("/api/v1/admin/audit?limit=5&before={id}"),
            None => "/api/v1/admin/audit?limit=5".to_string(),
        };
        let page = root.get(&path).await.json();
        let ids: Vec<i64> = page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
        seen.extend(ids);
        match page["next_before"].as_i64() {
            Some(id) => before = Some(id),
            None => break,
        }
    }
    assert_eq!(seen.len(), 17);

    // No secret anywhere in the log: not in the API's answer, not in the table.
    let db = database(&server).await;
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT actor, event, COALESCE(target, ''), COALESCE(ip, ''), details FROM audit_events",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let stored = format!("{rows:?}");
    let served = root.get("/api/v1/admin/audit?limit=500").await.text;
    for secret in [
        PASSWORD,
        "wrong horse battery",
        new_password,
        token.as_str(),
        &token[3..12],
        provider_key,
        "W4X8",
        invite.as_str(),
        &invite[4..12],
        "argon2",
    ] {
        assert!(!stored.contains(secret), "{secret} in {stored}");
        assert!(!served.contains(secret), "{secret} in {served}");
    }
    db.close().await;
}
