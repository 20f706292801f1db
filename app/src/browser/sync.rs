//! Sync, first version: push the outbox, then pull everything and merge it.
//!
//! Push sends the records that the outbox names, in outbox order, and clears those entries only
//! once the server has acknowledged them, so a failed call loses nothing and a retry is
//! harmless (the server treats an identical draft as already there). The full protocol with
//! per-client sequence numbers and cursors comes later (DESIGN §6).

use super::{api, storage, UiError};
use model::wire::SyncPush;
use uuid::Uuid;

/// What a sync round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub pushed: usize,
    pub pulled: usize,
}

/// Number of changes not yet acknowledged by the server.
pub async fn pending(user: Uuid) -> Result<usize, UiError> {
    Ok(storage::outbox(user).await?.len())
}

/// Pushes the outbox, then pulls and merges the server's copy.
pub async fn sync_now(user: Uuid) -> Result<SyncReport, UiError> {
    let queued = storage::outbox(user).await?;
    let mut report = SyncReport::default();
    if !queued.is_empty() {
        let entries: Vec<_> = queued.iter().map(|(_, e)| e.clone()).collect();
        let (domains, drafts) = storage::records_for(user, &entries).await?;
        report.pushed = domains.len() + drafts.len();
        api::push(&SyncPush { domains, drafts }).await?;
        storage::remove_outbox(user, queued.into_iter().map(|(k, _)| k).collect()).await?;
    }
    let pulled = api::pull().await?;
    report.pulled = storage::merge_pulled(user, &pulled).await?;
    Ok(report)
}
