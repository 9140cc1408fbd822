-- No hash of the password is kept any more. An Argon2id hash in the
-- database let whoever had the file alone, without server.key, check
-- password guesses offline. Opening the password key slot, whose wrapping
-- key takes the password through Argon2id and the server secret, is the
-- only check of a password now, so every account already has what it
-- needs to log in. Dropping the column rewrites the table; secure_delete
-- zeroes the freed space, Open checkpoints the WAL into the file after a
-- migration, and a database that held accounts gets a rebuild (VACUUM)
-- marked, which clears any copy left in a page's unused space.
ALTER TABLE accounts DROP COLUMN password_phc;
INSERT INTO settings (key, value)
    SELECT 'rebuild_pending', CAST(CAST(unixepoch('subsec') * 1e9 AS INTEGER) AS TEXT) WHERE EXISTS (SELECT 1 FROM accounts)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value;
