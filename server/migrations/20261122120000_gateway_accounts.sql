-- Provider kinds, listable sessions, and API tokens for programs.

-- What API the provider speaks (openai, openrouter, anthropic, compatible). Providers saved
-- before kinds existed were OpenAI-compatible base URLs.
ALTER TABLE providers ADD COLUMN kind TEXT NOT NULL DEFAULT 'compatible';

-- Sessions gain an id (to list and revoke them without handling the token) and the browser's
-- user agent. Existing sessions are kept, with fresh ids.
CREATE TABLE sessions_new (
    id          TEXT PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_agent  TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
INSERT INTO sessions_new (id, token_hash, user_id, user_agent, created_at, expires_at)
    SELECT lower(hex(randomblob(16))), token_hash, user_id, NULL, created_at, expires_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_user ON sessions(user_id);

-- Bearer tokens for API clients. Only the SHA-256 of a token is stored; `prefix` is its first
-- characters, shown so the user can tell tokens apart.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at   INTEGER,
    UNIQUE (user_id, name)
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);
