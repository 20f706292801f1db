//! IndexedDB, through rexie: the user's working copy of domains and drafts.
//!
//! Each signed-in user gets a database of their own (`data-modeller-<user id>`), so two accounts
//! on one browser never see each other's work. Stores:
//! - `domains`: [`DomainRecord`]s by `id`;
//! - `drafts`: [`DraftRecord`]s by `id`, indexed by `domain_id`; drafts are immutable, so they
//!   are added, never overwritten;
//! - `outbox`: what still has to be pushed to the server, in order (auto-increment keys). An
//!   outbox entry is written in the same transaction as the change it describes, so a change is
//!   never saved without being queued for sync, nor queued without being saved;
//! - `proposals` (since version 2): the change set under review in each domain, a
//!   [`ProposalRecord`] by `domain_id`. It is this browser's own (never synced): an LLM answer
//!   that cost a call and waits for the user to accept or discard it.
//!
//! Records are stored as plain JS objects in the JSON shape of the wire types.
//!
//! Versions: 1 had `domains`, `drafts` and `outbox`; 2 adds `proposals`. The builder deletes
//! every store a version does not declare, so [`open`] declares every store at the current
//! version, and an upgrade only ever adds: a version-1 database keeps all its records.

use super::UiError;
use model::wire::{DomainRecord, DraftRecord, Provenance, SyncPull};
use model::ProposedChange;
use rexie::{Index, KeyRange, ObjectStore, Rexie, TransactionMode};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::{cell::RefCell, rc::Rc};
use uuid::Uuid;
use wasm_bindgen::JsValue;

/// The schema version; see the module documentation for what each version holds.
pub const VERSION: u32 = 2;
const DOMAINS: &str = "domains";
const DRAFTS: &str = "drafts";
const OUTBOX: &str = "outbox";
const PROPOSALS: &str = "proposals";

/// A change set under review: the operations the LLM proposed against the draft `parent_id`,
/// and the provenance of that call. One per domain; a new answer replaces the old one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProposalRecord {
    pub domain_id: Uuid,
    pub parent_id: Uuid,
    pub changes: Vec<ProposedChange>,
    pub provenance: Provenance,
    pub created_at: i64,
}

/// The name of the IndexedDB database of `user`.
pub fn database_name(user: Uuid) -> String {
    format!("data-modeller-{user}")
}

/// One pending push: which record changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// `domain` or `draft`.
    pub kind: String,
    pub id: Uuid,
}

thread_local! {
    static OPEN: RefCell<Option<(Uuid, Rc<Rexie>)>> = const { RefCell::new(None) };
}

fn idb<E: std::fmt::Debug>(what: &str) -> impl Fn(E) -> UiError + '_ {
    move |e| UiError::browser(what, e)
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, UiError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| UiError::browser("encoding a record", e))
}

fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, UiError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| UiError::browser("decoding a record", e))
}

fn key(id: Uuid) -> JsValue {
    JsValue::from_str(&id.to_string())
}

/// Opens (creating or upgrading as needed) the database of `user`, reusing an open one.
pub async fn open(user: Uuid) -> Result<Rc<Rexie>, UiError> {
    if let Some(db) = OPEN.with(|o| {
        o.borrow()
            .as_ref()
            .filter(|(u, _)| *u == user)
            .map(|(_, db)| db.clone())
    }) {
        return Ok(db);
    }
    // Every store of every version, declared as version 1 declared it: the builder creates
    // what is missing (`proposals` on the way from 1 to 2) and keeps what exists, records and all.
    let db = Rexie::builder(&database_name(user))
        .version(VERSION)
        .add_object_store(ObjectStore::new(DOMAINS).key_path("id"))
        .add_object_store(
            ObjectStore::new(DRAFTS)
                .key_path("id")
                .add_index(Index::new("domain_id", "domain_id")),
        )
        .add_object_store(ObjectStore::new(OUTBOX).auto_increment(true))
        .add_object_store(ObjectStore::new(PROPOSALS).key_path("domain_id"))
        .build()
        .await
        .map_err(idb("opening IndexedDB"))?;
    let db = Rc::new(db);
    OPEN.with(|o| *o.borrow_mut() = Some((user, db.clone())));
    Ok(db)
}

