//! Prometheus metrics: what the server counts and times, and `GET /metrics` that shows it.
//!
//! A *family* is one metric name with one series per combination of label values, such as
//! `http_requests_total{method="GET",route="/api/v1/providers",status="200"}`. Every label
//! value comes from a small, closed set, so the number of series stays bounded: HTTP methods
//! are mapped to the standard ones (others count as `OTHER`), routes are the router's matched
//! *templates* (`/api/v1/providers/{id}`, never the raw path with its ids; a request that
//! matched no route is `unmatched`), provider kinds are [`ProviderKind`] names, and codes and
//! retry reasons must look like codes. No label ever carries a user name, a key or a token.
//!
//! Label values are `&'static str`: a route template or code seen for the first time is
//! *interned* (leaked once, at most [`MAX_INTERNED`] of them), so the request path allocates
//! nothing for labels. The exposition is the OpenMetrics text format, which Prometheus reads.

use crate::ratelimit::LimitKind;
use crate::AppState;
use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use model::wire::ProviderKind;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram, info::Info},
    registry::{Registry, Unit},
};
use std::{
    collections::HashSet,
    sync::{Arc, RwLock},
    time::Duration,
};

/// The content type of the OpenMetrics text exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Most distinct strings (routes, codes, reasons) kept as label values; beyond it new ones
/// count as `other`. The router has a few dozen routes and the server a few dozen codes, so
/// this is never reached unless a caller passes something that is not a template or a code.
pub const MAX_INTERNED: usize = 512;

