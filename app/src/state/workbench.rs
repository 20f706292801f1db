//! The workbench of one domain: the workflow behind the domain page.
//!
//! Terms:
//! - the *drafts* of a domain are read from IndexedDB, again after every sync attempt, so what
//!   another device saved appears on an open page;
//! - a *generation* is one LLM call: the prompt is assembled with `model::prompt` from the domain
//!   and its latest draft, the answer streams in through `browser::llm`, and the core parses it.
//!   The first draft of a domain is a whole model, validated and saved; a later one is a change
//!   set, which becomes the *proposal*;
//! - the *proposal* is the change set under review, kept in IndexedDB (`browser::storage`) until
//!   the user accepts a selection of it (which becomes the next draft) or discards it;
//! - an *import* turns SQL DDL or a JSON model into the next draft;
//! - the *selection* is what the page shows (a draft, its export panel, a review pair, the import
//!   panel); the URL decides it, the child route reports it here.
//!
//! Every new draft, whatever made it, comes from [`next_draft`], and every write goes through
//! `browser::storage`, saved locally (with its outbox entry) before any sync is attempted. Pages
//! render these signals and call these methods; they hold no workflow of their own.

use super::{ProviderList, Workspace};
use crate::browser::storage::QueuedRequest;
use crate::browser::{self, llm, storage, UiError};
use leptos::prelude::*;
use leptos::task::spawn_local;
use model::prompt::{build_messages, prompt_hash, PromptInput, DEFAULT_BUDGET_TOKENS};
use model::sync::{draft_labels, DomainEdit, Mutation, Overwritten};
use model::wire::{ChatRequest, DomainRecord, DraftRecord, Provenance, ProviderInfo};
use model::{parse_change_set, parse_model, validate, Conventions, Model, Problem, ProposedChange};
use uuid::Uuid;

/// How many characters of a streaming answer the progress view shows.
const TAIL_CHARS: usize = 600;

/// Where the current generation stands.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Generation {
    #[default]
    Idle,
    Running {
        received: usize,
        tail: String,
    },
    /// The call or the parse failed; the raw answer (if any) stays visible.
    Failed {
        error: UiError,
        raw: String,
    },
    /// The answer parsed but the model has problems; nothing was saved.
    Invalid {
        problems: Vec<Problem>,
        raw: String,
    },
    /// A new draft was saved (generated, accepted or imported).
    Saved {
        number: u32,
    },
    /// A change set arrived and waits for review.
    Proposed {
        changes: usize,
    },
}

/// A parsed change set waiting for review, with the draft it applies to.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    pub parent: DraftRecord,
    pub changes: Vec<ProposedChange>,
    /// Provenance of the LLM call; `accepted`/`proposed` are filled in on acceptance.
    pub provenance: Provenance,
}

/// What the user accepted from a proposal: the resulting model and the provenance to record,
/// the change notes the accepted changes answer (their cite ids: resolved by the new draft),
/// and the changes left out that become notes ("rejected: …"), if the user keeps them.
#[derive(Clone, Debug, PartialEq)]
pub struct Acceptance {
    pub model: Model,
    pub provenance: Provenance,
    pub answered: Vec<String>,
    pub rejected: Vec<String>,
}

/// The sampling temperature of every generation: low, for models that follow the schema.
pub const TEMPERATURE: f32 = 0.2;

/// What saving a new draft settles besides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Settles {
    Nothing,
    /// The domain's kept proposal (the draft was accepted from it).
    Proposal,
    /// The queued request that brought the draft.
    Queued(Uuid),
}

/// What a run again takes from the draft it repeats.
struct Rerun {
    parent: Option<DraftRecord>,
    notes: Vec<model::prompt::ChangeNote>,
}

/// The messages for `domain` on top of `latest` with `instruction` and exactly `notes`.
pub fn prompt_with(
    domain: &DomainRecord,
    latest: Option<&DraftRecord>,
    instruction: &str,
    notes: &[model::prompt::ChangeNote],
) -> Vec<model::wire::ChatMessage> {
    build_messages(&PromptInput {
        domain_name: &domain.name,
        domain_description: &domain.description,
        conventions: &domain.conventions,
        latest: latest.map(|d| &d.model),
        notes,
        instruction,
        template: None,
        budget_tokens: DEFAULT_BUDGET_TOKENS,
    })
}

/// The messages a generation sends for `domain`, on top of `latest`, with `instruction`, and
/// the notes they carry: what "Generate" sends and what the preview shows.
pub fn prompt_for(
    domain: &DomainRecord,
    latest: Option<&DraftRecord>,
    instruction: &str,
) -> (
    Vec<model::wire::ChatMessage>,
    Vec<model::prompt::ChangeNote>,
) {
    let notes = prompt_notes(&domain.notes);
    let messages = prompt_with(domain, latest, instruction, &notes);
    (messages, notes)
}

/// The open change notes of a domain as a prompt carries them, oldest first.
pub fn prompt_notes(notes: &[model::wire::Note]) -> Vec<model::prompt::ChangeNote> {
    let mut open: Vec<&model::wire::Note> = notes.iter().filter(|n| n.is_open()).collect();
    open.sort_by_key(|n| n.created_at);
    open.into_iter()
        .map(|n| model::prompt::ChangeNote {
            id: n.cite_id(),
            text: n.text.clone(),
        })
        .collect()
}

/// What an import hands over: the model and a one-line description of its source.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedDraft {
    pub model: Model,
    pub source: String,
}

/// How far the page can trust what it read from IndexedDB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Loaded {
    /// Nothing read yet.
    #[default]
    No,
    /// Read before any sync attempt of this page load finished: what is missing may still come.
    Local,
    /// Read after a sync attempt finished (successfully or not): what is missing is not there.
    Settled,
}

/// What the domain page shows, as its URL says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Selection {
    /// The latest draft, following new ones as they arrive (`/domains/{id}`).
    #[default]
    Latest,
    /// One draft (`/domains/{id}/drafts/{n}`).
    Draft(DraftRef),
    /// One draft with its export panel (`/domains/{id}/drafts/{n}/export`).
    Export(DraftRef),
    /// Two drafts compared (`/domains/{id}/review/{a}..{b}`).
    Review(DraftRef, DraftRef),
    /// The import panel (`/domains/{id}/import`).
    Import,
    /// A URL that names no view (a bad number or pair).
    Invalid,
}

impl Selection {
    /// The URL that shows this selection in the domain `domain`.
    pub fn href(self, domain: Uuid) -> String {
        match self {
            Selection::Latest | Selection::Invalid => format!("/domains/{domain}"),
            Selection::Draft(n) => format!("/domains/{domain}/drafts/{n}"),
            Selection::Export(n) => format!("/domains/{domain}/drafts/{n}/export"),
            Selection::Review(a, b) => format!("/domains/{domain}/review/{a}..{b}"),
            Selection::Import => format!("/domains/{domain}/import"),
        }
    }
}

