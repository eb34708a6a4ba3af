package worker

import (
	"context"
	"time"
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
