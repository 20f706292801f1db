//! Accounts and sessions: Argon2id password hashes, opaque session tokens in an HttpOnly,
//! SameSite=Strict cookie, API tokens for programs, and the CSRF guard for cookie-authenticated
//! mutations.
//!
//! A *session token* is 32 random bytes (base64url) handed to the browser once in a cookie; an
//! *API token* is `dm_` and 32 random bytes (base64url) that a program sends as
//! `Authorization: Bearer`. The database keeps only the SHA-256 of either. [`CurrentUser`] is
//! the extractor that every route touching user data takes, so ownership checks start from an
//! authenticated user id; it says how the user was authenticated ([`AuthVia`]).

use crate::store::NewSession;
use crate::{clock::now_ms, error::ApiError, AppState};
use argon2::{
    password_hash::{self, Output, ParamsString, PasswordHash, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};
use axum::{
    extract::{FromRequestParts, Request},
    http::{header, request::Parts, HeaderMap, Method},
    middleware::Next,
    response::Response,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const SESSION_COOKIE: &str = "dm_session";
pub const CSRF_HEADER: &str = "x-dm-csrf";
/// Every API token starts with this, so that a leaked one is recognisable (secret scanners).
pub const TOKEN_PREFIX: &str = "dm_";

/// How a request was authenticated: a browser session or an API token (by their row ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthVia {
    Session(Uuid),
    Token(Uuid),
}

/// The authenticated user of a request.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: Uuid,
    pub username: String,
    pub is_admin: bool,
    pub via: AuthVia,
}

impl CurrentUser {
    /// Refuses requests made with an API token: managing sessions and tokens needs a person
    /// signed in, so a leaked token cannot mint more tokens.
    pub fn require_session(&self) -> Result<Uuid, ApiError> {
        match self.via {
            AuthVia::Session(id) => Ok(id),
            AuthVia::Token(_) => Err(ApiError::Forbidden {
                code: "AUTH_SESSION_REQUIRED",
                message: "sign in with your password to manage sessions and API tokens: an API token cannot".into(),
            }),
        }
    }
}

/// 32 random bytes, base64url.
pub fn random_secret() -> String {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

/// A new API token.
pub fn new_api_token() -> String {
    format!("{TOKEN_PREFIX}{}", random_secret())
}

/// The password hashers: a few threads of their own that compute every Argon2id hash and
/// check, one at a time each.
///
/// One Argon2id computation takes about 19 MiB and tens of milliseconds of a core. Run on
/// the blocking pool without a bound, a burst of sign-ins ran dozens at once (12 concurrent
/// failed logins took the server from 18 to 209 MiB, 32 registrations to 779 MiB), and the
/// many threads' allocator arenas kept the memory afterwards. Here at most
/// [`HashPool::size`] run at once, one per core, on the same long-lived threads, so memory
/// stays within that many buffers and the rest wait in a queue (each waiting job is a
/// password and a hash, not a buffer). Callers charge the per-IP attempt limit before they
/// queue, so one address cannot fill the queue.
pub struct HashPool {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
    size: usize,
    busy: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    most_busy: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

type Job = Box<dyn FnOnce() + Send>;

impl HashPool {
    fn new(size: usize) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for n in 0..size {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || loop {
                    // The lock is held only while waiting for the next job, not while it runs.
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        HashPool {
            jobs: std::sync::Mutex::new(jobs),
            size,
            busy: Default::default(),
            most_busy: Default::default(),
        }
    }

    /// The pool of the process, one thread per core (at most 8).
    pub fn shared() -> &'static HashPool {
        static POOL: std::sync::LazyLock<HashPool> = std::sync::LazyLock::new(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            HashPool::new(cores.clamp(1, 8))
        });
        &POOL
    }

    /// How many hashes may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The most hashes that ran at once since the process started (for tests and metrics).
    pub fn most_busy(&self) -> usize {
        self.most_busy.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs `work` on a hashing thread and waits for its result.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        use std::sync::atomic::Ordering;
        let (done, result) = tokio::sync::oneshot::channel();
        let busy = self.busy.clone();
        let most_busy = self.most_busy.clone();
        let job: Job = Box::new(move || {
            let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
            most_busy.fetch_max(now, Ordering::SeqCst);
            let value = work();
            busy.fetch_sub(1, Ordering::SeqCst);
            let _ = done.send(value);
        });
        self.jobs
            .lock()
            .map_err(|_| ApiError::internal("the password hashing queue is poisoned"))?
            .send(job)
            .map_err(|_| ApiError::internal("the password hashing threads have stopped"))?;
        result
            .await
            .map_err(|_| ApiError::internal("a password hashing job was dropped"))
    }
}

/// Hashes a password with Argon2id and a random salt, on the [`HashPool`].
pub async fn hash(password: String) -> Result<String, ApiError> {
    HashPool::shared()
        .run(move || hash_password(&password))
        .await?
}

/// Checks a password against a stored hash, on the [`HashPool`].
pub async fn verify(password: String, hash: String) -> Result<bool, ApiError> {
    HashPool::shared()
        .run(move || verify_password(&password, &hash))
        .await
}

/// The largest Argon2 memory a stored hash may ask for (256 MiB): a hash from elsewhere with a
/// larger cost is refused rather than allowed to take the server's memory.
const MAX_HASH_BLOCKS: usize = 256 * 1024;

thread_local! {
    /// The Argon2 working memory of this thread (19 MiB with the default parameters), kept
    /// between hashes. Allocated and freed per hash, the allocator kept several such buffers
    /// per thread after a burst (RSS stayed 100 MiB above idle); kept, it is one per hashing
    /// thread, for the life of the process.
    static MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `work` with this thread's Argon2 memory, at least `blocks` long, and wipes what the
/// hash left in it.
fn with_memory<T>(blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        let result = work(&mut memory[..]);
        memory[..blocks].fill(Block::default());
        result
    })
}

