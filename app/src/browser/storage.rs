//! IndexedDB, through rexie: the user's working copy of domains and drafts.
//!
//! Each signed-in user gets a database of their own (`data-modeller-<user id>`), so two accounts
//! on one browser never see each other's work. Stores:
//! - `domains`: [`DomainRecord`]s by `id`, as this browser shows them: the server's copy with
//!   the pending mutations re-applied (`model::sync::rebase_domain`);
//! - `drafts`: [`DraftRecord`]s by `id`, indexed by `domain_id`; drafts are immutable, so they
//!   are added, never overwritten;
//! - `mutations` (since version 3): what still has to be pushed, a [`MutationRecord`] by its
//!   mutation id. A mutation is written in the same transaction as the change it describes and
//!   the [`SyncMeta`] that numbers it, so a change is never saved without being queued for sync,
//!   nor queued without being saved, and ids never repeat, whichever tab writes;
//! - `meta` (since version 3): the [`SyncMeta`] under the key `sync`: this browser's client id,
//!   the next mutation id, the version pulled up to, and the changes the server refused; and
//!   the provider list under `providers` (for an offline start; no key is in it);
//! - `proposals` (since version 2): the change set under review in each domain, a
//!   [`ProposalRecord`] by `domain_id`. It is this browser's own (never synced);
//! - `queue` (since version 4): the LLM requests made while the server could not be reached,
//!   [`QueuedRequest`]s by `id`, indexed by `domain_id`. This browser's own (never synced): the
//!   answer they bring is saved as a draft or a proposal in the same transaction that takes
//!   the request out of the queue, so an answer is saved once;
//! - `outbox` (versions 1 and 2): the first sync version's queue (`{kind, id}` entries). Still
//!   declared, so that the builder keeps it; [`open`] turns its entries into mutations.
//!
//! Records are stored as plain JS objects in the JSON shape of the wire types.
//!
//! Versions: 1 had `domains`, `drafts` and `outbox`; 2 added `proposals`; 3 added `mutations`
//! and `meta`; 4 adds `queue`. The builder deletes every store a version does not declare, so [`open`]
//! declares every store of every version, and an upgrade only ever adds stores; the data steps
//! (the outbox of version 2 becoming mutations) run after opening, in one transaction each,
//! recorded in [`SyncMeta::data_version`].
//!
//! Another tab that opens a newer version asks this one to let go (`versionchange`): a small
//! watcher connection hears it, closes this tab's connections, and the next access reopens,
//! which fails with a clear error if this tab's code is older than the database.

use super::UiError;
use model::prompt::ChangeNote;
use model::sync::{
    rebase_domain, DomainEdit, Mutation, Rejected, SyncPull, SyncPushResult, Target,
};
use model::wire::{ChatRequest, DomainRecord, DraftRecord, Provenance, ProviderInfo};
use model::ProposedChange;
use rexie::{Index, KeyRange, ObjectStore, Rexie, TransactionMode};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::{cell::RefCell, collections::BTreeMap, rc::Rc};
use uuid::Uuid;
use wasm_bindgen::JsValue;

/// The schema version; see the module documentation for what each version holds.
pub const VERSION: u32 = 4;
const DOMAINS: &str = "domains";
const DRAFTS: &str = "drafts";
const OUTBOX: &str = "outbox";
const PROPOSALS: &str = "proposals";
const MUTATIONS: &str = "mutations";
const META: &str = "meta";
const QUEUE: &str = "queue";
/// The key of the [`SyncMeta`] record in `meta`.
const SYNC_KEY: &str = "sync";
/// The data steps this code knows: 1 = the version-2 outbox became mutations.
const DATA_VERSION: u32 = 1;
/// How many refused changes the browser remembers.
const REJECTED_KEPT: usize = 50;
/// How long opening may wait on other tabs before the user is told.
const BLOCKED_AFTER_MS: i32 = 4_000;

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

/// A draft request made while the server could not be reached, kept until it is answered or
/// cancelled. The messages were assembled when the user asked (the domain, the draft and the
/// notes as they were then), so what is sent later is what the user saw in the prompt preview.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueuedRequest {
    pub id: Uuid,
    pub domain_id: Uuid,
    /// The draft a change set will apply to; none for a first draft (a whole model).
    pub parent_id: Option<Uuid>,
    pub provider_id: Uuid,
    /// The provider's name and model when the request was made, for the draft's provenance.
    pub provider: String,
    pub model: String,
    pub instruction: String,
    /// The change notes the prompt carries, as they will be sent.
    #[serde(default)]
    pub notes: Vec<ChangeNote>,
    pub request: ChatRequest,
    pub prompt_hash: String,
    pub queued_at: i64,
    /// Why the last attempt failed, when it was not the network: the request then waits for
    /// the user to send it again or cancel it, instead of being retried by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<UiError>,
}

/// A pending mutation as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MutationRecord {
    pub id: u64,
    pub mutation: Mutation,
}

/// A change the server refused for good, as the user sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedChange {
    pub mutation_id: u64,
    /// What the change was ("new draft 4 of Billing").
    pub what: String,
    pub code: String,
    pub message: String,
}

