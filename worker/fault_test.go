package worker_test

// The fault suite: the outbox worker against a slow mail server, one that
// refuses for a while, connections that break in the middle of a message,
// a worker killed in the middle of a batch, and several workers sharing
// one database. Every test counts what reached the server, per Message-ID
// and per recipient: nothing may be lost, and a message may arrive twice
// only when the connection broke after the server accepted it and before
// its answer reached us (at most once per such break).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/mail"
	"github.com/mfagate/mfagate/mail/mailtest"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/worker"
)

// fromDomain is the domain of mustMailer's sender, which names the
// Message-IDs.
const fromDomain = "example.org"

// runInterval is how often the tests' bulk senders look for work: short,
// so that retries are not kept waiting.
const runInterval = 20 * time.Millisecond

// quickBackoff retries at once (after a millisecond).
func quickBackoff(int) time.Duration { return time.Millisecond }

// tally counts the messages the server accepted against those queued: how
// many never arrived and how many extra copies arrived, per Message-ID.
// It fails the test for a message nobody queued, and when counting per
// recipient (each queued message has its own) disagrees.
func tally(tb testing.TB, srv *mailtest.Server, queued []*mfagate.Message) (lost, duplicated int) {
	tb.Helper()
	byID, byTo := map[string]int{}, map[string]int{}
	for _, r := range srv.Messages() {
		byID[r.MessageID()]++
		for _, to := range r.To {
			byTo[to]++
		}
	}
	lostTo, dupTo := 0, 0
	for _, m := range queued {
		id := mail.MessageID(m, fromDomain)
		switch n := byID[id]; {
		case n == 0:
			lost++
			tb.Errorf("message %d (%s) never arrived", m.ID, m.To)
		case n > 1:
			duplicated += n - 1
			tb.Logf("message %d (%s) arrived %d times", m.ID, m.To, n)
		}
		delete(byID, id)
		switch n := byTo[m.To]; {
		case n == 0:
			lostTo++
		case n > 1:
			dupTo += n - 1
		}
	}
	for id, n := range byID {
		tb.Errorf("the server got %d copies of %q, which nobody queued", n, id)
	}
	if lostTo != lost || dupTo != duplicated {
		tb.Errorf("per recipient: %d lost and %d duplicated; per Message-ID: %d and %d", lostTo, dupTo, lost, duplicated)
	}
	return lost, duplicated
}

// startRun runs each Delivery's Run until the returned stop is called
// (also when the test ends); stop waits for them to return.
func startRun(tb testing.TB, ds ...*worker.Delivery) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Go(func() { d.Run(ctx, runInterval) })
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				tb.Errorf("Run did not return within 30s of its context's end")
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}

