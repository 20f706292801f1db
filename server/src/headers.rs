//! Security headers on every response: the Content-Security-Policy, frame protection and, when
//! the server sits behind TLS, HSTS.
//!
//! A *nonce* is a random value made for one request ([`security_headers`]); the HTML of that
//! response carries it on every inline `<script>` Leptos writes (the hydration bootstrap, the
//! serialized resources, the streamed chunks), and the response's policy allows scripts with
//! exactly that nonce and scripts from this origin, nothing else. The middleware puts the nonce
//! in the request's extensions ([`CspNonce`]); [`provide_request_nonce`], run by Leptos as
//! additional context, hands it to the renderer in place of the one Leptos would make itself,
//! so the document and the header always agree.
//!
//! Requests under `/api/` get no nonce: the JSON API renders no HTML. The *app policy* goes
//! on HTML; every other response (the JSON API, probes, static files)
//! gets the *closed policy*, `default-src 'none'; frame-ancestors 'none'`: nothing they return
//! is meant to run or be framed. A response that set its own policy keeps it: the share link
//! pages (`crate::share`) are written by the server, not the app, and carry stricter ones of
//! their own. Only headers are touched, so streamed bodies (the LLM gateway's server-sent
//! events) pass through as they come.

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};
use leptos::nonce::Nonce;

/// The nonce of the request being served, as the middleware put it in the extensions.
#[derive(Clone, Debug)]
pub struct CspNonce(pub Nonce);

/// The policy of every response that is not HTML.
pub const CLOSED_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Two years, the preload lists' minimum; a browser that saw it once refuses plain HTTP.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// The app's policy for one response. Scripts: this origin (the wasm glue) and the inline
/// scripts carrying `nonce`; `'wasm-unsafe-eval'` lets the page compile its own WebAssembly
/// without allowing `eval`. Styles come from the stylesheet only (the app writes no inline
/// styles). Images may be `data:` URLs (exported diagrams). The page talks to its own origin.
pub fn app_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// What the middleware needs from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct HeaderSettings {
    /// HSTS is sent only when cookies are `Secure`, that is when the operator says the server
    /// is reached over HTTPS: over plain HTTP the header would lock browsers out of it.
    pub hsts: bool,
}

/// Makes a nonce for the request, lets the handlers see it, and sets the security headers on
/// the response.
pub async fn security_headers(
    State(settings): State<HeaderSettings>,
    mut request: Request,
    next: Next,
) -> Response {
    // The JSON API renders no HTML: its requests (the gateway's hot path) need no nonce.
    let nonce = (!request.uri().path().starts_with("/api/")).then(Nonce::new);
    if let Some(nonce) = &nonce {
        request.extensions_mut().insert(CspNonce(nonce.clone()));
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // For browsers that predate `frame-ancestors`.
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if settings.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    if headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        return response;
    }
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    let policy = match nonce.filter(|_| is_html) {
        // The nonce is URL-safe base64, always a valid header value; the closed policy is
        // the safe answer should that ever change.
        Some(nonce) => HeaderValue::from_str(&app_policy(&nonce))
            .unwrap_or(HeaderValue::from_static(CLOSED_POLICY)),
        None => HeaderValue::from_static(CLOSED_POLICY),
    };
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, policy);
    response
}

/// Leptos additional context: renders the page with the request's nonce (see the module
/// documentation). Without a request (a static file, a route rendered ahead of time) there is
/// nothing to do.
pub fn provide_request_nonce() {
    use leptos::prelude::{provide_context, use_context};
    let nonce = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(CspNonce(nonce)) = nonce {
        provide_context(nonce);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The policy a response of `handler` leaves the middleware with.
    async fn policy_of(handler: axum::routing::MethodRouter) -> String {
        use tower::ServiceExt;
        let app = axum::Router::new().route("/page", handler).layer(
            axum::middleware::from_fn_with_state(HeaderSettings { hsts: false }, security_headers),
        );
        let request = axum::http::Request::get("/page")
            .body(axum::body::Body::empty())
            .expect("a request");
        let response = app.oneshot(request).await.expect("an answer");
        assert_eq!(response.headers()[header::X_FRAME_OPTIONS], "DENY");
        response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ASCII")
            .to_string()
    }

    #[tokio::test]
    async fn a_response_that_sets_its_own_policy_keeps_it() {
        use axum::response::IntoResponse;
        let own = "default-src 'none'; style-src 'self'";
        let kept = policy_of(axum::routing::get(move || async move {
            (
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    (header::CONTENT_SECURITY_POLICY, own),
                ],
                "<p>shared</p>",
            )
                .into_response()
        }))
        .await;
        assert_eq!(kept, own);
        let html = policy_of(axum::routing::get(|| async {
            axum::response::Html("<p>app</p>")
        }))
        .await;
        assert!(html.contains("'nonce-"), "{html}");
        let text = policy_of(axum::routing::get(|| async { "text" })).await;
        assert_eq!(text, CLOSED_POLICY);
    }

    #[test]
    fn the_app_policy_names_the_nonce_and_forbids_framing() {
        let policy = app_policy("abc123");
        assert!(policy.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline"));
    }
}
