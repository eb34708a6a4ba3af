package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/mfagate/mfagate/worker"
)

func TestEveryRunsAgainAtOnceWhenMoreIsWaiting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		// An hour's interval: the test only ends if "more" skips it.
		worker.Every(ctx, time.Hour, func(context.Context) bool {
			calls++
			if calls == 4 {
				cancel()
				return false
			}
			return true
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Every did not call again at once, or did not stop when its context ended")
	}
	if calls != 4 {
		t.Errorf("got %d calls, want 4", calls)
	}
}

func TestEveryWaitsTheInterval(t *testing.T) {
	// A Go timer never fires early, so three calls a full interval apart
	// take at least two intervals: a loop that does not wait fails this
	// however fast or slow the machine.
	const interval = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := make(chan time.Time, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		worker.Every(ctx, interval, func(context.Context) bool {
			calls <- time.Now()
			return false
		})
	}()
	var at [3]time.Time
	for i := range at {
		select {
		case at[i] = <-calls:
		case <-time.After(10 * time.Second):
			t.Fatalf("call %d did not come", i+1)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Every did not stop when its context ended")
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < interval {
			t.Errorf("call %d came %v after the one before, want at least the interval, %v", i+1, gap, interval)
		}
	}
}
