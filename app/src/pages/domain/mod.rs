//! A domain's workbench, `/domains/{id}` and its nested routes: the frame (the domain, the
//! generation form, the draft tabs, the proposal under review) around the view the URL names.
//!
//! | URL under `/domains/{id}` | view |
//! |---|---|
//! | (nothing) | the latest draft, following new ones ([`draft::LatestDraft`]) |
//! | `/drafts/{n}` | draft `n` ([`draft::DraftRoute`]) |
//! | `/drafts/{n}/export` | draft `n` with its export panel ([`draft::ExportRoute`]) |
//! | `/review/{a}..{b}` | the review of draft `a` against draft `b` ([`review::ReviewRoute`]) |
//! | `/import` | the import panel ([`import::ImportRoute`]) |
//!
//! The workflow itself lives in `state::workbench`; this module renders its signals and
//! dispatches the user's actions to it. Selecting a draft, a pair or a panel navigates, so
//! reload and back/forward keep the view.

pub mod draft;
pub mod import;
pub mod review;

use crate::browser::UiError;
use crate::components::notes::NotesPanel;
use crate::components::proposal::ProposalReview;
use crate::components::{utc_time, ConfirmAction, ErrorBanner, ProblemList};
use crate::pages::SignedIn;
use crate::state::workbench::{
    default_pair, next_number, DraftRef, Generation, Loaded, Selection, Workbench,
};
use crate::state::Workspace;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::NavigateOptions;
use model::sync::{DomainEdit, Mutation};
use model::{Conventions, NamingConvention};
use uuid::Uuid;

#[component]
pub fn DomainPage() -> impl IntoView {
    view! {
        <SignedIn>
            <DomainFrame/>
        </SignedIn>
    }
}

/// Picks the domain from the URL; a new workbench for each domain.
#[component]
fn DomainFrame() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|s| Uuid::parse_str(&s).ok())
    });
    move || match id.get() {
        Some(id) => view! { <Loader id/> }.into_any(),
        None => view! { <NotFound offline=false/> }.into_any(),
    }
}

/// Navigation within the workbench: no jump to the top of the page.
pub fn in_place() -> NavigateOptions {
    NavigateOptions {
        scroll: false,
        ..Default::default()
    }
}

#[component]
fn NotFound(offline: bool) -> impl IntoView {
    view! {
        <div class="card" data-testid="domain-not-found">
            <h1>"Domain not found"</h1>
            {if offline {
                view! { <p>"It is not in this browser, and the server could not be reached to look for it: try again when online. "<A href="/">"Back to your domains"</A></p> }.into_any()
            } else {
                view! { <p>"It is neither in this browser nor on the server for this account. "<A href="/">"Back to your domains"</A></p> }.into_any()
            }}
        </div>
    }
}

/// Creates the domain's workbench and shows it once the domain is here; until then, that it is
/// being looked for, and "not found" only once a sync attempt has finished without it.
#[component]
fn Loader(id: Uuid) -> impl IntoView {
    let workspace = Workspace::expect();
    let navigate = use_navigate();
    let wb = Workbench::provide(workspace, id, move |n| {
        navigate(&Selection::Draft(n).href(id), in_place());
    });
    let known = Memo::new(move |_| wb.domain.with(Option::is_some));

    view! {
        <Title text=move || wb.domain.with(|d| d.as_ref().map(|d| d.name.clone())).unwrap_or_else(|| "Domain".into())/>
        {move || {
            if known.get() {
                view! { <Bench/> }.into_any()
            } else {
                match wb.loaded.get() {
                    Loaded::Settled => {
                        let offline = workspace.sync.with_untracked(|s| s.last_error.is_some());
                        view! { <NotFound offline/> }.into_any()
                    }
                    Loaded::Local => view! {
                        <p class="muted waiting" data-testid="domain-waiting">
                            <span class="spinner"></span>
                            "This domain is not in this browser yet: looking for it on the server…"
                        </p>
                    }.into_any(),
                    Loaded::No => view! { <p class="muted">"Loading…"</p> }.into_any(),
                }
            }
        }}
    }
}

