-- Forgotten passwords can be asked for by email address (account/reset.go):
-- the lookup compares addresses case-insensitively, lower() on both sides,
-- and this index serves it on both databases.
CREATE INDEX users_email_lower ON users (lower(email));
