package worker_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/worker"
)

// failUpdates refuses every transaction, as a database out of reach does.
type failUpdates struct{ mfagate.Store }

func (failUpdates) Update(context.Context, func(mfagate.Tx) error) error {
	return mfagate.Errorf(mfagate.EUNAVAILABLE, "The database did not answer")
}

// TestCampaignsCountTheirPasses: each pass of the rollout email job is
// counted, a failed one as failed and logged, so that an operator (and a
// test waiting for the first pass) can tell it runs.
func TestCampaignsCountTheirPasses(t *testing.T) {
	p := newCampaignPath(t, sqltest.SQLite(), 30)
	log, logs := newLogger(t)
	job := &worker.Campaigns{Accounts: p.svc, Logger: log}
	if n, err := job.Pass(context.Background()); err != nil || n != 30 {
		t.Fatalf("first pass: %d queued, %v; want the notice to 30 people", n, err)
	}
	if n, _ := job.Pass(context.Background()); n != 0 {
		t.Fatalf("second pass queued %d, want 0: everyone was reached", n)
	}
	if done, failed := job.Passes(); done != 2 || failed != 0 {
		t.Fatalf("after two good passes: %d done, %d failed", done, failed)
	}
	if !strings.Contains(logs.String(), "rollout emails queued") {
		t.Errorf("the queued notice is not logged:\n%s", logs.String())
	}

	broken, err := account.New(account.Options{Store: failUpdates{p.store}, Key: []byte("0123456789abcdef0123456789abcdef"), Rollout: p.plan})
	if err != nil {
		t.Fatal(err)
	}
	job.Accounts = broken
	if _, err := job.Pass(context.Background()); mfagate.ErrorCode(err) != mfagate.EUNAVAILABLE {
		t.Fatalf("a pass on a database out of reach: got %v, want EUNAVAILABLE", err)
	}
	if done, failed := job.Passes(); done != 3 || failed != 1 {
		t.Fatalf("after a failed pass: %d done, %d failed; want 3 and 1", done, failed)
	}
	if !strings.Contains(logs.String(), "rollout emails") || !strings.Contains(logs.String(), "did not answer") {
		t.Errorf("the failed pass is not logged with its cause:\n%s", logs.String())
	}

	// A pass cut short because the server stops is not a failure.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	job.Accounts = p.svc
	if _, err := job.Pass(ctx); err != nil && !errors.Is(err, context.Canceled) && mfagate.ErrorCode(err) != mfagate.EUNAVAILABLE {
		t.Fatalf("a pass at shutdown: %v", err)
	}
	if _, failed := job.Passes(); failed != 1 {
		t.Errorf("a pass cut short by shutdown counted as failed: %d failed", failed)
	}
}
