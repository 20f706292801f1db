//! The domain's change notes, beside its drafts: what the next draft should change.
//!
//! Open notes go into the next generation's prompt (each with the short id the LLM cites); a
//! note a draft answers is resolved by it, and a proposed change the user leaves out can become
//! a note (`rejected: …`). Notes can be written about the domain or about the draft shown,
//! edited, resolved by hand and reopened; they sync with the domain.

use crate::browser::{self, UiError};
use crate::components::ErrorBanner;
use crate::state::workbench::{DraftRef, Workbench};
use leptos::prelude::*;
use leptos::task::spawn_local;
use model::wire::Note;

#[component]
pub fn NotesPanel(
    /// The draft the page shows, which a new note may be about.
    #[prop(into)]
    shown: Signal<Option<DraftRef>>,
) -> impl IntoView {
    let wb = Workbench::expect();
    let error = RwSignal::new(None::<UiError>);
    let text = RwSignal::new(String::new());
    let about_shown = RwSignal::new(false);
    let editing = RwSignal::new(None::<(uuid::Uuid, String)>);
    let notes = Memo::new(move |_| {
        let mut all = wb
            .domain
            .with(|d| d.as_ref().map(|d| d.notes.clone()).unwrap_or_default());
        all.sort_by_key(|n| n.created_at);
        all
    });
    let open = Memo::new(move |_| {
        notes.with(|n| {
            n.iter()
                .filter(|n| n.is_open())
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let resolved = Memo::new(move |_| {
        notes.with(|n| {
            n.iter()
                .filter(|n| !n.is_open())
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let put = move |note: Note| {
        spawn_local(async move {
            match wb.put_note(note).await {
                Ok(()) => {
                    error.try_set(None);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = text.get_untracked().trim().to_string();
        if body.is_empty() {
            error.set(Some(UiError::new(
                "VAL_NOTE",
                "write what should change first",
            )));
            return;
        }
        let draft_id = about_shown
            .get_untracked()
            .then(|| {
                shown
                    .get_untracked()
                    .and_then(|n| wb.draft(n))
                    .map(|d| d.id)
            })
            .flatten();
        text.set(String::new());
        put(Note {
            id: browser::new_id(),
            text: body,
            draft_id,
            created_at: browser::now_ms(),
            resolved_at: None,
            resolved_by: None,
            kind: String::new(),
        });
    };
    // "about draft 3", or nothing for the domain as a whole.
    let about = move |note: &Note| -> Option<String> {
        let id = note.draft_id?;
        wb.drafts.with(|l| {
            l.iter()
                .find(|d| d.id == id)
                .map(|d| format!("draft {}", DraftRef::of(d, l)))
        })
    };
    let answered_by = move |note: &Note| -> Option<String> {
        let id = note.resolved_by?;
        wb.drafts.with(|l| {
            l.iter()
                .find(|d| d.id == id)
                .map(|d| format!("answered by draft {}", DraftRef::of(d, l)))
        })
    };
    let item = move |note: Note| {
        let id = note.id;
        let (for_edit, for_resolve) = (note.clone(), note.clone());
        let about = about(&note);
        let rejected = note.kind == "rejected";
        view! {
            <li class="note" data-testid="note">
                {move || match editing.get() {
                    Some((editing_id, draft)) if editing_id == id => {
                        let original = for_edit.clone();
                        view! {
                            <form class="form" on:submit=move |ev| {
                                ev.prevent_default();
                                let body = draft.trim().to_string();
                                if body.is_empty() { return; }
                                editing.set(None);
                                put(Note { text: body, ..original.clone() });
                            }>
                                <textarea name="note-edit" rows="3" maxlength=model::sync::NOTE_MAX
                                    prop:value=move || editing.with(|e| e.as_ref().map(|(_, t)| t.clone()).unwrap_or_default())
                                    on:input=move |ev| { let v = event_target_value(&ev); editing.update(|e| if let Some((_, t)) = e { *t = v; }); }></textarea>
                                <div class="row">
                                    <button type="submit">"Save"</button>
                                    <button type="button" class="link" on:click=move |_| editing.set(None)>"Cancel"</button>
                                </div>
                            </form>
                        }.into_any()
                    }
                    _ => {
                        let (shown_text, start) = (for_edit.text.clone(), for_edit.text.clone());
                        let resolve = for_resolve.clone();
                        view! {
                            <p class="note-text">
                                {rejected.then(|| view! { <span class="chip chip-removed">"left out"</span>" " })}
                                {shown_text}
                            </p>
                            <p class="note-meta muted">
                                {about.clone().map(|a| format!("about {a} · "))}
                                <button type="button" class="link" data-testid="edit-note" on:click=move |_| editing.set(Some((id, start.clone())))>"Edit"</button>
                                " · "
                                <button type="button" class="link" data-testid="resolve-note" on:click=move |_| {
                                    put(Note { resolved_at: Some(browser::now_ms()), ..resolve.clone() });
                                }>"Resolve"</button>
                            </p>
                        }.into_any()
                    }
                }}
            </li>
        }
    };

    view! {
        <section class="card side notes" data-testid="notes">
            <h2>"Change notes"</h2>
            <p class="muted hint">"Open notes go with the next generation; a draft that answers one resolves it."</p>
            {move || {
                let list = open.get();
                if list.is_empty() {
                    view! { <p class="muted" data-testid="no-notes">"No open notes."</p> }.into_any()
                } else {
                    view! { <ul class="note-list" data-testid="open-notes">{list.into_iter().map(item).collect_view()}</ul> }.into_any()
                }
            }}
            <form class="form" on:submit=add>
                <label>"New note"
                    <textarea name="note-text" rows="3" maxlength=model::sync::NOTE_MAX bind:value=text
                        placeholder="e.g. loans need a due date; members may have several addresses"></textarea>
                </label>
                {move || shown.get().map(|n| view! {
                    <label class="check"><input type="checkbox" name="note-about-draft" bind:checked=about_shown/>{format!(" About draft {n}")}</label>
                })}
                <button type="submit" data-testid="add-note">"Add note"</button>
            </form>
            <ErrorBanner error/>
            {move || {
                let list = resolved.get();
                (!list.is_empty()).then(|| view! {
                    <details class="resolved-notes">
                        <summary>{format!("{} resolved", list.len())}</summary>
                        <ul class="note-list" data-testid="resolved-notes">
                            {list.into_iter().map(|note| {
                                let reopen = note.clone();
                                let by = answered_by(&note);
                                view! {
                                    <li class="note resolved" data-testid="resolved-note">
                                        <p class="note-text">{note.text.clone()}</p>
                                        <p class="note-meta muted">
                                            {by.map(|b| format!("{b} · "))}
                                            <button type="button" class="link" on:click=move |_| {
                                                put(Note { resolved_at: None, resolved_by: None, ..reopen.clone() });
                                            }>"Reopen"</button>
                                        </p>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </details>
                })
            }}
        </section>
    }
}
