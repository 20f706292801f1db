//! Wire types: the JSON contracts between the browser, the server and LLM providers.
//!
//! Everything here is plain serde data, shared by the wasm client and the native server so that
//! both sides agree by construction. *Records* ([`DomainRecord`], [`DraftRecord`]) are what the
//! browser keeps in IndexedDB and what sync moves to SQLite; their JSON is a versioned contract
//! pinned by frozen-serialization tests. Times are milliseconds since the Unix epoch (UTC).

use crate::Model;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The body of every error response: `{"error": {"code", "message", "details"}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// A semantic error code (AUTH_*, VAL_*, RES_*, AI_*, RATE_*, DB_*, SYS_*), a message that says
/// what to do, and optional structured details.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
}

/// One wrong field of a request: where it is (`messages[2].role`, empty for the whole body)
/// and what is wrong with it. A `VAL_*` error lists them in `details.fields`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub path: String,
    pub reason: String,
}

/// Register or log in. `invite` is the invite code that registration needs when the server
/// is invite-only (absent otherwise, so older clients send the same JSON). Its `Debug` leaves
/// the password and the invite code out, so that a logged request cannot leak them.
#[derive(Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("invite", &self.invite.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// `POST /auth/password`: the current password, to prove it is the user, and the new one.
#[derive(Clone, Serialize, Deserialize)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChange")
            .field("current_password", &"[redacted]")
            .field("new_password", &"[redacted]")
            .finish()
    }
}

/// The password again, to confirm a destructive action (`DELETE /auth/account`).
#[derive(Clone, Serialize, Deserialize)]
pub struct PasswordConfirmation {
    pub password: String,
}

impl std::fmt::Debug for PasswordConfirmation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordConfirmation")
            .field("password", &"[redacted]")
            .finish()
    }
}

/// An account as the administrator sees it (`GET /admin/users`): never a secret, only how
/// much the account holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUser {
    pub id: Uuid,
    pub username: String,
    pub is_admin: bool,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<i64>,
    /// The last sign-in with the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sign_in_at: Option<i64>,
    pub domains: u64,
    pub drafts: u64,
    pub providers: u64,
    pub tokens: u64,
    pub sessions: u64,
}

/// `POST /admin/invites`: optionally, a lifetime in days.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct InviteInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u32>,
}

/// An invite code as listed (never the code itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteInfo {
    pub id: Uuid,
    /// The username of the administrator who made it.
    pub created_by: String,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_at: Option<i64>,
    /// The username of the account that used it, while that account exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_by: Option<String>,
}

/// A new invite: the code is shown this once and never again.
#[derive(Clone, Serialize, Deserialize)]
pub struct InviteCreated {
    pub code: String,
    pub info: InviteInfo,
}

impl std::fmt::Debug for InviteCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InviteCreated")
            .field("code", &"[redacted]")
            .field("info", &self.info)
            .finish()
    }
}

/// One security event of the audit log (`GET /admin/audit`). `actor` is the account's name as
/// it was (or `operator` for a command run on the server), `target` what the event was done
/// to; `details` never holds a secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: i64,
    pub at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    pub actor: String,
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
}

/// A page of the audit log, newest first; `next_before` fetches the next (older) page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// The signed-in user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: Uuid,
    pub username: String,
    pub is_admin: bool,
}

/// The API a provider speaks. All but Anthropic take OpenAI's chat-completions requests as
/// they are; Anthropic's Messages API is reached through a translation on the server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    #[serde(rename = "openai")]
    OpenAi,
    #[serde(rename = "openrouter")]
    OpenRouter,
    Anthropic,
    /// Any OpenAI-compatible base URL: a local Ollama, vLLM or llama.cpp server, a proxy.
    #[default]
    Compatible,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 4] = [
        ProviderKind::OpenAi,
        ProviderKind::OpenRouter,
        ProviderKind::Anthropic,
        ProviderKind::Compatible,
    ];

    /// The name in JSON, URLs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::OpenRouter => "openrouter",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Compatible => "compatible",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "OpenAI",
            ProviderKind::OpenRouter => "OpenRouter",
            ProviderKind::Anthropic => "Anthropic",
            ProviderKind::Compatible => "OpenAI-compatible",
        }
    }

    /// The base URL used when the user gives none; a compatible server has no default.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            ProviderKind::OpenAi => Some("https://api.openai.com/v1"),
            ProviderKind::OpenRouter => Some("https://openrouter.ai/api/v1"),
            ProviderKind::Anthropic => Some("https://api.anthropic.com/v1"),
            ProviderKind::Compatible => None,
        }
    }
}

/// A provider as the user enters it; the key travels once, over this request, to the vault.
#[derive(Clone, Serialize, Deserialize)]
pub struct ProviderInput {
    pub name: String,
    #[serde(default)]
    pub kind: ProviderKind,
    /// The API's base URL, such as `https://api.openai.com/v1`; empty for the kind's default.
    #[serde(default)]
    pub base_url: String,
    pub model: String,
    pub api_key: String,
    /// How often the gateway retries this provider's failures (429, 5xx, a refused
    /// connection) before answering; `None` for the server's default (`DM_UPSTREAM_RETRIES`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
}