// waitSettled waits until no message of s is pending (each was sent or
// given up), polling, and fails the test after timeout.
func waitSettled(tb testing.TB, s mfagate.Store, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n := pendingCount(tb, s)
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d messages still pending after %v", n, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pendingCount counts pending messages, and fails the test for a failed
// one: in this suite nothing should be given up.
func pendingCount(tb testing.TB, s mfagate.Store) int {
	tb.Helper()
	n := 0
	for id, m := range mustMail(tb, s) {
		switch m.Status {
		case mfagate.MailPending:
			n++
		case mfagate.MailFailed:
			tb.Fatalf("message %d failed: %s", id, m.LastError)
		}
	}
	return n
}

// enqueueNow queues n account notices to p1@example.com … pn@example.com
// in one transaction, created a second ago (so they are due on the
// system clock). The transaction may take up to a minute (thousands of
// rows under the race detector).
func enqueueNow(tb testing.TB, s mfagate.Store, n int) []*mfagate.Message {
	tb.Helper()
	at := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	return enqueueEach(tb, s, n, func(i int) *mfagate.Message {
		return &mfagate.Message{To: fmt.Sprintf("p%d@example.com", i), Subject: fmt.Sprintf("Notice %d", i),
			Text: "Something happened to your account.\n", CreatedAt: at, Priority: mfagate.MailAccount}
	})
}

// newDelivery returns a Delivery for one replica, woken by its own
// security mail, with the real clock.
func newDelivery(tb testing.TB, db *sqlstore.DB, srv *mailtest.Server, lease time.Duration, batch int) *worker.Delivery {
	tb.Helper()
	logger, _ := newLogger(tb)
	return &worker.Delivery{Store: db, Mailer: mustMailer(tb, srv), Logger: logger,
		Lease: lease * timeScale, Batch: batch, Backoff: quickBackoff, Wake: db.MailQueued()}
}

// TestFaultSlowServerTwoWorkers: a server slower than half the lease, or
// than the whole lease, with two replicas sending at once. Each batch
// outlives its lease many times over, so only the per-message hold and
// the heartbeat keep the other replica from taking it over: every message
// arrives exactly once, and each is tried once only.
func TestFaultSlowServerTwoWorkers(t *testing.T) {
	for _, tt := range []struct {
		name         string
		lease, delay time.Duration
		total, batch int
	}{
		// 4 messages of 250ms: a batch takes 1s, 2.5 leases.
		{"delay over half the lease", 400 * time.Millisecond, 250 * time.Millisecond, 16, 4},
		// Each message outlasts the lease: only the heartbeat covers it.
		{"delay over the whole lease", 300 * time.Millisecond, 450 * time.Millisecond, 8, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
				one, two := b.Replicas(t)
				srv := mailtest.NewServer(t, mailtest.Delay(tt.delay*timeScale))
				queued := enqueueNow(t, one, tt.total)
				stop := startRun(t, newDelivery(t, one, srv, tt.lease, tt.batch), newDelivery(t, two, srv, tt.lease, tt.batch))
				srv.WaitMessages(t, tt.total, 60*time.Second)
				waitSettled(t, one, 30*time.Second)
				stop()

				lost, dup := tally(t, srv, queued)
				t.Logf("%d messages: %d lost, %d duplicated, %d attempts, %d connections", tt.total, lost, dup, srv.Attempts(), srv.Connections())
				if lost != 0 || dup != 0 {
					t.Errorf("got %d lost and %d duplicated, want 0 and 0", lost, dup)
				}
				if n := srv.Attempts(); n != tt.total {
					t.Errorf("the server saw %d attempts, want %d: a message was tried again", n, tt.total)
				}
			})
		})
	}
}

// TestFaultServerRefusesThenAccepts: a server that refuses every message
// (451 at the end of DATA), or every session (451 to EHLO, "server down"),
// for a while, then takes mail again. Two replicas retry with a tiny
// backoff; every message arrives exactly once in the end.
func TestFaultServerRefusesThenAccepts(t *testing.T) {
	const total = 20
	for _, tt := range []struct {
		name  string
		setup func(*mailtest.Server)
	}{
		{"451 to the first 50 messages", func(s *mailtest.Server) { s.RejectNext(50, 451) }},
		{"451 to the first 12 sessions", func(s *mailtest.Server) { s.RefuseSessions(12) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
				one, two := b.Replicas(t)
				srv := mailtest.NewServer(t)
				tt.setup(srv)
				queued := enqueueNow(t, one, total)
				stop := startRun(t, newDelivery(t, one, srv, 2*time.Second, 5), newDelivery(t, two, srv, 2*time.Second, 5))
				srv.WaitMessages(t, total, 60*time.Second)
				waitSettled(t, one, 30*time.Second)
				stop()

				lost, dup := tally(t, srv, queued)
				t.Logf("%d messages: %d lost, %d duplicated, %d attempts, %d connections", total, lost, dup, srv.Attempts(), srv.Connections())
				if lost != 0 || dup != 0 {
					t.Errorf("got %d lost and %d duplicated, want 0 and 0", lost, dup)
				}
				retried := 0
				for _, m := range mustMail(t, one) {
					if m.Attempts > 1 {
						retried++
					}
				}
				if retried == 0 {
					t.Errorf("no message was tried more than once: the refusals did not happen")
				}
			})
		})
	}
}

