//! IndexedDB, through rexie: the user's working copy of domains and drafts.
//!
//! Each signed-in user gets a database of their own (`data-modeller-<user id>`), so two accounts
//! on one browser never see each other's work. Stores:
//! - `domains`: [`DomainRecord`]s by `id`;
//! - `drafts`: [`DraftRecord`]s by `id`, indexed by `domain_id`; drafts are immutable, so they
//!   are added, never overwritten;
//! - `outbox`: what still has to be pushed to the server, in order (auto-increment keys). An
//!   outbox entry is written in the same transaction as the change it describes, so a change is
//!   never saved without being queued for sync, nor queued without being saved.
//!
//! Records are stored as plain JS objects in the JSON shape of the wire types.

use super::UiError;
use model::wire::{DomainRecord, DraftRecord, SyncPull};
use rexie::{Index, KeyRange, ObjectStore, Rexie, TransactionMode};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::{cell::RefCell, rc::Rc};
use uuid::Uuid;
use wasm_bindgen::JsValue;

const VERSION: u32 = 1;
const DOMAINS: &str = "domains";
const DRAFTS: &str = "drafts";
const OUTBOX: &str = "outbox";

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
    let db = Rexie::builder(&format!("data-modeller-{user}"))
        .version(VERSION)
        .add_object_store(ObjectStore::new(DOMAINS).key_path("id"))
        .add_object_store(
            ObjectStore::new(DRAFTS)
                .key_path("id")
                .add_index(Index::new("domain_id", "domain_id")),
        )
        .add_object_store(ObjectStore::new(OUTBOX).auto_increment(true))
        .build()
        .await
        .map_err(idb("opening IndexedDB"))?;
    let db = Rc::new(db);
    OPEN.with(|o| *o.borrow_mut() = Some((user, db.clone())));
    Ok(db)
}

/// Writes a record to `store` and its outbox entry, in one transaction: both or neither.
/// `add` refuses an existing key (immutable drafts); otherwise the record is put.
async fn save_queued<T: Serialize>(
    user: Uuid,
    store_name: &str,
    record: &T,
    entry: OutboxEntry,
    add: bool,
) -> Result<(), UiError> {
    let what = format!("saving a {}", entry.kind);
    let fail = idb(&what);
    let db = open(user).await?;
    let tx = db
        .transaction(&[store_name, OUTBOX], TransactionMode::ReadWrite)
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
    tx.done().await.map_err(&fail)?;
    Ok(())
}

/// Saves a new or edited domain and queues it for sync.
pub async fn save_domain(user: Uuid, domain: &DomainRecord) -> Result<(), UiError> {
    let entry = OutboxEntry {
        kind: "domain".into(),
        id: domain.id,
    };
    save_queued(user, DOMAINS, domain, entry, false).await
}

/// Saves a new draft and queues it for sync. Adding a draft whose id exists fails: drafts
/// are immutable.
pub async fn save_draft(user: Uuid, draft: &DraftRecord) -> Result<(), UiError> {
    let entry = OutboxEntry {
        kind: "draft".into(),
        id: draft.id,
    };
    save_queued(user, DRAFTS, draft, entry, true).await
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