impl std::fmt::Debug for ProviderInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderInput")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &"[redacted]")
            .field("retries", &self.retries)
            .finish()
    }
}

/// A stored provider as the server shows it: the key only masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderInfo {
    pub id: Uuid,
    pub name: String,
    pub kind: ProviderKind,
    pub base_url: String,
    pub model: String,
    /// `••••` followed by the key's last four characters.
    pub key_masked: String,
    pub created_at: i64,
    /// The provider's own retry count; `None` for the server's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
}

/// A model a provider offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub id: String,
    /// A display name, where the provider gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The result of testing a provider's connection: it answered with its model list (or not),
/// how long it took, and whether the configured model is among the models.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderTest {
    pub ok: bool,
    pub latency_ms: u64,
    /// The `AI_*` code when the test failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub message: String,
    pub models: usize,
    /// Whether the provider lists the configured model; `None` when it has no list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_listed: Option<bool>,
}

/// An API token for programs (the OpenAI SDK, scripts): sent as `Authorization: Bearer`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: Uuid,
    pub name: String,
    /// The token's first characters, to recognise it (`dm_abcd…`).
    pub prefix: String,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// A token request: a name, and optionally a lifetime in days.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenInput {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u32>,
}

/// A new token: the secret is shown this once and never again.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenCreated {
    pub token: String,
    pub info: TokenInfo,
}

impl std::fmt::Debug for TokenCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCreated")
            .field("token", &"[redacted]")
            .field("info", &self.info)
            .finish()
    }
}

/// A request for a read-only link to a draft (`POST /api/v1/shares`), or to a pair of drafts
/// of one domain (a review: `old_draft_id` is the older one).
///
/// Without `ciphertext` the server renders the link's page from the synced drafts, which must
/// be the requester's. With it the link is end-to-end encrypted: `ciphertext` is a
/// [`ShareDoc`] sealed in the browser (base64url, no padding, of the 12-byte AES-GCM IV
/// followed by the ciphertext and tag), the key stays in the link's fragment, and the draft ids
/// are kept only to list the link beside its draft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateShare {
    pub draft_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_draft_id: Option<Uuid>,
    /// When the link stops working; `None`: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The owner's name for the link ("for the DBA review").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Whether the page carries an OpenGraph title and description, which chat apps show as
    /// a preview. Encrypted pages never do (the server does not know the draft).
    #[serde(default = "yes")]
    pub preview: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext: Option<String>,
}

fn yes() -> bool {
    true
}

/// How a link's page is made: by the server from the synced draft, or in the reader's
/// browser from ciphertext the server cannot read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareKind {
    Plain,
    Encrypted,
}

/// One of the user's links, as the owner sees it (never its token: only a hash is kept).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareInfo {
    pub id: Uuid,
    pub kind: ShareKind,
    pub draft_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_draft_id: Option<Uuid>,
    /// The domain of the draft (plain links; `None` for encrypted ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub preview: bool,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_opened_at: Option<i64>,
    pub open_count: u64,
}

/// A new link: its path with the token (`/s/<token>` or `/e/<token>`), shown this once.
#[derive(Clone, Serialize, Deserialize)]
pub struct ShareCreated {
    pub share: ShareInfo,
    pub path: String,
}

