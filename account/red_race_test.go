package account_test

// Red-team tests: races between an attacker's sign-in and other changes
// to the same account, on two replicas of one PostgreSQL database. Each
// test pauses one transaction at a chosen call (hookStore) so that the
// interleaving an attacker with 100 concurrent requests would hit sooner
// or later happens every time. Each was a breach of the first admission
// rewrite and is kept as a regression test; a failure says which breach
// is back.

import (
	"context"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/totp"
)

type signInResult struct {
	in  *account.SignedIn
	err error
}

// redReplicas opens two replicas on one PostgreSQL database: the
// attacker's, whose transactions can be paused, and the staff's.
func redReplicas(t *testing.T) (f *fixture, attacker *account.Service, hooks *hookStore, staffHooks *hookStore) {
	t.Helper()
	one, two := sqltest.Postgres(t).Replicas(t)
	clock := mfagate.NewManualClock(start)
	hooks, staffHooks = newHookStore(one), newHookStore(two)
	attacker = mustService(t, hooks, clock, cheap)
	f = &fixture{store: two, clock: clock, svc: mustService(t, staffHooks, clock, cheap)}
	return f, attacker, hooks, staffHooks
}

// TestRedSignInUndoesDisable — was a breach; now a regression test.
//
// Support disables an account it believes stolen while the attacker, who
// has the password, is signing in. The first release's sign-in read the
// user row before the disable committed and wrote every column back after
// it, so disabled=false was restored and the attacker's session lived.
// Now the sign-in holds the row before it records anything, and refuses a
// person disabled since the password was looked up. Both orders are
// tried: the disable first, while the sign-in is between its password
// check and its record; and the sign-in first, holding the row while the
// disable waits.
func TestRedSignInUndoesDisable(t *testing.T) {
	for _, pauseAt := range []string{"ClearThrottleIf", "RecordSignIn"} {
		t.Run("paused at "+pauseAt, func(t *testing.T) {
			f, attacker, hooks, _ := redReplicas(t)
			ctx := context.Background()
			f.mustUser(t, "alice", pw)
			reached, release := make(chan struct{}), make(chan struct{})
			match := ""
			if pauseAt == "ClearThrottleIf" {
				match = mfagate.PasswordThrottleKey("alice")
			}
			hooks.on(pauseAt, pauseOnce(match, reached, release))
			done := make(chan signInResult, 1)
			go func() {
				in, err := attacker.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: from(7)})
				done <- signInResult{in, err}
			}()
			<-reached
			staffDone := make(chan error, 1)
			go func() {
				staffDone <- f.svc.SetDisabled(ctx, account.Actor{Name: "sam", ClientAddr: "10.0.0.5"}, "alice", true, "password found in a leak")
			}()
			if pauseAt == "ClearThrottleIf" {
				if err := <-staffDone; err != nil { // the disable commits first
					t.Fatalf("disable: %v", err)
				}
				close(release)
			} else {
				time.Sleep(50 * time.Millisecond) // let the disable reach the held row; either order must be safe
				close(release)
				if err := <-staffDone; err != nil {
					t.Fatalf("disable: %v", err)
				}
			}
			r := <-done
			u, err := f.svc.User(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if !u.Disabled {
				t.Errorf("BREACH: support disabled alice, and a sign-in in flight at the same moment re-enabled her")
			}
			if r.err == nil {
				if _, err := f.svc.Authenticate(ctx, r.in.Token); err == nil {
					t.Errorf("BREACH: the attacker's session made during the disable is live after it")
				}
			}
			if mfagate.ErrorCode(r.err) == mfagate.EINTERNAL {
				t.Errorf("the sign-in failed with an internal error: %v", r.err)
			}
		})
	}
}

// TestRedSignInUndoesPasswordReset — was a breach; now a regression test.
//
// The operator gives a stolen account a new password while the attacker
// signs in with the old one: the first release wrote the old hash back.
// Now a sign-in whose password was changed while it was checked is
// refused, and it never writes the hash but to upgrade it.
func TestRedSignInUndoesPasswordReset(t *testing.T) {
	f, attacker, hooks, _ := redReplicas(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	const fresh = "violet harbour compass"

	reached, release := make(chan struct{}), make(chan struct{})
	hooks.on("ClearThrottleIf", pauseOnce(mfagate.PasswordThrottleKey("alice"), reached, release))
	done := make(chan signInResult, 1)
	go func() {
		in, err := attacker.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: from(7)})
		done <- signInResult{in, err}
	}()
	<-reached
	if err := f.svc.SetPassword(ctx, account.Actor{Name: mfagate.ActorCLI, AtServer: true}, "alice", fresh); err != nil {
		t.Fatalf("set password: %v", err)
	}
	close(release)
	r := <-done
	if r.err != account.ErrBadCredentials {
		t.Errorf("the sign-in with the replaced password: got %v, want ErrBadCredentials", r.err)
	}
	if _, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: from(8)}); err == nil {
		t.Errorf("BREACH: after the operator set a new password, the stolen old password still signs in")
	}
	f.clock.Advance(time.Minute)
	if _, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: fresh, Client: from(9)}); err != nil {
		t.Errorf("BREACH: the password the operator set does not work: %v", err)
	}
}

