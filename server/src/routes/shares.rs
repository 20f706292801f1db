//! Share links, as their owner manages them: create a link to a draft (or a review pair), list
//! them (with when each was last opened and how often), revoke one. The pages the links open
//! are `crate::share`'s.
//!
//! The token is in the creation's answer only (in the link's `path`); the database keeps its
//! SHA-256. A *plain* link needs its drafts on the server, the requester's and not deleted
//! (another user's draft is "not found", as an unknown one); an *encrypted* link brings its
//! content as ciphertext and is checked only for form, since the server cannot read it.
//! A session or an API token may manage links.

use super::auth::ClientIp;
use super::{ApiJson, ApiPath};
use crate::audit::{Audit, Event};
use crate::auth::{self, CurrentUser};
use crate::store::{NewShare, ShareRow};
use crate::{error::ApiError, share, AppState};
use axum::{extract::State, http::StatusCode, Json};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use model::wire::{CreateShare, DomainRecord, ShareCreated, ShareInfo, ShareKind, ShareList};
use uuid::Uuid;

/// Most characters of a label.
pub const LABEL_CHARS: usize = 200;
/// Most links a user may hold that are not revoked: each may keep a ciphertext up to the body
/// limit.
pub const MAX_SHARES: i64 = 500;
/// The smallest ciphertext: a 12-byte IV and a 16-byte tag around nothing.
pub const MIN_CIPHERTEXT: usize = 12 + 16;

const NOT_SYNCED: &str =
    "draft not found on the server: sync it first (it may still be waiting to upload)";

fn info(row: ShareRow) -> Result<ShareInfo, ApiError> {
    let kind = match row.kind.as_str() {
        "plain" => ShareKind::Plain,
        "encrypted" => ShareKind::Encrypted,
        other => return Err(ApiError::internal(format!("a share of kind {other:?}"))),
    };
    Ok(ShareInfo {
        id: row.id,
        kind,
        draft_id: row.draft_id,
        old_draft_id: row.old_draft_id,
        domain_id: row.domain_id,
        label: row.label,
        preview: row.preview,
        created_at: row.created_at,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        last_opened_at: row.last_opened_at,
        open_count: u64::try_from(row.open_count).unwrap_or(0),
    })
}

/// `GET /api/v1/shares`: the user's links, newest first, revoked and expired ones included.
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<ShareList>, ApiError> {
    let shares = state
        .store
        .shares(user.id)
        .await?
        .into_iter()
        .map(info)
        .collect::<Result<_, _>>()?;
    Ok(Json(ShareList { shares }))
}

/// The label as kept: trimmed, `None` when empty.
fn label(label: Option<&str>) -> Result<Option<&str>, ApiError> {
    let Some(label) = label.map(str::trim).filter(|l| !l.is_empty()) else {
        return Ok(None);
    };
    if label.chars().count() > LABEL_CHARS || label.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "VAL_SHARE_LABEL",
            format!("the label needs at most {LABEL_CHARS} printable characters"),
        ));
    }
    Ok(Some(label))
}

/// The sealed draft's bytes, from base64url without padding.
fn ciphertext(text: &str, body_limit: usize) -> Result<Vec<u8>, ApiError> {
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| {
        ApiError::invalid(
            "VAL_SHARE_CIPHERTEXT",
            "`ciphertext` is not base64url without padding: send the IV, ciphertext and tag \
             encoded that way",
        )
    })?;
    if bytes.len() < MIN_CIPHERTEXT || bytes.len() > body_limit {
        return Err(ApiError::invalid(
            "VAL_SHARE_CIPHERTEXT",
            format!(
                "`ciphertext` must hold {MIN_CIPHERTEXT} to {body_limit} bytes: a 12-byte IV, \
                 the ciphertext and a 16-byte tag"
            ),
        ));
    }
    Ok(bytes)
}

/// The domain of one of the user's synced drafts that is not deleted and whose domain is
/// not in the trash.
async fn synced_domain(state: &AppState, user: Uuid, draft: Uuid) -> Result<Uuid, ApiError> {
    let Some(row) = state.store.share_draft(user, draft).await? else {
        return Err(ApiError::Missing {
            message: NOT_SYNCED.into(),
        });
    };
    if row.deleted {
        return Err(ApiError::Missing {
            message: format!("draft {draft} was deleted: share a draft that still exists"),
        });
    }
    let body = state
        .store
        .share_domain(user, row.domain_id)
        .await?
        .ok_or(ApiError::Missing {
            message: NOT_SYNCED.into(),
        })?;
    let domain: DomainRecord = serde_json::from_str(&body).map_err(ApiError::internal)?;
    if domain.deleted_at.is_some() {
        return Err(ApiError::Missing {
            message: "the draft's domain is in the trash: restore it first".into(),
        });
    }
    Ok(row.domain_id)
}