impl std::fmt::Debug for ShareCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareCreated")
            .field("share", &self.share)
            .field("path", &"[redacted]")
            .finish()
    }
}

/// `GET /api/v1/shares`: the user's links, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareList {
    pub shares: Vec<ShareInfo>,
}

/// What a link shows: one draft, or a pair for a review (`old` is the older draft). The
/// server builds it from the synced drafts for a plain link; for an encrypted link it is the
/// plaintext the browser seals, so its layout is a contract (`version` 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShareDoc {
    pub version: u32,
    /// The domain's name.
    pub domain: String,
    pub draft: SharedDraft,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<SharedDraft>,
    /// The domain's kept diagram positions, so the shared diagram is the owner's picture.
    #[serde(default, skip_serializing_if = "no_positions")]
    pub positions: crate::diagram::Positions,
}

impl ShareDoc {
    /// The layout written by this version.
    pub const VERSION: u32 = 1;

    /// What a link to `draft` (after `old`, for a review) of the domain named `domain` shows,
    /// its diagram drawn with the domain's kept `positions`: the server builds it from the
    /// synced records for a plain link, the browser for the one it seals.
    pub fn of(
        domain: &str,
        positions: &crate::diagram::Positions,
        draft: DraftRecord,
        old: Option<DraftRecord>,
    ) -> ShareDoc {
        ShareDoc {
            version: ShareDoc::VERSION,
            domain: domain.to_string(),
            draft: draft.into(),
            old: old.map(SharedDraft::from),
            positions: positions.clone(),
        }
    }
}

impl From<DraftRecord> for SharedDraft {
    fn from(record: DraftRecord) -> Self {
        SharedDraft {
            number: record.number,
            created_at: record.created_at,
            model: record.model,
        }
    }
}

/// A draft as a link shows it: its number in the domain, when it was made, its model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SharedDraft {
    pub number: u32,
    pub created_at: i64,
    pub model: Model,
}

/// One of the user's signed-in sessions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: Uuid,
    pub created_at: i64,
    pub expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The session of the request that asked.
    pub current: bool,
}

/// A domain: a named area of modelling work. Its name, description and conventions are
/// edited field by field ([`crate::sync::DomainEdit`]); `created_at`, `updated_at` and
/// `deleted_at` are device times, shown but never used to order anything.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DomainRecord {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// The naming and modelling conventions drafts of this domain are validated against.
    #[serde(default)]
    pub conventions: crate::Conventions,
    pub created_at: i64,
    pub updated_at: i64,
    /// Set while the domain is in the trash: hidden with its drafts, restorable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<i64>,
    /// Values that an edit from another device replaced without having seen them, newest
    /// last, so that the user can see and restore them (at most [`crate::sync::OVERWRITTEN_KEPT`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overwritten: Vec<crate::sync::Overwritten>,
    /// Where the boxes of the domain's diagram go, by entity name: dragged by hand, or where a
    /// layout first put them, so that later drafts keep the picture (`sync::Mutation::PlaceEntities`).
    #[serde(default, skip_serializing_if = "no_positions")]
    pub positions: crate::diagram::Positions,
    /// Change notes: what should change in the next draft, written by a person (or kept from
    /// a proposed change that was left out), until a draft answers them
    /// (`sync::Mutation::PutNote`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
    /// The exports made of the domain's drafts, oldest first, at most
    /// [`crate::sync::EXPORTS_KEPT`] (`sync::Mutation::RecordExport`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exports: Vec<ExportRecord>,
}

/// One export made of a draft: what, when, how big, where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportRecord {
    pub draft_id: Uuid,
    /// The format's name as the export panel lists it (`SQL DDL · PostgreSQL`, `SVG diagram`).
    pub format: String,
    /// The file's name.
    pub file: String,
    /// Device time.
    pub at: i64,
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_on: Option<String>,
}

/// A change note of a domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub id: Uuid,
    pub text: String,
    /// The draft it was written about; none for the domain as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_id: Option<Uuid>,
    /// Device time, for display.
    pub created_at: i64,
    /// Set once the note is answered (by a draft) or closed by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<i64>,
    /// The draft that answered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<Uuid>,
    /// `rejected` for a note kept from a proposed change the user left out; empty otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
}

