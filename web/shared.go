package web

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/mfagate/mfagate"
)

// sharedRead runs one read of the database at a time for the routes
// anyone may ask (/readyz, /metrics): a caller that comes while a read
// runs waits for it and gets its answer, rather than starting another.
// So a crowd of clients asking takes one database connection, not one
// each: sign-ins need the others. Nothing is kept once the read ends:
// the next caller reads afresh.
type sharedRead[T any] struct {
	mu  sync.Mutex
	cur *readCall[T]
}

type readCall[T any] struct {
	done     chan struct{}
	v        T
	finished bool // read returned (rather than panicked): v is its answer
}

// do returns read's answer, from the read running now or a new one.
// read gets a context of its own, bounded by timeout, so that a caller
// who gives up does not end the read for those who wait on it.
func (s *sharedRead[T]) do(timeout time.Duration, read func(context.Context) T) T {
	s.mu.Lock()
	for s.cur != nil {
		c := s.cur
		s.mu.Unlock()
		<-c.done
		if c.finished {
			return c.v
		}
		// The read it waited on panicked: its zero answer (a nil error,
		// "ready") would be a lie, so this caller reads for itself.
		s.mu.Lock()
	}
	c := &readCall[T]{done: make(chan struct{})}
	s.cur = c
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.cur = nil
		s.mu.Unlock()
		close(c.done)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c.v = read(ctx)
	c.finished = true
	return c.v
}

// dbCheck is whether this server is ready, asked by /readyz and by the
// metrics' readiness alike: the one rule for both.
type dbCheck struct {
	store    mfagate.Store
	stopping <-chan struct{} // closed once the server is stopping; may be nil
	read     sharedRead[error]
}

// errStopping is the readiness of a server that is stopping.
var errStopping = errors.New("shutting down")

// ready is nil while this server takes new requests: errStopping once it
// is stopping (without asking the database), else whether the database
// answers.
func (c *dbCheck) ready() error {
	if isClosed(c.stopping) {
		return errStopping
	}
	return c.ping()
}

// checkTimeout bounds a check of the database, inside a balancer's
// health-check timeout and Prometheus' scrape timeout.
const checkTimeout = 2 * time.Second

func (c *dbCheck) ping() error {
	return c.read.do(checkTimeout, func(ctx context.Context) error { return c.store.Ping(ctx) })
}
