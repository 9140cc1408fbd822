-- An object's content (body, content type, query index entry, UID) is now
-- sealed with the revision at which it was written in its associated data,
-- so that an older sealed value put back beside a newer row fails to open.
-- seal_v says how a row's content was sealed: 0 for rows written before
-- this migration (bound to user, collection, object and field only, and a
-- UID MAC not bound to the collection), 1 for rows written from now on.
-- sealed_rev is the revision the content was sealed at; a PROPPATCH moves
-- revision but not sealed_rev, so properties change without re-sealing the
-- body. uid_sealed holds the UID itself, so that a copy into another
-- collection can compute the UID MAC there. Old rows move to the new form
-- the next time they are written.
ALTER TABLE objects ADD COLUMN seal_v INTEGER NOT NULL DEFAULT 0;
ALTER TABLE objects ADD COLUMN sealed_rev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE objects ADD COLUMN uid_sealed BLOB;
