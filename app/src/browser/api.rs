//! The server's JSON API, called with gloo-net from the browser.
//!
//! Every call is same-origin, so the session cookie goes along. Mutations send the
//! `x-dm-csrf` header, which a cross-site form or image cannot set; the server refuses
//! cookie-authenticated mutations without it. Errors come back as [`UiError`] with the
//! server's code, or `CLIENT_NETWORK` when the server could not be reached.

use super::UiError;
use gloo_net::http::{Request, RequestBuilder, Response};
use model::sync::{SyncPull, SyncPush, SyncPushResult};
use model::wire::{
    AdminUser, AuditPage, CreateShare, Credentials, ErrorEnvelope, InviteCreated, InviteInfo,
    InviteInput, PasswordChange, PasswordConfirmation, ProviderInfo, ProviderInput, ProviderTest,
    SessionInfo, ShareCreated, ShareList, TokenCreated, TokenInfo, TokenInput, UserInfo,
};
use serde::{de::DeserializeOwned, Serialize};
use uuid::Uuid;

/// Name and value of the header that marks a request as coming from the app itself.
pub const CSRF_HEADER: (&str, &str) = ("x-dm-csrf", "1");

fn network(e: gloo_net::Error) -> UiError {
    // The browser's own words ("TypeError: Failed to fetch") help a developer, not the user.
    log::warn!("request failed: {e}");
    UiError::new(
        "CLIENT_NETWORK",
        "the server could not be reached: your work is kept in this browser, try again when online",
    )
}

/// Turns a non-2xx response into the server's error, or, if the body is not an error
/// envelope, into [`foreign_error`].
pub async fn error_from(response: Response) -> UiError {
    let status = response.status();
    match response.json::<ErrorEnvelope>().await {
        Ok(envelope) => UiError::new(envelope.error.code, envelope.error.message),
        Err(_) => foreign_error(status),
    }
}

