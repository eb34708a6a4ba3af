-- Second factors, recovery codes, email codes and throttles, and the state
-- of a sign-in in progress on sessions. Same template as 0001: {{.AutoID}}
-- and {{.Blob}} are filled in per database; times are Unix milliseconds
-- (UTC), NULL when unset; booleans are INTEGER 0/1.

-- One factor per method per person; the unique index is what CreateFactor's
-- ON CONFLICT relies on.
CREATE TABLE factors (
    id {{.AutoID}},
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    method TEXT NOT NULL,
    secret {{.Blob}},
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    UNIQUE (user_id, method)
);

CREATE TABLE recovery_codes (
    id {{.AutoID}},
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash {{.Blob}} NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX recovery_codes_user_hash ON recovery_codes (user_id, hash);

-- No foreign key to sessions: a code outliving its session can no longer be
-- reached (LatestEmailCode is asked with the session's hash), and keeping
-- it lets EmailCodesSince go on counting it.
CREATE TABLE email_codes (
    id {{.AutoID}},
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_hash {{.Blob}} NOT NULL,
    purpose TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    hash {{.Blob}} NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    used_at BIGINT,
    voided INTEGER NOT NULL DEFAULT 0 CHECK (voided IN (0, 1))
);
CREATE INDEX email_codes_session ON email_codes (session_hash, purpose, id);
CREATE INDEX email_codes_user_created ON email_codes (user_id, created_at);

CREATE TABLE throttles (
    key TEXT NOT NULL PRIMARY KEY,
    failures INTEGER NOT NULL DEFAULT 0,
    last_failure_at BIGINT,
    locked_until BIGINT,
    hard_locked INTEGER NOT NULL DEFAULT 0 CHECK (hard_locked IN (0, 1))
);

ALTER TABLE sessions ADD COLUMN pending_totp {{.Blob}};
ALTER TABLE sessions ADD COLUMN pending_recovery {{.Blob}};
ALTER TABLE sessions ADD COLUMN factor_failures INTEGER NOT NULL DEFAULT 0;
