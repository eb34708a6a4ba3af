// Package mfagate holds the domain of the mfagate sign-in service: the nouns
// (User, Session, AuditEvent, Message), the one Error type with its codes,
// the Clock, and the interfaces that adapters implement (Store, Mailer, and
// Tx, composed of one small interface per noun that consumers ask for).
//
// It imports nothing from the module and does no I/O. Use cases live in
// package account; storage, mail, HTTP and the CLI are adapters around it.
package mfagate