// TestFaultConnectionDrops: the server drops the connection at the end of
// DATA of every third message, six times: before accepting it (the
// message is not received, it must be sent again: no duplicate), after
// accepting it but before its 250 (the client cannot know: at most one
// duplicate per drop), or just after the 250 (the RSET that follows fails,
// yet the message counts as sent: no duplicate).
func TestFaultConnectionDrops(t *testing.T) {
	const total, drops = 24, 6
	for _, tt := range []struct {
		mode   mailtest.DropMode
		maxDup int
	}{
		{mailtest.DropBeforeAccept, 0},
		{mailtest.DropAfterAccept, drops},
		{mailtest.DropAfterReply, 0},
	} {
		t.Run(tt.mode.String(), func(t *testing.T) {
			sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
				one, two := b.Replicas(t)
				srv := mailtest.NewServer(t)
				srv.DropConnections(tt.mode, 3, drops)
				queued := enqueueNow(t, one, total)
				stop := startRun(t, newDelivery(t, one, srv, 2*time.Second, 5), newDelivery(t, two, srv, 2*time.Second, 5))
				srv.WaitMessages(t, total, 60*time.Second)
				waitSettled(t, one, 30*time.Second)
				stop()

				lost, dup := tally(t, srv, queued)
				dropped := srv.Dropped(tt.mode)
				t.Logf("%d messages, %d drops %s: %d lost, %d duplicated, %d attempts, %d connections",
					total, dropped, tt.mode, lost, dup, srv.Attempts(), srv.Connections())
				if dropped != drops {
					t.Errorf("the server dropped %d connections, want %d", dropped, drops)
				}
				if lost != 0 {
					t.Errorf("got %d lost, want 0", lost)
				}
				if dup > min(tt.maxDup, dropped) {
					t.Errorf("got %d duplicated after %d drops %s, want at most %d", dup, dropped, tt.mode, min(tt.maxDup, dropped))
				}
			})
		})
	}
}

// Environment of TestHelperDeliveryProcess.
const (
	helperEnv       = "MFAGATE_TEST_HELPER"
	helperDriverEnv = "MFAGATE_TEST_HELPER_DRIVER"
	helperDSNEnv    = "MFAGATE_TEST_HELPER_DSN"
	helperHostEnv   = "MFAGATE_TEST_HELPER_SMTP_HOST"
	helperPortEnv   = "MFAGATE_TEST_HELPER_SMTP_PORT"
	helperLeaseEnv  = "MFAGATE_TEST_HELPER_LEASE"
	helperBatchEnv  = "MFAGATE_TEST_HELPER_BATCH"
)

