package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

func mustThrottle(tb testing.TB, s mfagate.Store, key string) *mfagate.Throttle {
	tb.Helper()
	var th *mfagate.Throttle
	mustView(tb, s, func(tx mfagate.Tx) (err error) {
		th, err = tx.Throttle(key)
		return err
	})
	return th
}

func mustSaveThrottle(tb testing.TB, s mfagate.Store, th *mfagate.Throttle) {
	tb.Helper()
	mustUpdate(tb, s, func(tx mfagate.Tx) error { return tx.SaveThrottle(th) })
}

func checkThrottle(tb testing.TB, what string, got, want *mfagate.Throttle) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("%s: got %+v, want %+v", what, *got, *want)
	}
	checkUTC(tb, what+": LastFailureAt", got.LastFailureAt)
	checkUTC(tb, what+": LockedUntil", got.LockedUntil)
}

func testThrottles(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	const key = "user:alice"
	checkThrottle(t, "never seen", mustThrottle(t, s, key), &mfagate.Throttle{Key: key})
	var held *mfagate.Throttle
	mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
		held, err = tx.HoldThrottle(key)
		return err
	})
	checkThrottle(t, "HoldThrottle of a key never seen", held, &mfagate.Throttle{Key: key})

	// SaveThrottle writes every field, at the store's precision, and
	// HoldThrottle and Throttle read them back.
	at := base.Add(3*time.Second + 1500*time.Microsecond)
	until := base.Add(15 * time.Minute)
	tests := []struct {
		name string
		save mfagate.Throttle
	}{
		{"counting", mfagate.Throttle{Key: key, Run: 1<<62 + 5, Failures: 3, LastFailureAt: at}},
		{"locked for a time", mfagate.Throttle{Key: key, Failures: 10, LastFailureAt: at, LockedUntil: until}},
		{"hard locked", mfagate.Throttle{Key: key, Failures: 50, LastFailureAt: at, LockedUntil: until, HardLocked: true}},
		{"lock over, count kept", mfagate.Throttle{Key: key, Failures: 12, LastFailureAt: at.Add(time.Hour), LockedUntil: until}},
		{"locked without failures", mfagate.Throttle{Key: key, HardLocked: true}},
	}
	for _, tt := range tests {
		t.Run("save "+tt.name, func(t *testing.T) {
			save := tt.save
			mustSaveThrottle(t, s, &save)
			want := tt.save
			want.LastFailureAt, want.LockedUntil = stored(want.LastFailureAt), stored(want.LockedUntil)
			checkThrottle(t, "Throttle", mustThrottle(t, s, key), &want)
			mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
				held, err = tx.HoldThrottle(key)
				return err
			})
			checkThrottle(t, "HoldThrottle", held, &want)
		})
	}
	mustSaveThrottle(t, s, &mfagate.Throttle{Key: "addr:192.0.2.7", Failures: 1, LastFailureAt: base})

	// A throttle with nothing to remember is removed, not kept as zeros.
	mustSaveThrottle(t, s, &mfagate.Throttle{Key: key, LastFailureAt: at})
	checkThrottle(t, "saved with nothing to remember", mustThrottle(t, s, key), &mfagate.Throttle{Key: key})
	var n int
	mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
		n, err = tx.DeleteIdleThrottles(base.Add(time.Minute), base.Add(time.Minute))
		return err
	})
	if n != 1 {
		t.Errorf("DeleteIdleThrottles after a zero save: got %d removed, want 1 (only the address)", n)
	}

	mustSaveThrottle(t, s, &mfagate.Throttle{Key: key, Failures: 4, LastFailureAt: at})
	mustSaveThrottle(t, s, &mfagate.Throttle{Key: "user:bob", Failures: 2, LastFailureAt: at})
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.ClearThrottle(key) })
	checkThrottle(t, "Throttle after ClearThrottle", mustThrottle(t, s, key), &mfagate.Throttle{Key: key})
	if got := mustThrottle(t, s, "user:bob"); got.Failures != 2 {
		t.Errorf("another key after clearing: got %d failures, want 2", got.Failures)
	}
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.ClearThrottle("never seen") })

	// HoldThrottle writes (it takes a lock), so View refuses it.
	err := s.View(context.Background(), func(tx mfagate.Tx) error { _, err := tx.HoldThrottle(key); return err })
	if err == nil {
		t.Error("HoldThrottle inside View: got no error, want a refusal")
	}
}

