-- One durable outbox for everything sent later: the e-mails of account
-- events, which waited in account_events' mail columns until now, and
-- WebDAV-Push messages. A job is due from next_try on (0: at once); a
-- sender claims it until claimed_until (0: not claimed), counting the
-- claim in attempts, which is also what its outcome names the claim by.
-- AUTOINCREMENT: an id is never given again, so that a sender whose claim
-- was taken over cannot finish a later job of the same id. payload_sealed
-- is opaque to storage: its producer seals it where it holds user data
-- (a mail's is empty; its event_id names the event). Of the jobs with
-- one collapse_key, one at most waits unclaimed: another collapses into
-- it (outbox_collapse). A mail's event keeps only its final state (sent,
-- failed); while the job waits it reads as queued or sending.
--
-- Every statement can run again: tests that turn a database back to an
-- older version run this once more, after putting the mail columns back.
CREATE TABLE IF NOT EXISTS outbox (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind           TEXT    NOT NULL,                                        -- mail, push
    event_id       INTEGER REFERENCES account_events(id) ON DELETE CASCADE, -- the event a mail tells of
    collapse_key   BLOB,                                                    -- jobs of one key wait as one
    payload_sealed BLOB    NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_try       INTEGER NOT NULL,
    claimed_until  INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (kind, next_try);
CREATE INDEX IF NOT EXISTS outbox_account ON outbox (account_id);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_event ON outbox (event_id) WHERE event_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS outbox_collapse ON outbox (account_id, kind, collapse_key) WHERE collapse_key IS NOT NULL AND claimed_until = 0;

-- The mails that waited move in, with the tries they had; one a sender
-- had claimed is due again at once (no sender of this file runs while it
-- migrates).
INSERT INTO outbox (account_id, kind, event_id, payload_sealed, attempts, next_try, created_at)
    SELECT account_id, 'mail', id, X'', mail_tries, 0, at FROM account_events WHERE mail IN ('queued', 'sending')
    ON CONFLICT DO NOTHING;
UPDATE account_events SET mail = 'queued' WHERE mail = 'sending';
DROP INDEX IF EXISTS account_events_mail;
ALTER TABLE account_events DROP COLUMN mail_tries;
ALTER TABLE account_events DROP COLUMN mail_claimed_at;

-- WebDAV-Push subscriptions, one per push resource and target: a
-- collection (collection_id), or the principal or a home (scope, with no
-- collection). The push resource, its keys and the trigger are sealed
-- whole under the user key (subscription_sealed), bound to the user, the
-- target (the collection's random id, or the scope), the subscription's
-- id and its expiry; resource_mac, a keyed MAC of the push resource on
-- the target, finds a registration again. id is random, the
-- registration's name in its URL; seq keeps the order they were made in.
-- expires_at stays readable for the sweeper, which drops expired
-- subscriptions without a key.
CREATE TABLE IF NOT EXISTS push_subscriptions (
    seq                 INTEGER PRIMARY KEY,
    account_id          INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    id                  TEXT    NOT NULL,
    collection_id       INTEGER REFERENCES collections(id) ON DELETE CASCADE,
    scope               TEXT    NOT NULL DEFAULT '',
    resource_mac        BLOB    NOT NULL,
    subscription_sealed BLOB    NOT NULL,
    expires_at          INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    UNIQUE (account_id, id),
    UNIQUE (account_id, resource_mac),
    CHECK ((collection_id IS NULL) = (scope <> ''))
);
CREATE INDEX IF NOT EXISTS push_subscriptions_collection ON push_subscriptions (collection_id) WHERE collection_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS push_subscriptions_expiry ON push_subscriptions (expires_at);
