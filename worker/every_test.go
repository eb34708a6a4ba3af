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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := make(chan struct{}, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		worker.Every(ctx, time.Millisecond, func(context.Context) bool {
			calls <- struct{}{}
			return false
		})
	}()
	for i := range 3 {
		select {
		case <-calls:
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
}
