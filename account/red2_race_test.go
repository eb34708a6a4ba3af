package account_test

// Red-team round 2: races on two replicas of one PostgreSQL database,
// paused at a chosen call (hookStore, red_helpers_test.go). Each breach it
// found is fixed and its test kept as a regression test: a failure says
// which breach is back.

import (
	"context"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

func (t *hookTx) RecordSkip(userID int64, at time.Time) error {
	t.h.run("RecordSkip", "")
	return t.Tx.RecordSkip(userID, at)
}

func (t *hookTx) DeleteFactor(userID, id int64) error {
	t.h.run("DeleteFactor", "")
	return t.Tx.DeleteFactor(userID, id)
}

func (t *hookTx) UserByID(id int64) (*mfagate.User, error) {
	t.h.run("UserByID", "")
	return t.Tx.UserByID(id)
}

// TestRed2ChangePasswordUndoesStaffReset — was a breach (high); fixed.
//
// An attacker holds a session of alice's (stolen cookie or password).
// The operator, told the account is stolen, gives it a new password at
// the command line, which also ends every session of alice's. At that
// moment the attacker has a ChangePassword in flight (they can keep one
// in flight all the time: current→X, X→current, ...; each spends two
// password hashes between its check and its write). ChangePassword
// checked the current password against the hash read with the session,
// and its last transaction re-reads the person and writes the
// attacker's new hash over the operator's, without looking whether the
// hash, or the session, changed meanwhile. The operator's password no
// longer works; the attacker's does.
func TestRed2ChangePasswordUndoesStaffReset(t *testing.T) {
	f, attacker, hooks, _ := redReplicas(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	in, err := attacker.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: from(7)})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := attacker.Authenticate(ctx, in.Token)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := attacker.SkipSetup(ctx, cur, from(7))
	if err != nil {
		t.Fatal(err)
	}
	if cur, err = attacker.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	const mine = "attacker owns this phrase"
	const operators = "violet harbour compass"

	// The last transaction of ChangePassword starts by settling the
	// password ticket: pause it there.
	reached, release := make(chan struct{}), make(chan struct{})
	hooks.on("ClearThrottleIf", pauseOnce(mfagate.PasswordThrottleKey("alice"), reached, release))
	done := make(chan error, 1)
	go func() { done <- attacker.ChangePassword(ctx, cur, pw, mine, from(7)) }()
	<-reached
	if err := f.svc.SetPassword(ctx, account.Actor{Name: mfagate.ActorCLI, AtServer: true}, "alice", operators); err != nil {
		t.Fatalf("set password: %v", err)
	}
	close(release)
	cerr := <-done
	t.Logf("the attacker's ChangePassword, whose session had ended: %v", cerr)

	f.clock.Advance(time.Minute)
	if _, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: operators, Client: from(8)}); err != nil {
		t.Errorf("BREACH: the password the operator set for the stolen account does not work (%v): an attacker's password change in flight wrote over it", err)
	}
	f.clock.Advance(time.Minute)
	if _, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: mine, Client: from(9)}); err == nil {
		t.Errorf("BREACH: after the operator reset the password and ended alice's sessions, the attacker's chosen password signs in")
	}
	if cerr == nil {
		t.Errorf("BREACH: ChangePassword from a session ended meanwhile succeeded")
	}
}

// TestRed2SkipSetupRevivesAnEndedSession — was a breach (medium); fixed.
//
// The attacker has alice's password (no factor yet: setup is offered)
// and a password-only session. Support resets the password (or alice
// changes hers, or support ends her sessions) while the attacker's "skip
// setup" is in flight: SkipSetup never re-reads its session inside its
// transaction (Verify and enroll do, via stillLive); rotate deletes the
// already-deleted row and creates a brand-new, fully signed-in session.
// The attacker stays signed in past the moment every session of alice's
// was ended.
func TestRed2SkipSetupRevivesAnEndedSession(t *testing.T) {
	// Paused before it holds alice's row (support ends the sessions
	// first), and after (support waits for it): both must end with no
	// live session of the attacker's.
	for _, pauseAt := range []string{"UserByID", "RecordSkip"} {
		t.Run("paused at "+pauseAt, func(t *testing.T) {
			f, attacker, hooks, _ := redReplicas(t)
			ctx := context.Background()
			f.mustUser(t, "alice", pw)
			in, err := attacker.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: from(7)})
			if err != nil {
				t.Fatal(err)
			}
			cur, err := attacker.Authenticate(ctx, in.Token)
			if err != nil {
				t.Fatal(err)
			}
			reached, release := make(chan struct{}), make(chan struct{})
			hooks.on(pauseAt, pauseOnce("", reached, release))
			type res struct {
				tok string
				err error
			}
			done := make(chan res, 1)
			go func() { tok, err := attacker.SkipSetup(ctx, cur, from(7)); done <- res{tok, err} }()
			<-reached
			staff := make(chan error, 1)
			go func() {
				_, err := f.svc.EndSessions(ctx, account.Actor{Name: "sam", ClientAddr: "10.0.0.5"}, "alice", "account reported stolen")
				staff <- err
			}()
			if pauseAt == "UserByID" {
				if err := <-staff; err != nil {
					t.Fatalf("end sessions: %v", err)
				}
				close(release)
			} else {
				time.Sleep(50 * time.Millisecond) // let support wait on alice's row; either order must be safe
				close(release)
				if err := <-staff; err != nil {
					t.Fatalf("end sessions: %v", err)
				}
			}
			r := <-done
			if r.err == nil {
				if _, err := f.svc.Authenticate(ctx, r.tok); err == nil {
					t.Errorf("BREACH: support ended every session of alice's, and the attacker's skip in flight made a new, fully signed-in one that works")
				}
			}
		})
	}
}

