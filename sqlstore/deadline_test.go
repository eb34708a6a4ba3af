package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// testDeadlines checks that every call has a deadline and that passing it
// is EUNAVAILABLE, rolled back, on backend b. The timeout is short so the
// test is quick; each check allows a second beyond it, so a slow machine
// does not make it flaky.
func testDeadlines(t *testing.T, b sqltest.Backend) {
	const timeout = 500 * time.Millisecond
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	open := func(t *testing.T) *sqlstore.DB {
		dsn := b.DSN(t)
		db := b.OpenWith(t, dsn, sqlstore.Options{RequestTimeout: timeout})
		sqltest.MustMigrate(t, db)
		return db
	}
	within := func(t *testing.T, start time.Time) {
		t.Helper()
		if took := time.Since(start); took > timeout+time.Second {
			t.Errorf("took %s, want at most the timeout (%s) and a second", took, timeout)
		}
	}

	t.Run("WaitingForALock", func(t *testing.T) {
		// One Update holds the lock a second one needs (SQLite's write
		// lock, PostgreSQL's row lock) for longer than the timeout.
		db := open(t)
		held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // its own, longer deadline
			defer cancel()
			done <- db.Update(ctx, func(tx mfagate.Tx) error {
				if err := countOne(tx, "user:alice", at); err != nil {
					return err
				}
				close(held)
				<-release
				return nil
			})
		}()
		<-held
		start := time.Now()
		err := db.Update(context.Background(), func(tx mfagate.Tx) error {
			return countOne(tx, "user:alice", at)
		})
		within(t, start)
		close(release)
		if got := mfagate.ErrorCode(err); got != mfagate.EUNAVAILABLE {
			t.Errorf("waiting Update: got %q (%v), want %q", got, err, mfagate.EUNAVAILABLE)
		}
		if err := <-done; err != nil {
			t.Fatalf("holding Update, with a deadline of its own: got %v, want nil", err)
		}
		var th *mfagate.Throttle
		if err := db.View(context.Background(), func(tx mfagate.Tx) (err error) { th, err = tx.Throttle("user:alice"); return err }); err != nil {
			t.Fatal(err)
		}
		if th.Failures != 1 {
			t.Errorf("failures: got %d, want 1: the Update that timed out must not count", th.Failures)
		}
	})

	t.Run("PassedMidUpdateRollsBack", func(t *testing.T) {
		db := open(t)
		start := time.Now()
		err := db.Update(context.Background(), func(tx mfagate.Tx) error {
			if err := tx.CreateUser(&mfagate.User{Username: "carol", Email: "carol@example.com", CreatedAt: at}); err != nil {
				return err
			}
			time.Sleep(timeout + 200*time.Millisecond)
			return nil
		})
		within(t, start)
		if got := mfagate.ErrorCode(err); got != mfagate.EUNAVAILABLE {
			t.Errorf("got %q (%v), want %q", got, err, mfagate.EUNAVAILABLE)
		}
		if got, want := mfagate.ErrorMessage(err), "The service cannot reach its database just now. Try again in a minute"; got != want {
			t.Errorf("message: got %q, want %q", got, want)
		}
		err = db.View(context.Background(), func(tx mfagate.Tx) error { _, err := tx.UserByUsername("carol"); return err })
		if got := mfagate.ErrorCode(err); got != mfagate.ENOTFOUND {
			t.Errorf("user of the timed-out Update: got %q (%v), want %q", got, err, mfagate.ENOTFOUND)
		}
	})

	t.Run("PassedMidView", func(t *testing.T) {
		db := open(t)
		err := db.View(context.Background(), func(tx mfagate.Tx) error {
			time.Sleep(timeout + 200*time.Millisecond)
			_, err := tx.UserByUsername("carol")
			return err
		})
		if got := mfagate.ErrorCode(err); got != mfagate.EUNAVAILABLE {
			t.Errorf("got %q (%v), want %q", got, err, mfagate.EUNAVAILABLE)
		}
	})

	t.Run("CallersLongerDeadlineWins", func(t *testing.T) {
		db := open(t)
		ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
		defer cancel()
		err := db.View(ctx, func(tx mfagate.Tx) error {
			time.Sleep(timeout + 200*time.Millisecond)
			_, err := tx.UserByUsername("carol")
			return err
		})
		if got := mfagate.ErrorCode(err); got != mfagate.ENOTFOUND {
			t.Errorf("got %q (%v), want %q: the caller's deadline had not passed", got, err, mfagate.ENOTFOUND)
		}
	})

	t.Run("CancelledByTheCallerIsNotUnavailable", func(t *testing.T) {
		// The client went away: nothing to tell it, and not the database's fault.
		db := open(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := db.View(ctx, func(tx mfagate.Tx) error { _, err := tx.UserByUsername("carol"); return err })
		if got := mfagate.ErrorCode(err); got != mfagate.EINTERNAL {
			t.Errorf("got %q (%v), want %q", got, err, mfagate.EINTERNAL)
		}
	})
}

// countOne holds key and counts one attempt, as admitting one does.
func countOne(tx mfagate.Tx, key string, at time.Time) error {
	th, err := tx.HoldThrottle(key)
	if err != nil {
		return err
	}
	th.Failures++
	th.LastFailureAt = at
	return tx.SaveThrottle(th)
}
