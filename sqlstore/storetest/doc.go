// Package storetest is the behaviour suite every mfagate.Store must pass.
// A backend's test calls Run with a function that returns a fresh, empty,
// migrated store; the suite then checks each Tx method through the Store
// interface alone, so SQLite and PostgreSQL are held to the same contract.
// The concurrency checks (ClaimConcurrently, HoldConcurrently and the
// others) take two stores, so that a backend's test can pass two servers
// sharing one database; the progress checks (CheckProgress, MustProgress)
// take any store.
//
// It owns no storage of its own and must not reach past the interface: no
// SQL, no database/sql, no backend's package or types. Making databases for
// tests is package sqlstore/sqltest's work. What the suite checks is what
// callers in package account and the web layer may rely on.
package storetest
