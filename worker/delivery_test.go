package worker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/mail/mailtest"
	"github.com/mfagate/mfagate/worker"
)

func TestDeliveryExactlyOnceAcrossSMTPFailure(t *testing.T) {
	ctx := context.Background()
	store := mustStore(t, dbPath(t))
	srv := mailtest.NewServer(t)
	srv.SetReject(1)
	clock := mfagate.NewManualClock(start)
	logger, logs := newLogger(t)
	d := &worker.Delivery{Store: store, Mailer: mustMailer(t, srv), Clock: clock, Logger: logger}
	m := mustEnqueue(t, store, 1, start)[0]

	// First attempt: the server refuses.
	if sent, err := d.RunOnce(ctx); sent != 0 || err != nil {
		t.Fatalf("first RunOnce: got %d, %v, want 0, nil", sent, err)
	}
	got := mustMail(t, store)[m.ID]
	if got.Status != mfagate.MailPending || got.Attempts != 1 {
		t.Errorf("after a refusal: got status %q attempts %d, want pending 1", got.Status, got.Attempts)
	}
	if want := start.Add(30 * time.Second); !got.NextAttemptAt.Equal(want) {
		t.Errorf("next attempt: got %v, want %v", got.NextAttemptAt, want)
	}
	if !strings.Contains(got.LastError, "451") {
		t.Errorf("last error: got %q, want the server's 451", got.LastError)
	}

	// Not yet due: nothing happens.
	clock.Advance(29 * time.Second)
	if sent, err := d.RunOnce(ctx); sent != 0 || err != nil {
		t.Fatalf("RunOnce before the backoff ends: got %d, %v, want 0, nil", sent, err)
	}
	if n := srv.Attempts(); n != 1 {
		t.Errorf("SMTP attempts before the backoff ends: got %d, want 1", n)
	}

	// Due again: the server accepts.
	clock.Advance(2 * time.Second)
	if sent, err := d.RunOnce(ctx); sent != 1 || err != nil {
		t.Fatalf("second RunOnce: got %d, %v, want 1, nil", sent, err)
	}
	got = mustMail(t, store)[m.ID]
	if got.Status != mfagate.MailSent || got.Attempts != 2 || !got.SentAt.Equal(clock.Now()) {
		t.Errorf("after sending: got status %q attempts %d sent at %v, want sent 2 %v",
			got.Status, got.Attempts, got.SentAt, clock.Now())
	}

	// Nothing left to send, even much later.
	clock.Advance(24 * time.Hour)
	if sent, err := d.RunOnce(ctx); sent != 0 || err != nil {
		t.Fatalf("third RunOnce: got %d, %v, want 0, nil", sent, err)
	}
	rcvd := srv.Messages()
	if len(rcvd) != 1 {
		t.Fatalf("server received %d messages, want exactly 1", len(rcvd))
	}
	if rcvd[0].To[0] != m.To || rcvd[0].Subject != m.Subject || rcvd[0].Text != m.Text {
		t.Errorf("received %q %q %q, want %q %q %q", rcvd[0].To[0], rcvd[0].Subject, rcvd[0].Text, m.To, m.Subject, m.Text)
	}
	if n := srv.Attempts(); n != 2 {
		t.Errorf("SMTP attempts: got %d, want 2", n)
	}

	out := logs.String()
	if !strings.Contains(out, fmt.Sprintf("mail_id=%d", m.ID)) || !strings.Contains(out, "attempt=1") {
		t.Errorf("logs: got %q, want the message id and attempt", out)
	}
	if strings.Contains(out, "sign-in code") || strings.Contains(out, m.Subject) {
		t.Errorf("logs: got %q, which contains the message", out)
	}
}

