//! The browser side: IndexedDB storage, the server's API, the streamed LLM call, sync.
//!
//! These functions use web APIs (fetch, IndexedDB, crypto). They compile natively so that the
//! server build type-checks the whole UI, but they are only ever called from effects and event
//! handlers, which run in the browser after hydration and never during server rendering.

pub mod api;
pub mod llm;
pub mod storage;
pub mod sync;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An error shown to the user: a stable code and a message that says what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UiError {
    pub code: String,
    pub message: String,
}

impl UiError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        UiError {
            code: code.into(),
            message: message.into(),
        }
    }

    /// An error from the browser's own machinery (IndexedDB, streams) that the user can't fix
    /// by changing input.
    pub fn browser(what: &str, detail: impl std::fmt::Debug) -> Self {
        UiError::new(
            "CLIENT_BROWSER",
            format!("{what} failed in this browser: {detail:?}"),
        )
    }
}

impl std::fmt::Display for UiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

/// Resolves after `ms` milliseconds (the browser's `setTimeout`), to put a limit on a wait.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Milliseconds since the Unix epoch, from the browser's clock.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// A fresh UUIDv7: the browser's clock and 10 bytes from its cryptographic RNG.
pub fn new_id() -> Uuid {
    let mut random = [0u8; 10];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|crypto| crypto.get_random_values_with_u8_array(&mut random).is_ok());
    if !filled {
        // Without Web Crypto (very old browsers), Math.random still keeps ids apart.
        for byte in &mut random {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    uuid::Builder::from_unix_timestamp_millis(now_ms() as u64, &random).into_uuid()
}
