-- The Space role's tables, as SQLite's migrations 0001 to 0012 left them:
-- collections, objects and their bodies, the change log, and the property
-- rows of collections, objects and an account's scopes. The engine holds
-- them as rows of opaque values: names, bodies, content types, index
-- entries and properties arrive sealed, names and UIDs as MACs, all bytea.
-- A nullable bytea column keeps NULL and empty apart, as SQLite's BLOBs do.
--
-- Times are Unix seconds and counters bigint, as in 0001. Text that is
-- compared (homes, kinds, scopes) is COLLATE "C".
--
-- Every row refers to what it belongs to with ON DELETE CASCADE: deleting
-- an account removes its collections, deleting a collection its objects,
-- change log and property rows, deleting an object its body and property
-- rows. Revisions are drawn from accounts.revision, in the writing
-- transaction, under a lock of the account row.

-- A user's collections. id is never given again, so nothing remembered of
-- a deleted collection can apply to a new one. object_count, object_bytes
-- and props_bytes are kept with every write, so that limits cost nothing
-- to check. props_sealed is a property set sealed whole, as stored before
-- property rows (empty for none). tombstones counts the deletions in the
-- change log; forgotten_rev is the newest revision of one dropped from it.
CREATE TABLE collections (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    revision      bigint NOT NULL,
    created_rev   bigint NOT NULL,
    forgotten_rev bigint NOT NULL DEFAULT 0,
    tombstones    bigint NOT NULL DEFAULT 0,
    object_count  bigint NOT NULL DEFAULT 0,
    object_bytes  bigint NOT NULL DEFAULT 0,
    props_bytes   bigint NOT NULL DEFAULT 0,
    created_at    bigint NOT NULL,
    home          text COLLATE "C" NOT NULL,
    kind          text COLLATE "C" NOT NULL,
    uid           bytea  NOT NULL, -- random; binds sealed records, survives renames
    name_mac      bytea  NOT NULL,
    name_sealed   bytea  NOT NULL,
    props_sealed  bytea  NOT NULL,
    CONSTRAINT collections_name UNIQUE (account_id, name_mac)
);
CREATE INDEX collections_home ON collections (account_id, home, id);

-- A collection's objects, without their bodies, so that a listing reads
-- only small rows. seal_v is how the content was sealed (0 before the
-- content was bound to sealed_rev), meta_bytes what the name and the
-- properties count for. props_sealed is a property set sealed whole, as
-- stored before property rows (NULL for none).
CREATE TABLE objects (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection_id bigint  NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    size          bigint  NOT NULL,
    meta_bytes    bigint  NOT NULL DEFAULT 0,
    modified_at   bigint  NOT NULL,
    revision      bigint  NOT NULL,
    sealed_rev    bigint  NOT NULL DEFAULT 0,
    seal_v        integer NOT NULL DEFAULT 0,
    etag          text    NOT NULL,
    name_mac      bytea   NOT NULL,
    uid_mac       bytea,
    name_sealed   bytea   NOT NULL,
    ctype_sealed  bytea   NOT NULL,
    index_sealed  bytea,
    props_sealed  bytea,
    uid_sealed    bytea,
    CONSTRAINT objects_name UNIQUE (collection_id, name_mac)
);
-- One UID per collection.
CREATE UNIQUE INDEX objects_uid ON objects (collection_id, uid_mac) WHERE uid_mac IS NOT NULL;
-- The rows still to seal anew, by id; empty once they all are.
CREATE INDEX objects_legacy ON objects (collection_id, id) WHERE seal_v = 0;

-- One sealed body per object; it goes with its object.
CREATE TABLE object_bodies (
    object_id   bigint PRIMARY KEY REFERENCES objects (id) ON DELETE CASCADE,
    body_sealed bytea  NOT NULL
);

-- The change log keeps only the latest change of each object name,
-- deletions included, so a token stays answerable at bounded cost.
CREATE TABLE changes (
    collection_id bigint  NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    revision      bigint  NOT NULL,
    deleted       boolean NOT NULL,
    name_mac      bytea   NOT NULL,
    name_sealed   bytea   NOT NULL,
    PRIMARY KEY (collection_id, name_mac)
);
CREATE INDEX changes_revision ON changes (collection_id, revision);
-- The oldest deletions, which a collection past its bound forgets.
CREATE INDEX changes_tombstones ON changes (collection_id, revision) WHERE deleted;

-- One row per property of a collection, an object or a scope, and one
-- digest row per owner, whose name MAC is empty. bytes is what the name
-- and the value count for.
CREATE TABLE collection_props (
    collection_id bigint NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    bytes         bigint NOT NULL,
    revision      bigint NOT NULL,
    name_mac      bytea  NOT NULL,
    value_sealed  bytea  NOT NULL,
    PRIMARY KEY (collection_id, name_mac)
);

CREATE TABLE object_props (
    object_id    bigint NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    bytes        bigint NOT NULL,
    revision     bigint NOT NULL,
    name_mac     bytea  NOT NULL,
    value_sealed bytea  NOT NULL,
    PRIMARY KEY (object_id, name_mac)
);

CREATE TABLE scope_props (
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scope        text COLLATE "C" NOT NULL, -- 'principal', 'calendars', 'addressbooks'
    bytes        bigint NOT NULL,
    revision     bigint NOT NULL,
    name_mac     bytea  NOT NULL,
    value_sealed bytea  NOT NULL,
    PRIMARY KEY (account_id, scope, name_mac)
);

-- The properties of a scope sealed whole, as stored before property rows;
-- a scope's next change moves them to rows.
CREATE TABLE account_props (
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scope        text COLLATE "C" NOT NULL,
    bytes        bigint NOT NULL DEFAULT 0,
    props_sealed bytea  NOT NULL,
    PRIMARY KEY (account_id, scope)
);
