// Package storetest is the behaviour suite every mfagate.Store must pass.
// A backend's test calls Run with a function that returns a fresh, empty,
// migrated store; the suite then checks each Tx method through the Store
// interface alone, so SQLite and PostgreSQL are held to the same contract.
//
// It owns no storage of its own and must not reach past the interface
// (no SQL, no backend-specific types): what it checks is what callers in
// package account and the web layer may rely on.
package storetest
