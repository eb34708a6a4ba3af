package worker_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/worker"
)

func TestRetentionRemovesOnlyStaleSessions(t *testing.T) {
	now := start
	// Each session's hash is its name.
	sessions := []struct {
		name     string
		created  time.Duration // before now
		lastSeen time.Duration // before now
	}{
		{name: "fresh", created: time.Hour, lastSeen: time.Minute},
		{name: "idle", created: 2 * time.Hour, lastSeen: 31 * time.Minute},
		{name: "old", created: 13 * time.Hour, lastSeen: time.Minute},
	}
	tests := []struct {
		name        string
		idle        time.Duration
		maxAge      time.Duration
		wantDeleted int
		wantLeft    []string
	}{
		{name: "both limits", idle: 30 * time.Minute, maxAge: 12 * time.Hour, wantDeleted: 2, wantLeft: []string{"fresh"}},
		{name: "idle only", idle: 30 * time.Minute, wantDeleted: 1, wantLeft: []string{"fresh", "old"}},
		{name: "max age only", maxAge: 12 * time.Hour, wantDeleted: 1, wantLeft: []string{"fresh", "idle"}},
		{name: "no limits", wantDeleted: 0, wantLeft: []string{"fresh", "idle", "old"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			store := mustStore(t, dbPath(t))
			var userID int64
			err := store.Update(ctx, func(tx mfagate.Tx) error {
				u := &mfagate.User{Username: "alice", Email: "alice@example.com", CreatedAt: now.Add(-24 * time.Hour)}
				if err := tx.CreateUser(u); err != nil {
					return err
				}
				userID = u.ID
				for _, s := range sessions {
					err := tx.CreateSession(&mfagate.Session{
						Hash: []byte(s.name), UserID: u.ID, Stage: mfagate.StageFull,
						CreatedAt: now.Add(-s.created), LastSeenAt: now.Add(-s.lastSeen),
					})
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatalf("set up: %v", err)
			}

			r := &worker.Retention{Store: store, Clock: mfagate.NewManualClock(now), SessionIdle: tt.idle, SessionMaxAge: tt.maxAge}
			out, err := r.RunOnce(ctx)
			if err != nil || out.Sessions != tt.wantDeleted {
				t.Fatalf("RunOnce: got %d sessions removed, %v, want %d, nil", out.Sessions, err, tt.wantDeleted)
			}

			var left []string
			err = store.View(ctx, func(tx mfagate.Tx) error {
				ss, err := tx.UserSessions(userID)
				for _, s := range ss {
					left = append(left, string(s.Hash))
				}
				return err
			})
			if err != nil {
				t.Fatalf("list sessions: %v", err)
			}
			slices.Sort(left)
			if !slices.Equal(left, tt.wantLeft) {
				t.Errorf("sessions left: got %q, want %q", left, tt.wantLeft)
			}
		})
	}
}

// TestRetentionKeepsNothingSecret runs the job over a day of leftovers on
// a manual clock: what is no longer needed goes, what is still needed
// stays, and no code survives in the outbox.
func TestRetentionKeepsNothingSecret(t *testing.T) {
	ctx := context.Background()
	store := mustStore(t, dbPath(t))
	clock := mfagate.NewManualClock(start)
	var alice *mfagate.User
	update := func(fn func(tx mfagate.Tx) error) {
		t.Helper()
		if err := store.Update(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	code := func(session string, at time.Time) *mfagate.EmailCode {
		return &mfagate.EmailCode{UserID: alice.ID, SessionHash: []byte(session), Purpose: mfagate.PurposeSignIn,
			Address: "alice@example.com", Hash: []byte("h" + session), CreatedAt: at, ExpiresAt: at.Add(10 * time.Minute)}
	}
	var delivered, stuck, young, campaign, recentPlain *mfagate.Message
	update(func(tx mfagate.Tx) error {
		alice = &mfagate.User{Username: "alice", Email: "alice@example.com", CreatedAt: start}
		if err := tx.CreateUser(alice); err != nil {
			return err
		}
		for _, c := range []*mfagate.EmailCode{code("old", start), code("recent", start.Add(30*time.Hour+30*time.Minute))} {
			if err := tx.CreateEmailCode(c); err != nil {
				return err
			}
		}
		for _, th := range []*mfagate.Throttle{
			{Key: "user:idle", Failures: 4, LastFailureAt: start},
			{Key: "user:hard", Failures: 50, LastFailureAt: start, HardLocked: true},
			{Key: "addr:192.0.2.1", Failures: 25, LastFailureAt: start.Add(30 * time.Hour)},
		} {
			if err := tx.SaveThrottle(th); err != nil {
				return err
			}
		}
		secret := func(at time.Time) *mfagate.Message {
			return &mfagate.Message{To: "alice@example.com", Subject: "Your security code", Text: "Your security code is: 123456", CreatedAt: at, Secret: true}
		}
		delivered, stuck, young = secret(start), secret(start), secret(start.Add(31*time.Hour-5*time.Minute))
		campaign = &mfagate.Message{To: "alice@example.com", Subject: "MFA is coming", Text: "…", CreatedAt: start, Campaign: "notice-1"}
		recentPlain = &mfagate.Message{To: "alice@example.com", Subject: "Hello", Text: "…", CreatedAt: start.Add(30 * time.Hour)}
		for _, m := range []*mfagate.Message{delivered, stuck, young, campaign, recentPlain} {
			if err := tx.EnqueueMail(m); err != nil {
				return err
			}
		}
		return nil
	})
	update(func(tx mfagate.Tx) error {
		for _, m := range []*mfagate.Message{delivered, campaign} {
			if err := tx.MarkMailSent(m.ID, start.Add(time.Second)); err != nil {
				return err
			}
		}
		return nil
	})
	clock.Set(start.Add(31 * time.Hour))
	r := &worker.Retention{Store: store, Clock: clock, SentMail: 24 * time.Hour}
	out, err := r.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := worker.Removed{EmailCodes: 1, Throttles: 1, ExpiredCodeMail: 1, OldMail: 3}
	if out != want {
		t.Errorf("removed: got %+v, want %+v", out, want)
	}
	var (
		ms    []*mfagate.Message
		stats []mfagate.CampaignStat
		since int
		keys  = map[string]int{}
	)
	if err := store.View(ctx, func(tx mfagate.Tx) (err error) {
		if ms, err = tx.Mail(0); err != nil {
			return err
		}
		if stats, err = tx.CampaignStats(); err != nil {
			return err
		}
		for _, k := range []string{"user:idle", "user:hard", "addr:192.0.2.1"} {
			th, err := tx.Throttle(k)
			if err != nil {
				return err
			}
			keys[k] = th.Failures
		}
		since, err = tx.EmailCodesSince(alice.ID, start)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].ID != recentPlain.ID || ms[1].ID != young.ID { // newest ID first
		t.Fatalf("outbox left: got %d messages, want the recent plain one and the young code email", len(ms))
	}
	if ms[1].Text == "" || ms[1].Status != mfagate.MailPending {
		t.Errorf("a code email still in its code's lifetime: got %q, %s; want it pending, whole", ms[1].Text, ms[1].Status)
	}
	if want := map[string]int{"user:idle": 0, "user:hard": 50, "addr:192.0.2.1": 25}; !maps.Equal(keys, want) {
		t.Errorf("throttles left: got %v, want %v", keys, want)
	}
	if since != 1 {
		t.Errorf("email codes left: got %d, want the recent one", since)
	}
	if len(stats) != 1 || stats[0].Sent != 1 {
		t.Errorf("campaign counts: got %+v, want the deleted message still counted as sent", stats)
	}
	// A second run finds nothing more.
	if out, err := r.RunOnce(ctx); err != nil || out != (worker.Removed{}) {
		t.Errorf("second run: got %+v, %v, want nothing", out, err)
	}
}

// TestScheduledWorkRunsOncePerTurn: two replicas wake for the same turn
// of a job; one runs it. The next turn comes an interval later.
func TestScheduledWorkRunsOncePerTurn(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	one, two := mustStore(t, path), mustStore(t, path)
	clock := mfagate.NewManualClock(start)
	claims := func() int {
		n := 0
		for _, s := range []mfagate.Store{one, two, one, two} {
			ok, err := worker.Claim(ctx, s, clock, "retention", 5*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				n++
			}
		}
		return n
	}
	if n := claims(); n != 1 {
		t.Fatalf("first turn: %d replicas ran it, want 1", n)
	}
	clock.Advance(time.Minute)
	if n := claims(); n != 0 {
		t.Fatalf("a minute later: %d ran it, want none", n)
	}
	clock.Advance(4 * time.Minute)
	if n := claims(); n != 1 {
		t.Fatalf("the next turn: %d ran it, want 1", n)
	}
}