/// A draft as URLs and tabs name it: its number, and a letter when drafts made on different
/// devices from the same parent share the number (forks: 4a, 4b; `model::sync::draft_labels`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DraftRef {
    pub number: u32,
    /// 0 for no letter, 1 for `a`, 2 for `b`…
    pub fork: u32,
}

impl DraftRef {
    /// A draft named by its number alone.
    pub const fn plain(number: u32) -> Self {
        DraftRef { number, fork: 0 }
    }

    /// How `draft` is named among `drafts`.
    pub fn of(draft: &DraftRecord, drafts: &[DraftRecord]) -> Self {
        let labels = draft_labels(drafts);
        labels
            .get(&draft.id)
            .and_then(|label| label.parse().ok())
            .unwrap_or(DraftRef::plain(draft.number))
    }

    /// The draft this names among `drafts`: a plain number names the only draft with it, or
    /// the first of its forks.
    pub fn find(self, drafts: &[DraftRecord]) -> Option<&DraftRecord> {
        let labels = draft_labels(drafts);
        let label = self.to_string();
        drafts
            .iter()
            .find(|d| labels.get(&d.id) == Some(&label))
            .or_else(|| {
                (self.fork == 0)
                    .then(|| drafts.iter().find(|d| d.number == self.number))
                    .flatten()
            })
    }
}

impl std::fmt::Display for DraftRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.number)?;
        let mut letters = Vec::new();
        let mut i = self.fork;
        while i > 0 {
            i -= 1;
            letters.push(char::from(b'a' + (i % 26) as u8));
            i /= 26;
        }
        letters.reverse();
        letters.into_iter().try_for_each(|c| write!(f, "{c}"))
    }
}

impl std::str::FromStr for DraftRef {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let digits = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, letters) = text.split_at(digits);
        if number.is_empty() || number.starts_with('0') || letters.len() > 3 {
            return Err(());
        }
        let number = number.parse::<u32>().map_err(|_| ())?;
        let mut fork = 0u32;
        for c in letters.chars() {
            if !c.is_ascii_lowercase() {
                return Err(());
            }
            fork = fork * 26 + (c as u32 - 'a' as u32 + 1);
        }
        Ok(DraftRef { number, fork })
    }
}

/// Why a URL names no view.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    #[error("`{0}` is not a draft number: use a whole number from 1, as in /drafts/2 (or 2b for a fork)")]
    BadNumber(String),
    #[error("`{0}` is not a pair of drafts: write the two draft numbers as `1..2`")]
    BadPair(String),
    #[error("this domain has no draft {0}: pick one of its drafts above")]
    NoDraft(DraftRef),
}

/// Reads a draft number (with its fork letter, if any) from a URL segment.
pub fn parse_draft_number(text: &str) -> Result<DraftRef, ViewError> {
    text.parse()
        .map_err(|()| ViewError::BadNumber(text.to_string()))
}

/// Reads a review pair `a..b` from a URL segment.
pub fn parse_pair(text: &str) -> Result<(DraftRef, DraftRef), ViewError> {
    let bad = || ViewError::BadPair(text.to_string());
    let (a, b) = text.split_once("..").ok_or_else(bad)?;
    match (parse_draft_number(a), parse_draft_number(b)) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        _ => Err(bad()),
    }
}

/// The pair a review opens with: the latest draft against its parent (or the draft before it).
pub fn default_pair(drafts: &[DraftRecord]) -> Option<(DraftRef, DraftRef)> {
    let latest = drafts.last()?;
    let from = latest
        .parent_id
        .and_then(|p| drafts.iter().find(|d| d.id == p))
        .or_else(|| drafts.iter().rev().nth(1))?;
    Some((DraftRef::of(from, drafts), DraftRef::of(latest, drafts)))
}

/// What makes a new draft: its model, where it came from, and the draft it builds on.
#[derive(Clone, Debug, PartialEq)]
pub struct DraftSource {
    pub model: Model,
    pub provenance: Provenance,
    pub parent: Option<Uuid>,
}

/// The number the next draft of a domain gets: the one after the highest it has.
pub fn next_number(existing: &[DraftRecord]) -> u32 {
    existing.iter().map(|d| d.number).max().unwrap_or(0) + 1
}

/// The one constructor of a domain's next draft, whether generated, accepted or imported: it
/// takes the number after the highest the domain has (so a draft that arrived by sync while a
/// proposal was under review is never numbered twice), records its parent and the time. The id
/// and the time are passed in, so tests fix them.
pub fn next_draft(
    domain_id: Uuid,
    existing: &[DraftRecord],
    source: DraftSource,
    id: Uuid,
    now_ms: i64,
) -> DraftRecord {
    DraftRecord {
        id,
        domain_id,
        number: next_number(existing),
        parent_id: source.parent,
        created_at: now_ms,
        provenance: source.provenance,
        model: source.model,
        made_on: None,
    }
}

/// The provenance of an imported draft.
pub fn import_provenance(source: String) -> Provenance {
    Provenance {
        source: "import".into(),
        provider: String::new(),
        model: String::new(),
        instruction: source,
        prompt_hash: String::new(),
        usage: None,
        accepted: vec![],
        proposed: 0,
        notes: vec![],
        parameters: Default::default(),
    }
}

/// The last characters of a streaming answer, for the progress view.
pub fn tail(so_far: &str) -> String {
    let start = so_far
        .char_indices()
        .rev()
        .nth(TAIL_CHARS - 1)
        .map_or(0, |(i, _)| i);
    so_far[start..].to_string()
}

/// The workbench signals of one domain, provided as context to its routes.
#[derive(Clone, Copy)]
pub struct Workbench {
    workspace: Workspace,
    pub domain_id: Uuid,
    pub domain: RwSignal<Option<DomainRecord>>,
    /// The domain's drafts, by number.
    pub drafts: RwSignal<Vec<DraftRecord>>,
    pub loaded: RwSignal<Loaded>,
    pub providers: RwSignal<Vec<ProviderInfo>>,
    /// The id of the provider chosen for the next generation.
    pub provider: RwSignal<String>,
    pub instruction: RwSignal<String>,
    pub generation: RwSignal<Generation>,
    pub proposal: RwSignal<Option<Proposal>>,
    /// The request queued while the server could not be reached, if any (one per domain).
    pub queued: RwSignal<Option<QueuedRequest>>,
    /// The queued request is being sent by another tab (it holds the request's lock).
    pub elsewhere: RwSignal<bool>,
    /// This tab is sending the queued request (set before the lock is taken).
    sending: StoredValue<bool>,
    /// The last failure outside a generation (loading, saving, the provider list).
    pub error: RwSignal<Option<UiError>>,
    pub selection: RwSignal<Selection>,
    abort: StoredValue<Option<web_sys::AbortController>, LocalStorage>,
    /// Shows a just-saved draft (the page navigates to its URL).
    show: StoredValue<Box<dyn Fn(DraftRef)>, LocalStorage>,
    /// Numbers the loads, so that a slow older load never overwrites a newer one.
    loads: StoredValue<u64>,
}

