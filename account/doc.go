// Package account holds the use cases that the web pages, the JSON API,
// the command line and the scheduled jobs share. Every change is made in
// one store transaction together with its audit event and any email it
// causes, so none of them can be lost alone; a transaction fixes its time
// once, as it begins (txn.go), so the change, its event and its email
// carry one instant.
//
// Its rooms, by what a reader looks for:
//
//   - The service (service.go, txn.go): Options, New, the Actor who asks
//     for a change, the clocks, password hashing, the derived keys.
//   - Accounts (users.go, import.go, key.go): creating and importing
//     accounts, roles, disabling, passwords set at the server, and whether
//     a key opens the stored secrets.
//   - Emailed links (links.go, reset.go): choosing a password with a
//     single-use link, and asking for one when the password is
//     forgotten, with the same answer and work whoever exists.
//   - Sign-in and sessions (signin.go, sessions.go, sessiontoken.go,
//     check.go, clockmap.go, touches.go, challenge.go, sendcode.go,
//     throttle.go, device.go): the password step, session tokens and
//     their MAC, sessions and their timeouts, the forward-auth check and
//     its bounded cache (which hears of sessions other replicas end), the
//     batched writes of when sessions were used, the second step and its
//     email codes, and the throttles that bound guessing.
//   - Enrollment and factors (enroll.go, factors.go): setting up email
//     codes and authenticator apps, recovery codes, skipping an offered
//     setup, removing a factor.
//   - The rollout (rollout.go, policy.go, campaigns.go, phasewords.go): the
//     Service holds the one schedule (Options.Rollout) and derives what
//     comes after the password from it; the timeline, the forecast, one
//     person's simulation, the notices and reminders, and the words that
//     describe a phase. Decisions speak rollout.Outcome.
//   - Staff actions (staff.go, unreached.go): what the console and the API
//     read (people, progress, the audit log) and the support actions —
//     end sessions, resend a code, reset MFA, unlock, give more time, mark
//     an address fixed — each with a reason, audited, and guarded so that
//     only the server's own command line touches staff accounts.
//   - API tokens (tokens.go).
//   - Emails and alerts to the person (notify.go, alerts.go), and the
//     counts behind the metrics (counts.go).
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
// storage and mail arrive as the mfagate.Store interface, and helpers that
// touch one noun ask for that noun's interface (mfagate.Throttles,
// mfagate.MailQueue…).
package account
