-- Ended sessions, announced on SQLite: every server (and every command
-- run beside it, such as "mfagate user disable") writes here the
-- sessions a transaction ended, in that transaction, and each server
-- reads what is new every half second, so that what it remembers of
-- sessions can be trusted for longer (revocations.go). PostgreSQL
-- announces them with pg_notify instead and leaves this table empty.
-- Rows are removed after a few minutes.
CREATE TABLE ended_sessions (
	id {{.AutoID}},
	at BIGINT NOT NULL,
	payload TEXT NOT NULL
);
CREATE INDEX ended_sessions_at ON ended_sessions (at);
