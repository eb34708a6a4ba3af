package storetest

import (
	"crypto/sha256"
	"reflect"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

// hashOf returns a session hash made from a name, as the web layer would
// from a token.
func hashOf(name string) []byte {
	h := sha256.Sum256([]byte(name))
	return h[:]
}

func newSession(name string, userID int64, created time.Time) *mfagate.Session {
	return &mfagate.Session{
		Hash:       hashOf(name),
		UserID:     userID,
		Stage:      mfagate.StagePassword,
		CreatedAt:  created,
		LastSeenAt: created,
		ClientAddr: "192.0.2.1",
		UserAgent:  "test/" + name,
	}
}

func mustCreateSession(tb testing.TB, s mfagate.Store, sess *mfagate.Session) {
	tb.Helper()
	mustUpdate(tb, s, func(tx mfagate.Tx) error { return tx.CreateSession(sess) })
}

func mustGetSession(tb testing.TB, s mfagate.Store, hash []byte) *mfagate.Session {
	tb.Helper()
	var sess *mfagate.Session
	mustView(tb, s, func(tx mfagate.Tx) (err error) {
		sess, err = tx.SessionByHash(hash)
		return err
	})
	return sess
}

func checkSession(tb testing.TB, got, want *mfagate.Session) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("got session %+v, want %+v", got, want)
	}
}

func testSessions(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	sess := newSession("one", alice.ID, base.Add(1500*time.Microsecond))
	mustCreateSession(t, s, sess)

	want := *sess
	want.CreatedAt, want.LastSeenAt = stored(sess.CreatedAt), stored(sess.LastSeenAt)
	checkSession(t, mustGetSession(t, s, sess.Hash), &want)

	err := update(s, func(tx mfagate.Tx) error { return tx.CreateSession(newSession("one", alice.ID, base)) })
	wantCode(t, "CreateSession with a taken hash", err, mfagate.ECONFLICT)

	// UpdateSession saves the stage, the two times and the sign-in in
	// progress, nothing else.
	changed := *sess
	changed.Stage = mfagate.StageFull
	changed.LastSeenAt = base.Add(time.Minute)
	changed.SecondFactorAt = base.Add(50 * time.Second)
	changed.PendingTOTP = []byte("sealed totp")
	changed.PendingRecovery = []byte("sealed codes")
	changed.ClientAddr = "198.51.100.7"
	changed.UserAgent = "other"
	changed.CreatedAt = base.Add(time.Hour)
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UpdateSession(&changed) })
	want.Stage, want.LastSeenAt, want.SecondFactorAt = mfagate.StageFull, changed.LastSeenAt, changed.SecondFactorAt
	want.PendingTOTP, want.PendingRecovery = changed.PendingTOTP, changed.PendingRecovery
	checkSession(t, mustGetSession(t, s, sess.Hash), &want)

	// TouchSession moves only LastSeenAt, and never backwards.
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.TouchSession(sess.Hash, base.Add(2*time.Minute)) })
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.TouchSession(sess.Hash, base.Add(90*time.Second)) })
	want.LastSeenAt = stored(base.Add(2 * time.Minute))
	checkSession(t, mustGetSession(t, s, sess.Hash), &want)

	missing := newSession("missing", alice.ID, base)
	tests := []struct {
		name string
		fn   func(mfagate.Tx) error
		code string
	}{
		{"SessionByHash", func(tx mfagate.Tx) error { _, err := tx.SessionByHash(missing.Hash); return err }, mfagate.ENOTFOUND},
		{"UpdateSession", func(tx mfagate.Tx) error { return tx.UpdateSession(missing) }, mfagate.ENOTFOUND},
		{"TouchSession", func(tx mfagate.Tx) error { return tx.TouchSession(missing.Hash, base) }, mfagate.ENOTFOUND},
		{"DeleteSession", func(tx mfagate.Tx) error { return tx.DeleteSession(missing.Hash) }, ""},
	}
	for _, tt := range tests {
		t.Run("missing "+tt.name, func(t *testing.T) {
			wantCode(t, tt.name, update(s, tt.fn), tt.code)
		})
	}

	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.DeleteSession(sess.Hash) })
	err = view(s, func(tx mfagate.Tx) error { _, err := tx.SessionByHash(sess.Hash); return err })
	wantCode(t, "SessionByHash after DeleteSession", err, mfagate.ENOTFOUND)
}

func testUserSessions(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	// Created out of order, to see that the list is sorted by time.
	mid := newSession("mid", alice.ID, base.Add(time.Hour))
	mid.PendingTOTP, mid.PendingRecovery = []byte("totp"), []byte("codes")
	old := newSession("old", alice.ID, base)
	young := newSession("young", alice.ID, base.Add(2*time.Hour))
	for _, sess := range []*mfagate.Session{mid, old, young, newSession("bob", bob.ID, base.Add(3*time.Hour))} {
		mustCreateSession(t, s, sess)
	}
	tests := []struct {
		name   string
		userID int64
		want   []*mfagate.Session
	}{
		{"alice", alice.ID, []*mfagate.Session{young, mid, old}},
		{"nobody", bob.ID + 100, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []*mfagate.Session
			mustView(t, s, func(tx mfagate.Tx) (err error) {
				got, err = tx.UserSessions(tt.userID)
				return err
			})
			if len(got) != len(tt.want) {
				t.Fatalf("sessions: got %d, want %d", len(got), len(tt.want))
			}
			for i := range got {
				checkSession(t, got[i], tt.want[i])
			}
		})
	}
}

