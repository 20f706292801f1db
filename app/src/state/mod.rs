//! Client state: the workflows behind the pages.
//!
//! [`Workspace`] is what every page shares: who is signed in, the user's domains, and sync
//! status. It is a bundle of signals provided as context by [`crate::App`]. On the server it
//! only renders its initial state ("checking your session"); in the browser an effect asks the
//! server who is signed in, opens that user's IndexedDB and syncs, and syncs again after every
//! local change, whenever the browser comes back online or the tab comes back into view, and
//! every minute while the tab is in view.
//!
//! [`workbench::Workbench`] is one domain's workflow: its drafts, generation, the proposal under
//! review, accepting and importing. Pages render these signals and call their methods.

use crate::browser::{self, api, storage, sync, UiError};
use crate::InitialSession;
use leptos::prelude::*;
use leptos::task::spawn_local;
use model::sync::Mutation;
use model::wire::{DomainRecord, ProviderInfo, UserInfo};

pub mod share;
pub mod workbench;

/// Sync status as the navigation bar shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncState {
    /// Changes saved locally but not yet acknowledged by the server.
    pub pending: usize,
    pub running: bool,
    pub last_error: Option<UiError>,
    /// Successful sync rounds since the page loaded; pages reload what comes from the server
    /// (providers) when it moves.
    pub rounds: u32,
    /// Finished sync attempts since the page loaded, successful or not; pages reload their
    /// local data when it moves, and a page that read its data after the first one knows that
    /// what is missing is not merely still on its way.
    pub finished: u32,
    /// When the last successful round ended (this device's clock, for display only).
    pub last_synced_at: Option<i64>,
    /// Changes the server refused for good (kept here, shown with their reason).
    pub refused: Vec<storage::RefusedChange>,
}

/// What the server said about the session: from context while rendering on the server, from
/// the page's data block in the browser (read before hydration, so both render alike).
fn initial_session() -> Option<InitialSession> {
    #[cfg(feature = "ssr")]
    {
        use_context::<InitialSession>()
    }
    #[cfg(not(feature = "ssr"))]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(crate::SESSION_DATA_ID))
            .and_then(|e| e.text_content())
            .and_then(|text| serde_json::from_str(&text).ok())
    }
}

/// A provider list, and where it came from.
pub enum ProviderList {
    /// The server's answer.
    Live(Vec<ProviderInfo>),
    /// The list kept at the server's last answer (`storage::keep_providers`; no key is in
    /// it): the server cannot be reached.
    Kept(Vec<ProviderInfo>),
}

/// The providers of `user`: the server's list, or, when there is no server, the list kept at
/// its last answer. Without a server and without a kept list, the server's error.
pub async fn providers(user: uuid::Uuid) -> Result<ProviderList, UiError> {
    match api::providers().await {
        Ok(list) => Ok(ProviderList::Live(list)),
        Err(e) if e.code == "CLIENT_NETWORK" => match storage::kept_providers(user).await {
            Ok(Some(list)) => Ok(ProviderList::Kept(list)),
            _ => Err(e),
        },
        Err(e) => Err(e),
    }
}

/// How often an open, visible page syncs by itself, so that another device's work shows up
/// without a click.
const SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// The signals every page shares.
#[derive(Clone, Copy)]
pub struct Workspace {
    pub user: RwSignal<Option<UserInfo>>,
    /// False until the browser has asked the server about the session.
    pub checked: RwSignal<bool>,
    pub domains: RwSignal<Vec<DomainRecord>>,
    /// False until the domains were read from this browser's store once: until then the list
    /// is unknown, not empty.
    pub domains_loaded: RwSignal<bool>,
    pub sync: RwSignal<SyncState>,
    /// The domain just moved to the trash, for the undo offer: its id and name.
    pub undo: RwSignal<Option<(uuid::Uuid, String)>>,
    /// The domains with an LLM request queued in this browser (made while the server could
    /// not be reached; sent when the domain is open and the server answers).
    pub queued: RwSignal<Vec<uuid::Uuid>>,
}

