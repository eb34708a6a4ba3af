package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

func testUserExtension(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	// CreateUser stores every field as given, skips included (an import
	// may carry them over).
	u := &mfagate.User{
		Username:        "alice",
		Roles:           []string{"user"},
		CreatedAt:       base,
		ExtendedUntil:   base.Add(30*24*time.Hour + 1500*time.Microsecond),
		ExtensionReason: "on leave until April",
		Skips:           3,
		LastSkipAt:      base.Add(-time.Hour),
	}
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.CreateUser(u) })
	want := *u
	want.ExtendedUntil = stored(u.ExtendedUntil)
	checkUser(t, mustGetUser(t, s, u.ID), &want)

	// UpdateUser saves the extension but leaves the skips alone, whatever
	// the caller's copy says.
	changed := want
	changed.ExtendedUntil = base.Add(60 * 24 * time.Hour)
	changed.ExtensionReason = "longer leave"
	changed.Skips, changed.LastSkipAt = 99, base.Add(time.Hour)
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UpdateUser(&changed) })
	want.ExtendedUntil, want.ExtensionReason = changed.ExtendedUntil, changed.ExtensionReason
	checkUser(t, mustGetUser(t, s, u.ID), &want)

	// The extension can be removed.
	changed.ExtendedUntil, changed.ExtensionReason = time.Time{}, ""
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UpdateUser(&changed) })
	want.ExtendedUntil, want.ExtensionReason = time.Time{}, ""
	checkUser(t, mustGetUser(t, s, u.ID), &want)

	// A user created without them reads back zero.
	bob := mustCreateUser(t, s, "bob")
	checkUser(t, mustGetUser(t, s, bob.ID), bob)
}

func testRecordSkip(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	u := mustCreateUser(t, s, "alice", "user")
	other := mustCreateUser(t, s, "bob", "user")
	first, second := base.Add(time.Minute), base.Add(2*time.Minute+1500*time.Microsecond)
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.RecordSkip(u.ID, first) })
	got := mustGetUser(t, s, u.ID)
	if got.Skips != 1 || got.LastSkipAt != first {
		t.Errorf("after one skip: got %d at %v, want 1 at %v", got.Skips, got.LastSkipAt, first)
	}
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.RecordSkip(u.ID, second) })
	got = mustGetUser(t, s, u.ID)
	if want := stored(second); got.Skips != 2 || got.LastSkipAt != want {
		t.Errorf("after two skips: got %d at %v, want 2 at %v", got.Skips, got.LastSkipAt, want)
	}
	checkUTC(t, "LastSkipAt", got.LastSkipAt)

	// Saving a copy read before the skips does not undo them.
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UpdateUser(u) })
	if got := mustGetUser(t, s, u.ID); got.Skips != 2 {
		t.Errorf("skips after UpdateUser of an old copy: got %d, want 2", got.Skips)
	}
	if got := mustGetUser(t, s, other.ID); got.Skips != 0 || !got.LastSkipAt.IsZero() {
		t.Errorf("another user: got %d skips at %v, want none", got.Skips, got.LastSkipAt)
	}

	err := update(s, func(tx mfagate.Tx) error { return tx.RecordSkip(other.ID+1000, first) })
	wantCode(t, "RecordSkip of a missing user", err, mfagate.ENOTFOUND)
	if err := view(s, func(tx mfagate.Tx) error { return tx.RecordSkip(u.ID, first) }); err == nil {
		t.Errorf("RecordSkip in View: got nil error, want one")
	}
}

// mustPerson creates an account with the given roles and factor methods
// and returns the Person that People should report for it.
func mustPerson(tb testing.TB, s mfagate.Store, u *mfagate.User, methods ...string) *mfagate.Person {
	tb.Helper()
	if u.CreatedAt.IsZero() {
		u.CreatedAt = base
	}
	mustUpdate(tb, s, func(tx mfagate.Tx) error {
		if err := tx.CreateUser(u); err != nil {
			return err
		}
		for _, m := range methods {
			if err := tx.CreateFactor(&mfagate.Factor{UserID: u.ID, Method: m, CreatedAt: base}); err != nil {
				return err
			}
		}
		return nil
	})
	p := &mfagate.Person{
		ID: u.ID, Username: u.Username, Roles: u.Roles, SignedIn: !u.LastSignInAt.IsZero(),
		ExtendedUntil: stored(u.ExtendedUntil), Skips: u.Skips, Disabled: u.Disabled,
	}
	if len(methods) > 0 {
		p.Methods = slices.Sorted(slices.Values(methods))
	}
	return p
}