func TestDeliveryConcurrentWorkersSendEachMessageOnce(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	stores := []mfagate.Store{mustStore(t, path), mustStore(t, path)}
	srv := mailtest.NewServer(t)
	srv.SetReject(5) // some retries, picked up by either worker
	clock := mfagate.NewManualClock(start)
	const total = 100
	msgs := mustEnqueue(t, stores[0], total, start)

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		sent = make([]int, len(stores))
	)
	for i, store := range stores {
		logger, _ := newLogger(t)
		d := &worker.Delivery{
			Store: store, Mailer: mustMailer(t, srv), Clock: clock, Logger: logger,
			Batch:   7,
			Backoff: func(int) time.Duration { return 0 },
		}
		wg.Go(func() {
			for range 1000 {
				n, err := d.RunOnce(ctx)
				if err != nil {
					t.Errorf("worker %d: RunOnce: %v", i, err)
					return
				}
				mu.Lock()
				sent[i] += n
				mu.Unlock()
				if pending(t, store) == 0 {
					return
				}
			}
			t.Errorf("worker %d: messages still pending after 1000 runs", i)
		})
	}
	wg.Wait()

	if sent[0]+sent[1] != total {
		t.Errorf("workers reported %d + %d sent, want %d in all", sent[0], sent[1], total)
	}
	t.Logf("worker 0 sent %d, worker 1 sent %d", sent[0], sent[1])
	count := map[string]int{}
	for _, r := range srv.Messages() {
		count[r.To[0]]++
	}
	for _, m := range msgs {
		if count[m.To] != 1 {
			t.Errorf("%s received %d times, want once", m.To, count[m.To])
		}
	}
	if n := len(srv.Messages()); n != total {
		t.Errorf("server received %d messages, want %d", n, total)
	}
	for id, m := range mustMail(t, stores[1]) {
		if m.Status != mfagate.MailSent {
			t.Errorf("message %d: got status %q, want sent", id, m.Status)
		}
	}
}

// pending counts messages not yet sent or failed.
func pending(tb testing.TB, s mfagate.Store) int {
	tb.Helper()
	n := 0
	for _, m := range mustMail(tb, s) {
		if m.Status == mfagate.MailPending {
			n++
		}
	}
	return n
}

// TestDeliveryRefusedForGoodFailsAtOnce: a 5xx answer to the message is
// not tried again; the server's answer is kept, and nobody is blamed.
func TestDeliveryRefusedForGoodFailsAtOnce(t *testing.T) {
	ctx := context.Background()
	store := mustStore(t, dbPath(t))
	srv := mailtest.NewServer(t)
	srv.RejectNext(100, 554)
	clock := mfagate.NewManualClock(start)
	logger, _ := newLogger(t)
	d := &worker.Delivery{Store: store, Mailer: mustMailer(t, srv), Clock: clock, Logger: logger}
	u := mustUser(t, store, "p1@example.com")
	m := mustEnqueueTo(t, store, u.Email, u.ID, start)

	for range 3 {
		if sent, err := d.RunOnce(ctx); sent != 0 || err != nil {
			t.Fatalf("RunOnce: got %d, %v, want 0, nil", sent, err)
		}
		clock.Advance(2 * time.Hour)
	}
	got := mustMail(t, store)[m.ID]
	if got.Status != mfagate.MailFailed || got.Attempts != 1 || !strings.Contains(got.LastError, "554") {
		t.Errorf("got status %q attempts %d error %q, want failed after 1 attempt with the server's 554", got.Status, got.Attempts, got.LastError)
	}
	if n := srv.Attempts(); n != 1 {
		t.Errorf("SMTP attempts: got %d, want 1", n)
	}
	if u := mustUserByID(t, store, u.ID); !u.UnreachedAt.IsZero() {
		t.Errorf("a refused message marked the person unreached (%q): only a refused address should", u.UnreachedReason)
	}
}

// TestDeliveryRefusedAddressMarksThePersonUnreached: a 5xx answer to RCPT
// TO fails the message and marks its person, while it is still their
// address; an address they no longer have marks nobody.
func TestDeliveryRefusedAddressMarksThePersonUnreached(t *testing.T) {
	ctx := context.Background()
	store := mustStore(t, dbPath(t))
	srv := mailtest.NewServer(t)
	srv.RefuseRecipient("p1@example.com", 550)
	srv.RefuseRecipient("p2@example.com", 550)
	clock := mfagate.NewManualClock(start)
	logger, _ := newLogger(t)
	d := &worker.Delivery{Store: store, Mailer: mustMailer(t, srv), Clock: clock, Logger: logger}
	still := mustUser(t, store, "P1@example.com")
	moved := mustUser(t, store, "new@example.com")
	msgs := []*mfagate.Message{
		mustEnqueueTo(t, store, "p1@example.com", still.ID, start),
		mustEnqueueTo(t, store, "p2@example.com", moved.ID, start), // their old address
	}

	if sent, err := d.RunOnce(ctx); sent != 0 || err != nil {
		t.Fatalf("RunOnce: got %d, %v, want 0, nil", sent, err)
	}
	for _, m := range msgs {
		if got := mustMail(t, store)[m.ID]; got.Status != mfagate.MailFailed || !strings.Contains(got.LastError, "550") {
			t.Errorf("message to %s: got %q %q, want failed with the 550", m.To, got.Status, got.LastError)
		}
	}
	if u := mustUserByID(t, store, still.ID); !u.UnreachedAt.Equal(start) || !strings.Contains(u.UnreachedReason, "550") {
		t.Errorf("person at the refused address: unreached at %v (%q), want %v with the 550", u.UnreachedAt, u.UnreachedReason, start)
	}
	if u := mustUserByID(t, store, moved.ID); !u.UnreachedAt.IsZero() {
		t.Errorf("person who has moved: marked unreached (%q)", u.UnreachedReason)
	}
}

