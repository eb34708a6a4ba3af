package account_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

const day = 24 * time.Hour

// pacedRollout is one phase from start for everyone: required with a
// 14-day grace window, or optional with three skips and then required.
func pacedRollout(tb testing.TB, required bool) *rollout.Rollout {
	tb.Helper()
	ph := rollout.Phase{Name: "Sign-in security", Start: start, Audience: []string{rollout.Everyone},
		Requirement: rollout.Optional, Methods: []string{mfagate.MethodEmail, mfagate.MethodTOTP},
		MaxSkips: 3, Then: rollout.Required}
	if required {
		ph.Requirement, ph.MaxSkips, ph.Then, ph.Grace = rollout.Required, 0, rollout.None, 14*day
	}
	r := &rollout.Rollout{Location: time.UTC, Phases: []rollout.Phase{ph}}
	if err := r.Validate(); err != nil {
		tb.Fatal(err)
	}
	return r
}

// TestGraceWindowFromFirstSignIn: the window opens at the first sign-in
// that shows the requirement, is kept in the account, and ends to the
// second; a late joiner gets a window of their own.
func TestGraceWindowFromFirstSignIn(t *testing.T) {
	f := &fixture{store: sqltest.SQLite().New(t), clock: mfagate.NewManualClock(start)}
	f.svc = policyService(t, f.store, f.clock, pacedRollout(t, true))
	ctx := context.Background()
	f.mustUser(t, "alice", pw)

	f.clock.Advance(3 * day) // her first sign-in since the phase started
	shown := f.clock.Now()
	in := f.mustSignIn(t, "alice", pw)
	if d := in.Next; d.Outcome != rollout.OfferEnrollment || !d.Grace || !d.Deadline.Equal(shown.Add(14*day)) {
		t.Fatalf("first sign-in: got %v grace=%v until %v; want an offer until %v", d.Outcome, d.Grace, d.Deadline, shown.Add(14*day))
	}
	if got := in.User.Pace; got.Phase != "Sign-in security" || !got.ShownAt.Equal(shown) {
		t.Errorf("the account's pace: got %+v, want shown at %v", got, shown)
	}
	if _, err := f.svc.SkipSetup(ctx, f.current(t, in.Token), client); err != nil {
		t.Fatalf("skip within the window: %v", err)
	}

	// Later sign-ins do not move the window.
	f.clock.Set(shown.Add(14*day - time.Second))
	in = f.mustSignIn(t, "alice", pw)
	if d := in.Next; d.Outcome != rollout.OfferEnrollment || !d.Deadline.Equal(shown.Add(14*day)) {
		t.Errorf("a second before the end: got %v until %v", d.Outcome, d.Deadline)
	}
	f.clock.Set(shown.Add(14 * day))
	in = f.mustSignIn(t, "alice", pw)
	if d := in.Next; d.Outcome != rollout.RequireEnrollment || d.Grace {
		t.Fatalf("at the end: got %v grace=%v, want required", d.Outcome, d.Grace)
	}
	if _, err := f.svc.SkipSetup(ctx, f.current(t, in.Token), client); mfagate.ErrorCode(err) != mfagate.EFORBIDDEN {
		t.Errorf("skip after the window: got %v, want EFORBIDDEN", err)
	}

	// Bob joins a month after the start and signs in ten days later: his
	// 14 days run from then.
	f.clock.Set(start.Add(30 * day))
	f.mustUser(t, "bob", pw)
	f.clock.Set(start.Add(40 * day))
	if d := f.mustSignIn(t, "bob", pw).Next; d.Outcome != rollout.OfferEnrollment || !d.Deadline.Equal(start.Add(54*day)) {
		t.Errorf("a late joiner: got %v until %v, want an offer until %v", d.Outcome, d.Deadline, start.Add(54*day))
	}
}

