-- Mail: each message is claimed by one batch (claim) and checked against
-- it before it is sent; messages have a priority (security mail first,
-- campaigns last), the person they are for, and, for a code, the time it
-- stops being worth sending. People whose address a mail server refused
-- are marked unreached. Same template as 0001; times are Unix
-- milliseconds (UTC), NULL when unset.

ALTER TABLE mail_outbox ADD COLUMN claim BIGINT;
ALTER TABLE mail_outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
ALTER TABLE mail_outbox ADD COLUMN user_id BIGINT;
ALTER TABLE mail_outbox ADD COLUMN expires_at BIGINT;
-- When the message last joined the queue (created, or sent again after
-- its address was fixed): temporary failures are retried for
-- mail.retry_for from then.
ALTER TABLE mail_outbox ADD COLUMN queued_at BIGINT;
UPDATE mail_outbox SET queued_at = created_at;
UPDATE mail_outbox SET priority = 2 WHERE campaign <> '';
UPDATE mail_outbox SET priority = 0 WHERE secret = 1;

-- What ClaimMail walks: pending messages in the order they go out.
CREATE INDEX mail_outbox_queue ON mail_outbox (priority, id) WHERE status = 'pending';
-- What ReleaseMail and the lease renewal find a batch by.
CREATE INDEX mail_outbox_claim ON mail_outbox (claim) WHERE status = 'pending';
-- A person's failed messages, to send again once their address is fixed.
CREATE INDEX mail_outbox_user ON mail_outbox (user_id, status);

-- Set when a mail server refused the person's address for good (a 5xx
-- answer to RCPT TO); cleared when the address changes or an operator
-- marks it fixed.
ALTER TABLE users ADD COLUMN unreached_at BIGINT;
ALTER TABLE users ADD COLUMN unreached_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX users_unreached ON users (unreached_at);
