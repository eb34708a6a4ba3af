-- Rollout groups: every account belongs to one group, the accounts alike
-- in what the rollout counts them by (their roles, their factor methods,
-- whether they skipped setup, have signed in, are unreached or disabled),
-- and rollout_groups keeps how many are in each, changed in the same
-- transaction as the accounts (groups.go). A forecast then reads a few
-- dozen rows however many accounts there are.
--
-- Each account keeps a copy of its group, so that a change knows which
-- count to take it from. -1 means not counted yet: Migrate counts every
-- such account right after the files (groups.go, countUncounted), and
-- accounts created by an older release during an upgrade get -1 too.
ALTER TABLE users ADD COLUMN group_roles TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN group_state INTEGER NOT NULL DEFAULT -1;

-- A group's count is spread over a few rows (shard), each transaction
-- adding to one of them, so that concurrent changes rarely wait on one
-- row; a group's count is the sum of its rows.
CREATE TABLE rollout_groups (
	roles TEXT NOT NULL,
	state INTEGER NOT NULL,
	shard INTEGER NOT NULL,
	people BIGINT NOT NULL,
	PRIMARY KEY (roles, state, shard)
);

-- The people with an extension, read one by one beside the groups.
CREATE INDEX users_extended ON users (extended_until);
-- The accounts not counted yet, which Migrate looks for at every start:
-- none, most of the time, found without reading every account.
CREATE INDEX users_uncounted ON users (id) WHERE group_state < 0;

-- The per-role copy that the dashboard's counts used to read; the groups
-- replace it.
DROP INDEX user_roles_progress;
ALTER TABLE user_roles DROP COLUMN progress_state;
