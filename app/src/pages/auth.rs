//! Sign-in and registration.

use crate::browser::{api, UiError};
use crate::components::ErrorBanner;
use crate::state::Workspace;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use model::wire::Credentials;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Login,
    Register,
}

#[component]
pub fn LoginPage() -> impl IntoView {
    view! { <AuthForm mode=Mode::Login/> }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    view! { <AuthForm mode=Mode::Register/> }
}

#[component]
fn AuthForm(mode: Mode) -> impl IntoView {
    let workspace = Workspace::expect();
    let navigate = use_navigate();
    let query = use_query_map();
    let next = move || query.with_untracked(|q| super::after_sign_in(q.get("next").as_deref()));
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let invite = RwSignal::new(String::new());
    let error = RwSignal::new(None::<UiError>);
    let busy = RwSignal::new(false);
    // The other form keeps where to go next.
    let switch = move |to: &str| {
        query.with(|q| match q.get("next") {
            Some(next) => format!("{to}?next={}", super::encode_component(&next)),
            None => to.to_string(),
        })
    };
    let (title, button) = match mode {
        Mode::Login => ("Sign in", "Sign in"),
        Mode::Register => ("Create account", "Create account"),
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let credentials = Credentials {
            username: username.get(),
            password: password.get(),
            invite: Some(invite.get().trim().to_string()).filter(|code| !code.is_empty()),
        };
        let navigate = navigate.clone();
        busy.try_set(true);
        spawn_local(async move {
            let result = match mode {
                Mode::Login => api::login(&credentials).await,
                Mode::Register => api::register(&credentials).await,
            };
            busy.try_set(false);
            match result {
                Ok(user) => {
                    error.try_set(None);
                    workspace.signed_in(user).await;
                    navigate(&next(), Default::default());
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    view! {
        <Title text=title/>
        <div class="card narrow">
            <h1>{title}</h1>
            <form on:submit=submit class="form">
                <label>"Username"
                    <input name="username" autocomplete="username" required bind:value=username/>
                </label>
                <label>"Password"
                    <input name="password" type="password" required
                        autocomplete=if mode == Mode::Login { "current-password" } else { "new-password" }
                        bind:value=password/>
                </label>
                {(mode == Mode::Register).then(|| view! {
                    <p class="hint">"At least 10 characters. The first account becomes the administrator."</p>
                    <label>"Invite code (if the server asks for one)"
                        <input name="invite" autocomplete="off" bind:value=invite/>
                    </label>
                })}
                <ErrorBanner error=error/>
                <button type="submit" class="primary" disabled=move || busy.get()>{button}</button>
            </form>
            {match mode {
                Mode::Login => view! { <p class="muted">"New here? "<A href=move || switch("/register")>"Create an account"</A></p> }.into_any(),
                Mode::Register => view! { <p class="muted">"Have an account? "<A href=move || switch("/login")>"Sign in"</A></p> }.into_any(),
            }}
        </div>
    }
}
