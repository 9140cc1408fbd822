-- One row per property, so that setting or removing one property writes
-- only that property's row, whatever else the resource holds. Each value
-- is sealed with its name, bound to its resource, its name's MAC and the
-- revision that wrote it. Property sets sealed whole before this (the
-- props_sealed columns, and account_props) stay readable and move to rows
-- when their resource's properties are next changed: the keys that would
-- open them are not at hand here.
CREATE TABLE collection_props (
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    name_mac      BLOB    NOT NULL,
    value_sealed  BLOB    NOT NULL,
    bytes         INTEGER NOT NULL, -- name and value, for the quota
    revision      INTEGER NOT NULL,
    PRIMARY KEY (collection_id, name_mac)
) WITHOUT ROWID;

CREATE TABLE object_props (
    object_id    INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
    name_mac     BLOB    NOT NULL,
    value_sealed BLOB    NOT NULL,
    bytes        INTEGER NOT NULL,
    revision     INTEGER NOT NULL,
    PRIMARY KEY (object_id, name_mac)
) WITHOUT ROWID;

CREATE TABLE scope_props (
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    scope        TEXT    NOT NULL, -- 'principal', 'calendars', 'addressbooks'
    name_mac     BLOB    NOT NULL,
    value_sealed BLOB    NOT NULL,
    bytes        INTEGER NOT NULL,
    revision     INTEGER NOT NULL,
    PRIMARY KEY (account_id, scope, name_mac)
) WITHOUT ROWID;