func testDeleteUserSessions(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	tests := []struct {
		name     string
		keep     string // "" keeps none
		wantN    int
		wantLeft []string
	}{
		{"keep one", "b", 2, []string{"b"}},
		{"keep none", "", 3, nil},
		{"keep an unknown one", "zzz", 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			alice := mustCreateUser(t, s, "alice")
			bob := mustCreateUser(t, s, "bob")
			for i, name := range []string{"a", "b", "c"} {
				mustCreateSession(t, s, newSession(name, alice.ID, base.Add(time.Duration(i)*time.Minute)))
			}
			mustCreateSession(t, s, newSession("bob", bob.ID, base))

			var keep []byte
			if tt.keep != "" {
				keep = hashOf(tt.keep)
			}
			var n int
			mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
				n, err = tx.DeleteUserSessions(alice.ID, keep)
				return err
			})
			if n != tt.wantN {
				t.Errorf("removed: got %d, want %d", n, tt.wantN)
			}
			checkSessionsLeft(t, s, alice.ID, tt.wantLeft)
			checkSessionsLeft(t, s, bob.ID, []string{"bob"})
		})
	}
}

func testDeleteStaleSessions(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	now := base.Add(24 * time.Hour)
	idleBefore := now.Add(-30 * time.Minute)
	createdBefore := now.Add(-12 * time.Hour)
	tests := []struct {
		name                      string
		idleBefore, createdBefore time.Time
		wantN                     int
		wantLeft                  []string
	}{
		{"both bounds", idleBefore, createdBefore, 2, []string{"fresh", "edge"}},
		{"idle only", idleBefore, time.Time{}, 1, []string{"fresh", "old", "edge"}},
		{"created only", time.Time{}, createdBefore, 1, []string{"fresh", "idle", "edge"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			alice := mustCreateUser(t, s, "alice")
			fresh := newSession("fresh", alice.ID, now.Add(-time.Hour))
			fresh.LastSeenAt = now.Add(-time.Minute)
			idle := newSession("idle", alice.ID, now.Add(-2*time.Hour))
			idle.LastSeenAt = now.Add(-31 * time.Minute)
			old := newSession("old", alice.ID, now.Add(-13*time.Hour))
			old.LastSeenAt = now.Add(-time.Minute)
			// Exactly at both bounds: not before them, so kept.
			edge := newSession("edge", alice.ID, createdBefore)
			edge.LastSeenAt = idleBefore
			for _, sess := range []*mfagate.Session{fresh, idle, old, edge} {
				mustCreateSession(t, s, sess)
			}
			var n int
			mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
				n, err = tx.DeleteStaleSessions(tt.idleBefore, tt.createdBefore)
				return err
			})
			if n != tt.wantN {
				t.Errorf("removed: got %d, want %d", n, tt.wantN)
			}
			checkSessionsLeft(t, s, alice.ID, tt.wantLeft)
		})
	}
}

// checkSessionsLeft fails unless the user's sessions are exactly those made
// by newSession with the given names.
func checkSessionsLeft(tb testing.TB, s mfagate.Store, userID int64, names []string) {
	tb.Helper()
	var got []*mfagate.Session
	mustView(tb, s, func(tx mfagate.Tx) (err error) {
		got, err = tx.UserSessions(userID)
		return err
	})
	left := map[string]bool{}
	for _, sess := range got {
		left[sess.UserAgent] = true
	}
	want := map[string]bool{}
	for _, name := range names {
		want["test/"+name] = true
	}
	if !reflect.DeepEqual(left, want) {
		tb.Errorf("sessions left for user %d: got %v, want %v", userID, left, want)
	}
}

// testSessionPending checks the sign-in state kept on a session. A nil or
// empty PendingTOTP or PendingRecovery reads back as nil: "nothing
// pending" has one value, whichever way it was written.
func testSessionPending(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	tests := []struct {
		name              string
		totp, recovery    []byte
		wantTOTP, wantRec []byte
	}{
		{"nil", nil, nil, nil, nil},
		{"empty", []byte{}, []byte{}, nil, nil},
		{"set", []byte{0, 1, 2, 0xff}, []byte("sealed codes"), []byte{0, 1, 2, 0xff}, []byte("sealed codes")},
		{"only totp", []byte("t"), nil, []byte("t"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Written by CreateSession...
			sess := newSession("create "+tt.name, alice.ID, base)
			sess.PendingTOTP, sess.PendingRecovery = tt.totp, tt.recovery
			mustCreateSession(t, s, sess)
			checkPending(t, mustGetSession(t, s, sess.Hash), tt.wantTOTP, tt.wantRec)

			// ...and by UpdateSession, over a session that had some.
			sess = newSession("update "+tt.name, alice.ID, base)
			sess.PendingTOTP, sess.PendingRecovery = []byte("old"), []byte("old")
			mustCreateSession(t, s, sess)
			sess.PendingTOTP, sess.PendingRecovery = tt.totp, tt.recovery
			mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UpdateSession(sess) })
			checkPending(t, mustGetSession(t, s, sess.Hash), tt.wantTOTP, tt.wantRec)
		})
	}
}

func checkPending(tb testing.TB, got *mfagate.Session, totp, recovery []byte) {
	tb.Helper()
	if !reflect.DeepEqual(got.PendingTOTP, totp) || !reflect.DeepEqual(got.PendingRecovery, recovery) {
		tb.Errorf("got PendingTOTP %#v, PendingRecovery %#v; want %#v, %#v",
			got.PendingTOTP, got.PendingRecovery, totp, recovery)
	}
}