// mustPeople returns every person People reports, through View or Update.
func mustPeople(tb testing.TB, s mfagate.Store, inUpdate bool) []*mfagate.Person {
	tb.Helper()
	var got []*mfagate.Person
	fn := func(tx mfagate.Tx) error {
		return tx.People(func(p *mfagate.Person) error {
			got = append(got, p)
			return nil
		})
	}
	if inUpdate {
		mustUpdate(tb, s, fn)
	} else {
		mustView(tb, s, fn)
	}
	return got
}

func testPeople(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	if got := mustPeople(t, s, false); len(got) != 0 {
		t.Fatalf("People of an empty store: got %d, want none", len(got))
	}
	want := []*mfagate.Person{
		mustPerson(t, s, &mfagate.User{Username: "Alice", Roles: []string{"user"}, LastSignInAt: base}),
		// Given out of order; reported sorted.
		mustPerson(t, s, &mfagate.User{Username: "bob", Roles: []string{"user", "admin"},
			ExtendedUntil: base.Add(time.Hour), Skips: 2, LastSkipAt: base},
			mfagate.MethodTOTP, mfagate.MethodEmail),
		mustPerson(t, s, &mfagate.User{Username: "carol", Disabled: true, LastSignInAt: base}, mfagate.MethodEmail),
		mustPerson(t, s, &mfagate.User{Username: "dave"}),
		mustPerson(t, s, &mfagate.User{Username: "erin", Roles: []string{"support", "operator", "admin"}},
			mfagate.MethodTOTP),
	}
	// Skips come from RecordSkip too.
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.RecordSkip(want[3].ID, base) })
	want[3].Skips = 1

	checkPeople(t, s, want)
}

// checkPeople reads every person, in a read and in an update, and checks
// they are want, in order.
func checkPeople(t *testing.T, s mfagate.Store, want []*mfagate.Person) {
	t.Helper()
	for _, tt := range []struct {
		name     string
		inUpdate bool
	}{{"View", false}, {"Update", true}} {
		t.Run(tt.name, func(t *testing.T) {
			got := mustPeople(t, s, tt.inUpdate)
			if len(got) != len(want) {
				t.Fatalf("people: got %d, want %d", len(got), len(want))
			}
			for i := range got {
				g := *got[i]
				if len(g.Roles) == 0 {
					g.Roles = nil
				}
				if len(g.Methods) == 0 {
					g.Methods = nil
				}
				if !reflect.DeepEqual(&g, want[i]) {
					t.Errorf("person %d: got %+v, want %+v", i, g, *want[i])
				}
				checkUTC(t, "ExtendedUntil", g.ExtendedUntil)
			}
		})
	}
}

func testPeopleStopsOnError(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	for _, name := range []string{"a", "b", "c", "d"} {
		mustPerson(t, s, &mfagate.User{Username: name, Roles: []string{"user"}}, mfagate.MethodEmail)
	}
	for _, tt := range []struct {
		name string
		run  func(mfagate.Store, func(mfagate.Tx) error) error
	}{{"View", view}, {"Update", update}} {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := tt.run(s, func(tx mfagate.Tx) error {
				return tx.People(func(p *mfagate.Person) error {
					calls++
					if calls == 2 {
						return errBoom
					}
					return nil
				})
			})
			if !errors.Is(err, errBoom) {
				t.Errorf("People: got %v, want fn's error", err)
			}
			if calls != 2 {
				t.Errorf("calls: got %d, want 2 (stopped at the error)", calls)
			}
			// The store is still usable: cursors were closed.
			if got := mustPeople(t, s, false); len(got) != 4 {
				t.Errorf("people afterwards: got %d, want 4", len(got))
			}
		})
	}
}

