package account_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// TestChooseMethod: an app added beside email codes and left unused is
// asked for first from the second it is mfa.checkup old, and once it has
// been used the most recently used method is first again.
func TestChooseMethod(t *testing.T) {
	const checkup = 28 * 24 * time.Hour
	added := time.Date(2027, 6, 3, 10, 0, 0, 0, time.UTC)
	email := func(used time.Time) *mfagate.Factor {
		return &mfagate.Factor{ID: 1, Method: mfagate.MethodEmail, CreatedAt: added.Add(-90 * 24 * time.Hour), LastUsedAt: used}
	}
	// Setup stamps LastUsedAt with CreatedAt (enroll.go): not used yet.
	app := func(used time.Time) *mfagate.Factor {
		return &mfagate.Factor{ID: 2, Method: mfagate.MethodTOTP, CreatedAt: added, LastUsedAt: used}
	}
	due := added.Add(checkup)
	tests := []struct {
		name    string
		factors []*mfagate.Factor
		allowed []string
		now     time.Time
		checkup time.Duration
		want    string
		wantDue bool
	}{
		{"a second before the window: the email codes used since", []*mfagate.Factor{email(due.Add(-2 * time.Hour)), app(added)}, nil,
			due.Add(-time.Second), checkup, mfagate.MethodEmail, false},
		{"at the window: the unused app", []*mfagate.Factor{email(due.Add(-2 * time.Hour)), app(added)}, nil,
			due, checkup, mfagate.MethodTOTP, true},
		{"long after the window: still the unused app", []*mfagate.Factor{email(due.Add(40 * 24 * time.Hour)), app(added)}, nil,
			due.Add(50 * 24 * time.Hour), checkup, mfagate.MethodTOTP, true},
		{"used once, a millisecond after setup: back to the most recently used", []*mfagate.Factor{email(due.Add(time.Hour)), app(added.Add(time.Millisecond))}, nil,
			due.Add(2 * time.Hour), checkup, mfagate.MethodEmail, false},
		{"used since: the most recently used, the app", []*mfagate.Factor{email(due.Add(time.Hour)), app(due.Add(90 * time.Minute))}, nil,
			due.Add(2 * time.Hour), checkup, mfagate.MethodTOTP, false},
		{"the check-up off", []*mfagate.Factor{email(due.Add(-2 * time.Hour)), app(added)}, nil,
			due.Add(time.Hour), -1, mfagate.MethodEmail, false},
		{"the only factor is never a check-up", []*mfagate.Factor{app(added)}, nil,
			due, checkup, mfagate.MethodTOTP, false},
		{"the phase does not count the app", []*mfagate.Factor{email(due.Add(-2 * time.Hour)), app(added)}, []string{mfagate.MethodEmail},
			due, checkup, mfagate.MethodEmail, false},
		{"the unused factor is email codes beside an app", []*mfagate.Factor{
			{ID: 1, Method: mfagate.MethodTOTP, CreatedAt: added.Add(-time.Hour), LastUsedAt: due.Add(-time.Hour)},
			{ID: 2, Method: mfagate.MethodEmail, CreatedAt: added, LastUsedAt: added}}, nil,
			due, checkup, mfagate.MethodEmail, true},
		{"no factor: a recovery code", nil, nil, due, checkup, mfagate.MethodRecovery, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, d := account.ChooseMethod(tt.factors, tt.allowed, tt.now, tt.checkup)
			if got != tt.want || (d != nil) != tt.wantDue {
				t.Errorf("got %s (due %v), want %s (due %v)", got, d != nil, tt.want, tt.wantDue)
			}
			if d != nil && d.Method != got {
				t.Errorf("due factor %s, want the method chosen, %s", d.Method, got)
			}
		})
	}
}

