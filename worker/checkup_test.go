package worker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/worker"
)

// TestCampaignsSendCheckupReminders: the rollout email job also sends the
// check-up reminder of a new factor still unused halfway through
// mfa.checkup, with no rollout configured, once across two servers
// passing at the same moment and again later.
func TestCampaignsSendCheckupReminders(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		one, two := b.Replicas(t)
		added := time.Date(2027, 6, 3, 10, 0, 0, 0, time.UTC)
		clock := mfagate.NewManualClock(added)
		u := mustUser(t, one, "ada@example.com")
		err := one.Update(ctx, func(tx mfagate.Tx) error {
			if err := tx.CreateFactor(&mfagate.Factor{UserID: u.ID, Method: mfagate.MethodEmail,
				CreatedAt: added.Add(-30 * 24 * time.Hour), LastUsedAt: added.Add(24 * time.Hour)}); err != nil {
				return err
			}
			return tx.CreateFactor(&mfagate.Factor{UserID: u.ID, Method: mfagate.MethodTOTP, CreatedAt: added, LastUsedAt: added})
		})
		if err != nil {
			t.Fatal(err)
		}
		var jobs []*worker.Campaigns
		for _, db := range []mfagate.Store{one, two} {
			svc, err := account.New(account.Options{Store: db, Clock: clock, Key: []byte("0123456789abcdef0123456789abcdef"),
				MFA: account.MFASettings{Checkup: 10 * 24 * time.Hour}})
			if err != nil {
				t.Fatal(err)
			}
			jobs = append(jobs, &worker.Campaigns{Accounts: svc})
		}
		reminders := func() int {
			n := 0
			for _, m := range mustMail(t, one) {
				if m.To == "ada@example.com" && m.Subject == "Check your new way to sign in" {
					n++
				}
			}
			return n
		}
		for _, at := range []time.Duration{5*24*time.Hour - time.Second, 5 * 24 * time.Hour, 6 * 24 * time.Hour} {
			clock.Set(added.Add(at))
			var wg sync.WaitGroup
			for _, job := range jobs {
				wg.Go(func() {
					if _, err := job.Pass(ctx); err != nil {
						t.Errorf("pass: %v", err)
					}
				})
			}
			wg.Wait()
			want := 1
			if at < 5*24*time.Hour {
				want = 0
			}
			if got := reminders(); got != want {
				t.Fatalf("%v after the app was added: got %d reminders, want %d", at, got, want)
			}
		}
	})
}
