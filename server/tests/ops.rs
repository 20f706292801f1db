//! Operations: the OpenAPI document (valid, and in agreement with the router), the Prometheus
//! metrics, the probes, and the structured logs of the real binary.
//!
//! An *operation* is one path and method of the document, such as `DELETE /tokens/{id}`. The
//! router's *fallbacks* are what it answers when no route matches: under `/api/v1`, a 404
//! envelope saying "API route not found: check the id" for an unknown path and a 400
//! `VAL_METHOD` for a known path with the wrong method; outside it, the web app's 404 page.

#![allow(clippy::unwrap_used)]

mod common;

use common::{start_fake, start_server, Client, Reply};
use fake_provider::FakeOptions;
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};
use server::{config::Config, AppState};
use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use uuid::Uuid;

/// The message of the `/api/v1` fallback for an unknown path.
const UNKNOWN_ROUTE: &str = "API route not found: check the id";

/// `(path, method)` of every `.route("path", get(..).post(..))` call in `source`, with
/// `prefix` before the path. Method names are lower case, as in the OpenAPI document.
fn source_routes(source: &str, prefix: &str) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (start, _) in source.match_indices(".route(") {
        // The call's text, up to its closing parenthesis.
        let rest = &source[start + ".route(".len()..];
        let mut depth = 1;
        let mut in_string = false;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '"' => in_string = !in_string,
                '(' if !in_string => depth += 1,
                ')' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let call = &rest[..end];
        let path = call.split('"').nth(1).expect("a route path literal");
        for method in ["get", "post", "put", "patch", "delete"] {
            let token = format!("{method}(");
            let called = call.match_indices(&token).any(|(i, _)| {
                i == 0
                    || !call[..i]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            });
            if called {
                routes.insert((format!("{prefix}{path}"), method.to_string()));
            }
        }
    }
    routes
}

/// The router's routes, read from its source: the root routes of `lib.rs` and the API routes
/// of `routes/mod.rs` under `/api/v1`.
fn router_routes() -> BTreeSet<(String, String)> {
    let root = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs")).unwrap();
    let api =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/routes/mod.rs")).unwrap();
    assert!(
        root.contains(r#".nest("/api/v1", routes::api())"#),
        "the API is no longer nested at /api/v1: update this test"
    );
    let mut routes = source_routes(&root, "");
    routes.extend(source_routes(&api, "/api/v1"));
    routes
}

/// One operation of the document: its full path on the server, method and definition.
struct Operation {
    path: String,
    method: String,
    definition: Value,
}

/// Every operation of the document, with its path prefixed by the server URL that applies
/// (the path's own `servers`, else the document's).
fn documented(doc: &Value) -> Vec<Operation> {
    let default_server = doc["servers"][0]["url"].as_str().unwrap();
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let server = item["servers"][0]["url"].as_str().unwrap_or(default_server);
        for method in ["get", "post", "put", "patch", "delete"] {
            if let Some(definition) = item.get(method) {
                operations.push(Operation {
                    path: format!("{}{path}", server.trim_end_matches('/')),
                    method: method.to_string(),
                    definition: definition.clone(),
                });
            }
        }
    }
    operations
}

/// Resolves a local `$ref` (`#/components/...`), or returns the value as it is.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => doc
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {reference}")),
        None => value,
    }
}

/// Whether `reply` is one of the router's fallbacks.
fn is_fallback(path: &str, reply: &Reply) -> bool {
    let api_fallback = reply.status == StatusCode::NOT_FOUND
        && serde_json::from_str::<Value>(&reply.text)
            .is_ok_and(|v| v["error"]["message"] == UNKNOWN_ROUTE);
    let method_fallback = reply.status == StatusCode::BAD_REQUEST
        && serde_json::from_str::<Value>(&reply.text)
            .is_ok_and(|v| v["error"]["code"] == "VAL_METHOD");
    let root_fallback = !path.starts_with("/api/") && reply.status == StatusCode::NOT_FOUND;
    api_fallback
        || method_fallback
        || root_fallback
        || reply.status == StatusCode::METHOD_NOT_ALLOWED
}

