-- One row per app password: a device's own credential. Its key slot lives in
-- key_slots as 'app:<id>'. The secret itself is never stored, only a keyed
-- verifier; the label is sealed under the user key.
CREATE TABLE app_passwords (
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    id           TEXT    NOT NULL,
    label_sealed BLOB    NOT NULL,
    verifier     BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0, -- 0: never used
    PRIMARY KEY (account_id, id)
); -- with a rowid, which orders the list as the passwords were created
