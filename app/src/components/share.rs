//! Share links in the UI: the panel that makes a read-only link to a draft or a review pair
//! ([`SharePanel`]), and the list of links with their use and a revoke button
//! ([`SharedLinks`]), shown under the panel for the links of that draft and in Settings for
//! all of them.
//!
//! A link is shown whole only once, right after it is made: the server keeps only a hash of
//! its token, and an encrypted link's key never reaches the server at all.

use crate::browser::{api, now_ms, UiError};
use crate::components::{utc_time, ErrorBanner};
use crate::state::share::{create_link, parse_date, Expiry, NewLink, ShareOptions};
use crate::state::Workspace;
use leptos::prelude::*;
use leptos::task::spawn_local;
use model::diagram::Positions;
use model::wire::{DraftRecord, ShareInfo, ShareKind};
use uuid::Uuid;

/// Which links a [`SharedLinks`] list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkFilter {
    /// The links to this draft, or to this pair (new, old).
    Draft(Uuid, Option<Uuid>),
    All,
}

impl LinkFilter {
    fn keeps(self, share: &ShareInfo) -> bool {
        match self {
            LinkFilter::Draft(draft, old) => share.draft_id == draft && share.old_draft_id == old,
            LinkFilter::All => true,
        }
    }
}

/// Whether a link still opens, in words.
fn status(share: &ShareInfo, now: i64) -> &'static str {
    if share.revoked_at.is_some() {
        "revoked"
    } else if share.expires_at.is_some_and(|at| at <= now) {
        "expired"
    } else {
        "active"
    }
}

/// The form that makes a link to `draft` (a review link with `old`), and the links made.
#[component]
pub fn SharePanel(
    draft: DraftRecord,
    #[prop(optional)] old: Option<DraftRecord>,
    /// The domain's name, shown on the shared page.
    domain: String,
    /// The domain's kept diagram positions: an encrypted link's diagram is drawn with them
    /// (the server reads them from the synced domain for a plain link).
    #[prop(into)]
    positions: Signal<Positions>,
    on_close: Callback<()>,
) -> impl IntoView {
    let workspace = Workspace::expect();
    let expiry = RwSignal::new("week".to_string());
    let date = RwSignal::new(String::new());
    let label = RwSignal::new(String::new());
    let preview = RwSignal::new(true);
    let encrypted = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<UiError>);
    let made = RwSignal::new(None::<NewLink>);
    let copied = RwSignal::new(false);
    let refresh = RwSignal::new(0u32);
    let filter = LinkFilter::Draft(draft.id, old.as_ref().map(|d| d.id));
    let what = match &old {
        Some(o) => format!(
            "the review of draft {} against draft {}",
            draft.number, o.number
        ),
        None => format!("draft {}", draft.number),
    };
    let draft = StoredValue::new(draft);
    let old = StoredValue::new(old);
    let domain = StoredValue::new(domain);

    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let chosen = match expiry.get_untracked().as_str() {
            "hour" => Expiry::Hour,
            "day" => Expiry::Day,
            "week" => Expiry::Week,
            "never" => Expiry::Never,
            _ => match parse_date(&date.get_untracked()) {
                Some(start) if start + 86_400_000 > now_ms() => Expiry::Date(start),
                Some(_) => {
                    error.set(Some(UiError::new(
                        "VAL_EXPIRY",
                        "the date has passed: pick today or a later day",
                    )));
                    return;
                }
                None => {
                    error.set(Some(UiError::new(
                        "VAL_EXPIRY",
                        "pick the last day the link works",
                    )));
                    return;
                }
            },
        };
        let Some(user) = workspace.user.get_untracked() else {
            error.set(Some(UiError::new("AUTH_REQUIRED", "sign in to share")));
            return;
        };
        let options = ShareOptions {
            expiry: chosen,
            label: label.get_untracked(),
            preview: preview.get_untracked(),
            encrypted: encrypted.get_untracked(),
        };
        busy.set(true);
        error.set(None);
        copied.set(false);
        spawn_local(async move {
            let (draft, old, domain) = (draft.get_value(), old.get_value(), domain.get_value());
            let positions = positions.get_untracked();
            match create_link(user.id, &domain, &positions, &draft, old.as_ref(), options).await {
                Ok(link) => {
                    made.try_set(Some(link));
                    label.try_set(String::new());
                    refresh.try_update(|n| *n += 1);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
            busy.try_set(false);
        });
    };
    let copy = move |_| {
        let Some(link) = made.get_untracked() else {
            return;
        };
        if let Some(window) = web_sys::window() {
            let promise = window.navigator().clipboard().write_text(&link.url);
            spawn_local(async move {
                match wasm_bindgen_futures::JsFuture::from(promise).await {
                    Ok(_) => {
                        copied.try_set(true);
                    }
                    Err(_) => {
                        error.try_set(Some(UiError::new(
                            "CLIENT_CLIPBOARD",
                            "the browser did not allow copying: select the link and copy it by hand",
                        )));
                    }
                }
            });
        }
    };

    view! {
        <section class="card share-panel" data-testid="share-panel" aria-label="Share">
            <div class="row">
                <h3>"Share "{what}</h3>
                <button type="button" class="link" on:click=move |_| on_close.run(())>"Close"</button>
            </div>
            <p class="muted">"Anyone with the link can read this draft, without an account, until it expires or you revoke it. What they see never changes: the link is pinned to this draft."</p>
            <form class="share-form" on:submit=create>
                <label>"Works for "
                    <select name="share-expiry" on:change=move |ev| expiry.set(event_target_value(&ev)) prop:value=expiry>
                        <option value="hour">"an hour"</option>
                        <option value="day">"a day"</option>
                        <option value="week" selected=true>"a week"</option>
                        <option value="date">"until a date"</option>
                        <option value="never">"ever (until revoked)"</option>
                    </select>
                </label>
                {move || (expiry.get() == "date").then(|| view! {
                    <label>"Last day " <input type="date" name="share-date" required bind:value=date/></label>
                })}
                <label>"Label (for you) " <input name="share-label" maxlength="200" placeholder="for the DBA review" bind:value=label/></label>
                <label class="check">
                    <input type="checkbox" name="share-encrypted" bind:checked=encrypted/>
                    " Encrypt end to end: the server keeps only ciphertext, the key is in the link after #, which browsers never send to a server. Readers need JavaScript."
                </label>
                <label class="check">
                    <input type="checkbox" name="share-preview" bind:checked=preview prop:disabled=encrypted/>
                    " Show the title and summary as a preview where the link is pasted (chat apps)"
                </label>
                <button type="submit" class="primary" data-testid="create-share" prop:disabled=busy>
                    {move || if busy.get() { "Making the link…" } else { "Make link" }}
                </button>
            </form>
            {move || made.get().map(|link| view! {
                <div class="notice share-made" data-testid="share-made">
                    <p>"Copy the link now: it is shown only this once"
                        {(link.share.kind == ShareKind::Encrypted).then_some(" (its key is in the part after #, which the server never sees)")}
                        "."</p>
                    <div class="row">
                        <input class="mono share-url" data-testid="share-url" readonly=true prop:value=link.url.clone()
                            on:focus=move |ev| {
                                use wasm_bindgen::JsCast;
                                if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                                    input.select();
                                }
                            }/>
                        <button type="button" on:click=copy>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
                        <a href=link.url.clone() target="_blank" rel="noopener noreferrer">"Open"</a>
                    </div>
                </div>
            })}
            <ErrorBanner error=error/>
            <SharedLinks filter refresh/>
        </section>
    }
}

