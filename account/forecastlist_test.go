package account_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// seedOrganisation seeds n people straight into a fresh database (no
// password hashing: sqltest.SeedPeople), then gives every 13th an address
// a mail server refused, takes their factor from every other support
// member, and gives every 29th an extension to 15 August 2027,
// behind the store's back, and recounts the groups as an upgrade would.
func seedOrganisation(tb testing.TB, be sqltest.Backend, n int) *sqlstore.DB {
	tb.Helper()
	dsn := be.DSN(tb)
	db := be.Open(tb, dsn)
	sqltest.MustMigrate(tb, db)
	sqltest.SeedPeople(tb, be, dsn, db, n)
	driver, mark := "sqlite", "?"
	if be.Driver == sqlstore.DriverPostgres {
		driver, mark = "pgx", "$1"
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	until := time.Date(2027, 8, 16, 0, 0, 0, 0, time.UTC).UnixMilli()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE users SET unreached_at = ` + mark + `, unreached_reason = 'no such mailbox' WHERE id % 13 = 0`, []any{until - 90*86_400_000}},
		{`DELETE FROM factors WHERE user_id % 100 = 50`, nil}, // support members with nothing set up
		{`UPDATE users SET extended_until = ` + mark + `, extension_reason = 'on leave' WHERE id % 29 = 0`, []any{until}},
	} {
		if _, err := raw.Exec(q.sql, q.args...); err != nil {
			tb.Fatal(err)
		}
	}
	if err := db.Update(context.Background(), func(tx mfagate.Tx) error {
		_, err := tx.RecountGroups(true)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	return db
}

// TestForecastPeopleIsSignInsDecision: for each person of a seeded
// organisation, at three dates, the forecast list holds them exactly when
// sign-in's own decision (DecideAt) would make them set up or offer it,
// with that decision; its numbers are the forecast's counts, and its
// pages put together are the whole list.
func TestForecastPeopleIsSignInsDecision(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, be sqltest.Backend) {
		ctx := context.Background()
		db := seedOrganisation(t, be, 1200)
		f := rolloutFixture(t, db, optionalDay.Add(-time.Hour))
		for _, at := range []time.Time{optionalDay.Add(time.Hour), emailDay.Add(time.Hour), allDay.Add(time.Hour)} {
			list, more, err := f.svc.ForecastPeople(ctx, at, 0, 0)
			if err != nil || more {
				t.Fatalf("ForecastPeople at %v: more %v, %v", at, more, err)
			}
			listed := map[int64]account.ForecastEntry{}
			for _, e := range list {
				listed[e.User.ID] = e
			}
			var want, forced, offered, extended, staff int
			type person struct {
				u       *mfagate.User
				factors []*mfagate.Factor
			}
			var people []person
			err = db.View(ctx, func(tx mfagate.Tx) error {
				users, err := tx.Users(mfagate.UserFilter{})
				if err != nil {
					return err
				}
				for _, u := range users {
					factors, err := tx.UserFactors(u.ID)
					if err != nil {
						return err
					}
					people = append(people, person{u, factors})
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(people) != 1200 {
				t.Fatalf("read %d people, want 1200", len(people))
			}
			for _, p := range people {
				u := p.u
				d := f.svc.DecideAt(u, p.factors, at)
				e, ok := listed[u.ID]
				should := !u.Disabled && (d.Outcome == rollout.RequireEnrollment || d.Outcome == rollout.OfferEnrollment)
				if ok != should {
					t.Errorf("%s at %v: listed %v, but sign-in decides %v (disabled %v)", u.Username, at, ok, d.Outcome, u.Disabled)
					continue
				}
				if !ok {
					continue
				}
				want++
				if e.Decision.Outcome != d.Outcome || !e.Decision.OwnDeadline().Equal(d.OwnDeadline()) || e.Decision.Staff != d.Staff {
					t.Errorf("%s at %v: listed %+v, sign-in decides %+v", u.Username, at, e.Decision, d)
				}
				if e.Why == "" || strings.Contains(e.Why, "_enrollment") {
					t.Errorf("%s at %v: why %q", u.Username, at, e.Why)
				}
				if e.Forced() {
					forced++
				} else {
					offered++
				}
				if !d.ExtendedUntil.IsZero() {
					extended++
				}
				if d.Staff {
					staff++
				}
			}
			if len(list) != want {
				t.Errorf("at %v: listed %d, want %d", at, len(list), want)
			}
			sum, err := f.svc.Forecast(ctx, at)
			if err != nil {
				t.Fatal(err)
			}
			if forced != sum.ByOutcome[rollout.RequireEnrollment] || offered != sum.ByOutcome[rollout.OfferEnrollment] {
				t.Errorf("at %v: listed %d forced and %d offered, the forecast counts %d and %d", at, forced, offered,
					sum.ByOutcome[rollout.RequireEnrollment], sum.ByOutcome[rollout.OfferEnrollment])
			}
			t.Logf("at %v: %d forced, %d offered, %d with more time, %d by the staff rule", at, forced, offered, extended, staff)
			if at.Before(allDay) && staff == 0 || at.After(emailDay) && extended == 0 {
				t.Errorf("at %v: the population has nobody extended (%d) or held by the staff rule (%d)", at, extended, staff)
			}

			// Pages of 97, put together, are the list.
			var paged []account.ForecastEntry
			for after := int64(0); ; {
				page, more, err := f.svc.ForecastPeople(ctx, at, after, 97)
				if err != nil {
					t.Fatal(err)
				}
				paged = append(paged, page...)
				if !more {
					break
				}
				if len(page) != 97 {
					t.Fatalf("a page with more after it holds %d, want 97", len(page))
				}
				after = page[len(page)-1].User.ID
			}
			if len(paged) != len(list) {
				t.Fatalf("at %v: pages hold %d, the list %d", at, len(paged), len(list))
			}
			for i := range paged {
				if paged[i].User.ID != list[i].User.ID {
					t.Fatalf("at %v: page entry %d is %s, the list's %s", at, i, paged[i].User.Username, list[i].User.Username)
				}
			}
		}
	})
}

// TestStaffExtensionIsNoDeadline: an extension softens the schedule,
// never the rule that operators and support need a second factor. A
// support member given more time must set up now: sign-in's decision
// carries no extension (which the setup page and banner would show as
// more time), and the forecast list gives no deadline and says why.
func TestStaffExtensionIsNoDeadline(t *testing.T) {
	ctx := context.Background()
	f := rolloutFixture(t, nil, emailDay.Add(-48*time.Hour))
	sam := f.mustUser(t, "sam", pw, "support", "admin")
	ada := f.mustUser(t, "ada", pw, "admin")
	until := time.Date(2027, 8, 16, 0, 0, 0, 0, time.UTC)
	for _, name := range []string{"sam", "ada"} {
		if err := f.svc.Extend(ctx, account.Actor{Name: "test", AtServer: true}, name, until, "on leave"); err != nil {
			t.Fatal(err)
		}
	}
	at := emailDay.Add(time.Hour)
	sam, ada = mustGet(t, f, sam.Username), mustGet(t, f, ada.Username)
	if d := f.svc.DecideAt(sam, nil, at); d.Outcome != rollout.RequireEnrollment || !d.ExtendedUntil.IsZero() || !d.Staff {
		t.Errorf("sign-in for sam: %v until %v, staff %v; want required, no extension, by the staff rule", d.Outcome, d.ExtendedUntil, d.Staff)
	}
	if d := f.svc.DecideAt(ada, nil, at); d.Outcome != rollout.OfferEnrollment || !d.ExtendedUntil.Equal(until) {
		t.Errorf("sign-in for ada: %v until %v; want offered until %v", d.Outcome, d.ExtendedUntil, until)
	}
	list, _, err := f.svc.ForecastPeople(ctx, at, 0, 0)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %d, %v; want sam and ada", len(list), err)
	}
	for _, e := range list {
		switch e.User.Username {
		case "sam":
			if !e.Forced() || !e.Decision.OwnDeadline().IsZero() || !strings.Contains(e.Why, "Operators and support") {
				t.Errorf("sam: forced %v, deadline %v, why %q", e.Forced(), e.Decision.OwnDeadline(), e.Why)
			}
		case "ada":
			if e.Forced() || !e.Decision.OwnDeadline().Equal(until) || !strings.Contains(e.Why, "more time") {
				t.Errorf("ada: forced %v, deadline %v, why %q", e.Forced(), e.Decision.OwnDeadline(), e.Why)
			}
		}
	}
	sim, err := f.svc.Simulate(ctx, "sam", at)
	if err != nil || sim.Decision.Outcome != rollout.RequireEnrollment || sim.Decision.Extended || !sim.Staff {
		t.Errorf("Simulate sam: %+v, %v", sim.Decision, err)
	}
}

// TestPhaseForecastsCountEveryUpcomingPhase: on the day of the notice,
// the dashboard's next phase (optional) forces nobody, but each later
// phase is counted, as deciding every person at its start would.
func TestPhaseForecastsCountEveryUpcomingPhase(t *testing.T) {
	ctx := context.Background()
	f := rolloutFixture(t, nil, notifyDay.Add(time.Hour))
	for _, u := range []struct{ name, role string }{{"ada", "admin"}, {"abe", "admin"}, {"uma", "user"}, {"sam", "support"}} {
		f.mustUser(t, u.name, pw, u.role)
	}
	got, err := f.svc.PhaseForecasts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		name              string
		forced, mustSetUp int
	}
	var rows []row
	for _, p := range got {
		rows = append(rows, row{p.Phase.Name, p.Forced, p.MustSetUp})
	}
	// sam must set up already (staff); the admins at 13 July, uma at 31 July.
	want := []row{{"Optional enrollment", 0, 1}, {"Email verification required", 2, 3}, {"Full enforcement", 1, 4}}
	if len(rows) != len(want) {
		t.Fatalf("got %+v, want %+v", rows, want)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("phase %d: got %+v, want %+v", i, rows[i], want[i])
		}
	}
}

// TestForecastWithoutRolloutSaysWhatSignInDoes: a service given no
// rollout offers setup to everyone without a factor at sign-in, and the
// forecast's counts and list say so, rather than that everyone signs in
// with the password alone.
func TestForecastWithoutRolloutSaysWhatSignInDoes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	uma := f.mustUser(t, "uma", pw, "user")
	f.mustUser(t, "sam", pw, "support")
	if d := f.svc.DecideAt(uma, nil, f.clock.Now()); d.Outcome != rollout.OfferEnrollment {
		t.Fatalf("sign-in for uma: %v, want offered", d.Outcome)
	}
	sum, err := f.svc.Forecast(ctx, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if sum.ByOutcome[rollout.OfferEnrollment] != 1 || sum.ByOutcome[rollout.RequireEnrollment] != 1 || sum.ByOutcome[rollout.Allow] != 0 {
		t.Errorf("forecast without a rollout: %v, want uma offered and sam required", sum.ByOutcome)
	}
	list, _, err := f.svc.ForecastPeople(ctx, f.clock.Now(), 0, 0)
	if err != nil || len(list) != 2 {
		t.Fatalf("list without a rollout: %d, %v; want uma and sam", len(list), err)
	}
}
