package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/mfagate/mfagate/account"
)

// Campaigns is the job that queues the rollout's notices and reminders
// as they fall due (account.Service.RunCampaigns), and the check-up
// reminders of new factors not used yet (RunCheckups). Every replica may
// run it: each person is reached once, recorded in the database with
// their email.
type Campaigns struct {
	Accounts *account.Service
	Logger   *slog.Logger // default: discard

	passes, failed atomic.Int64
}

// Run passes at once and then every interval until ctx is done.
func (c *Campaigns) Run(ctx context.Context, interval time.Duration) {
	Every(ctx, interval, func(ctx context.Context) bool {
		c.Pass(ctx)
		return false
	})
}

// Pass queues what is due now, once, and returns how many emails it
// queued.
func (c *Campaigns) Pass(ctx context.Context) (int, error) {
	log := loggerOf(c.Logger)
	n, err := c.Accounts.RunCampaigns(ctx)
	m, cerr := c.Accounts.RunCheckups(ctx) // not held up by a campaign that failed
	n += m
	err = errors.Join(err, cerr)
	switch {
	case err != nil && ctx.Err() != nil: // stopping: not a failed pass
		return n, err
	case err != nil:
		c.failed.Add(1)
		log.Error("rollout emails", "err", err)
	case n > 0:
		log.Info("rollout emails queued", "count", n)
	}
	c.passes.Add(1)
	return n, err
}

// Passes counts the passes this job finished, and how many of them
// failed, since it started: an operator (and a test) can tell that it
// runs, and that a quiet outbox means nothing was due.
func (c *Campaigns) Passes() (done, failed int64) { return c.passes.Load(), c.failed.Load() }
