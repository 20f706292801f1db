//! The `server` command: serve the app (the default) or run the database migrations.

use clap::{Parser, Subcommand};
use server::{config::Config, launch, shutdown_signal, AppState};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(about = "Data Modeller server: web app, API, key vault, LLM gateway and sync store")]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the app (the default).
    Serve,
    /// Create the database if needed, apply migrations, and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter =
        EnvFilter::try_from_env("DM_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    if std::env::var("DM_LOG_FORMAT").as_deref() == Ok("json") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .json()
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let addr = cli.config.addr;
    let state = AppState::start(cli.config).await?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => {
            tracing::info!("database is up to date");
            Ok(())
        }
        Command::Serve => {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!("listening on http://{}", listener.local_addr()?);
            launch(listener, state, shutdown_signal()).await?;
            tracing::info!("stopped");
            Ok(())
        }
    }
}
