//! Fixtures of the share link tests (`shares.rs`, `share_logs.rs`): a user who syncs the
//! library fixture of `model/tests/data` and manages links through the API, and a reader who
//! opens pages without an account.

#![allow(dead_code, clippy::unwrap_used)]

use crate::common::{Client, Reply, TestServer};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use model::sync::{Mutation, PushedMutation, SyncPush, SyncPushResult};
use model::wire::{DomainRecord, DraftRecord, Provenance, ShareCreated, ShareList};
use model::{Conventions, Model};
use rand::RngCore;
use reqwest::{header, StatusCode};
use serde_json::Value;
use server::clock::now_ms;
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::SqlitePool;
use uuid::Uuid;

pub const HOUR_MS: i64 = 3_600_000;
pub const LIBRARY_V1: &str = include_str!("../../../model/tests/data/library-v1.json");
pub const LIBRARY_V2: &str = include_str!("../../../model/tests/data/library-v2.json");
pub const V1_TABLES: [&str; 4] = ["author", "book", "member", "loan"];

pub fn library(text: &str) -> Model {
    serde_json::from_str(text).unwrap()
}

pub fn domain(name: &str) -> DomainRecord {
    let at = now_ms();
    DomainRecord {
        id: Uuid::now_v7(),
        name: name.into(),
        description: "a lending library".into(),
        conventions: Conventions::default(),
        created_at: at,
        updated_at: at,
        deleted_at: None,
        overwritten: vec![],
        positions: Default::default(),
        notes: vec![],
        exports: vec![],
    }
}

pub fn draft(domain: &DomainRecord, number: u32, model: Model) -> DraftRecord {
    DraftRecord {
        id: Uuid::now_v7(),
        domain_id: domain.id,
        number,
        parent_id: None,
        created_at: now_ms(),
        provenance: Provenance {
            source: "hand".into(),
            provider: String::new(),
            model: String::new(),
            instruction: String::new(),
            prompt_hash: String::new(),
            usage: None,
            accepted: vec![],
            proposed: 0,
            notes: vec![],
            parameters: Default::default(),
        },
        model,
        made_on: Some("test".into()),
    }
}

/// A signed-in user with one browser that pushes through sync.
pub struct Owner {
    pub http: Client,
    pub client_id: Uuid,
    pub next: u64,
}

impl Owner {
    pub async fn register(server: &TestServer, username: &str) -> Self {
        let mut http = Client::new(&server.base);
        http.register(username).await;
        Owner {
            http,
            client_id: Uuid::now_v7(),
            next: 1,
        }
    }

    /// Pushes `mutations` and checks that every one applied.
    pub async fn push(&mut self, mutations: Vec<Mutation>) {
        let entries = mutations
            .into_iter()
            .map(|mutation| {
                self.next += 1;
                PushedMutation {
                    id: self.next - 1,
                    mutation: Some(mutation),
                    part: None,
                }
            })
            .collect();
        let body = SyncPush {
            client_id: self.client_id,
            mutations: entries,
        };
        let reply = self
            .http
            .post("/api/v1/sync/push", serde_json::to_value(&body).unwrap())
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let result: SyncPushResult = serde_json::from_str(&reply.text).unwrap();
        assert!(result.rejected.is_empty(), "{:?}", result.rejected);
    }

    /// Syncs a new domain with a first draft of the library; returns both.
    pub async fn library(&mut self, name: &str) -> (DomainRecord, DraftRecord) {
        let domain = domain(name);
        let first = draft(&domain, 1, library(LIBRARY_V1));
        self.push(vec![
            Mutation::CreateDomain {
                domain: domain.clone(),
            },
            Mutation::CreateDraft {
                draft: Box::new(first.clone()),
            },
        ])
        .await;
        (domain, first)
    }

    pub async fn share(&mut self, body: Value) -> Reply {
        self.http.post("/api/v1/shares", body).await
    }

    /// Creates a link and returns its answer.
    pub async fn create(&mut self, body: Value) -> ShareCreated {
        let reply = self.share(body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        serde_json::from_str(&reply.text).unwrap()
    }

    pub async fn list(&mut self) -> ShareList {
        let reply = self.http.get("/api/v1/shares").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        serde_json::from_str(&reply.text).unwrap()
    }
}

/// An answer to a reader: status, headers and body.
pub struct Page {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: impl header::AsHeaderName) -> &str {
        self.headers
            .get(name)
            .map_or("", |value| value.to_str().unwrap())
    }

    /// The headers that must be the same on every 404, whatever the link.
    pub fn shape(&self) -> Vec<(String, String)> {
        let mut shape: Vec<(String, String)> = self
            .headers
            .iter()
            .filter(|(name, _)| *name != header::DATE)
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_string()))
            .collect();
        shape.sort();
        shape
    }
}

/// Opens `path` as a reader would: no cookie, no account.
pub async fn read(server: &TestServer, path: &str) -> Page {
    let response = reqwest::get(format!("{}{path}", server.base))
        .await
        .unwrap();
    Page {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// Asserts the headers every share answer carries, with `policy`.
pub fn check_private(page: &Page, policy: &str, what: &str) {
    assert_eq!(page.header(header::CACHE_CONTROL), "no-store", "{what}");
    assert_eq!(page.header("x-robots-tag"), "noindex", "{what}");
    assert_eq!(
        page.header(header::REFERRER_POLICY),
        "no-referrer",
        "{what}"
    );
    assert_eq!(
        page.header(header::CONTENT_SECURITY_POLICY),
        policy,
        "{what}"
    );
    assert_eq!(page.header(header::X_FRAME_OPTIONS), "DENY", "{what}");
    assert_eq!(
        page.header(header::X_CONTENT_TYPE_OPTIONS),
        "nosniff",
        "{what}"
    );
}

/// The token of a link's path.
pub fn token_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap()
}

/// A well-formed token that names no link.
pub fn unknown_token() -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

/// A read-only connection to the server's database file.
pub async fn database(server: &TestServer) -> SqlitePool {
    let path = server.dir.path().join("data").join("data-modeller.db");
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}?mode=ro", path.display()))
        .await
        .unwrap()
}

pub fn refused(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (status, code),
        "{}",
        reply.text
    );
}