async fn fetch_document(client: &mut Client) -> Value {
    let reply = client.get("/api/v1/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE].to_str().unwrap(),
        "application/json"
    );
    reply.json()
}

#[tokio::test]
async fn the_served_document_is_valid_openapi_3_1() {
    let python = std::env::var("DM_PYTHON").unwrap_or_else(|_| {
        panic!(
            "DM_PYTHON is not set: run the tests with `bash .ci/dev test`, which installs \
             openapi-spec-validator and exports DM_PYTHON, or set it to a Python that has it"
        )
    });
    let server = start_server(|_| {}).await;
    let mut client = Client::new(&server.base);
    let doc = fetch_document(&mut client).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let file = server.dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let validate = |file: std::path::PathBuf| {
        let python = python.clone();
        async move {
            tokio::process::Command::new(&python)
                .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
                .arg(&file)
                .output()
                .await
                .unwrap_or_else(|e| panic!("cannot run {python}: {e}"))
        }
    };
    let output = validate(file).await;
    assert!(
        output.status.success(),
        "openapi-spec-validator refused the document:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    // The validator does refuse a broken document, so its verdict above means something.
    let mut broken = doc.clone();
    broken["paths"]["/tokens/{id}"]["delete"]["parameters"] = json!([]);
    let file = server.dir.path().join("broken.json");
    std::fs::write(&file, serde_json::to_vec(&broken).unwrap()).unwrap();
    let output = validate(file).await;
    assert!(!output.status.success(), "a path parameter went undeclared");
}

#[tokio::test]
async fn the_document_and_the_router_agree() {
    let server = start_server(|_| {}).await;
    let mut client = Client::new(&server.base);
    client.register("doc-checker").await;
    let doc = fetch_document(&mut client).await;
    let operations = documented(&doc);

    // Both directions: every route is documented and every documented operation is a route.
    let in_doc: BTreeSet<(String, String)> = operations
        .iter()
        .map(|o| (o.path.clone(), o.method.clone()))
        .collect();
    let in_router = router_routes();
    assert!(
        in_router.len() >= 20,
        "the source scan found too few routes: {in_router:?}"
    );
    let undocumented: Vec<_> = in_router.difference(&in_doc).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from openapi.json: {undocumented:?}"
    );
    let unrouted: Vec<_> = in_doc.difference(&in_router).collect();
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );

    // The fallback check recognises the fallbacks.
    let unknown = client.get("/api/v1/no/such/route").await;
    assert!(
        is_fallback("/api/v1/no/such/route", &unknown),
        "{}",
        unknown.text
    );
    let wrong_method = client.call(Method::PUT, "/api/v1/providers", None).await;
    assert!(
        is_fallback("/api/v1/providers", &wrong_method),
        "{}",
        wrong_method.text
    );

    // Every documented operation, called on the server, reaches its handler and answers a
    // documented status with a documented content type. Logging out comes last, so that the
    // others run signed in.
    let mut operations = operations;
    operations.sort_by_key(|o| o.path.ends_with("/logout"));
    for operation in &operations {
        let path = operation
            .path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    Uuid::new_v4().to_string()
                } else {
                    segment.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(operation.method.to_uppercase().as_bytes()).unwrap();
        let body = operation.definition.get("requestBody").map(|_| json!({}));
        let reply = client.call(method, &path, body.as_ref()).await;
        let what = format!("{} {path}", operation.method.to_uppercase());
        assert!(
            !is_fallback(&operation.path, &reply),
            "{what} answered the router's fallback: {} {}",
            reply.status,
            reply.text
        );
        let responses = &operation.definition["responses"];
        let documented = responses
            .get(reply.status.as_str())
            .or_else(|| responses.get("default"))
            .unwrap_or_else(|| {
                panic!(
                    "{what} answered {} which is not documented: {}",
                    reply.status, reply.text
                )
            });
        let content = resolve(&doc, documented).get("content");
        if let (Some(content), Some(got)) = (content, reply.headers.get(header::CONTENT_TYPE)) {
            let base = |t: &str| t.split(';').next().unwrap_or_default().trim().to_string();
            let got = base(got.to_str().unwrap());
            let allowed: Vec<String> = content
                .as_object()
                .unwrap()
                .keys()
                .map(|k| base(k))
                .collect();
            assert!(
                allowed.contains(&got),
                "{what} answered {got}, documented {allowed:?}"
            );
        }
    }
}

