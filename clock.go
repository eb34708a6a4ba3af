package mfagate

import (
	"sync"
	"time"
)

// Clock tells the time. Everything that is not pure gets time from one
// injected Clock, which is also how rehearsal mode runs the server at a
// chosen date.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real wall clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// OffsetClock runs at the speed of the wall clock from a chosen starting
// point: rehearsals and tests use it to stand at another date.
type OffsetClock struct {
	Offset time.Duration
}

// NewOffsetClock returns a clock that reads at as of real time now.
func NewOffsetClock(at, now time.Time) OffsetClock { return OffsetClock{Offset: at.Sub(now)} }

// Now returns the wall clock shifted by the offset.
func (c OffsetClock) Now() time.Time { return time.Now().Add(c.Offset) }

// ManualClock is a clock that only moves when told to. Tests use it to
// cross timeouts without sleeping. It is safe for concurrent use.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a clock standing at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the time the clock stands at.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set puts the clock at t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