// TestHelperDeliveryProcess is not a test: TestFaultWorkerKilledMidBatch
// runs the test binary again with it, as a worker process to kill. It
// runs a Delivery on the database and mail server named by its
// environment, for at most a minute.
func TestHelperDeliveryProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "delivery" {
		t.Skip("run by TestFaultWorkerKilledMidBatch")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := sqlstore.Open(ctx, os.Getenv(helperDriverEnv), os.Getenv(helperDSNEnv))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer db.Close()
	port, _ := strconv.Atoi(os.Getenv(helperPortEnv))
	mailer, err := mail.NewSMTP(mail.SMTPConfig{Host: os.Getenv(helperHostEnv), Port: port, TLS: mail.TLSNone,
		From: "mfa@" + fromDomain, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	lease, _ := time.ParseDuration(os.Getenv(helperLeaseEnv))
	batch, _ := strconv.Atoi(os.Getenv(helperBatchEnv))
	// One bulk sender: the kill then lands in exactly one send. (Each of
	// several senders has a window of its own, one message each.)
	d := &worker.Delivery{Store: db, Mailer: mailer, Lease: lease, Batch: batch, Backoff: quickBackoff, Senders: 1,
		Wake: db.MailQueued(), Logger: newStderrLogger()}
	d.Run(ctx, runInterval)
}

// TestFaultWorkerKilledMidBatch: a worker process is killed (SIGKILL) in
// the middle of a batch, while the server holds the k-th message inside
// DATA, before answering it; a second worker on the same database takes
// over once the lease ends. When the server then refuses the held message
// (its connection is dead anyway), nothing is lost or sent twice; when it
// accepts it (the client never saw the 250), that message alone may
// arrive twice.
func TestFaultWorkerKilledMidBatch(t *testing.T) {
	const (
		total = 20
		batch = 10
		k     = 4 // the message the worker dies in
		lease = 500 * time.Millisecond
	)
	for _, tt := range []struct {
		name   string
		answer func(*mailtest.Hold)
		maxDup int
	}{
		{"held message refused after the kill", func(h *mailtest.Hold) { h.Refuse(451) }, 0},
		{"held message accepted after the kill", func(h *mailtest.Hold) { h.Accept() }, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
				dsn := b.DSN(t)
				db := b.Open(t, dsn)
				sqltest.MustMigrate(t, db)
				srv := mailtest.NewServer(t)
				hold := srv.HoldMessage(k)
				queued := enqueueNow(t, db, total)

				var output bytes.Buffer
				cmd := exec.Command(os.Args[0], "-test.run=^TestHelperDeliveryProcess$", "-test.count=1")
				cmd.Env = append(os.Environ(),
					helperEnv+"=delivery", helperDriverEnv+"="+b.Driver, helperDSNEnv+"="+dsn,
					helperHostEnv+"="+srv.Host(), helperPortEnv+"="+strconv.Itoa(srv.Port()),
					helperLeaseEnv+"="+lease.String(), helperBatchEnv+"="+strconv.Itoa(batch))
				cmd.Stdout, cmd.Stderr = &output, &output
				if err := cmd.Start(); err != nil {
					t.Fatalf("start the worker process: %v", err)
				}
				t.Cleanup(func() {
					_ = cmd.Process.Kill()
					_ = cmd.Wait()
					if t.Failed() {
						t.Logf("worker process output:\n%s", output.String())
					}
				})
				held := hold.Wait(t, 30*time.Second)
				if err := cmd.Process.Kill(); err != nil {
					t.Fatalf("kill the worker process: %v", err)
				}
				_ = cmd.Wait() // killed: its error says so
				tt.answer(hold)

				// Everything before the held message was recorded as sent
				// before the held one was tried.
				sentBefore := 0
				for _, m := range mustMail(t, db) {
					if m.Status == mfagate.MailSent {
						sentBefore++
					}
				}
				if sentBefore != k-1 {
					t.Errorf("after the kill: %d messages recorded sent, want %d", sentBefore, k-1)
				}

				second := b.Open(t, dsn)
				stop := startRun(t, newDelivery(t, second, srv, lease, batch))
				waitSettled(t, second, 30*time.Second)
				stop()

				lost, dup := tally(t, srv, queued)
				copies := 0
				for _, r := range srv.Messages() {
					if r.MessageID() == held.MessageID() {
						copies++
					}
				}
				t.Logf("%d messages, killed in message %d: %d lost, %d duplicated, the held one arrived %d times, %d attempts",
					total, k, lost, dup, copies, srv.Attempts())
				if lost != 0 || dup > tt.maxDup {
					t.Errorf("got %d lost and %d duplicated, want 0 and at most %d", lost, dup, tt.maxDup)
				}
				if copies < 1 || copies > 1+tt.maxDup {
					t.Errorf("the held message arrived %d times, want 1 to %d", copies, 1+tt.maxDup)
				}
			})
		})
	}
}

// TestFaultManyWorkersShareTheOutbox: two and three workers, each with a
// database handle of its own on one database (as separate servers), send
// 2,000 messages together: each exactly once. (400 on SQLite under the
// race detector, which makes SQLite's lock waits very long.)
func TestFaultManyWorkersShareTheOutbox(t *testing.T) {
	for _, workers := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
				total := 2000
				if raceEnabled && b.Driver == sqlstore.DriverSQLite {
					total = 400
				}
				dsn := b.DSN(t)
				var dbs []*sqlstore.DB
				for range workers {
					dbs = append(dbs, b.Open(t, dsn))
				}
				sqltest.MustMigrate(t, dbs[0])
				srv := mailtest.NewServer(t)
				queued := enqueueNow(t, dbs[0], total)
				var ds []*worker.Delivery
				for _, db := range dbs {
					ds = append(ds, newDelivery(t, db, srv, 5*time.Second, 0))
				}
				begin := time.Now()
				stop := startRun(t, ds...)
				srv.WaitMessages(t, total, 120*time.Second)
				waitSettled(t, dbs[0], 30*time.Second)
				stop()

				lost, dup := tally(t, srv, queued)
				t.Logf("%d messages by %d workers in %v: %d lost, %d duplicated, %d attempts, %d connections",
					total, workers, time.Since(begin).Round(time.Millisecond), lost, dup, srv.Attempts(), srv.Connections())
				if lost != 0 || dup != 0 {
					t.Errorf("got %d lost and %d duplicated, want 0 and 0", lost, dup)
				}
				if n := srv.Attempts(); n != total {
					t.Errorf("the server saw %d attempts, want %d", n, total)
				}
			})
		})
	}
}

