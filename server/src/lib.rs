//! Data Modeller's server: the SSR shell, the `/api/v1` JSON API, the key vault, the LLM
//! gateway and the sync store, over one SQLite database.
//!
//! [`AppState::start`] opens everything the server holds for its lifetime (the store over
//! the database pool, vault, HTTP client, rate limiter); [`app()`] builds the router from it;
//! [`launch`] serves it on a listener until a shutdown signal. `main.rs` only parses the
//! command line.

pub mod assets;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod clock;
pub mod config;
pub mod egress;
pub mod error;
pub mod files;
pub mod headers;
pub mod llm;
pub mod metrics;
pub mod pwa;
pub mod ratelimit;
pub mod routes;
pub mod share;
pub mod store;
pub mod vault;

use app::{shell, App};
use axum::{
    extract::DefaultBodyLimit, extract::FromRef, http::HeaderValue, routing::get,
    serve::ListenerExt, Router,
};
use config::Config;
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use metrics::Metrics;
use ratelimit::{Limits, RateLimiter};
use std::{future::Future, sync::Arc, time::Duration};
use store::{Store, StoreError};
use tower_http::{
    compression::CompressionLayer, set_header::SetResponseHeaderLayer, trace::TraceLayer,
};
use vault::Vault;

/// Everything a request handler may need, built once at start-up.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// The hashed names of the site's bundles, for the page shell.
    pub assets: app::Assets,
    /// The service worker script for those bundles (`pwa::worker_script`), made once.
    pub service_worker: pwa::WorkerScript,
    /// The database, opened once: every SQL statement goes through it.
    pub store: Store,
    /// The way out to providers: the upstream URL policy and its HTTP clients.
    pub egress: Arc<egress::Egress>,
    pub vault: Arc<Vault>,
    pub limiter: Arc<RateLimiter>,
    pub metrics: Arc<Metrics>,
    pub caches: Arc<cache::Caches>,
    /// Upstream timeouts and retries, from the configuration.
    pub policy: llm::Policy,
    /// The clock of the share link handlers (`Config::clock`: a manual one in tests).
    pub clock: clock::Clock,
    pub config: Arc<Config>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] vault::VaultError),
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

impl AppState {
    /// Creates the data directory (owner-only) if needed, opens and migrates the database,
    /// loads or creates the master key, and builds the HTTP client and the rate limiter.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        let dir_error = |source| StartError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        };
        if !config.data_dir.exists() {
            std::fs::create_dir_all(&config.data_dir).map_err(dir_error)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(dir_error)?;
            }
        }
        let store = Store::connect(&config.database_url()).await?;
        let vault = vault::open_vault(&config, &store).await?;
        let egress = egress::Egress::new(
            config.upstream_allow.clone(),
            config.resolver.clone(),
            Duration::from_millis(config.upstream_connect_timeout_ms),
        );
        egress.warm_up()?;
        if config.upstream_allow.allows_everything() {
            tracing::warn!(
                "DM_UPSTREAM_ALLOW=* lets providers point at any address, internal ones included"
            );
        }
        let leptos_options = LeptosOptions::builder()
            .output_name("data-modeller")
            .site_root(config.site_root.to_string_lossy().as_ref())
            .site_pkg_dir("pkg")
            .site_addr(config.addr)
            .build();
        let assets = assets::load(&config.site_root);
        Ok(AppState {
            leptos_options,
            service_worker: pwa::WorkerScript::new(&assets),
            assets,
            store,
            egress: Arc::new(egress),
            vault: Arc::new(vault),
            limiter: Arc::new(RateLimiter::new(Limits::from_config(&config))),
            metrics: Arc::new(Metrics::new()),
            caches: Arc::new(cache::Caches::default()),
            policy: llm::Policy::from_config(&config),
            clock: config.clock.clone(),
            config: Arc::new(config),
        })
    }
}

/// The whole router: probes, the API, the server-rendered app and its static files.
pub fn app(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    // Every rendered page gets its response's CSP nonce, who is signed in and the bundles'
    // hashed names.
    let page_context = {
        let assets = state.assets.clone();
        move || {
            headers::provide_request_nonce();
            auth::provide_page_session();
            leptos::prelude::provide_context(assets.clone());
        }
    };
    Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/metrics", get(metrics::endpoint))
        // The service worker, at the root so that its scope is the whole app.
        .route("/sw.js", get(pwa::service_worker))
        .nest("/api/v1", routes::api())
        // Share link pages: written by the server, not the app (see `share`).
        .merge(share::pages())
        // The page is rendered with the nonce of its response's policy (see `headers`).
        .nest_service("/pkg", assets::pkg_router(&state.config.site_root))
        .leptos_routes_with_context(&state, routes, page_context.clone(), move || {
            shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(page_context, shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::page_session,
        ))
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        .layer(axum::middleware::from_fn_with_state(
            headers::HeaderSettings {
                hsts: state.config.cookie_secure,
            },
            headers::security_headers,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            axum::http::header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        // HTML, JSON and metrics leave compressed when the client accepts it; event streams
        // never (the LLM's chunks must leave as they come), nor the bundles under /pkg, whose
        // compressed variants were made at build time.
        .layer(CompressionLayer::new().compress_when(compressible()))
        // The request span logs the path without a share link's token.
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        // Only the metrics, not the whole state: axum clones it for every request.
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .with_state(state)
}

/// What the compression layer compresses: bodies of 256 bytes and more, except event
/// streams (compressing one buffers it), wasm and images.
pub fn compressible() -> impl tower_http::compression::Predicate {
    use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
    SizeAbove::new(256)
        .and(NotForContentType::SSE)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::const_new("application/wasm"))
}

/// The span of one request, as tower-http's default makes it (method, URI, version), except
/// that a share page's URI is logged as [`share::redacted_path`]: the token is a secret.
pub fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    let path = request.uri().path();
    let redacted = share::redacted_path(path);
    let uri: &dyn std::fmt::Display = if redacted == path {
        request.uri()
    } else {
        &redacted
    };
    tracing::debug_span!(
        "request",
        method = %request.method(),
        uri = %uri,
        version = ?request.version(),
    )
}

/// Serves the app on `listener` until `shutdown` resolves, then drains open requests.
pub async fn launch(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limiter = state.limiter.clone();
    let store = state.store.clone();
    let audit_days = state.config.audit_days;
    let pruner = tokio::spawn(async move {
        let mut every_minute = tokio::time::interval(Duration::from_secs(60));
        loop {
            every_minute.tick().await;
            limiter.prune();
            if let Err(e) = store.delete_expired(clock::now_ms()).await {
                tracing::warn!(error = %e, "could not delete expired sessions");
            }
            audit::prune(&store, audit_days, clock::now_ms()).await;
        }
    });
    let listener = listener.tap_io(|tcp| {
        // Streamed LLM chunks go out as soon as they arrive.
        let _ = tcp.set_nodelay(true);
    });
    // The peer address feeds the per-IP limits of register and login.
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
    pruner.abort();
    result
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
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
