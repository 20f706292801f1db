-- Share links (issue 16): a read-only link to one immutable draft, or to a pair of drafts of
-- one domain (a review). Only the SHA-256 of the link's token is stored: a leaked database
-- does not open a link. A plain link is rendered from the synced drafts it names (and
-- records their domain); an encrypted link holds the sealed draft the browser uploaded
-- (IV, ciphertext and tag) and keeps its draft ids only to list it beside its draft, so
-- they reference nothing. Revoking a link keeps its row for the owner's list and empties
-- its ciphertext. Times are milliseconds since the Unix epoch.
CREATE TABLE shares (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash     BLOB NOT NULL UNIQUE,
    kind           TEXT NOT NULL CHECK (kind IN ('plain', 'encrypted')),
    draft_id       TEXT NOT NULL,
    old_draft_id   TEXT,
    domain_id      TEXT,
    label          TEXT,
    preview        INTEGER NOT NULL,
    ciphertext     BLOB,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER,
    revoked_at     INTEGER,
    last_opened_at INTEGER,
    open_count     INTEGER NOT NULL DEFAULT 0,
    CHECK ((kind = 'encrypted') = (ciphertext IS NOT NULL))
);
CREATE INDEX shares_user ON shares(user_id, created_at);
