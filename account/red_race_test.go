package account_test

// Red-team tests: races between an attacker's sign-in and other changes
// to the same account, on two replicas of one PostgreSQL database. Each
// test pauses one transaction at a chosen call (hookStore) so that the
// interleaving an attacker with 100 concurrent requests would hit sooner
// or later happens every time.
//
// A test that FAILS demonstrates a breach; its message says which.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore/storetest"
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
	one, two := storetest.Postgres(t).Replicas(t)
	clock := mfagate.NewManualClock(start)
	hooks, staffHooks = newHookStore(one), newHookStore(two)
	attacker = mustService(t, hooks, clock, cheap)
	f = &fixture{store: two, clock: clock, svc: mustService(t, staffHooks, clock, cheap)}
	return f, attacker, hooks, staffHooks
}

// TestRedSignInUndoesDisable — BREACH (expected to fail).
//
// Support disables an account it believes stolen while the attacker, who
// has the password, is signing in. The sign-in's second transaction read
// the user row before the disable committed and writes every column back
// after it (UpdateUser of LastSignInAt), so disabled=false is restored and
// the attacker's new session, created after the disable ended every
// session, is live.
func TestRedSignInUndoesDisable(t *testing.T) {
	f, attacker, hooks, _ := redReplicas(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)

	reached, release := make(chan struct{}), make(chan struct{})
	hooks.on("UpdateUser", pauseOnce("alice", reached, release))
	done := make(chan signInResult, 1)
	go func() {
		in, err := attacker.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: from(7)})
		done <- signInResult{in, err}
	}()
	<-reached // the attacker's sign-in has read alice, not yet written her
	if err := f.svc.SetDisabled(ctx, account.Actor{Name: "sam", ClientAddr: "10.0.0.5"}, "alice", true, "password found in a leak"); err != nil {
		t.Fatalf("disable: %v", err)
	}
	close(release)
	r := <-done

	u, err := f.svc.User(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !u.Disabled {
		t.Errorf("BREACH: support disabled alice, and a sign-in in flight at the same moment re-enabled her (lost update on users.disabled)")
	}
	if r.err == nil {
		if _, err := f.svc.Authenticate(ctx, r.in.Token); err == nil {
			t.Errorf("BREACH: the attacker's session made during the disable is live after it")
		}
	}
}

// TestRedSignInUndoesPasswordReset — BREACH (expected to fail).
//
// The operator gives a stolen account a new password (mfagate user
// set-password, which ends its sessions) while the attacker signs in with
// the old one: the sign-in writes the old hash back, so the stolen
// password keeps working and the new one does not.
func TestRedSignInUndoesPasswordReset(t *testing.T) {
	f, attacker, hooks, _ := redReplicas(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	const fresh = "violet harbour compass"

	reached, release := make(chan struct{}), make(chan struct{})
	hooks.on("UpdateUser", pauseOnce("alice", reached, release))
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

	if _, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: from(8)}); err == nil {
		t.Errorf("BREACH: after the operator set a new password, the stolen old password still signs in (lost update on users.password_hash)")
	}
	f.clock.Advance(time.Minute)
	if _, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: fresh, Client: from(9)}); err != nil {
		t.Errorf("BREACH: the password the operator set does not work: %v", err)
	}
	if r.err == nil {
		if _, err := f.svc.Authenticate(ctx, r.in.Token); err == nil {
			t.Errorf("BREACH: the attacker's session made during the reset is live after it")
		}
	}
}