// TestSkipCapHoldsAcrossReplicas: with three skips allowed, 100 skips at
// once from 100 sessions, half on each of two replicas of one database,
// let exactly three through; the next sign-in requires setup.
func TestSkipCapHoldsAcrossReplicas(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, be sqltest.Backend) {
		one, two := be.Replicas(t)
		clock := mfagate.NewManualClock(start.Add(day))
		plan := pacedRollout(t, false)
		f := &fixture{store: one, clock: clock}
		f.svc = policyService(t, one, clock, plan)
		other := policyService(t, two, clock, plan)
		ctx := context.Background()
		f.mustUser(t, "alice", pw)

		const n = 100
		sessions := make([]*account.Current, n)
		for i := range sessions {
			in := f.mustSignIn(t, "alice", pw)
			if d := in.Next; d.Outcome != rollout.OfferEnrollment || !d.Capped || d.SkipsLeft != 3 {
				t.Fatalf("sign-in %d: got %v capped=%v left=%d, want an offer with 3 skips", i, d.Outcome, d.Capped, d.SkipsLeft)
			}
			sessions[i] = f.current(t, in.Token)
		}
		var skipped, refused atomic.Int32
		var wg sync.WaitGroup
		for i, cur := range sessions {
			svc := f.svc
			if i%2 == 1 {
				svc = other
			}
			wg.Go(func() {
				_, err := svc.SkipSetup(ctx, cur, client)
				switch mfagate.ErrorCode(err) {
				case "":
					skipped.Add(1)
				case mfagate.EFORBIDDEN:
					refused.Add(1)
				default:
					t.Errorf("skip: %v", err)
				}
			})
		}
		wg.Wait()
		if skipped.Load() != 3 || refused.Load() != n-3 {
			t.Errorf("%d skips at once with 3 allowed: %d went through, %d were refused", n, skipped.Load(), refused.Load())
		}
		if d := f.mustSignIn(t, "alice", pw).Next; d.Outcome != rollout.RequireEnrollment || !d.SkipsUsed {
			t.Errorf("after the third skip: got %v skipsUsed=%v, want required", d.Outcome, d.SkipsUsed)
		}
	})
}

// TestRetirementReminders: a phase that retires email codes reminds the
// administrators it concerns, those whose only way is email included, in
// words that fit each; nobody who has an app is mailed, and nobody is
// told email codes are enough.
func TestRetirementReminders(t *testing.T) {
	appsFrom := start.Add(30 * day)
	plan := &rollout.Rollout{Location: time.UTC, Phases: []rollout.Phase{
		{Name: "Everyone", Start: start.Add(-60 * day), Audience: []string{rollout.Everyone}, Requirement: rollout.Required,
			Methods: []string{mfagate.MethodEmail, mfagate.MethodTOTP}},
		{Name: "Apps only", Start: appsFrom, Audience: []string{"admin"}, Requirement: rollout.Required,
			Methods: []string{mfagate.MethodTOTP}, Retire: []string{mfagate.MethodEmail}, Reminders: []time.Duration{7 * day}},
	}}
	if err := plan.Validate(); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: sqltest.SQLite().New(t), clock: mfagate.NewManualClock(appsFrom.Add(-7*day + time.Hour))}
	f.svc = policyService(t, f.store, f.clock, plan)
	ctx := context.Background()
	for _, p := range []struct{ name, role, method string }{
		{"alice", "admin", mfagate.MethodEmail}, {"bob", "admin", ""}, {"carol", "admin", mfagate.MethodTOTP}, {"dan", "user", mfagate.MethodEmail},
	} {
		u := f.mustUser(t, p.name, pw, p.role)
		if p.method == "" {
			continue
		}
		if err := f.store.Update(ctx, func(tx mfagate.Tx) error {
			return tx.CreateFactor(&mfagate.Factor{UserID: u.ID, Method: p.method, Secret: []byte("x"), CreatedAt: start, LastUsedAt: start})
		}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := f.svc.RunCampaigns(ctx); err != nil || n != 2 {
		t.Fatalf("reminders queued: got %d, %v; want 2 (alice and bob)", n, err)
	}
	got := map[string]*mfagate.Message{}
	for _, m := range f.mail(t) {
		if m.Campaign != "" {
			got[m.To] = m
		}
	}
	alice, bob := got["alice@example.com"], got["bob@example.com"]
	if alice == nil || bob == nil || len(got) != 2 {
		t.Fatalf("reminders went to %v, want alice and bob only", got)
	}
	if !strings.Contains(alice.Subject, "email codes will stop working for you on ") ||
		!strings.Contains(alice.Text, "email codes will no longer be accepted when you sign in to your account alice: you will need an authenticator app") {
		t.Errorf("alice, whose only way is email, got %q:\n%s", alice.Subject, alice.Text)
	}
	if !strings.HasPrefix(bob.Subject, "Reminder: set up your security codes before ") {
		t.Errorf("bob, with nothing set up, got %q", bob.Subject)
	}
	for _, m := range []*mfagate.Message{alice, bob} {
		if strings.Contains(m.Text, "by email instead: that is enough") {
			t.Errorf("%s is told email codes are enough, under a phase that retires them:\n%s", m.To, m.Text)
		}
	}
}
