//! Sync (DESIGN §6; the rules are `model::sync`'s): `POST /sync/push` applies a client's
//! mutations in order in one transaction, `GET /sync/pull` returns what changed since a version.
//!
//! Push: a mutation id at or below the client's last applied id is skipped (a retry), the next
//! id is applied, anything further is a gap and refuses the whole push (`SYNC_GAP`). A part of
//! a large mutation is kept until its last part arrives; then the parts make the mutation whole.
//! A mutation that can never apply (an invalid model, an id of someone else's, a changed draft)
//! is rejected: its id counts as applied and the answer says why, so it cannot stall the
//! mutations after it. Every record a mutation changes takes the user's next version.
//!
//! Pull: the rows changed after `since`, by version, at most [`PULL_ROWS`] rows and about
//! [`PULL_BYTES`] of JSON per answer (`more` says to pull again); stored records are passed on
//! as they are, never decoded and re-encoded.

use super::ApiJson;
use crate::auth::CurrentUser;
use crate::store::{StoreError, SyncTx};
use crate::{clock::now_ms, error::ApiError, AppState};
use axum::{
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
    Json,
};
use model::sync::{
    apply_domain, Conflicts, Mutation, PushedMutation, Refusal, Rejected, SyncPush, SyncPushResult,
    MAX_PARTS,
};
use model::wire::DomainRecord;
use model::{validate, Conventions};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

/// At most this many rows per pull.
pub const PULL_ROWS: u32 = 2000;
/// A pull stops adding rows once its records pass this many bytes (one row always fits).
pub const PULL_BYTES: usize = 8 * 1024 * 1024;
/// The body limit of `POST /sync/push`: the browser's batches stay well under it.
pub const PUSH_BODY_LIMIT: usize = 4 * 1024 * 1024;
/// At most this many mutations (or parts) per push.
pub const PUSH_MAX: usize = 10_000;

/// What one mutation did.
enum Applied {
    Done,
    Refused(Refusal),
}

impl From<Refusal> for Applied {
    fn from(refusal: Refusal) -> Self {
        Applied::Refused(refusal)
    }
}

fn db(e: StoreError) -> ApiError {
    ApiError::Database(e)
}

fn client_taken() -> ApiError {
    ApiError::Conflict {
        code: "SYNC_CLIENT_TAKEN",
        message: "this client id belongs to another account: sign out and in again, which makes a new one"
            .into(),
    }
}

/// Checks a push's shape before anything is applied.
fn check_shape(push: &SyncPush) -> Result<(), ApiError> {
    if push.mutations.len() > PUSH_MAX {
        return Err(ApiError::invalid(
            "VAL_SYNC_BATCH",
            format!("a push holds at most {PUSH_MAX} mutations: send the rest in the next one"),
        ));
    }
    let mut previous: Option<&PushedMutation> = None;
    for entry in &push.mutations {
        let one_of = entry.mutation.is_some() != entry.part.is_some();
        if !one_of || entry.id == 0 {
            return Err(ApiError::invalid(
                "VAL_SYNC_BATCH",
                format!(
                    "mutation {} must have an id from 1 and either a whole `mutation` or one `part`",
                    entry.id
                ),
            ));
        }
        if let Some(part) = &entry.part {
            if part.count == 0 || part.count > MAX_PARTS || part.index >= part.count {
                return Err(ApiError::invalid(
                    "VAL_SYNC_BATCH",
                    format!(
                        "mutation {}: a part needs 0 <= index < count <= {MAX_PARTS}",
                        entry.id
                    ),
                ));
            }
        }
        if let Some(before) = previous {
            let same_parts = before.id == entry.id && before.part.is_some() && entry.part.is_some();
            if entry.id < before.id || (entry.id == before.id && !same_parts) {
                return Err(ApiError::invalid(
                    "VAL_SYNC_BATCH",
                    format!(
                        "mutations must come in increasing id order: {} came after {}",
                        entry.id, before.id
                    ),
                ));
            }
        }
        previous = Some(entry);
    }
    Ok(())
}

