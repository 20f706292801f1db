//! IndexedDB storage in a real headless browser (wasm-bindgen-test, `run_in_browser`): saving
//! with the mutation in one transaction, immutable drafts, mutation ids in order and
//! acknowledged, taking in a pull with the pending mutations re-applied on top, the proposal
//! under review (kept, replaced, settled by its accepted draft), the queue of LLM requests made
//! offline (one per domain, answered once), the Web Lock that keeps two tabs from sending one
//! request, and the upgrade of version-1 and version-2 databases full of data.
//!
//! Run by `.ci/dev test` with `cargo test -p app --target wasm32-unknown-unknown --test storage`;
//! the runner is wasm-bindgen-test-runner driving Debian's Chromium through chromedriver.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use app::browser::{new_id, storage};
use model::sync::{DomainEdit, Mutation, Rejected, SyncPull, SyncPushResult};
use model::wire::{DomainRecord, DraftRecord, Provenance, ProviderInfo, ProviderKind};
use model::{Model, ProposedChange};
use rexie::{Index, ObjectStore, Rexie, TransactionMode};
use serde::Serialize;
use uuid::Uuid;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn domain(id: Uuid, name: &str, updated_at: i64) -> DomainRecord {
    DomainRecord {
        id,
        name: name.into(),
        description: "d".into(),
        conventions: Default::default(),
        created_at: 1,
        updated_at,
        deleted_at: None,
        overwritten: vec![],
        positions: Default::default(),
        notes: vec![],
        exports: vec![],
    }
}

fn draft(id: Uuid, domain_id: Uuid, number: u32) -> DraftRecord {
    let model: Model =
        serde_json::from_str(include_str!("../../model/tests/data/library-v1.json")).unwrap();
    DraftRecord {
        id,
        domain_id,
        number,
        parent_id: None,
        created_at: i64::from(number),
        provenance: Provenance {
            source: "llm".into(),
            provider: "fake".into(),
            model: "m".into(),
            instruction: String::new(),
            prompt_hash: "h".into(),
            usage: None,
            accepted: vec![],
            proposed: 0,
            notes: vec![],
            parameters: Default::default(),
        },
        model,
        made_on: None,
    }
}

/// The kinds and ids of the pending mutations, in order.
async fn queued(user: Uuid) -> Vec<(u64, String)> {
    storage::pending(user)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, m)| {
            let kind = serde_json::to_value(&m).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string();
            (id, kind)
        })
        .collect()
}

