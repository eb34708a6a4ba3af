-- Single-use links emailed to choose a password: invitations to a new
-- account and resets of a forgotten password (links.go). Only the hash of
-- each link's token is kept. A new link removes the person's earlier ones
-- of the same purpose; a used link stays, marked, until it has expired, so
-- that a second use can be told apart from a mistyped link in the logs.
CREATE TABLE links (
	id {{.AutoID}},
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	purpose TEXT NOT NULL,
	hash {{.Blob}} NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at BIGINT
);
CREATE INDEX links_user ON links (user_id, purpose);
CREATE INDEX links_expires ON links (expires_at);

-- When the person was last invited, until they accept: NULL for everyone
-- else. It is a bit of the account's rollout group (groups.go), so that
-- the dashboard and the forecast count those still to accept; NULL for
-- every existing account keeps their groups as they are.
ALTER TABLE users ADD COLUMN invited_at BIGINT;

-- Accounts by address, ignoring case: an invitation refuses an address
-- another account has, and a forgotten password may be asked for by
-- address.
CREATE INDEX users_email ON users (lower(email));
