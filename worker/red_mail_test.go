package worker_test

// Red-team tests of the outbox worker: attacks on the promises of
// docs/security.md "## Email", counted by what reached the server and
// what the outbox holds.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/mail/mailtest"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/worker"
)

// enqueueSecurityNotices queues n security notices (MailSecurity, no
// code in them: "your account has been locked") to n different people,
// as a password spray over n usernames makes the service do: each
// account's lock notice is coalesced per person, not across people.
func enqueueSecurityNotices(tb testing.TB, s mfagate.Store, n int) map[string]bool {
	tb.Helper()
	at := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	return idSet(enqueueEach(tb, s, n, func(i int) *mfagate.Message {
		return &mfagate.Message{To: fmt.Sprintf("locked%d@example.com", i), Subject: "Your account has been locked for a while",
			Text: "Someone entered a wrong password too many times.\n", CreatedAt: at,
			Priority: mfagate.MailSecurity, UserID: int64(999 + i)}
	}))
}

// TestRedCodeWaitsBehindSprayOfLockNotices: an attacker who knows only
// usernames sprays wrong passwords over 300 accounts; each lock emails a
// security notice (MailSecurity). A real person then asks for a sign-in
// code. The security lane is first-in first-out, so the code waits for
// every lock notice queued before it: with a server taking 5ms a message
// it is the last of 300, and with a real relay (tens of ms, thousands of
// accounts) it arrives after the code has expired. The promise is that
// security mail is handed to SMTP within about a second whatever the
// backlog; a code should wait at most for the security batch in progress.
func TestRedCodeWaitsBehindSprayOfLockNotices(t *testing.T) {
	const (
		notices = 300
		after   = 20 // notices received before the code is queued
		within  = 25 // notices that may arrive between the code's queueing and the code: about two batches
	)
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		db := b.New(t)
		srv := mailtest.NewServer(t, mailtest.Delay(5*time.Millisecond))
		spray := enqueueSecurityNotices(t, db, notices)
		logger, _ := newLogger(t)
		d := &worker.Delivery{Store: db, Mailer: mustMailer(t, srv), Logger: logger, Wake: db.MailQueued()}
		stop := startProductionRun(t, d)

		srv.WaitMessages(t, after, 30*time.Second)
		seen := len(srv.Messages())
		codes := enqueueCodes(t, db, 1)
		at, msgs := srv.WaitMatch(t, 60*time.Second, func(r mailtest.Message) bool { return codes[r.MessageID()] })
		stop()

		overtaken := 0
		for _, r := range msgs[seen:at] {
			if spray[r.MessageID()] {
				overtaken++
			}
		}
		t.Logf("code queued after %d lock notices, arrived after %d more (%d queued in all)", seen, overtaken, notices)
		if overtaken >= within {
			t.Errorf("%d lock notices reached the server between the code's queueing and the code, want fewer than %d: a spray of lock notices delays everyone's sign-in codes", overtaken, within)
		}
	})
}

