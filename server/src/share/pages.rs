//! The handlers of the share pages: `/s/{token}` (a plain link's page), its downloads, and
//! `/e/{token}` (an encrypted link's page).
//!
//! Each starts with [`open`]: the per-address lookup limit, the token's form, the lookup by
//! hash (the stored hash compared again in constant time), then [`super::live`] at the
//! server's clock and the link's kind. A plain link then reads its drafts and their domain
//! ([`ShareDoc`] through [`super::share_doc`]). Every way of failing before a page is made
//! ends in the same [`html::not_found`].

use super::html::{self, Head, ENCRYPTED_POLICY, PLAIN_POLICY};
use crate::routes::auth::{client_ip, Peer};
use crate::store::SharedLink;
use crate::{auth, error::whole_seconds, AppState};
use axum::{
    extract::{rejection::PathRejection, Path, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use model::wire::{DomainRecord, DraftRecord, ShareDoc};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// Why a page is not made: the link cannot be opened (the one 404), the address opened too
/// many, or the server failed.
enum Refusal {
    NotFound,
    TooMany(crate::ratelimit::Limited),
    Failed(String),
}

impl Refusal {
    fn respond(self, state: &AppState) -> Response {
        let css = &state.assets.css;
        match self {
            Refusal::NotFound => html::not_found(css),
            Refusal::TooMany(limited) => {
                let mut response = html::too_many(css, whole_seconds(limited.retry_after));
                limited.write_headers(response.headers_mut());
                response
            }
            Refusal::Failed(cause) => {
                tracing::error!(%cause, "a share page failed");
                html::failed(css)
            }
        }
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(e: crate::store::StoreError) -> Self {
        Refusal::Failed(e.to_string())
    }
}

/// The kind of link a route serves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Encrypted,
}

impl Kind {
    fn stored(self) -> &'static str {
        match self {
            Kind::Plain => "plain",
            Kind::Encrypted => "encrypted",
        }
    }
}

/// The live link of `kind` that `token` opens, after the client's address is charged one
/// lookup.
async fn open(
    state: &AppState,
    peer: Peer,
    headers: &HeaderMap,
    token: Result<Path<String>, PathRejection>,
    kind: Kind,
) -> Result<SharedLink, Refusal> {
    let ip = client_ip(state, peer, headers);
    state.limiter.check_share(ip).map_err(|limited| {
        tracing::info!(%ip, "share link lookups rate-limited");
        state.metrics.rate_limited(limited.kind);
        Refusal::TooMany(limited)
    })?;
    let Ok(Path(token)) = token else {
        return Err(Refusal::NotFound);
    };
    if !super::well_formed(&token) {
        return Err(Refusal::NotFound);
    }
    let hash = auth::token_hash(&token);
    let link = state
        .store
        .shared_link(&hash)
        .await?
        .ok_or(Refusal::NotFound)?;
    // The database found the row by its hash; the comparison is made again here in constant
    // time, so that what answers does not depend on how much of the hash matched.
    let same: bool = link.token_hash.ct_eq(&hash).into();
    if !same || !super::live(&link, state.clock.now_ms()) || link.kind != kind.stored() {
        return Err(Refusal::NotFound);
    }
    Ok(link)
}

/// One of the owner's synced drafts that is not deleted, and its domain that is not in the
/// trash.
async fn synced_draft(
    state: &AppState,
    user: Uuid,
    id: Uuid,
) -> Result<(DomainRecord, DraftRecord), Refusal> {
    let row = state
        .store
        .share_draft(user, id)
        .await?
        .filter(|row| !row.deleted)
        .ok_or(Refusal::NotFound)?;
    let domain = state
        .store
        .share_domain(user, row.domain_id)
        .await?
        .ok_or(Refusal::NotFound)?;
    let domain: DomainRecord = serde_json::from_str(&domain)
        .map_err(|e| Refusal::Failed(format!("a synced domain does not read: {e}")))?;
    if domain.deleted_at.is_some() {
        return Err(Refusal::NotFound);
    }
    let draft: DraftRecord = serde_json::from_str(&row.body)
        .map_err(|e| Refusal::Failed(format!("a synced draft does not read: {e}")))?;
    Ok((domain, draft))
}

/// What a plain link shows.
async fn plain_doc(state: &AppState, link: &SharedLink) -> Result<ShareDoc, Refusal> {
    let (domain, draft) = synced_draft(state, link.user_id, link.draft_id).await?;
    let old = match link.old_draft_id {
        Some(id) => Some(synced_draft(state, link.user_id, id).await?.1),
        None => None,
    };
    Ok(super::share_doc(&domain, draft, old))
}

/// Counts a page opened (a `HEAD` request is not an opening); a failure only loses the count.
async fn count_opening(state: &AppState, link: &SharedLink, method: &Method) {
    if method != Method::GET {
        return;
    }
    if let Err(e) = state.store.touch_share(link.id, state.clock.now_ms()).await {
        tracing::warn!(error = %e, share = %link.id, "could not count a share page opened");
    }
}

/// `GET /s/{token}`: the draft's page, rendered here.
pub async fn plain(
    State(state): State<AppState>,
    peer: Peer,
    method: Method,
    headers: HeaderMap,
    token: Result<Path<String>, PathRejection>,
) -> Response {
    let made = async {
        let link = open(&state, peer, &headers, token, Kind::Plain).await?;
        let doc = plain_doc(&state, &link).await?;
        Ok::<_, Refusal>((link, doc))
    };
    let (link, _doc) = match made.await {
        Ok(made) => made,
        Err(refusal) => return refusal.respond(&state),
    };
    count_opening(&state, &link, &method).await;
    // FIXME: the page is rendered by `model::share` (branch share-core), not merged yet.
    html::not_found(&state.assets.css)
}

/// `GET /s/{token}/download/{format}`: one of the page's files. Downloads do not count as
/// openings.
pub async fn download(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let (token, _format) = match path {
        Ok(Path((token, format))) => (Ok(Path(token)), format),
        Err(rejection) => (Err(rejection), String::new()),
    };
    let made = async {
        let link = open(&state, peer, &headers, token, Kind::Plain).await?;
        plain_doc(&state, &link).await
    };
    if let Err(refusal) = made.await {
        return refusal.respond(&state);
    }
    // FIXME: the file is made by `model::share` (branch share-core), not merged yet.
    html::not_found(&state.assets.css)
}

/// `GET /e/{token}`: the page that decrypts the link in the reader's browser.
pub async fn encrypted(
    State(state): State<AppState>,
    peer: Peer,
    method: Method,
    headers: HeaderMap,
    token: Result<Path<String>, PathRejection>,
) -> Response {
    let link = match open(&state, peer, &headers, token, Kind::Encrypted).await {
        Ok(link) => link,
        Err(refusal) => return refusal.respond(&state),
    };
    let Some(ciphertext) = link.ciphertext.as_deref() else {
        return Refusal::Failed("an encrypted link has no ciphertext".into()).respond(&state);
    };
    count_opening(&state, &link, &method).await;
    let assets = &state.assets;
    let body = html::encrypted_body(
        &URL_SAFE_NO_PAD.encode(ciphertext),
        &assets.tools_js,
        &assets.tools_wasm,
        &assets.share_js,
    );
    let page = html::document(
        &Head {
            title: "Encrypted shared draft · Data Modeller",
            preview: None,
            css: &assets.css,
        },
        &body,
    );
    html::page(StatusCode::OK, ENCRYPTED_POLICY, page)
}

/// A downloaded file with the share headers.
#[allow(dead_code)]
fn file(media_type: &'static str, file_name: &str, text: String) -> Response {
    let mut response = (StatusCode::OK, text).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    headers.insert(header::CONTENT_DISPOSITION, html::attachment(file_name));
    html::private(headers, PLAIN_POLICY);
    response
}
