package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mfagate/mfagate"
)

// Defaults of Retention's settings.
const (
	DefaultSentMail      = 30 * 24 * time.Hour
	DefaultIdleThrottles = 24 * time.Hour
	DefaultCodeTTL       = 10 * time.Minute
)

// codeCapWindow is how long email codes are kept after they are sent,
// expired or not: the hourly cap on codes counts the last hour's.
const codeCapWindow = time.Hour

// retentionTimeout bounds each of the retention job's transactions.
const retentionTimeout = time.Minute

// mailBatch is how many old messages one transaction deletes.
const mailBatch = 1000

// Retention deletes what mfagate no longer needs (STYLE rule 18): sessions
// idle for longer than SessionIdle or older than SessionMaxAge, email
// codes expired and out of the hourly cap's window, the failures of
// addresses and of usernames nobody has, idle for IdleThrottles (an
// account's own last until a right answer or support), code emails that could
// not be delivered while their code lasted (their text removed), and sent
// or failed messages older than SentMail (campaign counts are kept).
// Delivered code emails lose their text at delivery already, in the
// store. Each kind is deleted in its own short transaction, so the job
// never holds a lock for long; deleting is idempotent, and RunScheduled
// runs it once per cluster anyway.
//
// Zero fields take their defaults; Store is required. A zero SessionIdle
// or SessionMaxAge leaves that limit off.
type Retention struct {
	Store         mfagate.Store
	Clock         mfagate.Clock // default: the system clock
	Logger        *slog.Logger  // default: discard
	SessionIdle   time.Duration
	SessionMaxAge time.Duration
	CodeTTL       time.Duration // email codes' lifetime, default 10m
	IdleThrottles time.Duration // addresses' and unknown usernames' failures; default 24h
	SentMail      time.Duration // default 30 days
}

// Removed counts what one run of Retention removed.
type Removed struct {
	Sessions, EmailCodes, Throttles, ExpiredCodeMail, OldMail, Links int
}

func (r Removed) total() int {
	return r.Sessions + r.EmailCodes + r.Throttles + r.ExpiredCodeMail + r.OldMail + r.Links
}

// RunOnce removes everything due at the clock's now.
func (r *Retention) RunOnce(ctx context.Context) (Removed, error) {
	now := clockOf(r.Clock).Now().UTC()
	codeTTL := or(r.CodeTTL, DefaultCodeTTL)
	var (
		out  Removed
		errs []error
	)
	step := func(what string, n *int, fn func(tx mfagate.Retention) (int, error)) {
		ctx, cancel := context.WithTimeout(ctx, retentionTimeout)
		defer cancel()
		err := r.Store.Update(ctx, func(tx mfagate.Tx) (err error) {
			*n, err = fn(tx)
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("delete %s: %w", what, err))
		}
	}
	if r.SessionIdle > 0 || r.SessionMaxAge > 0 {
		// The zero time is before every session, so it deletes nothing.
		var idleBefore, createdBefore time.Time
		if r.SessionIdle > 0 {
			idleBefore = now.Add(-r.SessionIdle)
		}
		if r.SessionMaxAge > 0 {
			createdBefore = now.Add(-r.SessionMaxAge)
		}
		step("stale sessions", &out.Sessions, func(tx mfagate.Retention) (int, error) {
			return tx.DeleteStaleSessions(idleBefore, createdBefore)
		})
	}
	step("old email codes", &out.EmailCodes, func(tx mfagate.Retention) (int, error) {
		return tx.DeleteOldEmailCodes(now, now.Add(-max(codeCapWindow, codeTTL)))
	})
	step("idle throttles", &out.Throttles, func(tx mfagate.Retention) (int, error) {
		return tx.DeleteIdleThrottles(now.Add(-or(r.IdleThrottles, DefaultIdleThrottles)), now)
	})
	step("undelivered code emails", &out.ExpiredCodeMail, func(tx mfagate.Retention) (int, error) {
		return tx.ExpireSecretMail(now.Add(-codeTTL), now)
	})
	step("expired links", &out.Links, func(tx mfagate.Retention) (int, error) {
		return tx.DeleteOldLinks(now)
	})
	cutoff := now.Add(-or(r.SentMail, DefaultSentMail))
	for ctx.Err() == nil {
		var n int
		step("old mail", &n, func(tx mfagate.Retention) (int, error) { return tx.DeleteOldMail(cutoff, mailBatch) })
		out.OldMail += n
		if n < mailBatch {
			break
		}
	}
	return out, errors.Join(errs...)
}

// Run runs RunOnce on RunScheduled's terms: once per interval across the
// cluster. Errors are logged.
func (r *Retention) Run(ctx context.Context, interval time.Duration) {
	log := loggerOf(r.Logger)
	RunScheduled(ctx, r.Store, r.Clock, "retention", interval, func(ctx context.Context) {
		out, err := r.RunOnce(ctx)
		if err != nil {
			log.ErrorContext(ctx, "retention", "err", err)
		}
		if out.total() > 0 {
			log.InfoContext(ctx, "retention removed what is no longer needed",
				"sessions", out.Sessions, "email_codes", out.EmailCodes, "throttles", out.Throttles,
				"expired_code_mail", out.ExpiredCodeMail, "old_mail", out.OldMail, "links", out.Links)
		}
	})
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func clockOf(c mfagate.Clock) mfagate.Clock {
	if c == nil {
		return mfagate.SystemClock{}
	}
	return c
}

func loggerOf(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
