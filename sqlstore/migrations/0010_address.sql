-- Addresses set by staff wait for the person to confirm them (0010):
-- until then email_unconfirmed_at is when staff set it, and
-- previous_email keeps the address before, where sign-in codes still go.
-- NULL and '' for every existing account: their addresses stand as they
-- are. With 0009's index on the lowercased addresses, this one on the
-- addresses before answers "is this address another account's?" without
-- reading every account.
ALTER TABLE users ADD COLUMN email_unconfirmed_at BIGINT;
ALTER TABLE users ADD COLUMN previous_email TEXT NOT NULL DEFAULT '';
CREATE INDEX users_previous_email_lower ON users (lower(previous_email));
