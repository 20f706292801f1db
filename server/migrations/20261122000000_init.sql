-- Accounts, sessions, the key vault's providers, and the sync store (domains and drafts).
-- Times are milliseconds since the Unix epoch; ids are UUIDs as text.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- Only the SHA-256 of a session token is stored: a leaked database does not leak sessions.
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- The API key is sealed with the master key (XChaCha20-Poly1305, user and provider bound in as
-- associated data); key_hint holds its last four characters for the masked display.
CREATE TABLE providers (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    base_url       TEXT NOT NULL,
    model          TEXT NOT NULL,
    key_nonce      BLOB NOT NULL,
    key_ciphertext BLOB NOT NULL,
    key_hint       TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    UNIQUE (user_id, name)
);

-- A domain's latest version (last writer wins by updated_at); older versions go to
-- domain_versions so that nothing acknowledged is ever lost.
CREATE TABLE domains (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX domains_user ON domains(user_id);

CREATE TABLE domain_versions (
    domain_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    body        TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    replaced_at INTEGER NOT NULL
);

-- Drafts are immutable: the body of an id never changes.
CREATE TABLE drafts (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    domain_id  TEXT NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX drafts_user_domain ON drafts(user_id, domain_id);