/// This browser's sync bookkeeping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncMeta {
    pub client_id: Uuid,
    /// The id the next mutation takes.
    pub next_mutation_id: u64,
    /// The version pulled up to.
    pub version: u64,
    /// The data steps done (see [`DATA_VERSION`]).
    pub data_version: u32,
    /// Changes the server refused, newest last.
    #[serde(default)]
    pub refused: Vec<RefusedChange>,
}

/// The name of the IndexedDB database of `user`.
pub fn database_name(user: Uuid) -> String {
    format!("data-modeller-{user}")
}

/// One entry of the first sync version's outbox: which record changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// `domain` or `draft`.
    pub kind: String,
    pub id: Uuid,
}

thread_local! {
    static OPEN: RefCell<Option<(Uuid, Rc<Rexie>)>> = const { RefCell::new(None) };
    /// The watcher connection that hears another tab's upgrade.
    static WATCHER: RefCell<Option<web_sys::IdbDatabase>> = const { RefCell::new(None) };
}

fn idb<E: std::fmt::Debug>(what: &str) -> impl Fn(E) -> UiError + '_ {
    move |e| storage_error(what, &format!("{e:?}"))
}

/// The error of a failed IndexedDB step. A full quota gets a code of its own: the browser
/// aborts the whole transaction, so nothing of the change was written, and the user can do
/// something about it.
pub fn storage_error(what: &str, detail: &str) -> UiError {
    if detail.contains("QuotaExceeded") {
        UiError::new(
            "CLIENT_QUOTA",
            format!("{what} failed: this browser has no room left for Data Modeller's data, so nothing of this change was saved; free disk space, or export and delete domains you no longer need, then try again"),
        )
    } else {
        UiError::browser(what, detail)
    }
}

// Records cross into JavaScript as JSON text, parsed by the browser's `JSON`: every record
// type already has serde_json's code (the API and sync bodies carry them), so a second,
// field-by-field converter (serde-wasm-bindgen) would only add its own copy of every
// record's (de)serializer to the page's wasm. Stored values are the same plain objects.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, UiError> {
    let text =
        serde_json::to_string(value).map_err(|e| UiError::browser("encoding a record", e))?;
    js_sys::JSON::parse(&text).map_err(|e| UiError::browser("encoding a record", e))
}

fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, UiError> {
    let text = js_sys::JSON::stringify(&value)
        .map_err(|e| UiError::browser("decoding a record", e))?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| UiError::browser("decoding a record", e))
}

fn key(id: Uuid) -> JsValue {
    JsValue::from_str(&id.to_string())
}

fn number(n: u64) -> JsValue {
    JsValue::from_f64(n as f64)
}

/// Opens (creating or upgrading as needed) the database of `user`, reusing an open one, and
/// runs the data steps it still lacks.
pub async fn open(user: Uuid) -> Result<Rc<Rexie>, UiError> {
    if let Some(db) = OPEN.with(|o| {
        o.borrow()
            .as_ref()
            .filter(|(u, _)| *u == user)
            .map(|(_, db)| db.clone())
    }) {
        return Ok(db);
    }
    // Every store of every version, declared as it was first declared: the builder creates
    // what is missing and keeps what exists, records and all.
    let build = Rexie::builder(&database_name(user))
        .version(VERSION)
        .add_object_store(ObjectStore::new(DOMAINS).key_path("id"))
        .add_object_store(
            ObjectStore::new(DRAFTS)
                .key_path("id")
                .add_index(Index::new("domain_id", "domain_id")),
        )
        .add_object_store(ObjectStore::new(OUTBOX).auto_increment(true))
        .add_object_store(ObjectStore::new(PROPOSALS).key_path("domain_id"))
        .add_object_store(ObjectStore::new(MUTATIONS).key_path("id"))
        .add_object_store(ObjectStore::new(META))
        .add_object_store(
            ObjectStore::new(QUEUE)
                .key_path("id")
                .add_index(Index::new("domain_id", "domain_id")),
        )
        .build();
    let build = Box::pin(build);
    let db = match futures::future::select(build, Box::pin(super::sleep(BLOCKED_AFTER_MS))).await
    {
        futures::future::Either::Left((result, _)) => result.map_err(opening)?,
        // Another tab holds an older connection and does not let go (an older version of the
        // app has no watcher): say so; the upgrade completes once that tab closes.
        futures::future::Either::Right(_) => {
            return Err(UiError::new(
                "CLIENT_DB_BLOCKED",
                "another tab of this app, from an older version, keeps your local data open: close or reload it",
            ))
        }
    };
    let db = Rc::new(db);
    migrate_data(&db).await?;
    OPEN.with(|o| *o.borrow_mut() = Some((user, db.clone())));
    watch(user);
    Ok(db)
}

fn opening(e: rexie::Error) -> UiError {
    let text = format!("{e:?}");
    if text.contains("VersionError") {
        UiError::new(
            "CLIENT_DB_NEWER",
            "a newer version of this app has upgraded your local data in another tab: reload this page",
        )
    } else {
        UiError::browser("opening IndexedDB", text)
    }
}

