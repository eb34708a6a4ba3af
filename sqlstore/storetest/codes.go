package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

// mustReplaceRecoveryCodes gives the user recovery codes hashed from names
// and returns them with their IDs set.
func mustReplaceRecoveryCodes(tb testing.TB, s mfagate.Store, userID int64, names ...string) []*mfagate.RecoveryCode {
	tb.Helper()
	codes := make([]*mfagate.RecoveryCode, len(names))
	for i, name := range names {
		codes[i] = &mfagate.RecoveryCode{Hash: hashOf(name), CreatedAt: base}
	}
	mustUpdate(tb, s, func(tx mfagate.Tx) error { return tx.ReplaceRecoveryCodes(userID, codes) })
	return codes
}

func mustUnusedRecoveryCodes(tb testing.TB, s mfagate.Store, userID int64) int {
	tb.Helper()
	var n int
	mustView(tb, s, func(tx mfagate.Tx) (err error) {
		n, err = tx.UnusedRecoveryCodes(userID)
		return err
	})
	return n
}

func testRecoveryCodes(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	codes := mustReplaceRecoveryCodes(t, s, alice.ID, "one", "two", "three")
	seen := map[int64]bool{}
	for _, c := range codes {
		if c.ID <= 0 || seen[c.ID] || c.UserID != alice.ID {
			t.Errorf("code: got ID %d, UserID %d; want a new positive ID and UserID %d", c.ID, c.UserID, alice.ID)
		}
		seen[c.ID] = true
	}
	mustReplaceRecoveryCodes(t, s, bob.ID, "bob")

	use := func(userID int64, name string) error {
		return update(s, func(tx mfagate.Tx) error { return tx.UseRecoveryCode(userID, hashOf(name), base) })
	}
	tests := []struct {
		name       string
		userID     int64
		code       string
		wantErr    string
		wantUnused int
	}{
		{"first use", alice.ID, "two", "", 2},
		{"second use", alice.ID, "two", mfagate.ENOTFOUND, 2},
		{"unknown code", alice.ID, "four", mfagate.ENOTFOUND, 2},
		{"another user's code", alice.ID, "bob", mfagate.ENOTFOUND, 2},
		{"another code", alice.ID, "one", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, "UseRecoveryCode", use(tt.userID, tt.code), tt.wantErr)
			if got := mustUnusedRecoveryCodes(t, s, alice.ID); got != tt.wantUnused {
				t.Errorf("unused: got %d, want %d", got, tt.wantUnused)
			}
		})
	}
	if got := mustUnusedRecoveryCodes(t, s, bob.ID); got != 1 {
		t.Errorf("bob's unused: got %d, want 1", got)
	}

	// A new set voids the old one, used or not.
	mustReplaceRecoveryCodes(t, s, alice.ID, "new1", "new2")
	if got := mustUnusedRecoveryCodes(t, s, alice.ID); got != 2 {
		t.Errorf("unused after replacing: got %d, want 2", got)
	}
	wantCode(t, "UseRecoveryCode of the old set", use(alice.ID, "three"), mfagate.ENOTFOUND)
	wantCode(t, "UseRecoveryCode of the new set", use(alice.ID, "new1"), "")

	// An empty set leaves none.
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.ReplaceRecoveryCodes(alice.ID, nil) })
	if got := mustUnusedRecoveryCodes(t, s, alice.ID); got != 0 {
		t.Errorf("unused after an empty set: got %d, want 0", got)
	}
}

// testUseRecoveryCodeConcurrently checks that a code redeemed by many
// requests at once is accepted once.
func testUseRecoveryCodeConcurrently(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	mustReplaceRecoveryCodes(t, s, alice.ID, "one", "two")
	exactlyOnce(t, 20, func() error {
		return update(s, func(tx mfagate.Tx) error { return tx.UseRecoveryCode(alice.ID, hashOf("one"), base) })
	}, mfagate.ENOTFOUND)
	if got := mustUnusedRecoveryCodes(t, s, alice.ID); got != 1 {
		t.Errorf("unused: got %d, want 1", got)
	}
}

func newEmailCode(userID int64, session, purpose string, created time.Time) *mfagate.EmailCode {
	return &mfagate.EmailCode{
		UserID:      userID,
		SessionHash: hashOf(session),
		Purpose:     purpose,
		Address:     "someone@example.com",
		Hash:        hashOf("code sent at " + created.String()),
		CreatedAt:   created,
		ExpiresAt:   created.Add(10 * time.Minute),
	}
}

