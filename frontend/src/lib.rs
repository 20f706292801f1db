//! The wasm entry point: hydrates the server-rendered page and marks the body when done.
//!
//! `data-hydrated` on `<body>` tells browser tests (and anyone curious) that event handlers are
//! attached: a click before that is lost.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let _ = console_log::init_with_level(log::Level::Info);
    leptos::mount::hydrate_body(app::App);
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.dataset().set("hydrated", "true");
    }
}
