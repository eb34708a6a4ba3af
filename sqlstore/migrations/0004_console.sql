-- The operator console and its JSON API: API tokens, and what the people
-- search and the progress dashboard need. Same template as 0001; times are
-- Unix milliseconds (UTC), NULL when unset.

-- Only the token's hash is kept. The unique name is what CreateToken's
-- ON CONFLICT relies on, the unique hash what TokenByHash looks up.
CREATE TABLE api_tokens (
    id {{.AutoID}},
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    hash {{.Blob}} NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

-- Each role row carries its person's MFA state for the progress dashboard,
-- which counts a million accounts per request: counted from this index
-- alone, without a join, it takes tens of milliseconds on SQLite instead of
-- seconds. progress_state is 1 for an email factor + 2 for a TOTP factor +
-- 4 when the person skipped setup + 8 when they never signed in + 16 when
-- the account is disabled. The store keeps it up to date (refreshProgress
-- in progress.go, which this backfill repeats).
ALTER TABLE user_roles ADD COLUMN progress_state INTEGER NOT NULL DEFAULT 0;
UPDATE user_roles SET progress_state = (SELECT
        CASE WHEN EXISTS (SELECT 1 FROM factors f WHERE f.user_id = users.id AND f.method = 'email') THEN 1 ELSE 0 END
        + CASE WHEN EXISTS (SELECT 1 FROM factors f WHERE f.user_id = users.id AND f.method = 'totp') THEN 2 ELSE 0 END
        + CASE WHEN users.skips > 0 THEN 4 ELSE 0 END
        + CASE WHEN users.last_sign_in_at IS NULL THEN 8 ELSE 0 END
        + users.disabled * 16
    FROM users WHERE users.id = user_roles.user_id);
CREATE INDEX user_roles_progress ON user_roles (role, progress_state);