func mustCreateEmailCode(tb testing.TB, s mfagate.Store, c *mfagate.EmailCode) *mfagate.EmailCode {
	tb.Helper()
	mustUpdate(tb, s, func(tx mfagate.Tx) error { return tx.CreateEmailCode(c) })
	if c.ID <= 0 {
		tb.Fatalf("CreateEmailCode: got ID %d, want > 0", c.ID)
	}
	return c
}

func mustLatestEmailCode(tb testing.TB, s mfagate.Store, session, purpose string) *mfagate.EmailCode {
	tb.Helper()
	var c *mfagate.EmailCode
	mustView(tb, s, func(tx mfagate.Tx) (err error) {
		c, err = tx.LatestEmailCode(hashOf(session), purpose)
		return err
	})
	return c
}

func checkEmailCode(tb testing.TB, got, want *mfagate.EmailCode) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("got email code %+v, want %+v", *got, *want)
	}
}

func testEmailCodes(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	c1 := newEmailCode(alice.ID, "a", mfagate.PurposeSignIn, base.Add(1500*time.Microsecond))
	mustCreateEmailCode(t, s, c1)
	want := *c1
	want.CreatedAt = stored(c1.CreatedAt)
	want.ExpiresAt = stored(c1.ExpiresAt)
	checkEmailCode(t, mustLatestEmailCode(t, s, "a", mfagate.PurposeSignIn), &want)

	// A resent code carries the failures of the one it replaces, and is
	// the latest; codes for another purpose or session leave it alone.
	c2 := newEmailCode(alice.ID, "a", mfagate.PurposeSignIn, base.Add(time.Minute))
	c2.Failures = 2
	mustCreateEmailCode(t, s, c2)
	if c2.ID <= c1.ID {
		t.Errorf("IDs: got %d after %d, want growing", c2.ID, c1.ID)
	}
	mustCreateEmailCode(t, s, newEmailCode(alice.ID, "a", mfagate.PurposeSetup, base.Add(2*time.Minute)))
	mustCreateEmailCode(t, s, newEmailCode(alice.ID, "b", mfagate.PurposeSignIn, base.Add(3*time.Minute)))
	checkEmailCode(t, mustLatestEmailCode(t, s, "a", mfagate.PurposeSignIn), c2)
	if got := mustLatestEmailCode(t, s, "a", mfagate.PurposeSetup); got.CreatedAt != base.Add(2*time.Minute) || got.Voided {
		t.Errorf("setup code of a: got %+v, want the one created at +2m, not voided", *got)
	}

	// UpdateEmailCode saves Failures, UsedAt and Voided, nothing else; the
	// latest is returned even when voided.
	changed := *c2
	changed.Failures, changed.UsedAt, changed.Voided = 3, base.Add(90*time.Second), true
	changed.Address, changed.Hash, changed.ExpiresAt = "other@example.com", hashOf("other"), base
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UpdateEmailCode(&changed) })
	want = *c2
	want.Failures, want.UsedAt, want.Voided = 3, changed.UsedAt, true
	checkEmailCode(t, mustLatestEmailCode(t, s, "a", mfagate.PurposeSignIn), &want)
	// And back: a zero UsedAt and false Voided are saved too.
	changed.UsedAt, changed.Voided = time.Time{}, false
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UpdateEmailCode(&changed) })
	want.UsedAt, want.Voided = time.Time{}, false
	checkEmailCode(t, mustLatestEmailCode(t, s, "a", mfagate.PurposeSignIn), &want)

	tests := []struct {
		name string
		fn   func(mfagate.Tx) error
	}{
		{"LatestEmailCode of another session", func(tx mfagate.Tx) error {
			_, err := tx.LatestEmailCode(hashOf("c"), mfagate.PurposeSignIn)
			return err
		}},
		{"LatestEmailCode of another purpose", func(tx mfagate.Tx) error {
			_, err := tx.LatestEmailCode(hashOf("b"), mfagate.PurposeSetup)
			return err
		}},
		{"UpdateEmailCode", func(tx mfagate.Tx) error {
			missing := *c2
			missing.ID += 100
			return tx.UpdateEmailCode(&missing)
		}},
	}
	for _, tt := range tests {
		t.Run("missing "+tt.name, func(t *testing.T) {
			wantCode(t, tt.name, update(s, tt.fn), mfagate.ENOTFOUND)
		})
	}
}

