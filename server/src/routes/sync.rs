//! Sync, first version: push records, pull everything (DESIGN §6 in its simplest form).
//!
//! A push is applied in one transaction. Domains are last-writer-wins by `updated_at`; the
//! version a push replaces is kept in `domain_versions`. Drafts are immutable: a draft id seen
//! again with the same content is a harmless retry, with other content a conflict. A record
//! whose id belongs to another user is refused, as is a draft whose domain is not the user's.

use super::ApiJson;
use crate::auth::CurrentUser;
use crate::{clock::now_ms, error::ApiError, AppState};
use axum::{extract::State, Json};
use model::wire::{SyncPull, SyncPush, SyncPushResult};
use model::{validate, Conventions};

fn encode<T: serde::Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

/// Decodes stored record bodies; a body that no longer reads is a server fault.
fn decode<T: serde::de::DeserializeOwned>(bodies: &[String]) -> Result<Vec<T>, ApiError> {
    bodies
        .iter()
        .map(|body| serde_json::from_str(body).map_err(ApiError::internal))
        .collect()
}

fn taken(what: &str) -> ApiError {
    ApiError::Conflict {
        code: "RES_ID_TAKEN",
        message: format!("a {what} with this id belongs to another account: create it anew"),
    }
}

pub async fn push(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(batch): ApiJson<SyncPush>,
) -> Result<Json<SyncPushResult>, ApiError> {
    for draft in &batch.drafts {
        let problems = validate(&draft.model, &Conventions::default());
        if !problems.is_empty() {
            return Err(ApiError::Invalid {
                code: "VAL_MODEL",
                message: format!(
                    "draft {} holds an invalid model: fix it before syncing",
                    draft.id
                ),
                details: serde_json::json!({ "draft": draft.id, "problems": problems }),
            });
        }
    }
    let owner = user.id;
    let mut result = SyncPushResult::default();
    // One transaction: a refused record undoes the whole push (dropping `tx` rolls back).
    let mut tx = state.store.begin_sync().await?;
    for domain in &batch.domains {
        let existing = tx.domain(domain.id).await?;
        match existing {
            Some(stored) if stored.user_id != owner => return Err(taken("domain")),
            Some(stored) if stored.updated_at >= domain.updated_at => result.domains_stale += 1,
            Some(stored) => {
                tx.keep_domain_version(domain.id, &stored, now_ms()).await?;
                tx.update_domain(domain.id, &encode(domain)?, domain.updated_at)
                    .await?;
                result.domains_applied += 1;
            }
            None => {
                tx.insert_domain(domain.id, owner, &encode(domain)?, domain.updated_at)
                    .await?;
                result.domains_applied += 1;
            }
        }
    }
    for draft in &batch.drafts {
        let body = encode(draft)?;
        match tx.draft(draft.id).await? {
            Some(stored) if stored.user_id != owner => return Err(taken("draft")),
            Some(stored) if stored.body == body => result.drafts_existing += 1,
            Some(_) => {
                return Err(ApiError::Conflict {
                    code: "RES_DRAFT_IMMUTABLE",
                    message: format!(
                        "draft {} already exists with other content: drafts never change, save a new draft instead",
                        draft.id
                    ),
                })
            }
            None => {
                if tx.domain_owner(draft.domain_id).await? != Some(owner) {
                    return Err(ApiError::invalid(
                        "VAL_UNKNOWN_DOMAIN",
                        format!("draft {} names a domain the server does not have for you: push the domain first", draft.id),
                    ));
                }
                tx.insert_draft(draft.id, owner, draft.domain_id, &body, draft.created_at)
                    .await?;
                result.drafts_created += 1;
            }
        }
    }
    tx.commit().await?;
    tracing::info!(user = %user.id, ?result, "sync push applied");
    Ok(Json(result))
}

pub async fn pull(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<SyncPull>, ApiError> {
    let domains = state.store.domain_bodies(user.id).await?;
    let drafts = state.store.draft_bodies(user.id).await?;
    Ok(Json(SyncPull {
        domains: decode(&domains)?,
        drafts: decode(&drafts)?,
    }))
}
