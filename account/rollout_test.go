package account_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/password"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/totp"
)

var (
	notifyDay   = time.Date(2027, 5, 26, 0, 0, 0, 0, time.UTC)
	optionalDay = time.Date(2027, 6, 11, 0, 0, 0, 0, time.UTC)
	emailDay    = time.Date(2027, 7, 13, 0, 0, 0, 0, time.UTC)
	allDay      = time.Date(2027, 7, 31, 0, 0, 0, 0, time.UTC)
)

// schedule is SPEC.md's four phases.
func schedule(tb testing.TB) *rollout.Rollout {
	tb.Helper()
	both := []string{mfagate.MethodEmail, mfagate.MethodTOTP}
	r := &rollout.Rollout{Location: time.UTC, Phases: []rollout.Phase{
		{Name: "Communication", Start: notifyDay, Audience: []string{"admin"}, Requirement: rollout.Notify,
			Notice: &rollout.Notice{Subject: "MFA is coming", Body: "Sign-in is getting a second step."}},
		{Name: "Optional enrollment", Start: optionalDay, Audience: []string{"admin"}, Requirement: rollout.Optional, Methods: both},
		{Name: "Email verification required", Start: emailDay, Audience: []string{"admin"}, Requirement: rollout.Required,
			Methods: both, DefaultMethod: mfagate.MethodEmail, Reminders: []time.Duration{7 * 24 * time.Hour, 24 * time.Hour}},
		{Name: "Full enforcement", Start: allDay, Audience: []string{"all"}, Requirement: rollout.Required, Methods: both,
			Reminders: []time.Duration{7 * 24 * time.Hour, 24 * time.Hour}},
	}}
	if err := r.Validate(); err != nil {
		tb.Fatal(err)
	}
	return r
}

// rolloutFixture is a fixture whose service decides by the schedule.
func rolloutFixture(tb testing.TB, store *sqlstore.DB, at time.Time) *fixture {
	tb.Helper()
	if store == nil {
		store = sqltest.SQLite().New(tb)
	}
	f := &fixture{store: store, clock: mfagate.NewManualClock(at)}
	f.svc = policyService(tb, store, f.clock, schedule(tb))
	return f
}

func policyService(tb testing.TB, store mfagate.Store, clock mfagate.Clock, plan *rollout.Rollout) *account.Service {
	tb.Helper()
	svc, err := account.New(account.Options{Store: store, Clock: clock, Password: cheap, Key: testKey, Rollout: plan,
		SiteURL: "https://login.example.com", Support: account.Contacts{Email: "help@example.com"}})
	if err != nil {
		tb.Fatal(err)
	}
	return svc
}

func TestRolloutAtSignIn(t *testing.T) {
	tests := []struct {
		name    string
		at      time.Time
		roles   []string
		factor  bool
		want    rollout.Outcome
		phase   string
		nextDay time.Time
	}{
		{"admin before any phase", notifyDay.Add(-time.Second), []string{"admin"}, false, rollout.Allow, "", time.Time{}},
		{"admin in communication", notifyDay, []string{"admin"}, false, rollout.Allow, "Communication", optionalDay},
		{"admin a second before optional", optionalDay.Add(-time.Second), []string{"admin"}, false, rollout.Allow, "Communication", optionalDay},
		{"admin in optional", optionalDay, []string{"admin"}, false, rollout.OfferEnrollment, "Optional enrollment", emailDay},
		{"user in optional", optionalDay, []string{"user"}, false, rollout.Allow, "", allDay},
		{"admin in email required", emailDay, []string{"admin"}, false, rollout.RequireEnrollment, "Email verification required", time.Time{}},
		{"user in email required", emailDay, []string{"user"}, false, rollout.Allow, "", allDay},
		{"user in full enforcement", allDay, []string{"user"}, false, rollout.RequireEnrollment, "Full enforcement", time.Time{}},
		{"admin with a factor before any phase", notifyDay.Add(-time.Hour), []string{"admin"}, true, rollout.Challenge, "", time.Time{}},
		{"user with a factor in optional", optionalDay, []string{"user"}, true, rollout.Challenge, "", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := rolloutFixture(t, nil, start)
			f.mustUser(t, "alice", pw, tt.roles...)
			if tt.factor {
				f.clock.Set(optionalDay)
				f.mustEmailFactor(t, "alice")
			}
			f.clock.Set(tt.at)
			in := f.mustSignIn(t, "alice", pw)
			if in.Next.Outcome != tt.want || in.Next.Phase != tt.phase {
				t.Fatalf("got %v in phase %q, want %v in %q", in.Next.Outcome, in.Next.Phase, tt.want, tt.phase)
			}
			if (in.Session.Stage == mfagate.StageFull) != (tt.want == rollout.Allow) {
				t.Fatalf("got stage %v for %v", in.Session.Stage, tt.want)
			}
			if !tt.nextDay.IsZero() && !tt.factor && (in.Next.NextPhase == nil || !in.Next.NextPhase.Start.Equal(tt.nextDay)) {
				t.Fatalf("got next phase %+v, want one starting %v", in.Next.NextPhase, tt.nextDay)
			}
			if tt.want == rollout.RequireEnrollment && tt.phase == "Email verification required" && in.Next.DefaultMethod != mfagate.MethodEmail {
				t.Fatalf("got default method %q, want email", in.Next.DefaultMethod)
			}
		})
	}
}

