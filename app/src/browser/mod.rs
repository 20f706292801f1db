//! The browser side: IndexedDB storage, the server's API, the streamed LLM call, sync.
//!
//! These functions use web APIs (fetch, IndexedDB, crypto). They compile natively so that the
//! server build type-checks the whole UI, but they are only ever called from effects and event
//! handlers, which run in the browser after hydration and never during server rendering.

pub mod api;
pub mod llm;
pub mod share;
pub mod storage;
pub mod sync;
pub mod tools;

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

/// Whether the browser believes it is online (`navigator.onLine`). False is reliable (no
/// network at all); true only means there is a network, not that the server answers.
pub fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// Runs `work` holding the Web Lock `name` (`navigator.locks`), so that no other tab of this
/// origin runs work under that name at the same time; `None`, without running it, when another
/// task or tab holds the lock. The browser releases a lock when its tab closes, so a tab that
/// died half-way never blocks the others. Without the Web Locks API (an insecure origin, which
/// has no service worker and so no offline start either) the work runs unguarded.
pub async fn with_lock<T>(name: &str, work: impl std::future::Future<Output = T>) -> Option<T> {
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};
    let locks = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &JsValue::from_str("locks")).ok())
        .filter(|l| l.is_object());
    let request = locks.as_ref().and_then(|l| {
        js_sys::Reflect::get(l, &JsValue::from_str("request"))
            .ok()?
            .dyn_into::<js_sys::Function>()
            .ok()
    });
    let (Some(locks), Some(request)) = (locks, request) else {
        return Some(work.await);
    };
    let (granted_tx, granted_rx) = futures::channel::oneshot::channel::<bool>();
    // The lock is held until the promise the callback returns settles: `release` settles it.
    let mut release = None;
    let held = js_sys::Promise::new(&mut |resolve, _| release = Some(resolve));
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let granted = !lock.is_null();
        let _ = granted_tx.send(granted);
        if granted {
            held.into()
        } else {
            JsValue::UNDEFINED
        }
    });
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &JsValue::from_str("ifAvailable"), &JsValue::TRUE);
    // `request` answers with a promise that settles once the lock is released.
    let Ok(released) = request
        .call3(&locks, &JsValue::from_str(name), &options, &callback)
        .and_then(|p| p.dyn_into::<js_sys::Promise>())
    else {
        return Some(work.await);
    };
    // The callback runs unless the request is refused outright (a document that is not fully
    // active): then the promise settles first, and the work runs unguarded rather than never.
    let settled = wasm_bindgen_futures::JsFuture::from(released.clone());
    match futures::future::select(granted_rx, settled).await {
        futures::future::Either::Left((Ok(true), _)) => {}
        futures::future::Either::Left(_) => return None,
        futures::future::Either::Right(_) => return Some(work.await),
    }
    let out = work.await;
    if let Some(release) = release {
        let _ = release.call0(&JsValue::UNDEFINED);
    }
    // Wait for the release itself, so that whoever asks next finds the lock free.
    let _ = wasm_bindgen_futures::JsFuture::from(released).await;
    Some(out)
}

/// Calls the global function `name` that the page's start-up script defines, without
/// arguments; `None` when there is no such function or it threw.
pub fn call_global(name: &str) -> Option<wasm_bindgen::JsValue> {
    use wasm_bindgen::JsCast;
    let window = web_sys::window()?;
    let function = js_sys::Reflect::get(&window, &wasm_bindgen::JsValue::from_str(name))
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    function.call0(&window).ok()
}

/// Removes the pages the service worker keeps for offline starts (`dm-pages` in Cache
/// Storage): they carry who was signed in. Nothing else in Cache Storage is the user's: the
/// bundles are the same for everyone, and API answers are never kept.
pub async fn forget_kept_pages() {
    let Some(caches) = web_sys::window().and_then(|w| w.caches().ok()) else {
        return;
    };
    let _ = wasm_bindgen_futures::JsFuture::from(caches.delete("dm-pages")).await;
}

/// How much this site keeps in the browser (bytes), out of how much it may, and whether the
/// browser promised not to clear it under storage pressure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StorageUse {
    pub usage: f64,
    pub quota: f64,
    pub persisted: bool,
}

fn storage_manager() -> Option<web_sys::StorageManager> {
    Some(web_sys::window()?.navigator().storage())
}

async fn promised(
    promise: Result<js_sys::Promise, wasm_bindgen::JsValue>,
) -> Option<wasm_bindgen::JsValue> {
    wasm_bindgen_futures::JsFuture::from(promise.ok()?)
        .await
        .ok()
}

/// Asks the browser to keep this site's data even under storage pressure
/// (`navigator.storage.persist()`); whether it agreed. Chromium decides without asking the
/// user (an installed app, a site used often); a refusal changes nothing else.
pub async fn persist_storage() -> bool {
    let Some(manager) = storage_manager() else {
        return false;
    };
    if promised(manager.persisted())
        .await
        .and_then(|v| v.as_bool())
        == Some(true)
    {
        return true;
    }
    promised(manager.persist()).await.and_then(|v| v.as_bool()) == Some(true)
}