func testClearThrottleIf(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	now := base.Add(time.Hour)
	tests := []struct {
		name     string
		th       mfagate.Throttle
		failures int
		anyLock  bool
		want     bool
	}{
		{"the count matches", mfagate.Throttle{Failures: 3, LastFailureAt: base}, 3, false, true},
		{"more came after", mfagate.Throttle{Failures: 4, LastFailureAt: base}, 3, false, false},
		{"fewer: cleared meanwhile", mfagate.Throttle{Failures: 1, LastFailureAt: base}, 3, false, false},
		{"locked", mfagate.Throttle{Failures: 10, LockedUntil: now.Add(time.Minute)}, 10, false, false},
		{"hard locked", mfagate.Throttle{Failures: 50, HardLocked: true}, 50, false, false},
		{"a lock over", mfagate.Throttle{Failures: 10, LockedUntil: now.Add(-time.Minute)}, 10, false, true},
		{"its own lock", mfagate.Throttle{Failures: 10, LockedUntil: now.Add(time.Minute)}, 10, true, true},
		{"its own hard lock", mfagate.Throttle{Failures: 50, HardLocked: true}, 50, true, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := tt.th
			th.Key, th.Run = fmt.Sprintf("user:clear-%d", i), int64(100+i)
			mustSaveThrottle(t, s, &th)
			var done bool
			mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
				done, err = tx.ClearThrottleIf(th.Key, th.Run, tt.failures, tt.anyLock, now)
				return err
			})
			left := mustThrottle(t, s, th.Key)
			if done != tt.want || (done && left.Failures != 0) || (!done && left.Failures != th.Failures) {
				t.Errorf("got %v with %d failures left, want %v", done, left.Failures, tt.want)
			}
		})
	}
	var done bool
	mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
		done, err = tx.ClearThrottleIf("user:never-seen", 1, 1, false, now)
		return err
	})
	if done {
		t.Error("a key never seen: got cleared, want nothing to clear")
	}
	// Another run of the same key (support cleared it, and a new run
	// began) is not cleared by an attempt of the old one.
	mustSaveThrottle(t, s, &mfagate.Throttle{Key: "user:rerun", Run: 7, Failures: 2, LastFailureAt: base})
	mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
		done, err = tx.ClearThrottleIf("user:rerun", 6, 2, false, now)
		return err
	})
	if done || mustThrottle(t, s, "user:rerun").Failures != 2 {
		t.Error("an attempt of another run cleared the key")
	}
}