// TestRed2RemoveFactorFromAnEndedSession — was a breach (low); fixed.
//
// Same pattern for RemoveFactor: it does not re-read the session inside
// its transaction. A stolen full session that support ends while its
// "remove the app" request is in flight still removes the person's app.
func TestRed2RemoveFactorFromAnEndedSession(t *testing.T) {
	f, attacker, hooks, _ := redReplicas(t)
	ctx := context.Background()
	aliceWithEveryFactor(t, f)
	full := f.current(t, f.mustSignIn(t, "alice", pw).Token)
	fs, err := f.svc.Factors(ctx, full.User.ID)
	if err != nil || len(fs) != 2 {
		t.Fatalf("factors: %v %v", fs, err)
	}
	// A fresh full session (second factor just passed), as the attacker's.
	f.clock.Advance(31 * time.Second)
	if _, err := f.svc.SendCode(ctx, full, mfagate.PurposeSignIn, "", client); err != nil {
		t.Fatal(err)
	}
	v, err := f.svc.Verify(ctx, full, mfagate.MethodEmail, f.latestCode(t), client)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := attacker.Authenticate(ctx, v.Token)
	if err != nil {
		t.Fatal(err)
	}
	var app int64
	for _, x := range fs {
		if x.Method == mfagate.MethodTOTP {
			app = x.ID
		}
	}
	reached, release := make(chan struct{}), make(chan struct{})
	hooks.on("UserByID", pauseOnce("", reached, release)) // before it holds alice's row
	done := make(chan error, 1)
	go func() { done <- attacker.RemoveFactor(ctx, cur, app, from(7)) }()
	<-reached
	if _, err := f.svc.EndSessions(ctx, account.Actor{Name: "sam", ClientAddr: "10.0.0.5"}, "alice", "stolen"); err != nil {
		t.Fatal(err)
	}
	close(release)
	rerr := <-done
	left, _ := f.svc.Factors(ctx, cur.User.ID)
	if rerr == nil && len(left) == 1 {
		t.Errorf("BREACH: a session ended by support still removed alice's authenticator app")
	}
}

// TestRed2RetentionDeadlocksWithASignIn — was a breach (low: a 500 or a failed
// retention run, on PostgreSQL); fixed: the job skips rows others hold.
//
// The retention job deletes idle throttle rows in one DELETE, locking the
// rows it matches in the order it scans them, not in the documented
// order (account's key, then the address's). A sign-in at a name nobody
// has, from an address, both idle for a day (an attacker who comes back
// daily), holds the name's row and then asks for the address's; the
// DELETE has locked the address's row and waits for the name's.
// PostgreSQL finds the cycle and aborts one: the sign-in answers 500, or
// the retention run fails (and has no retry).
func TestRed2RetentionDeadlocksWithASignIn(t *testing.T) {
	f, attacker, hooks, _ := redReplicas(t)
	ctx := context.Background()
	x := account.Actor{ClientAddr: "203.0.113.50"}
	y := account.Actor{ClientAddr: "203.0.113.51"}
	// Yesterday: rows laid out as user:other, addr:X, user:ghost, addr:Y.
	attacker.SignIn(ctx, account.SignIn{Username: "other", Password: "guess", Client: x})
	attacker.SignIn(ctx, account.SignIn{Username: "ghost", Password: "guess", Client: y})
	f.clock.Advance(25 * time.Hour)

	reached, release := make(chan struct{}), make(chan struct{})
	hooks.on("StartThrottle", pauseOnce(mfagate.AddressThrottleKey(x.ClientAddr), reached, release))
	done := make(chan error, 1)
	go func() {
		_, err := attacker.SignIn(ctx, account.SignIn{Username: "ghost", Password: "guess", Client: x})
		done <- err
	}()
	<-reached // holds user:ghost, about to take addr:X
	retention := make(chan error, 1)
	go func() {
		now := f.clock.Now()
		retention <- f.store.Update(ctx, func(tx mfagate.Tx) error {
			_, err := tx.DeleteIdleThrottles(now.Add(-24*time.Hour), now)
			return err
		})
	}()
	time.Sleep(300 * time.Millisecond) // let the DELETE lock addr:X and wait on user:ghost
	close(release)
	signInErr, retErr := <-done, <-retention
	if code := mfagate.ErrorCode(signInErr); code != mfagate.EUNAUTHORIZED {
		t.Errorf("BREACH: a sign-in during the retention job failed with %s: %v", code, signInErr)
	}
	if retErr != nil {
		t.Errorf("BREACH: the retention job failed: %v", retErr)
	}
}