/// Closes this tab's connection to `user`'s database and deletes the database: the local copy
/// of their work goes. IndexedDB finishes a deletion only when every tab has closed its
/// connection, so this waits at most `limit_ms`, then says so; the deletion still completes
/// once the other tabs close.
pub async fn remove_local_copy(user: Uuid, limit_ms: i32) -> Result<(), UiError> {
    if let Some((_, db)) = OPEN.with(|o| o.borrow_mut().take()) {
        // A handle still in use by another task closes when that task drops it.
        if let Ok(db) = Rc::try_unwrap(db) {
            db.close();
        }
    }
    let name = database_name(user);
    let deletion = Box::pin(Rexie::delete(&name));
    let limit = Box::pin(super::sleep(limit_ms));
    let outcome = futures::future::select(deletion, limit).await;
    match outcome {
        futures::future::Either::Left((result, _)) => {
            result.map_err(idb("removing this browser's copy"))
        }
        futures::future::Either::Right(_) => Err(UiError::new(
            "CLIENT_COPY_IN_USE",
            "another tab of this app still has your local copy open: close it, and the copy is removed",
        )),
    }
}

/// Writes a record to `store` and its outbox entry, in one transaction: both or neither.
/// `add` refuses an existing key (immutable drafts); otherwise the record is put. With
/// `settles`, the proposal of that domain is deleted in the same transaction (a draft accepted
/// from it), so the proposal goes exactly when its draft is saved.
async fn save_queued<T: Serialize>(
    user: Uuid,
    store_name: &str,
    record: &T,
    entry: OutboxEntry,
    add: bool,
    settles: Option<Uuid>,
) -> Result<(), UiError> {
    let what = format!("saving a {}", entry.kind);
    let fail = idb(&what);
    let db = open(user).await?;
    let stores: &[&str] = if settles.is_some() {
        &[store_name, OUTBOX, PROPOSALS]
    } else {
        &[store_name, OUTBOX]
    };
    let tx = db
        .transaction(stores, TransactionMode::ReadWrite)
        .map_err(&fail)?;
    let store = tx.store(store_name).map_err(&fail)?;
    let value = to_js(record)?;
    if add {
        store.add(&value, None).await.map_err(&fail)?;
    } else {
        store.put(&value, None).await.map_err(&fail)?;
    }
    tx.store(OUTBOX)
        .map_err(&fail)?
        .add(&to_js(&entry)?, None)
        .await
        .map_err(&fail)?;
    if let Some(domain) = settles {
        tx.store(PROPOSALS)
            .map_err(&fail)?
            .delete(key(domain))
            .await
            .map_err(&fail)?;
    }
    tx.done().await.map_err(&fail)?;
    Ok(())
}

/// Saves a new or edited domain and queues it for sync.
pub async fn save_domain(user: Uuid, domain: &DomainRecord) -> Result<(), UiError> {
    let entry = OutboxEntry {
        kind: "domain".into(),
        id: domain.id,
    };
    save_queued(user, DOMAINS, domain, entry, false, None).await
}

/// Saves a new draft and queues it for sync. Adding a draft whose id exists fails: drafts
/// are immutable.
pub async fn save_draft(user: Uuid, draft: &DraftRecord) -> Result<(), UiError> {
    let entry = OutboxEntry {
        kind: "draft".into(),
        id: draft.id,
    };
    save_queued(user, DRAFTS, draft, entry, true, None).await
}

