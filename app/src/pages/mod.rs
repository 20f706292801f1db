//! One module per route.

pub mod admin;
pub mod auth;
pub mod domain;
pub mod home;
pub mod settings;

use crate::state::Workspace;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <Title text="Not found"/>
        <h1>"Page not found"</h1>
        <p><A href="/">"Back to your domains"</A></p>
    }
}

/// Renders `children` once a user is signed in; otherwise a pointer to sign in, or a
/// placeholder while the session is being checked.
#[component]
pub fn SignedIn(children: ChildrenFn) -> impl IntoView {
    let workspace = Workspace::expect();
    // Re-render the children only when who is signed in really changes, not on every write to
    // the session signals (a re-render disposes the page's signals mid-flight).
    let session = Memo::new(move |_| (workspace.checked.get(), workspace.user.get().map(|u| u.id)));
    move || {
        let (checked, user) = session.get();
        if !checked {
            view! { <p class="muted" data-testid="loading">"Checking your session…"</p> }.into_any()
        } else if user.is_none() {
            view! {
                <div class="card">
                    <h1>"Data Modeller"</h1>
                    <p>"Draft data models with an LLM, review every change, keep working offline."</p>
                    <p><A href="/login">"Sign in"</A>" or "<A href="/register">"create an account"</A>" to start."</p>
                </div>
            }
            .into_any()
        } else {
            children().into_any()
        }
    }
}
