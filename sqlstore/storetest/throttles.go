package storetest

import (
	"context"
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

func mustRecordFailure(tb testing.TB, s mfagate.Store, key string, at time.Time) *mfagate.Throttle {
	tb.Helper()
	var th *mfagate.Throttle
	mustUpdate(tb, s, func(tx mfagate.Tx) (err error) {
		th, err = tx.RecordFailure(key, at)
		return err
	})
	return th
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

	for i := 1; i <= 3; i++ {
		at := base.Add(time.Duration(i)*time.Second + 1500*time.Microsecond)
		want := &mfagate.Throttle{Key: key, Failures: i, LastFailureAt: stored(at)}
		checkThrottle(t, "RecordFailure", mustRecordFailure(t, s, key, at), want)
		checkThrottle(t, "Throttle after RecordFailure", mustThrottle(t, s, key), want)
	}
	other := mustRecordFailure(t, s, "addr:192.0.2.7", base)
	if other.Failures != 1 {
		t.Errorf("another key: got %d failures, want 1", other.Failures)
	}

	lastFailure := stored(base.Add(3*time.Second + 1500*time.Microsecond))
	until := base.Add(15 * time.Minute)
	lock := func(key string, until time.Time, hard bool) {
		t.Helper()
		mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.LockThrottle(key, until, hard) })
	}
	tests := []struct {
		name  string
		until time.Time
		hard  bool
		want  mfagate.Throttle
	}{
		{"for a time", until, false, mfagate.Throttle{Key: key, Failures: 3, LastFailureAt: lastFailure, LockedUntil: until}},
		{"hard", time.Time{}, true, mfagate.Throttle{Key: key, Failures: 3, LastFailureAt: lastFailure, HardLocked: true}},
		{"for a time again", until, false, mfagate.Throttle{Key: key, Failures: 3, LastFailureAt: lastFailure, LockedUntil: until}},
		{"both", until, true, mfagate.Throttle{Key: key, Failures: 3, LastFailureAt: lastFailure, LockedUntil: until, HardLocked: true}},
	}
	for _, tt := range tests {
		t.Run("lock "+tt.name, func(t *testing.T) {
			lock(key, tt.until, tt.hard)
			checkThrottle(t, "Throttle", mustThrottle(t, s, key), &tt.want)
		})
	}

	// A failure recorded while locked keeps the lock.
	at := base.Add(time.Hour)
	want := &mfagate.Throttle{Key: key, Failures: 4, LastFailureAt: at, LockedUntil: until, HardLocked: true}
	checkThrottle(t, "RecordFailure while locked", mustRecordFailure(t, s, key, at), want)

	// A key locked before any failure.
	lock("user:bob", until, false)
	checkThrottle(t, "lock of a new key", mustThrottle(t, s, "user:bob"), &mfagate.Throttle{Key: "user:bob", LockedUntil: until})

	for _, k := range []string{key, "user:bob", "never seen"} {
		mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.ClearThrottle(k) })
		checkThrottle(t, "Throttle after ClearThrottle", mustThrottle(t, s, k), &mfagate.Throttle{Key: k})
	}
	checkThrottle(t, "RecordFailure after ClearThrottle", mustRecordFailure(t, s, key, at),
		&mfagate.Throttle{Key: key, Failures: 1, LastFailureAt: at})
	if got := mustThrottle(t, s, "addr:192.0.2.7"); got.Failures != 1 {
		t.Errorf("another key after clearing: got %d failures, want 1", got.Failures)
	}
}

// RecordConcurrently checks that 20 failures recorded at once for one key,
// through a and b in turn (the same store, or two stores on one database,
// as two replicas would be), are all counted: the key ends at 20 and each
// call saw a different count.
func RecordConcurrently(t *testing.T, a, b mfagate.Store) {
	t.Helper()
	const (
		n   = 20
		key = "user:alice"
	)
	counts := make([]int, n)
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
				th, err := tx.RecordFailure(key, base.Add(time.Duration(i)*time.Second))
				if err != nil {
					return err
				}
				counts[i] = th.Failures
				return nil
			})
			if err != nil {
				t.Errorf("RecordFailure %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if got := mustThrottle(t, a, key).Failures; got != n {
		t.Errorf("Failures: got %d, want %d", got, n)
	}
	slices.Sort(counts)
	want := make([]int, n)
	for i := range want {
		want[i] = i + 1
	}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("counts returned: got %v, want each of 1..%d once", counts, n)
	}
}