func TestRequiredPhasesCannotBeSkippedOrUndone(t *testing.T) {
	ctx := context.Background()
	f := rolloutFixture(t, nil, emailDay)
	f.mustUser(t, "ada", pw, "admin")
	in := f.mustSignIn(t, "ada", pw)
	if _, err := f.svc.SkipSetup(ctx, f.current(t, in.Token), client); mfagate.ErrorCode(err) != mfagate.EFORBIDDEN {
		t.Fatalf("skipping in a required phase: got %v, want EFORBIDDEN", err)
	}
	token := f.mustEmailFactor(t, "ada")
	cur := f.current(t, token)
	fs, _ := f.svc.Factors(ctx, cur.User.ID)
	if err := f.svc.RemoveFactor(ctx, cur, fs[0].ID, client); mfagate.ErrorCode(err) != mfagate.EFORBIDDEN {
		t.Fatalf("removing the only factor a phase requires: got %v, want EFORBIDDEN", err)
	}

	// In the optional phase skipping works, is counted, and the offer returns.
	g := rolloutFixture(t, nil, optionalDay)
	g.mustUser(t, "ada", pw, "admin")
	for i := 1; i <= 2; i++ {
		in := g.mustSignIn(t, "ada", pw)
		if in.Next.Outcome != rollout.OfferEnrollment {
			t.Fatalf("sign-in %d: got %v, want the offer", i, in.Next.Outcome)
		}
		if _, err := g.svc.SkipSetup(ctx, g.current(t, in.Token), client); err != nil {
			t.Fatal(err)
		}
	}
	if u, _ := g.svc.User(ctx, "ada"); u.Skips != 2 {
		t.Fatalf("got %d skips recorded, want 2", u.Skips)
	}
}

func TestExtensionSoftensARequiredPhase(t *testing.T) {
	ctx := context.Background()
	f := rolloutFixture(t, nil, emailDay)
	f.mustUser(t, "ada", pw, "admin")
	until := emailDay.Add(14 * 24 * time.Hour)
	if err := f.svc.Extend(ctx, account.Actor{Name: "sam"}, "ada", until, ""); mfagate.ErrorCode(err) != mfagate.EINVALID {
		t.Fatalf("without a reason: got %v, want EINVALID", err)
	}
	if err := f.svc.Extend(ctx, account.Actor{Name: "sam"}, "ada", emailDay.Add(-time.Hour), "late"); mfagate.ErrorCode(err) != mfagate.EINVALID {
		t.Fatalf("an end in the past: got %v, want EINVALID", err)
	}
	if err := f.svc.Extend(ctx, account.Actor{Name: "sam"}, "ada", until, "on parental leave"); err != nil {
		t.Fatal(err)
	}
	in := f.mustSignIn(t, "ada", pw)
	if in.Next.Outcome != rollout.OfferEnrollment || !in.Next.ExtendedUntil.Equal(until) {
		t.Fatalf("got %v until %v, want the offer until %v", in.Next.Outcome, in.Next.ExtendedUntil, until)
	}
	evs := f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditExtend})
	if len(evs) != 1 || evs[0].Reason != "on parental leave" || evs[0].Actor != "sam" {
		t.Fatalf("got %+v, want the extension audited", evs)
	}
	if subj := f.subjects(t); subj[0] != "You have more time to set up security codes" {
		t.Fatalf("got %q, want the extension email", subj[0])
	}
	f.clock.Set(until)
	if in := f.mustSignIn(t, "ada", pw); in.Next.Outcome != rollout.RequireEnrollment {
		t.Fatalf("when the extension ends: got %v, want setup required", in.Next.Outcome)
	}
}