impl Workspace {
    /// Creates the workspace, provides it as context and, in the browser, starts the session.
    /// When the server said who is signed in ([`InitialSession`]), the first render is
    /// already theirs, on the server and in the browser alike.
    pub fn provide() -> Self {
        let initial = initial_session();
        let workspace = Workspace {
            user: RwSignal::new(initial.as_ref().and_then(|s| s.user.clone())),
            checked: RwSignal::new(initial.is_some()),
            domains: RwSignal::new(Vec::new()),
            domains_loaded: RwSignal::new(false),
            sync: RwSignal::new(SyncState::default()),
            undo: RwSignal::new(None),
            queued: RwSignal::new(Vec::new()),
        };
        provide_context(workspace);
        // Effects run only in the browser, once hydration is done.
        Effect::new(move |_| {
            // Back online, sync at once: the outbox goes out, and pages that failed to reach
            // the server reload what they lacked when the round completes. The workspace lives
            // as long as the page, and so does the listener (this effect runs once).
            let _ = window_event_listener(leptos::ev::online, move |_| workspace.sync_now());
            // Back to the tab, and every minute while it is in view: what other devices did
            // shows up, and a round that failed is tried again. A hidden tab does not poll.
            let _ = window_event_listener(leptos::ev::visibilitychange, move |_| {
                if !document().hidden() {
                    workspace.sync_now();
                }
            });
            set_interval(
                move || {
                    if !document().hidden() {
                        workspace.sync_now();
                    }
                },
                SYNC_EVERY,
            );
            let initial = initial.clone();
            spawn_local(async move {
                match initial {
                    Some(InitialSession { user: Some(user) }) => workspace.signed_in(user).await,
                    Some(InitialSession { user: None }) => {}
                    None => {
                        match api::me().await {
                            Ok(Some(user)) => workspace.signed_in(user).await,
                            Ok(None) => {}
                            Err(e) => workspace.sync.update(|s| s.last_error = Some(e)),
                        }
                        workspace.checked.set(true);
                    }
                }
            });
        });
        workspace
    }

    /// The workspace provided by [`crate::App`].
    pub fn expect() -> Self {
        expect_context::<Workspace>()
    }

    /// Sets the user, shows their local domains at once, then syncs.
    pub async fn signed_in(self, user: UserInfo) {
        self.user.set(Some(user));
        self.checked.set(true);
        if let Err(e) = self.reload_domains().await {
            self.sync.update(|s| s.last_error = Some(e));
            // The list stays empty, but the page stops waiting (the badge says why).
            self.domains_loaded.set(true);
        }
        self.sync_now();
        // The working copy is the user's work: ask the browser not to clear it when the disk
        // fills up (it may refuse; Settings says which).
        spawn_local(async {
            browser::persist_storage().await;
        });
    }

    /// Signs out on a shared computer: syncs first, refuses while changes are still not synced
    /// (`CLIENT_UNSYNCED`, saying how many) unless `anyway`, then ends the session and removes
    /// this browser's copy of the user's work. The local copy goes only after the session has
    /// ended, so a failed sign-out leaves everything as it was.
    pub async fn sign_out_and_remove(self, anyway: bool) -> Result<(), UiError> {
        let user = self.require_user()?;
        if !anyway {
            // A round that fails (offline) leaves the count as it is: that is what is at stake.
            let _ = sync::sync_now(user.id).await;
            let pending = sync::pending(user.id).await?;
            self.sync.update(|s| s.pending = pending);
            if pending > 0 {
                return Err(UiError::new(
                    "CLIENT_UNSYNCED",
                    match pending {
                        1 => "1 change is not synced yet and would be lost: sync it first, or remove the copy anyway".to_string(),
                        n => format!("{n} changes are not synced yet and would be lost: sync them first, or remove the copy anyway"),
                    },
                ));
            }
            // A queued LLM request lives only here: removing the copy would drop it.
            let queued = storage::queued(user.id, None).await?.len();
            if queued > 0 {
                return Err(UiError::new(
                    "CLIENT_QUEUED",
                    match queued {
                        1 => "1 LLM request is queued in this browser and would be lost: open its domain to send it, cancel it, or remove the copy anyway".to_string(),
                        n => format!("{n} LLM requests are queued in this browser and would be lost: open their domains to send them, cancel them, or remove the copy anyway"),
                    },
                ));
            }
        }
        api::logout().await?;
        self.forget_user();
        browser::forget_kept_pages().await;
        storage::remove_local_copy(user.id, 5_000).await
    }

    /// Forgets the user in this tab (their IndexedDB stays for the next sign-in), and the
    /// pages kept for offline starts, which would still open as them.
    pub fn signed_out(self) {
        spawn_local(browser::forget_kept_pages());
        self.forget_user();
    }

