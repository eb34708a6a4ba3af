// Package account holds the use cases that the web pages, the JSON API and
// the command line share: creating and importing accounts, signing in with a
// password, sessions and their timeouts, changing passwords, disabling
// accounts. Every change is made in one store transaction together with its
// audit event and any email it causes, so none of them can be lost alone.
//
// It imports the root package and the pure packages only, never an adapter:
// storage and mail arrive as the mfagate.Store interface.
package account
