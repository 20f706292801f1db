//! Test fixtures: the real server on a real socket with a temporary SQLite file, the fake
//! provider on another socket, and a small client that keeps the session cookie.

#![allow(dead_code, clippy::unwrap_used)]

use fake_provider::{Fake, FakeOptions};
use reqwest::{header, Method, StatusCode};
use serde_json::Value;
use server::{config::Config, AppState};
use std::{net::SocketAddr, sync::Arc};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// A running server; stops (gracefully) and deletes its data directory when dropped.
pub struct TestServer {
    pub base: String,
    pub dir: TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn start_server(configure: impl FnOnce(&mut Config)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_data_dir(dir.path().join("data"));
    // The fake provider runs on loopback, which the upstream policy refuses by default: the
    // tests allow it as an administrator would a local Ollama. Tests of the policy itself
    // set their own list.
    config.upstream_allow = "127.0.0.1".parse().unwrap();
    configure(&mut config);
    let state = AppState::start(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server::launch(listener, state, async move {
        let _ = stopped.await;
    }));
    TestServer {
        base: format!("http://{addr}"),
        dir,
        stop: Some(stop),
    }
}

/// Starts the fake provider; returns its `/v1` base URL and its state.
pub async fn start_fake(options: FakeOptions) -> (String, Arc<Fake>) {
    let (router, fake) = fake_provider::router(options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}/v1"), fake)
}

/// An API client that keeps its session cookie, as a browser would.
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub cookie: Option<String>,
    /// An API token: when set, requests carry it as `Authorization: Bearer` instead of the
    /// cookie and the CSRF header, as a program would.
    pub bearer: Option<String>,
    /// Every response body this client saw, for the key-leak check.
    pub seen: std::sync::Mutex<Vec<String>>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The error code of an error envelope.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

impl Client {
    pub fn new(base: &str) -> Self {
        Client {
            base: base.to_string(),
            http: reqwest::Client::new(),
            cookie: None,
            bearer: None,
            seen: Default::default(),
        }
    }

    pub async fn call(&mut self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = &self.bearer {
            request = request.bearer_auth(token);
        } else {
            if method != Method::GET {
                request = request.header("x-dm-csrf", "1");
            }
            if let Some(cookie) = &self.cookie {
                request = request.header(header::COOKIE, cookie);
            }
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        if let Some(set) = headers.get(header::SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_string();
            self.cookie = if pair.ends_with('=') {
                None
            } else {
                Some(pair)
            };
        }
        for (name, value) in &headers {
            self.seen
                .lock()
                .unwrap()
                .push(format!("{name}: {}", value.to_str().unwrap_or_default()));
        }
        let text = response.text().await.unwrap();
        self.seen.lock().unwrap().push(text.clone());
        Reply {
            status,
            headers,
            text,
        }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&mut self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(&body)).await
    }

    /// Registers and signs in `username`.
    pub async fn register(&mut self, username: &str) -> Value {
        let reply = self
            .post(
                "/api/v1/auth/register",
                serde_json::json!({ "username": username, "password": "correct horse battery" }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        reply.json()
    }

    pub async fn delete(&mut self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates an API token named `name` and returns the secret.
    pub async fn create_token(&mut self, name: &str) -> String {
        let reply = self
            .post("/api/v1/tokens", serde_json::json!({ "name": name }))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        reply.json()["token"].as_str().unwrap().to_string()
    }

    /// Adds a provider and returns its id.
    pub async fn add_provider(&mut self, name: &str, base_url: &str, key: &str) -> String {
        let reply = self
            .post(
                "/api/v1/providers",
                serde_json::json!({ "name": name, "base_url": base_url, "model": "fake-model", "api_key": key }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        reply.json()["id"].as_str().unwrap().to_string()
    }
}

/// Every log line of the test, at TRACE for every target, kept in memory for a scan (a test
/// that no secret is logged). Install it with [`LogCapture::install`] on a `current_thread`
/// runtime: the subscriber is the thread's default, so it sees the server's tasks too.
#[derive(Clone, Default)]
pub struct LogCapture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// A capture set as this thread's subscriber until the guard is dropped.
    pub fn install() -> (LogCapture, tracing::subscriber::DefaultGuard) {
        let capture = LogCapture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        (capture, guard)
    }

    /// What was logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