/// What [`StorageUse`] the browser reports (`navigator.storage.estimate()`).
pub async fn storage_use() -> Option<StorageUse> {
    let manager = storage_manager()?;
    let estimate = promised(manager.estimate()).await?;
    let number = |key: &str| {
        js_sys::Reflect::get(&estimate, &wasm_bindgen::JsValue::from_str(key))
            .ok()
            .and_then(|v| v.as_f64())
    };
    Some(StorageUse {
        usage: number("usage")?,
        quota: number("quota")?,
        persisted: promised(manager.persisted())
            .await
            .and_then(|v| v.as_bool())
            == Some(true),
    })
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

/// What this device is, for telling forks apart: "Firefox on Linux", from the user agent.
pub fn device_label() -> String {
    let agent = web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .unwrap_or_default();
    device_from_agent(&agent)
}

/// The browser and system a user-agent string names.
pub fn device_from_agent(agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(mark, _)| agent.contains(mark))
    .map_or("A browser", |(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(mark, _)| agent.contains(mark))
    .map(|(_, name)| *name);
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_string(),
    }
}

/// The `width` and `height` of an SVG document's root element, in pixels.
pub fn svg_size(svg: &str) -> Option<(f64, f64)> {
    let start = svg.find("<svg")?;
    let tag = &svg[start..start + svg[start..].find('>')?];
    let attribute = |name: &str| -> Option<f64> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        tag[at..at + tag[at..].find('"')?].parse().ok()
    };
    Some((attribute("width")?, attribute("height")?))
}

/// The largest side and area of a canvas Chromium draws (bigger ones stay blank).
const CANVAS_SIDE_MAX: f64 = 16_384.0;
const CANVAS_AREA_MAX: f64 = 120_000_000.0;

/// The scale an SVG of `width` × `height` is drawn at as a PNG: twice its size for sharp text,
/// less when that would pass the canvas's limits.
pub fn png_scale(width: f64, height: f64) -> f64 {
    let side = (CANVAS_SIDE_MAX / width).min(CANVAS_SIDE_MAX / height);
    let area = (CANVAS_AREA_MAX / (width * height)).sqrt();
    2.0_f64.min(side).min(area)
}

/// An SVG document drawn as a PNG, as a `data:` URL to download.
#[cfg(target_arch = "wasm32")]
pub async fn svg_to_png(svg: &str) -> Result<String, UiError> {
    use wasm_bindgen::JsCast;
    let fail = |e: wasm_bindgen::JsValue| UiError::browser("Drawing the PNG", e);
    let (width, height) = svg_size(svg)
        .ok_or_else(|| UiError::new("CLIENT_PNG", "the diagram has no size to draw"))?;
    let scale = png_scale(width, height);
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| UiError::browser("Drawing the PNG", "no document"))?;
    let image = web_sys::HtmlImageElement::new().map_err(fail)?;
    let loaded = js_sys::Promise::new(&mut |resolve, reject| {
        image.set_onload(Some(&resolve));
        image.set_onerror(Some(&reject));
    });
    image.set_src(&format!(
        "data:image/svg+xml;charset=utf-8,{}",
        String::from(js_sys::encode_uri_component(svg))
    ));
    wasm_bindgen_futures::JsFuture::from(loaded)
        .await
        .map_err(|_| UiError::new("CLIENT_PNG", "the browser could not draw the diagram"))?;
    let canvas: web_sys::HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(fail)?
        .dyn_into()
        .map_err(|_| UiError::browser("Drawing the PNG", "no canvas"))?;
    canvas.set_width((width * scale).ceil() as u32);
    canvas.set_height((height * scale).ceil() as u32);
    let context: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(fail)?
        .ok_or_else(|| UiError::browser("Drawing the PNG", "no 2d context"))?
        .dyn_into()
        .map_err(|_| UiError::browser("Drawing the PNG", "no 2d context"))?;
    context.scale(scale, scale).map_err(fail)?;
    context
        .draw_image_with_html_image_element_and_dw_and_dh(&image, 0.0, 0.0, width, height)
        .map_err(fail)?;
    canvas.to_data_url_with_type("image/png").map_err(fail)
}

/// Natively there is no canvas.
#[cfg(not(target_arch = "wasm32"))]
pub async fn svg_to_png(_svg: &str) -> Result<String, UiError> {
    Err(UiError::new("CLIENT_PNG", "a PNG is drawn in the browser"))
}

#[cfg(test)]
mod tests {
    use super::device_from_agent;

    #[test]
    fn devices_are_named_from_the_user_agent() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", "Chrome on Linux"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Windows"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari on macOS"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"),
            ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36", "Chrome on Android"),
            ("curl/8.0", "A browser"),
        ];
        for (agent, expected) in cases {
            assert_eq!(device_from_agent(agent), expected, "{agent}");
        }
    }

    #[test]
    fn svg_sizes_and_png_scales() {
        let svg = "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"812.5\" height=\"400\" viewBox=\"0 0 812.5 400\">";
        assert_eq!(super::svg_size(svg), Some((812.5, 400.0)));
        assert_eq!(super::svg_size("<svg>"), None);
        assert_eq!(super::svg_size("no svg"), None);
        assert_eq!(super::png_scale(800.0, 600.0), 2.0);
        // A 20,000 px wide diagram fits the canvas's side.
        assert!((super::png_scale(20_000.0, 1_000.0) * 20_000.0) <= 16_384.0);
        // A large square one fits its area.
        let s = super::png_scale(12_000.0, 12_000.0);
        assert!(12_000.0 * s * 12_000.0 * s <= 120_000_000.0 + 1.0, "{s}");
    }
}
