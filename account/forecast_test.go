package account_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/sqlstore/storetest"
)

// TestForecastNowCountsChangesAtOnce: nothing is kept between views, so
// a new account and a new factor show in the next forecast.
func TestForecastNowCountsChangesAtOnce(t *testing.T) {
	ctx := context.Background()
	f := rolloutFixture(t, nil, emailDay)
	f.mustUser(t, "ada", pw, "admin")
	first, err := f.svc.ForecastNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first.Total != 1 || first.ByOutcome[rollout.RequireEnrollment] != 1 || !first.Made.Equal(f.clock.Now()) {
		t.Fatalf("first forecast: %d people, %v, made %v", first.Total, first.ByOutcome, first.Made)
	}
	ben := f.mustUser(t, "ben", pw, "admin")
	mustEmailFactor(t, f, ben.ID)
	f.clock.Advance(time.Second)
	next, err := f.svc.ForecastNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if next.Total != 2 || next.ByOutcome[rollout.Challenge] != 1 || !next.Made.Equal(f.clock.Now()) {
		t.Fatalf("a second later: %d people, %v, made %v; want ben counted as challenged", next.Total, next.ByOutcome, next.Made)
	}
}

// TestForecastFromGroupsIsEveryoneDecided: on both databases, after a
// random mix of changes made through the use cases (imports, new people,
// factors, resets, extensions, disabling, first sign-ins, skips), the
// forecast read from the rollout groups is exactly what deciding every
// account one by one gives, at instants before, during and after each
// phase and as extensions run out.
func TestForecastFromGroupsIsEveryoneDecided(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, be sqltest.Backend) {
		ctx := context.Background()
		f := rolloutFixture(t, be.New(t), optionalDay.Add(-time.Hour))
		staff := account.Actor{Name: "test", AtServer: true}
		r := rand.New(rand.NewPCG(7, 13))
		roles := [][]string{{"user"}, {"admin"}, {"admin", "user"}, {"support", "user"}}
		var names []string
		var rows []account.ImportRow
		for i := range 60 {
			name := fmt.Sprintf("p%03d", i)
			rows = append(rows, account.ImportRow{Line: i + 2, NewUser: account.NewUser{Username: name,
				Email: name + "@example.com", Roles: roles[r.IntN(len(roles))]}})
			names = append(names, name)
		}
		if _, err := f.svc.ImportUsers(ctx, staff, rows); err != nil {
			t.Fatal(err)
		}
		for i := range 400 {
			name := names[r.IntN(len(names))]
			var err error
			switch r.IntN(8) {
			case 0:
				name = fmt.Sprintf("q%03d", i)
				_, err = f.svc.CreateUser(ctx, staff, account.NewUser{Username: name, Email: name + "@example.com",
					Roles: roles[r.IntN(len(roles))], Invite: r.IntN(2) == 0})
				names = append(names, name)
			case 7:
				// Invited again, or the invitation withdrawn; refused when
				// there is nothing to do.
				if r.IntN(2) == 0 {
					err = f.svc.Reinvite(ctx, staff, name, "")
				} else {
					err = f.svc.RevokeInvite(ctx, staff, name, "")
				}
				if mfagate.ErrorCode(err) == mfagate.ECONFLICT {
					err = nil
				}
			case 1:
				u := mustGet(t, f, name)
				err = f.store.Update(ctx, func(tx mfagate.Tx) error {
					m := []string{mfagate.MethodEmail, mfagate.MethodTOTP}[r.IntN(2)]
					err := tx.CreateFactor(&mfagate.Factor{UserID: u.ID, Method: m, Secret: []byte("0123456789abcdef0123"), CreatedAt: f.clock.Now()})
					if mfagate.ErrorCode(err) == mfagate.ECONFLICT {
						return nil
					}
					return err
				})
			case 2:
				err = f.svc.ResetMFA(ctx, staff, name, "lost phone")
			case 3:
				until := f.clock.Now().Add(time.Duration(1+r.IntN(60*24)) * time.Hour)
				err = f.svc.Extend(ctx, staff, name, until, "on leave")
			case 4:
				err = f.svc.SetDisabled(ctx, staff, name, r.IntN(3) == 0, "left")
			case 5:
				u := mustGet(t, f, name)
				err = f.store.Update(ctx, func(tx mfagate.Tx) error { return tx.RecordSignIn(u.ID, f.clock.Now(), "") })
			default:
				u := mustGet(t, f, name)
				err = f.store.Update(ctx, func(tx mfagate.Tx) error { return tx.RecordSkip(u.ID, f.clock.Now()) })
			}
			if err != nil {
				t.Fatalf("change %d to %s: %v", i, name, err)
			}
		}
		storetest.CheckGroups(t, f.store, "after the changes")
		for _, at := range []time.Time{notifyDay.Add(-time.Hour), optionalDay, optionalDay.Add(20 * 24 * time.Hour),
			emailDay, emailDay.Add(24 * time.Hour), allDay, allDay.Add(90 * 24 * time.Hour)} {
			got, err := f.svc.Forecast(ctx, at)
			if err != nil {
				t.Fatal(err)
			}
			want := rollout.NewSimulator(schedule(t), at)
			want.Adjust = account.StaffRule
			err = f.store.View(ctx, func(tx mfagate.Tx) error {
				return tx.People(func(p *mfagate.Person) error {
					if !p.Disabled {
						want.AddFacts(rollout.Person{Roles: p.Roles, Methods: p.Methods, Skips: p.Skips, ExtendedUntil: p.ExtendedUntil},
							rollout.Facts{SignedIn: p.SignedIn, Unreached: p.Unreached, Invited: p.Invited})
					}
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			if w := want.Summary(); !reflect.DeepEqual(got, w) {
				t.Errorf("at %v: from the groups\n %+v\none by one\n %+v", at, got, w)
			}
			if got.Invited == 0 {
				t.Errorf("at %v: no one invited is counted: the changes should leave some", at)
			}
		}
	})
}

// TestForecastSaysWhatSignInDoesForStaff: support and operators must set
// up a second factor whatever the phase, and the forecast and Simulate
// count them so, as sign-in decides.
func TestForecastSaysWhatSignInDoesForStaff(t *testing.T) {
	ctx := context.Background()
	f := rolloutFixture(t, nil, notifyDay.Add(-time.Hour)) // before any phase
	sam := f.mustUser(t, "sam", pw, "support", "user")
	f.mustUser(t, "uma", pw, "user")
	if d := f.svc.DecideAt(sam, nil, f.clock.Now()); d.Outcome != rollout.RequireEnrollment {
		t.Fatalf("sign-in for sam: %v, want require", d.Outcome)
	}
	sum, err := f.svc.Forecast(ctx, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if sum.ByOutcome[rollout.RequireEnrollment] != 1 || sum.ByOutcome[rollout.Allow] != 1 ||
		sum.ByRole["support"][rollout.RequireEnrollment] != 1 || sum.ForcedAtNext != 0 {
		t.Errorf("forecast before any phase: %v by role %v, forced at next %d; want sam required, uma allowed", sum.ByOutcome, sum.ByRole, sum.ForcedAtNext)
	}
	sim, err := f.svc.Simulate(ctx, "sam", f.clock.Now())
	if err != nil || sim.Decision.Outcome != rollout.RequireEnrollment || !sim.Staff || len(sim.Decision.Methods) != 2 {
		t.Errorf("Simulate sam: %+v, %v; want require, either method, because staff", sim, err)
	}
	if sim, _ := f.svc.Simulate(ctx, "uma", f.clock.Now()); sim.Decision.Outcome != rollout.Allow || sim.Staff {
		t.Errorf("Simulate uma: %+v; want allow", sim)
	}
}

func mustGet(tb testing.TB, f *fixture, name string) *mfagate.User {
	tb.Helper()
	u, err := f.svc.User(context.Background(), name)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

func mustEmailFactor(tb testing.TB, f *fixture, userID int64) {
	tb.Helper()
	err := f.store.Update(context.Background(), func(tx mfagate.Tx) error {
		return tx.CreateFactor(&mfagate.Factor{UserID: userID, Method: mfagate.MethodEmail, CreatedAt: f.clock.Now()})
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// TestTimelineSaysWhichPhaseIsInForceForWhom walks SPEC.md's schedule:
// the phases in force for admins and for everyone, and those started
// but replaced.
func TestTimelineSaysWhichPhaseIsInForceForWhom(t *testing.T) {
	f := rolloutFixture(t, nil, emailDay.Add(time.Hour))
	tl := f.svc.Timeline()
	if !tl.At.Equal(emailDay.Add(time.Hour)) || tl.Location != schedule(t).Location {
		t.Fatalf("timeline at %v in %v", tl.At, tl.Location)
	}
	type row struct {
		name       string
		started    bool
		inForceFor []string
	}
	var got []row
	for _, ph := range tl.Phases {
		got = append(got, row{ph.Name, ph.Started, ph.InForceFor})
	}
	want := []row{
		{"Communication", true, nil},
		{"Optional enrollment", true, nil},
		{"Email verification required", true, []string{"admin"}},
		{"Full enforcement", false, nil},
	}
	if !slices.EqualFunc(got, want, func(a, b row) bool {
		return a.name == b.name && a.started == b.started && slices.Equal(a.inForceFor, b.inForceFor)
	}) {
		t.Errorf("timeline:\n got %+v\nwant %+v", got, want)
	}

	f.clock.Set(allDay)
	for _, ph := range f.svc.Timeline().Phases {
		// Admins are reached by it too: it is the latest of their phases.
		if ph.Name == "Full enforcement" && !slices.Equal(ph.InForceFor, []string{"admin", rollout.Everyone}) {
			t.Errorf("on its day, full enforcement is in force for %v, want admins and everyone", ph.InForceFor)
		}
	}
}

// TestServiceWithoutRolloutHasNoPhases: no schedule, nothing to time, no
// campaign to send, and the forecast still counts everyone.
func TestServiceWithoutRolloutHasNoPhases(t *testing.T) {
	f := newFixture(t)
	f.mustUser(t, "ada", pw)
	if n := len(f.svc.Timeline().Phases); n != 0 {
		t.Errorf("%d phases without a rollout", n)
	}
	if n, err := f.svc.RunCampaigns(context.Background()); n != 0 || err != nil {
		t.Errorf("campaigns without a rollout: %d queued, %v", n, err)
	}
	sum, err := f.svc.Forecast(context.Background(), f.clock.Now())
	if err != nil || sum.Total != 1 || sum.Next != nil {
		t.Errorf("forecast without a rollout: %+v, %v", sum, err)
	}
}
