-- The account side of Coffer's schema, as SQLite's migrations 0001 to 0011
-- left it, for the roles Accounts, Credentials, AppPasswords, Sessions,
-- Lifecycle, Outbox and Settings. Collections, objects and the change log
-- come with the Space role.
--
-- Times are Unix seconds in bigint columns, as in SQLite: the roles keep
-- whole seconds in UTC, a copy from SQLite moves the values as they are,
-- and no session time zone or timestamp rounding can change a comparison
-- (a mail's stale claim, a session's idle end).
--
-- Sealed and opaque values (wrapped keys, verifiers, sealed labels, MACs,
-- voucher hashes) are bytea. Text that is compared or ordered (usernames,
-- e-mail addresses, key slot kinds) is COLLATE "C": byte for byte, as in
-- SQLite, whatever the database's locale, and lower() folds ASCII only,
-- as SQLite's does.
--
-- Every table that belongs to an account refers to it with ON DELETE
-- CASCADE, so that deleting the account row removes the rest in the same
-- transaction; DeleteAccount deletes the key slots explicitly first.

-- Accounts hold only what must stay readable to run the service. An
-- identity is never given again, so nothing remembered about a deleted
-- account can ever apply to a new one. revision is where the account's
-- change counter stands (the Space role draws from it).
CREATE TABLE accounts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username     text COLLATE "C" NOT NULL UNIQUE,
    email        text COLLATE "C" NOT NULL DEFAULT '',
    display_name text   NOT NULL DEFAULT '',
    created_at   bigint NOT NULL,
    revision     bigint NOT NULL
);
-- AccountByEmail's lookup, in the form its query uses.
CREATE INDEX accounts_email ON accounts (lower(email COLLATE "C")) WHERE email <> '';

-- One row per credential that can unwrap the user key: 'password',
-- 'recovery', 'escrow', 'app:<id>', 'session:<hex of id_mac>'.
CREATE TABLE key_slots (
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind       text COLLATE "C" NOT NULL,
    kdf        text   NOT NULL,
    wrapped    bytea  NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (account_id, kind)
);

-- One row per app password; its key slot is 'app:<id>'. seq keeps the
-- order they were created in (SQLite's rowid).
CREATE TABLE app_passwords (
    seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id           text COLLATE "C" NOT NULL,
    label_sealed bytea  NOT NULL,
    verifier     bytea  NOT NULL,
    created_at   bigint NOT NULL,
    last_used_at bigint NOT NULL DEFAULT 0, -- 0: never used
    PRIMARY KEY (account_id, id)
);

-- One row per signed-in browser of the dashboard, by a keyed hash of its
-- id; its key slot is 'session:<hex of id_mac>'.
CREATE TABLE sessions (
    id_mac     bytea  PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at bigint NOT NULL,
    seen_at    bigint NOT NULL,
    expires_at bigint NOT NULL -- the absolute end; the idle end is seen_at plus the idle timeout
);
CREATE INDEX sessions_account ON sessions (account_id);

-- The dates an account's lifecycle state is computed from. A missing row
-- means a permanent account.
CREATE TABLE account_lifecycle (
    account_id    bigint  PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    permanent     boolean NOT NULL DEFAULT false, -- self-hosted: never expires
    registered_at bigint  NOT NULL,
    confirmed_at  bigint,                         -- NULL while the e-mail is unconfirmed
    trial_end     bigint,                         -- NULL: no trial
    paid_through  bigint,                         -- NULL: never paid
    plan          text    NOT NULL DEFAULT '',
    purging_at    bigint                          -- set once a purge is decided
);

-- The notification history; once_key makes a sweeper's event happen once
-- however many sweepers run (NULLs are distinct), mail is the e-mail's
-- delivery state.
CREATE TABLE account_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      bigint  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind            text    NOT NULL,
    detail          text    NOT NULL DEFAULT '',
    at              bigint  NOT NULL,
    once_key        text COLLATE "C",
    mail            text    NOT NULL DEFAULT 'none', -- none, queued, sending, sent, failed
    mail_tries      integer NOT NULL DEFAULT 0,
    mail_claimed_at bigint,
    UNIQUE (account_id, once_key)
);
CREATE INDEX account_events_account ON account_events (account_id, id);
CREATE INDEX account_events_mail ON account_events (mail) WHERE mail IN ('queued', 'sending');

-- Applied payments: the transaction id, the plan and the date it paid for.
CREATE TABLE payments (
    transaction_id text COLLATE "C" PRIMARY KEY,
    account_id     bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    plan           text   NOT NULL,
    paid_through   bigint NOT NULL,
    applied_at     bigint NOT NULL
);
CREATE INDEX payments_account ON payments (account_id);

-- Vouchers, by the SHA-256 of their code. A redeemed voucher outlives its
-- redeemer, so that it stays redeemed.
CREATE TABLE vouchers (
    code_hash   bytea   PRIMARY KEY,
    plan        text    NOT NULL,
    days        integer NOT NULL,
    created_at  bigint  NOT NULL,
    redeemed_by bigint REFERENCES accounts (id) ON DELETE SET NULL,
    redeemed_at bigint
);
-- An account's delete sets redeemed_by to NULL; this finds its vouchers.
CREATE INDEX vouchers_redeemed_by ON vouchers (redeemed_by) WHERE redeemed_by IS NOT NULL;

-- Server-wide settings that must agree between the instances and the CLI.
CREATE TABLE settings (
    key   text COLLATE "C" PRIMARY KEY,
    value text NOT NULL
);
