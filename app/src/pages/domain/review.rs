//! `/domains/{id}/review/{a}..{b}`: draft `a` against draft `b`, with the impact of every change,
//! the migration SQL and the changelog. Picking another draft on either side navigates, so the
//! pair is in the URL and in the history.

use super::{in_place, ViewProblem, Waiting};
use crate::components::diagram::{DiagramView, ReviewLink};
use crate::components::diff_view::DiffView;
use crate::components::share::SharePanel;
use crate::state::workbench::{parse_pair, DraftRef, Loaded, Selection, ViewError, Workbench};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

#[component]
pub fn ReviewRoute() -> impl IntoView {
    let wb = Workbench::expect();
    let navigate = use_navigate();
    let params = use_params_map();
    let pair = Memo::new(move |_| parse_pair(&params.read().get("pair").unwrap_or_default()));
    Effect::new(move |_| {
        wb.selection.set(match pair.get() {
            Ok((a, b)) => Selection::Review(a, b),
            Err(_) => Selection::Invalid,
        });
    });
    let models = Memo::new(move |_| {
        pair.get()
            .ok()
            .map(|(a, b)| (wb.draft(a).map(|d| d.model), wb.draft(b).map(|d| d.model)))
    });
    let numbers = Memo::new(move |_| {
        wb.drafts
            .with(|l| l.iter().map(|d| DraftRef::of(d, l)).collect::<Vec<_>>())
    });
    // The share panel for this pair, open or not.
    let sharing = RwSignal::new(false);
    let go = move |a: DraftRef, b: DraftRef| {
        navigate(&Selection::Review(a, b).href(wb.domain_id), in_place());
    };
    let side = move |name: &'static str, current: DraftRef, pick: Box<dyn Fn(DraftRef)>| {
        view! {
            <select name=name prop:value=current.to_string()
                on:change=move |ev| {
                    if let Ok(n) = event_target_value(&ev).parse() { pick(n) }
                }>
                {move || {
                    let numbers = numbers.get();
                    // A number the domain lacks stays visible as what the URL asked for.
                    let missing = (!numbers.contains(&current)).then(|| view! {
                        <option value=current.to_string() selected=true disabled=true>{format!("Draft {current} (none)")}</option>
                    });
                    let options = numbers.into_iter().map(|n| view! {
                        <option value=n.to_string() selected=n == current>{format!("Draft {n}")}</option>
                    }).collect_view();
                    (missing, options)
                }}
            </select>
        }
    };
    view! {
        <section class="review" data-testid="review">
            {move || match pair.get() {
                Err(e) => view! { <ViewProblem message=e.to_string()/> }.into_any(),
                Ok((a, b)) => {
                    let (go_a, go_b) = (go.clone(), go.clone());
                    view! {
                        <div class="row">
                            <label>"From " {side("compare-from", a, Box::new(move |n| go_a(n, b)))}</label>
                            <label>" to " {side("compare-to", b, Box::new(move |n| go_b(a, n)))}</label>
                            <button type="button" data-testid="share-review" on:click=move |_| sharing.update(|s| *s = !*s)>"Share"</button>
                        </div>
                        {move || match (sharing.get(), wb.draft(a), wb.draft(b)) {
                            (true, Some(old), Some(new)) => Some(view! {
                                <SharePanel draft=new old=old domain=wb.domain_name() positions=wb.positions()
                                    on_close=Callback::new(move |()| sharing.set(false))/>
                            }),
                            _ => None,
                        }}
                        {move || match models.get() {
                            Some((Some(old), Some(new))) => {
                                let focus = RwSignal::new(None::<String>);
                                let title = format!(
                                    "{}: draft {a} to draft {b}",
                                    wb.domain_name()
                                );
                                view! {
                                    <DiagramView model=new.clone() review=ReviewLink { old: old.clone(), focus }
                                        positions=wb.positions() on_place=wb.place_callback()
                                        stem=format!("review-{a}-{b}") title/>
                                    <DiffView old new tools=true focus/>
                                }.into_any()
                            }
                            _ => {
                                let missing = if wb.draft(a).is_none() { a } else { b };
                                if wb.loaded.get() == Loaded::Settled {
                                    view! { <ViewProblem message=ViewError::NoDraft(missing).to_string()/> }.into_any()
                                } else {
                                    view! { <Waiting number=missing/> }.into_any()
                                }
                            }
                        }}
                    }.into_any()
                }
            }}
        </section>
    }
    .into_any()
}
