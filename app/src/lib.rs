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
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes, A},
    path,
};

/// The file names of the site's assets under `/pkg`: content-hashed by the site build
/// (`.ci/site`, which writes them to `pkg/assets.json` for the server to read at start), or the
/// plain names cargo-leptos writes ([`Assets::default`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct Assets {
    /// The app's wasm-bindgen glue and wasm, which hydrate the page.
    pub js: String,
    pub wasm: String,
    pub css: String,
    /// The tools module (import, exports, migrations), loaded on first use.
    pub tools_js: String,
    pub tools_wasm: String,
    /// The script of an end-to-end encrypted share page (`/e/{token}`): it decrypts the
    /// draft with the key in the link's fragment and renders it with the tools module.
    #[serde(default = "default_share_js")]
    pub share_js: String,
}

fn default_share_js() -> String {
    "data-modeller-share.js".into()
}

impl Default for Assets {
    fn default() -> Self {
        Assets {
            js: "data-modeller.js".into(),
            wasm: "data-modeller.wasm".into(),
            css: "data-modeller.css".into(),
            tools_js: "data-modeller-tools.js".into(),
            tools_wasm: "data-modeller-tools.wasm".into(),
            share_js: default_share_js(),
        }
    }
}

/// The stylesheet, the preloads and the start-up script: it loads the app's module and
/// hydrates the page, and defines `window.dmTools()`, which loads the tools module once
/// (`browser::tools`). The tools are not part of the first load: the script loads them when
/// the browser is idle after hydration, so that an import or export made offline later still
/// works. The server provides the [`Assets`] in context.
#[component]
fn Scripts() -> impl IntoView {
    let assets = use_context::<Assets>().unwrap_or_default();
    let nonce = leptos::nonce::use_nonce();
    let url = |name: &str| format!("/pkg/{name}");
    // JSON strings are valid JavaScript string literals.
    let quoted = |name: &str| serde_json::Value::String(url(name)).to_string();
    let start = format!(
        "(() => {{\
         let tools;\
         window.dmTools = () => tools ??= import({tools_js})\
         .then(m => m.default({{ module_or_path: {tools_wasm} }}).then(() => m))\
         .catch(e => {{ tools = undefined; throw e; }});\
         {offline}\
         import({js}).then(m => m.default({{ module_or_path: {wasm} }}).then(() => {{\
         hydrateAt(() => m.hydrate());\
         (window.requestIdleCallback || setTimeout)(() => window.dmTools().catch(() => {{}}), {{ timeout: 5000 }});\
         }}));\
         }})();",
        offline = OFFLINE_SCRIPT,
        tools_js = quoted(&assets.tools_js),
        tools_wasm = quoted(&assets.tools_wasm),
        js = quoted(&assets.js),
        wasm = quoted(&assets.wasm),
    );
    view! {
        <link rel="stylesheet" href=url(&assets.css)/>
        <link rel="modulepreload" href=url(&assets.js)/>
        <link rel="preload" href=url(&assets.wasm) r#as="fetch" r#type="application/wasm" crossorigin=""/>
        <script type="module" nonce=nonce>{start}</script>
    }
}

