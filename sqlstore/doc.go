// Package sqlstore keeps mfagate's state in a SQL database: SQLite (through
// modernc.org/sqlite, no cgo) for a single server and PostgreSQL (through
// pgx) for several replicas sharing one database. Both run the same SQL:
// queries are written once with ? placeholders and rebound for PostgreSQL,
// and the one embedded migration set fills in a few dialect words.
//
// The package owns the schema, its migrations and the translation between
// rows and the root package's types. It implements mfagate.Store and
// nothing more: it makes no decisions about users, sessions or mail (those
// belong to package account and the worker), reads no configuration and
// imports no other package of this module but the root.
//
// Times are stored as Unix milliseconds (UTC); a zero time is stored as
// NULL. Errors a person may see are *mfagate.Error with the codes the
// comments of mfagate.Tx's interfaces name; anything else is wrapped once with what was
// being done. Where a call leaves the store (Update, View, Ping), an error
// caused by a passed deadline or an unreachable database becomes
// EUNAVAILABLE (unavailable.go).
//
// On PostgreSQL the transactions that end sessions announce them
// (AnnounceEnded, pg_notify), and Listener hears the announcements on a
// connection of its own (revocations.go), for mfagate.Revocations.
//
// Every call has a deadline (Options.RequestTimeout unless the caller's
// context has one) and the connection pool is bounded per backend
// (DefaultOptions).
package sqlstore
