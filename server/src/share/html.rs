//! The share pages' HTML documents and the headers every answer of a share route carries.
//!
//! These documents are written here, not by the Leptos app: a share page has no app around
//! it, hydrates nothing and, for a plain link, runs no script at all. The *shell* is what
//! every page has (doctype, language, charset, viewport, `noindex`, the site's stylesheet and
//! a header saying what the page is); the body is the core's fragment (plain), the element
//! `frontend/share.js` fills (encrypted), or a short message (not found, too many requests).
//! Every text that comes from elsewhere goes through [`escape`].

use axum::{
    http::{header, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

/// The policy of a plain link's page, its downloads and the error pages: nothing runs,
/// styles and images come from this origin (and `data:` images), nothing may frame it.
pub const PLAIN_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The policy of an encrypted link's page: scripts from this origin only (`share.js` and the
/// tools module, which compiles its own WebAssembly), no inline script; `blob:` images for
/// the diagram's PNG; requests to this origin only (the tools module's wasm).
pub const ENCRYPTED_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// Text made safe for HTML text and double-quoted attribute values: the core's escaping, the
/// one `model::share` writes the page's content with.
pub use model::diagram::svg::esc as escape;

/// What the `<head>` says beyond the shell.
pub struct Head<'a> {
    pub title: &'a str,
    /// The OpenGraph title and description, when the owner allowed a preview.
    pub preview: Option<(&'a str, &'a str)>,
    /// The stylesheet's hashed name under `/pkg`.
    pub css: &'a str,
    /// Whether the page shows a shared draft (its banner says so) or an error.
    pub shared: bool,
}

/// A whole document: the shell around `body` (already HTML).
pub fn document(head: &Head<'_>, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"robots\" content=\"noindex\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape(head.title)));
    if let Some((title, description)) = head.preview {
        out.push_str(&format!(
            "<meta property=\"og:title\" content=\"{}\">\n\
             <meta property=\"og:description\" content=\"{}\">\n\
             <meta property=\"og:type\" content=\"article\">\n",
            escape(title),
            escape(description)
        ));
    }
    out.push_str(&format!(
        "<link rel=\"stylesheet\" href=\"/pkg/{}\">\n</head>\n<body class=\"share-body\">\n",
        escape(head.css)
    ));
    out.push_str(if head.shared {
        "<header class=\"share-banner\"><p>A read-only shared draft from \
         <strong>Data Modeller</strong>.</p></header>\n"
    } else {
        "<header class=\"share-banner\"><p><strong>Data Modeller</strong></p></header>\n"
    });
    out.push_str(body);
    out.push_str("\n</body>\n</html>\n");
    out
}

/// The body of an encrypted link's page: the element `frontend/share.js` reads and fills,
/// and the script. The page says why it needs JavaScript to readers without it.
pub fn encrypted_body(
    ciphertext: &str,
    tools_js: &str,
    tools_wasm: &str,
    share_js: &str,
) -> String {
    format!(
        "<main id=\"share\" class=\"share\" data-ciphertext=\"{}\" data-tools-js=\"/pkg/{}\" \
         data-tools-wasm=\"/pkg/{}\">\n\
         <p id=\"share-status\" role=\"status\">This link is end-to-end encrypted: \
         only a browser with the key in the link can read it, and that needs JavaScript. \
         Decrypting…</p>\n\
         <noscript><p class=\"error\">This link is end-to-end encrypted: the server cannot read \
         it, so your browser has to decrypt it, and that needs JavaScript. Turn JavaScript on \
         for this page to read it.</p></noscript>\n\
         </main>\n\
         <script type=\"module\" src=\"/pkg/{}\"></script>",
        escape(ciphertext),
        escape(tools_js),
        escape(tools_wasm),
        escape(share_js)
    )
}

/// The one answer for a link that cannot be opened, whatever the reason.
pub fn not_found(css: &str) -> Response {
    let body = document(
        &Head {
            title: "Link not found · Data Modeller",
            preview: None,
            css,
            shared: false,
        },
        "<main class=\"share-missing\">\n<h1>This link does not exist or is no longer shared</h1>\n\
         <p>Ask whoever sent it for a new link.</p>\n</main>",
    );
    page(StatusCode::NOT_FOUND, PLAIN_POLICY, body)
}

/// The answer when the client's address opened too many links: wait `seconds`.
pub fn too_many(css: &str, seconds: u64) -> Response {
    let body = document(
        &Head {
            title: "Too many requests · Data Modeller",
            preview: None,
            css,
            shared: false,
        },
        &format!(
            "<main class=\"share-missing\">\n<h1>Too many links opened from your address</h1>\n\
             <p>Wait {seconds} seconds, then reload this page.</p>\n</main>"
        ),
    );
    let mut response = page(StatusCode::TOO_MANY_REQUESTS, PLAIN_POLICY, body);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// The answer when the server failed (the cause is logged by the caller).
pub fn failed(css: &str) -> Response {
    let body = document(
        &Head {
            title: "Something went wrong · Data Modeller",
            preview: None,
            css,
            shared: false,
        },
        "<main class=\"share-missing\">\n<h1>Something went wrong on the server</h1>\n\
         <p>Try again in a moment.</p>\n</main>",
    );
    page(StatusCode::INTERNAL_SERVER_ERROR, PLAIN_POLICY, body)
}

/// An HTML answer with the share headers and `policy`.
pub fn page(status: StatusCode, policy: &'static str, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    private(headers, policy);
    response
}

/// The headers every share answer carries: never stored, never indexed, no `Referer` to
/// where its links go (the token is in its address), and its own policy.
pub fn private(headers: &mut axum::http::HeaderMap, policy: &'static str) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
}

/// A `Content-Disposition` that saves `file_name`: an ASCII fallback in `filename` (quotes,
/// backslashes, control and non-ASCII characters as `_`) and, when the name is not plain
/// ASCII, the exact name in `filename*` (RFC 6266, percent-encoded UTF-8).
pub fn attachment(file_name: &str) -> HeaderValue {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut value = format!("attachment; filename=\"{ascii}\"");
    if ascii != file_name {
        let encoded: String = file_name
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        value.push_str(&format!("; filename*=UTF-8''{encoded}"));
    }
    // Only printable ASCII was written, always a valid header value.
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn text_is_escaped_for_text_and_attributes() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn the_document_escapes_its_title_and_shows_a_preview_only_when_asked() {
        let head = Head {
            title: "<b>Library</b>",
            preview: None,
            css: "main.css",
            shared: true,
        };
        let page = document(&head, "<main>body</main>");
        assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(page.contains("<title>&lt;b&gt;Library&lt;/b&gt;</title>"));
        assert!(page.contains("<meta name=\"robots\" content=\"noindex\">"));
        assert!(page.contains("<link rel=\"stylesheet\" href=\"/pkg/main.css\">"));
        assert!(!page.contains("og:"));
        assert!(page.contains("A read-only shared draft from"));
        let page = document(
            &Head {
                preview: Some(("T\"", "D<")),
                ..head
            },
            "",
        );
        assert!(page.contains("<meta property=\"og:title\" content=\"T&quot;\">"));
        assert!(page.contains("<meta property=\"og:description\" content=\"D&lt;\">"));
        assert!(page.contains("<meta property=\"og:type\" content=\"article\">"));
    }

    #[test]
    fn attachments_keep_their_name_safely() {
        let check = |name: &str, expected: &str| {
            assert_eq!(attachment(name).to_str().unwrap(), expected);
        };
        check("library-2.sql", "attachment; filename=\"library-2.sql\"");
        check(
            "a\"b\\c.md",
            "attachment; filename=\"a_b_c.md\"; filename*=UTF-8''a%22b%5Cc.md",
        );
        check(
            "bücher 2.sql",
            "attachment; filename=\"b_cher 2.sql\"; filename*=UTF-8''b%C3%BCcher%202.sql",
        );
        check(
            "x\r\ny.sql",
            "attachment; filename=\"x__y.sql\"; filename*=UTF-8''x%0D%0Ay.sql",
        );
    }
}
