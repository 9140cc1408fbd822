-- One row per signed-in browser of the dashboard. The session id lives
-- only in the browser's cookie; the row holds a keyed hash of it under the
-- server secret (id_mac), never the id. The session's key slot lives in
-- key_slots as 'session:<hex of id_mac>': the user key wrapped under the
-- cookie's secret and the server secret, so the database and the server
-- secret without a live cookie open nothing. Signing out or expiring
-- deletes the slot and the row. IF NOT EXISTS: tests that turn a database
-- back to an older version run this again.
CREATE TABLE IF NOT EXISTS sessions (
    id_mac     BLOB    PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL  -- the absolute end; the idle end is seen_at plus the idle timeout
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_account ON sessions (account_id);