/// The error of an answer that is not the server's own (no error envelope): a proxy or load
/// balancer in front of it answered. Its 502, 503 and 504 say that the server behind it
/// cannot be reached, which the app takes as being offline (`CLIENT_NETWORK`): changes wait
/// for the next sync round, and an LLM request is queued.
pub fn foreign_error(status: u16) -> UiError {
    match status {
        502..=504 => UiError::new(
            "CLIENT_NETWORK",
            format!("the server could not be reached (its gateway answered {status}): your work is kept in this browser, try again later"),
        ),
        _ => UiError::new(
            "CLIENT_HTTP",
            format!("the server answered with status {status}"),
        ),
    }
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, UiError> {
    if !response.ok() {
        return Err(error_from(response).await);
    }
    response.json::<T>().await.map_err(|e| {
        UiError::new(
            "CLIENT_DECODE",
            format!("the server's answer was unreadable: {e}"),
        )
    })
}

fn mutation(builder: RequestBuilder) -> RequestBuilder {
    builder.header(CSRF_HEADER.0, CSRF_HEADER.1)
}

async fn send_json<B: Serialize, T: DeserializeOwned>(
    builder: RequestBuilder,
    body: &B,
) -> Result<T, UiError> {
    let request = mutation(builder).json(body).map_err(|e| {
        UiError::new(
            "CLIENT_ENCODE",
            format!("could not encode the request: {e}"),
        )
    })?;
    read(request.send().await.map_err(network)?).await
}

/// The signed-in user, or `None` when there is no valid session.
pub async fn me() -> Result<Option<UserInfo>, UiError> {
    let response = Request::get("/api/v1/auth/me")
        .send()
        .await
        .map_err(network)?;
    if response.status() == 401 {
        return Ok(None);
    }
    read(response).await.map(Some)
}

pub async fn register(credentials: &Credentials) -> Result<UserInfo, UiError> {
    send_json(Request::post("/api/v1/auth/register"), credentials).await
}

pub async fn login(credentials: &Credentials) -> Result<UserInfo, UiError> {
    send_json(Request::post("/api/v1/auth/login"), credentials).await
}

/// Sends a bodiless mutation whose success has no body either.
async fn send_empty(builder: RequestBuilder) -> Result<(), UiError> {
    let response = mutation(builder).send().await.map_err(network)?;
    if response.ok() {
        Ok(())
    } else {
        Err(error_from(response).await)
    }
}

/// Sends a JSON body with a mutation whose success has no body.
async fn send_json_empty<B: Serialize>(builder: RequestBuilder, body: &B) -> Result<(), UiError> {
    let request = mutation(builder).json(body).map_err(|e| {
        UiError::new(
            "CLIENT_ENCODE",
            format!("could not encode the request: {e}"),
        )
    })?;
    let response = request.send().await.map_err(network)?;
    if response.ok() {
        Ok(())
    } else {
        Err(error_from(response).await)
    }
}

/// Changes the password; the server ends every other session.
pub async fn change_password(change: &PasswordChange) -> Result<(), UiError> {
    send_json_empty(Request::post("/api/v1/auth/password"), change).await
}

/// Deletes the account and everything of it on the server.
pub async fn delete_account(confirmation: &PasswordConfirmation) -> Result<(), UiError> {
    send_json_empty(Request::delete("/api/v1/auth/account"), confirmation).await
}

pub async fn admin_users() -> Result<Vec<AdminUser>, UiError> {
    get("/api/v1/admin/users").await
}

/// `action` is `deactivate` or `reactivate`.
pub async fn admin_set_active(id: Uuid, action: &str) -> Result<(), UiError> {
    send_empty(Request::post(&format!("/api/v1/admin/users/{id}/{action}"))).await
}

pub async fn admin_delete_user(id: Uuid) -> Result<(), UiError> {
    send_empty(Request::delete(&format!("/api/v1/admin/users/{id}"))).await
}

pub async fn admin_invites() -> Result<Vec<InviteInfo>, UiError> {
    get("/api/v1/admin/invites").await
}

pub async fn admin_create_invite(input: &InviteInput) -> Result<InviteCreated, UiError> {
    send_json(Request::post("/api/v1/admin/invites"), input).await
}

pub async fn admin_revoke_invite(id: Uuid) -> Result<(), UiError> {
    send_empty(Request::delete(&format!("/api/v1/admin/invites/{id}"))).await
}

/// The newest `limit` events of the audit log.
pub async fn admin_audit(limit: u32) -> Result<AuditPage, UiError> {
    get(&format!("/api/v1/admin/audit?limit={limit}")).await
}

pub async fn logout() -> Result<(), UiError> {
    send_empty(Request::post("/api/v1/auth/logout")).await
}

pub async fn providers() -> Result<Vec<ProviderInfo>, UiError> {
    read(
        Request::get("/api/v1/providers")
            .send()
            .await
            .map_err(network)?,
    )
    .await
}

pub async fn add_provider(input: &ProviderInput) -> Result<ProviderInfo, UiError> {
    send_json(Request::post("/api/v1/providers"), input).await
}

pub async fn delete_provider(id: Uuid) -> Result<(), UiError> {
    send_empty(Request::delete(&format!("/api/v1/providers/{id}"))).await
}

/// Asks the server to test the provider's connection with its stored key.
pub async fn test_provider(id: Uuid) -> Result<ProviderTest, UiError> {
    let response = mutation(Request::post(&format!("/api/v1/providers/{id}/test")))
        .send()
        .await
        .map_err(network)?;
    read(response).await
}

async fn get<T: DeserializeOwned>(url: &str) -> Result<T, UiError> {
    read(Request::get(url).send().await.map_err(network)?).await
}

pub async fn tokens() -> Result<Vec<TokenInfo>, UiError> {
    get("/api/v1/tokens").await
}

pub async fn create_token(input: &TokenInput) -> Result<TokenCreated, UiError> {
    send_json(Request::post("/api/v1/tokens"), input).await
}

pub async fn revoke_token(id: Uuid) -> Result<(), UiError> {
    send_empty(Request::delete(&format!("/api/v1/tokens/{id}"))).await
}

pub async fn sessions() -> Result<Vec<SessionInfo>, UiError> {
    get("/api/v1/auth/sessions").await
}

pub async fn revoke_session(id: Uuid) -> Result<(), UiError> {
    send_empty(Request::delete(&format!("/api/v1/auth/sessions/{id}"))).await
}

/// A read-only link to a synced draft or pair, or an encrypted one (`ciphertext` set).
pub async fn create_share(request: &CreateShare) -> Result<ShareCreated, UiError> {
    send_json(Request::post("/api/v1/shares"), request).await
}

/// The user's links, newest first, revoked and expired ones included.
pub async fn shares() -> Result<ShareList, UiError> {
    get("/api/v1/shares").await
}

pub async fn revoke_share(id: Uuid) -> Result<(), UiError> {
    send_empty(Request::delete(&format!("/api/v1/shares/{id}"))).await
}

/// How long a sync request may take before it is given up (and retried by a later round):
/// without a limit, a connection that hangs would keep the sync badge at "syncing…" and stop
/// every later round.
const SYNC_TIMEOUT_MS: u32 = 60_000;

/// A signal that aborts a request after [`SYNC_TIMEOUT_MS`].
fn sync_deadline() -> web_sys::AbortSignal {
    web_sys::AbortSignal::timeout_with_u32(SYNC_TIMEOUT_MS)
}

pub async fn push(batch: &SyncPush) -> Result<SyncPushResult, UiError> {
    let deadline = sync_deadline();
    send_json(
        Request::post("/api/v1/sync/push").abort_signal(Some(&deadline)),
        batch,
    )
    .await
}

pub async fn pull(client_id: Uuid, since: u64) -> Result<SyncPull, UiError> {
    let deadline = sync_deadline();
    read(
        Request::get(&format!(
            "/api/v1/sync/pull?client_id={client_id}&since={since}"
        ))
        .abort_signal(Some(&deadline))
        .send()
        .await
        .map_err(network)?,
    )
    .await
}

#[cfg(test)]
mod tests {
    /// A gateway's "the server is down" counts as offline; any other answer that is not the
    /// server's own stays an HTTP error.
    #[test]
    fn a_gateway_that_cannot_reach_the_server_means_offline() {
        for (status, code) in [
            (502, "CLIENT_NETWORK"),
            (503, "CLIENT_NETWORK"),
            (504, "CLIENT_NETWORK"),
            (500, "CLIENT_HTTP"),
            (404, "CLIENT_HTTP"),
            (413, "CLIENT_HTTP"),
        ] {
            let error = super::foreign_error(status);
            assert_eq!(error.code, code, "{status}");
            assert!(error.message.contains(&status.to_string()), "{status}");
        }
    }
}
