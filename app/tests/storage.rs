//! IndexedDB storage in a real headless browser (wasm-bindgen-test, `run_in_browser`):
//! saving with the outbox in one transaction, immutable drafts, outbox order and clearing,
//! and merging what the server sent without losing newer local work.
//!
//! Run by `.ci/dev test` with `cargo test -p app --target wasm32-unknown-unknown --test storage`;
//! the runner is wasm-bindgen-test-runner driving Debian's Chromium through chromedriver.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use app::browser::{new_id, storage};
use app::model::Model;
use app::wire::{DomainRecord, DraftRecord, Provenance, SyncPull};
use uuid::Uuid;
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
    let model: Model = serde_json::from_str(include_str!("data/library-v1.json")).unwrap();
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
