-- Hardening: security notices coalesced per person and kind, scheduled
-- jobs claimed once per cluster, secret messages in the outbox, campaign
-- counts kept after old messages are deleted, and the indexes the
-- retention job deletes by. Same template as 0001; times are Unix
-- milliseconds (UTC), NULL when unset; booleans are INTEGER 0/1.

-- What has been emailed to a person about one kind of security event,
-- and what is held back for the next email (at most one per kind per 15
-- minutes). The primary key is what HoldNotice's upsert relies on.
CREATE TABLE security_notices (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    sent_at BIGINT,
    held INTEGER NOT NULL DEFAULT 0,
    held_since BIGINT,
    held_last_at BIGINT,
    held_from TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, kind)
);
CREATE INDEX security_notices_held ON security_notices (held, sent_at);

-- One row per scheduled job: ClaimJob moves next_run_at forward in one
-- conditional statement, so one replica runs each turn.
CREATE TABLE jobs (
    name TEXT NOT NULL PRIMARY KEY,
    next_run_at BIGINT NOT NULL
);

-- A secret message carries a code: its text is removed once delivered or
-- given up. Code emails already in the outbox are marked by their
-- subject, and those no longer pending lose their text now.
ALTER TABLE mail_outbox ADD COLUMN secret INTEGER NOT NULL DEFAULT 0;
UPDATE mail_outbox SET secret = 1 WHERE campaign = '' AND subject LIKE 'Your % security code';
UPDATE mail_outbox SET body_text = '' WHERE secret = 1 AND status <> 'pending';
CREATE INDEX mail_outbox_created ON mail_outbox (created_at);

-- Counts of campaign messages the retention job deleted, so that
-- CampaignStats still counts them.
CREATE TABLE campaign_archive (
    campaign TEXT NOT NULL PRIMARY KEY,
    sent BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX email_codes_expires ON email_codes (expires_at);
CREATE INDEX throttles_last_failure ON throttles (last_failure_at);

-- Which run of attempts a key holds: a random number given when the run
-- starts, so that settling an attempt admitted in an earlier run (before
-- support cleared the key) never touches a later one.
ALTER TABLE throttles ADD COLUMN run BIGINT NOT NULL DEFAULT 0;

-- Wrong codes are counted per account now (the "mfa:" throttle), not per
-- session.
ALTER TABLE sessions DROP COLUMN factor_failures;