// TestEnrollLeavesFactorUnused confirms what the check-up relies on:
// a factor just set up counts as not used yet, and a sign-in with it
// ends that.
func TestEnrollLeavesFactorUnused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	ada, bob := f.mustUser(t, "ada", pw), f.mustUser(t, "bob", pw)
	f.mustEmailFactor(t, "ada")
	f.mustTOTPFactor(t, "bob")
	factor := func(u *mfagate.User) *mfagate.Factor {
		t.Helper()
		fs, err := f.svc.Factors(ctx, u.ID)
		if err != nil || len(fs) != 1 {
			t.Fatalf("factors of %s: %v, %v", u.Username, fs, err)
		}
		return fs[0]
	}
	for _, u := range []*mfagate.User{ada, bob} {
		if got := factor(u); !account.Unused(got) {
			t.Errorf("%s after setup: got used (created %v, last used %v), want unused", u.Username, got.CreatedAt, got.LastUsedAt)
		}
	}
	f.clock.Advance(time.Minute)
	cur := f.current(t, f.mustSignIn(t, "ada", pw).Token)
	if _, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSignIn, "", client); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(ctx, cur, mfagate.MethodEmail, f.latestCode(t), client); err != nil {
		t.Fatal(err)
	}
	if got := factor(ada); account.Unused(got) {
		t.Errorf("after signing in with it: got unused (created %v, last used %v), want used", got.CreatedAt, got.LastUsedAt)
	}
}

