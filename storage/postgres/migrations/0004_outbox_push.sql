-- One durable outbox for everything sent later, and WebDAV-Push
-- subscriptions: SQLite's migration 0013, which has the reasons.
--
-- A job is due from next_try on (0: at once); a sender claims it until
-- claimed_until (0: not claimed), counting the claim in attempts, which
-- is also what its outcome names the claim by. payload_sealed is opaque:
-- its producer seals it where it holds user data (a mail's is empty, and
-- event_id names its event). Of the jobs with one collapse_key, one at
-- most waits unclaimed. A mail's event keeps only its final state.
CREATE TABLE outbox (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id     bigint  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind           text COLLATE "C" NOT NULL,                         -- mail, push
    event_id       bigint REFERENCES account_events (id) ON DELETE CASCADE, -- the event a mail tells of
    collapse_key   bytea,                                                   -- jobs of one key wait as one
    payload_sealed bytea   NOT NULL,
    attempts       integer NOT NULL DEFAULT 0,
    next_try       bigint  NOT NULL,
    claimed_until  bigint  NOT NULL DEFAULT 0,
    created_at     bigint  NOT NULL
);
CREATE INDEX outbox_due ON outbox (kind, next_try);
CREATE INDEX outbox_account ON outbox (account_id);
CREATE UNIQUE INDEX outbox_event ON outbox (event_id) WHERE event_id IS NOT NULL;
CREATE UNIQUE INDEX outbox_collapse ON outbox (account_id, kind, collapse_key) WHERE collapse_key IS NOT NULL AND claimed_until = 0;

-- The mails that waited move in, with the tries they had; one a sender
-- had claimed is due again at once (the migration holds the table).
INSERT INTO outbox (account_id, kind, event_id, payload_sealed, attempts, next_try, created_at)
    SELECT account_id, 'mail', id, '\x'::bytea, mail_tries, 0, at FROM account_events WHERE mail IN ('queued', 'sending');
UPDATE account_events SET mail = 'queued' WHERE mail = 'sending';
DROP INDEX account_events_mail;
ALTER TABLE account_events DROP COLUMN mail_tries, DROP COLUMN mail_claimed_at;

-- WebDAV-Push subscriptions, one per push resource and target (a
-- collection, or with no collection the principal or a home, scope): the
-- push resource, its keys and the trigger sealed whole under the user
-- key; resource_mac finds a registration again; id is random, the
-- registration's name in its URL; seq keeps the order they were made in
-- (SQLite's rowid); expires_at stays readable for the sweeper.
CREATE TABLE push_subscriptions (
    seq                 bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    account_id          bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id                  text COLLATE "C" NOT NULL,
    collection_id       bigint REFERENCES collections (id) ON DELETE CASCADE,
    scope               text COLLATE "C" NOT NULL DEFAULT '',
    resource_mac        bytea  NOT NULL,
    subscription_sealed bytea  NOT NULL,
    expires_at          bigint NOT NULL,
    created_at          bigint NOT NULL,
    PRIMARY KEY (account_id, id),
    UNIQUE (account_id, resource_mac),
    CHECK ((collection_id IS NULL) = (scope <> ''))
);
CREATE INDEX push_subscriptions_collection ON push_subscriptions (collection_id) WHERE collection_id IS NOT NULL;
CREATE INDEX push_subscriptions_expiry ON push_subscriptions (expires_at);
