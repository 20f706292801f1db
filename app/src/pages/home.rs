//! The home page: the user's domains, searched and sorted, and a form to start a new one.
//!
//! The search text and the sort order are in the URL (`/?q=bill&sort=name`), so a reload or a
//! link keeps them; typing replaces the history entry rather than adding one per key.

use crate::browser::UiError;
use crate::components::ErrorBanner;
use crate::pages::SignedIn;
use crate::state::Workspace;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{query_signal_with_options, use_navigate};
use leptos_router::NavigateOptions;
use model::wire::DomainRecord;

/// How the domain list is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DomainSort {
    /// Most recently changed first.
    #[default]
    Updated,
    /// By name, A to Z, ignoring case.
    Name,
    /// Newest first.
    Created,
}

impl DomainSort {
    pub const ALL: [DomainSort; 3] = [DomainSort::Updated, DomainSort::Name, DomainSort::Created];

    pub fn label(self) -> &'static str {
        match self {
            DomainSort::Updated => "Recently changed",
            DomainSort::Name => "Name",
            DomainSort::Created => "Newest",
        }
    }
}

impl std::str::FromStr for DomainSort {
    type Err = ();
    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "updated" => Ok(DomainSort::Updated),
            "name" => Ok(DomainSort::Name),
            "created" => Ok(DomainSort::Created),
            _ => Err(()),
        }
    }
}

impl std::fmt::Display for DomainSort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DomainSort::Updated => "updated",
            DomainSort::Name => "name",
            DomainSort::Created => "created",
        })
    }
}

/// The domains whose name or description contains every word of `query` (ignoring case), in
/// `sort` order; ties keep a stable order by name, then id.
pub fn search_domains(
    domains: &[DomainRecord],
    query: &str,
    sort: DomainSort,
) -> Vec<DomainRecord> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let mut found: Vec<DomainRecord> = domains
        .iter()
        .filter(|d| {
            let text = format!("{} {}", d.name, d.description).to_lowercase();
            words.iter().all(|w| text.contains(w.as_str()))
        })
        .cloned()
        .collect();
    let by_name = |a: &DomainRecord, b: &DomainRecord| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.id.cmp(&b.id))
    };
    match sort {
        DomainSort::Name => found.sort_by(by_name),
        DomainSort::Updated => {
            found.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| by_name(a, b)))
        }
        DomainSort::Created => {
            found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| by_name(a, b)))
        }
    }
    found
}

/// The offer to undo the last deletion, for ten seconds (the trash keeps it after that).
#[component]
fn UndoDelete() -> impl IntoView {
    let workspace = Workspace::expect();
    let error = RwSignal::new(None::<UiError>);
    Effect::new(move |_| {
        if workspace.undo.with(Option::is_some) {
            set_timeout(
                move || workspace.undo.set(None),
                std::time::Duration::from_secs(10),
            );
        }
    });
    move || {
        workspace.undo.get().map(|(id, name)| {
            let undo = move |_| {
                spawn_local(async move {
                    if let Err(e) = workspace.restore_domain(id).await {
                        error.try_set(Some(e));
                    }
                });
            };
            view! {
                <div class="notice row" data-testid="undo-delete" role="status">
                    <span>{format!("“{name}” moved to the trash.")}</span>
                    <button type="button" data-testid="undo-delete-button" on:click=undo>"Undo"</button>
                    <ErrorBanner error/>
                </div>
            }
        })
    }
}

