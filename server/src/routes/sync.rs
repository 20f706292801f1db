//! Sync, first version: push records, pull everything (DESIGN §6 in its simplest form).
//!
//! A push is applied in one transaction. Domains are last-writer-wins by `updated_at`; the
//! version a push replaces is kept in `domain_versions`. Drafts are immutable: a draft id seen
//! again with the same content is a harmless retry, with other content a conflict. A record
//! whose id belongs to another user is refused, as is a draft whose domain is not the user's.

use super::ApiJson;
use crate::auth::CurrentUser;
use crate::{db::now_ms, error::ApiError, AppState};
use axum::{extract::State, Json};
use model::wire::{DomainRecord, DraftRecord, SyncPull, SyncPush, SyncPushResult};
use model::{validate, Conventions};

fn encode<T: serde::Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(ApiError::internal)
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
    let owner = user.id.to_string();
    let mut result = SyncPushResult::default();
    let mut tx = state.pool.begin().await?;
    for domain in &batch.domains {
        let id = domain.id.to_string();
        let existing: Option<(String, String, i64)> =
            sqlx::query_as("SELECT user_id, body, updated_at FROM domains WHERE id = ?")
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await?;
        match existing {
            Some((other, _, _)) if other != owner => return Err(taken("domain")),
            Some((_, _, updated_at)) if updated_at >= domain.updated_at => {
                result.domains_stale += 1
            }
            Some((_, body, updated_at)) => {
                sqlx::query(
                    "INSERT INTO domain_versions (domain_id, user_id, body, updated_at, replaced_at) VALUES (?, ?, ?, ?, ?)",
                )
                .bind(&id)
                .bind(&owner)
                .bind(body)
                .bind(updated_at)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE domains SET body = ?, updated_at = ? WHERE id = ?")
                    .bind(encode(domain)?)
                    .bind(domain.updated_at)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                result.domains_applied += 1;
            }
            None => {
                sqlx::query(
                    "INSERT INTO domains (id, user_id, body, updated_at) VALUES (?, ?, ?, ?)",
                )
                .bind(&id)
                .bind(&owner)
                .bind(encode(domain)?)
                .bind(domain.updated_at)
                .execute(&mut *tx)
                .await?;
                result.domains_applied += 1;
            }
        }
    }
    for draft in &batch.drafts {
        let body = encode(draft)?;
        let existing: Option<(String, String)> =
            sqlx::query_as("SELECT user_id, body FROM drafts WHERE id = ?")
                .bind(draft.id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        match existing {
            Some((other, _)) if other != owner => return Err(taken("draft")),
            Some((_, stored)) if stored == body => result.drafts_existing += 1,
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
                let domain_owner: Option<(String,)> = sqlx::query_as("SELECT user_id FROM domains WHERE id = ?")
                    .bind(draft.domain_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
                if domain_owner.as_ref().map(|(o,)| o.as_str()) != Some(owner.as_str()) {
                    return Err(ApiError::invalid(
                        "VAL_UNKNOWN_DOMAIN",
                        format!("draft {} names a domain the server does not have for you: push the domain first", draft.id),
                    ));
                }
                sqlx::query("INSERT INTO drafts (id, user_id, domain_id, body, created_at) VALUES (?, ?, ?, ?, ?)")
                    .bind(draft.id.to_string())
                    .bind(&owner)
                    .bind(draft.domain_id.to_string())
                    .bind(body)
                    .bind(draft.created_at)
                    .execute(&mut *tx)
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
    let owner = user.id.to_string();
    let domains: Vec<(String,)> =
        sqlx::query_as("SELECT body FROM domains WHERE user_id = ? ORDER BY id")
            .bind(&owner)
            .fetch_all(&state.pool)
            .await?;
    let drafts: Vec<(String,)> = sqlx::query_as(
        "SELECT body FROM drafts WHERE user_id = ? ORDER BY domain_id, created_at, id",
    )
    .bind(&owner)
    .fetch_all(&state.pool)
    .await?;
    let decode_domain = |(body,): &(String,)| {
        serde_json::from_str::<DomainRecord>(body).map_err(ApiError::internal)
    };
    let decode_draft =
        |(body,): &(String,)| serde_json::from_str::<DraftRecord>(body).map_err(ApiError::internal);
    Ok(Json(SyncPull {
        domains: domains
            .iter()
            .map(decode_domain)
            .collect::<Result<_, _>>()?,
        drafts: drafts.iter().map(decode_draft).collect::<Result<_, _>>()?,
    }))
}
