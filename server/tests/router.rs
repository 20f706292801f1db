//! The router tested in process with `tower::ServiceExt::oneshot`: probes, the error envelope
//! for every kind of bad request, and the CSRF guard.

#![allow(clippy::unwrap_used)]

use axum::{
    body::Body,
    http::{header, Method, Request, StatusCode},
    Router,
};
use http_body_util::BodyExt;
use serde_json::Value;
use server::{app, config::Config, AppState};
use tower::ServiceExt;

async fn router(configure: impl FnOnce(&mut Config)) -> (Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_data_dir(dir.path().join("data"));
    configure(&mut config);
    (app(AppState::start(config).await.unwrap()), dir)
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, body)
}

fn post(uri: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-dm-csrf", "1")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn healthz_and_readyz() {
    let (router, _dir) = router(|_| {}).await;
    let (status, body) = send(
        &router,
        Request::get("/healthz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, body) = send(
        &router,
        Request::get("/readyz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
}

/// Every bad request gets the envelope with a code, never a plain-text rejection or a 500.
#[tokio::test]
async fn bad_requests_get_the_error_envelope() {
    let (router, _dir) = router(|c| c.body_limit = 1024).await;
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (
            Request::get("/api/v1/nope").body(Body::empty()).unwrap(),
            StatusCode::NOT_FOUND,
            "RES_NOT_FOUND",
        ),
        (
            Request::get("/api/v1/auth/me").body(Body::empty()).unwrap(),
            StatusCode::UNAUTHORIZED,
            "AUTH_REQUIRED",
        ),
        (
            post("/api/v1/auth/register", "{not json"),
            StatusCode::BAD_REQUEST,
            "VAL_JSON",
        ),
        (
            post("/api/v1/auth/register", r#"{"username": 3}"#),
            StatusCode::BAD_REQUEST,
            "VAL_FIELDS",
        ),
        (
            post(
                "/api/v1/auth/register",
                r#"{"username": "alice", "password": "long enough password"} trailing"#,
            ),
            StatusCode::BAD_REQUEST,
            "VAL_JSON",
        ),
        (
            post(
                "/api/v1/auth/register",
                r#"{"username": "a", "password": "long enough password"}"#,
            ),
            StatusCode::BAD_REQUEST,
            "VAL_USERNAME",
        ),
        (
            post(
                "/api/v1/auth/register",
                r#"{"username": "alice", "password": "short"}"#,
            ),
            StatusCode::BAD_REQUEST,
            "VAL_PASSWORD",
        ),
        (
            post(
                "/api/v1/auth/register",
                &format!(r#"{{"username": "{}", "password": "x"}}"#, "a".repeat(2000)),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "VAL_BODY_TOO_LARGE",
        ),
        (
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/auth/login")
                .header("x-dm-csrf", "1")
                .body(Body::from("{}"))
                .unwrap(),
            StatusCode::BAD_REQUEST,
            "VAL_CONTENT_TYPE",
        ),
        (
            Request::builder()
                .method(Method::DELETE)
                .uri("/api/v1/auth/me")
                .header("x-dm-csrf", "1")
                .body(Body::empty())
                .unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "VAL_METHOD",
        ),
        (
            Request::builder()
                .method(Method::DELETE)
                .uri("/api/v1/providers/not-a-uuid")
                .header("x-dm-csrf", "1")
                .header(header::COOKIE, "dm_session=whatever")
                .body(Body::empty())
                .unwrap(),
            StatusCode::UNAUTHORIZED,
            "AUTH_REQUIRED",
        ),
    ];
    for (request, status, code) in cases {
        let what = format!("{} {}", request.method(), request.uri());
        let (got_status, body) = send(&router, request).await;
        assert_eq!(got_status, status, "{what}: {body}");
        assert_eq!(body["error"]["code"].as_str(), Some(code), "{what}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            !message.is_empty() && !message.ends_with('.'),
            "{what}: {message:?}"
        );
    }
}

/// A wrong field is named by its path, a missing one too, in `details.fields`.
#[tokio::test]
async fn field_errors_name_their_paths() {
    let (router, _dir) = router(|_| {}).await;
    let check = |body: &'static str, path: &'static str, reason: &'static str| {
        let router = router.clone();
        async move {
            let (status, reply) = send(&router, post("/api/v1/auth/register", body)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {reply}");
            assert_eq!(reply["error"]["code"], "VAL_FIELDS", "{body}: {reply}");
            let fields = reply["error"]["details"]["fields"].as_array().unwrap();
            assert_eq!(fields[0]["path"], path, "{body}: {reply}");
            let said = fields[0]["reason"].as_str().unwrap();
            assert!(said.contains(reason), "{body}: {said}");
            assert!(!said.contains("line 1"), "no serde positions: {said}");
            let message = reply["error"]["message"].as_str().unwrap();
            assert!(message.contains(path), "{message}");
        }
    };
    check(
        r#"{"username": 3, "password": "x"}"#,
        "username",
        "invalid type",
    )
    .await;
    check(r#"{"username": "alice"}"#, "password", "is required").await;
    check(
        r#"{"password": "long enough password"}"#,
        "username",
        "is required",
    )
    .await;
}

/// A wrong method is a 405 whose `Allow` header names the methods the route takes.
#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let (router, _dir) = router(|_| {}).await;
    for (method, uri, allow) in [
        (Method::DELETE, "/api/v1/auth/me", "GET,HEAD"),
        (Method::PUT, "/api/v1/providers", "GET,HEAD,POST"),
        (Method::GET, "/api/v1/auth/login", "POST"),
    ] {
        let request = Request::builder()
            .method(method.clone())
            .uri(uri)
            .header("x-dm-csrf", "1")
            .body(Body::empty())
            .unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}"
        );
        let got = response
            .headers()
            .get(header::ALLOW)
            .map(|v| v.to_str().unwrap().replace(' ', ""));
        assert_eq!(got.as_deref(), Some(allow), "{method} {uri}");
    }
}

/// A request with no credentials at all is told to sign in, before the CSRF check; the
/// routes that sign in keep the CSRF check (no login CSRF).
#[tokio::test]
async fn no_credentials_is_401_before_csrf() {
    let (router, _dir) = router(|_| {}).await;
    let bare = |method: Method, uri: &str, cookie: Option<&str>| {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request.body(Body::from("{}")).unwrap()
    };
    for (request, status, code) in [
        (
            bare(Method::POST, "/api/v1/providers", None),
            StatusCode::UNAUTHORIZED,
            "AUTH_REQUIRED",
        ),
        (
            bare(Method::DELETE, "/api/v1/tokens/x", None),
            StatusCode::UNAUTHORIZED,
            "AUTH_REQUIRED",
        ),
        (
            bare(Method::POST, "/api/v1/sync/push", None),
            StatusCode::UNAUTHORIZED,
            "AUTH_REQUIRED",
        ),
        (
            bare(Method::POST, "/api/v1/providers", Some("dm_session=abc")),
            StatusCode::FORBIDDEN,
            "AUTH_CSRF",
        ),
        (
            bare(Method::POST, "/api/v1/auth/login", None),
            StatusCode::FORBIDDEN,
            "AUTH_CSRF",
        ),
        (
            bare(Method::POST, "/api/v1/auth/register", None),
            StatusCode::FORBIDDEN,
            "AUTH_CSRF",
        ),
    ] {
        let what = format!("{} {}", request.method(), request.uri());
        let (got, body) = send(&router, request).await;
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{what}: {body}"
        );
    }
}

/// A cross-site form post carries the cookie but cannot add the CSRF header.
#[tokio::test]
async fn mutations_without_the_csrf_header_are_refused() {
    let (router, _dir) = router(|_| {}).await;
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/register")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"username": "mallory", "password": "long enough password"}"#,
        ))
        .unwrap();
    let (status, body) = send(&router, request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "AUTH_CSRF");
}

/// The server renders the app's shell: HTML that loads the wasm bundle and the stylesheet,
/// and, knowing there is no session, the sign-in offer at once (no "checking" placeholder).
#[tokio::test]
async fn renders_the_app_shell() {
    let (router, _dir) = router(|_| {}).await;
    let response = router
        .clone()
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(html.contains("/pkg/data-modeller.js"), "{html}");
    assert!(html.contains("/pkg/data-modeller.css"), "{html}");
    assert!(html.contains(r#"{"user":null}"#), "{html}");
    assert!(html.contains(r#"<a href="/login">Sign in"#), "{html}");
    assert!(!html.contains("Checking your session"), "{html}");
}
