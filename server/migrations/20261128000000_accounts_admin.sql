-- Accounts an administrator can run: deactivation, the last sign-in, invite codes and the
-- audit log of security events.

-- A deactivated account keeps its data but cannot sign in, and its sessions and API tokens
-- are refused while deactivated_at is set (ms). last_sign_in_at is the last password sign-in.
ALTER TABLE users ADD COLUMN deactivated_at INTEGER;
ALTER TABLE users ADD COLUMN last_sign_in_at INTEGER;

-- Invite codes for DM_REGISTRATION=invite. Only the SHA-256 of a code is stored; a code is
-- used once (used_at, used_by) and may expire. Deleting the admin who made it deletes it;
-- deleting the account that used it keeps the row with used_by cleared.
CREATE TABLE invites (
    id         TEXT PRIMARY KEY,
    code_hash  BLOB NOT NULL UNIQUE,
    created_by TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    used_at    INTEGER,
    used_by    TEXT REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX invites_created_by ON invites(created_by);
CREATE INDEX invites_used_by ON invites(used_by);

-- Security events, newest last. No foreign keys on purpose: the log outlives the accounts it
-- names (an account's deletion is itself an event). details is JSON without any secret.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor_id    TEXT,
    actor       TEXT NOT NULL,
    event       TEXT NOT NULL,
    target_id   TEXT,
    target      TEXT,
    ip          TEXT,
    details     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_at ON audit_events(at);
