-- The key vault's check value: a known text sealed with the master key. A server started with
-- another master key finds that it does not open and refuses to start, instead of failing on
-- every provider call. One row (id = 1), written on the first start after this migration and
-- rewritten, in the same transaction as the provider rows, by each master-key rotation.
CREATE TABLE vault_meta (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    check_nonce      BLOB NOT NULL,
    check_ciphertext BLOB NOT NULL,
    updated_at       INTEGER NOT NULL
);