/// HTTP requests take from well under a millisecond (probes, cached lists) to seconds (an
/// Argon2 hash, an upstream model list).
const HTTP_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
/// A whole LLM call: a short completion in a second, a long streamed draft in minutes.
const LLM_CALL_BUCKETS: [f64; 14] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];
/// Time to the provider's first byte: tens of milliseconds to a minute (the default timeout).
const FIRST_BYTE_BUCKETS: [f64; 13] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
];
/// Gaps between chunks of a stream: a millisecond when tokens pour, seconds when it stalls.
const CHUNK_GAP_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpTimeLabels {
    method: &'static str,
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LlmCallLabels {
    provider_kind: &'static str,
    stream: bool,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LlmTimeLabels {
    provider_kind: &'static str,
    stream: bool,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    provider_kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    r#type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Strings turned into `&'static str` label values, each leaked once.
#[derive(Debug, Default)]
struct Interner {
    seen: RwLock<HashSet<&'static str>>,
}

impl Interner {
    /// The interned copy of `s`, or `other` once [`MAX_INTERNED`] strings are held.
    fn intern(&self, s: &str) -> &'static str {
        // Poisoning cannot leave the set inconsistent (inserts are single calls), so a
        // poisoned lock is used as it is.
        if let Some(found) = self.seen.read().unwrap_or_else(|e| e.into_inner()).get(s) {
            return found;
        }
        let mut seen = self.seen.write().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = seen.get(s) {
            return found;
        }
        if seen.len() >= MAX_INTERNED {
            return "other";
        }
        let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
        seen.insert(leaked);
        leaked
    }
}

/// The server's metrics: one registry, and a handle on each family to record into.
pub struct Metrics {
    registry: Registry,
    interned: Interner,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Histograms<HttpTimeLabels>,
    llm_calls: Family<LlmCallLabels, Counter>,
    llm_duration: Histograms<LlmTimeLabels>,
    llm_first_byte: Histograms<KindLabels>,
    llm_chunk_gap: Histogram,
    upstream_errors: Family<CodeLabels, Counter>,
    upstream_retries: Family<ReasonLabels, Counter>,
    rate_limited: Family<LimitLabels, Counter>,
    tokens: Family<TokenLabels, Counter>,
    client_cancelled: Counter,
    tracked_keys: Gauge,
    resident_memory: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn histograms<L: Clone + std::hash::Hash + Eq>(make: fn() -> Histogram) -> Histograms<L> {
    Family::new_with_constructor(make)
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, matched route template and status",
            http_requests.clone(),
        );
        let http_duration: Histograms<HttpTimeLabels> = histograms(|| Histogram::new(HTTP_BUCKETS));
        registry.register_with_unit(
            "http_request_duration",
            "Time from receiving a request to sending its response headers (for a stream, its start)",
            Unit::Seconds,
            http_duration.clone(),
        );
        let llm_calls = Family::<LlmCallLabels, Counter>::default();
        registry.register(
            "llm_calls",
            "LLM calls ended, by provider kind, streaming, and outcome (ok or the error code)",
            llm_calls.clone(),
        );
        let llm_duration: Histograms<LlmTimeLabels> =
            histograms(|| Histogram::new(LLM_CALL_BUCKETS));
        registry.register_with_unit(
            "llm_call_duration",
            "Time of a whole LLM call, stream included",
            Unit::Seconds,
            llm_duration.clone(),
        );
        let llm_first_byte: Histograms<KindLabels> =
            histograms(|| Histogram::new(FIRST_BYTE_BUCKETS));
        registry.register_with_unit(
            "llm_first_byte",
            "Time from sending the upstream request to its first body byte",
            Unit::Seconds,
            llm_first_byte.clone(),
        );
        let llm_chunk_gap = Histogram::new(CHUNK_GAP_BUCKETS);
        registry.register_with_unit(
            "llm_chunk_gap",
            "Gap between two chunks of a streamed LLM answer",
            Unit::Seconds,
            llm_chunk_gap.clone(),
        );
        let upstream_errors = Family::<CodeLabels, Counter>::default();
        registry.register(
            "llm_upstream_errors",
            "Upstream LLM failures, by AI_* code",
            upstream_errors.clone(),
        );
        let upstream_retries = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "llm_upstream_retries",
            "Retries of upstream LLM calls, by reason (429, 5xx, connect)",
            upstream_retries.clone(),
        );
        let rate_limited = Family::<LimitLabels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused by a rate limit, by limit (requests, tokens, auth_attempts, share_lookups)",
            rate_limited.clone(),
        );
        let tokens = Family::<TokenLabels, Counter>::default();
        registry.register(
            "llm_tokens",
            "Tokens reported by providers, by type (prompt, completion)",
            tokens.clone(),
        );
        let client_cancelled = Counter::default();
        registry.register(
            "llm_client_cancelled",
            "Streams the client left before they ended (the upstream call was cancelled)",
            client_cancelled.clone(),
        );
        let tracked_keys = Gauge::default();
        registry.register(
            "rate_limiter_tracked_keys",
            "Users and addresses the rate limiter keeps state for",
            tracked_keys.clone(),
        );
        let resident_memory = Gauge::default();
        registry.register_with_unit(
            "process_resident_memory",
            "Resident memory of the server process",
            Unit::Bytes,
            resident_memory.clone(),
        );
        registry.register(
            "build",
            "The server's version",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            }),
        );
        Metrics {
            registry,
            interned: Interner::default(),
            http_requests,
            http_duration,
            llm_calls,
            llm_duration,
            llm_first_byte,
            llm_chunk_gap,
            upstream_errors,
            upstream_retries,
            rate_limited,
            tokens,
            client_cancelled,
            tracked_keys,
            resident_memory,
        }
    }

    /// A route template as a label value; anything that does not look like one is `other`.
    fn route(&self, route: &str) -> &'static str {
        if route == "unmatched" {
            "unmatched"
        } else if route.starts_with('/') && route.len() <= 200 {
            self.interned.intern(route)
        } else {
            "other"
        }
    }

    /// An `AI_*`-style code as a label value: upper-case letters, digits and `_` only.
    fn code(&self, code: &str) -> &'static str {
        let looks_like_a_code = !code.is_empty()
            && code.len() <= 48
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if code == "ok" {
            "ok"
        } else if looks_like_a_code {
            self.interned.intern(code)
        } else {
            "other"
        }
    }

    /// A retry reason as a label value: a short word of lower-case letters and digits.
    fn reason(&self, reason: &str) -> &'static str {
        let looks_like_a_reason = !reason.is_empty()
            && reason.len() <= 16
            && reason
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if looks_like_a_reason {
            self.interned.intern(reason)
        } else {
            "other"
        }
    }

    /// One HTTP request answered.
    pub fn http_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let method = method_label_str(method);
        let route = self.route(route);
        self.http_requests
            .get_or_create(&HttpLabels {
                method,
                route,
                status,
            })
            .inc();
        self.http_duration
            .get_or_create(&HttpTimeLabels { method, route })
            .observe(elapsed.as_secs_f64());
    }

    /// One LLM call ended; `outcome` is `ok` or the `AI_*`/`RATE_*` code it ended with.
    pub fn llm_call(&self, provider_kind: &str, stream: bool, outcome: &str, elapsed: Duration) {
        let provider_kind = kind_label(provider_kind);
        self.llm_calls
            .get_or_create(&LlmCallLabels {
                provider_kind,
                stream,
                outcome: self.code(outcome),
            })
            .inc();
        self.llm_duration
            .get_or_create(&LlmTimeLabels {
                provider_kind,
                stream,
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Time from sending the upstream request to its first body byte.
    pub fn llm_first_byte(&self, provider_kind: &str, elapsed: Duration) {
        self.llm_first_byte
            .get_or_create(&KindLabels {
                provider_kind: kind_label(provider_kind),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Gap between two chunks of a stream.
    pub fn llm_chunk_gap(&self, elapsed: Duration) {
        self.llm_chunk_gap.observe(elapsed.as_secs_f64());
    }

    /// An upstream failure, by its `AI_*` code.
    pub fn upstream_error(&self, code: &str) {
        self.upstream_errors
            .get_or_create(&CodeLabels {
                code: self.code(code),
            })
            .inc();
    }

    /// A retry of an upstream call; `reason` is `429`, `5xx` or `connect`.
    pub fn upstream_retry(&self, reason: &str) {
        self.upstream_retries
            .get_or_create(&ReasonLabels {
                reason: self.reason(reason),
            })
            .inc();
    }

    /// A request refused by a rate limit.
    pub fn rate_limited(&self, kind: LimitKind) {
        let kind = match kind {
            LimitKind::Requests => "requests",
            LimitKind::Tokens => "tokens",
            LimitKind::AuthAttempts => "auth_attempts",
            LimitKind::ShareLookups => "share_lookups",
        };
        self.rate_limited.get_or_create(&LimitLabels { kind }).inc();
    }

    /// Tokens reported by providers.
    pub fn tokens(&self, prompt: u64, completion: u64) {
        self.tokens
            .get_or_create(&TokenLabels { r#type: "prompt" })
            .inc_by(prompt);
        self.tokens
            .get_or_create(&TokenLabels {
                r#type: "completion",
            })
            .inc_by(completion);
    }

    /// A stream the client left before it ended (the upstream call was cancelled).
    pub fn client_cancelled(&self) {
        self.client_cancelled.inc();
    }

    /// Sets the rate limiter's key count, read when `/metrics` is scraped.
    pub fn set_tracked_keys(&self, keys: usize) {
        self.tracked_keys
            .set(i64::try_from(keys).unwrap_or(i64::MAX));
    }

    /// The text exposition format; reads the process's resident memory first.
    pub fn render(&self) -> String {
        if let Some(bytes) = resident_memory_bytes() {
            self.resident_memory
                .set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
        let mut out = String::with_capacity(16 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// A method as a label value, without allocating: the standard methods by name, any other
/// (extension methods are arbitrary tokens) as `OTHER`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

fn method_label_str(method: &str) -> &'static str {
    Method::from_bytes(method.as_bytes()).map_or("OTHER", |m| method_label(&m))
}

/// A provider kind as a label value; an unknown name is `other`.
fn kind_label(kind: &str) -> &'static str {
    ProviderKind::parse(kind).map_or("other", ProviderKind::as_str)
}

/// `VmRSS` from `/proc/self/status`, in bytes (Linux only; `None` elsewhere).
fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_rss(&status)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut words = line["VmRSS:".len()..].split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    let scale = match words.next() {
        Some("kB") | Some("KB") => 1024,
        Some("mB") | Some("MB") => 1024 * 1024,
        None | Some("B") => 1,
        Some(_) => return None,
    };
    Some(value * scale)
}

/// Middleware: counts and times every request by method, matched route and status.
///
/// It runs on every request of the gateway, so it allocates nothing: the method is a static
/// name, and the matched path is a shared string whose template is interned once.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = request.extensions().get::<MatchedPath>().cloned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    metrics.http_request(method, route, response.status().as_u16(), elapsed);
    response
}

/// `GET /metrics`.
pub async fn endpoint(State(state): State<AppState>) -> Response {
    state.metrics.set_tracked_keys(state.limiter.tracked());
    let body = state.metrics.render();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the series whose line starts with `series ` in `text`.
    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
    }

    #[test]
    fn http_requests_are_counted_and_timed_by_template() {
        let m = Metrics::new();
        let route = "/api/v1/providers/{id}";
        m.http_request("DELETE", route, 204, Duration::from_micros(300));
        m.http_request("DELETE", route, 204, Duration::from_millis(3));
        m.http_request("DELETE", route, 404, Duration::from_micros(80));
        m.http_request("GET", "unmatched", 404, Duration::from_micros(50));
        let text = m.render();
        let series = |status| {
            format!(
                r#"http_requests_total{{method="DELETE",route="/api/v1/providers/{{id}}",status="{status}"}}"#
            )
        };
        assert_eq!(value(&text, &series(204)), Some(2.0), "{text}");
        assert_eq!(value(&text, &series(404)), Some(1.0), "{text}");
        assert_eq!(
            value(
                &text,
                r#"http_requests_total{method="GET",route="unmatched",status="404"}"#
            ),
            Some(1.0)
        );
        let bucket = |le| {
            format!(
                r#"http_request_duration_seconds_bucket{{le="{le}",method="DELETE",route="/api/v1/providers/{{id}}"}}"#
            )
        };
        // 80 µs and 300 µs fall at or below 0.5 ms; the 3 ms one only from 5 ms on.
        assert_eq!(value(&text, &bucket("0.0001")), Some(1.0), "{text}");
        assert_eq!(value(&text, &bucket("0.0005")), Some(2.0));
        assert_eq!(value(&text, &bucket("0.0025")), Some(2.0));
        assert_eq!(value(&text, &bucket("0.005")), Some(3.0));
        assert_eq!(value(&text, &bucket("+Inf")), Some(3.0));
        assert_eq!(
            value(
                &text,
                r#"http_request_duration_seconds_count{method="DELETE",route="/api/v1/providers/{id}"}"#
            ),
            Some(3.0)
        );
        assert!(text.contains("# TYPE http_request_duration_seconds histogram"));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn unusual_methods_and_non_templates_get_no_series_of_their_own() {
        let m = Metrics::new();
        m.http_request("BREW", "/coffee", 405, Duration::ZERO);
        m.http_request("GET", "alice's secret dm_abcdef", 200, Duration::ZERO);
        let text = m.render();
        assert_eq!(
            value(
                &text,
                r#"http_requests_total{method="OTHER",route="/coffee",status="405"}"#
            ),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            value(
                &text,
                r#"http_requests_total{method="GET",route="other",status="200"}"#
            ),
            Some(1.0)
        );
        assert!(!text.contains("alice"));
    }

    #[test]
    fn llm_calls_tokens_and_failures() {
        let m = Metrics::new();
        m.llm_call("openai", true, "ok", Duration::from_secs(3));
        m.llm_call("anthropic", false, "AI_TIMEOUT", Duration::from_secs(70));
        m.llm_call("mystery", false, "the key sk-123 is wrong", Duration::ZERO);
        m.llm_first_byte("openai", Duration::from_millis(40));
        m.llm_chunk_gap(Duration::from_millis(2));
        m.upstream_error("AI_TIMEOUT");
        m.upstream_error("AI_TIMEOUT");
        m.upstream_retry("429");
        m.upstream_retry("5xx");
        m.rate_limited(LimitKind::Tokens);
        m.rate_limited(LimitKind::AuthAttempts);
        m.tokens(12, 30);
        m.tokens(1, 2);
        m.client_cancelled();
        m.set_tracked_keys(7);
        let text = m.render();
        for (series, expected) in [
            (
                r#"llm_calls_total{provider_kind="openai",stream="true",outcome="ok"}"#,
                1.0,
            ),
            (
                r#"llm_calls_total{provider_kind="anthropic",stream="false",outcome="AI_TIMEOUT"}"#,
                1.0,
            ),
            (
                r#"llm_calls_total{provider_kind="other",stream="false",outcome="other"}"#,
                1.0,
            ),
            (
                r#"llm_call_duration_seconds_bucket{le="60.0",provider_kind="anthropic",stream="false"}"#,
                0.0,
            ),
            (
                r#"llm_call_duration_seconds_bucket{le="120.0",provider_kind="anthropic",stream="false"}"#,
                1.0,
            ),
            (
                r#"llm_first_byte_seconds_bucket{le="0.05",provider_kind="openai"}"#,
                1.0,
            ),
            (r#"llm_chunk_gap_seconds_bucket{le="0.0025"}"#, 1.0),
            (r#"llm_chunk_gap_seconds_count"#, 1.0),
            (r#"llm_upstream_errors_total{code="AI_TIMEOUT"}"#, 2.0),
            (r#"llm_upstream_retries_total{reason="429"}"#, 1.0),
            (r#"llm_upstream_retries_total{reason="5xx"}"#, 1.0),
            (r#"rate_limited_total{kind="tokens"}"#, 1.0),
            (r#"rate_limited_total{kind="auth_attempts"}"#, 1.0),
            (r#"llm_tokens_total{type="prompt"}"#, 13.0),
            (r#"llm_tokens_total{type="completion"}"#, 32.0),
            ("llm_client_cancelled_total", 1.0),
            ("rate_limiter_tracked_keys", 7.0),
        ] {
            assert_eq!(value(&text, series), Some(expected), "{series} in\n{text}");
        }
        assert!(!text.contains("sk-123"));
        let version = format!(r#"build_info{{version="{}"}}"#, env!("CARGO_PKG_VERSION"));
        assert_eq!(value(&text, &version), Some(1.0), "{text}");
    }

    #[test]
    fn resident_memory_is_read_from_proc() {
        assert_eq!(
            parse_vm_rss("Name:\tserver\nVmRSS:\t   12345 kB\nVmData: 1 kB\n"),
            Some(12345 * 1024)
        );
        assert_eq!(parse_vm_rss("Name:\tserver\n"), None);
        assert_eq!(parse_vm_rss("VmRSS:\tlots kB\n"), None);
        if cfg!(target_os = "linux") {
            let text = Metrics::new().render();
            let rss = value(&text, "process_resident_memory_bytes").unwrap_or_default();
            assert!(rss > 0.0, "{text}");
        }
    }

    #[test]
    fn interning_is_bounded() {
        let interner = Interner::default();
        let first = interner.intern("/a");
        assert!(std::ptr::eq(first, interner.intern("/a")));
        for i in 0..MAX_INTERNED + 10 {
            interner.intern(&format!("/r{i}"));
        }
        assert_eq!(interner.intern("/one-too-many"), "other");
        assert_eq!(interner.intern("/a"), "/a");
    }
}