// TestCheckupReminderOnceOnTwoReplicas: halfway through the window, the
// person whose new app is still unused gets one reminder, however many
// servers run the job and however often.
func TestCheckupReminderOnceOnTwoReplicas(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, be sqltest.Backend) {
		ctx := context.Background()
		one, two := be.Replicas(t)
		added := time.Date(2027, 6, 3, 10, 0, 0, 0, time.UTC)
		clock := mfagate.NewManualClock(added)
		svcs := make([]*account.Service, 2)
		for i, db := range []mfagate.Store{one, two} {
			svc, err := account.New(account.Options{Store: db, Clock: clock, Password: cheap, Key: testKey,
				SiteURL: "https://signin.example.com/", Support: account.Contacts{Email: "help@example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			svcs[i] = svc
		}
		create := func(name string, factors ...mfagate.Factor) *mfagate.User {
			u, err := svcs[0].CreateUser(ctx, account.Actor{Name: "test", AtServer: true}, account.NewUser{
				Username: name, Email: name + "@example.com", Roles: []string{"user"}, Password: pw})
			if err != nil {
				t.Fatal(err)
			}
			err = one.Update(ctx, func(tx mfagate.Tx) error {
				for _, f := range factors {
					f.UserID = u.ID
					if err := tx.CreateFactor(&f); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		old := added.Add(-60 * 24 * time.Hour)
		emailUsed := mfagate.Factor{Method: mfagate.MethodEmail, CreatedAt: old, LastUsedAt: added.Add(5 * 24 * time.Hour)}
		newApp := mfagate.Factor{Method: mfagate.MethodTOTP, CreatedAt: added, LastUsedAt: added}
		create("ada", emailUsed, newApp)                                                                                        // due a reminder
		create("bob", newApp)                                                                                                   // the app alone: signing in uses it
		create("cy", emailUsed, mfagate.Factor{Method: mfagate.MethodTOTP, CreatedAt: added, LastUsedAt: added.Add(time.Hour)}) // used
		create("dee", emailUsed, mfagate.Factor{Method: mfagate.MethodTOTP, CreatedAt: added.Add(time.Minute), LastUsedAt: added.Add(time.Minute)})
		eve := create("eve", emailUsed, newApp)
		if err := svcs[0].SetDisabled(ctx, account.Actor{Name: "test", AtServer: true}, eve.Username, true, "left"); err != nil {
			t.Fatal(err)
		}
		before := len(mustMail(t, one))

		run := func() int {
			var wg sync.WaitGroup
			counts, errs := make([]int, 2), make([]error, 2)
			for i, svc := range svcs {
				wg.Go(func() { counts[i], errs[i] = svc.RunCheckups(ctx) })
			}
			wg.Wait()
			if errs[0] != nil || errs[1] != nil {
				t.Fatalf("errors: %v, %v", errs[0], errs[1])
			}
			return counts[0] + counts[1]
		}
		clock.Set(added.Add(14*24*time.Hour - time.Second))
		if n := run(); n != 0 {
			t.Fatalf("a second before halfway: got %d reminders, want 0", n)
		}
		clock.Set(added.Add(14 * 24 * time.Hour))
		if n := run(); n != 1 {
			t.Fatalf("halfway: got %d reminders, want 1 (ada's)", n)
		}
		clock.Set(added.Add(14*24*time.Hour + time.Minute)) // dee's turn
		if n := run(); n != 1 {
			t.Fatalf("a minute later: got %d reminders, want 1 (dee's)", n)
		}
		clock.Set(added.Add(20 * 24 * time.Hour))
		if n := run(); n != 0 {
			t.Fatalf("again later: got %d reminders, want 0", n)
		}

		ms := mustMail(t, one)
		ms = ms[:len(ms)-before] // newest first
		per := map[string]int{}
		for _, m := range ms {
			per[m.To]++
		}
		if len(ms) != 2 || per["ada@example.com"] != 1 || per["dee@example.com"] != 1 {
			t.Fatalf("got %v, want one reminder each to ada and dee", per)
		}
		m := ms[1] // ada's
		if m.To != "ada@example.com" || m.Subject != "Check your new way to sign in" || m.Priority != mfagate.MailAccount || m.Campaign != "" {
			t.Errorf("got %s %q priority %d campaign %q, want ada's reminder as an account notice outside campaigns", m.To, m.Subject, m.Priority, m.Campaign)
		}
		for _, want := range []string{
			"On 3 June 2027 you set up an authenticator app to sign in, but you have not used it yet.",
			"choose it instead of email codes and enter a code from it",
			"From 1 July 2027 you will be asked for it first; email codes will stay one click away.",
			"Questions are answered at https://signin.example.com/help\n",
			"help@example.com",
		} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("reminder: got\n%s\nwant it to contain %q", m.Text, want)
			}
		}
		if links := strings.Count(m.Text, "https://"); links != 1 {
			t.Errorf("reminder: got %d links, want only the help page's", links)
		}
	})
}

// TestCheckupOff: with mfa.checkup 0 (-1 in the settings) no reminder
// goes out.
func TestCheckupOff(t *testing.T) {
	ctx := context.Background()
	db := sqltest.SQLite().New(t)
	added := time.Date(2027, 6, 3, 10, 0, 0, 0, time.UTC)
	clock := mfagate.NewManualClock(added)
	svc, err := account.New(account.Options{Store: db, Clock: clock, Password: cheap, Key: testKey, MFA: account.MFASettings{Checkup: -1}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, account.Actor{Name: "test", AtServer: true}, account.NewUser{
		Username: "ada", Email: "ada@example.com", Roles: []string{"user"}, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(ctx, func(tx mfagate.Tx) error {
		if err := tx.CreateFactor(&mfagate.Factor{UserID: u.ID, Method: mfagate.MethodEmail, CreatedAt: added.Add(-time.Hour), LastUsedAt: added.Add(time.Hour)}); err != nil {
			return err
		}
		return tx.CreateFactor(&mfagate.Factor{UserID: u.ID, Method: mfagate.MethodTOTP, CreatedAt: added, LastUsedAt: added})
	})
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(added.Add(20 * 24 * time.Hour))
	if n, err := svc.RunCheckups(ctx); n != 0 || err != nil {
		t.Fatalf("got %d, %v; want 0, nil", n, err)
	}
	if svc.Checkup() != 0 {
		t.Errorf("Checkup: got %v, want 0", svc.Checkup())
	}
}

func mustMail(tb testing.TB, store mfagate.Store) []*mfagate.Message {
	tb.Helper()
	var ms []*mfagate.Message
	err := store.View(context.Background(), func(tx mfagate.Tx) (err error) {
		ms, err = tx.Mail(0)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return ms
}
