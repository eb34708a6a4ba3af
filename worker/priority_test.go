package worker_test

// Priorities and pacing, counted by the order in which messages reach
// the server: a security code overtakes a campaign in progress, an
// account notice overtakes the rest of it, and pacing slows campaigns but
// never codes.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/mail"
	"github.com/mfagate/mfagate/mail/mailtest"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/worker"
)

// campaignName names the test campaign's messages.
const campaignName = "rollout-test"

// enqueueCampaign queues n campaign messages (mfagate.MailCampaign) to
// c1@example.com … cn@example.com, in one transaction, due now.
func enqueueCampaign(tb testing.TB, s mfagate.Store, n int) []*mfagate.Message {
	tb.Helper()
	at := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	return enqueueEach(tb, s, n, func(i int) *mfagate.Message {
		return &mfagate.Message{To: fmt.Sprintf("c%d@example.com", i), Subject: "Set up your second factor",
			Text: "Please set up a second factor.\n", CreatedAt: at, Priority: mfagate.MailCampaign, Campaign: campaignName}
	})
}

// enqueueCodes queues n security codes (secret, expiring in ten minutes)
// to code1@example.com … in one transaction, and returns their
// Message-IDs.
func enqueueCodes(tb testing.TB, s mfagate.Store, n int) map[string]bool {
	tb.Helper()
	now := time.Now().Truncate(time.Millisecond)
	return idSet(enqueueEach(tb, s, n, func(i int) *mfagate.Message {
		return &mfagate.Message{To: fmt.Sprintf("code%d@example.com", i), Subject: "Your sign-in code",
			Text: "Your code is 123456.\n", CreatedAt: now, Priority: mfagate.MailSecurity, Secret: true,
			ExpiresAt: now.Add(10 * time.Minute)}
	}))
}

// isCampaign reports whether r is one of enqueueCampaign's messages.
func isCampaign(r mailtest.Message) bool {
	return len(r.To) == 1 && strings.HasPrefix(r.To[0], "c") && !strings.HasPrefix(r.To[0], "code")
}

// campaignsBefore counts the campaign messages among msgs[from:upto].
func campaignsBefore(msgs []mailtest.Message, from, upto int) int {
	n := 0
	for _, r := range msgs[from:upto] {
		if isCampaign(r) {
			n++
		}
	}
	return n
}

// startProductionRun runs d as the service does: every 2s, so the
// security sender polls every second when nothing wakes it.
func startProductionRun(tb testing.TB, d *worker.Delivery) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx, 2*time.Second)
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			tb.Errorf("Run did not return within 30s of its context's end")
		}
	}
	tb.Cleanup(stop)
	return stop
}

// TestPrioritySecurityCodeOvertakesCampaign: a 2,000-message campaign
// goes to a slow server (20ms a message, on each of the bulk senders'
// connections); once the server has received 100 of them, a security
// code is queued: on the one replica that runs the senders, or, with two
// replicas both running them as in production, on the second (whose
// commit wakes its own security sender). Either way the code reaches the
// server before the next 60 campaign messages do.
func TestPrioritySecurityCodeOvertakesCampaign(t *testing.T) {
	const (
		campaign = 2000
		after    = 100 // campaign messages received before the code is queued
		within   = 60  // campaign messages that may arrive before the code
	)
	for _, tt := range []struct {
		name  string
		other bool // queue the code on the other replica
	}{
		{"code queued on the sending replica", false},
		{"code queued on the second of two sending replicas", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
				one, two := b.Replicas(t)
				srv := mailtest.NewServer(t, mailtest.Delay(20*time.Millisecond))
				enqueueCampaign(t, one, campaign)
				logger, _ := newLogger(t)
				d := &worker.Delivery{Store: one, Mailer: mustMailer(t, srv), Logger: logger, Wake: one.MailQueued()}
				stop := startProductionRun(t, d)
				if tt.other {
					d2 := &worker.Delivery{Store: two, Mailer: mustMailer(t, srv), Logger: logger, Wake: two.MailQueued()}
					stop2 := startProductionRun(t, d2)
					defer stop2()
				}

				srv.WaitMessages(t, after, 60*time.Second)
				queueOn := one
				if tt.other {
					queueOn = two
				}
				seen := len(srv.Messages())
				codes := enqueueCodes(t, queueOn, 1)
				at, msgs := srv.WaitMatch(t, 30*time.Second, func(r mailtest.Message) bool { return codes[r.MessageID()] })
				stop()

				overtaken := campaignsBefore(msgs, seen, at)
				t.Logf("code queued after %d campaign messages, arrived after %d more", seen, overtaken)
				if overtaken >= within {
					t.Errorf("%d campaign messages reached the server between the code's queueing and the code, want fewer than %d", overtaken, within)
				}
			})
		})
	}
}

