package web

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestSharedReadThatPanicsIsNotAnAnswer has the read a waiter shares
// panic: the waiter must not take the read's zero answer (for a ping, a
// nil error: "ready") but read for itself.
func TestSharedReadThatPanicsIsNotAnAnswer(t *testing.T) {
	var s sharedRead[error]
	down := errors.New("database down")
	started, release := make(chan struct{}), make(chan struct{})
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		s.do(time.Second, func(context.Context) error {
			close(started)
			<-release
			panic("the driver panicked")
		})
	}()
	<-started
	got := make(chan error, 1)
	go func() { got <- s.do(time.Second, func(context.Context) error { return down }) }()
	// Give the second caller time to find the first read running and
	// wait on it. (Should it come later, it reads for itself and the test
	// passes without testing much; it cannot pass wrongly.)
	time.Sleep(50 * time.Millisecond)
	close(release)
	if p := <-panicked; p == nil {
		t.Fatal("the first read's panic did not reach its caller")
	}
	if err := <-got; !errors.Is(err, down) {
		t.Fatalf("the waiter after a panicked read: got %v, want its own read's answer %v", err, down)
	}
}