#[wasm_bindgen_test]
async fn saves_queue_and_read_back() {
    let user = new_id();
    let (d, first, second) = (new_id(), new_id(), new_id());
    storage::create_domain(user, &domain(d, "billing", 1))
        .await
        .unwrap();
    storage::save_draft(user, &draft(second, d, 2))
        .await
        .unwrap();
    storage::save_draft(user, &draft(first, d, 1))
        .await
        .unwrap();

    assert_eq!(
        storage::domains(user).await.unwrap(),
        vec![domain(d, "billing", 1)]
    );
    let drafts = storage::drafts(user, d).await.unwrap();
    assert_eq!(
        drafts.iter().map(|x| x.number).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(
        drafts[0].model.entities.len(),
        4,
        "the model round-trips through IndexedDB"
    );
    assert!(storage::drafts(user, new_id()).await.unwrap().is_empty());

    // Drafts are immutable: adding the same id again fails and queues nothing.
    assert!(storage::save_draft(user, &draft(first, d, 9))
        .await
        .is_err());
    assert_eq!(
        queued(user).await,
        vec![
            (1, "create_domain".into()),
            (2, "create_draft".into()),
            (3, "create_draft".into())
        ]
    );
    // An edit that changes nothing queues nothing; one that does is the next id.
    storage::edit_domain(user, d, DomainEdit::Name("billing".into()))
        .await
        .unwrap();
    storage::edit_domain(user, d, DomainEdit::Description("money".into()))
        .await
        .unwrap();
    assert_eq!(queued(user).await.len(), 4);
    assert_eq!(storage::pending_count(user).await.unwrap(), 4);
    let pending = storage::pending(user).await.unwrap();
    match &pending[3].1 {
        Mutation::EditDomain { set, was, .. } => {
            assert_eq!(set, &DomainEdit::Description("money".into()));
            assert_eq!(was, &DomainEdit::Description("d".into()));
        }
        other => panic!("expected an edit, got {other:?}"),
    }

    // The server applied 1 to 3 and refused 3: they leave the queue, the refusal is kept.
    storage::acknowledge(
        user,
        &SyncPushResult {
            last_mutation_id: 3,
            version: 2,
            rejected: vec![Rejected {
                mutation_id: 3,
                code: "VAL_MODEL".into(),
                message: "no entities".into(),
            }],
        },
    )
    .await
    .unwrap();
    assert_eq!(queued(user).await, vec![(4, "edit_domain".into())]);
    let meta = storage::sync_meta(user).await.unwrap();
    assert_eq!(meta.next_mutation_id, 5);
    assert_eq!(meta.refused.len(), 1);
    assert_eq!(
        (meta.refused[0].what.as_str(), meta.refused[0].code.as_str()),
        ("new draft 1", "VAL_MODEL")
    );
    // The draft it refused stays here: nothing the user made is lost.
    assert_eq!(storage::drafts(user, d).await.unwrap().len(), 2);

    // Another user's database is separate, with its own client id.
    assert!(storage::domains(new_id()).await.unwrap().is_empty());
    assert_ne!(
        storage::sync_meta(new_id()).await.unwrap().client_id,
        meta.client_id
    );
}

#[wasm_bindgen_test]
async fn a_pull_is_taken_in_under_the_pending_changes() {
    let user = new_id();
    let (mine, theirs, gone, kept) = (new_id(), new_id(), new_id(), new_id());
    storage::create_domain(user, &domain(mine, "local", 1))
        .await
        .unwrap();
    storage::save_draft(user, &draft(gone, mine, 1))
        .await
        .unwrap();
    storage::save_draft(user, &draft(kept, mine, 2))
        .await
        .unwrap();
    // The server has applied these three.
    storage::acknowledge(
        user,
        &SyncPushResult {
            last_mutation_id: 3,
            version: 3,
            rejected: vec![],
        },
    )
    .await
    .unwrap();
    // Pending here: a rename, and the deletion of draft 2.
    storage::edit_domain(user, mine, DomainEdit::Name("renamed here".into()))
        .await
        .unwrap();
    let second = storage::drafts(user, mine).await.unwrap()[1].clone();
    storage::delete_draft(user, &second).await.unwrap();

    // Another device changed the description, deleted draft 1, and made a domain and a
    // draft 2 again (which this browser is deleting: it must stay away).
    let mut server_copy = domain(mine, "local", 1);
    server_copy.description = "from the other device".into();
    let pulled = SyncPull {
        version: 9,
        more: false,
        last_mutation_id: 3,
        domains: vec![server_copy, domain(theirs, "theirs", 1)],
        drafts: vec![draft(kept, mine, 2), draft(new_id(), theirs, 1)],
        deleted_drafts: vec![gone],
    };
    assert_eq!(storage::apply_pull(user, &pulled).await.unwrap(), 4);
    let here = storage::domain(user, mine).await.unwrap().unwrap();
    assert_eq!(
        (here.name.as_str(), here.description.as_str()),
        ("renamed here", "from the other device"),
        "the server's copy with the pending rename on top"
    );
    assert!(storage::drafts(user, mine).await.unwrap().is_empty());
    assert_eq!(storage::drafts(user, theirs).await.unwrap().len(), 1);
    assert_eq!(storage::sync_meta(user).await.unwrap().version, 9);
    assert_eq!(queued(user).await.len(), 2, "the pending ones stay queued");

    // Taking in the same pull again changes nothing.
    assert_eq!(storage::apply_pull(user, &pulled).await.unwrap(), 0);
    // Once the server has applied the rename, the queue empties and the view stays.
    let mut renamed = storage::domain(user, mine).await.unwrap().unwrap();
    renamed.overwritten.clear();
    let acknowledged = SyncPull {
        version: 11,
        last_mutation_id: 5,
        domains: vec![renamed.clone()],
        ..SyncPull::default()
    };
    storage::apply_pull(user, &acknowledged).await.unwrap();
    assert!(queued(user).await.is_empty());
    assert_eq!(storage::domain(user, mine).await.unwrap(), Some(renamed));
}

fn changes() -> Vec<ProposedChange> {
    let text = include_str!("../../model/tests/data/library-v2-changes.json");
    model::parse_change_set(text).unwrap().changes
}

fn proposal(domain_id: Uuid, parent_id: Uuid, instruction: &str) -> storage::ProposalRecord {
    let mut provenance = draft(parent_id, domain_id, 1).provenance;
    provenance.instruction = instruction.into();
    storage::ProposalRecord {
        domain_id,
        parent_id,
        changes: changes(),
        provenance,
        created_at: 7,
    }
}

#[wasm_bindgen_test]
async fn proposals_are_kept_replaced_and_settled_by_their_draft() {
    let user = new_id();
    let (d, other, parent) = (new_id(), new_id(), new_id());
    assert_eq!(storage::proposal(user, d).await.unwrap(), None);

    let first = proposal(d, parent, "add an audit log");
    storage::save_proposal(user, &first, None).await.unwrap();
    let kept = storage::proposal(user, d).await.unwrap().unwrap();
    assert_eq!(kept, first, "the change set round-trips through IndexedDB");
    assert_eq!(kept.changes.len(), 6);
    // One proposal per domain: a new answer replaces the old one, other domains keep theirs.
    let second = proposal(d, parent, "add soft deletes");
    storage::save_proposal(user, &second, None).await.unwrap();
    storage::save_proposal(user, &proposal(other, parent, "x"), None)
        .await
        .unwrap();
    assert_eq!(storage::proposal(user, d).await.unwrap(), Some(second));
    // A proposal is this browser's own: it is not queued for sync.
    assert!(queued(user).await.is_empty());

    // Accepting saves the draft and deletes the proposal together.
    let accepted = draft(new_id(), d, 2);
    storage::save_accepted_draft(user, &accepted).await.unwrap();
    assert_eq!(storage::proposal(user, d).await.unwrap(), None);
    assert_eq!(
        storage::drafts(user, d).await.unwrap(),
        vec![accepted.clone()]
    );
    assert_eq!(queued(user).await, vec![(1, "create_draft".into())]);
    assert!(storage::proposal(user, other).await.unwrap().is_some());

    // A failed accept (the draft exists: drafts are immutable) keeps the proposal.
    storage::save_proposal(user, &proposal(d, parent, "again"), None)
        .await
        .unwrap();
    assert!(storage::save_accepted_draft(user, &accepted).await.is_err());
    assert!(storage::proposal(user, d).await.unwrap().is_some());

    // Discarding deletes it.
    storage::delete_proposal(user, d).await.unwrap();
    assert_eq!(storage::proposal(user, d).await.unwrap(), None);
}

fn queued_request(
    domain_id: Uuid,
    parent_id: Option<Uuid>,
    instruction: &str,
) -> storage::QueuedRequest {
    storage::QueuedRequest {
        id: new_id(),
        domain_id,
        parent_id,
        provider_id: new_id(),
        provider: "fake".into(),
        model: "fake-model".into(),
        instruction: instruction.into(),
        notes: vec![],
        request: model::wire::ChatRequest {
            model: None,
            messages: vec![model::wire::ChatMessage {
                role: "user".into(),
                content: instruction.into(),
            }],
            stream: true,
            temperature: Some(0.2),
            response_format: None,
            stream_options: None,
        },
        prompt_hash: "h".into(),
        queued_at: 1,
        failed: None,
    }
}

/// A request made offline is kept, one per domain; the answer it brings is saved in the same
/// transaction that takes it out of the queue, so a second answer to it saves nothing at all
/// (neither the draft nor its mutation).
#[wasm_bindgen_test]
async fn queued_requests_are_kept_one_per_domain_and_answered_once() {
    let user = new_id();
    let (d, other) = (new_id(), new_id());
    let first = queued_request(d, None, "");
    storage::queue_request(user, &first).await.unwrap();
    assert_eq!(
        storage::queued(user, Some(d)).await.unwrap(),
        vec![first.clone()],
        "the request round-trips through IndexedDB"
    );
    let busy = storage::queue_request(user, &queued_request(d, None, "again"))
        .await
        .unwrap_err();
    assert_eq!(busy.code, "CLIENT_QUEUE_BUSY");
    let elsewhere = queued_request(other, Some(new_id()), "add an audit log");
    storage::queue_request(user, &elsewhere).await.unwrap();
    assert_eq!(storage::queued(user, None).await.unwrap().len(), 2);
    // Queued requests are this browser's own: nothing to sync.
    assert!(queued(user).await.is_empty());

    // A failure is kept with the request.
    let error = app::browser::UiError::new("AI_UPSTREAM", "the provider failed");
    storage::set_queued_failure(user, first.id, Some(&error))
        .await
        .unwrap();
    assert_eq!(
        storage::queued(user, Some(d)).await.unwrap()[0].failed,
        Some(error)
    );
    // And cleared, when it may go out by itself again.
    storage::set_queued_failure(user, first.id, None)
        .await
        .unwrap();
    assert_eq!(
        storage::queued(user, Some(d)).await.unwrap()[0].failed,
        None
    );

    // The answer: the draft is saved and the request leaves the queue, together.
    let answer = draft(new_id(), d, 1);
    storage::save_answered_draft(user, &answer, first.id)
        .await
        .unwrap();
    assert_eq!(
        storage::drafts(user, d).await.unwrap(),
        vec![answer.clone()]
    );
    assert!(storage::queued(user, Some(d)).await.unwrap().is_empty());
    assert_eq!(queued(user).await, vec![(1, "create_draft".into())]);
    // A second answer to the same request (another tab) saves nothing.
    let twice = storage::save_answered_draft(user, &draft(new_id(), d, 2), first.id)
        .await
        .unwrap_err();
    assert_eq!(twice.code, "CLIENT_QUEUE_GONE");
    assert_eq!(storage::drafts(user, d).await.unwrap(), vec![answer]);
    assert_eq!(queued(user).await, vec![(1, "create_draft".into())]);

    // A change set's answer: the proposal is kept and the request leaves the queue, together.
    let parent = elsewhere.parent_id.unwrap();
    let kept = proposal(other, parent, "add an audit log");
    storage::save_proposal(user, &kept, Some(elsewhere.id))
        .await
        .unwrap();
    assert_eq!(
        storage::proposal(user, other).await.unwrap(),
        Some(kept.clone())
    );
    assert!(storage::queued(user, None).await.unwrap().is_empty());
    let again = storage::save_proposal(user, &proposal(other, parent, "other"), Some(elsewhere.id))
        .await
        .unwrap_err();
    assert_eq!(again.code, "CLIENT_QUEUE_GONE");
    assert_eq!(storage::proposal(user, other).await.unwrap(), Some(kept));

    // Cancelling takes a request out without an answer; the domain can queue again.
    let third = queued_request(d, None, "third");
    storage::queue_request(user, &third).await.unwrap();
    storage::cancel_queued(user, third.id).await.unwrap();
    assert!(storage::queued(user, Some(d)).await.unwrap().is_empty());
    storage::queue_request(user, &queued_request(d, None, "fourth"))
        .await
        .unwrap();
}

/// The provider list is kept for offline starts beside the sync state, replaced by the next
/// answer, and leaves the sync state alone.
#[wasm_bindgen_test]
async fn the_provider_list_is_kept_for_offline_starts() {
    let user = new_id();
    assert_eq!(storage::kept_providers(user).await.expect("reads"), None);
    let provider = |name: &str| ProviderInfo {
        id: new_id(),
        name: name.into(),
        kind: ProviderKind::Compatible,
        base_url: "http://127.0.0.1:1/v1".into(),
        model: "m".into(),
        key_masked: "••••abcd".into(),
        created_at: 1,
        retries: None,
    };
    let first = vec![provider("a"), provider("b")];
    storage::keep_providers(user, &first).await.expect("kept");
    assert_eq!(
        storage::kept_providers(user).await.expect("reads"),
        Some(first)
    );
    let second = vec![provider("c")];
    storage::keep_providers(user, &second).await.expect("kept");
    assert_eq!(
        storage::kept_providers(user).await.expect("reads"),
        Some(second)
    );
    // The sync state under the same store is untouched.
    storage::sync_meta(user)
        .await
        .expect("the sync state still reads");
}

/// A record as a plain JS object, as every version of the app stored it.
fn js<T: Serialize>(value: &T) -> JsValue {
    js_sys::JSON::parse(&serde_json::to_string(value).unwrap()).unwrap()
}

/// A database as version 1 of the app left it: its three stores, a domain, a draft and an
/// outbox entry, written by the version-1 schema itself.
async fn version_one(user: Uuid, domain: &DomainRecord, saved: &DraftRecord) {
    let db = Rexie::builder(&storage::database_name(user))
        .version(1)
        .add_object_store(ObjectStore::new("domains").key_path("id"))
        .add_object_store(
            ObjectStore::new("drafts")
                .key_path("id")
                .add_index(Index::new("domain_id", "domain_id")),
        )
        .add_object_store(ObjectStore::new("outbox").auto_increment(true))
        .build()
        .await
        .unwrap();
    assert_eq!(db.version().unwrap(), 1);
    let tx = db
        .transaction(&["domains", "drafts", "outbox"], TransactionMode::ReadWrite)
        .unwrap();
    tx.store("domains")
        .unwrap()
        .put(&js(domain), None)
        .await
        .unwrap();
    tx.store("drafts")
        .unwrap()
        .add(&js(saved), None)
        .await
        .unwrap();
    tx.store("outbox")
        .unwrap()
        .add(
            &js(&storage::OutboxEntry {
                kind: "draft".into(),
                id: saved.id,
            }),
            None,
        )
        .await
        .unwrap();
    tx.done().await.unwrap();
    db.close();
}

#[wasm_bindgen_test]
async fn a_version_one_database_upgrades_without_losing_anything() {
    let user = new_id();
    let d = new_id();
    let kept_domain = domain(d, "billing", 3);
    let kept_draft = draft(new_id(), d, 1);
    version_one(user, &kept_domain, &kept_draft).await;

    // The first use by this version opens it at version 4: every record is still there.
    assert_eq!(storage::VERSION, 4);
    assert_eq!(storage::domains(user).await.unwrap(), vec![kept_domain]);
    assert_eq!(
        storage::drafts(user, d).await.unwrap(),
        vec![kept_draft.clone()]
    );
    // The old outbox entry became the first mutation, carrying the draft.
    let pending = storage::pending(user).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0],
        (
            1,
            Mutation::CreateDraft {
                draft: Box::new(kept_draft.clone())
            }
        )
    );
    // The index survived: drafts are still found by domain, and the new stores work.
    storage::save_proposal(user, &proposal(d, kept_draft.id, "next"), None)
        .await
        .unwrap();
    assert!(storage::proposal(user, d).await.unwrap().is_some());
    // New mutations follow the old ones.
    storage::save_draft(user, &draft(new_id(), d, 2))
        .await
        .unwrap();
    assert_eq!(
        queued(user)
            .await
            .iter()
            .map(|(id, _)| *id)
            .collect::<Vec<_>>(),
        vec![1, 2]
    );

    // And the database says so.
    let db = storage::open(user).await.unwrap();
    assert_eq!(db.version().unwrap(), 4);
    let mut stores = db.store_names();
    stores.sort();
    assert_eq!(
        stores,
        vec![
            "domains",
            "drafts",
            "meta",
            "mutations",
            "outbox",
            "proposals",
            "queue"
        ]
    );
}

