package storetest

import (
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

func newTOTP(userID int64, created time.Time) *mfagate.Factor {
	return &mfagate.Factor{
		UserID:    userID,
		Method:    mfagate.MethodTOTP,
		Secret:    []byte("sealed secret"),
		LastStep:  100,
		CreatedAt: created,
	}
}

func newEmailFactor(userID int64, created time.Time) *mfagate.Factor {
	return &mfagate.Factor{UserID: userID, Method: mfagate.MethodEmail, CreatedAt: created}
}

func mustCreateFactor(tb testing.TB, s mfagate.Store, f *mfagate.Factor) *mfagate.Factor {
	tb.Helper()
	mustUpdate(tb, s, func(tx mfagate.Tx) error { return tx.CreateFactor(f) })
	if f.ID <= 0 {
		tb.Fatalf("CreateFactor(%s): got ID %d, want > 0", f.Method, f.ID)
	}
	return f
}

func mustUserFactors(tb testing.TB, s mfagate.Store, userID int64) []*mfagate.Factor {
	tb.Helper()
	var fs []*mfagate.Factor
	mustView(tb, s, func(tx mfagate.Tx) (err error) {
		fs, err = tx.UserFactors(userID)
		return err
	})
	return fs
}

// mustFactor returns the user's factor with that ID.
func mustFactor(tb testing.TB, s mfagate.Store, userID, id int64) *mfagate.Factor {
	tb.Helper()
	for _, f := range mustUserFactors(tb, s, userID) {
		if f.ID == id {
			return f
		}
	}
	tb.Fatalf("factor %d of user %d not found", id, userID)
	return nil
}

func checkFactors(tb testing.TB, got []*mfagate.Factor, want ...*mfagate.Factor) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("factors: got %d, want %d", len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			tb.Errorf("factor %d: got %+v, want %+v", i, *got[i], *want[i])
		}
	}
}

func testCreateFactor(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	// Created newest first, to see that the list is sorted oldest first.
	email := mustCreateFactor(t, s, newEmailFactor(alice.ID, base.Add(time.Hour)))
	totp := newTOTP(alice.ID, base.Add(1500*time.Microsecond))
	totp.LastUsedAt = base.Add(time.Minute)
	mustCreateFactor(t, s, totp)
	if email.ID == totp.ID {
		t.Errorf("IDs: got %d twice, want different", email.ID)
	}

	wantTOTP := *totp
	wantTOTP.CreatedAt = stored(totp.CreatedAt)
	// An email factor has no secret: nil in, nil out.
	checkFactors(t, mustUserFactors(t, s, alice.ID), &wantTOTP, email)
	checkUTC(t, "CreatedAt", mustUserFactors(t, s, alice.ID)[0].CreatedAt)
	if got := mustUserFactors(t, s, bob.ID+100); len(got) != 0 {
		t.Errorf("factors of nobody: got %d, want none", len(got))
	}

	tests := []struct {
		name string
		f    *mfagate.Factor
		code string
	}{
		{"second totp", newTOTP(alice.ID, base), mfagate.ECONFLICT},
		{"second email", newEmailFactor(alice.ID, base), mfagate.ECONFLICT},
		{"totp of another user", newTOTP(bob.ID, base), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, "CreateFactor", update(s, func(tx mfagate.Tx) error { return tx.CreateFactor(tt.f) }), tt.code)
		})
	}
	if got := mustUserFactors(t, s, alice.ID); len(got) != 2 {
		t.Errorf("alice's factors after the conflicts: got %d, want 2", len(got))
	}

	// A conflict does not spoil the rest of the transaction.
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		wantCode(t, "CreateFactor in a transaction", tx.CreateFactor(newTOTP(bob.ID, base)), mfagate.ECONFLICT)
		return tx.CreateFactor(newEmailFactor(bob.ID, base))
	})
	if got := mustUserFactors(t, s, bob.ID); len(got) != 2 {
		t.Errorf("bob's factors: got %d, want 2", len(got))
	}
}

