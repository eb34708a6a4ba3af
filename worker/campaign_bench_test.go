package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/mfagate/mfagate/mail/mailtest"
	"github.com/mfagate/mfagate/worker"
)

// BenchmarkCampaignDelivery sends a campaign's worth of queued emails
// through a real SMTP server on loopback, as the outbox worker does, and
// reports emails per second (SPEC target: at least 500), checking that
// each person got exactly one.
//
//	go test ./worker -run '^$' -bench CampaignDelivery -benchtime 3x
func BenchmarkCampaignDelivery(b *testing.B) {
	const n = 2000
	for b.Loop() {
		b.StopTimer()
		srv := mailtest.NewServer(b)
		store := mustStore(b, dbPath(b))
		mustEnqueue(b, store, n, time.Now().Add(-time.Minute))
		d := &worker.Delivery{Store: store, Mailer: mustMailer(b, srv), Batch: 200}
		b.StartTimer()
		start := time.Now()
		total := 0
		for total < n {
			sent, err := d.RunOnce(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if sent == 0 {
				b.Fatalf("delivery stalled after %d of %d", total, n)
			}
			total += sent
		}
		elapsed := time.Since(start)
		b.StopTimer()
		got := map[string]int{}
		for _, m := range srv.Messages() {
			for _, to := range m.To {
				got[to]++
			}
		}
		if len(got) != n {
			b.Fatalf("got mail for %d people, want %d", len(got), n)
		}
		for to, c := range got {
			if c != 1 {
				b.Fatalf("%s got %d copies", to, c)
			}
		}
		if pending(b, store) != 0 {
			b.Fatal("messages left pending")
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "emails/s")
		b.StartTimer()
	}
}