/// A database as version 2 left it, full: many domains and drafts, an outbox naming a domain
/// twice, a draft and a record that is gone, and a proposal.
#[wasm_bindgen_test]
async fn a_full_version_two_database_upgrades_without_losing_anything() {
    let user = new_id();
    let db = Rexie::builder(&storage::database_name(user))
        .version(2)
        .add_object_store(ObjectStore::new("domains").key_path("id"))
        .add_object_store(
            ObjectStore::new("drafts")
                .key_path("id")
                .add_index(Index::new("domain_id", "domain_id")),
        )
        .add_object_store(ObjectStore::new("outbox").auto_increment(true))
        .add_object_store(ObjectStore::new("proposals").key_path("domain_id"))
        .build()
        .await
        .unwrap();
    let tx = db
        .transaction(
            &["domains", "drafts", "outbox", "proposals"],
            TransactionMode::ReadWrite,
        )
        .unwrap();
    let mut domains = Vec::new();
    let mut drafts = Vec::new();
    for i in 0..40 {
        let d = domain(new_id(), &format!("domain {i}"), i);
        tx.store("domains")
            .unwrap()
            .put(&js(&d), None)
            .await
            .unwrap();
        for n in 1..=3 {
            let x = draft(new_id(), d.id, n);
            tx.store("drafts")
                .unwrap()
                .add(&js(&x), None)
                .await
                .unwrap();
            drafts.push(x);
        }
        domains.push(d);
    }
    let outbox = tx.store("outbox").unwrap();
    for (kind, id) in [
        ("domain", domains[0].id),
        ("draft", drafts[0].id),
        ("domain", domains[0].id),
        ("draft", new_id()),
        ("domain", domains[1].id),
    ] {
        outbox
            .add(
                &js(&storage::OutboxEntry {
                    kind: kind.into(),
                    id,
                }),
                None,
            )
            .await
            .unwrap();
    }
    let kept = proposal(domains[0].id, drafts[0].id, "keep me");
    tx.store("proposals")
        .unwrap()
        .put(&js(&kept), None)
        .await
        .unwrap();
    tx.done().await.unwrap();
    db.close();

    let mut read = storage::domains(user).await.unwrap();
    read.sort_by_key(|d| d.id);
    domains.sort_by_key(|d| d.id);
    assert_eq!(read, domains);
    for d in &domains {
        let mut expected: Vec<DraftRecord> = drafts
            .iter()
            .filter(|x| x.domain_id == d.id)
            .cloned()
            .collect();
        expected.sort_by_key(|x| (x.number, x.id));
        assert_eq!(storage::drafts(user, d.id).await.unwrap(), expected);
    }
    assert_eq!(
        storage::proposal(user, domains[0].id).await.unwrap(),
        Some(kept)
    );
    // The outbox, in order, as mutations: the domain once, the missing record skipped.
    let pending: Vec<(u64, Uuid)> = storage::pending(user)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, m)| {
            (
                id,
                match m {
                    Mutation::CreateDomain { domain } => domain.id,
                    Mutation::CreateDraft { draft } => draft.id,
                    other => panic!("unexpected {other:?}"),
                },
            )
        })
        .collect();
    let first_domain = storage::domains(user)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.name == "domain 0")
        .unwrap()
        .id;
    let second_domain = storage::domains(user)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.name == "domain 1")
        .unwrap()
        .id;
    assert_eq!(
        pending,
        vec![(1, first_domain), (2, drafts[0].id), (3, second_domain)]
    );
    // The step is recorded: it does not run again, and new ids follow.
    let meta = storage::sync_meta(user).await.unwrap();
    assert_eq!((meta.next_mutation_id, meta.version), (4, 0));
}