/// `POST /api/v1/sync/push`.
pub async fn push(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(push): ApiJson<SyncPush>,
) -> Result<Json<SyncPushResult>, ApiError> {
    check_shape(&push)?;
    let owner = user.id;
    let client = push.client_id;
    let now = now_ms();
    let mut tx = state.store.begin_sync().await.map_err(db)?;
    let mut last = match tx.client(client).await.map_err(db)? {
        Some(row) if row.user_id != owner => return Err(client_taken()),
        Some(row) => row.last_mutation_id,
        None => {
            // A new client's row comes first: the parts it sends in this push refer to it.
            tx.set_client(client, owner, 0, now).await.map_err(db)?;
            0
        }
    };
    let mut version = tx.version(owner).await.map_err(db)?;
    let before = (last, version);
    let mut rejected = Vec::new();
    for entry in push.mutations {
        if entry.id <= last {
            continue;
        }
        if entry.id != last + 1 {
            return Err(gap(last, entry.id));
        }
        let mutation = match (entry.mutation, entry.part) {
            (Some(mutation), _) => Ok(mutation),
            (None, Some(part)) => {
                tx.drop_other_parts(client, entry.id, part.count)
                    .await
                    .map_err(db)?;
                tx.put_part(client, entry.id, part.index, part.count, &part.data)
                    .await
                    .map_err(db)?;
                if part.index + 1 < part.count {
                    continue;
                }
                let parts = tx.parts(client, entry.id).await.map_err(db)?;
                let whole = parts.len() == part.count as usize
                    && parts
                        .iter()
                        .enumerate()
                        .all(|(i, (index, count, _))| *index as usize == i && *count == part.count);
                if !whole {
                    return Err(ApiError::Conflict {
                        code: "SYNC_GAP",
                        message: format!(
                            "mutation {} is missing parts: push all its parts again, in order",
                            entry.id
                        ),
                    });
                }
                let json: String = parts.into_iter().map(|(_, _, data)| data).collect();
                serde_json::from_str::<Mutation>(&json).map_err(|e| {
                    Refusal::new(
                        "VAL_SYNC_MUTATION",
                        format!(
                            "mutation {} does not read once its parts are joined: {e}",
                            entry.id
                        ),
                    )
                })
            }
            (None, None) => unreachable_shape(),
        };
        let applied = match mutation {
            Ok(mutation) => apply(&mut tx, owner, &mut version, &mutation, now).await?,
            Err(refusal) => Applied::Refused(refusal),
        };
        if let Applied::Refused(refusal) = applied {
            tracing::info!(user = %owner, mutation = entry.id, code = %refusal.code, "sync mutation rejected");
            rejected.push(Rejected {
                mutation_id: entry.id,
                code: refusal.code,
                message: refusal.message,
            });
        }
        last = entry.id;
    }
    if (last, version) != before {
        tx.drop_parts(client, last).await.map_err(db)?;
        tx.set_client(client, owner, last, now).await.map_err(db)?;
        tx.set_version(owner, version).await.map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    tracing::debug!(user = %owner, last, version, rejected = rejected.len(), "sync push applied");
    Ok(Json(SyncPushResult {
        last_mutation_id: last,
        version,
        rejected,
    }))
}

/// The shape check lets no entry through without a mutation or a part.
fn unreachable_shape() -> Result<Mutation, Refusal> {
    Err(Refusal::new(
        "VAL_SYNC_BATCH",
        "a mutation needs a whole `mutation` or one `part`",
    ))
}

fn gap(last: u64, got: u64) -> ApiError {
    ApiError::Conflict {
        code: "SYNC_GAP",
        message: format!(
            "mutation {got} came before {}: push the mutations after {last} in order",
            last + 1
        ),
    }
}

fn encode<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

/// Applies one mutation of `owner`; a refusal changes nothing.
async fn apply(
    tx: &mut SyncTx,
    owner: Uuid,
    version: &mut u64,
    mutation: &Mutation,
    now: i64,
) -> Result<Applied, ApiError> {
    match mutation {
        Mutation::CreateDraft { draft } => {
            let problems = validate(&draft.model, &Conventions::default());
            if !problems.is_empty() {
                let first = &problems[0];
                return Ok(Refusal::new(
                    "VAL_MODEL",
                    format!(
                        "draft {} holds an invalid model ({} problems; {}: {})",
                        draft.id,
                        problems.len(),
                        first.path,
                        first.reason
                    ),
                )
                .into());
            }
            let body = encode(draft)?;
            match tx.draft(draft.id).await.map_err(db)? {
                Some(stored) if stored.user_id != owner => Ok(taken("draft").into()),
                Some(stored) if stored.deleted => Ok(Refusal::new(
                    "RES_DRAFT_DELETED",
                    format!("draft {} was deleted: save it as a new draft", draft.id),
                )
                .into()),
                Some(stored) if stored.body == body => Ok(Applied::Done),
                Some(_) => Ok(Refusal::new(
                    "RES_DRAFT_IMMUTABLE",
                    format!(
                        "draft {} already exists with other content: drafts never change, save a new draft instead",
                        draft.id
                    ),
                )
                .into()),
                None => {
                    if tx.domain_owner(draft.domain_id).await.map_err(db)? != Some(owner) {
                        return Ok(Refusal::new(
                            "SYNC_UNKNOWN_DOMAIN",
                            format!("draft {} names a domain the server does not have for you", draft.id),
                        )
                        .into());
                    }
                    *version += 1;
                    tx.insert_draft(draft.id, owner, draft.domain_id, &body, draft.created_at, *version)
                        .await
                        .map_err(db)?;
                    Ok(Applied::Done)
                }
            }
        }
        Mutation::DeleteDraft { draft_id, .. } => match tx.draft(*draft_id).await.map_err(db)? {
            Some(stored) if stored.user_id != owner => Ok(taken("draft").into()),
            // Deleting what is not there, or already deleted, leaves it so.
            None => Ok(Applied::Done),
            Some(stored) if stored.deleted => Ok(Applied::Done),
            Some(_) => {
                *version += 1;
                tx.delete_draft(*draft_id, *version).await.map_err(db)?;
                Ok(Applied::Done)
            }
        },
        _ => {
            let id = mutation.domain_id();
            let stored = tx.domain(id).await.map_err(db)?;
            let current: Option<DomainRecord> = match &stored {
                Some(row) if row.user_id != owner => return Ok(taken("domain").into()),
                Some(row) => Some(serde_json::from_str(&row.body).map_err(ApiError::internal)?),
                None => None,
            };
            if let (Mutation::CreateDomain { domain }, None) = (mutation, &current) {
                if domain.deleted_at.is_some() {
                    return Ok(Refusal::new(
                        "VAL_DOMAIN",
                        "a new domain cannot start in the trash",
                    )
                    .into());
                }
            }
            let next = match apply_domain(
                current.as_ref(),
                mutation,
                Conflicts::Keep {
                    id: *version + 1,
                    now,
                },
            ) {
                Ok(next) => next,
                Err(refusal) => return Ok(refusal.into()),
            };
            if current.as_ref() == Some(&next) {
                return Ok(Applied::Done);
            }
            *version += 1;
            if let Some(row) = &stored {
                tx.keep_domain_version(id, row, now).await.map_err(db)?;
            }
            tx.put_domain(id, owner, &encode(&next)?, next.updated_at, *version)
                .await
                .map_err(db)?;
            Ok(Applied::Done)
        }
    }
}

fn taken(what: &str) -> Refusal {
    Refusal::new(
        "RES_ID_TAKEN",
        format!("a {what} with this id belongs to another account: create it anew"),
    )
}

/// `GET /sync/pull?client_id=&since=`.
#[derive(Debug, Deserialize)]
pub struct PullQuery {
    pub client_id: Uuid,
    #[serde(default)]
    pub since: u64,
}

/// A pull's answer with the stored records passed on as they are.
#[derive(Serialize)]
struct PullBody<'a> {
    version: u64,
    more: bool,
    last_mutation_id: u64,
    domains: Vec<&'a RawValue>,
    drafts: Vec<&'a RawValue>,
    deleted_drafts: Vec<&'a str>,
}