/// The `len`-byte Argon2 output of `password` and `salt`, computed in this thread's kept
/// memory.
fn compute(
    argon2: &Argon2,
    password: &str,
    salt: &[u8],
    len: usize,
) -> password_hash::Result<Output> {
    Output::init_with(len, |out| {
        with_memory(argon2.params().block_count(), |memory| {
            argon2.hash_password_into_with_memory(password.as_bytes(), salt, out, memory)
        })
        .map_err(|_| password_hash::Error::Crypto)
    })
}

/// Hashes a password with Argon2id (the crate's default parameters: 19 MiB, 2 passes) and a
/// random salt, as a PHC string (blocking: call [`hash`] from async code, which bounds how
/// many run at once).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let argon2 = Argon2::default();
    let params = argon2.params().clone();
    let mut salt_buffer = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_buffer)
        .map_err(ApiError::internal)?;
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = compute(&argon2, password, salt_bytes, output_len).map_err(ApiError::internal)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(ApiError::internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Checks a password against a stored PHC hash of any Argon2 variant (blocking: call
/// [`verify`] from async code). The comparison is constant-time.
pub fn verify_password(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    if params.block_count() > MAX_HASH_BLOCKS {
        return false;
    }
    let mut salt_buffer = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_buffer) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    compute(&argon2, password, salt_bytes, expected.len())
        .is_ok_and(|computed| computed == expected)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Creates a session for `user` and returns the `Set-Cookie` value that carries it.
pub async fn start_session(
    state: &AppState,
    user: Uuid,
    user_agent: Option<&str>,
) -> Result<String, ApiError> {
    let token = random_secret();
    let now = now_ms();
    let max_age_secs = i64::from(state.config.session_days) * 24 * 3600;
    let user_agent = user_agent.map(|ua| ua.chars().take(200).collect::<String>());
    state
        .store
        .insert_session(NewSession {
            id: Uuid::now_v7(),
            token_hash: &token_hash(&token),
            user,
            user_agent: user_agent.as_deref(),
            created_at: now,
            expires_at: now + max_age_secs * 1000,
        })
        .await?;
    Ok(cookie(&token, max_age_secs, state.config.cookie_secure))
}

/// The `Set-Cookie` value for a session token (an empty token with max-age 0 clears it).
pub fn cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The session token in the request's cookies, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The API token in an `Authorization: Bearer` header, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Deletes the session behind `token`.
pub async fn end_session(state: &AppState, token: &str) -> Result<(), ApiError> {
    let hash = token_hash(token);
    state.store.delete_session_by_token(&hash).await?;
    state.caches.auth.remove(&hash);
    Ok(())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // A bearer token wins over a cookie: a program that sends one means it.
        let (hash, bearer) = match bearer_token(&parts.headers) {
            Some(token) => (token_hash(token), true),
            None => (
                token_hash(&session_token(&parts.headers).ok_or(ApiError::Unauthenticated)?),
                false,
            ),
        };
        let now = now_ms();
        let instant = std::time::Instant::now();
        if let Some((user, expires_at)) = state.caches.auth.get(&hash, instant) {
            if expires_at.is_none_or(|at| at > now) {
                return Ok(user);
            }
        }
        // Read before the database, so a revocation during the lookup keeps it uncached.
        let epoch = state.caches.epoch();
        let (user, expires_at) = if bearer {
            token_user(state, &hash, now).await?
        } else {
            session_user(state, &hash, now).await?
        };
        state
            .caches
            .remember_credential(epoch, hash, (user.clone(), expires_at), instant);
        Ok(user)
    }
}

/// Paths that are not pages: the API, the bundles, the probes.
fn is_page_path(path: &str) -> bool {
    // Share pages (`/s/`, `/e/`) are not the app's: they show the same to everyone.
    ![
        "/api/", "/pkg/", "/healthz", "/readyz", "/metrics", "/s/", "/e/",
    ]
    .iter()
    .any(|prefix| path.starts_with(prefix))
}

/// Tells the page renderer who is signed in, so that the first HTML a signed-in user gets is
/// already theirs (no "sign in" links flashing while the app asks `/auth/me`).
///
/// For a page request (a GET outside the API and the bundles) the session cookie is resolved
/// as the API would (an API token does not sign in a page) and the answer goes into the
/// request's extensions as [`app::InitialSession`], which the page context provides to the
/// app. A lookup that fails for another reason than a missing or expired session (the
/// database) adds nothing: the page then checks in the browser as before. A page that carries
/// a user is never stored by shared caches.
pub async fn page_session(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET || !is_page_path(request.uri().path()) {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let session = if session_token(&parts.headers).is_none() {
        Some(app::InitialSession { user: None })
    } else {
        // A page request carries no bearer token that counts: only the cookie.
        parts.headers.remove(header::AUTHORIZATION);
        match CurrentUser::from_request_parts(&mut parts, &state).await {
            Ok(user) => Some(app::InitialSession {
                user: Some(model::wire::UserInfo {
                    id: user.id,
                    username: user.username,
                    is_admin: user.is_admin,
                }),
            }),
            Err(ApiError::Unauthenticated | ApiError::BadToken) => {
                Some(app::InitialSession { user: None })
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not resolve the session of a page request");
                None
            }
        }
    };
    if let Some(session) = session {
        parts.extensions.insert(session);
    }
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html && !response.headers().contains_key(header::CACHE_CONTROL) {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("private, no-cache"),
        );
    }
    response
}

/// Leptos additional context: renders the page with what [`page_session`] found, when it
/// could tell.
pub fn provide_page_session() {
    use leptos::prelude::{provide_context, use_context};
    let session = use_context::<Parts>()
        .and_then(|parts| parts.extensions.get::<app::InitialSession>().cloned());
    if let Some(session) = session {
        provide_context(session);
    }
}

/// The owner of an API token, from the database.
async fn token_user(
    state: &AppState,
    hash: &[u8],
    now: i64,
) -> Result<(CurrentUser, Option<i64>), ApiError> {
    let row = state
        .store
        .token_user(hash, now)
        .await?
        .ok_or(ApiError::BadToken)?;
    // The last use is kept to the minute: no write on every request of a busy client.
    if row.last_used_at.is_none_or(|t| now - t > 60_000) {
        state.store.touch_token(row.token_id, now).await?;
    }
    let user = CurrentUser {
        id: row.user_id,
        username: row.username,
        is_admin: row.is_admin,
        via: AuthVia::Token(row.token_id),
    };
    Ok((user, row.expires_at))
}

/// The owner of a browser session, from the database.
async fn session_user(
    state: &AppState,
    hash: &[u8],
    now: i64,
) -> Result<(CurrentUser, Option<i64>), ApiError> {
    let row = state
        .store
        .session_user(hash, now)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let user = CurrentUser {
        id: row.user_id,
        username: row.username,
        is_admin: row.is_admin,
        via: AuthVia::Session(row.session_id),
    };
    Ok((user, Some(row.expires_at)))
}

/// Refuses state-changing requests that lack the CSRF header. A cross-site page can make the
/// browser send a form POST with the user's cookie, but cannot add a custom header without a
/// CORS preflight, which this server never grants. Requests with a bearer token are not at
/// risk (a browser never adds one by itself), so API clients need no extra header.
///
/// A request with no credentials at all (no cookie, no token) is told to sign in first
/// (`401 AUTH_REQUIRED`), which is what is wrong with it, except on the routes that take
/// no credentials (register, log in): those still need the header, so that a cross-site
/// form cannot sign the browser in to an account of the attacker's.
pub async fn require_csrf_header(request: Request, next: Next) -> Result<Response, ApiError> {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let headers = request.headers();
    let bearer = bearer_token(headers).is_some();
    if !safe && !bearer && !headers.contains_key(CSRF_HEADER) {
        let path = request.uri().path();
        let signs_in = path.ends_with("/auth/login") || path.ends_with("/auth/register");
        if session_token(headers).is_none() && !signs_in {
            return Err(ApiError::Unauthenticated);
        }
        return Err(ApiError::CsrfHeaderMissing);
    }
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_round_trip() {
        let hash = hash_password("correct horse battery").expect("hashes");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("x", "not a hash"));
        assert_ne!(
            hash,
            hash_password("correct horse battery").expect("hashes"),
            "salted"
        );
    }

    /// Hashes made by the `argon2` crate's own `PasswordHasher` (how every stored hash was
    /// made before the hashers kept their memory) still verify, and ours verify with it.
    #[test]
    fn hashes_agree_with_the_argon2_crate() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery", &salt)
            .expect("hashes")
            .to_string();
        assert!(verify_password("correct horse battery", &theirs));
        assert!(!verify_password("correct horse batterx", &theirs));
        let ours = hash_password("correct horse battery").expect("hashes");
        let parsed = PasswordHash::new(&ours).expect("parses");
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        // Other parameters and variants, as a hash from another server could have.
        let params = Params::new(8 * 1024, 3, 1, None).expect("params");
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, params)
            .hash_password(b"pw with other params", &salt)
            .expect("hashes")
            .to_string();
        assert!(verify_password("pw with other params", &argon2i));
        assert!(!verify_password("pw with other param", &argon2i));
    }

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; dm_session=tok-en; b=2".parse().expect("header"),
        );
        assert_eq!(session_token(&headers).as_deref(), Some("tok-en"));
        headers.insert(header::COOKIE, "dm_sessionx=1".parse().expect("header"));
        assert_eq!(session_token(&headers), None);
    }

    #[test]
    fn reads_bearer_tokens() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            "Bearer dm_abc ".parse().expect("header"),
        );
        assert_eq!(bearer_token(&headers), Some("dm_abc"));
        headers.insert(
            header::AUTHORIZATION,
            "bearer dm_x".parse().expect("header"),
        );
        assert_eq!(bearer_token(&headers), Some("dm_x"));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().expect("header"));
        assert_eq!(bearer_token(&headers), None);
        let token = new_api_token();
        assert!(token.starts_with("dm_") && token.len() == 3 + 43, "{token}");
    }

    #[test]
    fn cookie_attributes() {
        let c = cookie("t", 60, true);
        assert_eq!(
            c,
            "dm_session=t; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure"
        );
    }
}