/// Opens a second, bare connection whose only job is to hear `versionchange` (another tab
/// upgrading or deleting the database): it then closes itself and this tab's connection, so
/// the other tab is not blocked; the next access here opens again.
fn watch(user: Uuid) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Some(factory) = web_sys::window().and_then(|w| w.indexed_db().ok().flatten()) else {
        return;
    };
    let Ok(request) = factory.open_with_u32(&database_name(user), VERSION) else {
        return;
    };
    let opened = request.clone();
    let on_success = Closure::once_into_js(move || {
        let Ok(result) = opened.result() else { return };
        let Ok(db) = result.dyn_into::<web_sys::IdbDatabase>() else {
            return;
        };
        let on_change = Closure::<dyn FnMut()>::new(move || release(user));
        db.set_onversionchange(Some(on_change.as_ref().unchecked_ref()));
        on_change.forget();
        WATCHER.with(|w| {
            if let Some(old) = w.borrow_mut().replace(db) {
                old.close();
            }
        });
    });
    request.set_onsuccess(Some(on_success.unchecked_ref()));
}

/// Lets go of `user`'s database in this tab (both connections).
fn release(user: Uuid) {
    if let Some(watcher) = WATCHER.with(|w| w.borrow_mut().take()) {
        watcher.close();
    }
    let held = OPEN.with(|o| {
        let mut o = o.borrow_mut();
        if o.as_ref().is_some_and(|(u, _)| *u == user) {
            o.take()
        } else {
            None
        }
    });
    if let Some((_, db)) = held {
        // A handle still in use by another task closes when that task drops it.
        if let Ok(db) = Rc::try_unwrap(db) {
            db.close();
        }
    }
}