// TestRedSignInDeadlocksWithDisable — BREACH (expected to fail):
// availability.
//
// A sign-in that carries an earlier session cookie of the account ends
// that session (locks its row) and then updates the user row; disabling
// the account (or setting its password) updates the user row and then
// deletes its sessions. Run together on PostgreSQL they deadlock; the
// database aborts one, which answers 500.
func TestRedSignInDeadlocksWithDisable(t *testing.T) {
	f, attacker, hooks, staffHooks := redReplicas(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	old := f.mustSignIn(t, "alice", pw) // the attacker's earlier session, still in the cookie
	f.clock.Advance(time.Second)

	reached, release := make(chan struct{}), make(chan struct{})
	hooks.on("UpdateUser", pauseOnce("alice", reached, release))
	done := make(chan signInResult, 1)
	go func() {
		in, err := attacker.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: from(7), OldToken: old.Token})
		done <- signInResult{in, err}
	}()
	<-reached // the old session's row is deleted (locked) by the sign-in
	staffReady := make(chan struct{})
	staffHooks.on("DeleteUserSessions", signalOnce("", staffReady))
	staffDone := make(chan error, 1)
	go func() {
		staffDone <- f.svc.SetDisabled(ctx, account.Actor{Name: "sam", ClientAddr: "10.0.0.5"}, "alice", true, "stolen")
	}()
	<-staffReady // the disable has updated alice's row
	close(release)
	r, staffErr := <-done, <-staffDone

	for what, err := range map[string]error{"the sign-in": r.err, "the disable": staffErr} {
		if err != nil && mfagate.ErrorCode(err) == mfagate.EINTERNAL {
			t.Errorf("BREACH (availability): %s failed with an internal error (500): %v", what, err)
			if !strings.Contains(err.Error(), "deadlock") {
				t.Logf("(not reported as a deadlock)")
			}
		}
	}
}

// TestRedThrottleLockOrderDeadlock — BREACH (expected to fail):
// availability.
//
// The admission of a password takes the address's throttle row, then the
// username's; settling a right password takes the username's, then the
// address's. Two right-password sign-ins of one account from one address
// (a double click, or an office behind one NAT) on PostgreSQL deadlock:
// one is aborted with a 500, and when it is the one settling, its
// admitted attempt also stays counted towards the lock.
func TestRedThrottleLockOrderDeadlock(t *testing.T) {
	f, attacker, hooks, staffHooks := redReplicas(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	addr := account.Actor{ClientAddr: "203.0.113.40", UserAgent: "browser"}
	addrKey := mfagate.AddressThrottleKey(addr.ClientAddr)

	// First sign-in: its settling transaction is paused just before it
	// takes the address (it holds user:alice already).
	reached, release := make(chan struct{}), make(chan struct{})
	hooks.on("HoldThrottle", pauseNth(addrKey, 2, reached, release))
	done1 := make(chan signInResult, 1)
	go func() {
		in, err := attacker.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: addr})
		done1 <- signInResult{in, err}
	}()
	<-reached
	// Second sign-in on the other replica: it takes the address, then
	// asks for user:alice.
	second := make(chan struct{})
	staffHooks.on("HoldThrottle", signalOnce(mfagate.PasswordThrottleKey("alice"), second))
	done2 := make(chan signInResult, 1)
	go func() {
		in, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: addr})
		done2 <- signInResult{in, err}
	}()
	<-second
	close(release)
	r1, r2 := <-done1, <-done2
	for i, r := range []signInResult{r1, r2} {
		if r.err != nil && mfagate.ErrorCode(r.err) == mfagate.EINTERNAL {
			t.Errorf("BREACH (availability): right-password sign-in %d failed with an internal error (500): %v", i+1, r.err)
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
		t.Errorf("BREACH: after two right passwords alice's run has %d failures left counted (an aborted success stays counted)", th.Failures)
	}
}

// TestRedTwoSetupsRace — BREACH, low (expected to fail).
//
// Email codes and an app are confirmed at once in one password-only
// session (two tabs, or two replicas) on PostgreSQL. The second request
// read the factors and its session before the first committed, then
// waited on the throttle: it goes on with a session the first one ended
// (rotation), believes it sets up the first factor, and makes a second
// set of recovery codes that voids the set the first request is showing.
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
	otherHooks.on("HoldThrottle", signalOnce(mfagate.AddressThrottleKey(client.ClientAddr), waiting))
	doneB := make(chan out, 1)
	go func() {
		e, err := f.svc.ConfirmTOTPSetup(ctx, curB, totp.Code(secret, totp.Step(f.clock.Now())), client)
		doneB <- out{e, err}
	}()
	<-waiting
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
