//! The handlers of the share pages: `/s/{token}` (a plain link's page), its downloads, and
//! `/e/{token}` (an encrypted link's page).
//!
//! Each starts with [`open`]: the per-address lookup limit, the token's form, the lookup by
//! hash (the stored hash compared again in constant time), then [`super::live`] at the
//! server's clock and the link's kind. A plain link then reads its drafts and their domain
//! ([`ShareDoc::of`]). Every way of failing before a page is made
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
use model::share;
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
    token: Option<&str>,
    kind: Kind,
) -> Result<SharedLink, Refusal> {
    let ip = client_ip(state, peer, headers);
    state.limiter.check_share(ip).map_err(|limited| {
        tracing::info!(%ip, "share link lookups rate-limited");
        state.metrics.rate_limited(limited.kind);
        Refusal::TooMany(limited)
    })?;
    let Some(token) = token.filter(|token| super::well_formed(token)) else {
        return Err(Refusal::NotFound);
    };
    let hash = auth::token_hash(token);
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
    Ok(ShareDoc::of(&domain.name, &domain.positions, draft, old))
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

/// Runs the core's rendering (a large model's diagram and dictionary take a while) on the
/// blocking pool, so that it holds up no other request; a panic there is a 500 page.
async fn off_the_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Refusal> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Refusal::Failed(format!("rendering a share page failed: {e}")))
}

/// `GET /s/{token}`: the draft's page, rendered here by the core.
pub async fn plain(
    State(state): State<AppState>,
    peer: Peer,
    method: Method,
    headers: HeaderMap,
    token: Result<Path<String>, PathRejection>,
) -> Response {
    let token = token.ok().map(|Path(token)| token);
    let made = async {
        let link = open(&state, peer, &headers, token.as_deref(), Kind::Plain).await?;
        let doc = plain_doc(&state, &link).await?;
        Ok::<_, Refusal>((link, doc))
    };
    let (link, doc) = match made.await {
        Ok(made) => made,
        Err(refusal) => return refusal.respond(&state),
    };
    count_opening(&state, &link, &method).await;
    // The download links repeat the page's own path, token included (`open` found it well
    // formed: base64url only); `no-referrer` keeps it from the sites the narrative links to.
    let token = token.unwrap_or_default();
    let rendered = off_the_runtime(move || {
        let fragment = share::render_html(&doc, &|d| format!("/s/{token}/download/{}", d.format));
        (share::title(&doc), share::description(&doc), fragment)
    })
    .await;
    let (doc_title, description, fragment) = match rendered {
        Ok(rendered) => rendered,
        Err(refusal) => return refusal.respond(&state),
    };
    let title = format!("{doc_title} · Data Modeller");
    let page = html::document(
        &Head {
            title: &title,
            preview: link
                .preview
                .then_some((doc_title.as_str(), description.as_str())),
            css: &state.assets.css,
            shared: true,
        },
        &format!("<div class=\"share-page\">\n{fragment}\n</div>"),
    );
    html::page(StatusCode::OK, PLAIN_POLICY, page)
}

/// `GET /s/{token}/download/{format}`: one of the page's files, made by the core. Downloads
/// do not count as openings; a format the page does not offer is the one 404.
pub async fn download(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let (token, format) = match path {
        Ok(Path((token, format))) => (Some(token), format),
        Err(_) => (None, String::new()),
    };
    let made = async {
        let link = open(&state, peer, &headers, token.as_deref(), Kind::Plain).await?;
        let doc = plain_doc(&state, &link).await?;
        off_the_runtime(move || share::download(&doc, &format))
            .await?
            .ok_or(Refusal::NotFound)
    };
    let (file, text) = match made.await {
        Ok(made) => made,
        Err(refusal) => return refusal.respond(&state),
    };
    let mut response = (StatusCode::OK, text).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.media_type),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        html::attachment(&file.file_name),
    );
    html::private(headers, PLAIN_POLICY);
    response
}

/// `GET /s/{token}/…` and `/e/{token}/…` that no other route takes: the page of an unknown
/// link, byte for byte.
pub async fn elsewhere(State(state): State<AppState>) -> Response {
    Refusal::NotFound.respond(&state)
}

/// `GET /e/{token}`: the page that decrypts the link in the reader's browser.
pub async fn encrypted(
    State(state): State<AppState>,
    peer: Peer,
    method: Method,
    headers: HeaderMap,
    token: Result<Path<String>, PathRejection>,
) -> Response {
    let token = token.ok().map(|Path(token)| token);
    let link = match open(&state, peer, &headers, token.as_deref(), Kind::Encrypted).await {
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
            shared: true,
        },
        &body,
    );
    html::page(StatusCode::OK, ENCRYPTED_POLICY, page)
}