/// The value of the series `series` (its whole name and labels) in a scrape.
fn series_value(scrape: &str, series: &str) -> Option<f64> {
    scrape
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_llm_calls_and_tokens() {
    let (fake_url, _fake) = start_fake(FakeOptions {
        chunk_delay: Duration::ZERO,
        ..Default::default()
    })
    .await;
    let server = start_server(|_| {}).await;
    let mut client = Client::new(&server.base);
    let username = "metrics-watcher-5c1d";
    client.register(username).await;
    assert_eq!(client.get("/api/v1/providers").await.status, StatusCode::OK);
    assert_eq!(
        client.get("/api/v1/no-such-thing").await.status,
        StatusCode::NOT_FOUND
    );
    let provider = client
        .add_provider("fake", &fake_url, "sk-metrics-secret-9876")
        .await;
    let completions = format!("/api/v1/llm/{provider}/chat/completions");
    let plain = client
        .post(
            &completions,
            json!({ "messages": [{ "role": "user", "content": "draft a lending library" }] }),
        )
        .await;
    assert_eq!(plain.status, StatusCode::OK, "{}", plain.text);
    let streamed = client
        .post(
            &completions,
            json!({
                "messages": [{ "role": "user", "content": "draft a lending library" }],
                "stream": true,
                "stream_options": { "include_usage": true },
            }),
        )
        .await;
    assert_eq!(streamed.status, StatusCode::OK, "{}", streamed.text);
    assert!(streamed.text.contains("[DONE]"), "{}", streamed.text);

    // A call is recorded when its stream is dropped, which may be just after the client has
    // the last byte: scrape until both calls are in, for a generous while.
    let ok_calls = |scrape: &str| {
        ["false", "true"].map(|stream| {
            series_value(
                scrape,
                &format!(
                    r#"llm_calls_total{{provider_kind="compatible",stream="{stream}",outcome="ok"}}"#
                ),
            )
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let scrape = loop {
        let reply = client.get("/metrics").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(
            reply.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/openmetrics-text"),
            "{:?}",
            reply.headers
        );
        if ok_calls(&reply.text) == [Some(1.0), Some(1.0)] || Instant::now() > deadline {
            break reply.text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(ok_calls(&scrape), [Some(1.0), Some(1.0)], "{scrape}");
    assert!(scrape.ends_with("# EOF\n"));

    for (series, expected) in [
        (
            r#"http_requests_total{method="POST",route="/api/v1/auth/register",status="201"}"#,
            1.0,
        ),
        (
            r#"http_requests_total{method="GET",route="/api/v1/providers",status="200"}"#,
            1.0,
        ),
        (
            r#"http_requests_total{method="POST",route="/api/v1/providers",status="201"}"#,
            1.0,
        ),
        (
            r#"http_requests_total{method="GET",route="unmatched",status="404"}"#,
            1.0,
        ),
        (
            r#"http_requests_total{method="POST",route="/api/v1/llm/{provider}/chat/completions",status="200"}"#,
            2.0,
        ),
        (
            r#"http_request_duration_seconds_count{method="GET",route="/api/v1/providers"}"#,
            1.0,
        ),
        (
            r#"http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/api/v1/providers"}"#,
            1.0,
        ),
    ] {
        assert_eq!(
            series_value(&scrape, series),
            Some(expected),
            "{series} in\n{scrape}"
        );
    }
    assert!(scrape.contains("# TYPE http_request_duration_seconds histogram"));
    assert!(
        scrape.contains(r#"http_request_duration_seconds_bucket{le="0.0005",method="GET",route="/api/v1/providers"}"#),
        "{scrape}"
    );
    for kind in ["prompt", "completion"] {
        let tokens = series_value(&scrape, &format!(r#"llm_tokens_total{{type="{kind}"}}"#));
        assert!(
            tokens.unwrap_or_default() > 0.0,
            "{kind} tokens in\n{scrape}"
        );
    }
    let rss = series_value(&scrape, "process_resident_memory_bytes").unwrap_or_default();
    assert!(rss > 0.0, "{scrape}");
    assert!(scrape.contains("build_info{version="), "{scrape}");
    assert!(scrape.contains("rate_limiter_tracked_keys "), "{scrape}");
    // Labels are templates and codes: no user name, id, key or raw path.
    for secret in [
        username,
        provider.as_str(),
        "sk-metrics-secret-9876",
        "no-such-thing",
    ] {
        assert!(!scrape.contains(secret), "the scrape shows {secret}");
    }
}

#[tokio::test]
async fn probes_answer_and_readiness_follows_the_database() {
    let server = start_server(|_| {}).await;
    let mut client = Client::new(&server.base);
    let health = client.get("/healthz").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json(), json!({ "status": "ok" }));
    let ready = client.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.json(), json!({ "status": "ready" }));

    // A server whose database pool is closed under it: alive, but not ready.
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::start(Config::for_data_dir(dir.path().join("data")))
        .await
        .unwrap();
    let store = state.store.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::launch(listener, state, async move {
        let _ = stopped.await;
    }));
    let mut client = Client::new(&base);
    assert_eq!(client.get("/readyz").await.status, StatusCode::OK);
    store.close().await;
    let unready = client.get("/readyz").await;
    assert_eq!(
        unready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        unready.text
    );
    assert_eq!(unready.json(), json!({ "status": "database unavailable" }));
    assert_eq!(client.get("/healthz").await.status, StatusCode::OK);
    let _ = stop.send(());
}

#[tokio::test]
async fn the_binary_logs_one_json_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env("DM_LOG_FORMAT", "json")
        .env("DM_LOG", "info,sqlx=warn")
        .env("DM_DATA_DIR", dir.path().join("data"))
        .env("DM_ADDR", "127.0.0.1:0")
        .env_remove("DM_DATABASE_URL")
        .env_remove("DM_MASTER_KEY")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut stderr = child.stderr.take().unwrap();
    let mut lines = Vec::new();
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).await.unwrap() == 0 {
                return None;
            }
            lines.push(line.clone());
            if let Some((_, addr)) = line.split_once("listening on http://") {
                return Some(addr.split('"').next().unwrap().trim().to_string());
            }
        }
    })
    .await
    .expect("the server said where it listens within 60 s")
    .unwrap_or_else(|| panic!("the server stopped before listening: {lines:?}"));

    // A request that logs a line with fields of its own.
    let mut client = Client::new(&format!("http://{addr}"));
    client.register("log-reader").await;
    drop(client);

    // SIGTERM: the server shuts down gracefully and says so.
    let pid = child.id().unwrap().to_string();
    let killed = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the server stopped within 30 s of SIGTERM")
        .unwrap();
    assert!(status.success(), "{status}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    lines.extend(rest.lines().map(str::to_string));
    let mut errors = String::new();
    stderr.read_to_string(&mut errors).await.unwrap();
    lines.extend(errors.lines().map(str::to_string));

    let mut messages = Vec::new();
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        let event: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {line}"));
        assert!(event.is_object(), "{line}");
        assert!(event["timestamp"].is_string(), "no timestamp: {line}");
        assert!(event["level"].is_string(), "no level: {line}");
        let message = event["fields"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no fields.message: {line}"));
        messages.push(message.to_string());
    }
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("listening on http://")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m == "account created"),
        "{messages:?}"
    );
    assert!(messages.iter().any(|m| m == "stopped"), "{messages:?}");
}
