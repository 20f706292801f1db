//! Reusable view pieces: navigation, error banners, the data dictionary and the diff view.

pub mod dictionary;
pub mod diff_view;
pub mod exports;
pub mod import;
pub mod nav;
pub mod proposal;

use crate::browser::UiError;
use leptos::prelude::*;

/// Shows an error with its code, or nothing.
#[component]
pub fn ErrorBanner(#[prop(into)] error: Signal<Option<UiError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! {
                <div class="error" role="alert">
                    <span class="error-message">{e.message}</span>
                    <code class="error-code">{e.code}</code>
                </div>
            }
        })
    }
}
