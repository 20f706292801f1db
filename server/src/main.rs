//! The `server` command: serve the app (the default), run the database migrations, operate on
//! the data directory (`rotate-master-key`, `create-user`, `backup`, `restore`; see `admin`).
//! The model commands (`convert`, `diff`, `migrate-sql`, `validate`) are the `dm` binary of the
//! `cli` crate.
//!
//! The server settings ([`Config`]) are global flags: they may come before or after the
//! subcommand (`server rotate-master-key --data-dir /srv/dm`).

mod admin;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use server::{config::Config, launch, shutdown_signal, AppState};
use std::{future::Future, io::Write, path::PathBuf, process::ExitCode};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    about = "Data Modeller server: web app, API, key vault, LLM gateway and sync store",
    after_help = OPS_EXIT_CODES
)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Exit codes of the operations commands.
const OPS_EXIT_CODES: &str = "\
Exit codes: 0 ok, 1 failed (the message on standard error says why and what to do), 2 usage error";

#[derive(Subcommand)]
enum Command {
    /// Serve the app (the default).
    Serve,
    /// Create the database if needed, apply migrations, and exit.
    Migrate,
    /// Re-encrypt every stored provider key with a new master key (stop the server first).
    /// With the key file, a new one is generated; with DM_MASTER_KEY, the new key comes from
    /// DM_NEW_MASTER_KEY and must then replace DM_MASTER_KEY.
    #[command(after_help = OPS_EXIT_CODES)]
    RotateMasterKey,
    /// Create an account; the password is DM_NEW_PASSWORD, else the first line of standard
    /// input.
    #[command(after_help = OPS_EXIT_CODES)]
    CreateUser {
        username: String,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Copy the database to a new file (safe while the server runs). The provider keys in
    /// it open only with the same master key: keep that safe too.
    #[command(after_help = OPS_EXIT_CODES)]
    Backup {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Replace the database with a backup (stop the server first); the previous database is
    /// kept as <db>.before-restore.
    #[command(after_help = OPS_EXIT_CODES)]
    Restore {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// The command line: the server settings made global, so they may follow the subcommand.
fn command_line() -> clap::Command {
    Cli::command().mut_args(|arg| arg.global(true))
}

fn main() -> anyhow::Result<ExitCode> {
    let matches: ArgMatches = command_line().get_matches();
    let args = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let config = args.config;
    let migrate_only = match args.command {
        Some(Command::RotateMasterKey) => {
            return Ok(operate(admin::rotate_master_key(&config)));
        }
        Some(Command::CreateUser { username, admin }) => {
            return Ok(operate(admin::create_user(&config, &username, admin)));
        }
        Some(Command::Backup { file }) => return Ok(operate(admin::backup(&config, &file))),
        Some(Command::Restore { file }) => return Ok(operate(admin::restore(&config, &file))),
        Some(Command::Migrate) => true,
        Some(Command::Serve) | None => false,
    };
    init_logging(false);
    tokio::runtime::Runtime::new()?.block_on(run_server(config, migrate_only))?;
    Ok(ExitCode::SUCCESS)
}

/// Runs an operations command: its result line on standard output and exit code 0, or its
/// error on standard error and exit code 1. Logs (warnings by default) go to standard error.
fn operate(work: impl Future<Output = anyhow::Result<String>>) -> ExitCode {
    init_logging(true);
    let outcome = tokio::runtime::Runtime::new()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(work));
    match outcome {
        Ok(message) => {
            // The result line is the command's output, for people and scripts alike.
            let _ = writeln!(std::io::stdout().lock(), "{message}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Logs as `DM_LOG` and `DM_LOG_FORMAT` say; the operations commands log to standard error
/// (warnings and above unless `DM_LOG` says otherwise), keeping standard output for results.
fn init_logging(ops: bool) {
    let default = if ops { "warn" } else { "info,sqlx=warn" };
    let filter = EnvFilter::try_from_env("DM_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let json = std::env::var("DM_LOG_FORMAT").as_deref() == Ok("json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match (ops, json) {
        (true, true) => builder.json().with_writer(std::io::stderr).init(),
        (true, false) => builder.with_writer(std::io::stderr).init(),
        (false, true) => builder.json().init(),
        (false, false) => builder.init(),
    }
}

/// Starts the server's state (which creates and migrates the database), then serves, unless
/// `migrate_only`. Serving holds the server lock, so `restore` and `rotate-master-key` refuse
/// to run beside it.
async fn run_server(config: Config, migrate_only: bool) -> anyhow::Result<()> {
    let _lock = if migrate_only {
        None
    } else {
        Some(admin::lock_data_dir(&config.data_dir)?)
    };
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
