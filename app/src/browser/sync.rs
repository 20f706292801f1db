//! Sync (DESIGN §6; the protocol is `model::sync`'s): a round pushes the pending mutations in
//! order, in batches that fit the server's body limit (a large draft in parts), then pulls what
//! changed since the version this browser has, page by page.
//!
//! After each push the applied mutations leave the queue and the refused ones are remembered
//! (`storage::acknowledge`); a push that fails leaves the queue as it was, and the next round
//! sends it again, which the server skips where it has already applied it. A pull drops what
//! the server has applied and re-applies what is still pending on top of the server's copy.

use super::{api, storage, UiError};
use model::sync::{batches, SyncPush, BATCH_BYTES, PART_BYTES};
use uuid::Uuid;

/// What a sync round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Mutations the server acknowledged.
    pub pushed: usize,
    /// Records that changed here.
    pub pulled: usize,
}

/// Number of changes not yet acknowledged by the server.
pub async fn pending(user: Uuid) -> Result<usize, UiError> {
    storage::pending_count(user).await
}

/// Pushes the queue, then pulls until the server has nothing more.
pub async fn sync_now(user: Uuid) -> Result<SyncReport, UiError> {
    let meta = storage::sync_meta(user).await?;
    let mut report = SyncReport::default();
    let queued = storage::pending(user).await?;
    if !queued.is_empty() {
        let pushes = batches(&queued, PART_BYTES, BATCH_BYTES)
            .map_err(|e| UiError::browser("preparing the changes to sync", e))?;
        for mutations in pushes {
            let result = api::push(&SyncPush {
                client_id: meta.client_id,
                mutations,
            })
            .await?;
            storage::acknowledge(user, &result).await?;
            report.pushed = queued
                .iter()
                .filter(|(id, _)| *id <= result.last_mutation_id)
                .count();
        }
    }
    let mut since = meta.version;
    loop {
        let pulled = api::pull(meta.client_id, since).await?;
        report.pulled += storage::apply_pull(user, &pulled).await?;
        if !pulled.more {
            break;
        }
        since = pulled.version;
    }
    Ok(report)
}