/// Domains in the trash, each restorable (with its drafts).
#[component]
fn Trash() -> impl IntoView {
    let workspace = Workspace::expect();
    let error = RwSignal::new(None::<UiError>);
    let deleted = Memo::new(move |_| {
        let mut list: Vec<DomainRecord> = workspace
            .domains
            .get()
            .into_iter()
            .filter(|d| d.deleted_at.is_some())
            .collect();
        list.sort_by(|a, b| b.deleted_at.cmp(&a.deleted_at).then(a.id.cmp(&b.id)));
        list
    });
    move || {
        (!deleted.with(Vec::is_empty)).then(|| view! {
            <details class="trash" data-testid="trash">
                <summary>{move || format!("Trash ({})", deleted.with(Vec::len))}</summary>
                <ul class="domain-list">
                    {move || deleted.get().into_iter().map(|d| {
                        let id = d.id;
                        let restore = move |_| {
                            spawn_local(async move {
                                if let Err(e) = workspace.restore_domain(id).await {
                                    error.try_set(Some(e));
                                }
                            });
                        };
                        view! {
                            <li class="row">
                                <span>{d.name.clone()}</span>
                                <button type="button" data-testid="restore-domain" on:click=restore>"Restore"</button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <ErrorBanner error/>
            </details>
        })
    }
}

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Domains"/>
        <SignedIn>
            <Domains/>
        </SignedIn>
    }
}

#[component]
fn Domains() -> impl IntoView {
    let workspace = Workspace::expect();
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let error = RwSignal::new(None::<UiError>);
    let replace = NavigateOptions {
        replace: true,
        scroll: false,
        ..Default::default()
    };
    let (query, set_query) = query_signal_with_options::<String>("q", replace.clone());
    let (sort, set_sort) = query_signal_with_options::<DomainSort>("sort", replace);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (n, d) = (
            name.get().trim().to_string(),
            description.get().trim().to_string(),
        );
        if n.is_empty() {
            error.try_set(Some(UiError::new("VAL_REQUIRED", "give the domain a name")));
            return;
        }
        let navigate = navigate.clone();
        spawn_local(async move {
            match workspace.create_domain(n, d).await {
                Ok(domain) => {
                    name.try_set(String::new());
                    description.try_set(String::new());
                    error.try_set(None);
                    navigate(&format!("/domains/{}", domain.id), Default::default());
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    view! {
        <div class="columns">
            <section class="card grow">
                <h1>"Domains"</h1>
                {move || (!workspace.domains.with(Vec::is_empty)).then(|| view! {
                    <div class="row domain-tools">
                        <input name="domain-search" type="search" placeholder="Search names and descriptions"
                            aria-label="Search domains"
                            prop:value=move || query.get().unwrap_or_default()
                            on:input=move |ev| {
                                let text = event_target_value(&ev);
                                set_query.set((!text.trim().is_empty()).then_some(text));
                            }/>
                        <select name="domain-sort" aria-label="Sort domains" on:change=move |ev| {
                            let chosen = event_target_value(&ev).parse::<DomainSort>().ok();
                            set_sort.set(chosen.filter(|s| *s != DomainSort::default()));
                        }>
                            {DomainSort::ALL.into_iter().map(|s| view! {
                                <option value=s.to_string() selected=move || sort.get().unwrap_or_default() == s>{s.label()}</option>
                            }).collect_view()}
                        </select>
                    </div>
                })}
                <UndoDelete/>
                {move || {
                    let all: Vec<DomainRecord> = workspace.domains.get().into_iter().filter(|d| d.deleted_at.is_none()).collect();
                    let q = query.get().unwrap_or_default();
                    let domains = search_domains(&all, &q, sort.get().unwrap_or_default());
                    if !workspace.domains_loaded.get() {
                        view! { <p class="muted" data-testid="domains-loading">"Opening your domains…"</p> }.into_any()
                    } else if all.is_empty() {
                        view! {
                            <div class="getting-started" data-testid="getting-started">
                                <p>"No domains yet. To start:"</p>
                                <ol>
                                    <li>"Add an LLM provider (OpenAI, OpenRouter, Anthropic or a local OpenAI-compatible server) under "<A href="/settings">"Settings"</A>"; drafting needs one. Importing SQL you already have does not."</li>
                                    <li>"Create a domain on the right: its name and description are what the LLM drafts from."</li>
                                    <li>"Generate its first draft, then ask for changes and review each one."</li>
                                </ol>
                            </div>
                        }.into_any()
                    } else if domains.is_empty() {
                        view! { <p class="muted" data-testid="no-match">{format!("No domain matches “{}”.", q.trim())}</p> }.into_any()
                    } else {
                        view! {
                            <ul class="domain-list" data-testid="domain-list">
                                {domains.into_iter().map(|d| view! {
                                    <li>
                                        <A href=format!("/domains/{}", d.id)>{d.name.clone()}</A>
                                        {move || workspace.queued.with(|q| q.contains(&d.id)).then(|| view! {
                                            <span class="tag" data-testid="queued-badge"
                                                title="An LLM request made offline waits here: open the domain to send it">"request queued"</span>
                                        })}
                                        <p class="muted">{d.description.clone()}</p>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                }}
                <Trash/>
            </section>
            <section class="card side">
                <h2>"New domain"</h2>
                <form class="form" on:submit=create>
                    <label>"Name" <input name="domain-name" placeholder="billing" maxlength=model::sync::NAME_MAX bind:value=name/></label>
                    <label>"Description"
                        <textarea name="domain-description" rows="6" maxlength=model::sync::DESCRIPTION_MAX
                            placeholder="What the domain covers, who uses the data, rules that matter."
                            bind:value=description></textarea>
                    </label>
                    <ErrorBanner error=error/>
                    <button type="submit" class="primary">"Create domain"</button>
                </form>
            </section>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(n: u128, name: &str, description: &str, created: i64, updated: i64) -> DomainRecord {
        DomainRecord {
            id: uuid::Uuid::from_u128(n),
            name: name.into(),
            description: description.into(),
            conventions: Default::default(),
            created_at: created,
            updated_at: updated,
            deleted_at: None,
            overwritten: vec![],
            positions: Default::default(),
            notes: vec![],
            exports: vec![],
        }
    }

    #[test]
    fn search_matches_every_word_and_sorts_as_asked() {
        let domains = [
            domain(1, "billing", "Invoices and payments", 1, 50),
            domain(2, "Logistics", "warehouses, shipments", 2, 20),
            domain(3, "accounts", "who pays the invoices", 3, 30),
        ];
        let names = |query: &str, sort| {
            search_domains(&domains, query, sort)
                .into_iter()
                .map(|d| d.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names("", DomainSort::Updated),
            ["billing", "accounts", "Logistics"]
        );
        assert_eq!(
            names("", DomainSort::Name),
            ["accounts", "billing", "Logistics"]
        );
        assert_eq!(
            names("", DomainSort::Created),
            ["accounts", "Logistics", "billing"]
        );
        assert_eq!(names("INVOICES", DomainSort::Name), ["accounts", "billing"]);
        assert_eq!(names("invoices pays", DomainSort::Name), ["accounts"]);
        assert_eq!(names("  logi  ", DomainSort::Name), ["Logistics"]);
        assert!(names("nothing", DomainSort::Name).is_empty());
        for sort in DomainSort::ALL {
            assert_eq!(sort.to_string().parse::<DomainSort>(), Ok(sort));
        }
        assert_eq!("bogus".parse::<DomainSort>(), Err(()));
    }
}
