-- The account lifecycle: the dates its state is computed from. A missing
-- row means a permanent account (accounts that existed before lifecycles).
CREATE TABLE account_lifecycle (
    account_id    INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    permanent     INTEGER NOT NULL DEFAULT 0, -- self-hosted: never expires
    registered_at INTEGER NOT NULL,
    confirmed_at  INTEGER,                    -- NULL while the e-mail is unconfirmed
    trial_end     INTEGER,                    -- NULL: no trial
    paid_through  INTEGER,                    -- NULL: never paid
    plan          TEXT    NOT NULL DEFAULT '',
    purging_at    INTEGER                     -- set once a purge is decided; then only the delete follows
);
INSERT INTO account_lifecycle (account_id, permanent, registered_at, confirmed_at)
    SELECT id, 1, created_at, created_at FROM accounts;

-- The notification history. Events the sweeper produces carry once_key
-- (kind and due date), which makes each of them happen once however many
-- sweepers run. mail is the e-mail delivery state.
CREATE TABLE account_events (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL,
    detail          TEXT    NOT NULL DEFAULT '',
    at              INTEGER NOT NULL,
    once_key        TEXT,
    mail            TEXT    NOT NULL DEFAULT 'none', -- none, queued, sending, sent, failed
    mail_tries      INTEGER NOT NULL DEFAULT 0,
    mail_claimed_at INTEGER,
    UNIQUE (account_id, once_key)
);
CREATE INDEX account_events_account ON account_events (account_id, id);
CREATE INDEX account_events_mail ON account_events (mail) WHERE mail IN ('queued', 'sending');

-- Applied payments: only the transaction id, the plan and the date it paid
-- for, so that the same transaction applied twice changes nothing.
CREATE TABLE payments (
    transaction_id TEXT    PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    plan           TEXT    NOT NULL,
    paid_through   INTEGER NOT NULL,
    applied_at     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX payments_account ON payments (account_id);

-- Vouchers, by the SHA-256 of their code (the code is a bearer secret).
CREATE TABLE vouchers (
    code_hash   BLOB    PRIMARY KEY,
    plan        TEXT    NOT NULL,
    days        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    redeemed_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    redeemed_at INTEGER
) WITHOUT ROWID;

-- Server-wide settings that must agree between serve and the CLI.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
