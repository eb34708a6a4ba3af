package worker

import (
	"context"
	"time"

	"github.com/mfagate/mfagate"
)

// Every calls fn at once and then every interval until ctx is done. When
// fn reports that more work is waiting, the next call comes at once
// instead of after the interval. Every returns when ctx is done.
func Every(ctx context.Context, interval time.Duration, fn func(ctx context.Context) (more bool)) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if fn(ctx) && ctx.Err() == nil {
			t.Reset(0)
		} else {
			t.Reset(interval)
		}
	}
}

// claimTimeout bounds the transaction that claims a scheduled turn.
const claimTimeout = 10 * time.Second

// RunScheduled calls fn once per interval across every replica sharing
// store: each replica wakes every interval and asks the store for the
// turn (mfagate.Jobs.ClaimJob under name); only the one that gets it runs fn. A
// replica that dies mid-turn just loses that turn: the next starts an
// interval later. Returns when ctx is done.
func RunScheduled(ctx context.Context, store mfagate.Store, clock mfagate.Clock, name string, interval time.Duration, fn func(context.Context)) {
	clock = clockOf(clock)
	Every(ctx, interval, func(ctx context.Context) bool {
		if claimed, _ := Claim(ctx, store, clock, name, interval); claimed {
			fn(ctx)
		}
		return false
	})
}

// Claim asks store for the turn of the named job at the clock's now, the
// next turn due an interval later. It reports whether this caller got it.
func Claim(ctx context.Context, store mfagate.Store, clock mfagate.Clock, name string, interval time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	now := clockOf(clock).Now().UTC()
	// A little short of interval, so that a replica whose timer fires a
	// moment early still finds the turn due.
	next := now.Add(interval - interval/10)
	var claimed bool
	err := store.Update(ctx, func(tx mfagate.Tx) (err error) {
		claimed, err = tx.ClaimJob(name, now, next)
		return err
	})
	return claimed, err
}