impl Workbench {
    /// Creates the workbench of `domain_id`, provides it as context, and keeps it following the
    /// workspace: the drafts are read again after every sync attempt, the providers after every
    /// successful round. `show` is called with the name of each draft saved here.
    pub fn provide(
        workspace: Workspace,
        domain_id: Uuid,
        show: impl Fn(DraftRef) + 'static,
    ) -> Self {
        let workbench = Workbench {
            workspace,
            domain_id,
            domain: RwSignal::new(None),
            drafts: RwSignal::new(Vec::new()),
            loaded: RwSignal::new(Loaded::No),
            providers: RwSignal::new(Vec::new()),
            provider: RwSignal::new(String::new()),
            instruction: RwSignal::new(String::new()),
            generation: RwSignal::new(Generation::Idle),
            proposal: RwSignal::new(None),
            queued: RwSignal::new(None),
            elsewhere: RwSignal::new(false),
            sending: StoredValue::new(false),
            error: RwSignal::new(None),
            selection: RwSignal::new(Selection::Latest),
            abort: StoredValue::new_local(None),
            show: StoredValue::new_local(Box::new(show)),
            loads: StoredValue::new(0),
        };
        provide_context(workbench);
        // The memos are read with `get`, not `track`: `track` subscribes to a memo without
        // running it, and a memo that never ran never subscribes to the sync signal, so the
        // effect would never run again. That is how the page used to miss every sync round.
        let finished = Memo::new(move |_| workspace.sync.with(|s| s.finished));
        Effect::new(move |_| {
            let _attempt = finished.get();
            workbench.reload();
        });
        let rounds = Memo::new(move |_| workspace.sync.with(|s| s.rounds));
        Effect::new(move |_| {
            let _round = rounds.get();
            workbench.reload_providers();
        });
        workbench
    }

    /// The workbench provided by the domain page.
    pub fn expect() -> Self {
        expect_context::<Workbench>()
    }

