//! Server configuration: command-line flags, each with an environment variable and a default.
//!
//! Defaults give a working single-user install: listen on 127.0.0.1:3000, keep everything
//! under `./data` (SQLite database and master key file, both created on first start).

use crate::clock::Clock;
use crate::egress::{AllowList, Resolver};
use clap::{Args, ValueEnum};
use std::{net::SocketAddr, path::PathBuf};

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

    /// LLM calls allowed per user per minute (0: no limit).
    #[arg(long, env = "DM_LLM_REQUESTS_PER_MINUTE", default_value_t = 30)]
    pub llm_requests_per_minute: u32,

    /// LLM tokens (prompt and completion) allowed per user per minute. A call is charged an
    /// estimate when it starts and corrected with the provider's reported usage when it ends.
    #[arg(long, env = "DM_LLM_TOKENS_PER_MINUTE", default_value_t = 200_000)]
    pub llm_tokens_per_minute: u64,

    /// Completion tokens assumed for a call that sets no `max_tokens`, for the estimate.
    #[arg(long, env = "DM_LLM_DEFAULT_COMPLETION_TOKENS", default_value_t = 1024)]
    pub llm_default_completion_tokens: u64,

    /// Register and login attempts allowed per client IP address per minute (0: no limit). IPv6
    /// addresses count per /64 block.
    #[arg(long, env = "DM_AUTH_ATTEMPTS_PER_MINUTE", default_value_t = 10)]
    pub auth_attempts_per_minute: u32,

    /// Share link pages (`/s/…`, `/e/…` and their downloads) a client IP address may open
    /// per minute (0: no limit), so that tokens cannot be guessed by trying them. IPv6
    /// addresses count per /64 block.
    #[arg(long, env = "DM_SHARE_LOOKUPS_PER_MINUTE", default_value_t = 60)]
    pub share_lookups_per_minute: u32,

    /// Take the client IP from the last `X-Forwarded-For` entry (only behind a trusted proxy).
    #[arg(long, env = "DM_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,

    /// Most users or IP addresses the rate limiter keeps state for; beyond it, the oldest
    /// idle entries are dropped first, so memory stays bounded.
    #[arg(long, env = "DM_RATE_LIMIT_MAX_KEYS", default_value_t = 100_000)]
    pub rate_limit_max_keys: usize,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "DM_BODY_LIMIT", default_value_t = 2 * 1024 * 1024)]
    pub body_limit: usize,

    /// Milliseconds to wait for a TCP/TLS connection to the provider.
    #[arg(long, env = "DM_UPSTREAM_CONNECT_TIMEOUT_MS", default_value_t = 10_000)]
    pub upstream_connect_timeout_ms: u64,

    /// Milliseconds to wait for the provider's first byte (response headers and first chunk).
    #[arg(
        long,
        env = "DM_UPSTREAM_FIRST_BYTE_TIMEOUT_MS",
        default_value_t = 60_000
    )]
    pub upstream_first_byte_timeout_ms: u64,

    /// Milliseconds a stream may stay silent between two chunks.
    #[arg(long, env = "DM_UPSTREAM_IDLE_TIMEOUT_MS", default_value_t = 60_000)]
    pub upstream_idle_timeout_ms: u64,

    /// Milliseconds a whole call may take, stream included.
    #[arg(long, env = "DM_UPSTREAM_TOTAL_TIMEOUT_MS", default_value_t = 600_000)]
    pub upstream_total_timeout_ms: u64,

    /// Retries of a call that failed before its first byte (429, 5xx, connect error).
    #[arg(long, env = "DM_UPSTREAM_RETRIES", default_value_t = 2)]
    pub upstream_retries: u32,

    /// Base of the jittered exponential backoff between retries, in milliseconds.
    #[arg(long, env = "DM_UPSTREAM_RETRY_BASE_MS", default_value_t = 250)]
    pub upstream_retry_base_ms: u64,

    /// Longest wait before a retry, in milliseconds; a `Retry-After` beyond it is not waited
    /// for: the provider's 429 goes to the client instead.
    #[arg(long, env = "DM_UPSTREAM_RETRY_MAX_WAIT_MS", default_value_t = 10_000)]
    pub upstream_retry_max_wait_ms: u64,

    /// Upstream addresses allowed beyond public ones, separated by commas: ranges
    /// (`10.0.0.0/8`), addresses with an optional port (`127.0.0.1:11434`, `[::1]:8000`), host
    /// names with an optional port (`localhost:11434`), or `*` for everything. By default a
    /// provider's base URL must resolve to public addresses only (see `crate::egress`).
    #[arg(long, env = "DM_UPSTREAM_ALLOW", default_value = "")]
    pub upstream_allow: AllowList,

    /// How host names are resolved: the system's resolver, or a table in tests.
    #[arg(skip)]
    pub resolver: Resolver,

    /// The clock the share link handlers read: the system's, or a manual one in tests.
    #[arg(skip)]
    pub clock: Clock,

    /// Mark the session cookie `Secure` (set this when serving over HTTPS).
    #[arg(long, env = "DM_COOKIE_SECURE", default_value_t = false)]
    pub cookie_secure: bool,

    /// Session lifetime in days.
    #[arg(long, env = "DM_SESSION_DAYS", default_value_t = 30)]
    pub session_days: u32,

    /// Who may create an account through `POST /api/v1/auth/register`: anyone (`open`), only
    /// holders of an invite code an administrator made (`invite`), or no one (`closed`). In
    /// every mode the very first account of an install may register (it becomes the
    /// administrator), and `server create-user` always works.
    #[arg(long, env = "DM_REGISTRATION", value_enum, default_value_t = Registration::Open)]
    pub registration: Registration,

    /// Days the audit log keeps an event (0: keep every event).
    #[arg(long, env = "DM_AUDIT_DAYS", default_value_t = 365)]
    pub audit_days: u32,
}

/// Who may register (`DM_REGISTRATION`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Registration {
    /// Anyone who reaches the server.
    #[default]
    Open,
    /// Only with an invite code from an administrator.
    Invite,
    /// Nobody (accounts come from `server create-user`).
    Closed,
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

    /// A configuration for tests: everything under `data_dir`, defaults otherwise.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            database_url: None,
            master_key: None,
            site_root: PathBuf::from("target/site"),
            llm_requests_per_minute: 30,
            llm_tokens_per_minute: 200_000,
            llm_default_completion_tokens: 1024,
            auth_attempts_per_minute: 10,
            share_lookups_per_minute: 60,
            trust_forwarded_for: false,
            rate_limit_max_keys: 100_000,
            body_limit: 2 * 1024 * 1024,
            upstream_connect_timeout_ms: 10_000,
            upstream_first_byte_timeout_ms: 60_000,
            upstream_idle_timeout_ms: 60_000,
            upstream_total_timeout_ms: 600_000,
            upstream_retries: 2,
            upstream_retry_base_ms: 250,
            upstream_retry_max_wait_ms: 10_000,
            upstream_allow: AllowList::default(),
            resolver: Resolver::default(),
            clock: Clock::default(),
            cookie_secure: false,
            session_days: 30,
            registration: Registration::Open,
            audit_days: 365,
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
