//! The site's static files: the hashed bundles under `/pkg`, kept by browsers for a year, and
//! the names the page shell loads them by.
//!
//! The site build (`.ci/site`) names every file under `pkg/` after a hash of its content and
//! writes `pkg/assets.json`, which [`load`] reads once at start for the shell
//! ([`app::Assets`]). A hashed file never changes under its name, so it is sent with
//! `Cache-Control: public, max-age=31536000, immutable`; anything else under `/pkg` (a
//! cargo-leptos build's plain names) with `no-cache`, so browsers revalidate it by its
//! `Last-Modified`. The brotli and gzip variants the build made beside each file are chosen by
//! `Accept-Encoding`; the server never compresses these files itself.

use axum::{
    body::Body,
    http::{header, HeaderValue, Request, StatusCode},
    middleware::Next,
    response::Response,
    Router,
};
use std::path::Path;
use tower_http::services::ServeDir;

/// `Cache-Control` of a file whose name carries its content's hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of every other static file: keep it, but ask first.
pub const REVALIDATE: &str = "no-cache";

/// Reads `pkg/assets.json` under the site root. Without it (a cargo-leptos build, or no build
/// yet) the shell uses the plain names, and says so once.
pub fn load(site_root: &Path) -> app::Assets {
    let path = site_root.join("pkg").join("assets.json");
    match std::fs::read(&path) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(assets) => assets,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "unreadable asset list; using plain names");
                app::Assets::default()
            }
        },
        Err(e) => {
            tracing::info!(path = %path.display(), error = %e, "no asset list (not built by .ci/site); using plain names");
            app::Assets::default()
        }
    }
}

/// Whether `name` is a file name with a content hash as the site build writes them:
/// `stem.<16 hex digits>.ext`.
pub fn is_hashed(name: &str) -> bool {
    let mut parts = name.rsplit('.');
    let _ext = parts.next();
    let hash = parts.next().unwrap_or_default();
    parts.next().is_some()
        && hash.len() == 16
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The `/pkg` service: files from `<site root>/pkg` with their compressed variants, cache
/// headers by name, and a plain 404 (not the app's page) for a file that is not there.
pub fn pkg_router(site_root: &Path) -> Router {
    let files = ServeDir::new(site_root.join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .fallback_service(files)
        .layer(axum::middleware::from_fn(cache_headers))
}

async fn cache_headers(request: Request<Body>, next: Next) -> Response {
    let hashed = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .is_some_and(is_hashed);
    let mut response = next.run(request).await;
    let status = response.status();
    if status == StatusCode::OK || status == StatusCode::NOT_MODIFIED {
        let value = if hashed { IMMUTABLE } else { REVALIDATE };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
        // The same URL answers brotli, gzip or plain by `Accept-Encoding`: caches must know.
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_with_a_sixteen_digit_hex_hash_are_hashed() {
        assert!(is_hashed("data-modeller.0123456789abcdef.wasm"));
        assert!(!is_hashed("data-modeller.wasm"));
        assert!(!is_hashed("0123456789abcdef.wasm"));
        assert!(!is_hashed("data-modeller.0123456789ABCDEF.wasm"));
        assert!(!is_hashed("data-modeller.0123456789abcde.wasm"));
        assert!(!is_hashed("assets.json"));
    }
}
