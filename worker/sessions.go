package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/mfagate/mfagate"
)

// cleanupTimeout is the deadline of one clean-up's transaction.
const cleanupTimeout = time.Minute

// SessionCleanup deletes sessions that can no longer be used: idle for
// longer than Idle, or older than MaxAge. A zero Idle or MaxAge turns that
// limit off. Deleting is idempotent, so every replica may run it.
type SessionCleanup struct {
	Store  mfagate.Store
	Clock  mfagate.Clock // default: the system clock
	Logger *slog.Logger  // default: discard
	Idle   time.Duration
	MaxAge time.Duration
}

// RunOnce deletes the stale sessions and returns how many it deleted.
func (c *SessionCleanup) RunOnce(ctx context.Context) (int, error) {
	if c.Idle <= 0 && c.MaxAge <= 0 {
		return 0, nil
	}
	var clock mfagate.Clock = mfagate.SystemClock{}
	if c.Clock != nil {
		clock = c.Clock
	}
	now := clock.Now()
	// The zero time is before every session, so it deletes nothing.
	var idleBefore, createdBefore time.Time
	if c.Idle > 0 {
		idleBefore = now.Add(-c.Idle)
	}
	if c.MaxAge > 0 {
		createdBefore = now.Add(-c.MaxAge)
	}
	// One DELETE, of every stale session at once: after a long outage that
	// may be many, more than a request's deadline allows.
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	var n int
	err := c.Store.Update(ctx, func(tx mfagate.Tx) error {
		var err error
		n, err = tx.DeleteStaleSessions(idleBefore, createdBefore)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete stale sessions: %w", err)
	}
	return n, nil
}

// Run calls RunOnce every interval until ctx is done. Errors are logged.
func (c *SessionCleanup) Run(ctx context.Context, interval time.Duration) {
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	Every(ctx, interval, func(ctx context.Context) bool {
		n, err := c.RunOnce(ctx)
		if err != nil {
			log.ErrorContext(ctx, "session clean-up", "err", err)
		} else if n > 0 {
			log.InfoContext(ctx, "stale sessions deleted", "count", n)
		}
		return false
	})
}
