//! The installable app (DESIGN §7): the service worker, served at `/sw.js`.
//!
//! The worker's code is `frontend/sw.js`; the server writes two constants above it: `BUILD`,
//! the id of the site build, and `PRECACHE`, the build's hashed bundles and the icons and
//! manifest that `public/` holds. A new build changes the bundles' names, so it changes the
//! worker's bytes, and the browser installs it as a new version. The script is sent with
//! `Cache-Control: no-cache` (the browser asks for it again at every check) and a policy of
//! its own: a worker's fetches are governed by its script's Content-Security-Policy, and
//! the closed policy of static files (`default-src 'none'`) would forbid it to fetch anything.

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

/// The worker's own code (the constants go above it).
const WORKER: &str = include_str!("../../frontend/sw.js");

/// The policy of the worker script: it may fetch from this origin only.
pub const WORKER_POLICY: &str = "default-src 'self'; frame-ancestors 'none'";

/// The static files every build keeps offline besides the bundles.
const STATIC: [&str; 5] = [
    "/favicon.svg",
    "/manifest.webmanifest",
    "/icons/icon-192.png",
    "/icons/icon-512.png",
    "/icons/icon-maskable-512.png",
];

/// What the worker keeps at install: the page's bundles (the app, its stylesheet, the
/// tools module) and [`STATIC`].
pub fn precache(assets: &app::Assets) -> Vec<String> {
    [
        &assets.js,
        &assets.wasm,
        &assets.css,
        &assets.tools_js,
        &assets.tools_wasm,
    ]
    .into_iter()
    .map(|name| format!("/pkg/{name}"))
    .chain(STATIC.iter().map(|s| s.to_string()))
    .collect()
}

/// The build id: a hash of what the worker keeps, so any new bundle makes a new worker.
pub fn build_id(precache: &[String]) -> String {
    let digest = Sha256::digest(precache.join("\n").as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The worker script for `assets`.
pub fn worker_script(assets: &app::Assets) -> String {
    let list = precache(assets);
    let build = build_id(&list);
    // JSON strings and arrays are valid JavaScript literals.
    let list = serde_json::to_string(&list).unwrap_or_else(|_| "[]".to_string());
    format!("const BUILD = \"{build}\";\nconst PRECACHE = {list};\n\n{WORKER}")
}

/// The worker script of this server's build, made once at start (the bundles do not change
/// while it runs).
#[derive(Clone, Debug)]
pub struct WorkerScript(axum::body::Bytes);

impl WorkerScript {
    pub fn new(assets: &app::Assets) -> Self {
        WorkerScript(worker_script(assets).into())
    }
}

/// `GET /sw.js`.
pub async fn service_worker(State(script): State<WorkerScript>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(WORKER_POLICY),
            ),
        ],
        script.0,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assets(js: &str) -> app::Assets {
        app::Assets {
            js: js.into(),
            ..app::Assets::default()
        }
    }

    #[test]
    fn the_worker_names_its_build_and_what_it_keeps() {
        let script = worker_script(&assets("data-modeller.0123456789abcdef.js"));
        assert!(script.starts_with("const BUILD = \""));
        assert!(script.contains(r#""/pkg/data-modeller.0123456789abcdef.js""#));
        assert!(script.contains(r#""/manifest.webmanifest""#));
        assert!(script.contains("self.addEventListener(\"fetch\""));
        // The API is never kept: it is not in the list, and the worker leaves it to the network.
        let list = script.lines().nth(1).unwrap_or_default();
        assert!(
            list.starts_with("const PRECACHE = [") && !list.contains("/api"),
            "{list}"
        );
        assert!(script.contains(r#"p.startsWith("/api/")"#));
    }

    #[test]
    fn a_new_build_is_a_new_worker() {
        let a = worker_script(&assets("data-modeller.0123456789abcdef.js"));
        let b = worker_script(&assets("data-modeller.fedcba9876543210.js"));
        assert_ne!(a.lines().next(), b.lines().next());
        assert_eq!(
            worker_script(&assets("data-modeller.0123456789abcdef.js")),
            a,
            "the same build, the same bytes"
        );
    }
}
