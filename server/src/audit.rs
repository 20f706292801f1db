//! The audit log's writing side: routes and operations commands record security events
//! through [`Audit`], which the store keeps in `audit_events` (read back by
//! `GET /api/v1/admin/audit`).
//!
//! An *event* ([`Event`]) is a fixed name (`auth.sign_in`, `admin.user_deleted`, ...); the
//! *actor* is who did it (an account's id and name, the username as typed for a failed
//! sign-in or a refused registration, or `operator` for a command run on the server); the
//! *target* is what it was done to (a token, a provider, an account), by id and name. Nothing
//! secret ever goes in: no password, token, invite code, API key or key hint, only ids,
//! names, the client's IP address and small JSON details that the callers build from
//! non-secret fields.
//!
//! Recording is best effort: the action has already happened when it is recorded, so a
//! failure to write the event is logged as an error and does not fail the request.
//! Retention is `DM_AUDIT_DAYS` (365 by default, 0 keeps every event): the server's pruner
//! deletes older events once a minute.

use crate::auth::CurrentUser;
use crate::clock::now_ms;
use crate::store::{NewAuditEvent, Store};
use serde_json::Value;
use std::net::IpAddr;
use uuid::Uuid;

/// The actor name of an operations command (`server rotate-master-key`, `create-user`).
pub const OPERATOR: &str = "operator";
/// The longest username as typed that a failed sign-in records.
const TYPED_NAME_CHARS: usize = 64;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    AccountCreated,
    RegistrationRefused,
    SignIn,
    SignInFailed,
    SignOut,
    PasswordChanged,
    AccountDeleted,
    SessionRevoked,
    TokenCreated,
    TokenRevoked,
    ShareCreated,
    ShareRevoked,
    ProviderCreated,
    ProviderDeleted,
    UserDeactivated,
    UserReactivated,
    UserDeleted,
    InviteCreated,
    InviteRevoked,
    MasterKeyRotated,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::AccountCreated => "account.created",
            Event::RegistrationRefused => "account.registration_refused",
            Event::SignIn => "auth.sign_in",
            Event::SignInFailed => "auth.sign_in_failed",
            Event::SignOut => "auth.sign_out",
            Event::PasswordChanged => "auth.password_changed",
            Event::AccountDeleted => "account.deleted",
            Event::SessionRevoked => "auth.session_revoked",
            Event::TokenCreated => "token.created",
            Event::TokenRevoked => "token.revoked",
            Event::ShareCreated => "share.created",
            Event::ShareRevoked => "share.revoked",
            Event::ProviderCreated => "provider.created",
            Event::ProviderDeleted => "provider.deleted",
            Event::UserDeactivated => "admin.user_deactivated",
            Event::UserReactivated => "admin.user_reactivated",
            Event::UserDeleted => "admin.user_deleted",
            Event::InviteCreated => "admin.invite_created",
            Event::InviteRevoked => "admin.invite_revoked",
            Event::MasterKeyRotated => "vault.master_key_rotated",
        }
    }
}

/// One event being put together; [`Audit::record`] writes it.
#[derive(Clone, Debug)]
pub struct Audit {
    event: Event,
    actor_id: Option<Uuid>,
    actor: String,
    target_id: Option<String>,
    target: Option<String>,
    ip: Option<IpAddr>,
    details: Value,
}

impl Audit {
    /// An event done by the signed-in `user`.
    pub fn by(event: Event, user: &CurrentUser) -> Self {
        Self::new(event, Some(user.id), &user.username)
    }

    /// An event done by `actor` (an account's id and name, or none and a name as typed).
    pub fn new(event: Event, actor_id: Option<Uuid>, actor: &str) -> Self {
        Audit {
            event,
            actor_id,
            actor: typed_name(actor),
            target_id: None,
            target: None,
            ip: None,
            details: Value::Null,
        }
    }

    /// An event done by an operations command on the server.
    pub fn operator(event: Event) -> Self {
        Self::new(event, None, OPERATOR)
    }

    /// What the event was done to.
    pub fn target(mut self, id: impl ToString, name: &str) -> Self {
        self.target_id = Some(id.to_string());
        self.target = Some(typed_name(name));
        self
    }

    /// The client's address; the unspecified address (no peer: an in-process call) is left out.
    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.ip = (!ip.is_unspecified()).then_some(ip);
        self
    }

    /// Non-secret details (a reason code, how the user was authenticated, a provider's kind).
    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// Writes the event; a failure is logged, not returned (see the module doc).
    pub async fn record(self, store: &Store) {
        let details = if self.details.is_null() {
            "{}".to_string()
        } else {
            self.details.to_string()
        };
        let written = store
            .insert_audit(NewAuditEvent {
                at: now_ms(),
                actor_id: self.actor_id.map(|id| id.to_string()),
                actor: &self.actor,
                event: self.event.as_str(),
                target_id: self.target_id,
                target: self.target.as_deref(),
                ip: self.ip.map(|ip| ip.to_string()),
                details,
            })
            .await;
        if let Err(e) = written {
            tracing::error!(error = %e, event = self.event.as_str(), "could not write the audit event");
        }
    }
}

/// A name as typed, made safe to keep and show: control characters dropped, at most
/// [`TYPED_NAME_CHARS`] characters.
fn typed_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_control())
        .take(TYPED_NAME_CHARS)
        .collect()
}

/// Deletes the events older than `days` days at `now` (nothing when `days` is 0).
pub async fn prune(store: &Store, days: u32, now: i64) {
    if days == 0 {
        return;
    }
    let cutoff = now - i64::from(days) * 24 * 3600 * 1000;
    if let Err(e) = store.prune_audit(cutoff).await {
        tracing::warn!(error = %e, "could not prune the audit log");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_names_are_bounded_and_printable() {
        let check = |typed: &str, kept: &str| assert_eq!(typed_name(typed), kept, "{typed:?}");
        check("alice", "alice");
        check("al\nice\u{1b}[31m", "alice[31m");
        check(&"x".repeat(500), &"x".repeat(TYPED_NAME_CHARS));
    }

    #[test]
    fn event_names_are_distinct() {
        let all = [
            Event::AccountCreated,
            Event::RegistrationRefused,
            Event::SignIn,
            Event::SignInFailed,
            Event::SignOut,
            Event::PasswordChanged,
            Event::AccountDeleted,
            Event::SessionRevoked,
            Event::TokenCreated,
            Event::TokenRevoked,
            Event::ProviderCreated,
            Event::ProviderDeleted,
            Event::UserDeactivated,
            Event::UserReactivated,
            Event::UserDeleted,
            Event::InviteCreated,
            Event::InviteRevoked,
            Event::MasterKeyRotated,
        ];
        let names: std::collections::BTreeSet<_> = all.iter().map(|e| e.as_str()).collect();
        assert_eq!(names.len(), all.len());
    }
}
