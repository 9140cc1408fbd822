-- The change log keeps one row per name, deletions included; with names
-- capped that bounds each row, and this bounds their number: a collection
-- keeps at most so many deletions (storage.Options.MaxTombstones), and
-- forgets its oldest ones past that. forgotten_rev is the newest revision
-- forgotten: a sync token older than it could miss a deletion, so it gets
-- valid-sync-token and the client syncs afresh.
ALTER TABLE collections ADD COLUMN tombstones INTEGER NOT NULL DEFAULT 0;
ALTER TABLE collections ADD COLUMN forgotten_rev INTEGER NOT NULL DEFAULT 0;
UPDATE collections SET tombstones = (SELECT count(*) FROM changes WHERE collection_id = collections.id AND deleted);
CREATE INDEX changes_tombstones ON changes (collection_id, revision) WHERE deleted;