// breakAfter is a store that fails every transaction after the first n,
// like a server that crashes in the middle of a campaign.
type breakAfter struct {
	mfagate.Store
	mu sync.Mutex
	n  int
}

var errCrash = errors.New("simulated crash")

func (b *breakAfter) Update(ctx context.Context, fn func(mfagate.Tx) error) error {
	b.mu.Lock()
	b.n--
	dead := b.n < 0
	b.mu.Unlock()
	if dead {
		return errCrash
	}
	return b.Store.Update(ctx, fn)
}

// seedPeople creates admins and users quickly, with no passwords, and
// email factors for every fifth admin.
func seedPeople(tb testing.TB, f *fixture, admins, users int) {
	tb.Helper()
	var rows []account.ImportRow
	for i := 0; i < admins; i++ {
		rows = append(rows, account.ImportRow{Line: i + 2, NewUser: account.NewUser{Username: fmt.Sprintf("admin%04d", i), Email: fmt.Sprintf("admin%04d@example.com", i), Roles: []string{"admin"}}})
	}
	for i := 0; i < users; i++ {
		rows = append(rows, account.ImportRow{Line: admins + i + 2, NewUser: account.NewUser{Username: fmt.Sprintf("user%04d", i), Email: fmt.Sprintf("user%04d@example.com", i), Roles: []string{"user"}}})
	}
	if _, err := f.svc.ImportUsers(context.Background(), account.Actor{Name: "test"}, rows); err != nil {
		tb.Fatal(err)
	}
	err := f.store.Update(context.Background(), func(tx mfagate.Tx) error {
		for i := 0; i < admins; i += 5 {
			u, err := tx.UserByUsername(fmt.Sprintf("admin%04d", i))
			if err != nil {
				return err
			}
			if err := tx.CreateFactor(&mfagate.Factor{UserID: u.ID, Method: mfagate.MethodEmail, CreatedAt: f.clock.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// campaignMail counts the campaign's messages per recipient.
func (f *fixture) campaignMail(tb testing.TB, campaign string) map[string]int {
	per := map[string]int{}
	for _, m := range f.mail(tb) {
		if m.Campaign == campaign {
			per[m.To]++
		}
	}
	return per
}

func TestCampaignsReachEachPersonOnce(t *testing.T) {
	ctx := context.Background()
	plan := schedule(t)
	f := rolloutFixture(t, nil, notifyDay.Add(time.Hour))
	seedPeople(t, f, 450, 50)

	// A crash after two batches: the rest goes out on the next run.
	crashing := policyService(t, &breakAfter{Store: f.store, n: 2}, f.clock, plan)
	n, err := crashing.RunCampaigns(ctx)
	if !errors.Is(err, errCrash) || n != 400 {
		t.Fatalf("crashing run: got %d queued, %v; want 400 then the crash", n, err)
	}
	if n, err := f.svc.RunCampaigns(ctx); err != nil || n != 50 {
		t.Fatalf("run after the crash: got %d, %v; want the remaining 50", n, err)
	}
	if n, _ := f.svc.RunCampaigns(ctx); n != 0 {
		t.Fatalf("a third run queued %d, want 0", n)
	}
	per := f.campaignMail(t, "notice/Communication")
	if len(per) != 450 {
		t.Fatalf("got the notice to %d people, want all 450 admins", len(per))
	}
	for to, c := range per {
		if c != 1 {
			t.Fatalf("%s got the notice %d times", to, c)
		}
	}
	msg := f.mail(t)[0]
	for _, want := range []string{"Sign-in is getting a second step", "https://login.example.com/help", "help@example.com"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("the notice does not say %q:\n%s", want, msg.Text)
		}
	}

	// Reminders go only to admins without a factor, a week before.
	f.clock.Set(emailDay.Add(-7 * 24 * time.Hour))
	if n, err := f.svc.RunCampaigns(ctx); err != nil || n != 360 {
		t.Fatalf("7-day reminder: got %d, %v; want 360 (admins without a factor)", n, err)
	}
	rem := f.campaignMail(t, "reminder/Email verification required/7d")
	if rem["admin0000@example.com"] != 0 || rem["admin0001@example.com"] != 1 {
		t.Fatal("the reminder went to someone with a factor, or missed someone without")
	}
	for _, m := range f.mail(t) {
		if m.Campaign == "reminder/Email verification required/7d" {
			if !strings.Contains(m.Text, "Tuesday 13 July 2027") || !strings.Contains(m.Text, "verify a code sent to your email") {
				t.Fatalf("the reminder does not name the date and what to do:\n%s", m.Text)
			}
			break
		}
	}
}

func TestCampaignsOnTwoReplicas(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, be sqltest.Backend) {
		first, second := be.Replicas(t)
		f := rolloutFixture(t, first, notifyDay.Add(time.Hour))
		seedPeople(t, f, 300, 0)
		plan := schedule(t)
		other := policyService(t, second, f.clock, plan)
		var wg sync.WaitGroup
		counts := make([]int, 2)
		errs := make([]error, 2)
		for i, svc := range []*account.Service{f.svc, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				counts[i], errs[i] = svc.RunCampaigns(context.Background())
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("errors: %v, %v", errs[0], errs[1])
		}
		per := f.campaignMail(t, "notice/Communication")
		if len(per) != 300 || counts[0]+counts[1] != 300 {
			t.Fatalf("got %d recipients, %d+%d queued; want 300 once each", len(per), counts[0], counts[1])
		}
		for to, c := range per {
			if c != 1 {
				t.Fatalf("%s got %d copies", to, c)
			}
		}
	})
}

// TestSimulationMatchesSignIns checks the operator's forecast against what
// actually happens when everyone signs in on that day.
func TestSimulationMatchesSignIns(t *testing.T) {
	ctx := context.Background()
	for _, at := range []time.Time{optionalDay, emailDay, allDay} {
		t.Run(at.Format("2006-01-02"), func(t *testing.T) {
			f := rolloutFixture(t, nil, notifyDay)
			seedPeople(t, f, 40, 25)
			hash, err := password.Hash(pw, cheap, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			err = f.store.Update(ctx, func(tx mfagate.Tx) error {
				us, err := tx.Users(mfagate.UserFilter{})
				for _, u := range us {
					if err == nil {
						u.PasswordHash = hash
						err = tx.UpdateUser(u)
					}
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			sim := rollout.NewSimulator(schedule(t), at)
			err = f.store.View(ctx, func(tx mfagate.Tx) error {
				return tx.People(func(p *mfagate.Person) error {
					sim.Add(rollout.Person{Roles: p.Roles, Methods: p.Methods}, p.SignedIn)
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			sum := sim.Summary()
			f.clock.Set(at)
			got := map[rollout.Outcome]int{}
			us, _ := f.svc.Users(ctx, mfagate.UserFilter{})
			for _, u := range us {
				got[f.mustSignIn(t, u.Username, pw).Next.Outcome]++
			}
			want := map[rollout.Outcome]int{
				rollout.Allow:             sum.ByOutcome[rollout.Allow],
				rollout.OfferEnrollment:   sum.ByOutcome[rollout.OfferEnrollment],
				rollout.RequireEnrollment: sum.ByOutcome[rollout.RequireEnrollment],
				rollout.Challenge:         sum.ByOutcome[rollout.Challenge],
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%v: %d people signing in, %d forecast", k, got[k], v)
				}
			}
			if sum.Total != 65 {
				t.Fatalf("forecast covers %d people, want 65", sum.Total)
			}
		})
	}
}

// TestRehearsalMovesOnlyTheRollout: a rehearsal decides phases at its
// chosen date, but authenticator codes, throttles and sessions keep real
// time, or a real app's codes would be refused.
func TestRehearsalMovesOnlyTheRollout(t *testing.T) {
	ctx := context.Background()
	real := mfagate.NewManualClock(optionalDay)
	rehearsed := mfagate.NewManualClock(emailDay.Add(24 * time.Hour))
	store := sqltest.SQLite().New(t)
	f := &fixture{store: store, clock: real}
	f.svc = policyService(t, store, real, schedule(t))
	f.mustUser(t, "ada", pw, "admin")
	secret, _ := f.mustTOTPFactor(t, "ada") // set up in real time
	svc, err := account.New(account.Options{Store: store, Clock: real, RolloutClock: rehearsed, Password: cheap, Key: testKey,
		Rollout: schedule(t)})
	if err != nil {
		t.Fatal(err)
	}
	real.Advance(time.Minute)
	in, err := svc.SignIn(ctx, account.SignIn{Username: "ada", Password: pw})
	if err != nil || in.Next.Phase != "Email verification required" {
		t.Fatalf("got %+v, %v; want the rehearsed phase in force", in, err)
	}
	cur, _ := svc.Authenticate(ctx, in.Token)
	if _, err := svc.Verify(ctx, cur, mfagate.MethodTOTP, totp.Code(secret, totp.Step(real.Now())), client); err != nil {
		t.Fatalf("a real app's code during a rehearsal: %v", err)
	}
}

// TestFailuresStampedInTheFutureDoNotBlock: a failure recorded by a clock
// that was ahead never makes anyone wait longer than the delay itself.
func TestFailuresStampedInTheFutureDoNotBlock(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	f.clock.Set(start.Add(14 * 24 * time.Hour))
	for i := 0; i < 3; i++ {
		f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: "wrong guess here", Client: client})
	}
	f.clock.Set(start)
	_, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: client})
	if err != nil && !strings.Contains(err.Error(), "Wait 1 second") {
		t.Fatalf("got %v, want at most the 1-second delay", err)
	}
	f.clock.Advance(time.Second)
	if _, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: client}); err != nil {
		t.Fatalf("after the delay: %v", err)
	}
}

func TestStaffAlwaysNeedMFA(t *testing.T) {
	f := rolloutFixture(t, nil, notifyDay.Add(-time.Hour)) // before any phase
	f.mustUser(t, "sam", pw, "operator", "support")
	f.mustUser(t, "uma", pw, "user")
	if in := f.mustSignIn(t, "sam", pw); in.Next.Outcome != rollout.RequireEnrollment {
		t.Fatalf("staff before any phase: got %v, want setup required", in.Next.Outcome)
	}
	if in := f.mustSignIn(t, "uma", pw); in.Next.Outcome != rollout.Allow {
		t.Fatalf("a user before any phase: got %v, want straight in", in.Next.Outcome)
	}
}

// TestRemindersSayNothingFalse: the reminders of the phase for everyone
// (31 July) tell a user "From 31 July you will need...", but an
// administrator, required since 13 July, is told what already applies,
// never that it starts on 31 July. The 7-day and 1-day reminders have
// different subjects, saying how long is left. Someone given more time
// beyond 31 July is told until when.
func TestRemindersSayNothingFalse(t *testing.T) {
	ctx := context.Background()
	f := rolloutFixture(t, nil, allDay.Add(-7*24*time.Hour))
	f.mustUser(t, "ada", "plum orchard lantern", "admin")
	f.mustUser(t, "uma", "plum orchard lantern", "user")
	f.mustUser(t, "bob", "plum orchard lantern", "user")
	if err := f.svc.Extend(ctx, account.Actor{Name: "sam", AtServer: true}, "bob", rollout.EndOfDay(allDay.AddDate(0, 0, 20), time.UTC), "On leave"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RunCampaigns(ctx); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(allDay.Add(-24 * time.Hour))
	if _, err := f.svc.RunCampaigns(ctx); err != nil {
		t.Fatal(err)
	}
	start := allDay.Format("Monday 2 January 2006")
	subjects := map[string]string{}
	for _, m := range f.mail(t) {
		if !strings.HasPrefix(m.Campaign, "reminder/Full enforcement/") {
			continue
		}
		switch m.To {
		case "uma@example.com":
			if !strings.Contains(m.Text, "From "+start+", you will need") {
				t.Errorf("the reminder to a user does not say from when:\n%s", m.Text)
			}
			if prev, ok := subjects[m.Subject]; ok {
				t.Errorf("the reminders %s and %s have the same subject %q", prev, m.Campaign, m.Subject)
			}
			subjects[m.Subject] = m.Campaign
		case "bob@example.com":
			if until := allDay.AddDate(0, 0, 20).Format("2 January 2006"); strings.Contains(m.Text, start) || !strings.Contains(m.Text, "until "+until) || !strings.Contains(m.Subject, until) {
				t.Errorf("the reminder to a user given until %s says:\n%s\n%s", until, m.Subject, m.Text)
			}
		case "ada@example.com":
			if strings.Contains(m.Text, start) || strings.Contains(m.Subject, allDay.Format("2 January")) || !strings.Contains(m.Text, "You already need") {
				t.Errorf("the reminder to an administrator, required since 13 July, says:\n%s\n%s", m.Subject, m.Text)
			}
		}
	}
	if len(subjects) != 2 {
		t.Errorf("got the user's reminders %v, want the 7-day and the 1-day one", subjects)
	}
}
