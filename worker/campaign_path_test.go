package worker_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/mail/mailtest"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/worker"
)

// campaignPath is one run of a rollout notice from the campaign to the
// mail server, as a running mfagate does it: RunCampaigns queues the
// notice for everyone in the phase's audience (as the Campaigns job does
// each minute), then Delivery.Run (as cli starts it, every 2s and at
// once again after a full batch) sends the outbox to a go-smtp server on
// 127.0.0.1.
type campaignPath struct {
	store  *sqlstore.DB
	srv    *mailtest.Server
	plan   *rollout.Rollout
	svc    *account.Service
	people int
}

// newCampaignPath creates people accounts with the role "user" on a fresh
// database of be, and a rollout whose first phase, for users, started an
// hour ago with a notice. It does not queue anything.
func newCampaignPath(tb testing.TB, be sqltest.Backend, people int) *campaignPath {
	tb.Helper()
	ctx := context.Background()
	now := time.Now()
	dsn := be.DSN(tb)
	p := &campaignPath{store: be.Open(tb, dsn), srv: mailtest.NewServer(tb), people: people}
	sqltest.MustMigrate(tb, p.store)

	// Many accounts per transaction: seeding is not what is measured.
	const perTx = 2000
	for first := 0; first < people; first += perTx {
		err := p.store.Update(ctx, func(tx mfagate.Tx) error {
			for i := first; i < min(first+perTx, people); i++ {
				u := &mfagate.User{Username: fmt.Sprintf("person%06d", i), Email: recipient(i),
					Name: fmt.Sprintf("Person %d", i), Roles: []string{"user"}, CreatedAt: now}
				if err := tx.CreateUser(u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("create people: %v", err)
		}
	}

	if be.Driver == sqlstore.DriverPostgres {
		// People are usually there well before their phase starts, and
		// autovacuum has analysed them by then; a schema filled a moment
		// ago has no statistics, and PostgreSQL then reads the whole
		// audience for each page of recipients.
		mustAnalyze(tb, dsn)
	}

	p.plan = &rollout.Rollout{Location: time.UTC, Phases: []rollout.Phase{{
		Name: "Communication", Start: now.Add(-time.Hour), Audience: []string{"user"}, Requirement: rollout.Notify,
		Notice: &rollout.Notice{Subject: "MFA is coming", Body: "Sign-in is getting a second step next month."},
	}}}
	if err := p.plan.Validate(); err != nil {
		tb.Fatal(err)
	}
	svc, err := account.New(account.Options{Store: p.store, Key: []byte("0123456789abcdef0123456789abcdef"),
		Rollout: p.plan, SiteURL: "https://login.example.com",
		Support: account.Contacts{Email: "help@example.com"}})
	if err != nil {
		tb.Fatal(err)
	}
	p.svc = svc
	return p
}

// mustAnalyze runs ANALYZE on the PostgreSQL database at dsn.
func mustAnalyze(tb testing.TB, dsn string) {
	tb.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("ANALYZE"); err != nil {
		tb.Fatalf("ANALYZE: %v", err)
	}
}

// recipient is the address of person i.
func recipient(i int) string { return fmt.Sprintf("person%06d@example.com", i) }

// enqueue runs the campaigns until a run queues nothing more, and returns
// how many emails were queued.
func (p *campaignPath) enqueue(tb testing.TB) int {
	tb.Helper()
	total := 0
	for range 10 {
		n, err := p.svc.RunCampaigns(context.Background())
		if err != nil {
			tb.Fatalf("RunCampaigns: %v", err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
	tb.Fatalf("RunCampaigns still queued mail after 10 runs (%d in all)", total)
	return total
}

// deliver runs the delivery worker until every person's email is at the
// server, or timeout passes (then tb fails), and stops it.
func (p *campaignPath) deliver(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &worker.Delivery{Store: p.store, Mailer: mustMailer(tb, p.srv)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx, 2*time.Second)
	}()
	defer func() { cancel(); <-done }()
	p.srv.WaitMessages(tb, p.people, timeout)
}

// check fails tb unless the server got exactly one email for each person,
// and the outbox holds nothing left to send.
func (p *campaignPath) check(tb testing.TB) {
	tb.Helper()
	msgs := p.srv.Messages()
	got := make(map[string]int, p.people)
	for _, m := range msgs {
		for _, to := range m.To {
			got[to]++
		}
	}
	for i := range p.people {
		if c := got[recipient(i)]; c != 1 {
			tb.Fatalf("%s got %d copies of the notice, want 1", recipient(i), c)
		}
	}
	if len(msgs) != p.people || len(got) != p.people {
		tb.Fatalf("the server got %d messages for %d addresses, want %d for %d", len(msgs), len(got), p.people, p.people)
	}
	if n := pending(tb, p.store); n != 0 {
		tb.Fatalf("%d messages left pending", n)
	}
	if m := msgs[0]; m.Subject != "MFA is coming" {
		tb.Fatalf("got subject %q, want the phase's notice", m.Subject)
	}
}

// TestCampaignPathReachesEachPersonOnce is the small version of
// BenchmarkCampaignPath, so that the benchmark's path cannot rot.
func TestCampaignPathReachesEachPersonOnce(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, be sqltest.Backend) {
		const people = 500
		p := newCampaignPath(t, be, people)
		if n := p.enqueue(t); n != people {
			t.Fatalf("RunCampaigns queued %d, want %d", n, people)
		}
		p.deliver(t, time.Minute)
		p.check(t)
	})
}

// BenchmarkCampaignPath sends a rollout notice to 20,000 people through
// the whole path (RunCampaigns, then the delivery worker to a go-smtp
// server on loopback) and reports emails per second for it all (SPEC
// target: at least 500), for queueing alone and for delivery alone. It
// fails unless each person got exactly one email.
//
//	MFAGATE_TEST_POSTGRES_DSN=postgres://... go test ./worker -run '^$' -bench CampaignPath -benchtime 1x
func BenchmarkCampaignPath(b *testing.B) {
	const people = 20000
	for _, be := range []struct {
		name string
		be   func(testing.TB) sqltest.Backend
	}{
		{"sqlite", func(testing.TB) sqltest.Backend { return sqltest.SQLite() }},
		{"postgres", sqltest.Postgres},
	} {
		b.Run(be.name, func(b *testing.B) {
			backend := be.be(b)
			var enqueue, delivery time.Duration
			runs := 0
			for b.Loop() {
				b.StopTimer()
				p := newCampaignPath(b, backend, people)
				b.StartTimer()
				t0 := time.Now()
				if n := p.enqueue(b); n != people {
					b.Fatalf("RunCampaigns queued %d, want %d", n, people)
				}
				t1 := time.Now()
				p.deliver(b, 5*time.Minute)
				t2 := time.Now()
				b.StopTimer()
				p.check(b)
				enqueue, delivery = enqueue+t1.Sub(t0), delivery+t2.Sub(t1)
				runs++
				b.StartTimer()
			}
			total := float64(people * runs)
			b.ReportMetric(total/(enqueue+delivery).Seconds(), "emails/s")
			b.ReportMetric(enqueue.Seconds()/float64(runs), "enqueue-s")
			b.ReportMetric(total/enqueue.Seconds(), "enqueued/s")
			b.ReportMetric(total/delivery.Seconds(), "delivered/s")
		})
	}
}
