package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/mail/mailtest"
	"github.com/mfagate/mfagate/worker"
)

// stopAtSend is an SMTP mailer whose process is told to stop (its context
// cancelled, as SIGTERM does) just as its sender is about to hand over
// message number at, counted from 1: after the message was held for the
// sender, before a byte of it left.
type stopAtSend struct {
	mfagate.Dialer
	stop func()
	at   int
	n    *int
}

func (s stopAtSend) Dial(ctx context.Context) (mfagate.MailConn, error) {
	c, err := s.Dialer.Dial(ctx)
	return stopAtSendConn{c, s}, err
}

type stopAtSendConn struct {
	mfagate.MailConn
	s stopAtSend
}

func (c stopAtSendConn) Send(ctx context.Context, m *mfagate.Message) error {
	if *c.s.n++; *c.s.n == c.s.at {
		c.s.stop()
	}
	return c.MailConn.Send(ctx, m)
}

// TestDeliveryStoppedBeforeSendingTriesNothing stops a worker between
// holding a message and sending it. The message was not tried: it must
// go back to the queue as it was, due at once for the next worker, not be
// counted as a failed attempt and put off for the retry delay.
func TestDeliveryStoppedBeforeSendingTriesNothing(t *testing.T) {
	store := mustStore(t, dbPath(t))
	srv := mailtest.NewServer(t)
	clock := mfagate.NewManualClock(start)
	logger, _ := newLogger(t)
	msgs := mustEnqueue(t, store, 3, start)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	n := 0
	d := &worker.Delivery{Store: store, Mailer: stopAtSend{mustMailer(t, srv), stop, 2, &n}, Clock: clock, Logger: logger}
	if sent, err := d.RunOnce(ctx); sent != 1 || err != nil {
		t.Fatalf("RunOnce told to stop at the second message: got %d, %v, want 1 sent and no error", sent, err)
	}
	byID := mustMail(t, store)
	for _, m := range msgs[1:] {
		got := byID[m.ID]
		// (Attempts counts claims, so it is 1 either way.)
		if got.Status != "pending" || got.LastError != "" || !got.NextAttemptAt.Equal(start) {
			t.Errorf("message %d after the stop: got %s, error %q, next try %v; want pending, no error and due at %v",
				m.ID, got.Status, got.LastError, got.NextAttemptAt, start)
		}
	}
	if c := d.Counts(); c.Temporary != 0 {
		t.Errorf("counted %d failed attempts, want none", c.Temporary)
	}

	// Another worker, at the same moment, sends the rest: nothing was
	// left leased or put off.
	next := &worker.Delivery{Store: store, Mailer: mustMailer(t, srv), Clock: clock, Logger: logger}
	if sent, err := next.RunOnce(context.Background()); sent != 2 || err != nil {
		t.Fatalf("the next worker: got %d, %v, want the 2 left, nil", sent, err)
	}
	if got := len(srv.Messages()); got != 3 {
		t.Fatalf("the server received %d messages, want 3", got)
	}
}

// TestPacedSenderRecordsBeforeItWaits paces the bulk sender to two
// messages a second (a batch of two, the second 500 ms after the first)
// and checks that the first message is recorded as sent while the sender
// waits for the second's slot, not at the end of the wait: a replica killed during the wait (a restart, a crash) must
// not leave a message sent but unrecorded, which another replica would
// send again once its lease ran out.
func TestPacedSenderRecordsBeforeItWaits(t *testing.T) {
	store := mustStore(t, dbPath(t))
	srv := mailtest.NewServer(t)
	logger, _ := newLogger(t)
	msgs := mustEnqueue(t, store, 2, start)
	d := &worker.Delivery{Store: store, Mailer: mustMailer(t, srv), Clock: mfagate.NewManualClock(start), Logger: logger,
		MaxPerSecond: 2}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.RunOnce(ctx)
	}()
	defer func() { stop(); <-done }()
	srv.WaitMessages(t, 1, 10*time.Second)
	deadline := time.Now().Add(250 * time.Millisecond) // half the wait for the next slot
	for mustMail(t, store)[msgs[0].ID].Status != "sent" {
		if time.Now().After(deadline) {
			t.Fatal("the first message is still not recorded as sent 250 ms after the server took it, while the sender waits 500 ms for its next slot")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("the server has %d messages, want 1: the second should wait for its slot", n)
	}
}
