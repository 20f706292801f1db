//! The fake OpenAI-compatible provider as a program, for demos and browser tests.
//!
//! `fake-provider --addr 127.0.0.1:3199` serves the demo script; point a provider at
//! `http://127.0.0.1:3199/v1` with any model name. Directives after `?` in the model name
//! make a call fail on purpose, for demos of the error handling: `fake-model?status=503`,
//! `fake-model?drip_ms=2000`, `fake-model?cut_after=5` (see `fake_provider::Directives`).

use clap::Parser;
use fake_provider::{router, FakeOptions, Script};
use std::{net::SocketAddr, path::PathBuf, time::Duration};

#[derive(Parser)]
#[command(about = "A fake OpenAI-compatible provider that answers from a script")]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "FAKE_PROVIDER_ADDR", default_value = "127.0.0.1:3199")]
    addr: SocketAddr,
    /// JSON script (`{"rules": [{"when_contains": "...", "reply": "..."}]}`); the demo script if unset.
    #[arg(long)]
    script: Option<PathBuf>,
    /// Characters per streamed chunk.
    #[arg(long, default_value_t = 48)]
    chunk_chars: usize,
    /// Milliseconds between streamed chunks.
    #[arg(long, default_value_t = 15)]
    chunk_delay_ms: u64,
    /// Refuse requests that do not carry this bearer key.
    #[arg(long, env = "FAKE_PROVIDER_KEY")]
    expect_key: Option<String>,
    /// Keep every chat request and list their bodies at `GET /fake/requests` (browser tests
    /// check what a prompt carried). Off by default: a demo keeps nothing.
    #[arg(long)]
    record: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let script = match &cli.script {
        Some(path) => serde_json::from_str::<Script>(&std::fs::read_to_string(path)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        None => Script::demo(),
    };
    let options = FakeOptions {
        script,
        chunk_chars: cli.chunk_chars,
        chunk_delay: Duration::from_millis(cli.chunk_delay_ms),
        expect_key: cli.expect_key,
        record: cli.record,
    };
    let (app, _) = router(options);
    let listener = tokio::net::TcpListener::bind(cli.addr).await?;
    eprintln!("fake provider on http://{}/v1", listener.local_addr()?);
    // Each chunk leaves at once, as from a real provider (no Nagle delay on small writes).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM, so that a test runner stopping the fake lets it close its
/// connections (the server's `shutdown_signal`, which this crate does not depend on).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