// TestRedSignInDeadlocksWithDisable — was a breach (a deadlock and a
// 500); now a regression test.
//
// A sign-in that carries an earlier session cookie of the account ends
// that session; disabling the account updates the person's row and then
// deletes their sessions. The first release's sign-in took the session
// row first, then the person's, and the two deadlocked on PostgreSQL. Now
// every transaction takes the person's row before their sessions: the
// disable waits, then ends the new session too.
func TestRedSignInDeadlocksWithDisable(t *testing.T) {
	f, attacker, hooks, _ := redReplicas(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	old := f.mustSignIn(t, "alice", pw) // the attacker's earlier session, still in the cookie
	f.clock.Advance(time.Second)

	reached, release := make(chan struct{}), make(chan struct{})
	hooks.on("DeleteSession", pauseOnce("", reached, release))
	done := make(chan signInResult, 1)
	go func() {
		in, err := attacker.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: from(7), OldToken: old.Token})
		done <- signInResult{in, err}
	}()
	<-reached // the sign-in holds alice's row and is about to end the old session
	staffDone := make(chan error, 1)
	go func() {
		staffDone <- f.svc.SetDisabled(ctx, account.Actor{Name: "sam", ClientAddr: "10.0.0.5"}, "alice", true, "stolen")
	}()
	time.Sleep(50 * time.Millisecond) // let the disable wait on the row; it must not deadlock
	close(release)
	r, staffErr := <-done, <-staffDone
	for what, err := range map[string]error{"the sign-in": r.err, "the disable": staffErr} {
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	if r.err == nil {
		if _, err := f.svc.Authenticate(ctx, r.in.Token); err == nil {
			t.Errorf("BREACH: the session made just before the disable is live after it")
		}
	}
}

// TestRedThrottleLockOrderDeadlock — was a breach (a deadlock and a 500);
// now a regression test.
//
// Two right-password sign-ins of one account from one address (a double
// click, or an office behind one NAT) on PostgreSQL. The first release's
// admission took the address's throttle row before the username's, and
// its settling the other way round. Now every transaction takes the
// account's key before the address's.
func TestRedThrottleLockOrderDeadlock(t *testing.T) {
	f, attacker, hooks, staffHooks := redReplicas(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	addr := account.Actor{ClientAddr: "203.0.113.40", UserAgent: "browser"}
	addrKey := mfagate.AddressThrottleKey(addr.ClientAddr)

	// First sign-in: its settling transaction is paused just before it
	// takes the address (it holds user:alice already).
	reached, release := make(chan struct{}), make(chan struct{})
	hooks.on("ClearThrottleIf", pauseOnce(addrKey, reached, release))
	done1 := make(chan signInResult, 1)
	go func() {
		in, err := attacker.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: addr})
		done1 <- signInResult{in, err}
	}()
	<-reached
	// Second sign-in on the other replica asks for user:alice, held by
	// the first.
	second := make(chan struct{})
	staffHooks.on("StartThrottle", signalOnce(mfagate.PasswordThrottleKey("alice"), second))
	done2 := make(chan signInResult, 1)
	go func() {
		in, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: addr})
		done2 <- signInResult{in, err}
	}()
	<-second
	time.Sleep(50 * time.Millisecond) // let it wait on the row
	close(release)
	r1, r2 := <-done1, <-done2
	for i, r := range []signInResult{r1, r2} {
		if r.err != nil {
			t.Errorf("right-password sign-in %d: %v", i+1, r.err)
		}
	}
	var th *mfagate.Throttle
	if err := f.store.View(ctx, func(tx mfagate.Tx) (err error) {
		th, err = tx.Throttle(mfagate.PasswordThrottleKey("alice"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if th.Failures != 0 {
		t.Errorf("BREACH: after two right passwords alice's run has %d failures left counted", th.Failures)
	}
}

// TestRedTwoSetupsRace — was a breach (low); now a regression test.
//
// Email codes and an app are confirmed at once in one password-only
// session (two tabs, or two replicas) on PostgreSQL. The first release's
// second request read the factors and its session before the first
// committed, then waited on the throttle, and went on with a session the
// first had ended, making a second set of recovery codes. Now both read
// them once the account's key is held.
func TestRedTwoSetupsRace(t *testing.T) {
	f, first, hooks, otherHooks := redReplicas(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	in := f.mustSignIn(t, "alice", pw)
	cur := f.current(t, in.Token)
	if _, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSetup, "", client); err != nil {
		t.Fatal(err)
	}
	code := f.latestCode(t)
	setup, err := f.svc.StartTOTPSetup(ctx, cur)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := totp.DecodeSecret(setup.Secret)
	curA, curB := f.current(t, in.Token), f.current(t, in.Token)

	reached, release := make(chan struct{}), make(chan struct{})
	hooks.on("CreateFactor", pauseOnce(mfagate.MethodEmail, reached, release))
	type out struct {
		e   *account.Enrolled
		err error
	}
	doneA := make(chan out, 1)
	go func() {
		e, err := first.ConfirmEmailSetup(ctx, curA, code, client)
		doneA <- out{e, err}
	}()
	<-reached
	waiting := make(chan struct{})
	otherHooks.on("StartThrottle", signalOnce(mfagate.FactorThrottleKey("alice"), waiting))
	doneB := make(chan out, 1)
	go func() {
		e, err := f.svc.ConfirmTOTPSetup(ctx, curB, totp.Code(secret, totp.Step(f.clock.Now())), client)
		doneB <- out{e, err}
	}()
	<-waiting
	time.Sleep(50 * time.Millisecond) // let it wait on the key
	close(release)
	a, b := <-doneA, <-doneB
	if a.err != nil {
		t.Fatalf("email setup: %v", a.err)
	}
	if b.err == nil {
		t.Errorf("BREACH (low): the app was set up through session %s… after that session had been ended by the email setup's rotation", in.Token[:6])
		codes, err := f.svc.PendingRecoveryCodes(f.current(t, a.e.Token))
		if err != nil {
			t.Fatal(err)
		}
		full := f.current(t, b.e.Token)
		if _, err := f.svc.Verify(ctx, full, mfagate.MethodRecovery, codes[0], client); err != nil {
			t.Errorf("BREACH (low): the recovery codes shown after the email setup do not work (replaced by the racing app setup): %v", err)
		}
	}
}
