//! The semantic diff between two drafts: counts by kind, then one row per change.

use crate::model::diff::ChangeClass;
use crate::model::{diff_models, Model};
use leptos::prelude::*;

#[component]
pub fn DiffView(old: Model, new: Model) -> impl IntoView {
    let diff = diff_models(&old, &new);
    let count = |class: ChangeClass| diff.changes.iter().filter(|c| c.class() == class).count();
    let (added, removed, changed) = (
        count(ChangeClass::Added),
        count(ChangeClass::Removed),
        count(ChangeClass::Changed),
    );
    let empty = diff.changes.is_empty();
    view! {
        <div class="diff" data-testid="diff">
            <p class="diff-counts">
                <span class="chip chip-added">{format!("{added} added")}</span>
                <span class="chip chip-removed">{format!("{removed} removed")}</span>
                <span class="chip chip-changed">{format!("{changed} changed")}</span>
            </p>
            {empty.then(|| view! { <p class="muted">"The two drafts describe the same model."</p> })}
            <ul class="changes">
                {diff.changes.into_iter().map(|change| {
                    let (class, sign) = match change.class() {
                        ChangeClass::Added => ("change change-added", "+"),
                        ChangeClass::Removed => ("change change-removed", "−"),
                        ChangeClass::Changed | ChangeClass::Renamed => ("change change-changed", "~"),
                    };
                    view! { <li class=class><span class="sign">{sign}</span>{change.describe()}</li> }
                }).collect_view()}
            </ul>
        </div>
    }
}
