//! One draft: `/domains/{id}` (the latest), `/domains/{id}/drafts/{n}`, and the same with its
//! export panel, `/domains/{id}/drafts/{n}/export`. The draft reads as a data dictionary, with
//! where it came from; the export panel generates every export format in the browser.

use super::{ViewProblem, Waiting};
use crate::components::diagram::DiagramView;
use crate::components::dictionary::Dictionary;
use crate::components::edit::EditPanel;
use crate::components::exports::Exports;
use crate::components::share::SharePanel;
use crate::components::{human_bytes, ConfirmAction, ErrorBanner};
use crate::state::workbench::{
    parse_draft_number, DraftRef, Loaded, Selection, ViewError, Workbench,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{query_signal, use_location, use_params_map};
use model::wire::{DraftRecord, Provenance};

/// `/domains/{id}`: the latest draft, and the next one as soon as it arrives.
#[component]
pub fn LatestDraft() -> impl IntoView {
    let wb = Workbench::expect();
    Effect::new(move |_| wb.selection.set(Selection::Latest));
    let latest = Memo::new(move |_| wb.latest());
    move || {
        latest
            .get()
            .map(|draft| view! { <DraftView draft export=false/> })
    }
}

/// `/domains/{id}/drafts/{n}`.
#[component]
pub fn DraftRoute() -> impl IntoView {
    numbered(false)
}

/// `/domains/{id}/drafts/{n}/export`.
#[component]
pub fn ExportRoute() -> impl IntoView {
    numbered(true)
}

/// The draft the URL numbers, or what is wrong with the number.
fn numbered(export: bool) -> impl IntoView {
    let wb = Workbench::expect();
    let params = use_params_map();
    let number =
        Memo::new(move |_| parse_draft_number(&params.read().get("n").unwrap_or_default()));
    Effect::new(move |_| {
        wb.selection.set(match number.get() {
            Ok(n) if export => Selection::Export(n),
            Ok(n) => Selection::Draft(n),
            Err(_) => Selection::Invalid,
        });
    });
    let draft = Memo::new(move |_| number.get().ok().and_then(|n| wb.draft(n)));
    move || match (number.get(), draft.get()) {
        (Err(e), _) => view! { <ViewProblem message=e.to_string()/> }.into_any(),
        (Ok(_), Some(draft)) => view! { <DraftView draft export/> }.into_any(),
        (Ok(n), None) if wb.loaded.get() == Loaded::Settled => {
            view! { <ViewProblem message=ViewError::NoDraft(n).to_string()/> }.into_any()
        }
        (Ok(n), None) => view! { <Waiting number=n/> }.into_any(),
    }
}

#[component]
fn DraftView(draft: DraftRecord, export: bool) -> impl IntoView {
    let wb = Workbench::expect();
    let n = wb.drafts.with_untracked(|l| DraftRef::of(&draft, l));
    // Dictionary or diagram: `?view=diagram` in the URL, so reload and links keep it.
    let location = use_location();
    let (view_query, _) = query_signal::<String>("view");
    let diagram_on = move || view_query.get().as_deref() == Some("diagram");
    let model = StoredValue::new(draft.model.clone());
    // The hand-edit panel: `Some(table)` when open, with the table it was opened for.
    let editing = RwSignal::new(None::<Option<String>>);
    let editable = StoredValue::new(draft.clone());
    let edit_table = Callback::new(move |table: String| editing.set(Some(Some(table))));
    // The share panel, open or not.
    let sharing = RwSignal::new(false);
    let draft_id = draft.id;
    let parent_model = StoredValue::new(draft.parent_id.and_then(|id| {
        wb.drafts
            .with_untracked(|l| l.iter().find(|d| d.id == id).map(|d| d.model.clone()))
    }));
    let record_export = Callback::new(move |made| wb.record_export(draft_id, made));
    let toggle = if export {
        view! { <A href=Selection::Draft(n).href(wb.domain_id) scroll=false attr:class="button">"Close export"</A> }.into_any()
    } else {
        view! { <A href=Selection::Export(n).href(wb.domain_id) scroll=false attr:class="button">"Export"</A> }.into_any()
    };
    view! {
        <div class="draft-view" data-testid="draft-view" data-number=n.to_string()>
            <div class="row draft-head">
                <p class="muted provenance">{format!(
                    "Draft {} · {} entities · {} attributes · {}{}",
                    n, draft.model.entities.len(), draft.model.attribute_count(),
                    origin(&draft.provenance),
                    draft.made_on.as_ref().map(|d| format!(" · made on {d}")).unwrap_or_default(),
                )}</p>
                {fork_note(&draft, n)}
                {toggle}
                <button type="button" data-testid="edit-draft" on:click=move |_| editing.set(Some(None))>"Edit"</button>
                <button type="button" data-testid="share-draft" on:click=move |_| sharing.update(|s| *s = !*s)>"Share"</button>
                <DeleteDraft draft=draft.clone()/>
            </div>
            {move || editing.get().map(|table| view! {
                <EditPanel parent=editable.get_value() table=table.unwrap_or_default()
                    on_close=Callback::new(move |()| editing.set(None))/>
            })}
            {move || sharing.get().then(|| view! {
                <SharePanel draft=editable.get_value() domain=wb.domain_name() positions=wb.positions()
                    on_close=Callback::new(move |()| sharing.set(false))/>
            })}
            <ProvenancePanel draft=draft.clone()/>
            {export.then(|| view! {
                <Exports model=draft.model.clone() stem=format!("draft-{n}") on_export=record_export/>
                <ExportHistory draft_id=draft.id/>
            })}
            <nav class="view-switch" aria-label="Show the draft as">
                <A href=move || location.pathname.get() scroll=false
                    attr:class=move || if diagram_on() { "tab" } else { "tab tab-active" }>"Dictionary"</A>
                <A href=move || format!("{}?view=diagram", location.pathname.get()) scroll=false
                    attr:class=move || if diagram_on() { "tab tab-active" } else { "tab" }
                    attr:data-testid="show-diagram">"Diagram"</A>
            </nav>
            {move || if diagram_on() {
                view! {
                    <DiagramView model=model.get_value() positions=wb.positions() on_place=wb.place_callback() on_export=record_export on_edit=edit_table parent=parent_model.get_value()
                        stem=format!("draft-{n}") title=format!("{} · draft {n}", wb.domain_name())/>
                }.into_any()
            } else {
                view! { <Dictionary model=model.get_value() on_edit=edit_table/> }.into_any()
            }}
        </div>
    }
    // Erased here: the server crate's default recursion limit does not reach through the
    // nested view types of the routes around it.
    .into_any()
}

/// Where a draft came from, in one line: the provider and model (with the accepted share of a
/// change set and the tokens used), or the import's source.
fn origin(p: &Provenance) -> String {
    if p.source == "import" {
        return p.instruction.clone();
    }
    if p.source == "hand" {
        return format!("{} · {} edits", p.instruction, p.accepted.len());
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

/// For a fork (a draft sharing its number with drafts made on other devices from the same
/// parent before they synced): which one this is and where it was made.
fn fork_note(draft: &DraftRecord, name: DraftRef) -> Option<impl IntoView> {
    (name.fork > 0).then(|| {
        let place = draft
            .made_on
            .clone()
            .map(|d| format!(" made on {d}"))
            .unwrap_or_default();
        view! {
            <p class="fork-note" data-testid="fork-note">{format!(
                "Fork {name}: another device also made a draft {} from the same parent before they synced. This one was{place}.",
                name.number
            )}</p>
        }
    })
}

/// Deletes the draft after a confirmation; the deletion syncs to every device.
#[component]
fn DeleteDraft(draft: DraftRecord) -> impl IntoView {
    let wb = Workbench::expect();
    let asking = RwSignal::new(false);
    let error = RwSignal::new(None);
    let draft = StoredValue::new(draft);
    let confirm = Callback::new(move |()| {
        let draft = draft.get_value();
        spawn_local(async move {
            match wb.delete_draft(draft).await {
                Ok(()) => {
                    asking.try_set(false);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    });
    view! {
        <ConfirmAction id="delete-draft" label="Delete draft" question="Delete this draft on every device?"
            yes="Delete" asking on_confirm=confirm/>
        <ErrorBanner error/>
    }
}

/// Where a draft came from, in full: when and where it was made, its parent, the provider,
/// model and parameters, the prompt's hash, the instruction and notes it carried, what was
/// accepted, the tokens; and, for a generated draft, "run again" with the same inputs.
#[component]
fn ProvenancePanel(draft: DraftRecord) -> impl IntoView {
    let wb = Workbench::expect();
    let p = draft.provenance.clone();
    let parent = draft.parent_id.and_then(|id| {
        wb.drafts
            .with_untracked(|l| l.iter().find(|d| d.id == id).map(|d| DraftRef::of(d, l)))
    });
    let made = format!(
        "{}{}",
        crate::components::utc_time(draft.created_at),
        draft
            .made_on
            .as_ref()
            .map(|d| format!(" on {d}"))
            .unwrap_or_default()
    );
    let source = match p.source.as_str() {
        "llm" => "generated by the LLM",
        "import" => "imported",
        "hand" => "edited by hand",
        _ => "other",
    };
    let generated = p.source == "llm";
    let rerun = StoredValue::new(draft.clone());
    let parameters = p
        .parameters
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <details class="provenance-panel" data-testid="provenance">
            <summary>"Where this draft came from"</summary>
            <dl class="facts">
                <dt>"Made"</dt><dd>{made}</dd>
                <dt>"Source"</dt><dd>{source}</dd>
                <dt>"Parent"</dt>
                <dd>{match parent {
                    Some(n) => view! { <A href=Selection::Draft(n).href(wb.domain_id) scroll=false>{format!("Draft {n}")}</A> }.into_any(),
                    None if draft.parent_id.is_some() => "a draft not here any more".into_any(),
                    None => "none (a first draft)".into_any(),
                }}</dd>
                {generated.then(|| view! {
                    <dt>"Provider"</dt><dd>{format!("{} · {}", p.provider, p.model)}</dd>
                    <dt>"Parameters"</dt><dd class="mono">{if parameters.is_empty() { "not recorded".to_string() } else { parameters.clone() }}</dd>
                    <dt>"Prompt hash"</dt><dd class="mono" title=p.prompt_hash.clone()>{p.prompt_hash.chars().take(16).collect::<String>()}</dd>
                })}
                {(!p.instruction.is_empty()).then(|| view! { <dt>"Instruction"</dt><dd data-testid="provenance-instruction">{p.instruction.clone()}</dd> })}
                {(!p.notes.is_empty()).then(|| view! {
                    <dt>"Notes sent"</dt>
                    <dd><ul>{p.notes.iter().map(|n| view! { <li>{n.text.clone()}</li> }).collect_view()}</ul></dd>
                })}
                {(p.proposed > 0).then(|| view! {
                    <dt>"Changes"</dt>
                    <dd>
                        {format!("{} of {} accepted", p.accepted.len(), p.proposed)}
                        <ul>{p.accepted.iter().map(|a| view! { <li>{crate::components::code_spans(a)}</li> }).collect_view()}</ul>
                    </dd>
                })}
                {p.usage.map(|u| view! {
                    <dt>"Tokens"</dt><dd>{format!("{} prompt + {} answer = {}", u.prompt_tokens, u.completion_tokens, u.total_tokens)}</dd>
                })}
            </dl>
            {generated.then(|| view! {
                <button type="button" data-testid="run-again" disabled=move || wb.running()
                    on:click=move |_| rerun.with_value(|d| wb.run_again(d))>
                    "Run again with the same inputs"
                </button>
            })}
        </details>
    }
}

/// The exports made of a draft (on any device): format, file, size, when and where.
#[component]
fn ExportHistory(draft_id: uuid::Uuid) -> impl IntoView {
    let wb = Workbench::expect();
    let made = Memo::new(move |_| {
        wb.domain.with(|d| {
            d.as_ref()
                .map(|d| {
                    let mut list: Vec<_> = d
                        .exports
                        .iter()
                        .filter(|e| e.draft_id == draft_id)
                        .cloned()
                        .collect();
                    list.reverse();
                    list
                })
                .unwrap_or_default()
        })
    });
    move || {
        let list = made.get();
        (!list.is_empty()).then(|| view! {
            <details class="export-history" data-testid="export-history" open=true>
                <summary>{format!("Exported {} time{}", list.len(), if list.len() == 1 { "" } else { "s" })}</summary>
                <table class="grid">
                    <thead><tr><th>"Format"</th><th>"File"</th><th>"Size"</th><th>"When"</th><th>"Where"</th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|e| view! {
                            <tr data-testid="export-record">
                                <td>{e.format}</td>
                                <td class="mono">{e.file}</td>
                                <td>{human_bytes(e.bytes as f64)}</td>
                                <td>{crate::components::utc_time(e.at)}</td>
                                <td>{e.made_on.unwrap_or_default()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        })
    }
}
