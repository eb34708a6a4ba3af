package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

// testSessionAndUser: the one query of a session check returns the same
// session and user as reading them apart, roles included (none, one,
// several), and ENOTFOUND for an unknown hash.
func testSessionAndUser(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	for _, roles := range [][]string{nil, {"user"}, {"support", "admin", "user"}} {
		name := "u" + time.Duration(len(roles)).String()
		u := mustCreateUser(t, s, name, roles...)
		sess := newSession(name, u.ID, base.Add(1500*time.Microsecond))
		sess.PendingTOTP = []byte("sealed")
		mustCreateSession(t, s, sess)
		var (
			gotSess, wantSess *mfagate.Session
			gotUser, wantUser *mfagate.User
		)
		mustView(t, s, func(tx mfagate.Tx) (err error) {
			if gotSess, gotUser, err = tx.SessionAndUser(sess.Hash); err != nil {
				return err
			}
			if wantSess, err = tx.SessionByHash(sess.Hash); err != nil {
				return err
			}
			wantUser, err = tx.UserByID(u.ID)
			return err
		})
		if !reflect.DeepEqual(gotSess, wantSess) {
			t.Errorf("roles %v: got session %+v, want %+v", roles, gotSess, wantSess)
		}
		if !reflect.DeepEqual(gotUser, wantUser) {
			t.Errorf("roles %v: got user %+v, want %+v", roles, gotUser, wantUser)
		}
	}
	err := s.View(context.Background(), func(tx mfagate.Tx) error {
		_, _, err := tx.SessionAndUser(hashOf("nobody"))
		return err
	})
	if mfagate.ErrorCode(err) != mfagate.ENOTFOUND {
		t.Errorf("unknown hash: got %v, want ENOTFOUND", err)
	}
}

// testTouchSessions: many uses in one call move each session's
// LastSeenAt forward only, skip sessions that are gone, change nothing
// else, and span more than one statement.
func testTouchSessions(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	u := mustCreateUser(t, s, "alice")
	const n = 1200 // more than one statement's batch
	var touches []mfagate.SessionTouch
	var sessions []*mfagate.Session
	for i := range n {
		sess := newSession("s"+time.Duration(i).String(), u.ID, base)
		sessions = append(sessions, sess)
		touches = append(touches, mfagate.SessionTouch{Hash: sess.Hash, At: base.Add(time.Duration(i+1) * time.Second)})
	}
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		for _, sess := range sessions {
			if err := tx.CreateSession(sess); err != nil {
				return err
			}
		}
		return nil
	})
	// One touch is earlier than what is stored: it must not move back.
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.TouchSession(sessions[0].Hash, base.Add(time.Hour)) })
	touches = append(touches, mfagate.SessionTouch{Hash: hashOf("gone"), At: base.Add(time.Minute)})
	var changed int
	mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
		changed, err = tx.TouchSessions(touches)
		return err
	})
	if changed != n-1 {
		t.Errorf("changed %d sessions, want %d (all but the one seen later already, and none gone)", changed, n-1)
	}
	for i, sess := range sessions {
		got := mustGetSession(t, s, sess.Hash)
		want := stored(touches[i].At)
		if i == 0 {
			want = stored(base.Add(time.Hour))
		}
		if !got.LastSeenAt.Equal(want) {
			t.Fatalf("session %d: last seen %v, want %v", i, got.LastSeenAt, want)
		}
		if got.Stage != sess.Stage || got.UserAgent != sess.UserAgent || !got.CreatedAt.Equal(stored(sess.CreatedAt)) {
			t.Fatalf("session %d: got %+v, want only LastSeenAt changed from %+v", i, got, sess)
		}
	}
	if err := s.View(context.Background(), func(tx mfagate.Tx) error {
		_, err := tx.TouchSessions(touches[:1])
		return err
	}); err == nil {
		t.Error("TouchSessions inside View: got no error, want writes refused")
	}
}