/// Saves the draft accepted from the domain's proposal and deletes that proposal, in one
/// transaction: a failure keeps the proposal, a success leaves no stale one behind.
pub async fn save_accepted_draft(user: Uuid, draft: &DraftRecord) -> Result<(), UiError> {
    let entry = OutboxEntry {
        kind: "draft".into(),
        id: draft.id,
    };
    save_queued(user, DRAFTS, draft, entry, true, Some(draft.domain_id)).await
}

/// Keeps the proposal under review for its domain, replacing an older one.
pub async fn save_proposal(user: Uuid, proposal: &ProposalRecord) -> Result<(), UiError> {
    let fail = idb("keeping the proposal");
    let db = open(user).await?;
    let tx = db
        .transaction(&[PROPOSALS], TransactionMode::ReadWrite)
        .map_err(&fail)?;
    tx.store(PROPOSALS)
        .map_err(&fail)?
        .put(&to_js(proposal)?, None)
        .await
        .map_err(&fail)?;
    tx.done().await.map_err(&fail)?;
    Ok(())
}

/// The proposal under review in `domain`, if any.
pub async fn proposal(user: Uuid, domain: Uuid) -> Result<Option<ProposalRecord>, UiError> {
    let fail = idb("reading the proposal");
    let db = open(user).await?;
    let tx = db
        .transaction(&[PROPOSALS], TransactionMode::ReadOnly)
        .map_err(&fail)?;
    tx.store(PROPOSALS)
        .map_err(&fail)?
        .get(key(domain))
        .await
        .map_err(&fail)?
        .map(from_js)
        .transpose()
}

/// Forgets the proposal of `domain` (discarded by the user).
pub async fn delete_proposal(user: Uuid, domain: Uuid) -> Result<(), UiError> {
    let fail = idb("discarding the proposal");
    let db = open(user).await?;
    let tx = db
        .transaction(&[PROPOSALS], TransactionMode::ReadWrite)
        .map_err(&fail)?;
    tx.store(PROPOSALS)
        .map_err(&fail)?
        .delete(key(domain))
        .await
        .map_err(&fail)?;
    tx.done().await.map_err(&fail)?;
    Ok(())
}

/// The key under which versions before IndexedDB proposals kept a domain's proposal in local
/// storage.
fn legacy_proposal_key(domain: Uuid) -> String {
    format!("dm-proposal-{domain}")
}

/// The shape of a proposal in local storage before it moved to IndexedDB: the whole parent
/// draft instead of its id.
#[derive(Deserialize)]
struct LegacyProposal {
    parent: LegacyParent,
    changes: Vec<ProposedChange>,
    provenance: Provenance,
}

#[derive(Deserialize)]
struct LegacyParent {
    id: Uuid,
}

/// Moves a proposal that an older version of the app kept in local storage for `domain` into
/// IndexedDB, then removes it from local storage; the local storage copy goes only once the
/// IndexedDB one is written. Returns whether there was one.
pub async fn adopt_legacy_proposal(user: Uuid, domain: Uuid) -> Result<bool, UiError> {
    let Some(store) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else {
        return Ok(false);
    };
    let key = legacy_proposal_key(domain);
    let Some(json) = store.get_item(&key).ok().flatten() else {
        return Ok(false);
    };
    // An entry that no longer reads is not a proposal anyone can review: drop it.
    if let Ok(legacy) = serde_json::from_str::<LegacyProposal>(&json) {
        save_proposal(
            user,
            &ProposalRecord {
                domain_id: domain,
                parent_id: legacy.parent.id,
                changes: legacy.changes,
                provenance: legacy.provenance,
                created_at: super::now_ms(),
            },
        )
        .await?;
    }
    let _ = store.remove_item(&key);
    Ok(true)
}

