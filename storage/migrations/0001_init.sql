-- Accounts hold only what must stay readable to run the service: names,
-- e-mail, dates. Everything a user syncs lives sealed in the tables below.
-- AUTOINCREMENT: an id is never given again, so nothing remembered about a
-- deleted account or collection can ever apply to a new one.
CREATE TABLE accounts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    username     TEXT    NOT NULL UNIQUE,
    email        TEXT    NOT NULL DEFAULT '',
    display_name TEXT    NOT NULL DEFAULT '',
    password_phc TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);

-- One row per credential that can unwrap the user key.
CREATE TABLE key_slots (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL, -- 'password', 'recovery', 'app:<id>'
    kdf        TEXT    NOT NULL,
    wrapped    BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, kind)
) WITHOUT ROWID;

-- A single counter that every change draws from, so revisions rise across
-- the whole database and a collection created later never reuses one.
CREATE TABLE revision_counter (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO revision_counter (id, value) VALUES (1, 0);

CREATE TABLE collections (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    home         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    uid          BLOB    NOT NULL, -- random; binds sealed records, survives renames
    name_mac     BLOB    NOT NULL,
    name_sealed  BLOB    NOT NULL,
    props_sealed BLOB    NOT NULL,
    revision     INTEGER NOT NULL,
    created_rev  INTEGER NOT NULL,
    object_count INTEGER NOT NULL DEFAULT 0, -- kept with every write, so limits cost nothing to check
    object_bytes INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    UNIQUE (account_id, name_mac)
);
CREATE INDEX collections_home ON collections (account_id, home, id);

CREATE TABLE objects (
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    name_mac      BLOB    NOT NULL,
    name_sealed   BLOB    NOT NULL,
    uid_mac       BLOB,
    etag          TEXT    NOT NULL,
    ctype_sealed  BLOB    NOT NULL,
    size          INTEGER NOT NULL,
    body_sealed   BLOB    NOT NULL,
    props_sealed  BLOB,            -- dead properties, when any were set
    index_sealed  BLOB,            -- the query index entry the DAV layer computed
    modified_at   INTEGER NOT NULL,
    revision      INTEGER NOT NULL,
    PRIMARY KEY (collection_id, name_mac)
) WITHOUT ROWID;
CREATE UNIQUE INDEX objects_uid ON objects (collection_id, uid_mac) WHERE uid_mac IS NOT NULL;

-- Properties of the principal and of the two homes (Apple's me-card,
-- default alarms), sealed like collection properties.
CREATE TABLE account_props (
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    scope        TEXT    NOT NULL, -- 'principal', 'calendars', 'addressbooks'
    props_sealed BLOB    NOT NULL,
    PRIMARY KEY (account_id, scope)
) WITHOUT ROWID;

-- The change log keeps only the latest change of each object name,
-- deletions included, so a token stays answerable forever at bounded cost.
CREATE TABLE changes (
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    name_mac      BLOB    NOT NULL,
    name_sealed   BLOB    NOT NULL,
    revision      INTEGER NOT NULL,
    deleted       INTEGER NOT NULL,
    PRIMARY KEY (collection_id, name_mac)
) WITHOUT ROWID;
CREATE INDEX changes_revision ON changes (collection_id, revision);