impl Note {
    /// The short id the prompt gives the note and the LLM cites (`n` and the first eight hex
    /// digits of its id): the same in every prompt, so a citation can be traced back.
    pub fn cite_id(&self) -> String {
        format!("n{}", &self.id.simple().to_string()[..8])
    }

    pub fn is_open(&self) -> bool {
        self.resolved_at.is_none()
    }
}

fn no_positions(positions: &crate::diagram::Positions) -> bool {
    positions.0.is_empty()
}

/// Where a draft came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// `llm` for a draft from the LLM (whole, or accepted from a change set); `import` later.
    pub source: String,
    pub provider: String,
    pub model: String,
    pub instruction: String,
    pub prompt_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// For a draft made from a proposed change set: the accepted changes, each as
    /// "what it does — why", in the order they were applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted: Vec<String>,
    /// How many changes the proposal had (accepted or not); 0 when not from a change set.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub proposed: usize,
    /// The change notes the prompt carried, as sent (short id and text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<crate::prompt::ChangeNote>,
    /// The call's parameters besides the prompt (`temperature`, `response_format`), as sent.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub parameters: std::collections::BTreeMap<String, String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One immutable draft of a domain's model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DraftRecord {
    pub id: Uuid,
    pub domain_id: Uuid,
    /// 1 for the first draft of the domain, then counting up.
    pub number: u32,
    pub parent_id: Option<Uuid>,
    pub created_at: i64,
    pub provenance: Provenance,
    pub model: Model,
    /// The device the draft was made on ("Chrome on Linux"), to tell forks apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_on: Option<String>,
}

/// An OpenAI-style chat message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "system".into(),
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "user".into(),
            content: content.into(),
        }
    }
}

/// The subset of an OpenAI chat-completions request that the app sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// Left out to use the provider's configured model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub messages: Vec<ChatMessage>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<serde_json::Value>,
    /// `{"include_usage": true}` asks for a last chunk with the token usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<serde_json::Value>,
}

/// Token usage as providers report it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
}

/// One server-sent event of a streamed chat completion, as the client needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamEvent {
    /// Text to append (possibly empty), and usage if this chunk carries it.
    Delta {
        content: String,
        usage: Option<Usage>,
    },
    /// The `[DONE]` sentinel: the stream ended normally.
    Done,
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Option<ChunkDelta>,
    #[serde(default)]
    message: Option<ChunkDelta>,
}

#[derive(Deserialize)]
struct ChunkDelta {
    #[serde(default)]
    content: Option<String>,
}

/// Reads the `data:` payload of one SSE event of a chat-completions stream.
pub fn parse_stream_event(data: &str) -> Result<StreamEvent, String> {
    let data = data.trim();
    if data == "[DONE]" {
        return Ok(StreamEvent::Done);
    }
    let chunk: Chunk = serde_json::from_str(data)
        .map_err(|e| format!("the provider sent an unreadable stream event: {e}"))?;
    if let Some(error) = chunk.error {
        let message = error
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or("unknown error");
        return Err(format!(
            "the provider reported an error mid-stream: {message}"
        ));
    }
    let content = chunk
        .choices
        .into_iter()
        .filter_map(|c| c.delta.or(c.message).and_then(|d| d.content))
        .collect::<String>();
    Ok(StreamEvent::Delta {
        content,
        usage: chunk.usage,
    })
}

/// Reads the text of a non-streamed chat completion.
pub fn completion_text(body: &str) -> Result<(String, Option<Usage>), String> {
    match parse_stream_event(body)? {
        StreamEvent::Delta { content, usage } => Ok((content, usage)),
        StreamEvent::Done => Err("the provider sent no completion".into()),
    }
}