    /// Forgets the user in this tab's signals.
    fn forget_user(self) {
        self.user.set(None);
        self.domains.set(Vec::new());
        self.domains_loaded.set(false);
        self.queued.set(Vec::new());
        self.sync.set(SyncState::default());
    }

    /// Reloads the domain list from IndexedDB.
    pub async fn reload_domains(self) -> Result<(), UiError> {
        let Some(user) = self.user.get_untracked() else {
            return Ok(());
        };
        let domains = storage::domains(user.id).await?;
        self.domains.set(domains);
        self.domains_loaded.set(true);
        let pending = sync::pending(user.id).await?;
        self.sync.update(|s| s.pending = pending);
        self.reload_queued();
        Ok(())
    }

    /// Reads again which domains have a queued request.
    pub fn reload_queued(self) {
        let Some(user) = self.user.get_untracked() else {
            return;
        };
        spawn_local(async move {
            if let Ok(list) = storage::queued(user.id, None).await {
                let domains: Vec<_> = list.iter().map(|r| r.domain_id).collect();
                if self.queued.try_with_untracked(|q| *q != domains) == Some(true) {
                    self.queued.try_set(domains);
                }
            }
        });
    }

    /// Saves a new domain locally, then syncs in the background.
    pub async fn create_domain(
        self,
        name: String,
        description: String,
    ) -> Result<DomainRecord, UiError> {
        let user = self.require_user()?;
        let now = browser::now_ms();
        let domain = DomainRecord {
            id: browser::new_id(),
            name,
            description,
            conventions: Default::default(),
            created_at: now,
            updated_at: now,
            deleted_at: None,
            overwritten: Vec::new(),
            positions: Default::default(),
            notes: vec![],
            exports: vec![],
        };
        storage::create_domain(user.id, &domain).await?;
        self.reload_domains().await?;
        self.sync_now();
        Ok(domain)
    }

    /// Moves a domain (with its drafts) to the trash here, offers to undo it, and syncs.
    pub async fn delete_domain(self, id: uuid::Uuid) -> Result<(), UiError> {
        let user = self.require_user()?;
        let domain = storage::change_domain(
            user.id,
            Mutation::DeleteDomain {
                domain_id: id,
                at: browser::now_ms(),
            },
        )
        .await?;
        self.undo.set(Some((id, domain.name)));
        self.reload_domains().await?;
        self.sync_now();
        Ok(())
    }

    /// Takes a domain out of the trash, and syncs.
    pub async fn restore_domain(self, id: uuid::Uuid) -> Result<(), UiError> {
        let user = self.require_user()?;
        storage::change_domain(
            user.id,
            Mutation::RestoreDomain {
                domain_id: id,
                at: browser::now_ms(),
            },
        )
        .await?;
        if self
            .undo
            .with_untracked(|u| u.as_ref().is_some_and(|(d, _)| *d == id))
        {
            self.undo.set(None);
        }
        self.reload_domains().await?;
        self.sync_now();
        Ok(())
    }

    /// The signed-in user, or an error that says to sign in.
    pub fn require_user(self) -> Result<UserInfo, UiError> {
        self.user
            .get_untracked()
            .ok_or_else(|| UiError::new("AUTH_REQUIRED", "sign in to continue"))
    }

    /// Starts a sync round in the background unless one is running.
    pub fn sync_now(self) {
        let Some(user) = self.user.get_untracked() else {
            return;
        };
        if self.sync.get_untracked().running {
            return;
        }
        self.sync.update(|s| s.running = true);
        spawn_local(async move {
            let mut result = sync::sync_now(user.id).await;
            // Changes saved while the round ran go out at once, not at the next trigger.
            for _ in 0..3 {
                if result.is_err() || sync::pending(user.id).await.unwrap_or_default() == 0 {
                    break;
                }
                result = sync::sync_now(user.id).await;
            }
            let pending = sync::pending(user.id).await.unwrap_or_default();
            let refused = storage::sync_meta(user.id)
                .await
                .map(|m| m.refused)
                .unwrap_or_default();
            if result.is_ok() {
                let _ = self.reload_domains().await;
            }
            self.sync.update(|s| {
                s.running = false;
                s.pending = pending;
                s.refused = refused;
                s.finished += 1;
                match result {
                    Ok(_) => {
                        s.last_error = None;
                        s.rounds += 1;
                        s.last_synced_at = Some(browser::now_ms());
                    }
                    Err(e) => s.last_error = Some(e),
                }
            });
        });
    }
}