// TestDeliveryGivesUpAfterRetryFor: temporary refusals are retried until
// RetryFor has passed since the message was queued.
func TestDeliveryGivesUpAfterRetryFor(t *testing.T) {
	ctx := context.Background()
	store := mustStore(t, dbPath(t))
	srv := mailtest.NewServer(t)
	srv.RejectNext(100, 451)
	clock := mfagate.NewManualClock(start)
	logger, _ := newLogger(t)
	d := &worker.Delivery{Store: store, Mailer: mustMailer(t, srv), Clock: clock, Logger: logger, RetryFor: 2 * time.Hour}
	m := mustEnqueue(t, store, 1, start)[0]

	for i, want := range []string{mfagate.MailPending, mfagate.MailPending, mfagate.MailFailed, mfagate.MailFailed} {
		if sent, err := d.RunOnce(ctx); sent != 0 || err != nil {
			t.Fatalf("RunOnce: got %d, %v, want 0, nil", sent, err)
		}
		got := mustMail(t, store)[m.ID]
		if got.Status != want || !strings.Contains(got.LastError, "451") {
			t.Errorf("after run %d: got %q %q, want %q with the server's 451", i+1, got.Status, got.LastError, want)
		}
		if want == mfagate.MailFailed && !strings.Contains(got.LastError, "given up after trying for 2 hours") {
			t.Errorf("after run %d: error %q does not say it was given up", i+1, got.LastError)
		}
		clock.Advance(time.Hour)
	}
	if n := srv.Attempts(); n != 3 {
		t.Errorf("SMTP attempts: got %d, want 3", n)
	}
}

// TestDeliveryCodeEmailStopsWhenItsCodeExpires: a code email is not tried
// again once its code would be dead on arrival, and one still queued when
// its code expires is never sent.
func TestDeliveryCodeEmailStopsWhenItsCodeExpires(t *testing.T) {
	ctx := context.Background()
	store := mustStore(t, dbPath(t))
	srv := mailtest.NewServer(t)
	srv.RejectNext(1, 451)
	clock := mfagate.NewManualClock(start)
	logger, _ := newLogger(t)
	d := &worker.Delivery{Store: store, Mailer: mustMailer(t, srv), Clock: clock, Logger: logger}
	code := mustEnqueueCode(t, store, "code@example.com", start, start.Add(10*time.Minute))

	if sent, err := d.RunOnce(ctx); sent != 0 || err != nil { // refused for now: retry in 30s
		t.Fatalf("RunOnce: got %d, %v, want 0, nil", sent, err)
	}
	srv.RejectNext(1, 451)
	clock.Advance(9*time.Minute + 30*time.Second) // the next retry would be after the code expires
	if sent, err := d.RunOnce(ctx); sent != 0 || err != nil {
		t.Fatalf("RunOnce: got %d, %v, want 0, nil", sent, err)
	}
	if got := mustMail(t, store)[code.ID]; got.Status != mfagate.MailFailed || !strings.Contains(got.LastError, "expired") || got.Text != "" {
		t.Errorf("code email: got %q %q text %q, want failed because the code expired, and no text", got.Status, got.LastError, got.Text)
	}

	late := mustEnqueueCode(t, store, "late@example.com", clock.Now(), clock.Now().Add(time.Minute))
	clock.Advance(2 * time.Minute)
	if sent, err := d.RunOnce(ctx); sent != 0 || err != nil {
		t.Fatalf("RunOnce: got %d, %v, want 0, nil", sent, err)
	}
	if got := mustMail(t, store)[late.ID]; got.Status != mfagate.MailFailed || !strings.Contains(got.LastError, "expired") {
		t.Errorf("code email queued past its code: got %q %q, want failed because the code expired", got.Status, got.LastError)
	}
	if n := srv.Attempts(); n != 2 {
		t.Errorf("SMTP attempts: got %d, want 2 (none for the late code)", n)
	}
}