// TestPriorityAccountNoticeOvertakesCampaign: an account notice queued in
// the middle of a campaign waits at most for the rest of the batches the
// bulk senders have in progress, not for the campaign.
func TestPriorityAccountNoticeOvertakesCampaign(t *testing.T) {
	const batch, senders = 20, 4
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		db := b.New(t)
		srv := mailtest.NewServer(t, mailtest.Delay(10*time.Millisecond))
		enqueueCampaign(t, db, 500)
		logger, _ := newLogger(t)
		d := &worker.Delivery{Store: db, Mailer: mustMailer(t, srv), Logger: logger, Batch: batch, Senders: senders,
			Wake: db.MailQueued()}
		stop := startProductionRun(t, d)

		srv.WaitMessages(t, 30, 60*time.Second)
		seen := len(srv.Messages())
		notice := mustEnqueueTo(t, db, "notice@example.com", 0, time.Now().Add(-time.Second).Truncate(time.Millisecond))
		id := mail.MessageID(notice, fromDomain)
		at, msgs := srv.WaitMatch(t, 30*time.Second, func(r mailtest.Message) bool { return r.MessageID() == id })
		stop()

		overtaken := campaignsBefore(msgs, seen, at)
		t.Logf("notice queued after %d campaign messages, arrived after %d more", seen, overtaken)
		if overtaken > batch*senders {
			t.Errorf("%d campaign messages reached the server before the account notice, want at most a batch per sender (%d)", overtaken, batch*senders)
		}
	})
}

// TestPacingSlowsCampaignsButNeverCodes: with MaxPerSecond 20 the bulk
// sender sends a campaign message every 50ms at most; ten codes queued
// behind more than 100 paced campaign messages all arrive before the
// next 5 campaign messages do (paced too, they would need half a second,
// ten campaign slots).
func TestPacingSlowsCampaignsButNeverCodes(t *testing.T) {
	const (
		perSecond = 20
		codes     = 10
		within    = 5
	)
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		db := b.New(t)
		srv := mailtest.NewServer(t)
		enqueueCampaign(t, db, 150)
		logger, _ := newLogger(t)
		d := &worker.Delivery{Store: db, Mailer: mustMailer(t, srv), Logger: logger, MaxPerSecond: perSecond, Wake: db.MailQueued()}
		stop := startProductionRun(t, d)

		first := srv.WaitMessages(t, 11, 30*time.Second)
		seen := len(first)
		ids := enqueueCodes(t, db, codes)
		arrived := 0
		at, msgs := srv.WaitMatch(t, 30*time.Second, func(r mailtest.Message) bool {
			if ids[r.MessageID()] {
				arrived++
			}
			return arrived == codes
		})
		stop()

		// Pacing: the 11th campaign message cannot arrive sooner than ten
		// intervals after the first (slower is always allowed).
		if gap, least := first[10].Received.Sub(first[0].Received), 10*time.Second/perSecond*8/10; gap < least {
			t.Errorf("11 campaign messages arrived within %v, want at least %v at %d a second", gap, least, perSecond)
		}
		overtaken := campaignsBefore(msgs, seen, at)
		t.Logf("%d codes queued after %d campaign messages (%d still queued), all arrived after %d more", codes, seen, 150-seen, overtaken)
		if overtaken >= within {
			t.Errorf("%d campaign messages reached the server before the last of %d codes, want fewer than %d: is the security sender paced?", overtaken, codes, within)
		}
	})
}
