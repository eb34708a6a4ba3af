-- The rollout: per-person extensions and skips, and campaigns (rollout
-- emails sent to each person once). Same template as 0001; times are Unix
-- milliseconds (UTC), NULL when unset.

ALTER TABLE users ADD COLUMN extended_until BIGINT;
ALTER TABLE users ADD COLUMN extension_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN skips INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_skip_at BIGINT;

-- Campaign progress is counted by campaign and status.
ALTER TABLE mail_outbox ADD COLUMN campaign TEXT NOT NULL DEFAULT '';
CREATE INDEX mail_outbox_campaign ON mail_outbox (campaign, status);

-- Who each campaign has reached. The primary key is what makes "each person
-- exactly once" hold across replicas (MarkCampaignSent's ON CONFLICT) and
-- what CampaignRecipients' NOT EXISTS looks up.
CREATE TABLE campaign_sends (
    campaign TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (campaign, user_id)
);

-- factors needs no index of its own on user_id: UNIQUE (user_id, method)
-- from 0002 already leads with it, for People and for "has no factor".