/// Closes this tab's connection to `user`'s database and deletes the database: the local copy
/// of their work goes. IndexedDB finishes a deletion only when every tab has closed its
/// connection, so this waits at most `limit_ms`, then says so; the deletion still completes
/// once the other tabs close.
pub async fn remove_local_copy(user: Uuid, limit_ms: i32) -> Result<(), UiError> {
    release(user);
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

/// The data steps, each in one transaction: a database that has no [`SyncMeta`] gets one (a
/// new client id), and the first sync version's outbox entries become mutations in their
/// order, each carrying the record as it is now.
async fn migrate_data(db: &Rexie) -> Result<(), UiError> {
    let fail = idb("upgrading your local data");
    let tx = db
        .transaction(
            &[META, OUTBOX, MUTATIONS, DOMAINS, DRAFTS],
            TransactionMode::ReadWrite,
        )
        .map_err(&fail)?;
    let meta_store = tx.store(META).map_err(&fail)?;
    let meta: Option<SyncMeta> = meta_store
        .get(JsValue::from_str(SYNC_KEY))
        .await
        .map_err(&fail)?
        .map(from_js)
        .transpose()?;
    if meta
        .as_ref()
        .is_some_and(|m| m.data_version >= DATA_VERSION)
    {
        tx.abort().await.map_err(&fail)?;
        return Ok(());
    }
    let mut meta = meta.unwrap_or(SyncMeta {
        client_id: super::new_id(),
        next_mutation_id: 1,
        version: 0,
        data_version: 0,
        refused: Vec::new(),
    });
    let outbox = tx.store(OUTBOX).map_err(&fail)?;
    let entries = outbox.scan(None, None, None, None).await.map_err(&fail)?;
    let domains = tx.store(DOMAINS).map_err(&fail)?;
    let drafts = tx.store(DRAFTS).map_err(&fail)?;
    let mutations = tx.store(MUTATIONS).map_err(&fail)?;
    let mut seen_domains = std::collections::BTreeSet::new();
    for (_, value) in entries {
        let Ok(entry) = from_js::<OutboxEntry>(value) else {
            continue;
        };
        let mutation = if entry.kind == "domain" {
            // A domain edited twice was queued twice: once is enough, in its latest state.
            if !seen_domains.insert(entry.id) {
                continue;
            }
            match domains.get(key(entry.id)).await.map_err(&fail)? {
                Some(v) => Mutation::CreateDomain {
                    domain: from_js(v)?,
                },
                None => continue,
            }
        } else {
            match drafts.get(key(entry.id)).await.map_err(&fail)? {
                Some(v) => Mutation::CreateDraft {
                    draft: Box::new(from_js(v)?),
                },
                None => continue,
            }
        };
        let record = MutationRecord {
            id: meta.next_mutation_id,
            mutation,
        };
        mutations.put(&to_js(&record)?, None).await.map_err(&fail)?;
        meta.next_mutation_id += 1;
    }
    outbox.clear().await.map_err(&fail)?;
    meta.data_version = DATA_VERSION;
    meta_store
        .put(&to_js(&meta)?, Some(&JsValue::from_str(SYNC_KEY)))
        .await
        .map_err(&fail)?;
    commit(tx, "upgrading your local data").await?;
    Ok(())
}

/// This browser's sync bookkeeping for `user`.
pub async fn sync_meta(user: Uuid) -> Result<SyncMeta, UiError> {
    let fail = idb("reading the sync state");
    let db = open(user).await?;
    let tx = db
        .transaction(&[META], TransactionMode::ReadOnly)
        .map_err(&fail)?;
    read_meta(&tx).await
}

/// A record write that goes with a mutation.
enum Write<'a> {
    PutDomain(&'a DomainRecord),
    AddDraft(&'a DraftRecord),
    DeleteDraft(Uuid),
}

/// Writes a record change and the mutation that describes it, numbered from [`SyncMeta`], in
/// one transaction: all or nothing. With `settles`, the proposal of that domain is deleted in
/// the same transaction (a draft accepted from it); with `answers`, that queued request (a
/// draft it brought).
async fn record(
    user: Uuid,
    write: Write<'_>,
    mutation: Mutation,
    settles: Option<Uuid>,
    answers: Option<Uuid>,
) -> Result<(), UiError> {
    let what = match &write {
        Write::PutDomain(_) => "saving a domain",
        Write::AddDraft(_) => "saving a draft",
        Write::DeleteDraft(_) => "deleting a draft",
    };
    let fail = idb(what);
    let db = open(user).await?;
    let mut stores = vec![META, MUTATIONS];
    stores.push(match write {
        Write::PutDomain(_) => DOMAINS,
        Write::AddDraft(_) | Write::DeleteDraft(_) => DRAFTS,
    });
    if settles.is_some() {
        stores.push(PROPOSALS);
    }
    if answers.is_some() {
        stores.push(QUEUE);
    }
    let tx = db
        .transaction(&stores, TransactionMode::ReadWrite)
        .map_err(&fail)?;
    let written = async {
        if let Some(request) = answers {
            take_queued(&tx, request).await?;
        }
        let mut meta = read_meta(&tx).await?;
        match write {
            Write::PutDomain(domain) => {
                tx.store(DOMAINS)
                    .map_err(&fail)?
                    .put(&to_js(domain)?, None)
                    .await
                    .map_err(&fail)?;
            }
            // `add` refuses an existing key: drafts are immutable.
            Write::AddDraft(draft) => {
                tx.store(DRAFTS)
                    .map_err(&fail)?
                    .add(&to_js(draft)?, None)
                    .await
                    .map_err(&fail)?;
            }
            Write::DeleteDraft(id) => {
                tx.store(DRAFTS)
                    .map_err(&fail)?
                    .delete(key(id))
                    .await
                    .map_err(&fail)?;
            }
        }
        let entry = MutationRecord {
            id: meta.next_mutation_id,
            mutation,
        };
        tx.store(MUTATIONS)
            .map_err(&fail)?
            .add(&to_js(&entry)?, None)
            .await
            .map_err(&fail)?;
        meta.next_mutation_id += 1;
        write_meta(&tx, &meta).await?;
        if let Some(domain) = settles {
            tx.store(PROPOSALS)
                .map_err(&fail)?
                .delete(key(domain))
                .await
                .map_err(&fail)?;
        }
        Ok(())
    }
    .await;
    all_or_nothing(tx, written, what).await
}

/// Waits until `tx` has finished. Committed is success; aborted by the browser is not,
/// although no request failed: a disk that fills up shows this way, when the transaction
/// commits. Nothing of an aborted transaction was written.
async fn commit(tx: rexie::Transaction, what: &str) -> Result<(), UiError> {
    match tx.done().await {
        Ok(rexie::TransactionResult::Committed) => Ok(()),
        Ok(rexie::TransactionResult::Aborted) => Err(UiError::new(
            "CLIENT_NOT_SAVED",
            format!("{what} failed: the browser gave the change up as it was being written, so nothing of it was saved (a full disk is the usual cause): free some space and try again"),
        )),
        Err(e) => Err(storage_error(what, &format!("{e:?}"))),
    }
}

/// Commits `tx` if everything in it was `written`, and aborts it otherwise. A failed IndexedDB
/// request aborts its transaction by itself, but a failure of ours between requests (a record
/// that does not encode, a step that finds the state changed) would not: a transaction that is
/// merely dropped commits what it holds, half a change.
async fn all_or_nothing(
    tx: rexie::Transaction,
    written: Result<(), UiError>,
    what: &str,
) -> Result<(), UiError> {
    match written {
        Ok(()) => commit(tx, what).await,
        Err(e) => {
            // Already aborted if a request failed: then this one has nothing to do.
            let _ = tx.abort().await;
            Err(e)
        }
    }
}

/// Saves a new domain and queues it for sync.
pub async fn create_domain(user: Uuid, domain: &DomainRecord) -> Result<(), UiError> {
    let mutation = Mutation::CreateDomain {
        domain: domain.clone(),
    };
    // The server's checks, here first: a domain it would refuse never reaches the outbox.
    model::sync::apply_domain(None, &mutation, model::sync::Conflicts::Ignore)
        .map_err(|r| UiError::new(r.code, r.message))?;
    record(user, Write::PutDomain(domain), mutation, None, None).await
}

/// Applies a domain mutation (edit, delete, restore, dismiss) to the local domain and queues
/// it. Returns the domain as it now is.
pub async fn change_domain(user: Uuid, mutation: Mutation) -> Result<DomainRecord, UiError> {
    let Target::Domain(id) = mutation.target() else {
        return Err(UiError::browser("changing a domain", "not a domain change"));
    };
    let current = domain(user, id)
        .await?
        .ok_or_else(|| UiError::new("CLIENT_NOT_FOUND", "this domain is not in this browser"))?;
    let next = model::sync::apply_domain(Some(&current), &mutation, model::sync::Conflicts::Ignore)
        .map_err(|r| UiError::new(r.code, r.message))?;
    record(user, Write::PutDomain(&next), mutation, None, None).await?;
    Ok(next)
}

/// Sets one field of a domain; nothing is queued when the value does not change.
pub async fn edit_domain(user: Uuid, id: Uuid, set: DomainEdit) -> Result<(), UiError> {
    let current = domain(user, id)
        .await?
        .ok_or_else(|| UiError::new("CLIENT_NOT_FOUND", "this domain is not in this browser"))?;
    let was = DomainEdit::read(&current, set.field());
    if was == set {
        return Ok(());
    }
    set.check().map_err(|r| UiError::new(r.code, r.message))?;
    change_domain(
        user,
        Mutation::EditDomain {
            domain_id: id,
            set,
            was,
            at: super::now_ms(),
        },
    )
    .await
    .map(|_| ())
}

/// Saves a new draft and queues it for sync. Adding a draft whose id exists fails: drafts
/// are immutable.
pub async fn save_draft(user: Uuid, draft: &DraftRecord) -> Result<(), UiError> {
    let mutation = Mutation::CreateDraft {
        draft: Box::new(draft.clone()),
    };
    record(user, Write::AddDraft(draft), mutation, None, None).await
}

/// Saves the draft that the queued request `request` brought and takes the request out of the
/// queue, in one transaction: the draft is saved once, and a request whose answer was saved
/// is never sent again. Fails (`CLIENT_QUEUE_GONE`) when the request is no longer queued.
pub async fn save_answered_draft(
    user: Uuid,
    draft: &DraftRecord,
    request: Uuid,
) -> Result<(), UiError> {
    let mutation = Mutation::CreateDraft {
        draft: Box::new(draft.clone()),
    };
    record(user, Write::AddDraft(draft), mutation, None, Some(request)).await
}

/// Saves the draft accepted from the domain's proposal and deletes that proposal, in one
/// transaction: a failure keeps the proposal, a success leaves no stale one behind.
pub async fn save_accepted_draft(user: Uuid, draft: &DraftRecord) -> Result<(), UiError> {
    let mutation = Mutation::CreateDraft {
        draft: Box::new(draft.clone()),
    };
    record(
        user,
        Write::AddDraft(draft),
        mutation,
        Some(draft.domain_id),
        None,
    )
    .await
}

/// Deletes a draft here and queues its deletion.
pub async fn delete_draft(user: Uuid, draft: &DraftRecord) -> Result<(), UiError> {
    let mutation = Mutation::DeleteDraft {
        domain_id: draft.domain_id,
        draft_id: draft.id,
    };
    record(user, Write::DeleteDraft(draft.id), mutation, None, None).await
}

/// Keeps the proposal under review for its domain, replacing an older one. With `answers`,
/// the queued request that brought it leaves the queue in the same transaction (and the
/// proposal is not kept if that request is no longer queued: `CLIENT_QUEUE_GONE`).
pub async fn save_proposal(
    user: Uuid,
    proposal: &ProposalRecord,
    answers: Option<Uuid>,
) -> Result<(), UiError> {
    let fail = idb("keeping the proposal");
    let db = open(user).await?;
    let stores: &[&str] = if answers.is_some() {
        &[PROPOSALS, QUEUE]
    } else {
        &[PROPOSALS]
    };
    let tx = db
        .transaction(stores, TransactionMode::ReadWrite)
        .map_err(&fail)?;
    let written = async {
        if let Some(request) = answers {
            take_queued(&tx, request).await?;
        }
        tx.store(PROPOSALS)
            .map_err(&fail)?
            .put(&to_js(proposal)?, None)
            .await
            .map_err(&fail)?;
        Ok(())
    }
    .await;
    all_or_nothing(tx, written, "keeping the proposal").await
}

/// Deletes the queued request `id` inside `tx`, first thing in it. If it is not there any
/// more (another tab saved its answer, or the user cancelled it) this fails
/// (`CLIENT_QUEUE_GONE`) before anything is written, and [`all_or_nothing`] aborts the
/// transaction: the answer is not saved a second time.
async fn take_queued(tx: &rexie::Transaction, id: Uuid) -> Result<(), UiError> {
    let fail = idb("taking the request out of the queue");
    let queue = tx.store(QUEUE).map_err(&fail)?;
    if queue.get(key(id)).await.map_err(&fail)?.is_none() {
        return Err(UiError::new(
            "CLIENT_QUEUE_GONE",
            "this request is no longer queued (cancelled, or answered in another tab): its answer was not saved again",
        ));
    }
    queue.delete(key(id)).await.map_err(&fail)?;
    Ok(())
}

/// The refusal of a second queued request for one domain.
pub fn queue_busy() -> UiError {
    UiError::new(
        "CLIENT_QUEUE_BUSY",
        "a request for this domain is already queued: wait for it, or cancel it first",
    )
}

/// Queues `request`. A domain has at most one queued draft request: a second one is refused
/// (`CLIENT_QUEUE_BUSY`), in the same transaction that checks, so two tabs cannot both add one.
pub async fn queue_request(user: Uuid, request: &QueuedRequest) -> Result<(), UiError> {
    let fail = idb("queuing the request");
    let db = open(user).await?;
    let tx = db
        .transaction(&[QUEUE], TransactionMode::ReadWrite)
        .map_err(&fail)?;
    let queue = tx.store(QUEUE).map_err(&fail)?;
    let index = queue.index("domain_id").map_err(&fail)?;
    let range = KeyRange::only(&key(request.domain_id)).map_err(idb("queuing the request"))?;
    if index.count(Some(range)).await.map_err(&fail)? > 0 {
        return Err(queue_busy());
    }
    queue.add(&to_js(request)?, None).await.map_err(&fail)?;
    commit(tx, "queuing the request").await?;
    Ok(())
}

/// The queued requests of `domain`, oldest first; of every domain with `None`.
pub async fn queued(user: Uuid, domain: Option<Uuid>) -> Result<Vec<QueuedRequest>, UiError> {
    let fail = idb("reading the queued requests");
    let db = open(user).await?;
    let tx = db
        .transaction(&[QUEUE], TransactionMode::ReadOnly)
        .map_err(&fail)?;
    let queue = tx.store(QUEUE).map_err(&fail)?;
    let values = match domain {
        Some(domain) => {
            let range = KeyRange::only(&key(domain)).map_err(idb("reading the queued requests"))?;
            queue
                .index("domain_id")
                .map_err(&fail)?
                .get_all(Some(range), None)
                .await
        }
        None => queue.get_all(None, None).await,
    }
    .map_err(&fail)?;
    let mut out = values
        .into_iter()
        .map(from_js)
        .collect::<Result<Vec<QueuedRequest>, _>>()?;
    out.sort_by_key(|r| (r.queued_at, r.id));
    Ok(out)
}

/// Records why sending the queued request `id` failed (it then waits for the user), or with
/// `None` that it may go out by itself again. Nothing happens if it is not queued any more.
pub async fn set_queued_failure(
    user: Uuid,
    id: Uuid,
    error: Option<&UiError>,
) -> Result<(), UiError> {
    let fail = idb("recording why the queued request failed");
    let db = open(user).await?;
    let tx = db
        .transaction(&[QUEUE], TransactionMode::ReadWrite)
        .map_err(&fail)?;
    let queue = tx.store(QUEUE).map_err(&fail)?;
    if let Some(value) = queue.get(key(id)).await.map_err(&fail)? {
        let mut request: QueuedRequest = from_js(value)?;
        request.failed = error.cloned();
        queue.put(&to_js(&request)?, None).await.map_err(&fail)?;
    }
    commit(tx, "recording why the queued request failed").await?;
    Ok(())
}

/// Takes the queued request `id` out of the queue without an answer (the user cancelled it).
pub async fn cancel_queued(user: Uuid, id: Uuid) -> Result<(), UiError> {
    let fail = idb("cancelling the queued request");
    let db = open(user).await?;
    let tx = db
        .transaction(&[QUEUE], TransactionMode::ReadWrite)
        .map_err(&fail)?;
    tx.store(QUEUE)
        .map_err(&fail)?
        .delete(key(id))
        .await
        .map_err(&fail)?;
    commit(tx, "cancelling the queued request").await?;
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
    commit(tx, "discarding the proposal").await?;
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
            None,
        )
        .await?;
    }
    let _ = store.remove_item(&key);
    Ok(true)
}

