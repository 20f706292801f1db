-- The sync protocol (DESIGN §6): a version per user that every change advances, the last
-- mutation id applied for each browser (client), the parts of mutations too large for one
-- push, and draft tombstones.
CREATE TABLE sync_users (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    version INTEGER NOT NULL
);

CREATE TABLE sync_clients (
    client_id        TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    last_mutation_id INTEGER NOT NULL,
    last_seen        INTEGER NOT NULL
);
CREATE INDEX sync_clients_user ON sync_clients(user_id);

CREATE TABLE sync_parts (
    client_id   TEXT NOT NULL REFERENCES sync_clients(client_id) ON DELETE CASCADE,
    mutation_id INTEGER NOT NULL,
    idx         INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (client_id, mutation_id, idx)
);

-- The version at which each record last changed; a deleted draft keeps its row, with an
-- empty body, as a tombstone.
ALTER TABLE domains ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE drafts ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE drafts ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;

-- Records synced by the first version get versions 1..n per user, domains first.
UPDATE domains SET version = (
    SELECT COUNT(*) FROM domains AS d WHERE d.user_id = domains.user_id AND d.id <= domains.id
);
UPDATE drafts SET version = (
    SELECT COUNT(*) FROM domains AS d WHERE d.user_id = drafts.user_id
) + (
    SELECT COUNT(*) FROM drafts AS x WHERE x.user_id = drafts.user_id AND x.id <= drafts.id
);
INSERT INTO sync_users (user_id, version)
SELECT id,
       (SELECT COUNT(*) FROM domains WHERE user_id = users.id)
     + (SELECT COUNT(*) FROM drafts WHERE user_id = users.id)
FROM users;

CREATE INDEX domains_user_version ON domains(user_id, version);
CREATE INDEX drafts_user_version ON drafts(user_id, version);
