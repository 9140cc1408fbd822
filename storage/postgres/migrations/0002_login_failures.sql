-- The failed-login throttle's records, shared by every instance of one
-- service so that guesses spread over instances count as one stream (issue
-- 15). id is an opaque keyed hash of an address or a username, under a key
-- derived from the server secret (encryption.ThrottleID): the table holds
-- no address and no username. last_us is the latest failure in Unix
-- microseconds: backoffs of a second or less need finer times than the
-- account tables' seconds. claimed_us is until when one attempt in flight
-- past the allowance is claimed (0: none), so that such an attempt runs on
-- one instance at a time.
CREATE TABLE login_failures (
    id       bytea  PRIMARY KEY,
    failures integer NOT NULL,
    last_us  bigint NOT NULL,
    claimed_us bigint NOT NULL DEFAULT 0
);

-- ForgetLoginFailures deletes by age.
CREATE INDEX login_failures_last ON login_failures (last_us);