func testUseFactorTOTP(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	f := mustCreateFactor(t, s, newTOTP(alice.ID, base)) // LastStep 100
	tests := []struct {
		name     string
		id, step int64
		code     string
		wantStep int64
		wantUsed time.Time
	}{
		{"same step", f.ID, 100, mfagate.ECONFLICT, 100, time.Time{}},
		{"earlier step", f.ID, 99, mfagate.ECONFLICT, 100, time.Time{}},
		{"next step", f.ID, 101, "", 101, base.Add(2 * time.Minute)},
		{"replay of it", f.ID, 101, mfagate.ECONFLICT, 101, base.Add(2 * time.Minute)},
		{"much later step", f.ID, 500, "", 500, base.Add(4 * time.Minute)},
		{"step in between", f.ID, 300, mfagate.ECONFLICT, 500, base.Add(4 * time.Minute)},
		{"unknown factor", f.ID + 100, 1000, mfagate.ENOTFOUND, 500, base.Add(4 * time.Minute)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := base.Add(time.Duration(i) * time.Minute) // use i at minute i
			err := update(s, func(tx mfagate.Tx) error { return tx.UseFactor(tt.id, tt.step, at) })
			wantCode(t, "UseFactor", err, tt.code)
			got := mustFactor(t, s, alice.ID, f.ID)
			if got.LastStep != tt.wantStep || !got.LastUsedAt.Equal(tt.wantUsed) {
				t.Errorf("after: got LastStep %d, LastUsedAt %v; want %d, %v", got.LastStep, got.LastUsedAt, tt.wantStep, tt.wantUsed)
			}
		})
	}
}

func testUseFactorEmail(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	f := mustCreateFactor(t, s, newEmailFactor(alice.ID, base))
	// The step means nothing for email: any step, repeated, is accepted and
	// LastStep stays as it was.
	for i, step := range []int64{0, 0, 7, 3} {
		at := base.Add(time.Duration(i+1) * time.Minute)
		mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UseFactor(f.ID, step, at) })
		got := mustFactor(t, s, alice.ID, f.ID)
		if got.LastUsedAt != at || got.LastStep != 0 {
			t.Errorf("use %d (step %d): got LastUsedAt %v, LastStep %d; want %v, 0", i, step, got.LastUsedAt, got.LastStep, at)
		}
	}
}

// testUseFactorConcurrently checks that of many requests offering the same
// TOTP code at once, exactly one is accepted.
func testUseFactorConcurrently(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	f := mustCreateFactor(t, s, newTOTP(alice.ID, base))
	exactlyOnce(t, 20, func() error {
		return update(s, func(tx mfagate.Tx) error { return tx.UseFactor(f.ID, 101, base) })
	}, mfagate.ECONFLICT)
}

func testDeleteFactor(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	totp := mustCreateFactor(t, s, newTOTP(alice.ID, base))
	email := mustCreateFactor(t, s, newEmailFactor(alice.ID, base.Add(time.Second)))
	tests := []struct {
		name       string
		userID, id int64
		code       string
		wantLeft   int
	}{
		{"another user's factor", bob.ID, totp.ID, mfagate.ENOTFOUND, 2},
		{"unknown factor", alice.ID, email.ID + 100, mfagate.ENOTFOUND, 2},
		{"own factor", alice.ID, totp.ID, "", 1},
		{"again", alice.ID, totp.ID, mfagate.ENOTFOUND, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, "DeleteFactor", update(s, func(tx mfagate.Tx) error { return tx.DeleteFactor(tt.userID, tt.id) }), tt.code)
			if got := mustUserFactors(t, s, alice.ID); len(got) != tt.wantLeft {
				t.Errorf("alice's factors left: got %d, want %d", len(got), tt.wantLeft)
			}
		})
	}
	checkFactors(t, mustUserFactors(t, s, alice.ID), email)
}

