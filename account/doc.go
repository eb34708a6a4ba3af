// Package account holds the use cases that the web pages, the JSON API and
// the command line share: creating and importing accounts, signing in with a
// password, sessions and their timeouts, changing passwords, disabling
// accounts. Every change is made in one store transaction together with its
// audit event and any email it causes, so none of them can be lost alone,
// and all of them carry the one time fixed as the transaction begins
// (txn.go: tx.now, never the clock again inside).
//
// Transactions that hold rows (HoldThrottle, UserByID and UserByUsername
// inside Update, the factor and session writes) take them in one order,
// so that two of them never wait for each other on PostgreSQL: throttle
// keys first (the account's key, then the client address's), then the
// person's row, then their factors, then their sessions, and their
// security notices (HoldNotice) after all of those. A use case that
// needs them in another order reads without holding first, or splits the
// work.
//
// It imports the root package and the pure packages only, never an adapter:
// storage and mail arrive as the mfagate.Store interface.
package account
