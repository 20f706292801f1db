-- A provider's own retry count for the gateway (NULL: the server's DM_UPSTREAM_RETRIES).
ALTER TABLE providers ADD COLUMN retries INTEGER;