func testEmailCodesSince(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	// Three for alice, the first two in one session (so the first is
	// voided: it still counts, it was sent), and one for bob.
	mustCreateEmailCode(t, s, newEmailCode(alice.ID, "a", mfagate.PurposeSignIn, base))
	mustCreateEmailCode(t, s, newEmailCode(alice.ID, "a", mfagate.PurposeSignIn, base.Add(time.Minute)))
	mustCreateEmailCode(t, s, newEmailCode(alice.ID, "b", mfagate.PurposeSetup, base.Add(2*time.Minute)))
	mustCreateEmailCode(t, s, newEmailCode(bob.ID, "c", mfagate.PurposeSignIn, base.Add(time.Minute)))
	tests := []struct {
		name   string
		userID int64
		since  time.Time
		want   int
	}{
		{"all", alice.ID, base.Add(-time.Hour), 3},
		{"at the first", alice.ID, base, 3},
		{"at the second", alice.ID, base.Add(time.Minute), 2},
		{"just after the second", alice.ID, base.Add(time.Minute + time.Millisecond), 1},
		{"after the last", alice.ID, base.Add(2*time.Minute + time.Millisecond), 0},
		{"bob", bob.ID, base, 1},
		{"nobody", bob.ID + 100, base, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got int
			mustView(t, s, func(tx mfagate.Tx) (err error) {
				got, err = tx.EmailCodesSince(tt.userID, tt.since)
				return err
			})
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
			// The times are those of the same codes, oldest first.
			var times []time.Time
			mustView(t, s, func(tx mfagate.Tx) (err error) {
				times, err = tx.EmailCodeTimesSince(tt.userID, tt.since)
				return err
			})
			all := []time.Time{base, base.Add(time.Minute), base.Add(2 * time.Minute)}
			if tt.userID == bob.ID {
				all = []time.Time{base.Add(time.Minute)}
			}
			want := []time.Time{}
			for _, at := range all {
				if !at.Before(tt.since) && tt.userID <= bob.ID {
					want = append(want, at)
				}
			}
			if len(times) != len(want) {
				t.Fatalf("times: got %v, want %v", times, want)
			}
			for i := range want {
				if !times[i].Equal(want[i]) {
					t.Errorf("times: got %v, want %v", times, want)
				}
			}
		})
	}
}

// testEmailCodeFailuresConcurrently checks that wrong guesses made at once
// are all counted: reading the latest code and saving its Failures in one
// Update is not a lost update, whatever the database's isolation.
func testEmailCodeFailuresConcurrently(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	mustCreateEmailCode(t, s, newEmailCode(alice.ID, "a", mfagate.PurposeSignIn, base))
	const n = 20
	errs := make(chan error, n)
	for range n {
		go func() {
			errs <- update(s, func(tx mfagate.Tx) error {
				c, err := tx.LatestEmailCode(hashOf("a"), mfagate.PurposeSignIn)
				if err != nil {
					return err
				}
				c.Failures++
				return tx.UpdateEmailCode(c)
			})
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("guess: %v", err)
		}
	}
	if got := mustLatestEmailCode(t, s, "a", mfagate.PurposeSignIn).Failures; got != n {
		t.Errorf("Failures: got %d, want %d", got, n)
	}
}

func testLastEmailCodeAt(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice, bob := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	last := func(userID int64, purpose string) time.Time {
		t.Helper()
		var at time.Time
		mustView(t, s, func(tx mfagate.Tx) (err error) {
			at, err = tx.LastEmailCodeAt(userID, purpose)
			return err
		})
		return at
	}
	if got := last(alice.ID, mfagate.PurposeSignIn); !got.IsZero() {
		t.Fatalf("no code yet: got %v, want the zero time", got)
	}
	mustCreateEmailCode(t, s, newEmailCode(alice.ID, "a", mfagate.PurposeSignIn, base.Add(1500*time.Microsecond)))
	mustCreateEmailCode(t, s, newEmailCode(alice.ID, "b", mfagate.PurposeSignIn, base.Add(time.Minute)))
	mustCreateEmailCode(t, s, newEmailCode(alice.ID, "b", mfagate.PurposeSetup, base.Add(2*time.Minute)))
	mustCreateEmailCode(t, s, newEmailCode(bob.ID, "c", mfagate.PurposeSignIn, base.Add(time.Hour)))
	if got := last(alice.ID, mfagate.PurposeSignIn); !got.Equal(base.Add(time.Minute)) {
		t.Errorf("alice's newest sign-in code, over two sessions: got %v, want %v", got, base.Add(time.Minute))
	}
	if got := last(alice.ID, mfagate.PurposeSetup); !got.Equal(base.Add(2 * time.Minute)) {
		t.Errorf("alice's newest setup code: got %v", got)
	}
	checkUTC(t, "LastEmailCodeAt", last(alice.ID, mfagate.PurposeSignIn))
}