/// All domains of the user (those in the trash too), newest first.
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

/// The drafts of one domain, by number (forks of one number by id, as their letters go).
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
    out.sort_by_key(|d| (d.number, d.id));
    Ok(out)
}

/// The pending mutations in id order.
pub async fn pending(user: Uuid) -> Result<Vec<(u64, Mutation)>, UiError> {
    let fail = idb("reading the changes to sync");
    let db = open(user).await?;
    let tx = db
        .transaction(&[MUTATIONS], TransactionMode::ReadOnly)
        .map_err(&fail)?;
    tx.store(MUTATIONS)
        .map_err(&fail)?
        .get_all(None, None)
        .await
        .map_err(&fail)?
        .into_iter()
        .map(|v| from_js::<MutationRecord>(v).map(|r| (r.id, r.mutation)))
        .collect()
}

/// How many mutations wait to be pushed.
pub async fn pending_count(user: Uuid) -> Result<usize, UiError> {
    let fail = idb("counting the changes to sync");
    let db = open(user).await?;
    let tx = db
        .transaction(&[MUTATIONS], TransactionMode::ReadOnly)
        .map_err(&fail)?;
    let n = tx
        .store(MUTATIONS)
        .map_err(&fail)?
        .count(None)
        .await
        .map_err(&fail)?;
    Ok(n as usize)
}

