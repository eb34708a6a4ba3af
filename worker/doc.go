// Package worker runs mfagate's scheduled background work: delivering the
// outbox (Delivery) and deleting what is no longer needed (Retention), and
// the timing of other periodic work (Every, RunScheduled).
//
// Every replica runs every job: coordination goes through the database
// (the outbox lease; RunScheduled's claimed turns, so a job runs once per
// interval across the cluster), so the work is done once however many
// replicas run it. Jobs take their time from the injected Clock, so tests
// cross retry delays without sleeping.
//
// It owns when and how often work is retried, not what the work says:
// messages are written by package account, delivered by a Mailer from
// package mail. It imports only the root package and the standard library,
// never another adapter; package cli wires it to a Store and a Mailer.
package worker
