-- Names and properties count against the quota and the collection's bytes,
-- as bodies always did. Each row keeps what it counts for, so that a write
-- moves the totals by the difference without opening what it replaces:
-- meta_bytes is an object's name and dead properties, props_bytes a
-- collection's properties, bytes those of the principal or a home.
ALTER TABLE objects ADD COLUMN meta_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE collections ADD COLUMN props_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE account_props ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;

-- Rows written before this migration are sealed, so their plaintext sizes
-- are estimated from the sealed ones less the smallest sealing overhead (a
-- 12-byte nonce and a 16-byte tag); property sets are JSON with base64
-- values, so the estimate is high. The next write of a row sets its exact size.
UPDATE objects SET meta_bytes = max(length(name_sealed) - 28, 0) + coalesce(max(length(props_sealed) - 28, 0), 0);
UPDATE collections SET props_bytes = max(length(props_sealed) - 30, 0); -- an empty set is sealed "{}"
UPDATE account_props SET bytes = max(length(props_sealed) - 28, 0);
UPDATE collections SET object_bytes = coalesce((SELECT sum(size + meta_bytes) FROM objects WHERE collection_id = collections.id), 0);
