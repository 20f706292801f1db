//! A domain's workbench: generate drafts with the LLM, read a draft as a data dictionary, and
//! review the semantic diff between two drafts.
//!
//! Generation runs entirely in the browser except the provider call: the prompt is assembled
//! here from the domain and its latest draft, the answer streams in through the server's
//! gateway, and is parsed by the model core. The first draft is a whole model, validated and
//! saved to IndexedDB (then synced); later drafts are change sets, reviewed operation by
//! operation (see `components::proposal`) and saved when accepted. An answer that does not parse
//! or validate is shown with its problems and saved nowhere.

use crate::browser::{self, api, llm, storage, UiError};
use crate::components::dictionary::Dictionary;
use crate::components::diff_view::DiffView;
use crate::components::exports::Exports;
use crate::components::import::{ImportPanel, ImportedDraft};
use crate::components::proposal::{self, Acceptance, Proposal, ProposalReview};
use crate::components::ErrorBanner;
use crate::pages::SignedIn;
use crate::state::Workspace;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use model::prompt::{build_messages, prompt_hash, PromptInput, DEFAULT_BUDGET_TOKENS};
use model::wire::{ChatRequest, DomainRecord, DraftRecord, Provenance, ProviderInfo};
use model::{parse_change_set, parse_model, validate, Conventions, Problem};
use uuid::Uuid;

/// Where the current generation stands.
#[derive(Clone, Debug, Default, PartialEq)]
enum Generation {
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
    Saved {
        number: u32,
    },
    /// A change set arrived and waits for review below.
    Proposed {
        changes: usize,
    },
}

#[component]
pub fn DomainPage() -> impl IntoView {
    view! {
        <SignedIn>
            <Workbench/>
        </SignedIn>
    }
}