/// A short description of a mutation for the list of refused changes.
fn describe(mutation: &Mutation) -> String {
    match mutation {
        Mutation::CreateDomain { domain } => format!("new domain “{}”", domain.name),
        Mutation::EditDomain { set, .. } => format!("a domain's {}", set.label()),
        Mutation::DeleteDomain { .. } => "deleting a domain".into(),
        Mutation::RestoreDomain { .. } => "restoring a domain".into(),
        Mutation::DismissOverwritten { .. } => "dismissing an overwritten value".into(),
        Mutation::PutNote { note, .. } => format!("the change note “{}”", note.text),
        Mutation::RecordExport { record, .. } => {
            format!("the record of an export ({})", record.format)
        }
        Mutation::PlaceEntities { reset: true, .. } => "arranging a diagram again".into(),
        Mutation::PlaceEntities { set, .. } => match set.0.len() {
            1 => "moving a table in the diagram".into(),
            n => format!("placing {n} tables in the diagram"),
        },
        Mutation::CreateDraft { draft } => format!("new draft {}", draft.number),
        Mutation::DeleteDraft { .. } => "deleting a draft".into(),
    }
}

/// Removes the mutations the server has applied (ids up to `last`) and remembers those it
/// refused, with what they were.
async fn acknowledge_in(
    tx: &rexie::Transaction,
    last: u64,
    rejected: &[Rejected],
    meta: &mut SyncMeta,
) -> Result<(), UiError> {
    let fail = idb("recording what the server applied");
    let mutations = tx.store(MUTATIONS).map_err(&fail)?;
    for refusal in rejected {
        if let Some(value) = mutations
            .get(number(refusal.mutation_id))
            .await
            .map_err(&fail)?
        {
            let record: MutationRecord = from_js(value)?;
            meta.refused.push(RefusedChange {
                mutation_id: refusal.mutation_id,
                what: describe(&record.mutation),
                code: refusal.code.clone(),
                message: refusal.message.clone(),
            });
        }
    }
    let extra = meta.refused.len().saturating_sub(REJECTED_KEPT);
    meta.refused.drain(..extra);
    if last > 0 {
        let range = KeyRange::bound(&number(0), &number(last), Some(false), Some(false))
            .map_err(idb("recording what the server applied"))?;
        for done in mutations
            .get_all_keys(Some(range), None)
            .await
            .map_err(&fail)?
        {
            mutations.delete(done).await.map_err(&fail)?;
        }
    }
    Ok(())
}