/// Masks a secret for display: `••••` and its last four characters.
pub fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("••••{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::sample;

    #[test]
    fn stream_events() {
        assert_eq!(parse_stream_event("[DONE]"), Ok(StreamEvent::Done));
        assert_eq!(
            parse_stream_event(r#"{"choices":[{"index":0,"delta":{"content":"{\"ent"}}]}"#),
            Ok(StreamEvent::Delta {
                content: "{\"ent".into(),
                usage: None
            })
        );
        assert_eq!(
            parse_stream_event(
                r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}"#
            ),
            Ok(StreamEvent::Delta {
                content: String::new(),
                usage: Some(Usage {
                    prompt_tokens: 3,
                    completion_tokens: 4,
                    total_tokens: 7
                })
            })
        );
        assert!(parse_stream_event("{oops").is_err());
        let err = parse_stream_event(r#"{"error":{"message":"overloaded"}}"#)
            .expect_err("an error event");
        assert!(err.contains("overloaded"));
    }

    #[test]
    fn non_streamed_completion() {
        let body = r#"{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}],"usage":{"total_tokens":2}}"#;
        let (text, usage) = completion_text(body).expect("reads");
        assert_eq!(text, "hi");
        assert_eq!(usage.map(|u| u.total_tokens), Some(2));
    }

    #[test]
    fn masks_keep_only_the_last_four() {
        assert_eq!(mask_key("sk-abcdefgh1234"), "••••1234");
        assert_eq!(mask_key("ab"), "••••ab");
    }

    #[test]
    fn provider_kinds_round_trip_by_name() {
        for kind in ProviderKind::ALL {
            assert_eq!(ProviderKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_string(&kind).expect("serializes"),
                format!("\"{}\"", kind.as_str())
            );
        }
        // A provider saved before kinds existed reads as OpenAI-compatible.
        let old: ProviderInput =
            serde_json::from_str(r#"{"name":"n","base_url":"u","model":"m","api_key":""}"#)
                .expect("reads");
        assert_eq!(old.kind, ProviderKind::Compatible);
    }

    #[test]
    fn provider_input_debug_hides_the_key() {
        let input = ProviderInput {
            name: "n".into(),
            kind: ProviderKind::OpenAi,
            base_url: "u".into(),
            model: "m".into(),
            api_key: "sk-secret-value".into(),
            retries: None,
        };
        assert!(!format!("{input:?}").contains("secret"));
    }

    /// `check(debug, secret)`: the `Debug` text (plain and pretty) says `[redacted]` and never
    /// holds the secret.
    fn check_redacted(debug: [String; 2], secret: &str) {
        for text in debug {
            assert!(!text.contains(secret), "{text}");
            assert!(text.contains("[redacted]"), "{text}");
        }
    }

    /// Every wire type that carries a secret (a password, an API key, a new API token) has a
    /// `Debug` without it, so that logging a request or a response cannot leak it.
    #[test]
    fn secrets_never_appear_in_debug() {
        let credentials = Credentials {
            username: "ada".into(),
            password: "correct horse battery staple".into(),
            invite: Some("inv_secret-code".into()),
        };
        check_redacted(
            [format!("{credentials:?}"), format!("{credentials:#?}")],
            "correct horse",
        );
        check_redacted(
            [format!("{credentials:?}"), format!("{credentials:#?}")],
            "secret-code",
        );
        assert!(format!("{credentials:?}").contains("ada"));
        let change = PasswordChange {
            current_password: "old horse battery".into(),
            new_password: "new horse battery".into(),
        };
        check_redacted([format!("{change:?}"), format!("{change:#?}")], "old horse");
        check_redacted([format!("{change:?}"), format!("{change:#?}")], "new horse");
        let confirm = PasswordConfirmation {
            password: "correct horse battery".into(),
        };
        check_redacted(
            [format!("{confirm:?}"), format!("{confirm:#?}")],
            "correct horse",
        );
        let invite = InviteCreated {
            code: "inv_0123456789abcdef".into(),
            info: InviteInfo {
                id: Uuid::from_u128(1),
                created_by: "root".into(),
                created_at: 1,
                expires_at: None,
                used_at: None,
                used_by: None,
            },
        };
        check_redacted(
            [format!("{invite:?}"), format!("{invite:#?}")],
            "0123456789",
        );
        let input = ProviderInput {
            name: "n".into(),
            kind: ProviderKind::OpenAi,
            base_url: "u".into(),
            model: "m".into(),
            api_key: "sk-live-0123456789".into(),
            retries: Some(1),
        };
        check_redacted([format!("{input:?}"), format!("{input:#?}")], "0123456789");
        let created = TokenCreated {
            token: "dm_0123456789abcdef".into(),
            info: TokenInfo {
                id: Uuid::from_u128(1),
                name: "ci".into(),
                prefix: "dm_0123".into(),
                created_at: 1,
                last_used_at: None,
                expires_at: None,
            },
        };
        check_redacted(
            [format!("{created:?}"), format!("{created:#?}")],
            "dm_0123456789abcdef",
        );
    }

    /// Records are stored in IndexedDB and SQLite and sent by sync: this pins their layout.
    #[test]
    fn frozen_record_serialization() {
        let id = Uuid::from_u128(1);
        let domain = DomainRecord {
            id,
            name: "billing".into(),
            description: "invoices".into(),
            conventions: crate::Conventions::default(),
            created_at: 1,
            updated_at: 2,
            deleted_at: None,
            overwritten: vec![],
            positions: Default::default(),
            notes: vec![],
            exports: vec![],
        };
        assert_eq!(
            serde_json::to_string(&domain).expect("serializes"),
            r#"{"id":"00000000-0000-0000-0000-000000000001","name":"billing","description":"invoices","conventions":{"naming":"any"},"created_at":1,"updated_at":2}"#
        );
        // A domain stored by the first sync version (no conventions) still reads.
        let old: DomainRecord = serde_json::from_str(
            r#"{"id":"00000000-0000-0000-0000-000000000001","name":"billing","description":"invoices","created_at":1,"updated_at":2}"#,
        )
        .expect("reads");
        assert_eq!(old, domain);
        let mut model = sample();
        model.entities.truncate(0);
        model.relationships.clear();
        model.summary = "s".into();
        model.narrative = "n".into();
        let draft = DraftRecord {
            id: Uuid::from_u128(2),
            domain_id: id,
            number: 1,
            parent_id: None,
            created_at: 3,
            provenance: Provenance {
                source: "llm".into(),
                provider: "fake".into(),
                model: "m".into(),
                instruction: "".into(),
                prompt_hash: "h".into(),
                usage: None,
                accepted: vec![],
                proposed: 0,
                notes: vec![],
                parameters: Default::default(),
            },
            model,
            made_on: None,
        };
        assert_eq!(
            serde_json::to_string(&draft).expect("serializes"),
            r#"{"id":"00000000-0000-0000-0000-000000000002","domain_id":"00000000-0000-0000-0000-000000000001","number":1,"parent_id":null,"created_at":3,"provenance":{"source":"llm","provider":"fake","model":"m","instruction":"","prompt_hash":"h"},"model":{"format_version":1,"summary":"s","narrative":"n","entities":[],"relationships":[]}}"#
        );
    }
    /// Share requests, link records and the encrypted links' plaintext are contracts: this
    /// pins their layout, and that a request without `preview` asks for one.
    #[test]
    fn frozen_share_serialization() {
        let request: CreateShare =
            serde_json::from_str(r#"{"draft_id":"00000000-0000-0000-0000-000000000002"}"#)
                .expect("reads");
        assert!(request.preview);
        assert_eq!(
            serde_json::to_string(&request).expect("serializes"),
            r#"{"draft_id":"00000000-0000-0000-0000-000000000002","preview":true}"#
        );
        let info = ShareInfo {
            id: Uuid::from_u128(1),
            kind: ShareKind::Encrypted,
            draft_id: Uuid::from_u128(2),
            old_draft_id: None,
            domain_id: None,
            label: Some("dba".into()),
            preview: false,
            created_at: 5,
            expires_at: Some(6),
            revoked_at: None,
            last_opened_at: None,
            open_count: 0,
        };
        assert_eq!(
            serde_json::to_string(&info).expect("serializes"),
            r#"{"id":"00000000-0000-0000-0000-000000000001","kind":"encrypted","draft_id":"00000000-0000-0000-0000-000000000002","label":"dba","preview":false,"created_at":5,"expires_at":6,"open_count":0}"#
        );
        let created = ShareCreated {
            share: info,
            path: "/e/secret-token".into(),
        };
        assert!(!format!("{created:?}").contains("secret-token"));
        let mut model = sample();
        model.entities.truncate(0);
        model.relationships.clear();
        model.summary.clear();
        model.narrative.clear();
        let doc = ShareDoc {
            version: ShareDoc::VERSION,
            domain: "billing".into(),
            draft: SharedDraft {
                number: 2,
                created_at: 7,
                model,
            },
            old: None,
            positions: Default::default(),
        };
        assert_eq!(
            serde_json::to_string(&doc).expect("serializes"),
            r#"{"version":1,"domain":"billing","draft":{"number":2,"created_at":7,"model":{"format_version":1,"summary":"","narrative":"","entities":[],"relationships":[]}}}"#
        );
    }

    /// The account and administration bodies are an API contract: this pins their layout, and
    /// that an older client's credentials (no invite) still read.
    #[test]
    fn frozen_account_serialization() {
        let check = |value: serde_json::Result<String>, expected: &str| {
            assert_eq!(value.expect("serializes"), expected);
        };
        let old: Credentials =
            serde_json::from_str(r#"{"username":"ada","password":"p"}"#).expect("reads");
        assert_eq!(old.invite, None);
        check(
            serde_json::to_string(&old),
            r#"{"username":"ada","password":"p"}"#,
        );
        check(
            serde_json::to_string(&Credentials {
                invite: Some("inv_x".into()),
                ..old
            }),
            r#"{"username":"ada","password":"p","invite":"inv_x"}"#,
        );
        check(
            serde_json::to_string(&PasswordChange {
                current_password: "a".into(),
                new_password: "b".into(),
            }),
            r#"{"current_password":"a","new_password":"b"}"#,
        );
        check(
            serde_json::to_string(&PasswordConfirmation {
                password: "a".into(),
            }),
            r#"{"password":"a"}"#,
        );
        let mut user = AdminUser {
            id: Uuid::from_u128(1),
            username: "ada".into(),
            is_admin: true,
            created_at: 1,
            deactivated_at: None,
            last_sign_in_at: None,
            domains: 2,
            drafts: 3,
            providers: 4,
            tokens: 5,
            sessions: 6,
        };
        check(
            serde_json::to_string(&user),
            r#"{"id":"00000000-0000-0000-0000-000000000001","username":"ada","is_admin":true,"created_at":1,"domains":2,"drafts":3,"providers":4,"tokens":5,"sessions":6}"#,
        );
        user.deactivated_at = Some(7);
        user.last_sign_in_at = Some(8);
        check(
            serde_json::to_string(&user),
            r#"{"id":"00000000-0000-0000-0000-000000000001","username":"ada","is_admin":true,"created_at":1,"deactivated_at":7,"last_sign_in_at":8,"domains":2,"drafts":3,"providers":4,"tokens":5,"sessions":6}"#,
        );
        check(
            serde_json::to_string(&InviteInput {
                expires_in_days: Some(7),
            }),
            r#"{"expires_in_days":7}"#,
        );
        let info = InviteInfo {
            id: Uuid::from_u128(2),
            created_by: "ada".into(),
            created_at: 1,
            expires_at: Some(2),
            used_at: Some(3),
            used_by: Some("bob".into()),
        };
        check(
            serde_json::to_string(&InviteCreated {
                code: "inv_x".into(),
                info,
            }),
            r#"{"code":"inv_x","info":{"id":"00000000-0000-0000-0000-000000000002","created_by":"ada","created_at":1,"expires_at":2,"used_at":3,"used_by":"bob"}}"#,
        );
        let page = AuditPage {
            events: vec![AuditEvent {
                id: 9,
                at: 1,
                actor_id: Some("u1".into()),
                actor: "ada".into(),
                event: "auth.sign_in".into(),
                target_id: None,
                target: None,
                ip: Some("127.0.0.1".into()),
                details: serde_json::json!({ "via": "password" }),
            }],
            next_before: Some(9),
        };
        check(
            serde_json::to_string(&page),
            r#"{"events":[{"id":9,"at":1,"actor_id":"u1","actor":"ada","event":"auth.sign_in","ip":"127.0.0.1","details":{"via":"password"}}],"next_before":9}"#,
        );
    }
}
