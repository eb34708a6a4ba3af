// Package worker runs mfagate's scheduled background work: delivering the
// outbox (Delivery), deleting what is no longer needed (Retention),
// queueing the rollout's notices and reminders as they fall due
// (Campaigns) and keeping its forecast recent (Forecasts), and the timing
// of other periodic work (Every, RunScheduled).
//
// Every replica runs every job: coordination goes through the database
// (the outbox lease; RunScheduled's claimed turns, so a job runs once per
// interval across the cluster), so the work is done once however many
// replicas run it. Jobs take their time from the injected Clock, so tests
// cross retry delays without sleeping.
//
// It owns when and how often work is done and retried, not what the work
// says: scheduled jobs are use cases of package account run on a clock;
// messages are written by package account, delivered by a Mailer from
// package mail. It imports the root package, account and the standard
// library, never an adapter; package cli wires it to a Store, a Mailer and
// the use cases, and stops it at shutdown.
package worker