/// The start-up script's offline half (inside [`Scripts`]' function).
///
/// `hydrateAt`: Leptos hydrates the HTML the server rendered for the address in the bar. Offline,
/// the service worker answers an address it never kept with the start page it kept
/// (`frontend/sw.js`), so the page's `dm-path` (the address it was rendered for, written by
/// the server) and the address in the bar differ: the app is hydrated at the page's own
/// address, then routed to the one asked for, as a link click would.
///
/// The service worker is registered once the app runs. When a new version is installed and
/// waits, a `dm-update` event tells the app's banner ([`components::UpdateBanner`]), whose
/// button calls `dmApplyUpdate()`: the new worker takes over and the page reloads.
const OFFLINE_SCRIPT: &str = "\
    const hydrateAt = (hydrate) => {\
      const rendered = document.querySelector('meta[name=dm-path]')?.content;\
      const here = location.pathname + location.search;\
      if (!rendered || rendered === here) return hydrate();\
      const wanted = here + location.hash;\
      try { history.replaceState(history.state, '', rendered); } catch { return hydrate(); }\
      hydrate();\
      history.replaceState(null, '', wanted);\
      dispatchEvent(new PopStateEvent('popstate', { state: null }));\
    };\
    if ('serviceWorker' in navigator) {\
      let waiting;\
      const offer = (worker) => { waiting = worker; dispatchEvent(new Event('dm-update')); };\
      window.dmUpdateWaiting = () => !!waiting;\
      window.dmApplyUpdate = () => waiting ? waiting.postMessage('skip-waiting') : location.reload();\
      let reloading = false;\
      navigator.serviceWorker.addEventListener('controllerchange', () => {\
        if (waiting && !reloading) { reloading = true; location.reload(); }\
      });\
      addEventListener('load', () => navigator.serviceWorker.register('/sw.js').then((registration) => {\
        if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);\
        registration.addEventListener('updatefound', () => {\
          const worker = registration.installing;\
          worker?.addEventListener('statechange', () => {\
            if (worker.state === 'installed' && navigator.serviceWorker.controller) offer(worker);\
          });\
        });\
      }).catch(() => {}));\
    }";

/// The address the server rendered the page for (path and query), read by the start-up
/// script ([`OFFLINE_SCRIPT`]); nothing in the browser's render.
#[component]
fn RenderedPath() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let path = use_context::<leptos_router::location::RequestUrl>()
        .map(|url| path_and_query(url.as_ref()).to_string());
    #[cfg(not(feature = "ssr"))]
    let path: Option<String> = None;
    path.map(|path| view! { <meta name="dm-path" content=path/> })
}

/// The path and query of `url`: leptos_axum's request URL carries a placeholder origin
/// (`http://leptos.dev/domains/…`), the start-up script compares a path.
pub fn path_and_query(url: &str) -> &str {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => url,
    }
}

/// Who is signed in, as the server found it from the page request's session cookie
/// (`user: None`: nobody). The server provides it in context and writes it into the page
/// ([`SessionData`]), where the browser reads it before hydrating, so that both render the
/// same signed-in page from the first byte. Absent when the server could not tell: the
/// browser then asks `/api/v1/auth/me`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InitialSession {
    pub user: Option<model::wire::UserInfo>,
}

/// The id of the `<script type="application/json">` that carries the [`InitialSession`].
pub const SESSION_DATA_ID: &str = "dm-session";

/// The [`InitialSession`] as a JSON data block (not a script: it never runs). `<` is escaped
/// so that no value can close the element.
#[component]
fn SessionData() -> impl IntoView {
    use_context::<InitialSession>().map(|session| {
        let json = serde_json::to_string(&session)
            .unwrap_or_default()
            .replace('<', "\\u003c");
        // It never runs, but carries the nonce like every inline script of the page.
        let nonce = leptos::nonce::use_nonce();
        view! { <script type="application/json" id=SESSION_DATA_ID nonce=nonce inner_html=json></script> }
    })
}

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options/>
                <link rel="manifest" href="/manifest.webmanifest"/>
                <meta name="theme-color" content="#1f4e79"/>
                <link rel="apple-touch-icon" href="/icons/icon-192.png"/>
                <RenderedPath/>
                <Scripts/>
                <SessionData/>
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
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Meta name="description" content="Data Modeller: draft, review and export data models with an LLM"/>
        <Title formatter=|text: String| {
            if text.is_empty() { "Data Modeller".to_string() } else { format!("{text} · Data Modeller") }
        }/>
        <Router>
            <components::nav::Nav workspace/>
            <components::UpdateBanner/>
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

#[cfg(test)]
mod tests {
    #[test]
    fn rendered_paths_lose_the_placeholder_origin() {
        for (url, path) in [
            ("http://leptos.dev/", "/"),
            (
                "http://leptos.dev/domains/x/review/1..2?view=diagram",
                "/domains/x/review/1..2?view=diagram",
            ),
            ("http://leptos.dev", "/"),
            ("/settings", "/settings"),
        ] {
            assert_eq!(super::path_and_query(url), path, "{url}");
        }
    }
}
