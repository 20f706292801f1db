//! The `server` command: serve the app (the default), run the database migrations, or work on
//! model files (`convert`, `diff`, `migrate-sql`, `validate`; see `server::cli`).

use clap::{Parser, Subcommand};
use server::{cli, config::Config, launch, shutdown_signal, AppState};
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    about = "Data Modeller server: web app, API, key vault, LLM gateway and sync store",
    after_help = cli::EXIT_CODES
)]
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
    #[command(flatten)]
    Model(cli::ModelCommand),
}

fn main() -> anyhow::Result<ExitCode> {
    let args = Cli::parse();
    let migrate_only = match args.command {
        // The model commands touch neither the data directory nor the network: they run
        // before any of the server's start-up, without an async runtime.
        Some(Command::Model(command)) => {
            return Ok(ExitCode::from(cli::run_stdio(&command).code()))
        }
        Some(Command::Migrate) => true,
        Some(Command::Serve) | None => false,
    };
    tokio::runtime::Runtime::new()?.block_on(run_server(args.config, migrate_only))?;
    Ok(ExitCode::SUCCESS)
}

/// Starts the server's state (which creates and migrates the database), then serves, unless
/// `migrate_only`.
async fn run_server(config: Config, migrate_only: bool) -> anyhow::Result<()> {
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
    let addr = config.addr;
    let state = AppState::start(config).await?;
    if migrate_only {
        tracing::info!("database is up to date");
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    launch(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}
