// Package worker runs mfagate's scheduled background work: delivering the
// outbox (Delivery), removing stale sessions (SessionCleanup) and, later,
// notices and reminders.
//
// Every replica may run every job: coordination goes through the database
// (the outbox lease, idempotent deletes), so the work is done once however
// many replicas run it. Jobs take their time from the injected Clock, so
// tests cross retry delays without sleeping.
//
// It owns when and how often work is retried, not what the work says:
// messages are written by package account, delivered by a Mailer from
// package mail. It imports only the root package and the standard library,
// never another adapter; package cli wires it to a Store and a Mailer.
package worker
