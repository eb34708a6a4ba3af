package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/mfagate/mfagate/mail/mailtest"
	"github.com/mfagate/mfagate/worker"
)

// runUntil runs d.Run until srv has n messages, then stops it.
func runUntil(t *testing.T, d *worker.Delivery, srv *mailtest.Server, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		// An hour's interval: only the full-batch rule can send them all.
		d.Run(ctx, time.Hour)
	}()
	srv.WaitMessages(t, n, 30*time.Second)
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
}

// TestDeliverySendersShareTheQueue: several bulk senders, each on a
// connection of its own kept across its batches, send each message once.
func TestDeliverySendersShareTheQueue(t *testing.T) {
	store := mustStore(t, dbPath(t))
	srv := mailtest.NewServer(t)
	logger, _ := newLogger(t)
	const n = 300
	mustEnqueue(t, store, n, time.Now().Add(-time.Minute))
	d := &worker.Delivery{Store: store, Mailer: mustMailer(t, srv), Logger: logger, Batch: 10, Senders: 3}
	runUntil(t, d, srv, n)

	got := map[string]int{}
	for _, m := range srv.Messages() {
		for _, to := range m.To {
			got[to]++
		}
	}
	if len(got) != n || len(srv.Messages()) != n {
		t.Fatalf("got %d messages for %d addresses, want %d for %d", len(srv.Messages()), len(got), n, n)
	}
	for to, c := range got {
		if c != 1 {
			t.Fatalf("%s got %d copies, want 1", to, c)
		}
	}
	if c := srv.Connections(); c != 3 {
		t.Errorf("got %d connections, want 3: one per sender, kept across its batches", c)
	}
	if p := pending(t, store); p != 0 {
		t.Errorf("got %d pending messages, want 0", p)
	}
}

// TestDeliveryPacesAllSendersTogether: MaxPerSecond is for the bulk
// senders together, not for each.
func TestDeliveryPacesAllSendersTogether(t *testing.T) {
	store := mustStore(t, dbPath(t))
	srv := mailtest.NewServer(t)
	const n, rate = 20, 40.0
	mustEnqueue(t, store, n, time.Now().Add(-time.Minute))
	d := &worker.Delivery{Store: store, Mailer: mustMailer(t, srv), Batch: 5, Senders: 4, MaxPerSecond: rate}
	began := time.Now()
	runUntil(t, d, srv, n)
	// The first message goes at once, each of the others a 1/rate later.
	if took, least := time.Since(began), time.Duration(float64(n-1)/rate*float64(time.Second)); took < least {
		t.Fatalf("%d messages took %v at %v a second, want at least %v", n, took, rate, least)
	}
}
