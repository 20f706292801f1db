//! The sync protocol (DESIGN §6, `model::sync`) against the real server on a real socket:
//! push and pull as browsers use them, rejections, concurrent edits, tombstones, large drafts
//! in parts, paging, isolation between accounts, and a property test in which simulated
//! browsers of one user edit, push (in prefixes, twice, late or never) and pull in any order
//! and still converge on what the server holds, each acknowledged change applied once.
//!
//! A *device* here is a signed-in HTTP client with its own `client_id`; its mutation ids count
//! from 1 as a browser's outbox does.

#![allow(clippy::unwrap_used)]

mod common;

use common::{start_server, Client, Reply};
use model::generate::generated_model;
use model::sync::{
    batches, rebase_domain, DomainEdit, Mutation, Overwritten, Part, PushedMutation, SyncPull,
    SyncPush, SyncPushResult, BATCH_BYTES, OVERWRITTEN_KEPT, PART_BYTES,
};
use model::wire::{DomainRecord, DraftRecord, Provenance};
use model::{Conventions, Model};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";
const DAY_MS: i64 = 86_400_000;
/// The server's body limit for a push is larger; the browser's batches must stay under this.
const BROWSER_PUSH_MAX: usize = 2 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Fixtures

fn domain(id: Uuid, name: &str, description: &str, at: i64) -> DomainRecord {
    DomainRecord {
        id,
        name: name.into(),
        description: description.into(),
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

fn draft(id: Uuid, domain_id: Uuid, number: u32, model: Model, at: i64) -> DraftRecord {
    DraftRecord {
        id,
        domain_id,
        number,
        parent_id: None,
        created_at: at,
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

/// A small valid model; `seed` varies it.
fn small_model(seed: u64) -> Model {
    generated_model(2, 3, seed)
}

fn whole(id: u64, mutation: Mutation) -> PushedMutation {
    PushedMutation {
        id,
        mutation: Some(mutation),
        part: None,
    }
}

fn edit_description(domain_id: Uuid, set: &str, was: &str, at: i64) -> Mutation {
    Mutation::EditDomain {
        domain_id,
        set: DomainEdit::Description(set.into()),
        was: DomainEdit::Description(was.into()),
        at,
    }
}

fn edit_name(domain_id: Uuid, set: &str, was: &str, at: i64) -> Mutation {
    Mutation::EditDomain {
        domain_id,
        set: DomainEdit::Name(set.into()),
        was: DomainEdit::Name(was.into()),
        at,
    }
}

async fn push(http: &mut Client, client_id: Uuid, mutations: &[PushedMutation]) -> Reply {
    let body = SyncPush {
        client_id,
        mutations: mutations.to_vec(),
    };
    http.post("/api/v1/sync/push", serde_json::to_value(&body).unwrap())
        .await
}

async fn pull(http: &mut Client, client_id: Uuid, since: u64) -> Reply {
    http.get(&format!(
        "/api/v1/sync/pull?client_id={client_id}&since={since}"
    ))
    .await
}

/// The body of a 200 answer.
fn ok<T: DeserializeOwned>(reply: Reply) -> T {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    serde_json::from_str(&reply.text).unwrap_or_else(|e| panic!("{e}: {}", reply.text))
}

/// Asserts an error answer's status and code.
fn refused(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (status, code),
        "{}",
        reply.text
    );
}

fn codes(result: &SyncPushResult) -> Vec<(u64, &str)> {
    result
        .rejected
        .iter()
        .map(|r| (r.mutation_id, r.code.as_str()))
        .collect()
}

/// Another device of `username`, signed in with its own session.
async fn sign_in(base: &str, username: &str) -> Client {
    let mut http = Client::new(base);
    let reply = http
        .post(
            "/api/v1/auth/login",
            json!({ "username": username, "password": PASSWORD }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    http
}

/// A browser: its HTTP client, its client id and the id of its next mutation.
struct Device {
    http: Client,
    id: Uuid,
    next: u64,
}

impl Device {
    fn new(http: Client) -> Self {
        Device {
            http,
            id: Uuid::now_v7(),
            next: 1,
        }
    }

    /// Numbers `mutations` as the next ones of this device and pushes them whole.
    async fn send(&mut self, mutations: Vec<Mutation>) -> SyncPushResult {
        let entries: Vec<PushedMutation> = mutations
            .into_iter()
            .map(|m| {
                self.next += 1;
                whole(self.next - 1, m)
            })
            .collect();
        ok(push(&mut self.http, self.id, &entries).await)
    }

    async fn pull(&mut self, since: u64) -> SyncPull {
        ok(pull(&mut self.http, self.id, since).await)
    }
}

/// Everything the server holds for the user, through a pull from 0 of a new client.
async fn everything(http: &mut Client) -> SyncPull {
    let client = Uuid::now_v7();
    let mut since = 0;
    let mut all = SyncPull::default();
    loop {
        let page: SyncPull = ok(pull(http, client, since).await);
        all.domains.extend(page.domains);
        all.drafts.extend(page.drafts);
        all.deleted_drafts.extend(page.deleted_drafts);
        all.version = page.version;
        since = page.version;
        if !page.more {
            return all;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Push and pull

/// The first sync version's test, rewritten for the protocol: a retry changes nothing, a draft
/// never changes, another device of the user sees everything and another user nothing.
#[tokio::test]
async fn sync_push_pull_is_idempotent_immutable_and_private() {
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let mut phone = Device::new(alice);
    let v1: Model =
        serde_json::from_str(include_str!("../../model/tests/data/library-v1.json")).unwrap();
    let v2: Model =
        serde_json::from_str(include_str!("../../model/tests/data/library-v2.json")).unwrap();
    let library = domain(Uuid::now_v7(), "library", "books", 1);
    let first = draft(Uuid::now_v7(), library.id, 1, v1.clone(), 2);
    let batch = [
        whole(
            1,
            Mutation::CreateDomain {
                domain: library.clone(),
            },
        ),
        whole(
            2,
            Mutation::CreateDraft {
                draft: Box::new(first.clone()),
            },
        ),
    ];
    let applied: SyncPushResult = ok(push(&mut phone.http, phone.id, &batch).await);
    assert_eq!((applied.last_mutation_id, applied.version), (2, 2));
    let retried: SyncPushResult = ok(push(&mut phone.http, phone.id, &batch).await);
    assert_eq!(retried, applied);
    phone.next = 3;

    let changed = draft(first.id, library.id, 1, v2, 2);
    let renamed = edit_name(library.id, "lending library", "library", 5);
    let result = phone
        .send(vec![
            Mutation::CreateDraft {
                draft: Box::new(changed),
            },
            renamed,
        ])
        .await;
    assert_eq!(codes(&result), [(3, "RES_DRAFT_IMMUTABLE")]);
    assert_eq!((result.last_mutation_id, result.version), (4, 3));

    // A second device of the same user sees everything, once.
    let mut laptop = Device::new(sign_in(&server.base, "alice").await);
    let pulled = laptop.pull(0).await;
    assert_eq!(pulled.last_mutation_id, 0, "the laptop has pushed nothing");
    assert_eq!(pulled.version, 3);
    assert_eq!(pulled.domains.len(), 1);
    assert_eq!(pulled.domains[0].name, "lending library");
    assert_eq!(pulled.drafts, std::slice::from_ref(&first));
    assert_eq!(pulled.drafts[0].model.entities.len(), 4);

    // Another user sees nothing and cannot write into Alice's ids.
    let mut bob = Client::new(&server.base);
    bob.register("bob").await;
    let mut bobs = Device::new(bob);
    let nothing = bobs.pull(0).await;
    assert_eq!(
        (nothing.version, nothing.domains.len(), nothing.drafts.len()),
        (0, 0, 0)
    );
    let mut steal = library.clone();
    steal.name = "mine".into();
    let orphan = draft(Uuid::now_v7(), library.id, 2, v1, 9);
    let result = bobs
        .send(vec![
            Mutation::CreateDomain { domain: steal },
            Mutation::CreateDraft {
                draft: Box::new(orphan),
            },
        ])
        .await;
    assert_eq!(
        codes(&result),
        [(1, "RES_ID_TAKEN"), (2, "SYNC_UNKNOWN_DOMAIN")]
    );
    assert_eq!(result.version, 0);
    assert_eq!(laptop.pull(0).await.domains[0].name, "lending library");
}

#[tokio::test]
async fn push_and_pull_apply_in_order_skip_retries_and_refuse_gaps() {
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let mut phone = Device::new(alice);
    let d = domain(Uuid::now_v7(), "shop", "orders", 10);
    let dr = draft(Uuid::now_v7(), d.id, 1, small_model(1), 11);
    let batch = [
        whole(1, Mutation::CreateDomain { domain: d.clone() }),
        whole(
            2,
            Mutation::CreateDraft {
                draft: Box::new(dr.clone()),
            },
        ),
    ];
    let applied: SyncPushResult = ok(push(&mut phone.http, phone.id, &batch).await);
    assert_eq!(
        applied,
        SyncPushResult {
            last_mutation_id: 2,
            version: 2,
            rejected: vec![],
        }
    );

    let first = phone.pull(0).await;
    assert_eq!(
        first,
        SyncPull {
            version: 2,
            more: false,
            last_mutation_id: 2,
            domains: vec![d.clone()],
            drafts: vec![dr.clone()],
            deleted_drafts: vec![],
        }
    );
    let quiet = phone.pull(first.version).await;
    assert_eq!(
        (
            quiet.version,
            quiet.more,
            quiet.domains.len(),
            quiet.drafts.len()
        ),
        (2, false, 0, 0)
    );

    // A retry (the answer was lost) is skipped: same answer, nothing new to pull.
    let retried: SyncPushResult = ok(push(&mut phone.http, phone.id, &batch).await);
    assert_eq!(retried, applied);
    assert_eq!(phone.pull(0).await, first);

    // A gap refuses the whole push: the mutation before it is not applied either.
    let rename = |id: u64, name: &str| whole(id, edit_name(d.id, name, "shop", 20));
    refused(
        &push(&mut phone.http, phone.id, &[rename(4, "b")]).await,
        StatusCode::CONFLICT,
        "SYNC_GAP",
    );
    refused(
        &push(&mut phone.http, phone.id, &[rename(3, "a"), rename(5, "b")]).await,
        StatusCode::CONFLICT,
        "SYNC_GAP",
    );
    // Partly retried: 2 is skipped, 3 applies, 4 would be fine but 6 is a gap.
    refused(
        &push(
            &mut phone.http,
            phone.id,
            &[
                batch[1].clone(),
                rename(3, "a"),
                rename(4, "b"),
                rename(6, "c"),
            ],
        )
        .await,
        StatusCode::CONFLICT,
        "SYNC_GAP",
    );

    // Malformed pushes are refused before anything is applied.
    let malformed = [
        vec![rename(4, "b"), rename(3, "a")],
        vec![rename(3, "a"), rename(3, "a")],
        vec![rename(0, "a")],
        vec![PushedMutation {
            id: 3,
            mutation: None,
            part: None,
        }],
        vec![PushedMutation {
            part: Some(Part {
                index: 0,
                count: 1,
                data: "{}".into(),
            }),
            ..rename(3, "a")
        }],
        vec![PushedMutation {
            id: 3,
            mutation: None,
            part: Some(Part {
                index: 2,
                count: 2,
                data: "{}".into(),
            }),
        }],
        vec![PushedMutation {
            id: 3,
            mutation: None,
            part: Some(Part {
                index: 0,
                count: 0,
                data: "{}".into(),
            }),
        }],
        vec![
            rename(3, "a"),
            PushedMutation {
                id: 3,
                mutation: None,
                part: Some(Part {
                    index: 0,
                    count: 1,
                    data: "{}".into(),
                }),
            },
        ],
    ];
    for entries in malformed {
        let reply = push(&mut phone.http, phone.id, &entries).await;
        refused(&reply, StatusCode::BAD_REQUEST, "VAL_SYNC_BATCH");
    }
    let after = phone.pull(0).await;
    assert_eq!(after, first, "nothing of a refused push is applied");

    // In order, the next push applies.
    let result: SyncPushResult = ok(push(&mut phone.http, phone.id, &[rename(3, "a")]).await);
    assert_eq!((result.last_mutation_id, result.version), (3, 3));
    let changed = phone.pull(2).await;
    assert_eq!(changed.domains.len(), 1);
    assert_eq!(changed.domains[0].name, "a");
    assert_eq!(changed.domains[0].updated_at, 20);
    assert!(changed.drafts.is_empty());

    // Another device's pull says its own last mutation id, not the phone's.
    let mut laptop = Device::new(sign_in(&server.base, "alice").await);
    let theirs = laptop.pull(0).await;
    assert_eq!((theirs.last_mutation_id, theirs.version), (0, 3));
    // A malformed query is refused.
    let reply = phone.http.get("/api/v1/sync/pull?client_id=nope").await;
    refused(&reply, StatusCode::BAD_REQUEST, "VAL_QUERY");
}

#[tokio::test]
async fn a_rejected_mutation_counts_and_does_not_stall_the_rest() {
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let mut phone = Device::new(alice);
    let d = domain(Uuid::now_v7(), "shop", "", 1);
    let mut empty = small_model(2);
    empty.entities.clear();
    empty.relationships.clear();
    let bad = draft(Uuid::now_v7(), d.id, 1, empty, 2);
    let good = draft(Uuid::now_v7(), d.id, 2, small_model(3), 3);
    let result = phone
        .send(vec![
            Mutation::CreateDomain { domain: d.clone() },
            Mutation::CreateDraft {
                draft: Box::new(bad.clone()),
            },
            Mutation::CreateDraft {
                draft: Box::new(good.clone()),
            },
        ])
        .await;
    assert_eq!((result.last_mutation_id, result.version), (3, 2));
    assert_eq!(codes(&result), [(2, "VAL_MODEL")]);
    assert!(
        result.rejected[0].message.contains(&bad.id.to_string()),
        "{:?}",
        result.rejected
    );
    let pulled = phone.pull(0).await;
    assert_eq!(pulled.last_mutation_id, 3);
    assert_eq!(pulled.drafts, std::slice::from_ref(&good));

    // A draft never changes: other content under its id is refused, the same content is a
    // no-op, and neither stops the mutation after it.
    let mut other = good.clone();
    other.model = small_model(4);
    let unknown = Uuid::now_v7();
    let result = phone
        .send(vec![
            Mutation::CreateDraft {
                draft: Box::new(other),
            },
            Mutation::CreateDraft {
                draft: Box::new(good.clone()),
            },
            edit_name(d.id, "   ", "shop", 4),
            edit_name(unknown, "x", "y", 4),
            Mutation::CreateDraft {
                draft: Box::new(draft(Uuid::now_v7(), unknown, 1, small_model(5), 4)),
            },
            Mutation::EditDomain {
                domain_id: d.id,
                set: DomainEdit::Name("x".into()),
                was: DomainEdit::Description(String::new()),
                at: 4,
            },
            edit_description(d.id, "still applied", "", 5),
        ])
        .await;
    assert_eq!(
        codes(&result),
        [
            (4, "RES_DRAFT_IMMUTABLE"),
            (6, "VAL_DOMAIN"),
            (7, "SYNC_UNKNOWN_DOMAIN"),
            (8, "SYNC_UNKNOWN_DOMAIN"),
            (9, "VAL_DOMAIN"),
        ]
    );
    assert_eq!((result.last_mutation_id, result.version), (10, 3));
    let changed = phone.pull(2).await;
    assert_eq!(changed.last_mutation_id, 10);
    assert!(changed.drafts.is_empty());
    assert_eq!(changed.domains.len(), 1);
    assert_eq!(
        (
            changed.domains[0].name.as_str(),
            changed.domains[0].description.as_str()
        ),
        ("shop", "still applied")
    );
    // A rejected id is not rejected again on a retry: it counts as applied.
    let retry: SyncPushResult = ok(push(
        &mut phone.http,
        phone.id,
        &[whole(
            4,
            Mutation::CreateDraft {
                draft: Box::new(good.clone()),
            },
        )],
    )
    .await);
    assert_eq!((retry.last_mutation_id, retry.version), (10, 3));
    assert!(retry.rejected.is_empty());
}

#[tokio::test]
async fn diagram_positions_and_notes_sync_and_are_checked() {
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let mut phone = Device::new(alice);
    let d = domain(Uuid::now_v7(), "shop", "", 1);
    let at = |x: f64, y: f64| model::diagram::Point { x, y };
    let place = |entries: &[(&str, model::diagram::Point)], reset: bool| {
        let mut set = model::diagram::Positions::default();
        for (name, p) in entries {
            set.set(name, *p);
        }
        Mutation::PlaceEntities {
            domain_id: d.id,
            set,
            reset,
        }
    };
    let result = phone
        .send(vec![
            Mutation::CreateDomain { domain: d.clone() },
            place(
                &[("order", at(10.0, 20.0)), ("customer", at(300.0, 20.0))],
                false,
            ),
            place(&[("order", at(40.5, 60.25))], false),
            place(&[("order", at(f64::MAX, 0.0))], false),
        ])
        .await;
    assert_eq!(codes(&result), [(4, "VAL_POSITIONS")]);
    let pulled = phone.pull(0).await;
    let positions = &pulled.domains[0].positions;
    assert_eq!(positions.get("order"), Some(at(40.5, 60.25)));
    assert_eq!(positions.get("customer"), Some(at(300.0, 20.0)));
    // Arranging again replaces them all, and another device sees that.
    phone
        .send(vec![place(&[("invoice", at(0.0, 0.0))], true)])
        .await;
    let mut laptop = Device::new(sign_in(&server.base, "alice").await);
    let pulled = laptop.pull(0).await;
    assert_eq!(
        pulled.domains[0].positions.0.keys().collect::<Vec<_>>(),
        ["invoice"]
    );

    // Change notes travel with the domain too; an empty one is refused.
    let note = model::wire::Note {
        id: Uuid::now_v7(),
        text: "orders need a delivery address".into(),
        draft_id: None,
        created_at: 5,
        resolved_at: None,
        resolved_by: None,
        kind: String::new(),
    };
    let empty = model::wire::Note {
        id: Uuid::now_v7(),
        text: " ".into(),
        ..note.clone()
    };
    let result = laptop
        .send(vec![
            Mutation::PutNote {
                domain_id: d.id,
                note: note.clone(),
            },
            Mutation::PutNote {
                domain_id: d.id,
                note: empty,
            },
        ])
        .await;
    assert_eq!(codes(&result), [(2, "VAL_NOTE")]);
    let pulled = phone.pull(0).await;
    assert_eq!(pulled.domains[0].notes, [note]);
}

#[tokio::test]
async fn concurrent_edits_keep_the_overwritten_value() {
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let mut phone = Device::new(alice);
    let mut laptop = Device::new(sign_in(&server.base, "alice").await);
    let d = domain(Uuid::now_v7(), "shop", "old", 1_000);
    phone
        .send(vec![Mutation::CreateDomain { domain: d.clone() }])
        .await;
    assert_eq!(laptop.pull(0).await.domains, std::slice::from_ref(&d));

    // Both edit the description they showed as "old"; the laptop's clock is days behind, which
    // does not matter: its edit reaches the server second and wins.
    let phone_at = 5_000 + 3 * DAY_MS;
    let result = phone
        .send(vec![edit_description(d.id, "phone", "old", phone_at)])
        .await;
    assert_eq!(result.version, 2);
    let result = laptop
        .send(vec![edit_description(d.id, "laptop", "old", 4_000)])
        .await;
    assert!(result.rejected.is_empty());
    assert_eq!(result.version, 3);

    let pulled = phone.pull(1).await;
    assert_eq!(pulled.domains.len(), 1);
    let now = &pulled.domains[0];
    assert_eq!(now.description, "laptop");
    assert_eq!(now.updated_at, 4_000);
    assert_eq!(now.overwritten.len(), 1);
    let kept = &now.overwritten[0];
    assert_eq!(
        (&kept.value, &kept.replaced_by, kept.id),
        (
            &DomainEdit::Description("phone".into()),
            &DomainEdit::Description("laptop".into()),
            3
        )
    );
    assert!(
        kept.at > 1_000_000_000_000,
        "the server's clock: {}",
        kept.at
    );
    assert_eq!(laptop.pull(0).await.domains, pulled.domains);

    // Dismissing it on one device removes it everywhere.
    let result = phone
        .send(vec![Mutation::DismissOverwritten {
            domain_id: d.id,
            id: kept.id,
        }])
        .await;
    assert_eq!(result.version, 4);
    let after = laptop.pull(3).await;
    assert_eq!(after.domains.len(), 1);
    assert!(after.domains[0].overwritten.is_empty());
    assert_eq!(after.domains[0].description, "laptop");

    // An edit that had seen the current value, or sets the value already there, keeps nothing.
    laptop
        .send(vec![
            edit_description(d.id, "seen", "laptop", 6_000),
            edit_description(d.id, "seen", "stale", 7_000),
            edit_name(d.id, "store", "shop", 8_000),
        ])
        .await;
    let domains = phone.pull(4).await.domains;
    assert_eq!(domains.len(), 1);
    assert_eq!(
        (
            domains[0].name.as_str(),
            domains[0].description.as_str(),
            domains[0].overwritten.len()
        ),
        ("store", "seen", 0)
    );

    // The list keeps the newest values only.
    // Every edit claims to replace a value it never saw.
    let edits: Vec<Mutation> = (0..OVERWRITTEN_KEPT + 3)
        .map(|i| edit_description(d.id, &format!("v{i}"), "never shown", 10_000 + i as i64))
        .collect();
    phone.send(edits).await;
    let all = everything(&mut laptop.http).await;
    let domain = &all.domains[0];
    assert_eq!(domain.description, format!("v{}", OVERWRITTEN_KEPT + 2));
    assert_eq!(domain.overwritten.len(), OVERWRITTEN_KEPT);
    assert_eq!(
        domain.overwritten.last().map(|o| &o.value),
        Some(&DomainEdit::Description(format!(
            "v{}",
            OVERWRITTEN_KEPT + 1
        )))
    );
}

#[tokio::test]
async fn deleted_drafts_sync_as_tombstones_and_domains_go_to_the_trash() {
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let mut phone = Device::new(alice);
    let d = domain(Uuid::now_v7(), "shop", "", 1);
    let gone = draft(Uuid::now_v7(), d.id, 1, small_model(1), 2);
    let kept = draft(Uuid::now_v7(), d.id, 2, small_model(2), 3);
    let result = phone
        .send(vec![
            Mutation::CreateDomain { domain: d.clone() },
            Mutation::CreateDraft {
                draft: Box::new(gone.clone()),
            },
            Mutation::CreateDraft {
                draft: Box::new(kept.clone()),
            },
        ])
        .await;
    assert_eq!(result.version, 3);

    let delete = Mutation::DeleteDraft {
        domain_id: d.id,
        draft_id: gone.id,
    };
    let result = phone.send(vec![delete.clone()]).await;
    assert_eq!(result.version, 4);
    let since = phone.pull(3).await;
    assert_eq!(since.deleted_drafts, [gone.id]);
    assert!(since.drafts.is_empty() && since.domains.is_empty());
    // A first pull does not return it as a draft; it lists it as deleted, for a browser that
    // holds it already (see the regression test below).
    let mut laptop = Device::new(sign_in(&server.base, "alice").await);
    let first = laptop.pull(0).await;
    assert_eq!(first.deleted_drafts, [gone.id]);
    assert_eq!(first.drafts, std::slice::from_ref(&kept));
    assert_eq!(first.version, 4);

    // A deleted draft's id stays taken; deleting it again changes nothing.
    let result = laptop
        .send(vec![Mutation::CreateDraft {
            draft: Box::new(gone.clone()),
        }])
        .await;
    assert_eq!(codes(&result), [(1, "RES_DRAFT_DELETED")]);
    let result = laptop.send(vec![delete]).await;
    assert_eq!((result.version, result.rejected.len()), (4, 0));

    // The trash: deleting sets `deleted_at` once, restoring clears it.
    let result = laptop
        .send(vec![
            Mutation::DeleteDomain {
                domain_id: d.id,
                at: 77,
            },
            Mutation::DeleteDomain {
                domain_id: d.id,
                at: 88,
            },
        ])
        .await;
    assert_eq!(result.version, 5, "the second delete changes nothing");
    let trashed = phone.pull(4).await;
    assert_eq!(trashed.domains.len(), 1);
    assert_eq!(trashed.domains[0].deleted_at, Some(77));
    // Its drafts are still there, hidden with it.
    assert_eq!(
        everything(&mut phone.http).await.drafts,
        std::slice::from_ref(&kept)
    );
    let result = phone
        .send(vec![
            Mutation::RestoreDomain {
                domain_id: d.id,
                at: 99,
            },
            Mutation::RestoreDomain {
                domain_id: d.id,
                at: 100,
            },
        ])
        .await;
    assert_eq!(result.version, 6);
    let restored = laptop.pull(5).await;
    assert_eq!(restored.domains.len(), 1);
    assert_eq!(restored.domains[0].deleted_at, None);
    assert_eq!(
        restored.domains[0],
        DomainRecord {
            deleted_at: None,
            ..trashed.domains[0].clone()
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Large drafts

/// The JSON length of each push, and the push itself, for a list of batches.
fn bodies(client_id: Uuid, pushes: &[Vec<PushedMutation>]) -> Vec<usize> {
    pushes
        .iter()
        .map(|mutations| {
            serde_json::to_string(&SyncPush {
                client_id,
                mutations: mutations.clone(),
            })
            .unwrap()
            .len()
        })
        .collect()
}

#[tokio::test]
async fn a_large_draft_travels_in_parts_and_arrives_whole() {
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let mut phone = Device::new(alice);
    let d = domain(Uuid::now_v7(), "enterprise", "", 1);
    let big = draft(Uuid::now_v7(), d.id, 1, generated_model(1000, 20, 7), 2);
    let json = serde_json::to_string(&Mutation::CreateDraft {
        draft: Box::new(big.clone()),
    })
    .unwrap();
    assert!(
        json.len() > 2 * BATCH_BYTES,
        "the model is {} bytes",
        json.len()
    );
    let pending = vec![
        (1, Mutation::CreateDomain { domain: d.clone() }),
        (
            2,
            Mutation::CreateDraft {
                draft: Box::new(big.clone()),
            },
        ),
    ];
    let pushes = batches(&pending, PART_BYTES, BATCH_BYTES).unwrap();
    assert!(pushes.len() >= 3, "{} pushes", pushes.len());
    for bytes in bodies(phone.id, &pushes) {
        assert!(bytes < BROWSER_PUSH_MAX, "a push of {bytes} bytes");
    }

    // The first push holds the domain and the first parts (this client's very first push).
    let (last, rest) = pushes.split_last().unwrap();
    for (i, batch) in rest.iter().enumerate() {
        let result: SyncPushResult = ok(push(&mut phone.http, phone.id, batch).await);
        assert_eq!(
            (result.last_mutation_id, result.version),
            (1, 1),
            "push {i}"
        );
        // A retry of a push of parts replaces them: no part twice.
        let again: SyncPushResult = ok(push(&mut phone.http, phone.id, batch).await);
        assert_eq!(again, result);
    }
    let waiting = phone.pull(0).await;
    assert!(
        waiting.drafts.is_empty(),
        "a draft in parts waits for its last part"
    );
    let result: SyncPushResult = ok(push(&mut phone.http, phone.id, last).await);
    assert_eq!(
        result,
        SyncPushResult {
            last_mutation_id: 2,
            version: 2,
            rejected: vec![]
        }
    );
    let pulled = Device::new(sign_in(&server.base, "alice").await)
        .pull(0)
        .await;
    assert_eq!(pulled.drafts.len(), 1);
    assert!(
        pulled.drafts[0] == big,
        "the draft arrives whole and identical"
    );

    // A part missing in the middle is a gap: nothing of that push applies, and the same parts
    // pushed whole again (first with a corrupt part that a retry replaces) make the draft.
    let second = draft(Uuid::now_v7(), d.id, 2, generated_model(1000, 20, 8), 3);
    let pending = vec![(
        3,
        Mutation::CreateDraft {
            draft: Box::new(second.clone()),
        },
    )];
    let pushes = batches(&pending, PART_BYTES, BATCH_BYTES).unwrap();
    let all: Vec<PushedMutation> = pushes.iter().flatten().cloned().collect();
    let count = all.len();
    assert!(count >= 4);
    let mut holed = all.clone();
    holed.remove(count / 2);
    for batch in holed.chunks(2) {
        let reply = push(&mut phone.http, phone.id, batch).await;
        if batch
            .last()
            .and_then(|m| m.part.as_ref())
            .map(|p| p.index + 1 == p.count)
            == Some(true)
        {
            refused(&reply, StatusCode::CONFLICT, "SYNC_GAP");
        } else {
            assert_eq!(ok::<SyncPushResult>(reply).last_mutation_id, 2);
        }
    }
    let mid = phone.pull(2).await;
    assert_eq!(
        (mid.last_mutation_id, mid.version, mid.drafts.len()),
        (2, 2, 0)
    );
    let mut corrupt = pushes[0].clone();
    if let Some(part) = corrupt[0].part.as_mut() {
        part.data = "x".repeat(part.data.len());
    }
    ok::<SyncPushResult>(push(&mut phone.http, phone.id, &corrupt).await);
    for batch in &pushes {
        let result: SyncPushResult = ok(push(&mut phone.http, phone.id, batch).await);
        assert!(result.rejected.is_empty(), "{:?}", result.rejected);
    }
    let done = phone.pull(2).await;
    assert_eq!((done.last_mutation_id, done.version), (3, 3));
    assert_eq!(done.drafts.len(), 1);
    assert!(
        done.drafts[0] == second,
        "the second draft arrives identical"
    );
}

/// A browser's very first push may hold parts (a new device whose first change is a large
/// one): the parts are kept although the client had no row yet. It was a 500 (the parts'
/// foreign key to a client row written only at the end of the push).
#[tokio::test]
async fn regression_a_new_clients_first_push_may_hold_parts() {
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let mut phone = Device::new(alice);
    let d = domain(Uuid::now_v7(), "shop", &"long text ".repeat(40), 1);
    // Parts of 64 bytes: a small domain travels in several.
    let pending = vec![(1, Mutation::CreateDomain { domain: d.clone() })];
    let parts: Vec<PushedMutation> = batches(&pending, 64, BATCH_BYTES).unwrap().concat();
    assert!(parts.len() > 3);
    let (last, first) = parts.split_last().unwrap();
    let result: SyncPushResult = ok(push(&mut phone.http, phone.id, first).await);
    assert_eq!((result.last_mutation_id, result.version), (0, 0));
    let result: SyncPushResult =
        ok(push(&mut phone.http, phone.id, std::slice::from_ref(last)).await);
    assert_eq!((result.last_mutation_id, result.version), (1, 1));
    assert_eq!(phone.pull(0).await.domains, [d]);
}

/// Parts kept from a push cut differently (a newer app with another part size) never stand in
/// for the parts of the retry: the mutation arrives whole instead of stalling on a gap.
#[tokio::test]
async fn a_retry_cut_into_other_parts_replaces_the_old_ones() {
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let mut phone = Device::new(alice);
    let d = domain(Uuid::now_v7(), "shop", &"long text ".repeat(40), 1);
    let pending = vec![(1, Mutation::CreateDomain { domain: d.clone() })];
    // First cut in parts of 40 bytes: all but the last arrive.
    let small: Vec<PushedMutation> = batches(&pending, 40, BATCH_BYTES).unwrap().concat();
    let (_, first) = small.split_last().unwrap();
    ok::<SyncPushResult>(push(&mut phone.http, phone.id, first).await);
    // The retry is cut in parts of 100 bytes: fewer, with another count.
    let large: Vec<PushedMutation> = batches(&pending, 100, BATCH_BYTES).unwrap().concat();
    assert!(large.len() < small.len());
    let result: SyncPushResult = ok(push(&mut phone.http, phone.id, &large).await);
    assert_eq!((result.last_mutation_id, result.version), (1, 1));
    assert_eq!(phone.pull(0).await.domains, [d]);
}

/// A browser whose version is ahead of the server's (the server's database was restored from
/// a backup) gets everything again rather than nothing.
#[tokio::test]
async fn a_client_ahead_of_the_server_pulls_everything_again() {
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let mut phone = Device::new(alice);
    let d = domain(Uuid::now_v7(), "shop", "", 1);
    phone
        .send(vec![Mutation::CreateDomain { domain: d.clone() }])
        .await;
    let pulled = phone.pull(500).await;
    assert_eq!((pulled.version, pulled.domains), (1, vec![d]));
}

/// A browser pushes before it pulls, so it may hold a draft before its first pull (since 0);
/// deleted meanwhile on another device, the draft must go from it too. A first pull left the
/// tombstones out, and the draft stayed on that browser for good.
#[tokio::test]
async fn regression_a_draft_deleted_before_a_devices_first_pull_goes_from_it() {
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let mut phone = Device::new(alice);
    let mut laptop = Device::new(sign_in(&server.base, "alice").await);
    let d = domain(Uuid::now_v7(), "shop", "", 1);
    let dr = draft(Uuid::now_v7(), d.id, 1, small_model(1), 2);
    // The phone's first round: its push lands, its pull does not happen (offline again).
    phone
        .send(vec![
            Mutation::CreateDomain { domain: d.clone() },
            Mutation::CreateDraft {
                draft: Box::new(dr.clone()),
            },
        ])
        .await;
    assert_eq!(laptop.pull(0).await.drafts, std::slice::from_ref(&dr));
    laptop
        .send(vec![Mutation::DeleteDraft {
            domain_id: d.id,
            draft_id: dr.id,
        }])
        .await;
    let first = phone.pull(0).await;
    assert!(first.drafts.is_empty());
    assert_eq!(first.deleted_drafts, [dr.id]);
}

// ---------------------------------------------------------------------------------------------
// Paging

#[tokio::test]
async fn a_long_history_pulls_in_pages() {
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let mut phone = Device::new(alice);
    let total = 4_500;
    let domains: Vec<DomainRecord> = (0..total)
        .map(|i| domain(Uuid::now_v7(), &format!("d{i}"), "", i))
        .collect();
    for chunk in domains.chunks(1_500) {
        let result = phone
            .send(
                chunk
                    .iter()
                    .map(|d| Mutation::CreateDomain { domain: d.clone() })
                    .collect(),
            )
            .await;
        assert!(result.rejected.is_empty());
    }

    let mut laptop = Device::new(sign_in(&server.base, "alice").await);
    let mut since = 0;
    let mut pages = Vec::new();
    let mut seen: BTreeMap<Uuid, usize> = BTreeMap::new();
    loop {
        let page = laptop.pull(since).await;
        assert!(page.version > since, "a page moves on");
        pages.push((page.domains.len(), page.more));
        for d in &page.domains {
            *seen.entry(d.id).or_default() += 1;
        }
        since = page.version;
        if !page.more {
            break;
        }
    }
    assert_eq!(pages, [(2000, true), (2000, true), (500, false)]);
    assert_eq!(since, total as u64);
    assert_eq!(seen.len(), domains.len());
    assert!(seen.values().all(|n| *n == 1), "a domain came twice");
    assert!(domains.iter().all(|d| seen.contains_key(&d.id)));
    let quiet = laptop.pull(since).await;
    assert_eq!(
        (quiet.version, quiet.more, quiet.domains.len()),
        (since, false, 0)
    );
}

// ---------------------------------------------------------------------------------------------
// Isolation

#[tokio::test]
async fn one_users_sync_never_shows_or_changes_anothers() {
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let mut alices = Device::new(alice);
    let d = domain(Uuid::now_v7(), "alice's", "private", 1);
    let dr = draft(Uuid::now_v7(), d.id, 1, small_model(1), 2);
    let gone = draft(Uuid::now_v7(), d.id, 2, small_model(2), 3);
    alices
        .send(vec![
            Mutation::CreateDomain { domain: d.clone() },
            Mutation::CreateDraft {
                draft: Box::new(dr.clone()),
            },
            Mutation::CreateDraft {
                draft: Box::new(gone.clone()),
            },
            Mutation::DeleteDraft {
                domain_id: d.id,
                draft_id: gone.id,
            },
        ])
        .await;
    let before = alices.pull(0).await;
    assert_eq!(before.version, 4);

    let mut bob = Client::new(&server.base);
    bob.register("bob").await;
    let mut bobs = Device::new(bob);
    // Bob sees nothing of Alice's, from 0 or from any version (tombstones included).
    for since in [0, 1, 2, 3] {
        let pulled = bobs.pull(since).await;
        assert!(
            pulled.domains.is_empty() && pulled.drafts.is_empty(),
            "since {since}"
        );
        assert!(pulled.deleted_drafts.is_empty(), "since {since}");
        assert_eq!(pulled.last_mutation_id, 0);
    }
    assert!(!bobs
        .http
        .seen
        .lock()
        .unwrap()
        .iter()
        .any(|s| s.contains("private")));

    // Alice's client id is not Bob's to use.
    let reply = push(
        &mut bobs.http,
        alices.id,
        &[whole(5, edit_name(d.id, "bob's", "alice's", 9))],
    )
    .await;
    refused(&reply, StatusCode::CONFLICT, "SYNC_CLIENT_TAKEN");
    refused(
        &pull(&mut bobs.http, alices.id, 0).await,
        StatusCode::CONFLICT,
        "SYNC_CLIENT_TAKEN",
    );

    // Nor are her domain's and drafts' ids.
    let mut steal = d.clone();
    steal.name = "bob's".into();
    let result = bobs
        .send(vec![
            edit_name(d.id, "bob's", "alice's", 9),
            Mutation::DeleteDomain {
                domain_id: d.id,
                at: 9,
            },
            Mutation::RestoreDomain {
                domain_id: d.id,
                at: 9,
            },
            Mutation::DismissOverwritten {
                domain_id: d.id,
                id: 1,
            },
            Mutation::CreateDomain { domain: steal },
            Mutation::DeleteDraft {
                domain_id: d.id,
                draft_id: dr.id,
            },
            Mutation::CreateDraft {
                draft: Box::new(dr.clone()),
            },
            Mutation::CreateDraft {
                draft: Box::new(gone.clone()),
            },
            Mutation::CreateDraft {
                draft: Box::new(draft(Uuid::now_v7(), d.id, 3, small_model(3), 9)),
            },
        ])
        .await;
    assert_eq!(
        codes(&result),
        [
            (1, "RES_ID_TAKEN"),
            (2, "RES_ID_TAKEN"),
            (3, "RES_ID_TAKEN"),
            (4, "RES_ID_TAKEN"),
            (5, "RES_ID_TAKEN"),
            (6, "RES_ID_TAKEN"),
            (7, "RES_ID_TAKEN"),
            (8, "RES_ID_TAKEN"),
            (9, "SYNC_UNKNOWN_DOMAIN"),
        ]
    );
    assert_eq!((result.last_mutation_id, result.version), (9, 0));
    let mine = bobs.pull(0).await;
    assert!(mine.domains.is_empty() && mine.drafts.is_empty());
    assert_eq!((mine.version, mine.last_mutation_id), (0, 9));
    assert_eq!(alices.pull(0).await, before, "Alice's data is unchanged");
    // Bob's pushes did not move Alice's client on either.
    assert_eq!(before.last_mutation_id, 4);

    // Without a session there is no sync at all.
    let mut stranger = Client::new(&server.base);
    refused(
        &push(&mut stranger, Uuid::now_v7(), &[]).await,
        StatusCode::UNAUTHORIZED,
        "AUTH_REQUIRED",
    );
    refused(
        &pull(&mut stranger, alices.id, 0).await,
        StatusCode::UNAUTHORIZED,
        "AUTH_REQUIRED",
    );
}

// ---------------------------------------------------------------------------------------------
// Property test: simulated browsers converge

/// One step of a scenario; `usize` fields pick a client, a domain or a draft by position
/// (modulo what there is).
#[derive(Clone, Debug)]
enum Step {
    CreateDomain(usize),
    EditName(usize, usize, u8),
    EditDescription(usize, usize, u8),
    DeleteDomain(usize, usize),
    RestoreDomain(usize, usize),
    CreateDraft(usize, usize),
    DeleteDraft(usize, usize),
    /// Pushes the first `n` outbox entries; `twice`: the same push again (a lost answer).
    Push {
        client: usize,
        n: usize,
        twice: bool,
    },
    /// Builds a push of the first `n` entries and keeps it for later (replacing, so dropping,
    /// any push kept before).
    Hold {
        client: usize,
        n: usize,
    },
    /// Sends the push kept by `Hold`, late, after whatever happened in between.
    SendHeld(usize),
    Pull(usize),
}

fn step() -> impl Strategy<Value = Step> {
    let c = 0..4usize;
    let pick = 0..8usize;
    prop_oneof![
        2 => c.clone().prop_map(Step::CreateDomain),
        3 => (c.clone(), pick.clone(), 0..4u8).prop_map(|(c, d, v)| Step::EditName(c, d, v)),
        3 => (c.clone(), pick.clone(), 0..4u8).prop_map(|(c, d, v)| Step::EditDescription(c, d, v)),
        1 => (c.clone(), pick.clone()).prop_map(|(c, d)| Step::DeleteDomain(c, d)),
        1 => (c.clone(), pick.clone()).prop_map(|(c, d)| Step::RestoreDomain(c, d)),
        2 => (c.clone(), pick.clone()).prop_map(|(c, d)| Step::CreateDraft(c, d)),
        2 => (c.clone(), pick).prop_map(|(c, d)| Step::DeleteDraft(c, d)),
        3 => (c.clone(), 0..6usize, any::<bool>())
            .prop_map(|(client, n, twice)| Step::Push { client, n, twice }),
        1 => (c.clone(), 0..6usize).prop_map(|(client, n)| Step::Hold { client, n }),
        1 => c.clone().prop_map(Step::SendHeld),
        3 => c.prop_map(Step::Pull),
    ]
}

#[derive(Clone, Debug)]
struct Scenario {
    /// Each client's clock offset, in days (device clocks must order nothing).
    skews: Vec<i64>,
    steps: Vec<Step>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec(-30..30i64, 2..=4),
        prop::collection::vec(step(), 1..60),
    )
        .prop_map(|(skews, steps)| Scenario { skews, steps })
}

/// A simulated browser: the server's copy of what it pulled, its outbox, its view.
struct Browser {
    http: Client,
    id: Uuid,
    skew: i64,
    next: u64,
    /// The version to pull from.
    version: u64,
    /// Domains as the server last sent them.
    server: BTreeMap<Uuid, DomainRecord>,
    /// Drafts as this browser shows them.
    drafts: BTreeMap<Uuid, DraftRecord>,
    /// Mutations not yet acknowledged by a pull, in id order.
    outbox: Vec<(u64, Mutation)>,
    /// Every mutation it ever made, by id (the oracle reads them).
    made: BTreeMap<u64, Mutation>,
    held: Option<Vec<PushedMutation>>,
}

impl Browser {
    /// The domains as this browser shows them: the server's copy with pending changes on top.
    fn view(&self) -> BTreeMap<Uuid, DomainRecord> {
        let mut ids: BTreeSet<Uuid> = self.server.keys().copied().collect();
        ids.extend(self.outbox.iter().map(|(_, m)| m.domain_id()));
        ids.into_iter()
            .filter_map(|id| {
                let pending = self
                    .outbox
                    .iter()
                    .map(|(_, m)| m)
                    .filter(|m| m.domain_id() == id);
                rebase_domain(self.server.get(&id), pending).map(|d| (id, d))
            })
            .collect()
    }

    fn record(&mut self, mutation: Mutation) {
        match &mutation {
            Mutation::CreateDraft { draft } => {
                self.drafts.insert(draft.id, draft.as_ref().clone());
            }
            Mutation::DeleteDraft { draft_id, .. } => {
                self.drafts.remove(draft_id);
            }
            _ => {}
        }
        self.made.insert(self.next, mutation.clone());
        self.outbox.push((self.next, mutation));
        self.next += 1;
    }

    fn batch(&self, n: usize) -> Vec<PushedMutation> {
        self.outbox
            .iter()
            .take(n)
            .map(|(id, m)| whole(*id, m.clone()))
            .collect()
    }

    async fn pull_all(&mut self) {
        loop {
            let page: SyncPull = ok(pull(&mut self.http, self.id, self.version).await);
            self.outbox.retain(|(id, _)| *id > page.last_mutation_id);
            for domain in page.domains {
                self.server.insert(domain.id, domain);
            }
            for draft in page.drafts {
                let deleting = self.outbox.iter().any(|(_, m)| {
                    matches!(m, Mutation::DeleteDraft { draft_id, .. } if *draft_id == draft.id)
                });
                if !deleting {
                    self.drafts.insert(draft.id, draft);
                }
            }
            for id in page.deleted_drafts {
                self.drafts.remove(&id);
            }
            self.version = page.version;
            if !page.more {
                return;
            }
        }
    }
}

/// What the server must hold, built from the mutations it acknowledged in the order it
/// applied them, with the protocol's rules written out plainly.
#[derive(Default)]
struct Oracle {
    version: u64,
    domains: BTreeMap<Uuid, DomainRecord>,
    drafts: BTreeMap<Uuid, DraftRecord>,
    deleted: BTreeSet<Uuid>,
    /// Per client, the last mutation id the server acknowledged.
    acknowledged: BTreeMap<Uuid, u64>,
}

impl Oracle {
    fn apply(&mut self, mutation: &Mutation) {
        match mutation {
            Mutation::CreateDomain { domain } => {
                assert!(
                    !self.domains.contains_key(&domain.id),
                    "domains are created once"
                );
                self.version += 1;
                self.domains.insert(domain.id, domain.clone());
            }
            Mutation::EditDomain {
                domain_id,
                set,
                was,
                at,
            } => {
                let version = self.version + 1;
                let d = self.domains.get_mut(domain_id).unwrap();
                let before = match set {
                    DomainEdit::Name(_) => DomainEdit::Name(d.name.clone()),
                    DomainEdit::Description(_) => DomainEdit::Description(d.description.clone()),
                    DomainEdit::Conventions(_) => DomainEdit::Conventions(d.conventions.clone()),
                };
                if before != *was && before != *set {
                    d.overwritten.push(Overwritten {
                        id: version,
                        value: before,
                        replaced_by: set.clone(),
                        at: 0,
                    });
                    if d.overwritten.len() > OVERWRITTEN_KEPT {
                        d.overwritten.remove(0);
                    }
                }
                match set {
                    DomainEdit::Name(v) => d.name = v.clone(),
                    DomainEdit::Description(v) => d.description = v.clone(),
                    DomainEdit::Conventions(v) => d.conventions = v.clone(),
                }
                // Every edit has its own time here, so every edit changes the record.
                d.updated_at = *at;
                self.version = version;
            }
            Mutation::DeleteDomain { domain_id, at } => {
                let d = self.domains.get_mut(domain_id).unwrap();
                if d.deleted_at.is_none() {
                    d.deleted_at = Some(*at);
                    self.version += 1;
                }
            }
            Mutation::RestoreDomain { domain_id, .. } => {
                let d = self.domains.get_mut(domain_id).unwrap();
                if d.deleted_at.take().is_some() {
                    self.version += 1;
                }
            }
            Mutation::DismissOverwritten { .. }
            | Mutation::PlaceEntities { .. }
            | Mutation::PutNote { .. }
            | Mutation::RecordExport { .. } => {
                unreachable!("not generated")
            }
            Mutation::CreateDraft { draft } => {
                assert!(!self.drafts.contains_key(&draft.id) && !self.deleted.contains(&draft.id));
                self.version += 1;
                self.drafts.insert(draft.id, draft.as_ref().clone());
            }
            Mutation::DeleteDraft { draft_id, .. } => {
                if self.drafts.remove(draft_id).is_some() {
                    self.deleted.insert(*draft_id);
                    self.version += 1;
                }
            }
        }
    }

    /// Takes a push answer: the client's mutations after the last acknowledged one, up to the
    /// new last, were applied now, in order.
    fn acknowledge(&mut self, browser: &Browser, result: &SyncPushResult) {
        assert!(result.rejected.is_empty(), "{:?}", result.rejected);
        let before = self.acknowledged.get(&browser.id).copied().unwrap_or(0);
        assert!(
            result.last_mutation_id >= before,
            "acknowledged ids never go back"
        );
        for id in before + 1..=result.last_mutation_id {
            self.apply(&browser.made[&id]);
        }
        self.acknowledged
            .insert(browser.id, result.last_mutation_id);
        assert_eq!(
            result.version, self.version,
            "the user's version counts changes"
        );
    }
}

/// Values that name their client and step, so that no two edits set the same text.
fn value(kind: &str, client: usize, step: usize, v: u8) -> String {
    format!("{kind} {v} from {client} at {step}")
}

async fn run_scenario(base: &str, scenario: Scenario) {
    let mut http = Client::new(base);
    let username = format!("u{}", Uuid::now_v7().simple());
    http.register(&username).await;
    let cookie = http.cookie.clone();
    // Ids that sort in creation order, unique across cases.
    let stem = Uuid::now_v7().as_u128() & !0xffff_ffff;
    let mut made_ids = 0u128;
    let mut new_id = move || {
        made_ids += 1;
        Uuid::from_u128(stem | made_ids)
    };
    let mut browsers: Vec<Browser> = scenario
        .skews
        .iter()
        .map(|skew| {
            let mut http = Client::new(base);
            // One session for all: the sync identity is the client id.
            http.cookie = cookie.clone();
            Browser {
                http,
                id: new_id(),
                skew: skew * DAY_MS,
                next: 1,
                version: 0,
                server: BTreeMap::new(),
                drafts: BTreeMap::new(),
                outbox: Vec::new(),
                made: BTreeMap::new(),
                held: None,
            }
        })
        .collect();
    let mut oracle = Oracle::default();
    let n = browsers.len();
    let mut draft_numbers = 0u32;

    for (i, step) in scenario.steps.into_iter().enumerate() {
        let clock = 1_700_000_000_000 + i as i64;
        match step {
            Step::CreateDomain(c) => {
                let b = &mut browsers[c % n];
                let at = clock + b.skew;
                let d = domain(new_id(), &value("name", c % n, i, 0), "", at);
                b.record(Mutation::CreateDomain { domain: d });
            }
            Step::EditName(c, pick, v) | Step::EditDescription(c, pick, v) => {
                let b = &mut browsers[c % n];
                let view = b.view();
                let shown: Vec<&DomainRecord> =
                    view.values().filter(|d| d.deleted_at.is_none()).collect();
                let Some(d) = shown.get(pick % shown.len().max(1)) else {
                    continue;
                };
                let at = clock + b.skew;
                let mutation = if matches!(step, Step::EditName(..)) {
                    edit_name(d.id, &value("name", c % n, i, v), &d.name, at)
                } else {
                    edit_description(d.id, &value("text", c % n, i, v), &d.description, at)
                };
                b.record(mutation);
            }
            Step::DeleteDomain(c, pick) | Step::RestoreDomain(c, pick) => {
                let b = &mut browsers[c % n];
                let deleting = matches!(step, Step::DeleteDomain(..));
                let view = b.view();
                let candidates: Vec<&DomainRecord> = view
                    .values()
                    .filter(|d| d.deleted_at.is_none() == deleting)
                    .collect();
                let Some(d) = candidates.get(pick % candidates.len().max(1)) else {
                    continue;
                };
                let (domain_id, at) = (d.id, clock + b.skew);
                b.record(if deleting {
                    Mutation::DeleteDomain { domain_id, at }
                } else {
                    Mutation::RestoreDomain { domain_id, at }
                });
            }
            Step::CreateDraft(c, pick) => {
                let b = &mut browsers[c % n];
                let view = b.view();
                let Some(d) = view.values().nth(pick % view.len().max(1)) else {
                    continue;
                };
                draft_numbers += 1;
                let dr = draft(
                    new_id(),
                    d.id,
                    draft_numbers,
                    small_model(u64::from(draft_numbers)),
                    clock + b.skew,
                );
                b.record(Mutation::CreateDraft {
                    draft: Box::new(dr),
                });
            }
            Step::DeleteDraft(c, pick) => {
                let b = &mut browsers[c % n];
                let Some(dr) = b.drafts.values().nth(pick % b.drafts.len().max(1)) else {
                    continue;
                };
                let (domain_id, draft_id) = (dr.domain_id, dr.id);
                b.record(Mutation::DeleteDraft {
                    domain_id,
                    draft_id,
                });
            }
            Step::Push {
                client,
                n: k,
                twice,
            } => {
                let b = &mut browsers[client % n];
                let batch = b.batch(k);
                let result: SyncPushResult = ok(push(&mut b.http, b.id, &batch).await);
                oracle.acknowledge(b, &result);
                if twice {
                    let again: SyncPushResult = ok(push(&mut b.http, b.id, &batch).await);
                    assert_eq!(again, result, "a retry changes nothing");
                }
            }
            Step::Hold { client, n: k } => {
                let b = &mut browsers[client % n];
                b.held = Some(b.batch(k));
            }
            Step::SendHeld(client) => {
                let b = &mut browsers[client % n];
                if let Some(batch) = b.held.take() {
                    let result: SyncPushResult = ok(push(&mut b.http, b.id, &batch).await);
                    oracle.acknowledge(b, &result);
                }
            }
            Step::Pull(c) => browsers[c % n].pull_all().await,
        }
    }

    // Everyone pushes everything (in the browser's batches) and pulls until quiet.
    for b in browsers.iter_mut() {
        for batch in batches(&b.outbox, PART_BYTES, BATCH_BYTES).unwrap() {
            let result: SyncPushResult = ok(push(&mut b.http, b.id, &batch).await);
            oracle.acknowledge(b, &result);
        }
        assert_eq!(
            oracle.acknowledged.get(&b.id).copied().unwrap_or(0),
            b.next - 1
        );
    }
    for b in browsers.iter_mut() {
        b.pull_all().await;
        assert!(b.outbox.is_empty(), "every mutation is acknowledged");
    }

    let server = everything(&mut browsers[0].http).await;
    assert_eq!(
        server.version, oracle.version,
        "nothing applied twice or lost"
    );
    let mut domains: BTreeMap<Uuid, DomainRecord> =
        server.domains.iter().map(|d| (d.id, d.clone())).collect();
    assert_eq!(domains.len(), server.domains.len(), "a domain came twice");
    let drafts: BTreeMap<Uuid, DraftRecord> =
        server.drafts.iter().map(|d| (d.id, d.clone())).collect();
    assert_eq!(drafts.len(), server.drafts.len(), "a draft came twice");
    for b in &browsers {
        assert_eq!(
            b.view(),
            domains,
            "client {} sees the server's domains",
            b.id
        );
        assert!(
            b.drafts == drafts,
            "client {} sees the server's drafts",
            b.id
        );
    }
    assert!(
        drafts == oracle.drafts,
        "the drafts are the acknowledged ones"
    );
    // The server stamps overwritten values with its own clock; the oracle cannot know it.
    for d in domains.values_mut() {
        for o in &mut d.overwritten {
            assert!(o.at > 0);
            o.at = 0;
        }
    }
    assert_eq!(
        domains, oracle.domains,
        "the domains follow the server's order"
    );
}

#[test]
fn browsers_converge_whatever_the_order_of_pushes_and_pulls() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // A new account per case: registrations must not be rate limited.
    let server = runtime.block_on(start_server(|config| config.auth_attempts_per_minute = 0));
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let result = runner.run(&scenario(), |scenario| {
        runtime.block_on(run_scenario(&server.base, scenario));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    drop(server);
}
