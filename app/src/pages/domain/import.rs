//! `/domains/{id}/import`: the import panel. What it reads (SQL DDL or a JSON model) becomes the
//! domain's next draft through the workbench.

use crate::components::import::ImportPanel;
use crate::state::workbench::{Selection, Workbench};
use leptos::prelude::*;

#[component]
pub fn ImportRoute() -> impl IntoView {
    let wb = Workbench::expect();
    Effect::new(move |_| wb.selection.set(Selection::Import));
    view! { <ImportPanel on_import=Callback::new(move |imported| wb.import(imported))/> }.into_any()
}