// newStderrLogger logs everything to stderr, for a worker process whose
// output the test shows when it fails.
func newStderrLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestFaultStaleWorkerLeavesATakenMessageAlone: worker A's lease on a
// message runs out while the server holds it inside DATA, without a
// renewal (its heartbeat could not reach the database, or the process was
// paused: here its renewals fail and its lease is short). Worker B takes the message
// over and is sending it when A's attempt is refused (451). A records its
// failure, but the message is B's now: A must leave B's lease alone, or a
// third worker C takes the message while B sends it, and it arrives
// twice although no connection broke and no process died.
func TestFaultStaleWorkerLeavesATakenMessageAlone(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		dsn := b.DSN(t)
		dbA := b.Open(t, dsn)
		sqltest.MustMigrate(t, dbA)
		dbB, dbC := b.Open(t, dsn), b.Open(t, dsn)
		srv := mailtest.NewServer(t)
		clock := mfagate.NewManualClock(start)
		newWorker := func(db mfagate.Store, lease time.Duration) *worker.Delivery {
			logger, _ := newLogger(t)
			return &worker.Delivery{Store: db, Mailer: mustMailer(t, srv), Clock: clock, Logger: logger,
				Lease: lease, Backoff: func(int) time.Duration { return 0 }}
		}
		const shortLease = 300 * time.Millisecond
		a := newWorker(unrenewingStore{dbA}, shortLease)
		bw, c := newWorker(dbB, 0), newWorker(dbC, 0)
		queued := mustEnqueue(t, dbA, 1, start)

		type result struct {
			sent int
			err  error
		}
		run := func(d *worker.Delivery) <-chan result {
			done := make(chan result, 1)
			go func() {
				n, err := d.RunOnce(ctx)
				done <- result{n, err}
			}()
			return done
		}
		holdA := srv.HoldMessage(1)
		aDone := run(a)
		holdA.Wait(t, 10*time.Second)
		time.Sleep(shortLease + 200*time.Millisecond) // A's lease ends, unrenewed

		holdB := srv.HoldMessage(1)
		bDone := run(bw)
		holdB.Wait(t, 10*time.Second) // B holds the message and is sending it
		t.Cleanup(holdB.Accept)       // frees B if the test stops early

		holdA.Refuse(451)
		if r := <-aDone; r.sent != 0 || r.err != nil {
			t.Errorf("A: got %d, %v, want 0, nil", r.sent, r.err)
		}
		after := mustMail(t, dbA)[queued[0].ID]
		t.Logf("after A recorded its 451: status %s, claim %d, last error %q", after.Status, after.Claim, after.LastError)

		// C looks for work while B is sending: there is none.
		cSent, err := c.RunOnce(ctx)
		if err != nil {
			t.Errorf("C: %v", err)
		}
		holdB.Accept()
		if r := <-bDone; r.sent != 1 || r.err != nil {
			t.Errorf("B: got %d, %v, want 1, nil", r.sent, r.err)
		}

		lost, dup := tally(t, srv, queued)
		t.Logf("C sent %d; %d lost, %d duplicated", cSent, lost, dup)
		if cSent != 0 {
			t.Errorf("C sent %d messages while B was sending the only one, want 0", cSent)
		}
		if lost != 0 || dup != 0 {
			t.Errorf("got %d lost and %d duplicated, want 0 and 0", lost, dup)
		}
	})
}

// unrenewingStore fails every RenewMail, as a heartbeat that cannot
// reach the database would.
type unrenewingStore struct{ mfagate.Store }

func (s unrenewingStore) Update(ctx context.Context, fn func(mfagate.Tx) error) error {
	return s.Store.Update(ctx, func(tx mfagate.Tx) error { return fn(unrenewingTx{tx}) })
}

type unrenewingTx struct{ mfagate.Tx }

func (unrenewingTx) RenewMail(int64, time.Duration) (int, error) {
	return 0, errors.New("database went away")
}