/// The user's links (those `filter` keeps), with their use and a revoke button. Bumping
/// `refresh` reloads them.
#[component]
pub fn SharedLinks(
    filter: LinkFilter,
    #[prop(optional)] refresh: Option<RwSignal<u32>>,
) -> impl IntoView {
    let workspace = Workspace::expect();
    let links = RwSignal::new(None::<Vec<ShareInfo>>);
    let error = RwSignal::new(None::<UiError>);
    let unreachable = RwSignal::new(false);
    let reload = move || {
        spawn_local(async move {
            match api::shares().await {
                Ok(list) => {
                    let kept = list
                        .shares
                        .into_iter()
                        .filter(|s| filter.keeps(s))
                        .collect();
                    links.try_set(Some(kept));
                    error.try_set(None);
                    unreachable.try_set(false);
                }
                Err(e) => super::server_read_failed(e, unreachable, error),
            }
        })
    };
    Effect::new(move |_| {
        if let Some(refresh) = refresh {
            refresh.track();
        }
        reload();
    });
    // Opened offline, the list fills in when a sync round reaches the server.
    super::reload_when_reachable(unreachable, reload);
    let revoke = move |id: Uuid| {
        spawn_local(async move {
            match api::revoke_share(id).await {
                Ok(()) => reload(),
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        })
    };
    let domain_name = move |id: Option<Uuid>| {
        id.and_then(|id| {
            workspace
                .domains
                .with(|ds| ds.iter().find(|d| d.id == id).map(|d| d.name.clone()))
        })
    };
    view! {
        <div class="shared-links" data-testid="shared-links">
            {move || match links.get() {
                None if unreachable.get() => ().into_any(),
                None => view! { <p class="muted">"Loading the links…"</p> }.into_any(),
                Some(list) if list.is_empty() => view! { <p class="muted">"No links yet."</p> }.into_any(),
                Some(list) => {
                    let now = now_ms();
                    view! {
                        <table class="grid">
                            <thead><tr>
                                <th>"Link"</th>
                                {(filter == LinkFilter::All).then(|| view! { <th>"Domain"</th> })}
                                <th>"Made"</th><th>"Expires"</th><th>"Opened"</th><th>"Status"</th><th></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|s| {
                                    let id = s.id;
                                    let state = status(&s, now);
                                    let kind = match s.kind {
                                        ShareKind::Plain => "",
                                        ShareKind::Encrypted => " (encrypted)",
                                    };
                                    let what = if s.old_draft_id.is_some() { "review" } else { "draft" };
                                    let opened = match (s.open_count, s.last_opened_at) {
                                        (0, _) | (_, None) => "never".to_string(),
                                        (n, Some(at)) => format!("{n}× · last {}", utc_time(at)),
                                    };
                                    let domain = (filter == LinkFilter::All).then(|| {
                                        let name = domain_name(s.domain_id).unwrap_or_else(|| "—".to_string());
                                        view! { <td>{name}</td> }
                                    });
                                    view! {
                                        <tr data-testid="shared-link" data-status=state>
                                            <td>{s.label.clone().unwrap_or_else(|| format!("{what} link"))}<span class="muted">{kind}</span></td>
                                            {domain}
                                            <td>{utc_time(s.created_at)}</td>
                                            <td>{s.expires_at.map_or_else(|| "never".to_string(), utc_time)}</td>
                                            <td>{opened}</td>
                                            <td class=format!("share-status share-{state}")>{state}</td>
                                            <td>{(state == "active").then(|| view! {
                                                <button type="button" class="link danger" data-testid="revoke-share" on:click=move |_| revoke(id)>"Revoke"</button>
                                            })}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }
            }}
            <super::NeedsServer when=unreachable text="The server cannot be reached: your shared links are listed when it answers."/>
            <ErrorBanner error=error/>
        </div>
    }
}