/// The workbench of a domain that is here: header, generation, tabs, the routed view, and the
/// proposal under review.
#[component]
fn Bench() -> impl IntoView {
    let wb = Workbench::expect();
    let id = wb.domain_id;
    let generate = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        wb.generate();
    };
    let shown = Memo::new(move |_| match wb.selection.get() {
        Selection::Latest => wb.drafts.with(|l| l.last().map(|d| DraftRef::of(d, l))),
        Selection::Draft(n) | Selection::Export(n) => Some(n),
        _ => None,
    });
    let pair = Memo::new(move |_| wb.drafts.with(|l| default_pair(l)));
    let tab = |active: bool| if active { "tab tab-active" } else { "tab" };
    // Renaming and describing the domain, in place of its heading.
    let editing = RwSignal::new(false);
    let edit_name = RwSignal::new(String::new());
    let edit_description = RwSignal::new(String::new());
    let edit_naming = RwSignal::new(NamingConvention::Any);
    let edit_guidance = RwSignal::new(String::new());
    let edit_error = RwSignal::new(None::<UiError>);
    let start_edit = move |_| {
        if let Some(d) = wb.domain.get_untracked() {
            edit_name.set(d.name);
            edit_description.set(d.description);
            edit_naming.set(d.conventions.naming);
            edit_guidance.set(d.conventions.guidance);
            edit_error.set(None);
            editing.set(true);
        }
    };
    let save_edit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (name, description) = (edit_name.get_untracked(), edit_description.get_untracked());
        let conventions = Conventions {
            naming: edit_naming.get_untracked(),
            guidance: edit_guidance.get_untracked(),
        };
        spawn_local(async move {
            match wb.edit_domain(name, description, conventions).await {
                Ok(()) => {
                    editing.try_set(false);
                }
                Err(e) => {
                    edit_error.try_set(Some(e));
                }
            }
        });
    };

    view! {
        <header class="domain-head">
            <p class="crumbs"><A href="/">"Domains"</A>" / "</p>
            {move || if editing.get() {
                view! {
                    <form class="form domain-edit" data-testid="domain-edit" on:submit=save_edit>
                        <label>"Name" <input name="edit-domain-name" required maxlength=model::sync::NAME_MAX bind:value=edit_name/></label>
                        <label>"Description"
                            <textarea name="edit-domain-description" rows="3" maxlength=model::sync::DESCRIPTION_MAX bind:value=edit_description></textarea>
                        </label>
                        <label>"Names"
                            <select name="edit-domain-naming" on:change=move |ev| {
                                edit_naming.set(if event_target_value(&ev) == "snake_case" { NamingConvention::SnakeCase } else { NamingConvention::Any });
                            }>
                                <option value="any" selected=move || edit_naming.get() == NamingConvention::Any>"Any readable identifier"</option>
                                <option value="snake_case" selected=move || edit_naming.get() == NamingConvention::SnakeCase>"lower_snake_case (checked on every draft)"</option>
                            </select>
                        </label>
                        <label>"Modelling conventions (sent with every generation)"
                            <textarea name="edit-domain-guidance" rows="3" maxlength=model::validate::GUIDANCE_MAX bind:value=edit_guidance
                                placeholder="e.g. surrogate uuid keys named id; timestamps with time zone; singular table names"></textarea>
                        </label>
                        <ErrorBanner error=edit_error/>
                        <div class="row">
                            <button type="submit" class="primary">"Save"</button>
                            <button type="button" on:click=move |_| editing.set(false)>"Cancel"</button>
                        </div>
                    </form>
                }.into_any()
            } else {
                view! {
                    <div class="row">
                        <h1 data-testid="domain-name">{move || wb.domain.with(|d| d.as_ref().map(|d| d.name.clone()))}</h1>
                        <button type="button" class="link" data-testid="edit-domain" on:click=start_edit>"Rename or describe"</button>
                        <DeleteDomain/>
                    </div>
                    <p class="muted" data-testid="domain-description">{move || wb.domain.with(|d| d.as_ref().map(|d| d.description.clone()))}</p>
                    {move || wb.domain.with(|d| d.as_ref().map(|d| d.conventions.clone())).filter(|c| *c != Conventions::default()).map(|c| view! {
                        <p class="muted conventions" data-testid="domain-conventions">
                            "Conventions: "
                            {match c.naming { NamingConvention::SnakeCase => "lower_snake_case names", NamingConvention::Any => "any names" }}
                            {(!c.guidance.is_empty()).then(|| format!(" · {}", c.guidance))}
                        </p>
                    })}
                }.into_any()
            }}
        </header>
        <InTrash/>
        <OverwrittenValues/>
        <ErrorBanner error=wb.error/>
        <div class="columns">
            <div class="side side-stack">
            <section class="card">
                <h2>"Generate a draft"</h2>
                <form class="form" on:submit=generate>
                    <label>"Provider"
                        <select name="provider" prop:value=move || wb.provider.get()
                            on:change=move |ev| wb.provider.set(event_target_value(&ev))>
                            {move || wb.providers.get().into_iter().map(|p| {
                                let value = p.id.to_string();
                                let selected = wb.provider.get_untracked() == value;
                                view! { <option value=value selected=selected>{format!("{} · {}", p.name, p.model)}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    {move || (wb.providers.with(Vec::is_empty) && wb.error.with(Option::is_none)).then(|| view! {
                        <p class="hint" data-testid="no-provider">"No provider yet: add one under "<A href="/settings">"Settings"</A>"."</p>
                    })}
                    <label>"Instruction"
                        <textarea name="instruction" rows="4" bind:value=wb.instruction
                            placeholder="What to add or change, e.g. \"add an audit log\". Leave empty for a first draft."></textarea>
                    </label>
                    <div class="row">
                        <button type="submit" class="primary" disabled=move || wb.running() || wb.queued.with(Option::is_some)>
                            {move || if wb.drafts.with(Vec::is_empty) { "Generate first draft" } else { "Generate next draft" }}
                        </button>
                        <button type="button" on:click=move |_| wb.cancel() disabled=move || !wb.running()>"Cancel"</button>
                    </div>
                </form>
                <QueuedRequestPanel/>
                <GenerationStatus generation=wb.generation/>
                <PromptPreview/>
            </section>
            <NotesPanel shown=shown/>
            </div>
            <section class="card grow">
                <nav class="view-tabs" aria-label="Drafts and panels">
                    <div class="draft-tabs" data-testid="draft-tabs">
                        {move || { let drafts = wb.drafts.get(); drafts.iter().map(|d| {
                            let n = DraftRef::of(d, &drafts);
                            let title = if d.provenance.instruction.is_empty() {
                                format!("{} · {}", d.provenance.provider, d.provenance.model)
                            } else {
                                format!("{} · {} · “{}”", d.provenance.provider, d.provenance.model, d.provenance.instruction)
                            };
                            view! {
                                <A href=Selection::Draft(n).href(id) scroll=false
                                    attr:class=move || tab(shown.get() == Some(n)) attr:title=title>
                                    {format!("Draft {n}")}
                                </A>
                            }
                        }).collect_view() }}
                    </div>
                    <div class="panel-tabs">
                        {move || pair.get().map(|(a, b)| view! {
                            <A href=Selection::Review(a, b).href(id) scroll=false
                                attr:class=move || tab(matches!(wb.selection.get(), Selection::Review(..)))>
                                "Review"
                            </A>
                        })}
                        <A href=Selection::Import.href(id) scroll=false
                            attr:class=move || tab(wb.selection.get() == Selection::Import)>
                            "Import"
                        </A>
                    </div>
                </nav>
                {move || wb.drafts.with(Vec::is_empty).then(|| view! {
                    <p class="muted">"No draft yet: generate the first one, or import one."</p>
                })}
                <Outlet/>
            </section>
        </div>
        {move || wb.proposal.get().map(|p| view! {
            <ProposalReview proposal=p
                next_number=Signal::derive(move || wb.drafts.with(|l| next_number(l)))
                on_accept=Callback::new(move |a| wb.accept(a))
                on_discard=Callback::new(move |()| wb.discard())/>
        })}
    }
    .into_any()
}

/// Moves the domain to the trash after a confirmation, then goes home, where an undo waits.
#[component]
fn DeleteDomain() -> impl IntoView {
    let wb = Workbench::expect();
    let workspace = Workspace::expect();
    let navigate = use_navigate();
    let asking = RwSignal::new(false);
    let confirm = Callback::new(move |()| {
        let navigate = navigate.clone();
        spawn_local(async move {
            match workspace.delete_domain(wb.domain_id).await {
                Ok(()) => navigate("/", Default::default()),
                Err(e) => {
                    wb.error.try_set(Some(e));
                }
            }
        });
    });
    let deleted = move || {
        wb.domain
            .with(|d| d.as_ref().is_some_and(|d| d.deleted_at.is_some()))
    };
    view! {
        <Show when=move || !deleted()>
            <ConfirmAction id="delete-domain" label="Delete domain"
                question="Move this domain and its drafts to the trash?" yes="Move to trash"
                asking on_confirm=confirm/>
        </Show>
    }
}

/// Says that the domain is in the trash, with a way out.
#[component]
fn InTrash() -> impl IntoView {
    let wb = Workbench::expect();
    let workspace = Workspace::expect();
    let restore = move |_| {
        spawn_local(async move {
            match workspace.restore_domain(wb.domain_id).await {
                Ok(()) => {
                    if let Some(user) = workspace.user.get_untracked() {
                        if let Ok(domain) =
                            crate::browser::storage::domain(user.id, wb.domain_id).await
                        {
                            wb.domain.try_set(domain);
                        }
                    }
                }
                Err(e) => {
                    wb.error.try_set(Some(e));
                }
            }
        });
    };
    move || {
        wb.domain
            .with(|d| d.as_ref().is_some_and(|d| d.deleted_at.is_some()))
            .then(|| view! {
                <div class="notice row" data-testid="in-trash" role="status">
                    <span>"This domain is in the trash, with its drafts."</span>
                    <button type="button" data-testid="restore-this-domain" on:click=restore>"Restore"</button>
                </div>
            })
    }
}

/// Values another device's edit replaced without having seen them: each can be put back or
/// dismissed.
#[component]
fn OverwrittenValues() -> impl IntoView {
    let wb = Workbench::expect();
    let list = Memo::new(move |_| {
        wb.domain.with(|d| {
            d.as_ref()
                .map(|d| d.overwritten.clone())
                .unwrap_or_default()
        })
    });
    move || {
        (!list.with(Vec::is_empty)).then(|| view! {
            <section class="notice overwritten" data-testid="overwritten">
                <h2>"Changed on two devices"</h2>
                <ul>
                    {move || list.get().into_iter().map(|o| {
                        let shown = |edit: &DomainEdit| match edit {
                            DomainEdit::Name(text) | DomainEdit::Description(text) => text.clone(),
                            DomainEdit::Conventions(c) => format!("{c:?}"),
                        };
                        let (kept, now) = (shown(&o.value), shown(&o.replaced_by));
                        let label = o.value.label();
                        let (restored, dismissed) = (o.clone(), o.id);
                        let restore = move |_| {
                            let o = restored.clone();
                            spawn_local(async move {
                                if let Err(e) = wb.restore_overwritten(o).await {
                                    wb.error.try_set(Some(e));
                                }
                            });
                        };
                        let dismiss = move |_| {
                            spawn_local(async move {
                                let m = Mutation::DismissOverwritten { domain_id: wb.domain_id, id: dismissed };
                                if let Err(e) = wb.change_domain(m).await {
                                    wb.error.try_set(Some(e));
                                }
                            });
                        };
                        view! {
                            <li data-testid="overwritten-value">
                                <p>{format!("The {label} was “{kept}” when another device set it to “{now}”.")}</p>
                                <div class="row">
                                    <button type="button" data-testid="restore-overwritten" on:click=restore>{format!("Restore “{kept}”")}</button>
                                    <button type="button" class="link" data-testid="dismiss-overwritten" on:click=dismiss>"Keep the current one"</button>
                                </div>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        })
    }
}

/// A URL under the domain that names no view: what is wrong, in place of the view.
#[component]
pub fn ViewProblem(message: String) -> impl IntoView {
    view! { <p class="view-problem" data-testid="view-error">{message}</p> }
}

/// Shown while a draft named by the URL may still arrive with the first sync.
#[component]
pub fn Waiting(number: DraftRef) -> impl IntoView {
    view! {
        <p class="muted waiting" data-testid="draft-waiting">
            <span class="spinner"></span>
            {format!("Draft {number} is not in this browser yet: looking for it on the server…")}
        </p>
    }
}

/// The request queued while the server could not be reached: what it asks, where it stands,
/// and how to send it now or cancel it.
#[component]
fn QueuedRequestPanel() -> impl IntoView {
    let wb = Workbench::expect();
    move || {
        wb.queued.get().map(|q| {
            let what = if q.instruction.trim().is_empty() {
                "a first draft".to_string()
            } else {
                format!("“{}”", q.instruction)
            };
            let failed = q.failed.clone();
            let retry = failed.is_some();
            let state = move || {
                if wb.running() {
                    "Sending now: the answer streams in below (the form's Cancel cancels the request)."
                } else if retry {
                    "The last attempt failed: send it again, or cancel it."
                } else if wb.elsewhere.get() {
                    "Being sent already, in another tab or from before this page opened: its answer shows here once it is saved."
                } else {
                    "Waiting for the server: it is sent as soon as the server can be reached while this domain is open."
                }
            };
            view! {
                <div class="queued" role="status" data-testid="queued">
                    <p><strong>"Request queued"</strong>{format!(" · {what} · {} · {} · since {}", q.provider, q.model, utc_time(q.queued_at))}</p>
                    <p class="muted" data-testid="queued-state">{state}</p>
                    {failed.map(|e| view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> })}
                    <div class="row">
                        <button type="button" data-testid="send-queued" disabled=move || wb.running()
                            on:click=move |_| wb.send_queued(true)>
                            {if retry { "Send again" } else { "Send now" }}
                        </button>
                        <button type="button" data-testid="cancel-queued" disabled=move || wb.running()
                            on:click=move |_| wb.cancel_queued()>
                            "Cancel request"
                        </button>
                    </div>
                </div>
            }
        })
    }
}

#[component]
fn GenerationStatus(generation: RwSignal<Generation>) -> impl IntoView {
    move || {
        match generation.get() {
        Generation::Idle => ().into_any(),
        Generation::Running { received, tail } => view! {
            <div class="progress" data-testid="progress">
                <p><span class="spinner"></span>{format!("Receiving… {received} characters")}</p>
                <pre class="stream-tail">{tail}</pre>
            </div>
        }.into_any(),
        Generation::Proposed { changes } => view! {
            <p class="ok" data-testid="generation-proposed">{format!("{changes} changes proposed: ")}<a href="#proposal">"review them"</a>"."</p>
        }.into_any(),
        Generation::Saved { number } => view! {
            <p class="ok" data-testid="generation-done">{format!("Saved as draft {number}.")}</p>
        }.into_any(),
        Generation::Failed { error, raw } => view! {
            <div data-testid="generation-failed">
                <ErrorBanner error=Signal::derive(move || Some(error.clone()))/>
                {(!raw.is_empty()).then(|| view! { <details><summary>"Raw answer"</summary><pre class="stream-tail">{raw}</pre></details> })}
            </div>
        }.into_any(),
        Generation::Invalid { problems, raw } => view! {
            <div data-testid="generation-invalid">
                <ProblemList lead=format!("The model has {} problems; nothing was saved. Generate again, or refine the instruction.", problems.len()) problems/>
                <details><summary>"Raw answer"</summary><pre class="stream-tail">{raw}</pre></details>
            </div>
        }.into_any(),
    }
    }
}

/// What the next generation will send, section by section with estimated tokens, computed when
/// opened and kept current while open.
#[component]
fn PromptPreview() -> impl IntoView {
    let wb = Workbench::expect();
    let open = RwSignal::new(false);
    let sections = Memo::new(move |_| {
        if !open.get() {
            return Vec::new();
        }
        let instruction = wb.instruction.get();
        let latest = wb.drafts.with(|l| l.last().cloned());
        wb.domain.with(|d| {
            d.as_ref()
                .map(|d| {
                    let (messages, _) =
                        crate::state::workbench::prompt_for(d, latest.as_ref(), &instruction);
                    model::prompt::sections(&messages)
                })
                .unwrap_or_default()
        })
    });
    view! {
        <details class="prompt-preview" data-testid="prompt-preview"
            on:toggle=move |ev| {
                use wasm_bindgen::JsCast;
                let details = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok());
                open.set(details.is_some_and(|d| d.open()));
            }>
            <summary>"Preview the prompt"</summary>
            {move || {
                let parts = sections.get();
                let total: usize = parts.iter().map(|s| s.tokens).sum();
                view! {
                    <p class="muted" data-testid="prompt-total">{format!("About {total} tokens in {} sections, as sent to the provider:", parts.len())}</p>
                    <ul class="prompt-sections">
                        {parts.into_iter().map(|s| view! {
                            <li data-testid="prompt-section">
                                <details>
                                    <summary><span class="section-title">{s.title}</span><span class="muted">{format!(" · ~{} tokens", s.tokens)}</span></summary>
                                    <pre class="prompt-text">{s.text}</pre>
                                </details>
                            </li>
                        }).collect_view()}
                    </ul>
                }
            }}
        </details>
    }
}