// forgetfulStore fails every MarkMailSent, as a crash between sending and
// recording would.
type forgetfulStore struct{ mfagate.Store }

func (s forgetfulStore) Update(ctx context.Context, fn func(mfagate.Tx) error) error {
	return s.Store.Update(ctx, func(tx mfagate.Tx) error { return fn(forgetfulTx{tx}) })
}

type forgetfulTx struct{ mfagate.Tx }

var errLost = errors.New("database went away")

func (forgetfulTx) MarkMailSent(int64, time.Time) error { return errLost }

func TestDeliveryUnrecordedSendWaitsForLeaseAndKeepsMessageID(t *testing.T) {
	ctx := context.Background()
	store := mustStore(t, dbPath(t))
	srv := mailtest.NewServer(t)
	clock := mfagate.NewManualClock(start)
	logger, logs := newLogger(t)
	mailer := mustMailer(t, srv)
	// Leases run on the database's clock: a short one, to see it end.
	const lease = time.Second
	forgetful := &worker.Delivery{Store: forgetfulStore{store}, Mailer: mailer, Clock: clock, Logger: logger, Lease: lease}
	d := &worker.Delivery{Store: store, Mailer: mailer, Clock: clock, Logger: logger, Lease: lease}
	mustEnqueue(t, store, 1, start)

	sent, err := forgetful.RunOnce(ctx)
	if sent != 1 || !errors.Is(err, errLost) {
		t.Fatalf("RunOnce that cannot record: got %d, %v, want 1 and the store's error", sent, err)
	}
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("logs: got %q, want an error about the unrecorded send", logs)
	}

	// Within the lease no one sends it again, even a worker whose clock
	// is far ahead.
	clock.Advance(time.Hour)
	if sent, err := d.RunOnce(ctx); sent != 0 || err != nil {
		t.Fatalf("RunOnce within the lease: got %d, %v, want 0, nil", sent, err)
	}
	// After it, it goes out again, under the same Message-ID.
	time.Sleep(lease + 100*time.Millisecond)
	if sent, err := d.RunOnce(ctx); sent != 1 || err != nil {
		t.Fatalf("RunOnce after the lease: got %d, %v, want 1, nil", sent, err)
	}
	got := srv.Messages()
	if len(got) != 2 {
		t.Fatalf("server received %d messages, want 2", len(got))
	}
	id0, id1 := got[0].Header.Get("Message-Id"), got[1].Header.Get("Message-Id")
	if id0 == "" || id0 != id1 {
		t.Errorf("Message-IDs: got %q and %q, want the same", id0, id1)
	}
}

func TestDeliveryRunDrainsFullBatchesAtOnce(t *testing.T) {
	store := mustStore(t, dbPath(t))
	srv := mailtest.NewServer(t)
	logger, _ := newLogger(t)
	clock := mfagate.NewManualClock(start)
	d := &worker.Delivery{Store: store, Mailer: mustMailer(t, srv), Clock: clock, Logger: logger, Batch: 2}
	mustEnqueue(t, store, 5, start)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		// An hour's interval: only the full-batch rule can send all five.
		d.Run(ctx, time.Hour)
	}()
	srv.WaitMessages(t, 5, 10*time.Second)
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
	if n := pending(t, store); n != 0 {
		t.Errorf("got %d pending messages, want 0", n)
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		name    string
		attempt int
		want    time.Duration
	}{
		{name: "first failure", attempt: 1, want: 30 * time.Second},
		{name: "second failure", attempt: 2, want: time.Minute},
		{name: "third failure", attempt: 3, want: 2 * time.Minute},
		{name: "seventh failure", attempt: 7, want: 32 * time.Minute},
		{name: "capped", attempt: 8, want: time.Hour},
		{name: "far beyond", attempt: 1000, want: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := worker.Backoff(tt.attempt); got != tt.want {
				t.Errorf("Backoff(%d): got %v, want %v", tt.attempt, got, tt.want)
			}
		})
	}
}