/// All domains of the user, newest first.
pub async fn domains(user: Uuid) -> Result<Vec<DomainRecord>, UiError> {
    let db = open(user).await?;
    let tx = db
        .transaction(&[DOMAINS], TransactionMode::ReadOnly)
        .map_err(idb("reading domains"))?;
    let store = tx.store(DOMAINS).map_err(idb("reading domains"))?;
    let mut out = store
        .get_all(None, None)
        .await
        .map_err(idb("reading domains"))?
        .into_iter()
        .map(from_js)
        .collect::<Result<Vec<DomainRecord>, _>>()?;
    out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// One domain by id.
pub async fn domain(user: Uuid, id: Uuid) -> Result<Option<DomainRecord>, UiError> {
    let db = open(user).await?;
    let tx = db
        .transaction(&[DOMAINS], TransactionMode::ReadOnly)
        .map_err(idb("reading a domain"))?;
    let store = tx.store(DOMAINS).map_err(idb("reading a domain"))?;
    store
        .get(key(id))
        .await
        .map_err(idb("reading a domain"))?
        .map(from_js)
        .transpose()
}

/// The drafts of one domain, by number.
pub async fn drafts(user: Uuid, domain_id: Uuid) -> Result<Vec<DraftRecord>, UiError> {
    let db = open(user).await?;
    let tx = db
        .transaction(&[DRAFTS], TransactionMode::ReadOnly)
        .map_err(idb("reading drafts"))?;
    let store = tx.store(DRAFTS).map_err(idb("reading drafts"))?;
    let index = store.index("domain_id").map_err(idb("reading drafts"))?;
    let range = KeyRange::only(&key(domain_id)).map_err(idb("reading drafts"))?;
    let mut out = index
        .get_all(Some(range), None)
        .await
        .map_err(idb("reading drafts"))?
        .into_iter()
        .map(from_js)
        .collect::<Result<Vec<DraftRecord>, _>>()?;
    out.sort_by_key(|d| (d.number, d.created_at));
    Ok(out)
}

/// The outbox in order: each entry with its IndexedDB key.
pub async fn outbox(user: Uuid) -> Result<Vec<(JsValue, OutboxEntry)>, UiError> {
    let db = open(user).await?;
    let tx = db
        .transaction(&[OUTBOX], TransactionMode::ReadOnly)
        .map_err(idb("reading the outbox"))?;
    let store = tx.store(OUTBOX).map_err(idb("reading the outbox"))?;
    store
        .scan(None, None, None, None)
        .await
        .map_err(idb("reading the outbox"))?
        .into_iter()
        .map(|(k, v)| Ok((k, from_js(v)?)))
        .collect()
}

/// Reads the records that outbox entries name (entries whose record is gone are skipped).
pub async fn records_for(
    user: Uuid,
    entries: &[OutboxEntry],
) -> Result<(Vec<DomainRecord>, Vec<DraftRecord>), UiError> {
    let db = open(user).await?;
    let tx = db
        .transaction(&[DOMAINS, DRAFTS], TransactionMode::ReadOnly)
        .map_err(idb("reading the outbox"))?;
    let domains_store = tx.store(DOMAINS).map_err(idb("reading the outbox"))?;
    let drafts_store = tx.store(DRAFTS).map_err(idb("reading the outbox"))?;
    let (mut domains, mut drafts) = (Vec::new(), Vec::new());
    for entry in entries {
        let store = if entry.kind == "domain" {
            &domains_store
        } else {
            &drafts_store
        };
        let Some(value) = store
            .get(key(entry.id))
            .await
            .map_err(idb("reading the outbox"))?
        else {
            continue;
        };
        if entry.kind == "domain" {
            let domain: DomainRecord = from_js(value)?;
            // A domain edited twice is sent once, in its latest state.
            if !domains.iter().any(|d: &DomainRecord| d.id == domain.id) {
                domains.push(domain);
            }
        } else {
            drafts.push(from_js(value)?);
        }
    }
    Ok((domains, drafts))
}

/// Removes pushed entries from the outbox.
pub async fn remove_outbox(user: Uuid, keys: Vec<JsValue>) -> Result<(), UiError> {
    let db = open(user).await?;
    let tx = db
        .transaction(&[OUTBOX], TransactionMode::ReadWrite)
        .map_err(idb("clearing the outbox"))?;
    let store = tx.store(OUTBOX).map_err(idb("clearing the outbox"))?;
    for k in keys {
        store.delete(k).await.map_err(idb("clearing the outbox"))?;
    }
    tx.done().await.map_err(idb("clearing the outbox"))?;
    Ok(())
}

/// Merges what the server sent: domains the server has newer, drafts this browser lacks.
/// Nothing local is lost: a local domain newer than the server's copy stays.
pub async fn merge_pulled(user: Uuid, pulled: &SyncPull) -> Result<usize, UiError> {
    let db = open(user).await?;
    let tx = db
        .transaction(&[DOMAINS, DRAFTS], TransactionMode::ReadWrite)
        .map_err(idb("merging synced data"))?;
    let domains_store = tx.store(DOMAINS).map_err(idb("merging synced data"))?;
    let drafts_store = tx.store(DRAFTS).map_err(idb("merging synced data"))?;
    let mut merged = 0;
    for domain in &pulled.domains {
        let local = domains_store
            .get(key(domain.id))
            .await
            .map_err(idb("merging synced data"))?;
        let local: Option<DomainRecord> = local.map(from_js).transpose()?;
        if local.is_none_or(|l| l.updated_at < domain.updated_at) {
            domains_store
                .put(&to_js(domain)?, None)
                .await
                .map_err(idb("merging synced data"))?;
            merged += 1;
        }
    }
    for draft in &pulled.drafts {
        if !drafts_store
            .key_exists(key(draft.id))
            .await
            .map_err(idb("merging synced data"))?
        {
            drafts_store
                .add(&to_js(draft)?, None)
                .await
                .map_err(idb("merging synced data"))?;
            merged += 1;
        }
    }
    tx.done().await.map_err(idb("merging synced data"))?;
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored shape of a proposal is a contract with every browser that kept one: a change
    /// here needs a new IndexedDB version with an upgrade, not an edit.
    #[test]
    fn proposal_record_shape_is_frozen() {
        let record = ProposalRecord {
            domain_id: Uuid::from_u128(1),
            parent_id: Uuid::from_u128(2),
            changes: vec![],
            provenance: Provenance {
                source: "llm".into(),
                provider: "fake".into(),
                model: "fake-model".into(),
                instruction: "add an audit log".into(),
                prompt_hash: "abc".into(),
                usage: None,
                accepted: vec![],
                proposed: 0,
            },
            created_at: 1_795_333_530_000,
        };
        let json = serde_json::to_value(&record).expect("a proposal serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "domain_id": "00000000-0000-0000-0000-000000000001",
                "parent_id": "00000000-0000-0000-0000-000000000002",
                "changes": [],
                "provenance": {
                    "source": "llm",
                    "provider": "fake",
                    "model": "fake-model",
                    "instruction": "add an audit log",
                    "prompt_hash": "abc",
                },
                "created_at": 1_795_333_530_000_i64,
            })
        );
        let back: ProposalRecord = serde_json::from_value(json).expect("and reads back");
        assert_eq!(back, record);
    }

    /// Proposals kept in local storage by the version before IndexedDB still read.
    #[test]
    fn legacy_local_storage_proposal_reads() {
        let json = r#"{"parent":{"id":"00000000-0000-0000-0000-000000000002","domain_id":"00000000-0000-0000-0000-000000000001","number":1},
            "changes":[],"provenance":{"source":"llm","provider":"p","model":"m","instruction":"","prompt_hash":"h"}}"#;
        let legacy: LegacyProposal = serde_json::from_str(json).expect("the old shape reads");
        assert_eq!(legacy.parent.id, Uuid::from_u128(2));
        assert_eq!(legacy.provenance.provider, "p");
        assert!(legacy.changes.is_empty());
    }
}