/// `POST /api/v1/shares`: a new link; its path (with the token) is in this answer only.
pub async fn create(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: CurrentUser,
    ApiJson(input): ApiJson<CreateShare>,
) -> Result<(StatusCode, Json<ShareCreated>), ApiError> {
    let now = state.clock.now_ms();
    let label = label(input.label.as_deref())?;
    if input.expires_at.is_some_and(|at| at <= now) {
        return Err(ApiError::invalid(
            "VAL_SHARE_EXPIRY",
            "`expires_at` is not in the future: pick a later time, or leave it out for a link \
             that does not expire",
        ));
    }
    if input.old_draft_id == Some(input.draft_id) {
        return Err(ApiError::invalid(
            "VAL_SHARE_PAIR",
            "`old_draft_id` is the draft itself: a review pair needs two drafts",
        ));
    }
    let sealed = input
        .ciphertext
        .as_deref()
        .map(|text| ciphertext(text, state.config.body_limit))
        .transpose()?;
    let domain_id = match sealed {
        // An encrypted link's drafts need not be synced: the server never reads them.
        Some(_) => None,
        None => {
            let domain = synced_domain(&state, user.id, input.draft_id).await?;
            if let Some(old) = input.old_draft_id {
                if synced_domain(&state, user.id, old).await? != domain {
                    return Err(ApiError::invalid(
                        "VAL_SHARE_PAIR",
                        "the two drafts are in different domains: a review pair needs two \
                         drafts of one domain",
                    ));
                }
            }
            Some(domain)
        }
    };
    if state.store.unrevoked_share_count(user.id).await? >= MAX_SHARES {
        return Err(ApiError::Conflict {
            code: "VAL_SHARE_LIMIT",
            message: format!(
                "you have {MAX_SHARES} links that are not revoked: revoke the ones you no longer need"
            ),
        });
    }
    let token = share::new_token();
    let id = Uuid::now_v7();
    // An encrypted page never carries a preview: the server does not know what it shows.
    let preview = input.preview && sealed.is_none();
    state
        .store
        .insert_share(NewShare {
            id,
            user: user.id,
            token_hash: &auth::token_hash(&token),
            draft_id: input.draft_id,
            old_draft_id: input.old_draft_id,
            domain_id,
            label,
            preview,
            ciphertext: sealed.as_deref(),
            created_at: now,
            expires_at: input.expires_at,
        })
        .await?;
    let kind = if sealed.is_some() {
        ShareKind::Encrypted
    } else {
        ShareKind::Plain
    };
    let kind_name = match kind {
        ShareKind::Plain => "plain",
        ShareKind::Encrypted => "encrypted",
    };
    tracing::info!(user = %user.id, share = %id, kind = kind_name, "share link created");
    Audit::by(Event::ShareCreated, &user)
        .target(id, label.unwrap_or("share link"))
        .ip(ip)
        .details(serde_json::json!({
            "kind": kind_name,
            "draft_id": input.draft_id,
            "old_draft_id": input.old_draft_id,
            "expires_at": input.expires_at,
        }))
        .record(&state.store)
        .await;
    let path = match kind {
        ShareKind::Plain => format!("/s/{token}"),
        ShareKind::Encrypted => format!("/e/{token}"),
    };
    let share = ShareInfo {
        id,
        kind,
        draft_id: input.draft_id,
        old_draft_id: input.old_draft_id,
        domain_id,
        label: label.map(str::to_string),
        preview,
        created_at: now,
        expires_at: input.expires_at,
        revoked_at: None,
        last_opened_at: None,
        open_count: 0,
    };
    Ok((StatusCode::CREATED, Json(ShareCreated { share, path })))
}

/// `DELETE /api/v1/shares/{id}`: the link stops working at once; revoking it again changes
/// nothing.
pub async fn revoke(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    if !state
        .store
        .revoke_share(user.id, id, state.clock.now_ms())
        .await?
    {
        return Err(ApiError::NotFound { what: "share link" });
    }
    tracing::info!(user = %user.id, share = %id, "share link revoked");
    Audit::by(Event::ShareRevoked, &user)
        .target(id, "share link")
        .ip(ip)
        .record(&state.store)
        .await;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn labels_are_trimmed_and_bounded() {
        assert_eq!(label(None).unwrap(), None);
        assert_eq!(label(Some("   ")).unwrap(), None);
        assert_eq!(label(Some("  for the DBA ")).unwrap(), Some("for the DBA"));
        let long = "é".repeat(LABEL_CHARS);
        assert_eq!(label(Some(&long)).unwrap(), Some(long.as_str()));
        for bad in ["é".repeat(LABEL_CHARS + 1), "a\u{7}b".to_string()] {
            match label(Some(&bad)) {
                Err(ApiError::Invalid { code, .. }) => assert_eq!(code, "VAL_SHARE_LABEL"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn ciphertext_is_base64url_of_an_iv_a_ciphertext_and_a_tag() {
        let sealed = vec![7u8; MIN_CIPHERTEXT];
        assert_eq!(
            ciphertext(&URL_SAFE_NO_PAD.encode(&sealed), 100).unwrap(),
            sealed
        );
        let refused = |text: &str, limit| match ciphertext(text, limit) {
            Err(ApiError::Invalid { code, .. }) => code == "VAL_SHARE_CIPHERTEXT",
            _ => false,
        };
        assert!(refused(
            &URL_SAFE_NO_PAD.encode([1u8; MIN_CIPHERTEXT - 1]),
            100
        ));
        assert!(refused(&URL_SAFE_NO_PAD.encode([1u8; 101]), 100));
        assert!(refused("not base64!", 100));
        // Padded base64 is refused (the contract says without padding).
        assert!(refused(
            &base64::engine::general_purpose::URL_SAFE.encode([1u8; 29]),
            100
        ));
    }
}
