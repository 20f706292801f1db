//! Server configuration: command-line flags, each with an environment variable and a default.
//!
//! Defaults give a working single-user install: listen on 127.0.0.1:3000, keep everything
//! under `./data` (SQLite database and master key file, both created on first start).

use clap::Args;
use std::{net::SocketAddr, path::PathBuf, time::Duration};

/// Settings of a running server.
#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "DM_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Directory for the SQLite database and the master key file; created if missing.
    #[arg(long, env = "DM_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// SQLite URL; defaults to `sqlite://<data-dir>/data-modeller.db`.
    #[arg(long, env = "DM_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Master key for the key vault, base64 of 32 bytes; if unset, `<data-dir>/master.key` is
    /// used (and created on first start).
    #[arg(long, env = "DM_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<Secret>,

    /// Where the built site (pkg/ and public files) lives.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// LLM calls allowed per user per minute.
    #[arg(long, env = "DM_LLM_REQUESTS_PER_MINUTE", default_value_t = 30)]
    pub llm_requests_per_minute: u32,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "DM_BODY_LIMIT", default_value_t = 2 * 1024 * 1024)]
    pub body_limit: usize,

    /// Seconds to wait for the provider's first byte before giving up.
    #[arg(long, env = "DM_UPSTREAM_FIRST_BYTE_TIMEOUT", default_value_t = 60)]
    pub upstream_first_byte_timeout_secs: u64,

    /// Mark the session cookie `Secure` (set this when serving over HTTPS).
    #[arg(long, env = "DM_COOKIE_SECURE", default_value_t = false)]
    pub cookie_secure: bool,

    /// Session lifetime in days.
    #[arg(long, env = "DM_SESSION_DAYS", default_value_t = 30)]
    pub session_days: u32,
}

impl Config {
    /// The SQLite URL to connect to.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir.join("data-modeller.db").display()
            )
        })
    }

    pub fn first_byte_timeout(&self) -> Duration {
        Duration::from_secs(self.upstream_first_byte_timeout_secs)
    }

    /// A configuration for tests: everything under `data_dir`, defaults otherwise.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            database_url: None,
            master_key: None,
            site_root: PathBuf::from("target/site"),
            llm_requests_per_minute: 30,
            body_limit: 2 * 1024 * 1024,
            upstream_first_byte_timeout_secs: 60,
            cookie_secure: false,
            session_days: 30,
        }
    }
}

/// A secret setting: kept out of `Debug` output and logs.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}