/// Another tab opening a newer version is not blocked by this one: the watcher hears
/// `versionchange` and lets go, and this (older) code then says to reload instead of failing
/// obscurely.
#[wasm_bindgen_test]
async fn a_newer_version_in_another_tab_is_not_blocked() {
    let user = new_id();
    let d = new_id();
    storage::create_domain(user, &domain(d, "billing", 1))
        .await
        .unwrap();
    // Give the watcher connection its moment to open.
    app::browser::sleep(50).await;
    let newer = Rexie::builder(&storage::database_name(user))
        .version(storage::VERSION + 1)
        .add_object_store(ObjectStore::new("domains").key_path("id"))
        .add_object_store(
            ObjectStore::new("drafts")
                .key_path("id")
                .add_index(Index::new("domain_id", "domain_id")),
        )
        .add_object_store(ObjectStore::new("outbox").auto_increment(true))
        .add_object_store(ObjectStore::new("proposals").key_path("domain_id"))
        .add_object_store(ObjectStore::new("mutations").key_path("id"))
        .add_object_store(ObjectStore::new("meta"))
        .build();
    let limit = app::browser::sleep(3_000);
    let newer = match futures::future::select(Box::pin(newer), Box::pin(limit)).await {
        futures::future::Either::Left((db, _)) => db.unwrap(),
        futures::future::Either::Right(_) => panic!("the upgrade was blocked by this tab"),
    };
    // The newer version kept the data.
    let tx = newer
        .transaction(&["domains"], TransactionMode::ReadOnly)
        .unwrap();
    assert!(tx
        .store("domains")
        .unwrap()
        .get(JsValue::from_str(&d.to_string()))
        .await
        .unwrap()
        .is_some());
    drop(tx);
    let error = storage::domains(user).await.unwrap_err();
    assert_eq!(error.code, "CLIENT_DB_NEWER", "{error:?}");
    newer.close();
}

/// The lock that keeps two tabs from sending one queued request: while one holder runs, a
/// second asking for the same name is turned away without running; another name is free; once
/// the holder is done, the name can be taken again.
#[wasm_bindgen_test]
async fn a_held_lock_turns_the_second_holder_away() {
    use app::browser::{sleep, with_lock};
    use std::{cell::Cell, rc::Rc};
    let name = format!("dm-test-{}", new_id());
    let ran = Rc::new(Cell::new(0));
    let first = {
        let ran = ran.clone();
        with_lock(&name, async move {
            sleep(100).await;
            ran.set(ran.get() + 1);
            "first"
        })
    };
    let second = async {
        // Asked while the first holds it.
        sleep(20).await;
        let turned = with_lock(&name, async { ran.set(ran.get() + 10) }).await;
        let other = with_lock(&format!("{name}-other"), async { "free" }).await;
        (turned, other)
    };
    let (first, (turned, other)) = futures::join!(first, second);
    assert_eq!(first, Some("first"));
    assert_eq!(turned, None);
    assert_eq!(other, Some("free"));
    assert_eq!(ran.get(), 1, "the turned-away work never ran");
    assert_eq!(with_lock(&name, async { "again" }).await, Some("again"));
}
