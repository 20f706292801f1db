//! Data Modeller's app crate: the Leptos UI over the model core (the `model` crate).
//!
//! - [`browser`] talks to the browser: IndexedDB (rexie), the server's API (gloo-net) and the
//!   streamed LLM call. Its code compiles natively too, but runs only after hydration.
//! - [`state`], [`pages`] and [`components`] are the UI.
//!
//! The server renders [`shell`] with [`App`] (feature `ssr`); the `frontend` crate hydrates it
//! in the browser (feature `hydrate`). The two features are never enabled together.

#![recursion_limit = "512"]

pub mod browser;
pub mod components;
pub mod pages;
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes, A},
    path,
};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: navigation and the routed pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let workspace = state::Workspace::provide();

    view! {
        <Stylesheet id="leptos" href="/pkg/data-modeller.css"/>
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Meta name="description" content="Data Modeller: draft, review and export data models with an LLM"/>
        <Title formatter=|text: String| {
            if text.is_empty() { "Data Modeller".to_string() } else { format!("{text} · Data Modeller") }
        }/>
        <Router>
            <components::nav::Nav workspace/>
            <main class="page">
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=path!("/") view=pages::home::HomePage/>
                    <Route path=path!("/login") view=pages::auth::LoginPage/>
                    <Route path=path!("/register") view=pages::auth::RegisterPage/>
                    <Route path=path!("/settings") view=pages::settings::SettingsPage/>
                    <Route path=path!("/admin") view=pages::admin::AdminPage/>
                    // What is open in a domain is in the URL (see `pages::domain`).
                    <ParentRoute path=path!("/domains/:id") view=pages::domain::DomainPage>
                        <Route path=path!("") view=pages::domain::draft::LatestDraft/>
                        <Route path=path!("drafts/:n") view=pages::domain::draft::DraftRoute/>
                        <Route path=path!("drafts/:n/export") view=pages::domain::draft::ExportRoute/>
                        <Route path=path!("review/:pair") view=pages::domain::review::ReviewRoute/>
                        <Route path=path!("import") view=pages::domain::import::ImportRoute/>
                    </ParentRoute>
                </Routes>
            </main>
            <footer class="footer">
                <A href="/">"Domains"</A>
                <span>" · "</span>
                <A href="/settings">"Settings"</A>
            </footer>
        </Router>
    }
}
