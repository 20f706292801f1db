//! Review of a proposed change set: the LLM's operations against the latest draft, accepted one
//! by one.
//!
//! A *proposal* ([`Proposal`]) is what the LLM answered for a later draft, parsed but not yet a
//! draft. Each operation shows what it does, why (the rationale and the change notes it cites)
//! and, for the current selection, whether it applies and what it brings along. The impact of
//! the selection is shown live; accepting hands the selection, applied to the parent, to the
//! workbench (`state::workbench`), which saves it as the next draft and keeps the proposal in
//! IndexedDB until then.

use crate::components::diff_view::DiffView;
use crate::components::{code_spans, ProblemList};
use crate::state::workbench::{Acceptance, Proposal};
use leptos::prelude::*;
use model::ops::{apply, Applied, Operation};
use model::validate;

#[component]
pub fn ProposalReview(
    proposal: Proposal,
    /// The number the accepted draft will get (the domain may have drafts after the parent).
    #[prop(into)]
    next_number: Signal<u32>,
    on_accept: Callback<Acceptance>,
    on_discard: Callback<()>,
) -> impl IntoView {
    let total = proposal.changes.len();
    // Whether changes left out are kept as change notes ("rejected: …") for the next draft.
    let keep_rejected = RwSignal::new(true);
    // The notes the prompt carried, by the id the LLM cites.
    let sent_notes: std::collections::HashMap<String, String> = proposal
        .provenance
        .notes
        .iter()
        .map(|n| (n.id.to_ascii_lowercase(), n.text.clone()))
        .collect();
    let chosen = RwSignal::new(vec![true; total]);
    let parent = proposal.parent.model.clone();
    let changes = proposal.changes.clone();
    let applied: Memo<Applied> = Memo::new(move |_| {
        let picked: Vec<usize> = chosen.with(|c| (0..c.len()).filter(|&i| c[i]).collect());
        apply(&parent, &changes, Some(&picked))
    });
    let applied_count = move || applied.with(|a| a.outcomes.iter().filter(|o| o.applied).count());
    let conventions = crate::state::workbench::Workbench::expect().conventions();
    let problems = Memo::new(move |_| applied.with(|a| validate(&a.model, &conventions)));
    let parent_model = proposal.parent.model.clone();
    let accept = {
        let proposal = proposal.clone();
        move |_| {
            let result = applied.get_untracked();
            let mut provenance = proposal.provenance.clone();
            provenance.proposed = proposal.changes.len();
            provenance.accepted = result
                .outcomes
                .iter()
                .filter(|o| o.applied)
                .filter_map(|o| proposal.changes.get(o.index))
                .map(|c| {
                    if c.rationale.is_empty() {
                        c.operation.describe()
                    } else {
                        format!("{} — {}", c.operation.describe(), c.rationale)
                    }
                })
                .collect();
            let applied: Vec<usize> = result
                .outcomes
                .iter()
                .filter(|o| o.applied)
                .map(|o| o.index)
                .collect();
            let answered = applied
                .iter()
                .filter_map(|&i| proposal.changes.get(i))
                .flat_map(|c| c.notes.iter().cloned())
                .collect();
            let rejected = if keep_rejected.get_untracked() {
                proposal
                    .changes
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !applied.contains(i))
                    .map(|(_, c)| {
                        if c.rationale.is_empty() {
                            c.operation.describe()
                        } else {
                            format!("{} — {}", c.operation.describe(), c.rationale)
                        }
                    })
                    .collect()
            } else {
                vec![]
            };
            on_accept.run(Acceptance {
                model: result.model,
                provenance,
                answered,
                rejected,
            });
        }
    };
    // The proposal is what the user has to act on now: bring it into view when it arrives.
    let section = NodeRef::<leptos::html::Section>::new();
    Effect::new(move |_| {
        if let Some(section) = section.get() {
            section.scroll_into_view();
        }
    });
    view! {
        <section class="card proposal" id="proposal" data-testid="proposal" node_ref=section>
            <h2>{format!("Proposed changes to draft {}", proposal.parent.number)}</h2>
            <p class="muted">{format!(
                "{total} changes proposed by {} ({}). Untick what you do not want; the impact below follows your selection.",
                proposal.provenance.provider, proposal.provenance.model
            )}</p>
            <div class="row">
                <button type="button" on:click=move |_| chosen.set(vec![true; total])>"Select all"</button>
                <button type="button" on:click=move |_| chosen.set(vec![false; total])>"Select none"</button>
            </div>
            <ol class="ops">
                {proposal.changes.iter().enumerate().map(|(i, c)| {
                    let outcome = move || applied.with(|a| a.outcomes.get(i).cloned());
                    let notes = c.notes.clone();
                    view! {
                        <li class="op" data-testid="op">
                            <label class="op-head">
                                <input type="checkbox" name=format!("op-{i}")
                                    prop:checked=move || chosen.with(|c| c[i])
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|c| c[i] = on);
                                    }/>
                                <span class="op-text">{code_spans(&c.operation.describe())}</span>
                            </label>
                            {match &c.operation {
                                Operation::AddEntity { entity } if !entity.attributes.is_empty() => {
                                    let key = entity.primary_key.clone();
                                    Some(view! {
                                        <ul class="op-attrs" data-testid="op-attributes">
                                            {entity.attributes.iter().map(|a| {
                                                let marks = [
                                                    key.contains(&a.name).then_some("primary key"),
                                                    Some(if a.nullable { "nullable" } else { "not null" }),
                                                ];
                                                let marks: Vec<&str> = marks.into_iter().flatten().collect();
                                                view! {
                                                    <li><code>{a.name.clone()}</code>" "{a.data_type.to_string()}<span class="muted">{format!(" · {}", marks.join(" · "))}</span></li>
                                                }
                                            }).collect_view()}
                                        </ul>
                                    })
                                }
                                _ => None,
                            }}
                            {(!c.rationale.is_empty()).then(|| view! { <p class="op-why">{c.rationale.clone()}</p> })}
                            {(!notes.is_empty()).then(|| {
                                let cited: Vec<String> = notes.iter().map(|id| match sent_notes.get(&id.to_ascii_lowercase()) {
                                    Some(text) => format!("“{text}”"),
                                    None => format!("a note the prompt did not carry ({id})"),
                                }).collect();
                                view! { <p class="op-notes muted" data-testid="op-answers">{format!("In answer to {}", cited.join("; "))}</p> }
                            })}
                            {move || outcome().map(|o| match (o.applied, o.reason) {
                                (true, _) if !o.notes.is_empty() => view! { <p class="op-status ok">{format!("applies; also {}", o.notes.join("; "))}</p> }.into_any(),
                                (true, _) => view! { <p class="op-status ok">"applies"</p> }.into_any(),
                                (false, Some(r)) if r == "not selected" => view! { <p class="op-status muted">"not selected"</p> }.into_any(),
                                (false, r) => view! { <p class="op-status bad" data-testid="op-refused">{"does not apply: "}{code_spans(&r.unwrap_or_default())}</p> }.into_any(),
                            })}
                        </li>
                    }
                }).collect_view()}
            </ol>
            {move || {
                let problems = problems.get();
                (!problems.is_empty()).then(|| {
                    let lead = format!("With this selection the model has {} problems; accept is disabled until they are gone.", problems.len());
                    view! { <ProblemList problems lead/> }
                })
            }}
            <h3>"Impact of the selection"</h3>
            {move || view! { <DiffView old=parent_model.clone() new=applied.get().model/> }}
            <label class="check keep-rejected">
                <input type="checkbox" name="keep-rejected" prop:checked=move || keep_rejected.get()
                    on:change=move |ev| keep_rejected.set(event_target_checked(&ev))/>
                " Keep the changes I leave out as change notes, so the next draft knows"
            </label>
            <div class="row">
                <button type="button" class="primary" data-testid="accept"
                    disabled=move || applied_count() == 0 || !problems.with(Vec::is_empty)
                    on:click=accept>
                    {move || format!("Accept {} of {total} as draft {}", applied_count(), next_number.get())}
                </button>
                <button type="button" on:click=move |_| on_discard.run(())>"Discard"</button>
            </div>
        </section>
    }
}