/// `GET /api/v1/sync/pull`.
pub async fn pull(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<PullQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| {
        ApiError::invalid(
            "VAL_QUERY",
            format!(
                "the query is malformed ({}): use ?client_id=<uuid>&since=<version>",
                e.body_text()
            ),
        )
    })?;
    let mut tx = state.store.begin_pull().await.map_err(db)?;
    let last_mutation_id = match tx.client(query.client_id).await.map_err(db)? {
        Some(row) if row.user_id != user.id => return Err(client_taken()),
        Some(row) => row.last_mutation_id,
        None => 0,
    };
    let current = tx.version(user.id).await.map_err(db)?;
    // A client ahead of the server (a database restored from a backup) starts again from
    // the beginning: everything the server has comes down.
    let since = if query.since > current {
        0
    } else {
        query.since
    };
    let rows = tx.changed(user.id, since, PULL_ROWS).await.map_err(db)?;
    drop(tx);
    let mut body = PullBody {
        version: current,
        more: false,
        last_mutation_id,
        domains: Vec::new(),
        drafts: Vec::new(),
        deleted_drafts: Vec::new(),
    };
    let full = rows.len() == PULL_ROWS as usize;
    let mut bytes = 0;
    let mut cut = None;
    for (i, row) in rows.iter().enumerate() {
        if i > 0 && bytes + row.body.len() > PULL_BYTES {
            cut = Some(rows[i - 1].version);
            break;
        }
        bytes += row.body.len();
        if row.deleted {
            body.deleted_drafts.push(&row.id);
            continue;
        }
        let raw: &RawValue = serde_json::from_str(&row.body).map_err(ApiError::internal)?;
        if row.kind == "domain" {
            body.domains.push(raw);
        } else {
            body.drafts.push(raw);
        }
    }
    if let Some(version) = cut.or(full.then(|| rows.last().map(|r| r.version)).flatten()) {
        body.version = u64::try_from(version).unwrap_or(0);
        body.more = true;
    }
    let json = serde_json::to_vec(&body).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::sync::Part;

    fn entry(id: u64, part: Option<(u32, u32)>) -> PushedMutation {
        PushedMutation {
            id,
            mutation: part.is_none().then_some(Mutation::DeleteDomain {
                domain_id: Uuid::nil(),
                at: 0,
            }),
            part: part.map(|(index, count)| Part {
                index,
                count,
                data: String::new(),
            }),
        }
    }

    fn shape(entries: Vec<PushedMutation>) -> Result<(), String> {
        check_shape(&SyncPush {
            client_id: Uuid::nil(),
            mutations: entries,
        })
        .map_err(|e| e.to_string())
    }

    #[test]
    fn pushes_must_be_in_order_with_well_formed_parts() {
        assert!(shape(vec![
            entry(1, None),
            entry(2, Some((0, 2))),
            entry(2, Some((1, 2))),
            entry(3, None)
        ])
        .is_ok());
        assert!(shape(vec![entry(2, None), entry(1, None)]).is_err());
        assert!(shape(vec![entry(1, None), entry(1, None)]).is_err());
        assert!(shape(vec![entry(0, None)]).is_err());
        assert!(shape(vec![entry(1, Some((2, 2)))]).is_err());
        assert!(shape(vec![entry(1, Some((0, 0)))]).is_err());
        assert!(shape(vec![entry(1, Some((0, MAX_PARTS + 1)))]).is_err());
        let both = PushedMutation {
            part: Some(Part {
                index: 0,
                count: 1,
                data: String::new(),
            }),
            ..entry(1, None)
        };
        assert!(shape(vec![both]).is_err());
    }
}
