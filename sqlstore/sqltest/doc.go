// Package sqltest makes fresh, empty SQL databases for tests: a Backend is
// SQLite (a file in the test's temporary folder) or PostgreSQL (a schema of
// its own in the database named by MFAGATE_TEST_POSTGRES_DSN, dropped when
// the test ends), and it opens them as sqlstore.DB, migrated (New), as two
// servers sharing one database (Replicas), or bare for upgrade tests (Open,
// OpenWith, MustMigrate). EachBackend runs a test on both; PostgreSQL skips,
// naming the variable, when it is unset.
//
// It owns only the databases' life cycle; it checks no behaviour (that is
// package storetest's suite, which takes the stores it makes). It is for
// tests only, keeps sqlstore's import rules, and nothing it creates outlives
// the test that asked for it.
package sqltest