func testDeleteIdleThrottles(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	now := base.Add(48 * time.Hour)
	idle := now.Add(-24 * time.Hour)
	mustCreateUser(t, s, "Alice")
	keep := []mfagate.Throttle{
		{Key: "user:recent", Failures: 3, LastFailureAt: now.Add(-time.Hour)},
		{Key: "user:hard", Failures: 50, LastFailureAt: base, HardLocked: true},
		{Key: "user:locked", Failures: 10, LastFailureAt: base, LockedUntil: now.Add(time.Minute)},
		// An account's runs last until a right answer or support.
		{Key: mfagate.PasswordThrottleKey("Alice"), Failures: 9, LastFailureAt: base},
		{Key: mfagate.FactorThrottleKey("Alice"), Failures: 9, LastFailureAt: base, LockedUntil: now.Add(-time.Minute)},
	}
	gone := []mfagate.Throttle{
		{Key: "user:old", Failures: 3, LastFailureAt: idle.Add(-time.Millisecond)}, // a username nobody has
		{Key: "mfa:nobody", Failures: 3, LastFailureAt: base},
		{Key: "addr:old", Failures: 25, LastFailureAt: base},
		{Key: "user:old-lock", Failures: 10, LastFailureAt: base, LockedUntil: now.Add(-time.Minute)},
	}
	// A row with no attempt, as a hold whose transaction saved nothing
	// leaves, goes however recent.
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		_, err := tx.HoldThrottle(mfagate.PasswordThrottleKey("Alice") + "-held")
		return err
	})
	for _, th := range append(slices.Clone(keep), gone...) {
		mustSaveThrottle(t, s, &th)
	}
	var n int
	mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
		n, err = tx.DeleteIdleThrottles(idle, now)
		return err
	})
	if n != len(gone)+1 {
		t.Errorf("DeleteIdleThrottles: got %d removed, want %d", n, len(gone)+1)
	}
	for _, th := range keep {
		if got := mustThrottle(t, s, th.Key); got.Failures != th.Failures {
			t.Errorf("%s: got %d failures, want it kept with %d", th.Key, got.Failures, th.Failures)
		}
	}
	for _, th := range gone {
		if got := mustThrottle(t, s, th.Key); got.Failures != 0 || got.LockedAt(now) {
			t.Errorf("%s: got %+v, want it removed", th.Key, *got)
		}
	}
}

// HoldConcurrently checks that StartThrottle and HoldThrottle serialise
// read-modify-write across stores: 20 transactions at once, through a and
// b in turn (the same store, or two stores on one database, as two
// replicas would be), each start the key's run or else hold it, add one
// and save. None is lost, and each saw a different count before its own.
func HoldConcurrently(t *testing.T, a, b mfagate.Store) {
	t.Helper()
	const (
		n   = 20
		key = "mfa:alice"
	)
	seen := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			<-start
			err := s.Update(context.Background(), func(tx mfagate.Tx) error {
				// As admitting does: start the run, or else hold it.
				if started, err := tx.StartThrottle(key, int64(i+1), base); started || err != nil {
					seen[i] = 0
					return err
				}
				th, err := tx.HoldThrottle(key)
				if err != nil {
					return err
				}
				seen[i] = th.Failures
				th.Failures++
				th.LastFailureAt = base.Add(time.Duration(i) * time.Second)
				return tx.SaveThrottle(th)
			})
			if err != nil {
				t.Errorf("hold and save %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if got := mustThrottle(t, a, key).Failures; got != n {
		t.Errorf("Failures: got %d, want %d", got, n)
	}
	slices.Sort(seen)
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("counts held: got %v, want each of 0..%d once", seen, n-1)
	}
}

func testStartThrottle(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	at := base.Add(1500 * time.Microsecond)
	start := func(key string) bool {
		t.Helper()
		var ok bool
		mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
			ok, err = tx.StartThrottle(key, 42, at)
			return err
		})
		return ok
	}
	if !start("user:alice") {
		t.Fatal("a key never seen: got not started, want started")
	}
	checkThrottle(t, "after StartThrottle", mustThrottle(t, s, "user:alice"),
		&mfagate.Throttle{Key: "user:alice", Run: 42, Failures: 1, LastFailureAt: stored(at)})
	if start("user:alice") {
		t.Fatal("a key with a run: got started again, want left alone")
	}
	if got := mustThrottle(t, s, "user:alice"); got.Failures != 1 {
		t.Fatalf("a second StartThrottle changed the run: %+v", *got)
	}
	// A locked key with no failures is a run too.
	mustSaveThrottle(t, s, &mfagate.Throttle{Key: "user:bob", HardLocked: true})
	if start("user:bob") {
		t.Fatal("a hard-locked key: got started, want left alone")
	}
}