func testDeleteUserFactors(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	mustCreateFactor(t, s, newTOTP(alice.ID, base))
	mustCreateFactor(t, s, newEmailFactor(alice.ID, base))
	bobs := mustCreateFactor(t, s, newTOTP(bob.ID, base))
	mustReplaceRecoveryCodes(t, s, alice.ID, "a1", "a2", "a3")
	mustReplaceRecoveryCodes(t, s, bob.ID, "b1", "b2")

	var n int
	mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
		n, err = tx.DeleteUserFactors(alice.ID)
		return err
	})
	if n != 2 {
		t.Errorf("removed: got %d, want 2", n)
	}
	if got := mustUserFactors(t, s, alice.ID); len(got) != 0 {
		t.Errorf("alice's factors: got %d, want none", len(got))
	}
	if got := mustUnusedRecoveryCodes(t, s, alice.ID); got != 0 {
		t.Errorf("alice's recovery codes: got %d, want none", got)
	}
	err := update(s, func(tx mfagate.Tx) error { return tx.UseRecoveryCode(alice.ID, hashOf("a1"), base) })
	wantCode(t, "UseRecoveryCode after DeleteUserFactors", err, mfagate.ENOTFOUND)

	// Bob keeps everything.
	checkFactors(t, mustUserFactors(t, s, bob.ID), bobs)
	if got := mustUnusedRecoveryCodes(t, s, bob.ID); got != 2 {
		t.Errorf("bob's recovery codes: got %d, want 2", got)
	}
	// Nothing left to remove is not an error.
	mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
		n, err = tx.DeleteUserFactors(alice.ID)
		return err
	})
	if n != 0 {
		t.Errorf("removed the second time: got %d, want 0", n)
	}
}

// exactlyOnce runs fn from n goroutines at once and fails unless exactly
// one call returned nil and every other the error code lose.
func exactlyOnce(tb testing.TB, n int, fn func() error, lose string) {
	tb.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn()
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch code := mfagate.ErrorCode(err); code {
		case "":
			won++
		case lose:
		default:
			tb.Errorf("call %d: got code %q (%v), want %q or success", i, code, err, lose)
		}
	}
	if won != 1 {
		tb.Errorf("successful calls: got %d, want 1", won)
	}
}

// testCheckupFactors: only factors added in the range, not used since,
// beside another factor of an enabled person, and not yet marked, in ID
// order and paged.
func testCheckupFactors(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	from, to := base.Add(-14*24*time.Hour), base
	person := func(name string, disabled bool, fs ...mfagate.Factor) []int64 {
		t.Helper()
		u := &mfagate.User{Username: name, Email: name + "@example.com", Roles: []string{"user"}, Disabled: disabled, CreatedAt: base}
		var ids []int64
		mustUpdate(t, s, func(tx mfagate.Tx) error {
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			for _, f := range fs {
				f.UserID = u.ID
				if err := tx.CreateFactor(&f); err != nil {
					return err
				}
				ids = append(ids, f.ID)
			}
			return nil
		})
		return ids
	}
	used := mfagate.Factor{Method: mfagate.MethodEmail, CreatedAt: from.Add(-time.Hour), LastUsedAt: base}
	app := func(created, lastUsed time.Time) mfagate.Factor {
		return mfagate.Factor{Method: mfagate.MethodTOTP, CreatedAt: created, LastUsedAt: lastUsed}
	}
	mid := from.Add(time.Hour)
	want := []int64{
		person("due", false, used, app(mid, mid))[1],
		person("at-from", false, used, app(from, from))[1],
		person("at-to", false, used, app(to, to))[1],
		person("never-stamped", false, used, app(mid, time.Time{}))[1],
	}
	person("alone", false, app(mid, mid))
	person("used", false, used, app(mid, mid.Add(time.Millisecond)))
	person("before", false, used, app(from.Add(-time.Millisecond), from.Add(-time.Millisecond)))
	person("after", false, used, app(to.Add(time.Millisecond), to.Add(time.Millisecond)))
	person("disabled", true, used, app(mid, mid))
	marked := person("marked", false, used, app(mid, mid))
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		u, err := tx.UserByUsername("marked")
		if err != nil {
			return err
		}
		_, err = tx.MarkCampaignSent("checkup/"+strconv.FormatInt(marked[1], 10), u.ID, base)
		return err
	})

	list := func(after int64, limit int) []int64 {
		t.Helper()
		var ids []int64
		mustView(t, s, func(tx mfagate.Tx) error {
			fs, err := tx.CheckupFactors(from, to, "checkup/", after, limit)
			for _, f := range fs {
				ids = append(ids, f.ID)
			}
			return err
		})
		return ids
	}
	if got := list(0, 0); !slices.Equal(got, want) {
		t.Errorf("got factors %v, want %v", got, want)
	}
	if got := list(0, 2); !slices.Equal(got, want[:2]) {
		t.Errorf("first page: got %v, want %v", got, want[:2])
	}
	if got := list(want[1], 2); !slices.Equal(got, want[2:]) {
		t.Errorf("second page: got %v, want %v", got, want[2:])
	}
}
