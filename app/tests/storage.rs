//! IndexedDB storage in a real headless browser (wasm-bindgen-test, `run_in_browser`):
//! saving with the outbox in one transaction, immutable drafts, outbox order and clearing,
//! merging what the server sent without losing newer local work, the proposal under review
//! (kept, replaced, settled by its accepted draft), and the upgrade of a version-1 database.
//!
//! Run by `.ci/dev test` with `cargo test -p app --target wasm32-unknown-unknown --test storage`;
//! the runner is wasm-bindgen-test-runner driving Debian's Chromium through chromedriver.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use app::browser::{new_id, storage};
use model::wire::{DomainRecord, DraftRecord, Provenance, SyncPull};
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
        created_at: 1,
        updated_at,
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
        },
        model,
    }
}

#[wasm_bindgen_test]
async fn saves_queue_and_read_back() {
    let user = new_id();
    let (d, first, second) = (new_id(), new_id(), new_id());
    storage::save_domain(user, &domain(d, "billing", 1))
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

    // Drafts are immutable: adding the same id again fails and leaves the outbox alone.
    assert!(storage::save_draft(user, &draft(first, d, 9))
        .await
        .is_err());
    let outbox = storage::outbox(user).await.unwrap();
    let queued: Vec<(String, Uuid)> = outbox.iter().map(|(_, e)| (e.kind.clone(), e.id)).collect();
    assert_eq!(
        queued,
        vec![
            ("domain".into(), d),
            ("draft".into(), second),
            ("draft".into(), first)
        ]
    );

    let entries: Vec<_> = outbox.iter().map(|(_, e)| e.clone()).collect();
    let (domains, drafts) = storage::records_for(user, &entries).await.unwrap();
    assert_eq!((domains.len(), drafts.len()), (1, 2));
    storage::remove_outbox(user, outbox.into_iter().map(|(k, _)| k).collect())
        .await
        .unwrap();
    assert!(storage::outbox(user).await.unwrap().is_empty());

    // Another user's database is separate.
    assert!(storage::domains(new_id()).await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn merge_keeps_newer_local_work() {
    let user = new_id();
    let (kept, replaced, d) = (new_id(), new_id(), new_id());
    storage::save_domain(user, &domain(kept, "local newer", 10))
        .await
        .unwrap();
    storage::save_domain(user, &domain(replaced, "local older", 1))
        .await
        .unwrap();
    let pulled = SyncPull {
        domains: vec![
            domain(kept, "server older", 5),
            domain(replaced, "server newer", 7),
            domain(d, "new", 1),
        ],
        drafts: vec![draft(new_id(), d, 1)],
    };
    assert_eq!(storage::merge_pulled(user, &pulled).await.unwrap(), 3);
    let names: Vec<String> = storage::domains(user)
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.name)
        .collect();
    assert!(names.contains(&"local newer".to_string()), "{names:?}");
    assert!(names.contains(&"server newer".to_string()), "{names:?}");
    assert_eq!(storage::drafts(user, d).await.unwrap().len(), 1);
    // Merging the same pull again changes nothing.
    assert_eq!(storage::merge_pulled(user, &pulled).await.unwrap(), 0);
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
    storage::save_proposal(user, &first).await.unwrap();
    let kept = storage::proposal(user, d).await.unwrap().unwrap();
    assert_eq!(kept, first, "the change set round-trips through IndexedDB");
    assert_eq!(kept.changes.len(), 6);
    // One proposal per domain: a new answer replaces the old one, other domains keep theirs.
    let second = proposal(d, parent, "add soft deletes");
    storage::save_proposal(user, &second).await.unwrap();
    storage::save_proposal(user, &proposal(other, parent, "x"))
        .await
        .unwrap();
    assert_eq!(storage::proposal(user, d).await.unwrap(), Some(second));
    // A proposal is this browser's own: it is not queued for sync.
    assert!(storage::outbox(user).await.unwrap().is_empty());

    // Accepting saves the draft and deletes the proposal together.
    let accepted = draft(new_id(), d, 2);
    storage::save_accepted_draft(user, &accepted).await.unwrap();
    assert_eq!(storage::proposal(user, d).await.unwrap(), None);
    assert_eq!(
        storage::drafts(user, d).await.unwrap(),
        vec![accepted.clone()]
    );
    assert_eq!(storage::outbox(user).await.unwrap().len(), 1);
    assert!(storage::proposal(user, other).await.unwrap().is_some());

    // A failed accept (the draft exists: drafts are immutable) keeps the proposal.
    storage::save_proposal(user, &proposal(d, parent, "again"))
        .await
        .unwrap();
    assert!(storage::save_accepted_draft(user, &accepted).await.is_err());
    assert!(storage::proposal(user, d).await.unwrap().is_some());

    // Discarding deletes it.
    storage::delete_proposal(user, d).await.unwrap();
    assert_eq!(storage::proposal(user, d).await.unwrap(), None);
}

fn js<T: Serialize>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap()
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

    // The first use by this version opens it at version 2: every record is still there.
    assert_eq!(storage::VERSION, 2);
    assert_eq!(storage::domains(user).await.unwrap(), vec![kept_domain]);
    assert_eq!(
        storage::drafts(user, d).await.unwrap(),
        vec![kept_draft.clone()]
    );
    let outbox = storage::outbox(user).await.unwrap();
    assert_eq!(
        outbox
            .iter()
            .map(|(_, e)| (e.kind.as_str(), e.id))
            .collect::<Vec<_>>(),
        vec![("draft", kept_draft.id)]
    );
    // The index survived: drafts are still found by domain, and the new store works.
    storage::save_proposal(user, &proposal(d, kept_draft.id, "next"))
        .await
        .unwrap();
    assert!(storage::proposal(user, d).await.unwrap().is_some());
    // New outbox entries follow the old ones.
    storage::save_draft(user, &draft(new_id(), d, 2))
        .await
        .unwrap();
    assert_eq!(storage::outbox(user).await.unwrap().len(), 2);

    // And the database says so.
    let db = storage::open(user).await.unwrap();
    assert_eq!(db.version().unwrap(), 2);
    let mut stores = db.store_names();
    stores.sort();
    assert_eq!(stores, vec!["domains", "drafts", "outbox", "proposals"]);
}
