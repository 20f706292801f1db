//! The provider key never appears in a log line: a whole session (add the provider, call it
//! streamed and not, fail upstream, sync) runs with every log target at TRACE, captured, and
//! the capture is scanned for the key.

#![allow(clippy::unwrap_used)]

mod common;

use common::{start_fake, start_server, Client};
use serde_json::json;
use server::fake::FakeOptions;
use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

const KEY: &str = "sk-log-scan-SECRET-2468";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// One thread: the subscriber set with `set_default` sees every task of the test, including
// the server's and the HTTP client's.
#[tokio::test(flavor = "current_thread")]
async fn the_key_is_in_no_log_line() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (fake_url, _) = start_fake(FakeOptions {
        chunk_delay: Duration::ZERO,
        expect_key: Some(KEY.into()),
        ..FakeOptions::default()
    })
    .await;
    let server = start_server(|_| {}).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let good = alice.add_provider("good", &fake_url, KEY).await;
    let bad = alice
        .add_provider("bad", &fake_url, &format!("{KEY}-wrong"))
        .await;
    let messages = json!([{ "role": "user", "content": "a library" }]);
    for (provider, stream) in [(&good, true), (&good, false), (&bad, true), (&bad, false)] {
        let reply = alice
            .post(
                &format!("/api/v1/llm/{provider}/chat/completions"),
                json!({ "messages": messages, "stream": stream }),
            )
            .await;
        assert!(
            reply.status.is_success() || reply.code() == "AI_PROVIDER_AUTH",
            "{}",
            reply.text
        );
    }
    alice.get("/api/v1/providers").await;
    drop(server);
    tokio::time::sleep(Duration::from_millis(50)).await;

    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    assert!(
        logs.contains("llm call forwarded"),
        "the capture works: {}",
        &logs[..logs.len().min(2000)]
    );
    assert!(logs.contains("provider returned an error"));
    assert!(
        !logs.contains(KEY) && !logs.contains("SECRET"),
        "the key is in the logs"
    );
    for text in alice.seen.lock().unwrap().iter() {
        assert!(!text.contains("SECRET"), "the key is in a response: {text}");
    }
}
