//! The site's files and the response compression, through the real server on a socket: hashed
//! bundles cached for a year and sent in the compressed variant the client accepts, other
//! files revalidated by date, pages and JSON compressed, and the LLM's event stream never
//! compressed (compressing it would hold chunks back).

#![allow(clippy::unwrap_used)]

mod common;

use common::{start_fake, start_server, Client, TestServer};
use fake_provider::{FakeOptions, Rule, Script};
use reqwest::{header, StatusCode};
use serde_json::json;
use std::{io::Read, path::Path, time::Duration};

const JS: &str = "data-modeller.0123456789abcdef.js";
const WASM: &str = "data-modeller.fedcba9876543210.wasm";

/// A site as `.ci/site` lays it out: hashed bundles with `.br` and `.gz` variants (their
/// content only marks which variant was sent), a plain file, and `pkg/assets.json`.
fn write_site(root: &Path) {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    for name in [JS, WASM] {
        std::fs::write(pkg.join(name), format!("plain {name}")).unwrap();
        std::fs::write(pkg.join(format!("{name}.br")), format!("brotli {name}")).unwrap();
        std::fs::write(pkg.join(format!("{name}.gz")), format!("gzip {name}")).unwrap();
    }
    std::fs::write(pkg.join("data-modeller.css"), "body { color: black }").unwrap();
    let assets = json!({
        "js": JS, "wasm": WASM, "css": "data-modeller.css",
        "tools_js": "data-modeller-tools.aaaaaaaaaaaaaaaa.js",
        "tools_wasm": "data-modeller-tools.bbbbbbbbbbbbbbbb.wasm",
    });
    std::fs::write(pkg.join("assets.json"), assets.to_string()).unwrap();
    std::fs::write(root.join("favicon.svg"), "<svg/>").unwrap();
}

async fn server_with_site() -> (TestServer, tempfile::TempDir) {
    let site = tempfile::tempdir().unwrap();
    write_site(site.path());
    let root = site.path().to_path_buf();
    let server = start_server(move |config| config.site_root = root).await;
    (server, site)
}

async fn get(url: &str, headers: &[(header::HeaderName, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    request.send().await.unwrap()
}

fn header_of(response: &reqwest::Response, name: header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[tokio::test]
async fn hashed_bundles_are_immutable_and_sent_in_the_variant_the_client_accepts() {
    let (server, _site) = server_with_site().await;
    for name in [JS, WASM] {
        let url = format!("{}/pkg/{name}", server.base);
        for (accept, encoding, body) in [
            (Some("br, gzip"), Some("br"), format!("brotli {name}")),
            (Some("gzip"), Some("gzip"), format!("gzip {name}")),
            (
                Some("gzip;q=1, br;q=0.5"),
                Some("gzip"),
                format!("gzip {name}"),
            ),
            (None, None, format!("plain {name}")),
        ] {
            let headers: Vec<_> = accept
                .map(|a| (header::ACCEPT_ENCODING, a))
                .into_iter()
                .collect();
            let response = get(&url, &headers).await;
            assert_eq!(response.status(), StatusCode::OK, "{name} {accept:?}");
            assert_eq!(
                header_of(&response, header::CACHE_CONTROL).as_deref(),
                Some("public, max-age=31536000, immutable")
            );
            assert_eq!(
                header_of(&response, header::VARY).as_deref(),
                Some("accept-encoding")
            );
            assert_eq!(
                header_of(&response, header::CONTENT_ENCODING).as_deref(),
                encoding,
                "{name} {accept:?}"
            );
            assert_eq!(response.text().await.unwrap(), body, "{name} {accept:?}");
        }
    }
}

#[tokio::test]
async fn unhashed_files_are_revalidated_by_date_and_missing_bundles_are_a_plain_404() {
    let (server, _site) = server_with_site().await;
    let url = format!("{}/pkg/data-modeller.css", server.base);
    let first = get(&url, &[]).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(
        header_of(&first, header::CACHE_CONTROL).as_deref(),
        Some("no-cache")
    );
    let modified = header_of(&first, header::LAST_MODIFIED).expect("Last-Modified");
    let again = get(&url, &[(header::IF_MODIFIED_SINCE, &modified)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let missing = get(
        &format!("{}/pkg/data-modeller.1111111111111111.wasm", server.base),
        &[],
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(header_of(&missing, header::CACHE_CONTROL).is_none());
    assert!(!missing.text().await.unwrap().contains("<html"));
}

#[tokio::test]
async fn the_page_loads_the_hashed_bundles_and_pages_and_json_are_compressed() {
    let (server, _site) = server_with_site().await;
    let page = get(
        &format!("{}/", server.base),
        &[(header::ACCEPT_ENCODING, "gzip")],
    )
    .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        header_of(&page, header::CONTENT_ENCODING).as_deref(),
        Some("gzip")
    );
    let html = gunzip(&page.bytes().await.unwrap());
    for name in [
        JS,
        WASM,
        "data-modeller.css",
        "data-modeller-tools.aaaaaaaaaaaaaaaa.js",
        "data-modeller-tools.bbbbbbbbbbbbbbbb.wasm",
    ] {
        assert!(
            html.contains(&format!("/pkg/{name}")),
            "{name} not in the page"
        );
    }

    let document = get(
        &format!("{}/api/v1/openapi.json", server.base),
        &[(header::ACCEPT_ENCODING, "gzip")],
    )
    .await;
    assert_eq!(document.status(), StatusCode::OK);
    assert_eq!(
        header_of(&document, header::CONTENT_ENCODING).as_deref(),
        Some("gzip")
    );
    let text = gunzip(&document.bytes().await.unwrap());
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(parsed["openapi"].is_string());

    // A client that accepts nothing compressed gets the same page plainly.
    let plain = get(&format!("{}/", server.base), &[]).await;
    assert!(header_of(&plain, header::CONTENT_ENCODING).is_none());
    assert!(plain.text().await.unwrap().contains(&format!("/pkg/{JS}")));
}

#[tokio::test]
async fn the_llm_stream_is_never_compressed_and_its_chunks_leave_as_they_come() {
    let (fake_url, _fake) = start_fake(FakeOptions {
        script: Script {
            rules: vec![Rule {
                when_contains: String::new(),
                reply: "a reply long enough to come in several chunks".into(),
            }],
        },
        chunk_chars: 8,
        chunk_delay: Duration::ZERO,
        expect_key: None,
        record: false,
    })
    .await;
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let provider = alice.add_provider("fake", &fake_url, "sk-test").await;
    let mut response = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/llm/{provider}/chat/completions",
            server.base
        ))
        .header("x-dm-csrf", "1")
        .header(header::COOKIE, alice.cookie.clone().unwrap())
        .header(header::ACCEPT_ENCODING, "br, gzip")
        .json(&json!({
            "model": "fake-model?drip_ms=100",
            "messages": [{ "role": "user", "content": "say hello" }],
            "stream": true,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header_of(&response, header::CONTENT_ENCODING).is_none());
    assert_eq!(
        header_of(&response, header::CONTENT_TYPE).as_deref(),
        Some("text/event-stream")
    );
    // Each event arrives on its own: a buffering layer would hand over the stream whole (or
    // in compressed blocks that are not events).
    let mut events = 0;
    while let Some(chunk) = response.chunk().await.unwrap() {
        let text = std::str::from_utf8(&chunk).unwrap();
        assert!(text.starts_with("data: "), "{text:?}");
        events += text.matches("data: ").count();
        assert_eq!(
            text.matches("data: ").count(),
            1,
            "events were held back and sent together: {text:?}"
        );
    }
    assert!(events >= 4, "{events} events");
}