#[component]
fn Workbench() -> impl IntoView {
    let workspace = Workspace::expect();
    let params = use_params_map();
    let domain_id = move || {
        params
            .read()
            .get("id")
            .and_then(|s| Uuid::parse_str(&s).ok())
    };

    let domain = RwSignal::new(None::<DomainRecord>);
    let loaded = RwSignal::new(false);
    let drafts = RwSignal::new(Vec::<DraftRecord>::new());
    let providers = RwSignal::new(Vec::<ProviderInfo>::new());
    let provider = RwSignal::new(String::new());
    let instruction = RwSignal::new(String::new());
    let generation = RwSignal::new(Generation::Idle);
    let error = RwSignal::new(None::<UiError>);
    let selected = RwSignal::new(None::<Uuid>);
    let compare_from = RwSignal::new(None::<Uuid>);
    let compare_to = RwSignal::new(None::<Uuid>);
    let abort = StoredValue::new_local(None::<web_sys::AbortController>);
    let proposal = RwSignal::new(None::<Proposal>);

    // Point the dictionary at the newest draft and the review at newest vs its parent.
    let focus_latest = move |list: &[DraftRecord]| {
        let latest = list.last();
        selected.try_set(latest.map(|d| d.id));
        compare_to.try_set(latest.map(|d| d.id));
        compare_from.try_set(
            latest
                .and_then(|d| d.parent_id)
                .or_else(|| list.first().map(|d| d.id)),
        );
    };

    // Load the domain and its drafts from IndexedDB; again after every completed sync round
    // (which may have brought drafts from another device), not on every sync status change.
    let sync_rounds = Memo::new(move |_| workspace.sync.with(|s| s.rounds));
    Effect::new(move |_| {
        sync_rounds.track();
        let (Some(user), Some(id)) = (workspace.user.get(), domain_id()) else {
            return;
        };
        spawn_local(async move {
            let result = async {
                let d = storage::domain(user.id, id).await?;
                let list = storage::drafts(user.id, id).await?;
                Ok::<_, UiError>((d, list))
            }
            .await;
            match result {
                Ok((d, list)) => {
                    // A proposal kept from before a reload comes back while its parent exists.
                    if proposal
                        .try_with_untracked(Option::is_none)
                        .unwrap_or(false)
                    {
                        if let Some(kept) = proposal::recall(id) {
                            if list.iter().any(|d| d.id == kept.parent.id) {
                                proposal.try_set(Some(kept));
                            }
                        }
                    }
                    domain.try_set(d);
                    if list.len() != drafts.try_with_untracked(Vec::len).unwrap_or_default() {
                        focus_latest(&list);
                    }
                    drafts.try_set(list);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
            loaded.try_set(true);
        });
    });
    // Providers come from the server: load them now and again after every sync round, so that
    // a page opened offline gets them (and drops its network error) once the server is back.
    Effect::new(move |_| {
        sync_rounds.track();
        spawn_local(async move {
            match api::providers().await {
                Ok(list) => {
                    if error
                        .try_with_untracked(|e| {
                            e.as_ref().is_some_and(|e| e.code == "CLIENT_NETWORK")
                        })
                        .unwrap_or(false)
                    {
                        error.try_set(None);
                    }
                    if provider.try_get_untracked().is_some_and(|p| p.is_empty()) {
                        if let Some(first) = list.first() {
                            provider.try_set(first.id.to_string());
                        }
                    }
                    providers.try_set(list);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    });

    let generate = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(user) = workspace.require_user() else {
            return;
        };
        let Some(dom) = domain.get_untracked() else {
            return;
        };
        let Some(chosen) = providers
            .get_untracked()
            .into_iter()
            .find(|p| p.id.to_string() == provider.get_untracked())
        else {
            error.try_set(Some(UiError::new(
                "VAL_NO_PROVIDER",
                "add a provider under Settings first",
            )));
            return;
        };
        let parent = drafts.get_untracked().last().cloned();
        let text = instruction.get_untracked();
        let messages = build_messages(&PromptInput {
            domain_name: &dom.name,
            domain_description: &dom.description,
            conventions: &Conventions::default(),
            latest: parent.as_ref().map(|d| &d.model),
            notes: &[],
            instruction: &text,
            template: None,
            budget_tokens: DEFAULT_BUDGET_TOKENS,
        });
        let hash = prompt_hash(&messages);
        let request = ChatRequest {
            model: None,
            messages,
            stream: true,
            temperature: Some(0.2),
            response_format: Some(serde_json::json!({ "type": "json_object" })),
            stream_options: Some(serde_json::json!({ "include_usage": true })),
        };
        let controller = web_sys::AbortController::new().ok();
        let signal = controller.as_ref().map(|c| c.signal());
        abort.set_value(controller);
        error.try_set(None);
        generation.try_set(Generation::Running {
            received: 0,
            tail: String::new(),
        });
        spawn_local(async move {
            let streamed = llm::stream_chat(chosen.id, &request, signal.as_ref(), |so_far| {
                let start = so_far.char_indices().rev().nth(599).map_or(0, |(i, _)| i);
                generation.try_set(Generation::Running {
                    received: so_far.chars().count(),
                    tail: so_far[start..].to_string(),
                });
            })
            .await;
            abort.try_set_value(None);
            let completion = match streamed {
                Ok(c) => c,
                Err(error) => {
                    generation.try_set(Generation::Failed {
                        error,
                        raw: String::new(),
                    });
                    return;
                }
            };
            let provenance = Provenance {
                source: "llm".into(),
                provider: chosen.name.clone(),
                model: chosen.model.clone(),
                instruction: text,
                prompt_hash: hash,
                usage: completion.usage,
                accepted: vec![],
                proposed: 0,
            };
            // A later draft comes as a change set, reviewed below before it becomes a draft.
            if let Some(parent) = parent {
                match parse_change_set(&completion.text) {
                    Ok(set) => {
                        let kept = Proposal {
                            parent,
                            changes: set.changes,
                            provenance,
                        };
                        proposal::remember(dom.id, Some(&kept));
                        let changes = kept.changes.len();
                        proposal.try_set(Some(kept));
                        instruction.try_set(String::new());
                        generation.try_set(Generation::Proposed { changes });
                    }
                    Err(e) => {
                        generation.try_set(Generation::Failed {
                            error: UiError::new(e.code(), e.to_string()),
                            raw: completion.text,
                        });
                    }
                }
                return;
            }
            let model = match parse_model(&completion.text) {
                Ok(m) => m,
                Err(e) => {
                    let error = UiError::new(e.code(), e.to_string());
                    generation.try_set(Generation::Failed {
                        error,
                        raw: completion.text,
                    });
                    return;
                }
            };
            let problems = validate(&model, &Conventions::default());
            if !problems.is_empty() {
                generation.try_set(Generation::Invalid {
                    problems,
                    raw: completion.text,
                });
                return;
            }
            let draft = DraftRecord {
                id: browser::new_id(),
                domain_id: dom.id,
                number: 1,
                parent_id: None,
                created_at: browser::now_ms(),
                provenance,
                model,
            };
            match save_and_reload(user.id, &draft).await {
                Ok(list) => {
                    focus_latest(&list);
                    drafts.try_set(list);
                    instruction.try_set(String::new());
                    generation.try_set(Generation::Saved {
                        number: draft.number,
                    });
                    workspace.sync_now();
                }
                Err(error) => {
                    generation.try_set(Generation::Failed {
                        error,
                        raw: completion.text,
                    });
                }
            }
        });
    };
    let on_accept = Callback::new(move |accepted: Acceptance| {
        let Ok(user) = workspace.require_user() else {
            return;
        };
        let Some(kept) = proposal.get_untracked() else {
            return;
        };
        let draft = DraftRecord {
            id: browser::new_id(),
            domain_id: kept.parent.domain_id,
            number: kept.parent.number + 1,
            parent_id: Some(kept.parent.id),
            created_at: browser::now_ms(),
            provenance: accepted.provenance,
            model: accepted.model,
        };
        spawn_local(async move {
            match save_and_reload(user.id, &draft).await {
                Ok(list) => {
                    proposal::remember(draft.domain_id, None);
                    proposal.try_set(None);
                    focus_latest(&list);
                    drafts.try_set(list);
                    generation.try_set(Generation::Saved {
                        number: draft.number,
                    });
                    workspace.sync_now();
                }
                // The proposal stays on screen and in local storage: nothing is lost.
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    });
    let on_import = Callback::new(move |imported: ImportedDraft| {
        let Ok(user) = workspace.require_user() else {
            return;
        };
        let Some(dom) = domain.get_untracked() else {
            return;
        };
        let parent = drafts.get_untracked().last().cloned();
        let draft = DraftRecord {
            id: browser::new_id(),
            domain_id: dom.id,
            number: parent.as_ref().map_or(1, |p| p.number + 1),
            parent_id: parent.as_ref().map(|p| p.id),
            created_at: browser::now_ms(),
            provenance: Provenance {
                source: "import".into(),
                provider: String::new(),
                model: String::new(),
                instruction: imported.source,
                prompt_hash: String::new(),
                usage: None,
                accepted: vec![],
                proposed: 0,
            },
            model: imported.model,
        };
        spawn_local(async move {
            match save_and_reload(user.id, &draft).await {
                Ok(list) => {
                    focus_latest(&list);
                    drafts.try_set(list);
                    generation.try_set(Generation::Saved {
                        number: draft.number,
                    });
                    workspace.sync_now();
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    });
    let on_discard = Callback::new(move |()| {
        if let Some(kept) = proposal.get_untracked() {
            proposal::remember(kept.parent.domain_id, None);
        }
        proposal.set(None);
        generation.set(Generation::Idle);
    });
    let cancel = move |_| {
        abort.with_value(|c| {
            if let Some(c) = c {
                c.abort();
            }
        })
    };
    let running = move || matches!(generation.get(), Generation::Running { .. });
    let draft_by_id =
        move |id: Option<Uuid>| drafts.with(|l| l.iter().find(|d| Some(d.id) == id).cloned());

    view! {
        <Title text=move || domain.get().map(|d| d.name).unwrap_or_else(|| "Domain".into())/>
        {move || match (loaded.get(), domain.get()) {
            (false, _) => view! { <p class="muted">"Loading…"</p> }.into_any(),
            (true, None) => view! {
                <div class="card">
                    <h1>"Domain not found"</h1>
                    <p>"It is not in this browser and the server has not sent it (yet). "<A href="/">"Back to your domains"</A></p>
                </div>
            }.into_any(),
            (true, Some(d)) => view! {
                <header class="domain-head">
                    <p class="crumbs"><A href="/">"Domains"</A>" / "</p>
                    <h1 data-testid="domain-name">{d.name.clone()}</h1>
                    <p class="muted">{d.description.clone()}</p>
                </header>
            }.into_any(),
        }}
        <ErrorBanner error=error/>
        <div class="columns">
            <section class="card side">
                <h2>"Generate a draft"</h2>
                <form class="form" on:submit=generate>
                    <label>"Provider"
                        <select name="provider" prop:value=move || provider.get()
                            on:change=move |ev| provider.set(event_target_value(&ev))>
                            {move || providers.get().into_iter().map(|p| view! {
                                <option value=p.id.to_string()>{format!("{} · {}", p.name, p.model)}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label>"Instruction"
                        <textarea name="instruction" rows="4" bind:value=instruction
                            placeholder="What to add or change, e.g. \"add an audit log\". Leave empty for a first draft."></textarea>
                    </label>
                    <div class="row">
                        <button type="submit" class="primary" disabled=running>
                            {move || if drafts.with(Vec::is_empty) { "Generate first draft" } else { "Generate next draft" }}
                        </button>
                        <button type="button" on:click=cancel disabled=move || !running()>"Cancel"</button>
                    </div>
                </form>
                <GenerationStatus generation/>
                <ImportPanel on_import/>
            </section>
            <section class="card grow">
                <h2>"Drafts"</h2>
                {move || drafts.with(Vec::is_empty).then(|| view! { <p class="muted">"No draft yet: generate the first one."</p> })}
                <div class="draft-tabs" data-testid="draft-tabs">
                    {move || drafts.get().into_iter().map(|d| {
                        let id = d.id;
                        let class = move || if selected.get() == Some(id) { "tab tab-active" } else { "tab" };
                        let title = if d.provenance.instruction.is_empty() {
                            format!("{} · {}", d.provenance.provider, d.provenance.model)
                        } else {
                            format!("{} · {} · “{}”", d.provenance.provider, d.provenance.model, d.provenance.instruction)
                        };
                        view! {
                            <button class=class title=title on:click=move |_| selected.set(Some(id))>
                                {format!("Draft {}", d.number)}
                            </button>
                        }
                    }).collect_view()}
                </div>
                {move || draft_by_id(selected.get()).map(|d| view! {
                    <p class="muted provenance">{format!(
                        "Draft {} · {} entities · {} attributes · {}",
                        d.number, d.model.entities.len(), d.model.attribute_count(),
                        origin(&d.provenance),
                    )}</p>
                    <Exports model=d.model.clone() stem=format!("draft-{}", d.number)/>
                    <Dictionary model=d.model/>
                })}
            </section>
        </div>
        {move || proposal.get().map(|p| view! { <ProposalReview proposal=p on_accept on_discard/> })}
        {move || (drafts.with(Vec::len) >= 2).then(|| {
            let options = move || drafts.get().into_iter().map(|d| view! {
                <option value=d.id.to_string()>{format!("Draft {}", d.number)}</option>
            }).collect_view();
            view! {
                <section class="card" data-testid="review">
                    <h2>"Review"</h2>
                    <div class="row">
                        <label>"From "
                            <select name="compare-from" prop:value=move || compare_from.get().map(|u| u.to_string()).unwrap_or_default()
                                on:change=move |ev| compare_from.set(Uuid::parse_str(&event_target_value(&ev)).ok())>
                                {options}
                            </select>
                        </label>
                        <label>" to "
                            <select name="compare-to" prop:value=move || compare_to.get().map(|u| u.to_string()).unwrap_or_default()
                                on:change=move |ev| compare_to.set(Uuid::parse_str(&event_target_value(&ev)).ok())>
                                {options}
                            </select>
                        </label>
                    </div>
                    {move || match (draft_by_id(compare_from.get()), draft_by_id(compare_to.get())) {
                        (Some(a), Some(b)) => view! { <DiffView old=a.model new=b.model tools=true/> }.into_any(),
                        _ => view! { <p class="muted">"Pick two drafts."</p> }.into_any(),
                    }}
                </section>
            }
        })}
    }
}

/// Where a draft came from, in one line: the provider and model (with the accepted share of a
/// change set and the tokens used), or the import's source.
fn origin(p: &Provenance) -> String {
    if p.source == "import" {
        return p.instruction.clone();
    }
    let mut out = format!("from {} ({})", p.provider, p.model);
    if p.proposed > 0 {
        out.push_str(&format!(
            " · {} of {} proposed changes accepted",
            p.accepted.len(),
            p.proposed
        ));
    }
    if let Some(u) = &p.usage {
        out.push_str(&format!(" · {} tokens", u.total_tokens));
    }
    out
}

/// Saves a draft to IndexedDB (with its outbox entry) and reads the domain's drafts back.
async fn save_and_reload(user: Uuid, draft: &DraftRecord) -> Result<Vec<DraftRecord>, UiError> {
    storage::save_draft(user, draft).await?;
    storage::drafts(user, draft.domain_id).await
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
            <p class="ok" data-testid="generation-proposed">{format!("{changes} changes proposed: review them below.")}</p>
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
            <div class="error" data-testid="generation-invalid">
                <p>{format!("The model has {} problems; nothing was saved. Generate again, or refine the instruction.", problems.len())}</p>
                <ul>{problems.into_iter().map(|p| view! { <li><code>{p.path}</code>": "{p.reason}</li> }).collect_view()}</ul>
                <details><summary>"Raw answer"</summary><pre class="stream-tail">{raw}</pre></details>
            </div>
        }.into_any(),
    }
    }
}