async fn read_meta(tx: &rexie::Transaction) -> Result<SyncMeta, UiError> {
    let fail = idb("reading the sync state");
    tx.store(META)
        .map_err(&fail)?
        .get(JsValue::from_str(SYNC_KEY))
        .await
        .map_err(&fail)?
        .map(from_js)
        .transpose()?
        .ok_or_else(|| UiError::browser("reading the sync state", "no sync record"))
}

async fn write_meta(tx: &rexie::Transaction, meta: &SyncMeta) -> Result<(), UiError> {
    tx.store(META)
        .map_err(idb("saving the sync state"))?
        .put(&to_js(meta)?, Some(&JsValue::from_str(SYNC_KEY)))
        .await
        .map_err(idb("saving the sync state"))?;
    Ok(())
}

/// Records a push's answer: applied mutations leave the queue, refused ones are remembered.
pub async fn acknowledge(user: Uuid, result: &SyncPushResult) -> Result<(), UiError> {
    let fail = idb("recording what the server applied");
    let db = open(user).await?;
    let tx = db
        .transaction(&[META, MUTATIONS], TransactionMode::ReadWrite)
        .map_err(&fail)?;
    let mut meta = read_meta(&tx).await?;
    acknowledge_in(&tx, result.last_mutation_id, &result.rejected, &mut meta).await?;
    write_meta(&tx, &meta).await?;
    commit(tx, "recording what the server applied").await?;
    Ok(())
}

/// Takes in what a pull brought, in one transaction: acknowledged mutations leave the queue;
/// each changed domain becomes the server's copy with the pending mutations re-applied; new
/// drafts are added unless a pending deletion names them; deleted drafts go; the pulled
/// version is recorded. Returns how many records changed here.
pub async fn apply_pull(user: Uuid, pulled: &SyncPull) -> Result<usize, UiError> {
    let fail = idb("merging synced data");
    let db = open(user).await?;
    let tx = db
        .transaction(
            &[META, MUTATIONS, DOMAINS, DRAFTS],
            TransactionMode::ReadWrite,
        )
        .map_err(&fail)?;
    let mut meta = read_meta(&tx).await?;
    acknowledge_in(&tx, pulled.last_mutation_id, &[], &mut meta).await?;
    let pending: Vec<Mutation> = tx
        .store(MUTATIONS)
        .map_err(&fail)?
        .get_all(None, None)
        .await
        .map_err(&fail)?
        .into_iter()
        .map(|v| from_js::<MutationRecord>(v).map(|r| r.mutation))
        .collect::<Result<_, _>>()?;
    let mut by_domain: BTreeMap<Uuid, Vec<&Mutation>> = BTreeMap::new();
    let mut deleting = std::collections::BTreeSet::new();
    for mutation in &pending {
        match mutation.target() {
            Target::Domain(id) => by_domain.entry(id).or_default().push(mutation),
            Target::Draft { draft_id, .. } => {
                if matches!(mutation, Mutation::DeleteDraft { .. }) {
                    deleting.insert(draft_id);
                }
            }
        }
    }
    let domains = tx.store(DOMAINS).map_err(&fail)?;
    let drafts = tx.store(DRAFTS).map_err(&fail)?;
    let mut changed = 0;
    for server in &pulled.domains {
        let pending = by_domain.get(&server.id).map(Vec::as_slice).unwrap_or(&[]);
        if let Some(view) = rebase_domain(Some(server), pending.iter().copied()) {
            let value = to_js(&view)?;
            let local: Option<DomainRecord> = domains
                .get(key(view.id))
                .await
                .map_err(&fail)?
                .map(from_js)
                .transpose()?;
            if local.as_ref() != Some(&view) {
                domains.put(&value, None).await.map_err(&fail)?;
                changed += 1;
            }
        }
    }
    for draft in &pulled.drafts {
        if deleting.contains(&draft.id) || drafts.key_exists(key(draft.id)).await.map_err(&fail)? {
            continue;
        }
        drafts.add(&to_js(draft)?, None).await.map_err(&fail)?;
        changed += 1;
    }
    for id in &pulled.deleted_drafts {
        let id = key(*id);
        if drafts.key_exists(id.clone()).await.map_err(&fail)? {
            drafts.delete(id).await.map_err(&fail)?;
            changed += 1;
        }
    }
    meta.version = pulled.version;
    write_meta(&tx, &meta).await?;
    commit(tx, "merging synced data").await?;
    Ok(changed)
}