func testPace(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	u := mustCreateUser(t, s, "alice", "user")
	first, later := base.Add(time.Minute), base.Add(time.Hour)
	if got := mustGetUser(t, s, u.ID).Pace; got != (mfagate.Pace{}) {
		t.Fatalf("a new account: got pace %+v, want none", got)
	}
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.MarkShown(u.ID, "Required", first) })
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.MarkShown(u.ID, "Required", later) }) // only the first counts
	if got := mustGetUser(t, s, u.ID).Pace; got.Phase != "Required" || got.ShownAt != first || got.Skips != 0 {
		t.Errorf("shown twice: got %+v, want Required shown at %v", got, first)
	}

	// Skips under a capped phase: counted, until the cap.
	for i := 1; i <= 3; i++ {
		var ok bool
		mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
			ok, err = tx.RecordSkipIn(u.ID, "Optional", 2, base.Add(time.Duration(i)*time.Hour))
			return err
		})
		if want := i <= 2; ok != want {
			t.Errorf("skip %d of at most 2: got %v, want %v", i, ok, want)
		}
	}
	got := mustGetUser(t, s, u.ID)
	if got.Pace.Phase != "Optional" || got.Pace.Skips != 2 || got.Pace.LastSkipAt != base.Add(2*time.Hour) || !got.Pace.ShownAt.IsZero() {
		t.Errorf("after skips under a new phase: got %+v, want 2 skips under Optional, the last at +2h, not shown", got.Pace)
	}
	if got.Skips != 2 {
		t.Errorf("all skips: got %d, want 2 (the refused one is not counted)", got.Skips)
	}
	checkUTC(t, "Pace.LastSkipAt", got.Pace.LastSkipAt)
	// With no cap every skip counts; a new phase starts afresh.
	mustUpdate(t, s, func(tx mfagate.Tx) error { _, err := tx.RecordSkipIn(u.ID, "Optional", 0, later); return err })
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.MarkShown(u.ID, "Required", later) })
	if got := mustGetUser(t, s, u.ID).Pace; got.Phase != "Required" || got.ShownAt != later || got.Skips != 0 || !got.LastSkipAt.IsZero() {
		t.Errorf("a new phase: got %+v, want Required shown at %v and no skips", got, later)
	}
	// Saving an old copy of the account does not undo the pace.
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UpdateUser(u) })
	if got := mustGetUser(t, s, u.ID).Pace; got.Phase != "Required" {
		t.Errorf("after UpdateUser of an old copy: got %+v", got)
	}

	err := update(s, func(tx mfagate.Tx) error { return tx.MarkShown(u.ID+1000, "Required", first) })
	wantCode(t, "MarkShown of a missing user", err, mfagate.ENOTFOUND)
	err = update(s, func(tx mfagate.Tx) error { _, err := tx.RecordSkipIn(u.ID+1000, "Optional", 3, first); return err })
	wantCode(t, "RecordSkipIn of a missing user", err, mfagate.ENOTFOUND)
}

// SkipCapConcurrently skips 40 times at once for one account, half on
// each store (two replicas of one database): exactly the cap's 3 are
// counted, however the statements interleave.
func SkipCapConcurrently(t *testing.T, a, b mfagate.Store) {
	t.Helper()
	u := mustCreateUser(t, a, "alice", "user")
	const n, capped = 40, 3
	var wg sync.WaitGroup
	var mu sync.Mutex
	counted := 0
	start := make(chan struct{})
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			<-start
			var ok bool
			err := s.Update(context.Background(), func(tx mfagate.Tx) (err error) {
				ok, err = tx.RecordSkipIn(u.ID, "Optional", capped, base.Add(time.Duration(i)*time.Second))
				return err
			})
			if err != nil {
				t.Errorf("skip %d: %v", i, err)
			}
			if ok {
				mu.Lock()
				counted++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	got := mustGetUser(t, a, u.ID)
	if counted != capped || got.Pace.Skips != capped || got.Skips != capped {
		t.Errorf("%d skips at once, at most %d: %d were accepted, the account counts %d (%d in all); want %d", n, capped, counted, got.Pace.Skips, got.Skips, capped)
	}
}
