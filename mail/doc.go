// Package mail delivers mfagate's email: the SMTP Mailer used in
// production and the DevOutbox Mailer of the "outbox" driver, which keeps
// messages in the database for the /dev/outbox page instead of sending them.
//
// It owns the wire format of a message (headers, Message-ID, encoding) and
// the SMTP conversation. It does not decide when a message is sent, how
// often it is retried or what it says: the outbox table and package worker
// do the first two, package account the last. It imports only the root
// package, the standard library and go-mail, never another adapter.
//
// Subpackage mailtest is an in-process SMTP server for tests of any package
// that needs to see real mail arrive.
package mail