/// The key of the kept provider list in `meta`.
const PROVIDERS_KEY: &str = "providers";

/// Keeps the user's provider list (names, kinds, models; keys are never in it, only their
/// masked hint) for an offline start: the generation form can then show the providers and say
/// that drafting needs the server, instead of asking to add one.
pub async fn keep_providers(user: Uuid, providers: &[ProviderInfo]) -> Result<(), UiError> {
    let fail = idb("keeping the provider list");
    let db = open(user).await?;
    let tx = db
        .transaction(&[META], TransactionMode::ReadWrite)
        .map_err(&fail)?;
    tx.store(META)
        .map_err(&fail)?
        .put(&to_js(&providers)?, Some(&JsValue::from_str(PROVIDERS_KEY)))
        .await
        .map_err(&fail)?;
    commit(tx, "keeping the provider list").await?;
    Ok(())
}

/// The provider list kept by [`keep_providers`], if any.
pub async fn kept_providers(user: Uuid) -> Result<Option<Vec<ProviderInfo>>, UiError> {
    let fail = idb("reading the kept provider list");
    let db = open(user).await?;
    let tx = db
        .transaction(&[META], TransactionMode::ReadOnly)
        .map_err(&fail)?;
    tx.store(META)
        .map_err(&fail)?
        .get(JsValue::from_str(PROVIDERS_KEY))
        .await
        .map_err(&fail)?
        .map(from_js)
        .transpose()
}

/// Forgets the list of refused changes (the user has read it).
pub async fn clear_refused(user: Uuid) -> Result<(), UiError> {
    let fail = idb("clearing the refused changes");
    let db = open(user).await?;
    let tx = db
        .transaction(&[META], TransactionMode::ReadWrite)
        .map_err(&fail)?;
    let mut meta = read_meta(&tx).await?;
    meta.refused.clear();
    write_meta(&tx, &meta).await?;
    commit(tx, "clearing the refused changes").await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full quota says so, with its own code; other failures keep the browser's words.
    #[test]
    fn a_full_quota_is_its_own_error() {
        let full = storage_error(
            "saving the draft",
            r#"Error(DomException { name: "QuotaExceededError" })"#,
        );
        assert_eq!(full.code, "CLIENT_QUOTA");
        assert!(full
            .message
            .starts_with("saving the draft failed: this browser has no room left"));
        assert!(full.message.contains("nothing of this change was saved"));
        let other = storage_error("saving the draft", "TransactionInactiveError");
        assert_eq!(other.code, "CLIENT_BROWSER");
        assert!(other.message.contains("TransactionInactiveError"));
    }

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
                notes: vec![],
                parameters: Default::default(),
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

    /// The stored shape of a queued request is a contract with every browser that kept one.
    #[test]
    fn queued_request_shape_is_frozen() {
        let record = QueuedRequest {
            id: Uuid::from_u128(3),
            domain_id: Uuid::from_u128(1),
            parent_id: Some(Uuid::from_u128(2)),
            provider_id: Uuid::from_u128(4),
            provider: "fake".into(),
            model: "fake-model".into(),
            instruction: "add an audit log".into(),
            notes: vec![ChangeNote {
                id: "n1".into(),
                text: "orders need a soft delete".into(),
            }],
            request: ChatRequest {
                model: None,
                messages: vec![model::wire::ChatMessage::user("hello")],
                stream: true,
                temperature: Some(0.5),
                response_format: Some(serde_json::json!({ "type": "json_object" })),
                stream_options: None,
            },
            prompt_hash: "abc".into(),
            queued_at: 1_795_333_530_000,
            failed: Some(UiError::new("AI_UPSTREAM", "the provider failed")),
        };
        let json = serde_json::to_value(&record).expect("a queued request serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "id": "00000000-0000-0000-0000-000000000003",
                "domain_id": "00000000-0000-0000-0000-000000000001",
                "parent_id": "00000000-0000-0000-0000-000000000002",
                "provider_id": "00000000-0000-0000-0000-000000000004",
                "provider": "fake",
                "model": "fake-model",
                "instruction": "add an audit log",
                "notes": [{ "id": "n1", "text": "orders need a soft delete" }],
                "request": {
                    "messages": [{ "role": "user", "content": "hello" }],
                    "stream": true,
                    "temperature": 0.5,
                    "response_format": { "type": "json_object" },
                },
                "prompt_hash": "abc",
                "queued_at": 1_795_333_530_000_i64,
                "failed": { "code": "AI_UPSTREAM", "message": "the provider failed" },
            })
        );
        let back: QueuedRequest = serde_json::from_value(json).expect("and reads back");
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
