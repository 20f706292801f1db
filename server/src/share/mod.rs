//! Share links (DESIGN §7, issue 16): read-only pages of a draft, or of a pair of drafts of
//! one domain (a review), at an address that holds a random token.
//!
//! A *token* is 32 random bytes, base64url without padding (43 characters), made with the
//! session tokens' generator ([`crate::auth::random_secret`]); only its SHA-256 is stored, so
//! a leaked database opens no link. A *plain* link (`/s/{token}`) is rendered here, on the
//! server, from the synced drafts it names, by the core's `model::share` (the same code the
//! encrypted page runs in the browser); its page is complete without JavaScript and offers
//! the core's exports as downloads (`/s/{token}/download/{format}`). An *encrypted* link
//! (`/e/{token}#k=…`) holds the draft sealed in the browser with AES-GCM under a key that
//! stays in the link's fragment, which browsers never send: the server stores and serves
//! the ciphertext and cannot read it; `frontend/share.js` opens and renders it.
//!
//! A link is *live* at a time when it is neither revoked nor expired ([`live`]); a plain
//! link also needs its drafts, not deleted, and their domain out of the trash. Whatever is
//! wrong with a link (unknown token, malformed token, revoked, expired, draft deleted, owner
//! deactivated), its pages answer the same 404 page, byte for byte, so that nobody can tell
//! a revoked link from one that never existed. Every lookup counts against a per-address
//! limit (`DM_SHARE_LOOKUPS_PER_MINUTE`), so tokens cannot be guessed by trying them.
//!
//! The token is a secret in a URL: it must never reach a log line or a metric. The metrics
//! label requests by route template (`/s/{token}`), and the request span logs
//! [`redacted_path`] instead of the URI.

mod html;
mod pages;

use crate::store::SharedLink;
use crate::AppState;
use axum::{routing::get, Router};
use std::borrow::Cow;

pub use html::{ENCRYPTED_POLICY, PLAIN_POLICY};

/// The characters of a token: 32 bytes in base64url without padding.
pub const TOKEN_CHARS: usize = 43;

/// The routes of the share pages, at the server's root (they are pages, not API routes).
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/s/{token}", get(pages::plain))
        .route("/s/{token}/download/{format}", get(pages::download))
        .route("/e/{token}", get(pages::encrypted))
        // Any other address under a link's answers as an unknown link does, not with the
        // app's page: nothing under `/s/` and `/e/` says more than another address there.
        .route("/s/{token}/{*rest}", get(pages::elsewhere))
        .route("/e/{token}/{*rest}", get(pages::elsewhere))
}

/// A new token.
pub fn new_token() -> String {
    crate::auth::random_secret()
}

/// Whether `token` can be a token at all (43 base64url characters); anything else is not
/// looked up.
pub fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether the link may be opened at `now`: not revoked, and not expired.
pub fn live(link: &SharedLink, now: i64) -> bool {
    link.revoked_at.is_none() && link.expires_at.is_none_or(|at| at > now)
}

/// The path to log for a request: the token of a share page replaced by `{token}`, anything
/// else as it is.
pub fn redacted_path(path: &str) -> Cow<'_, str> {
    for prefix in ["/s/", "/e/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map_or("", |i| &rest[i..]);
            return Cow::Owned(format!("{prefix}{{token}}{tail}"));
        }
    }
    Cow::Borrowed(path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use uuid::Uuid;

    fn link(expires_at: Option<i64>, revoked_at: Option<i64>) -> SharedLink {
        SharedLink {
            id: Uuid::nil(),
            user_id: Uuid::nil(),
            token_hash: vec![],
            kind: "plain".into(),
            draft_id: Uuid::nil(),
            old_draft_id: None,
            preview: true,
            ciphertext: None,
            expires_at,
            revoked_at,
        }
    }

    #[test]
    fn a_link_is_live_until_it_expires_or_is_revoked() {
        let check = |expires_at, revoked_at, now, expected| {
            assert_eq!(
                live(&link(expires_at, revoked_at), now),
                expected,
                "{expires_at:?} {revoked_at:?} at {now}"
            );
        };
        check(None, None, 5, true);
        check(Some(10), None, 9, true);
        check(Some(10), None, 10, false);
        check(Some(10), None, 11, false);
        check(None, Some(3), 5, false);
        check(Some(10), Some(3), 5, false);
    }

    #[test]
    fn tokens_are_43_base64url_characters() {
        let token = new_token();
        assert!(well_formed(&token), "{token}");
        assert_ne!(token, new_token());
        for bad in [
            "",
            "short",
            &token[1..],
            &format!("{token}A"),
            &format!("{}+", &token[1..]),
            &format!("{}=", &token[1..]),
            &format!("{}.", &token[1..]),
        ] {
            assert!(!well_formed(bad), "{bad}");
        }
    }

    #[test]
    fn share_paths_are_logged_without_their_token() {
        let check = |path: &str, expected: &str| assert_eq!(redacted_path(path), expected);
        check("/s/abcDEF123_-", "/s/{token}");
        check("/s/abc/download/sql", "/s/{token}/download/sql");
        check("/e/abc", "/e/{token}");
        check("/e/", "/e/{token}");
        check("/s/abc/", "/s/{token}/");
        check("/api/v1/shares", "/api/v1/shares");
        check("/settings", "/settings");
        check("/sitemap", "/sitemap");
    }
}