    /// Renames the domain and sets its description: each field that changed is one edit,
    /// saved here first (with its mutation), then synced. Device clocks order nothing: the
    /// server applies edits in the order it receives them, and keeps a value that an edit from
    /// another device replaced without having seen it.
    pub async fn edit_domain(
        self,
        name: String,
        description: String,
        conventions: Conventions,
    ) -> Result<(), UiError> {
        let user = self.workspace.require_user()?;
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(UiError::new("VAL_REQUIRED", "give the domain a name"));
        }
        let Some(current) = self.domain.get_untracked() else {
            return Err(UiError::new(
                "RES_NOT_FOUND",
                "this domain is not in this browser yet: wait for the sync, then edit it",
            ));
        };
        let conventions = Conventions {
            guidance: conventions.guidance.trim().to_string(),
            ..conventions
        };
        for set in [
            DomainEdit::Name(name),
            DomainEdit::Description(description.trim().to_string()),
            DomainEdit::Conventions(conventions),
        ] {
            set.check().map_err(|r| UiError::new(r.code, r.message))?;
            storage::edit_domain(user.id, current.id, set).await?;
        }
        self.domain.set(storage::domain(user.id, current.id).await?);
        self.workspace.reload_domains().await?;
        self.workspace.sync_now();
        Ok(())
    }

    /// Applies a domain change (restore an overwritten value, dismiss it, delete, restore the
    /// domain), saved here first, then synced.
    pub async fn change_domain(self, mutation: Mutation) -> Result<(), UiError> {
        self.change_domain_all(vec![mutation]).await
    }

    /// Applies several domain changes in order, each saved with its mutation, then shows the
    /// domain, reloads the list and syncs once.
    pub async fn change_domain_all(self, mutations: Vec<Mutation>) -> Result<(), UiError> {
        let user = self.workspace.require_user()?;
        let mut next = None;
        for mutation in mutations {
            next = Some(storage::change_domain(user.id, mutation).await?);
        }
        if next.is_none() {
            return Ok(());
        }
        self.domain.set(next);
        self.workspace.reload_domains().await?;
        self.workspace.sync_now();
        Ok(())
    }

    /// The domain's name, or "" while it loads.
    pub fn domain_name(self) -> String {
        self.domain
            .with_untracked(|d| d.as_ref().map(|d| d.name.clone()))
            .unwrap_or_default()
    }

    /// The domain's conventions, which drafts are validated against (the default ones until
    /// the domain is here).
    pub fn conventions(self) -> Conventions {
        self.domain
            .try_with_untracked(|d| d.as_ref().map(|d| d.conventions.clone()))
            .flatten()
            .unwrap_or_default()
    }

    /// The domain's diagram positions, changing only when they do.
    pub fn positions(self) -> Signal<model::diagram::Positions> {
        Memo::new(move |_| {
            self.domain
                .with(|d| d.as_ref().map(|d| d.positions.clone()).unwrap_or_default())
        })
        .into()
    }

    /// What a diagram calls to keep positions ([`Workbench::place`]); a failure shows on the
    /// page.
    pub fn place_callback(self) -> Callback<(model::diagram::Positions, bool)> {
        Callback::new(move |(set, reset)| {
            spawn_local(async move {
                if let Err(e) = self.place(set, reset).await {
                    self.error.try_set(Some(e));
                }
            });
        })
    }

    /// Keeps diagram positions for the domain (`reset`: forget the others first), locally and
    /// then synced. Nothing is written when every position is already kept as given.
    pub async fn place(self, set: model::diagram::Positions, reset: bool) -> Result<(), UiError> {
        let unchanged = !reset
            && self.domain.with_untracked(|d| {
                d.as_ref().is_some_and(|d| {
                    set.0
                        .iter()
                        .all(|(name, at)| d.positions.0.get(name) == Some(at))
                })
            });
        if unchanged {
            return Ok(());
        }
        self.change_domain(Mutation::PlaceEntities {
            domain_id: self.domain_id,
            set,
            reset,
        })
        .await
    }

    /// Puts an overwritten value back, and forgets it.
    pub async fn restore_overwritten(self, overwritten: Overwritten) -> Result<(), UiError> {
        let user = self.workspace.require_user()?;
        let Some(current) = self.domain.get_untracked() else {
            return Ok(());
        };
        storage::edit_domain(user.id, current.id, overwritten.value.clone()).await?;
        self.change_domain(Mutation::DismissOverwritten {
            domain_id: current.id,
            id: overwritten.id,
        })
        .await
    }

    /// Deletes a draft here, then syncs the deletion.
    pub async fn delete_draft(self, draft: DraftRecord) -> Result<(), UiError> {
        let user = self.workspace.require_user()?;
        storage::delete_draft(user.id, &draft).await?;
        let drafts = storage::drafts(user.id, draft.domain_id).await?;
        self.loads.try_update_value(|n| *n += 1);
        self.drafts.try_set(drafts);
        self.workspace.sync_now();
        Ok(())
    }

    /// The latest draft, if any.
    pub fn latest(self) -> Option<DraftRecord> {
        self.drafts.with(|l| l.last().cloned())
    }

    /// The draft `name` names, if the domain has it.
    pub fn draft(self, name: DraftRef) -> Option<DraftRecord> {
        self.drafts.with(|l| name.find(l).cloned())
    }

    /// Whether a generation is under way.
    pub fn running(self) -> bool {
        self.generation
            .with(|g| matches!(g, Generation::Running { .. }))
    }

    /// Reads the domain, its drafts and its kept proposal from IndexedDB.
    pub fn reload(self) {
        let Some(user) = self.workspace.user.get_untracked() else {
            return;
        };
        // Whether a sync attempt finished before this read began decides what a missing
        // domain or draft means: not yet synced, or not there.
        let settled = self.workspace.sync.with_untracked(|s| s.finished > 0);
        let Some(load) = self.loads.try_update_value(|n| {
            *n += 1;
            *n
        }) else {
            return;
        };
        let id = self.domain_id;
        spawn_local(async move {
            let result = async {
                storage::adopt_legacy_proposal(user.id, id).await?;
                let domain = storage::domain(user.id, id).await?;
                let drafts = storage::drafts(user.id, id).await?;
                let kept = storage::proposal(user.id, id).await?;
                let queued = storage::queued(user.id, Some(id)).await?;
                Ok::<_, UiError>((domain, drafts, kept, queued))
            }
            .await;
            if self.loads.try_get_value() != Some(load) {
                return;
            }
            match result {
                Ok((domain, drafts, kept, queued)) => {
                    // The kept proposal comes back once its parent draft is here.
                    let proposal = kept.and_then(|k| {
                        let parent = drafts.iter().find(|d| d.id == k.parent_id)?.clone();
                        Some(Proposal {
                            parent,
                            changes: k.changes,
                            provenance: k.provenance,
                        })
                    });
                    // Only accepting or discarding clears a proposal: one that could not be
                    // kept in IndexedDB stays on screen in this tab.
                    if proposal.is_some() && self.proposal.try_get_untracked().flatten() != proposal
                    {
                        self.proposal.try_set(proposal);
                    }
                    // Unchanged data is not set again, so that a sync round does not re-render
                    // the open view (and reset what the user picked in it).
                    if self.domain.try_with_untracked(|d| *d != domain) == Some(true) {
                        self.domain.try_set(domain);
                    }
                    if self.drafts.try_with_untracked(|l| *l != drafts) == Some(true) {
                        self.drafts.try_set(drafts);
                    }
                    let queued = queued.into_iter().next();
                    if self.queued.try_with_untracked(|q| *q != queued) == Some(true) {
                        self.queued.try_set(queued);
                    }
                    // Whether another tab is sending it is found out again below.
                    self.elsewhere.try_set(false);
                    // A round that reached the server has just ended: a queued request goes
                    // out now, while the user is here to watch it.
                    let reachable = self
                        .workspace
                        .sync
                        .with_untracked(|s| s.rounds > 0 && s.last_error.is_none());
                    if reachable {
                        self.send_queued(false);
                    }
                }
                Err(e) => {
                    self.error.try_set(Some(e));
                }
            }
            self.loaded.try_set(if settled {
                Loaded::Settled
            } else {
                Loaded::Local
            });
        });
    }

    /// Asks the server for the user's providers; a success clears a stale network error.
    pub fn reload_providers(self) {
        let Some(user) = self.workspace.user.get_untracked() else {
            return;
        };
        spawn_local(async move {
            match super::providers(user.id).await {
                Ok(ProviderList::Live(list)) => {
                    // Every sync round asks again: keep for offline starts only what changed
                    // since it was shown (an empty list always, so a list emptied elsewhere
                    // replaces the kept one).
                    let changed = self
                        .providers
                        .try_with_untracked(|shown| *shown != list || list.is_empty())
                        .unwrap_or(false);
                    if changed {
                        let _ = storage::keep_providers(user.id, &list).await;
                    }
                    let stale = self
                        .error
                        .try_with_untracked(|e| {
                            e.as_ref().is_some_and(|e| e.code == "CLIENT_NETWORK")
                        })
                        .unwrap_or(false);
                    if stale {
                        self.error.try_set(None);
                    }
                    self.set_providers(list);
                }
                // Offline, the kept list stands in until the server answers (drafting itself
                // then queues the request).
                Ok(ProviderList::Kept(list)) => {
                    if self
                        .providers
                        .try_with_untracked(Vec::is_empty)
                        .unwrap_or(false)
                    {
                        self.set_providers(list);
                    }
                }
                Err(e) => {
                    self.error.try_set(Some(e));
                }
            }
        });
    }

    /// Shows `list`, keeping the chosen provider if it is still in it.
    fn set_providers(self, list: Vec<ProviderInfo>) {
        let chosen = self.provider.try_get_untracked().unwrap_or_default();
        if !list.iter().any(|p| p.id.to_string() == chosen) {
            self.provider
                .try_set(list.first().map(|p| p.id.to_string()).unwrap_or_default());
        }
        self.providers.try_set(list);
    }

    /// Saves `draft` (with what it settles: the kept proposal it was accepted from, or the
    /// queued request that brought it), reloads, shows it, and syncs in the background. A
    /// failure leaves everything as it was, proposal and queue included.
    async fn save(
        self,
        user: Uuid,
        mut draft: DraftRecord,
        settles: Settles,
    ) -> Result<(), UiError> {
        draft.made_on = Some(crate::browser::device_label());
        match settles {
            Settles::Nothing => storage::save_draft(user, &draft).await?,
            Settles::Proposal => storage::save_accepted_draft(user, &draft).await?,
            Settles::Queued(id) => storage::save_answered_draft(user, &draft, id).await?,
        }
        let accepted = settles == Settles::Proposal;
        let drafts = storage::drafts(user, draft.domain_id).await?;
        // Any load in flight read the state before this save: ignore it.
        self.loads.try_update_value(|n| *n += 1);
        if accepted {
            self.proposal.try_set(None);
        }
        let name = DraftRef::of(&draft, &drafts);
        self.drafts.try_set(drafts);
        self.generation.try_set(Generation::Saved {
            number: draft.number,
        });
        self.show.try_with_value(|show| show(name));
        self.workspace.sync_now();
        Ok(())
    }

    /// Builds the next draft of this domain from `source`, against the drafts it has now.
    fn next(self, source: DraftSource) -> DraftRecord {
        // A first draft is built when its answer has streamed in, possibly after the user left
        // the page (the signals are gone then, and the draft is still saved).
        let existing = self.drafts.try_get_untracked().unwrap_or_default();
        next_draft(
            self.domain_id,
            &existing,
            source,
            browser::new_id(),
            browser::now_ms(),
        )
    }

    /// Runs a generation with the chosen provider and the current instruction, on top of the
    /// latest draft, with the open notes.
    pub fn generate(self) {
        self.generate_with(None);
    }

    /// Runs the generation that made `draft` again: the same parent, instruction, notes (as
    /// they were sent) and provider (by name, if it is still there). The answer is reviewed as
    /// any other; accepted, it becomes a new draft on top of that parent.
    pub fn run_again(self, draft: &DraftRecord) {
        let parent = draft.parent_id.and_then(|id| {
            self.drafts
                .with_untracked(|l| l.iter().find(|d| d.id == id).cloned())
        });
        if draft.parent_id.is_some() && parent.is_none() {
            self.error.set(Some(UiError::new(
                "RES_NOT_FOUND",
                "the draft it was made from is not here any more: it cannot be run again",
            )));
            return;
        }
        let provider = self.providers.with_untracked(|list| {
            list.iter()
                .find(|p| p.name == draft.provenance.provider && p.model == draft.provenance.model)
                .or_else(|| list.iter().find(|p| p.name == draft.provenance.provider))
                .map(|p| p.id.to_string())
        });
        match provider {
            Some(id) => self.provider.set(id),
            None => {
                self.error.set(Some(UiError::new(
                    "VAL_NO_PROVIDER",
                    format!(
                        "the provider “{}” is not in your settings any more: add it again, or generate with another",
                        draft.provenance.provider
                    ),
                )));
                return;
            }
        }
        self.instruction.set(draft.provenance.instruction.clone());
        self.generate_with(Some(Rerun {
            parent,
            notes: draft.provenance.notes.clone(),
        }));
    }

    fn generate_with(self, rerun: Option<Rerun>) {
        let Ok(user) = self.workspace.require_user() else {
            return;
        };
        let Some(domain) = self.domain.get_untracked() else {
            return;
        };
        if self.queued.with_untracked(Option::is_some) {
            self.error.set(Some(storage::queue_busy()));
            return;
        }
        let chosen_id = self.provider.get_untracked();
        let Some(chosen) = self
            .providers
            .get_untracked()
            .into_iter()
            .find(|p| p.id.to_string() == chosen_id)
        else {
            self.error.set(Some(UiError::new(
                "VAL_NO_PROVIDER",
                "add a provider under Settings first",
            )));
            return;
        };
        let parent = match &rerun {
            Some(r) => r.parent.clone(),
            None => self.latest_untracked(),
        };
        let text = self.instruction.get_untracked();
        if parent.is_some() && text.trim().is_empty() {
            self.error.set(Some(UiError::new(
                "VAL_INSTRUCTION_EMPTY",
                "say what the next draft should change, e.g. \"add an audit log\"",
            )));
            return;
        }
        let (messages, notes) = match rerun {
            Some(r) => (
                prompt_with(&domain, parent.as_ref(), &text, &r.notes),
                r.notes,
            ),
            None => prompt_for(&domain, parent.as_ref(), &text),
        };
        let call = QueuedRequest {
            id: browser::new_id(),
            domain_id: self.domain_id,
            parent_id: parent.as_ref().map(|p| p.id),
            provider_id: chosen.id,
            provider: chosen.name.clone(),
            model: chosen.model.clone(),
            instruction: text,
            notes,
            prompt_hash: prompt_hash(&messages),
            request: ChatRequest {
                model: None,
                messages,
                stream: true,
                temperature: Some(TEMPERATURE),
                response_format: Some(serde_json::json!({ "type": "json_object" })),
                stream_options: Some(serde_json::json!({ "include_usage": true })),
            },
            queued_at: browser::now_ms(),
            failed: None,
        };
        self.error.set(None);
        // With no network at all, there is nothing to try: the request waits in the queue.
        if !browser::online() {
            spawn_local(self.enqueue(user.id, call));
            return;
        }
        spawn_local(self.run(user.id, call, parent, false));
    }

    /// Keeps `call` in the queue, to be sent when the server can be reached with this domain
    /// open. The instruction leaves the form only once it is kept.
    async fn enqueue(self, user: Uuid, call: QueuedRequest) {
        match storage::queue_request(user, &call).await {
            Ok(()) => {
                // A load in flight read the queue before this request was in it.
                self.loads.try_update_value(|n| *n += 1);
                self.elsewhere.try_set(false);
                self.queued.try_set(Some(call));
                self.instruction.try_set(String::new());
                self.generation.try_set(Generation::Idle);
                self.workspace.reload_queued();
            }
            Err(error) => {
                self.generation.try_set(Generation::Failed {
                    error,
                    raw: String::new(),
                });
            }
        }
    }

    /// Sends `call` and streams its answer in; `parent` is the draft it applies to. A call
    /// made from the form that finds no server goes into the queue; a queued call that fails
    /// for another reason than the network stays queued with its error, for the user to send
    /// again or cancel; its answer is saved in the transaction that takes it out of the queue.
    async fn run(self, user: Uuid, call: QueuedRequest, parent: Option<DraftRecord>, queued: bool) {
        let controller = web_sys::AbortController::new().ok();
        let signal = controller.as_ref().map(|c| c.signal());
        self.abort.try_set_value(controller);
        self.generation.try_set(Generation::Running {
            received: 0,
            tail: String::new(),
        });
        let generation = self.generation;
        let streamed =
            llm::stream_chat(call.provider_id, &call.request, signal.as_ref(), |so_far| {
                generation.try_set(Generation::Running {
                    received: so_far.chars().count(),
                    tail: tail(so_far),
                });
            })
            .await;
        self.abort.try_set_value(None);
        let completion = match streamed {
            Ok(c) => c,
            // The server could not be reached: from the form, the request is queued; from the
            // queue, it stays there for the next time the server answers.
            Err(error) if error.code == "CLIENT_NETWORK" => {
                if queued {
                    // A request the user sent again after a failure goes out by itself from
                    // now on, like any other that found no server.
                    if call.failed.is_some() {
                        self.set_failure(user, call.id, None).await;
                    }
                    generation.try_set(Generation::Failed {
                        error: UiError::new(
                            "CLIENT_NETWORK",
                            "the server could not be reached: the request stays queued and goes out when it can",
                        ),
                        raw: String::new(),
                    });
                } else {
                    self.enqueue(user, call).await;
                }
                return;
            }
            // Cancelling a queued request's stream cancels the request, and its instruction
            // comes back to the form.
            Err(error) if error.code == "CLIENT_CANCELLED" && queued => {
                match storage::cancel_queued(user, call.id).await {
                    Ok(()) => self.dequeued(Some(call.instruction)),
                    Err(e) => {
                        self.error.try_set(Some(e));
                    }
                }
                generation.try_set(Generation::Failed {
                    error,
                    raw: String::new(),
                });
                return;
            }
            Err(error) => {
                if queued {
                    // The queued request's panel shows the error, with what to do next.
                    self.set_failure(user, call.id, Some(&error)).await;
                    generation.try_set(Generation::Idle);
                } else {
                    generation.try_set(Generation::Failed {
                        error,
                        raw: String::new(),
                    });
                }
                return;
            }
        };
        let provenance = Provenance {
            source: "llm".into(),
            provider: call.provider.clone(),
            model: call.model.clone(),
            instruction: call.instruction.clone(),
            prompt_hash: call.prompt_hash.clone(),
            usage: completion.usage,
            accepted: vec![],
            proposed: 0,
            notes: call.notes.clone(),
            parameters: [
                ("temperature".to_string(), TEMPERATURE.to_string()),
                ("response_format".to_string(), "json_object".to_string()),
            ]
            .into(),
        };
        let answers = queued.then_some(call.id);
        let outcome = match parent {
            Some(parent) => {
                self.propose(user, parent, &completion.text, provenance, answers)
                    .await
            }
            None => {
                self.first_draft(user, &completion.text, provenance, answers)
                    .await
            }
        };
        match outcome {
            Ok(()) => {
                if queued {
                    self.dequeued(None);
                }
            }
            // Answered in another tab, or cancelled, while this answer streamed in: it was
            // not saved again, and there is nothing left to show.
            Err(Generation::Failed { error, .. })
                if queued && error.code == "CLIENT_QUEUE_GONE" =>
            {
                self.dequeued(None);
                generation.try_set(Generation::Idle);
                self.error.try_set(Some(error));
                self.reload();
            }
            Err(failed) => {
                if queued {
                    let error = match &failed {
                        Generation::Failed { error, .. } => error.clone(),
                        Generation::Invalid { problems, .. } => UiError::new(
                            "VAL_MODEL_INVALID",
                            format!(
                                "the answer's model has {} problems, so nothing was saved: send the request again, or cancel it and refine the instruction",
                                problems.len()
                            ),
                        ),
                        _ => UiError::new("CLIENT_BROWSER", "the answer could not be saved"),
                    };
                    self.set_failure(user, call.id, Some(&error)).await;
                }
                generation.try_set(failed);
            }
        }
    }

    /// Records that sending the queued request `id` failed with `error` (it waits for the
    /// user), or with `None` that it may go out by itself again.
    async fn set_failure(self, user: Uuid, id: Uuid, error: Option<&UiError>) {
        if let Err(e) = storage::set_queued_failure(user, id, error).await {
            self.error.try_set(Some(e));
        }
        self.queued.try_update(|q| {
            if let Some(q) = q.as_mut().filter(|q| q.id == id) {
                q.failed = error.cloned();
            }
        });
    }

    /// The queued request left the queue (answered or cancelled): the page stops showing it,
    /// and `instruction`, if given, comes back to the form unless something else is there.
    fn dequeued(self, instruction: Option<String>) {
        // A load in flight read the queue while the request was still in it.
        self.loads.try_update_value(|n| *n += 1);
        self.queued.try_set(None);
        self.elsewhere.try_set(false);
        if let Some(text) = instruction {
            if self
                .instruction
                .try_with_untracked(|t| t.trim().is_empty())
                .unwrap_or(false)
            {
                self.instruction.try_set(text);
            }
        }
        self.workspace.reload_queued();
    }

    /// Sends the queued request of this domain, if there is one and nothing else runs: by
    /// itself (`manual` false) only when the tab is in view, the browser online and the
    /// request has not failed before, so that the user sees it stream in; asked by the user,
    /// whenever. A Web Lock per request keeps two tabs from sending it both.
    pub fn send_queued(self, manual: bool) {
        let Some(call) = self.queued.get_untracked() else {
            return;
        };
        if self.running() || self.sending.get_value() {
            return;
        }
        if !manual && (call.failed.is_some() || document().hidden() || !browser::online()) {
            return;
        }
        let Some(user) = self.workspace.user.get_untracked() else {
            return;
        };
        let parent = match call.parent_id {
            None => None,
            Some(id) => match self
                .drafts
                .with_untracked(|l| l.iter().find(|d| d.id == id).cloned())
            {
                Some(parent) => Some(parent),
                None => {
                    let error = UiError::new(
                        "RES_NOT_FOUND",
                        "the draft this request was made on is not here any more: cancel the request and generate again",
                    );
                    spawn_local(
                        async move { self.set_failure(user.id, call.id, Some(&error)).await },
                    );
                    return;
                }
            },
        };
        self.sending.set_value(true);
        self.elsewhere.set(false);
        spawn_local(async move {
            let lock = format!("dm-queued-{}", call.id);
            let id = call.id;
            let sent = browser::with_lock(&lock, async move {
                // Another tab may have answered or cancelled it before this one got the lock.
                match storage::queued(user.id, Some(self.domain_id)).await {
                    Ok(list) if list.iter().any(|r| r.id == id) => {
                        self.run(user.id, call, parent, true).await;
                    }
                    Ok(_) => {
                        self.dequeued(None);
                        self.reload();
                    }
                    Err(e) => {
                        self.error.try_set(Some(e));
                    }
                }
            })
            .await;
            self.sending.try_set_value(false);
            if sent.is_none() {
                self.elsewhere.try_set(true);
            }
        });
    }

    /// Cancels the queued request of this domain (while it is not being sent: its stream is
    /// cancelled with the form's Cancel, which cancels the request too).
    pub fn cancel_queued(self) {
        if self.running() {
            return;
        }
        let (Some(call), Some(user)) = (
            self.queued.get_untracked(),
            self.workspace.user.get_untracked(),
        ) else {
            return;
        };
        spawn_local(async move {
            match storage::cancel_queued(user.id, call.id).await {
                Ok(()) => {
                    self.dequeued(Some(call.instruction));
                    self.generation.try_set(Generation::Idle);
                }
                Err(e) => {
                    self.error.try_set(Some(e));
                }
            }
        });
    }

    /// A later draft's answer: a change set, kept as the proposal under review (in the
    /// transaction that takes `answers` out of the queue, for a queued request).
    async fn propose(
        self,
        user: Uuid,
        parent: DraftRecord,
        text: &str,
        provenance: Provenance,
        answers: Option<Uuid>,
    ) -> Result<(), Generation> {
        let set = parse_change_set(text).map_err(|e| Generation::Failed {
            error: UiError::new(e.code(), e.to_string()),
            raw: text.to_string(),
        })?;
        let record = storage::ProposalRecord {
            domain_id: self.domain_id,
            parent_id: parent.id,
            changes: set.changes.clone(),
            provenance: provenance.clone(),
            created_at: browser::now_ms(),
        };
        // Kept in IndexedDB first; if that fails the proposal is still shown, with the error,
        // so the answer can be reviewed and accepted in this tab. For a queued request the
        // save and its leaving the queue are one: a failure is the request's (it stays queued,
        // marked failed, so it is not sent again by itself), with the answer on screen raw.
        if let Err(error) = storage::save_proposal(user, &record, answers).await {
            if answers.is_some() {
                return Err(Generation::Failed {
                    error,
                    raw: text.to_string(),
                });
            }
            self.error.try_set(Some(error));
        }
        let changes = set.changes.len();
        self.loads.try_update_value(|n| *n += 1);
        self.proposal.try_set(Some(Proposal {
            parent,
            changes: set.changes,
            provenance,
        }));
        if answers.is_none() {
            self.instruction.try_set(String::new());
        }
        self.generation.try_set(Generation::Proposed { changes });
        Ok(())
    }

    /// A first draft's answer: a whole model, validated and saved as draft 1.
    async fn first_draft(
        self,
        user: Uuid,
        text: &str,
        provenance: Provenance,
        answers: Option<Uuid>,
    ) -> Result<(), Generation> {
        let model = parse_model(text).map_err(|e| Generation::Failed {
            error: UiError::new(e.code(), e.to_string()),
            raw: text.to_string(),
        })?;
        let problems = validate(&model, &self.conventions());
        if !problems.is_empty() {
            return Err(Generation::Invalid {
                problems,
                raw: text.to_string(),
            });
        }
        let draft = self.next(DraftSource {
            model,
            provenance,
            parent: None,
        });
        let settles = match answers {
            Some(id) => Settles::Queued(id),
            None => Settles::Nothing,
        };
        self.save(user, draft, settles)
            .await
            .map_err(|error| Generation::Failed {
                error,
                raw: text.to_string(),
            })?;
        if answers.is_none() {
            self.instruction.try_set(String::new());
        }
        Ok(())
    }

    /// Cancels the running generation.
    pub fn cancel(self) {
        self.abort.with_value(|c| {
            if let Some(c) = c {
                c.abort();
            }
        });
    }

    /// Saves what the user accepted from the proposal as the next draft.
    pub fn accept(self, accepted: Acceptance) {
        let Ok(user) = self.workspace.require_user() else {
            return;
        };
        let Some(proposal) = self.proposal.get_untracked() else {
            return;
        };
        let draft = self.next(DraftSource {
            model: accepted.model,
            provenance: accepted.provenance,
            parent: Some(proposal.parent.id),
        });
        let (answered, rejected) = (accepted.answered, accepted.rejected);
        spawn_local(async move {
            let id = draft.id;
            // On failure the proposal stays on screen and in IndexedDB: nothing is lost.
            if let Err(e) = self.save(user.id, draft, Settles::Proposal).await {
                self.error.try_set(Some(e));
                return;
            }
            if let Err(e) = self.settle_notes(id, &answered, &rejected).await {
                self.error.try_set(Some(e));
            }
        });
    }

    /// After draft `id` is saved: the notes it answers are resolved by it, and the changes
    /// left out become notes.
    async fn settle_notes(
        self,
        id: Uuid,
        answered: &[String],
        rejected: &[String],
    ) -> Result<(), UiError> {
        let now = browser::now_ms();
        let open: Vec<model::wire::Note> = self.domain.with_untracked(|d| {
            d.as_ref()
                .map(|d| d.notes.iter().filter(|n| n.is_open()).cloned().collect())
                .unwrap_or_default()
        });
        let resolved = open
            .into_iter()
            .filter(|n| {
                answered
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(&n.cite_id()))
            })
            .map(|n| model::wire::Note {
                resolved_at: Some(now),
                resolved_by: Some(id),
                ..n
            });
        let kept = rejected.iter().map(|text| model::wire::Note {
            id: browser::new_id(),
            text: format!("rejected: {text}"),
            draft_id: Some(id),
            created_at: now,
            resolved_at: None,
            resolved_by: None,
            kind: "rejected".into(),
        });
        let mutations = resolved
            .chain(kept)
            .map(|note| Mutation::PutNote {
                domain_id: self.domain_id,
                note,
            })
            .collect();
        self.change_domain_all(mutations).await
    }

    /// Keeps a record of an export made of draft `draft_id` (shown with the draft; synced).
    pub fn record_export(
        self,
        draft_id: Uuid,
        (format, file, bytes): crate::components::exports::ExportMade,
    ) {
        let record = model::wire::ExportRecord {
            draft_id,
            format,
            file,
            at: browser::now_ms(),
            bytes: bytes as u64,
            made_on: Some(browser::device_label()),
        };
        spawn_local(async move {
            let mutation = Mutation::RecordExport {
                domain_id: self.domain_id,
                record,
            };
            if let Err(e) = self.change_domain(mutation).await {
                self.error.try_set(Some(e));
            }
        });
    }

    /// Adds or replaces a change note of the domain, then syncs.
    pub async fn put_note(self, note: model::wire::Note) -> Result<(), UiError> {
        self.change_domain(Mutation::PutNote {
            domain_id: self.domain_id,
            note,
        })
        .await
    }

    /// Forgets the proposal, here and in IndexedDB.
    pub fn discard(self) {
        let Ok(user) = self.workspace.require_user() else {
            return;
        };
        let id = self.domain_id;
        spawn_local(async move {
            match storage::delete_proposal(user.id, id).await {
                Ok(()) => {
                    self.loads.try_update_value(|n| *n += 1);
                    self.proposal.try_set(None);
                    self.generation.try_set(Generation::Idle);
                }
                Err(e) => {
                    self.error.try_set(Some(e));
                }
            }
        });
    }

    /// Saves a draft edited by hand as the next draft, on top of the one edited.
    pub fn save_hand_edit(
        self,
        parent: DraftRecord,
        model: Model,
        edits: &[model::ops::Operation],
    ) {
        let Ok(user) = self.workspace.require_user() else {
            return;
        };
        let provenance = Provenance {
            source: "hand".into(),
            provider: String::new(),
            model: String::new(),
            instruction: format!("edited by hand from draft {}", parent.number),
            prompt_hash: String::new(),
            usage: None,
            accepted: edits.iter().map(model::ops::Operation::describe).collect(),
            proposed: edits.len(),
            notes: vec![],
            parameters: Default::default(),
        };
        let draft = self.next(DraftSource {
            model,
            provenance,
            parent: Some(parent.id),
        });
        spawn_local(async move {
            if let Err(e) = self.save(user.id, draft, Settles::Nothing).await {
                self.error.try_set(Some(e));
            }
        });
    }

    /// Saves an imported model as the next draft, on top of the latest one.
    pub fn import(self, imported: ImportedDraft) {
        let Ok(user) = self.workspace.require_user() else {
            return;
        };
        let draft = self.next(DraftSource {
            model: imported.model,
            provenance: import_provenance(imported.source),
            parent: self.latest_untracked().map(|d| d.id),
        });
        spawn_local(async move {
            if let Err(e) = self.save(user.id, draft, Settles::Nothing).await {
                self.error.try_set(Some(e));
            }
        });
    }

    fn latest_untracked(self) -> Option<DraftRecord> {
        self.drafts.with_untracked(|l| l.last().cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty_model() -> Model {
        Model {
            format_version: 1,
            summary: String::new(),
            narrative: String::new(),
            entities: vec![],
            relationships: vec![],
        }
    }

    fn draft(number: u32, parent: Option<Uuid>) -> DraftRecord {
        DraftRecord {
            id: Uuid::from_u128(u128::from(number)),
            domain_id: Uuid::from_u128(99),
            number,
            parent_id: parent,
            created_at: i64::from(number),
            provenance: import_provenance(String::new()),
            model: empty_model(),
            made_on: None,
        }
    }

    fn source(parent: Option<Uuid>) -> DraftSource {
        DraftSource {
            model: empty_model(),
            provenance: import_provenance("imported (test)".into()),
            parent,
        }
    }

    #[test]
    fn the_first_draft_is_number_one_without_parent() {
        let d = next_draft(
            Uuid::from_u128(99),
            &[],
            source(None),
            Uuid::from_u128(7),
            42,
        );
        assert_eq!(
            (d.number, d.parent_id, d.id, d.created_at, d.domain_id),
            (1, None, Uuid::from_u128(7), 42, Uuid::from_u128(99))
        );
        assert_eq!(d.provenance.instruction, "imported (test)");
    }

    #[test]
    fn a_later_draft_follows_the_highest_number_and_keeps_its_parent() {
        let existing = [draft(1, None), draft(2, Some(Uuid::from_u128(1)))];
        let d = next_draft(
            Uuid::from_u128(99),
            &existing,
            source(Some(Uuid::from_u128(2))),
            Uuid::from_u128(8),
            50,
        );
        assert_eq!((d.number, d.parent_id), (3, Some(Uuid::from_u128(2))));
        // A proposal on draft 1 accepted after draft 2 arrived by sync: number 3, parent 1.
        let d = next_draft(
            Uuid::from_u128(99),
            &existing,
            source(Some(Uuid::from_u128(1))),
            Uuid::from_u128(9),
            51,
        );
        assert_eq!((d.number, d.parent_id), (3, Some(Uuid::from_u128(1))));
    }

    #[test]
    fn draft_numbers_in_urls() {
        let check = |text: &str, expected: Result<DraftRef, ViewError>| {
            assert_eq!(parse_draft_number(text), expected, "{text}");
            if let Ok(name) = expected {
                assert_eq!(name.to_string(), text, "names print as they parse");
            }
        };
        check("1", Ok(DraftRef::plain(1)));
        check("12", Ok(DraftRef::plain(12)));
        check("4a", Ok(DraftRef { number: 4, fork: 1 }));
        check(
            "4z",
            Ok(DraftRef {
                number: 4,
                fork: 26,
            }),
        );
        check(
            "4aa",
            Ok(DraftRef {
                number: 4,
                fork: 27,
            }),
        );
        check("4A", Err(ViewError::BadNumber("4A".into())));
        check("a4", Err(ViewError::BadNumber("a4".into())));
        check("07", Err(ViewError::BadNumber("07".into())));
        check("0", Err(ViewError::BadNumber("0".into())));
        check("+2", Err(ViewError::BadNumber("+2".into())));
        check("-1", Err(ViewError::BadNumber("-1".into())));
        check("two", Err(ViewError::BadNumber("two".into())));
        check("", Err(ViewError::BadNumber(String::new())));
        check(
            "99999999999",
            Err(ViewError::BadNumber("99999999999".into())),
        );
    }

    #[test]
    fn review_pairs_in_urls() {
        let check = |text: &str, expected: Result<(u32, u32), ViewError>| {
            let expected = expected.map(|(a, b)| (DraftRef::plain(a), DraftRef::plain(b)));
            assert_eq!(parse_pair(text), expected, "{text}");
        };
        check("1..2", Ok((1, 2)));
        check("2..1", Ok((2, 1)));
        check("3..3", Ok((3, 3)));
        assert_eq!(
            parse_pair("3a..3b"),
            Ok((
                DraftRef { number: 3, fork: 1 },
                DraftRef { number: 3, fork: 2 }
            ))
        );
        for bad in ["1-2", "1..", "..2", "1...2", "a..b", "1..2..3", ""] {
            check(bad, Err(ViewError::BadPair(bad.into())));
        }
    }

    #[test]
    fn selections_have_urls_that_parse_back() {
        let id = Uuid::from_u128(5);
        let base = "/domains/00000000-0000-0000-0000-000000000005";
        assert_eq!(Selection::Latest.href(id), base);
        assert_eq!(
            Selection::Draft(DraftRef::plain(2)).href(id),
            format!("{base}/drafts/2")
        );
        assert_eq!(
            Selection::Export(DraftRef::plain(2)).href(id),
            format!("{base}/drafts/2/export")
        );
        assert_eq!(Selection::Import.href(id), format!("{base}/import"));
        let (three, one) = (DraftRef { number: 3, fork: 2 }, DraftRef::plain(1));
        let review = Selection::Review(three, one).href(id);
        assert_eq!(review, format!("{base}/review/3b..1"));
        let pair = review.rsplit('/').next().unwrap_or_default();
        assert_eq!(parse_pair(pair), Ok((three, one)));
    }

    #[test]
    fn view_errors_name_the_remedy() {
        assert_eq!(
            ViewError::NoDraft(DraftRef::plain(9)).to_string(),
            "this domain has no draft 9: pick one of its drafts above"
        );
        assert!(ViewError::BadPair("1-2".into())
            .to_string()
            .starts_with("`1-2` is not a pair of drafts"));
    }

    #[test]
    fn reviews_open_on_the_latest_draft_and_its_parent() {
        assert_eq!(default_pair(&[]), None);
        assert_eq!(default_pair(&[draft(1, None)]), None);
        let one = Uuid::from_u128(1);
        assert_eq!(
            default_pair(&[draft(1, None), draft(2, Some(one)), draft(3, Some(one))]),
            Some((DraftRef::plain(1), DraftRef::plain(3)))
        );
        // Without a parent (an import of unrelated drafts), the draft before it.
        assert_eq!(
            default_pair(&[draft(1, None), draft(2, None)]),
            Some((DraftRef::plain(1), DraftRef::plain(2)))
        );
        // Forks: two drafts 2 made from draft 1 on two devices.
        let mut fork = draft(2, Some(one));
        fork.id = Uuid::from_u128(7);
        let drafts = [draft(1, None), draft(2, Some(one)), fork.clone()];
        assert_eq!(
            default_pair(&drafts),
            Some((DraftRef::plain(1), DraftRef { number: 2, fork: 2 }))
        );
        assert_eq!(DraftRef { number: 2, fork: 2 }.find(&drafts), Some(&fork));
        assert_eq!(DraftRef::plain(2).find(&drafts), Some(&drafts[1]));
        assert_eq!(DraftRef { number: 2, fork: 3 }.find(&drafts), None);
    }

    #[test]
    fn the_progress_tail_keeps_the_last_characters() {
        assert_eq!(tail("abc"), "abc");
        let long: String = "é".repeat(700);
        assert_eq!(tail(&long).chars().count(), TAIL_CHARS);
    }
}