// TestRedOneSlowMessageStallsSecurityMailOnEveryReplica: two replicas run
// the senders, as in production. Six codes are queued at once; the mail
// server stops in DATA of the first (a slow content scan, a tarpit: up to
// mail's timeout on a real relay, and forever here). The security sender
// that has it leased the whole batch, so the other five are held by a
// sender that is stuck, and renewed by its heartbeat; the other replica's
// security sender finds nothing to take. Nobody gets a code until the
// slow one is answered. The promise: security mail is handed to SMTP
// within about a second.
func TestRedOneSlowMessageStallsSecurityMailOnEveryReplica(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		one, two := b.Replicas(t)
		srv := mailtest.NewServer(t)
		hold := srv.HoldMessage(1)
		t.Cleanup(hold.Accept)
		codes := enqueueCodes(t, one, 6)
		logger, _ := newLogger(t)
		d1 := &worker.Delivery{Store: one, Mailer: mustMailer(t, srv), Logger: logger, Wake: one.MailQueued()}
		d2 := &worker.Delivery{Store: two, Mailer: mustMailer(t, srv), Logger: logger, Wake: two.MailQueued()}
		stop := startProductionRun(t, d1)
		stop2 := startProductionRun(t, d2)
		defer stop2()
		defer stop()

		held := hold.Wait(t, 10*time.Second)
		// Give the other replica three polls of its security sender.
		deadline := time.Now().Add(3 * time.Second)
		arrived := 0
		for time.Now().Before(deadline) && arrived < 5 {
			arrived = 0
			for _, r := range srv.Messages() {
				if codes[r.MessageID()] && r.MessageID() != held.MessageID() {
					arrived++
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		hold.Accept()
		if arrived < 5 {
			t.Errorf("while one code was stuck at the server for 3s, %d of the other 5 codes arrived, want all 5 (on the other replica if need be)", arrived)
		}
	})
}

// TestRedClockAheadSendsAMessageTwice: two replicas whose clocks differ
// by more than the lease (a VM resumed, an NTP step, a clock set by
// hand). Replica A is sending a code; the server takes its time. Replica
// B, whose clock is ahead, sees A's lease as ended, takes the code and
// sends it too. Nothing died, yet the person gets it twice: leases are
// compared with each replica's own clock. The promise: more than once
// only when a connection or process dies between the server's acceptance
// and our record, at most once per death.
func TestRedClockAheadSendsAMessageTwice(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		dbA, dbB := b.Replicas(t)
		srv := mailtest.NewServer(t)
		clockA := mfagate.NewManualClock(start)
		clockB := mfagate.NewManualClock(start.Add(worker.DefaultLease + time.Second))
		logger, _ := newLogger(t)
		a := &worker.Delivery{Store: dbA, Mailer: mustMailer(t, srv), Clock: clockA, Logger: logger}
		bw := &worker.Delivery{Store: dbB, Mailer: mustMailer(t, srv), Clock: clockB, Logger: logger}
		code := mustEnqueueCode(t, dbA, "code@example.com", start, start.Add(10*time.Minute))

		hold := srv.HoldMessage(1)
		t.Cleanup(hold.Accept)
		aDone := make(chan error, 1)
		go func() {
			_, err := a.RunOnce(ctx)
			aDone <- err
		}()
		hold.Wait(t, 10*time.Second) // A is in DATA of the code

		sentB, errB := bw.RunOnce(ctx)
		hold.Accept()
		if err := <-aDone; err != nil {
			t.Errorf("A: %v", err)
		}
		if errB != nil {
			t.Errorf("B: %v", errB)
		}
		lost, dup := tally(t, srv, []*mfagate.Message{code})
		t.Logf("B sent %d; %d lost, %d duplicated", sentB, lost, dup)
		if dup != 0 {
			t.Errorf("the code reached the server %d times without any connection or process dying, want once", dup+1)
		}
	})
}

// TestRedCodeGivenUpWhileItStillWorks: the mail server is down for seven
// and a half minutes. A code that lasts ten minutes is tried at 0s, 30s,
// 90s, 210s and 450s (the backoff doubles); after the fifth failure the
// next try would be at 930s, past the code's end, so it is failed at
// once, with 150 seconds of its life left. The server is back at 460s,
// yet the person never gets the code they are waiting for. The promise:
// a code email is given up when its code expires, not before.
func TestRedCodeGivenUpWhileItStillWorks(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		db := b.New(t)
		srv := mailtest.NewServer(t)
		clock := mfagate.NewManualClock(start)
		logger, _ := newLogger(t)
		d := &worker.Delivery{Store: db, Mailer: mustMailer(t, srv), Clock: clock, Logger: logger}
		code := mustEnqueueCode(t, db, "code@example.com", start, start.Add(10*time.Minute))

		srv.RefuseSessions(1000) // down
		for _, at := range []time.Duration{0, 30 * time.Second, 90 * time.Second, 210 * time.Second, 450 * time.Second} {
			clock.Set(start.Add(at))
			if sent, err := d.RunOnce(ctx); sent != 0 || err != nil {
				t.Fatalf("RunOnce at %v: got %d, %v, want 0, nil", at, sent, err)
			}
		}
		srv.RefuseSessions(0) // back up at 460s
		for at := 460 * time.Second; at < 10*time.Minute; at += 10 * time.Second {
			clock.Set(start.Add(at))
			if _, err := d.RunOnce(ctx); err != nil {
				t.Fatalf("RunOnce at %v: %v", at, err)
			}
		}
		got := mustMail(t, db)[code.ID]
		t.Logf("code email: %s after %d attempts: %q", got.Status, got.Attempts, got.LastError)
		if n := len(srv.Messages()); n != 1 {
			t.Errorf("the server was back 140s before the code expired and got %d copies of it, want 1 (status %s: %q)",
				n, got.Status, got.LastError)
		}
		if got.Status == mfagate.MailFailed && !strings.Contains(got.LastError, "expired") {
			t.Errorf("code email failed for another reason: %q", got.LastError)
		}
	})
}
