-- Bodies move out of the object rows. In the WITHOUT ROWID table of 0001 a
-- row lived in an index b-tree, where SQLite keeps only about a kilobyte of
-- it on the page and chains the rest through overflow pages: reading any
-- column declared after the body (props, index, modified_at, revision), and
-- so every listing, walked the whole body. Now the row holds only what a
-- listing needs, small columns first, and the body sits in a table of its
-- own that only reads of the content touch.
ALTER TABLE objects RENAME TO objects_0001;
DROP INDEX objects_uid;

CREATE TABLE objects (
    id            INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    name_mac      BLOB    NOT NULL,
    etag          TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    modified_at   INTEGER NOT NULL,
    revision      INTEGER NOT NULL,
    uid_mac       BLOB,
    name_sealed   BLOB    NOT NULL,
    ctype_sealed  BLOB    NOT NULL,
    index_sealed  BLOB,            -- the query index entry the DAV layer computed
    props_sealed  BLOB,            -- dead properties, when any were set
    UNIQUE (collection_id, name_mac)
);
CREATE UNIQUE INDEX objects_uid ON objects (collection_id, uid_mac) WHERE uid_mac IS NOT NULL;

-- One sealed body per object; it goes with its object.
CREATE TABLE object_bodies (
    object_id   INTEGER PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    body_sealed BLOB    NOT NULL
);

INSERT INTO objects (collection_id, name_mac, etag, size, modified_at, revision, uid_mac, name_sealed, ctype_sealed, index_sealed, props_sealed)
    SELECT collection_id, name_mac, etag, size, modified_at, revision, uid_mac, name_sealed, ctype_sealed, index_sealed, props_sealed
    FROM objects_0001 ORDER BY collection_id, revision;
INSERT INTO object_bodies (object_id, body_sealed)
    SELECT o.id, old.body_sealed
    FROM objects o JOIN objects_0001 old ON old.collection_id = o.collection_id AND old.name_mac = o.name_mac;
DROP TABLE objects_0001;
