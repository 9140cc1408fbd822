-- Sign-in by e-mail address (the dashboard) finds the account by its
-- address without regard to ASCII case, through this index instead of a
-- scan of every account. IF NOT EXISTS: tests that turn a database back to
-- an older version run this again.
CREATE INDEX IF NOT EXISTS accounts_email ON accounts (lower(email)) WHERE email <> '';
