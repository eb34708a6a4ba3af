package account_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/totp"
)

// flatCounts names each of Counts' numbers by its labels.
func flatCounts(c account.Counts) map[string]int64 {
	m := map[string]int64{
		"setups required": c.SetupsRequired, "setups offered": c.SetupsOffered, "skips": c.Skips,
	}
	for _, s := range c.SignIns {
		m["signin "+s.Method+" "+s.Outcome] = s.N
	}
	for _, f := range c.CodeFailures {
		m["wrong code "+f.Method+" at "+f.Step] = f.N
	}
	for _, l := range c.Locks {
		m["lock "+l.Kind+" by "+l.Cause] = l.N
	}
	for method, n := range c.Enrollments {
		m["enrolled "+method] = n
	}
	return m
}

// countsMeter reads what one action moved.
type countsMeter struct {
	svc  *account.Service
	last map[string]int64
}

func newCountsMeter(svc *account.Service) *countsMeter {
	return &countsMeter{svc: svc, last: flatCounts(svc.Counts())}
}

// moved fails unless the counts changed by exactly want since the last
// call: each named count by its number, every other by nothing.
func (m *countsMeter) moved(tb testing.TB, what string, want ...any) {
	tb.Helper()
	now := flatCounts(m.svc.Counts())
	wantBy := map[string]int64{}
	for i := 0; i+1 < len(want); i += 2 {
		wantBy[want[i].(string)] = int64(want[i+1].(int))
	}
	for name := range wantBy {
		if _, ok := now[name]; !ok {
			tb.Fatalf("%s: no count named %q (have %s)", what, name, strings.Join(slices.Sorted(maps.Keys(now)), ", "))
		}
	}
	var diffs []string
	for _, name := range slices.Sorted(maps.Keys(now)) {
		if got := now[name] - m.last[name]; got != wantBy[name] {
			diffs = append(diffs, fmt.Sprintf("%s: got +%d, want +%d", name, got, wantBy[name]))
		}
	}
	if len(diffs) > 0 {
		tb.Errorf("%s:\n  %s", what, strings.Join(diffs, "\n  "))
	}
	m.last = now
}

// tightFixture throttles sooner than the defaults, so that delays and
// locks come within a few attempts: a wait after 2 failures, a lock at
// every 4th, the hard lock at the 8th.
func tightFixture(tb testing.TB, plan *rollout.Rollout) *fixture {
	tb.Helper()
	f := &fixture{store: sqltest.SQLite().New(tb), clock: mfagate.NewManualClock(start)}
	svc, err := account.New(account.Options{Store: f.store, Clock: f.clock, Password: cheap, Key: testKey,
		Throttle: account.ThrottleSettings{DelayAfter: 2, LockAfter: 4, HardLockAfter: 8, LockFor: 15 * time.Minute},
		Rollout:  plan})
	if err != nil {
		tb.Fatal(err)
	}
	f.svc = svc
	return f
}

// TestCountsOfThePasswordStep: each way the password step ends moves its
// own count by one and nothing else; the refusals that look alike to the
// person (unknown name, wrong password) are one count, so the metrics do
// not tell who has an account either.
func TestCountsOfThePasswordStep(t *testing.T) {
	f := tightFixture(t, nil)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	f.mustUser(t, "bob", pw)
	m := newCountsMeter(f.svc)
	signIn := func(user, pass string) error {
		_, err := f.svc.SignIn(ctx, account.SignIn{Username: user, Password: pass})
		return err
	}

	signIn("nobody", pw)
	m.moved(t, "unknown username", "signin password wrong_password", 1)
	f.clock.Advance(time.Minute)
	signIn("alice", "not the password")
	m.moved(t, "wrong password", "signin password wrong_password", 1)
	signIn("alice", "")
	m.moved(t, "empty password", "signin password invalid", 1)
	f.mustSignIn(t, "alice", pw)
	m.moved(t, "right password, no factor", "signin password success", 1, "setups offered", 1)
	cur := f.current(t, f.mustSignIn(t, "alice", pw).Token)
	m.last = flatCounts(f.svc.Counts())
	if _, err := f.svc.SkipSetup(ctx, cur, client); err != nil {
		t.Fatal(err)
	}
	m.moved(t, "skip", "skips", 1)

	// bob: two wrong, then a wait, then the 4th locks for a while, then
	// the lock refuses even the right password.
	signIn("bob", "wrong 1")
	signIn("bob", "wrong 2")
	m.moved(t, "two wrong passwords", "signin password wrong_password", 2)
	if err := signIn("bob", "wrong 3"); mfagate.ErrorCode(err) != mfagate.ETHROTTLED {
		t.Fatalf("third at once: got %v, want a wait", err)
	}
	m.moved(t, "inside the delay", "signin password throttled", 1)
	f.clock.Advance(2 * time.Second)
	signIn("bob", "wrong 3")
	f.clock.Advance(3 * time.Second)
	signIn("bob", "wrong 4")
	m.moved(t, "the wrong password that locks", "signin password wrong_password", 2, "lock temporary by password", 1)
	if err := signIn("bob", pw); err != account.ErrBadCredentials {
		t.Fatalf("locked: got %v", err)
	}
	m.moved(t, "locked", "signin password locked", 1)
	// Four more after the lock ends: the 8th failure locks for good.
	for i := 5; i <= 8; i++ {
		f.clock.Advance(16 * time.Minute)
		signIn("bob", "wrong again")
	}
	m.moved(t, "to the hard lock", "signin password wrong_password", 4, "lock temporary by password", 0, "lock hard by password", 1)

	// The database gone: counted as an error, not as anyone's fault.
	f.store.Close()
	signIn("alice", pw)
	m.moved(t, "database closed", "signin password error", 1)
}

// TestCountsOfTheSecondStep: right, wrong, replayed and refused codes of
// each method, the wrong codes of a setup, enrollments and the code lock.
func TestCountsOfTheSecondStep(t *testing.T) {
	f := tightFixture(t, nil)
	ctx := context.Background()
	f.mustUser(t, "carol", pw)
	f.mustUser(t, "dave", pw)
	f.mustUser(t, "erin", pw)
	m := newCountsMeter(f.svc)

	secret, _ := f.mustTOTPFactor(t, "carol")
	m.moved(t, "carol sets up an app", "signin password success", 1, "setups offered", 1, "enrolled totp", 1)

	// A wrong first code from a new app.
	cur := f.current(t, f.mustSignIn(t, "dave", pw).Token)
	setup, err := f.svc.StartTOTPSetup(ctx, cur)
	if err != nil {
		t.Fatal(err)
	}
	daveSecret, _ := totp.DecodeSecret(setup.Secret)
	if _, err := f.svc.ConfirmTOTPSetup(ctx, cur, wrongTOTP(daveSecret, f.clock.Now()), client); err == nil {
		t.Fatal("a wrong setup code was accepted")
	}
	m.moved(t, "dave's wrong setup code", "signin password success", 1, "setups offered", 1, "wrong code totp at setup", 1)

	verify := func(cur *account.Current, method, code string) error {
		_, err := f.svc.Verify(ctx, cur, method, code, client)
		return err
	}
	f.clock.Advance(time.Minute)
	cur = f.current(t, f.mustSignIn(t, "carol", pw).Token)
	m.moved(t, "carol's password", "signin password success", 1)
	verify(cur, mfagate.MethodTOTP, wrongTOTP(secret, f.clock.Now()))
	m.moved(t, "a wrong app code", "signin totp wrong_code", 1, "wrong code totp at challenge", 1)
	verify(cur, mfagate.MethodEmail, "123456")
	m.moved(t, "a method carol has not set up", "signin email invalid", 1)
	right := totp.Code(secret, totp.Step(f.clock.Now()))
	if err := verify(cur, mfagate.MethodTOTP, right); err != nil {
		t.Fatal(err)
	}
	m.moved(t, "the right app code", "signin totp success", 1)
	cur = f.current(t, f.mustSignIn(t, "carol", pw).Token)
	verify(cur, mfagate.MethodTOTP, right)
	m.moved(t, "the same code again", "signin password success", 1, "signin totp replayed", 1, "wrong code totp at challenge", 1)

	// The right code forgot the first wrong one: with the replay and one
	// more, the third at once must wait, the fourth locks, and then even
	// the right code is refused unchecked.
	verify(cur, mfagate.MethodTOTP, wrongTOTP(secret, f.clock.Now()))
	m.moved(t, "a second wrong code", "signin totp wrong_code", 1, "wrong code totp at challenge", 1)
	if err := verify(cur, mfagate.MethodTOTP, wrongTOTP(secret, f.clock.Now())); mfagate.ErrorCode(err) != mfagate.ETHROTTLED {
		t.Fatalf("a third code at once: got %v, want a wait", err)
	}
	m.moved(t, "inside the delay", "signin totp throttled", 1)
	f.clock.Advance(2 * time.Second)
	verify(cur, mfagate.MethodTOTP, wrongTOTP(secret, f.clock.Now()))
	f.clock.Advance(3 * time.Second)
	if err := verify(cur, mfagate.MethodTOTP, wrongTOTP(secret, f.clock.Now())); err != account.ErrLocked {
		t.Fatalf("the fourth wrong code: got %v, want ErrLocked", err)
	}
	m.moved(t, "to the lock", "signin totp wrong_code", 2, "wrong code totp at challenge", 2, "lock temporary by code", 1)
	if err := verify(cur, mfagate.MethodTOTP, totp.Code(secret, totp.Step(f.clock.Now()))); err != account.ErrLocked {
		t.Fatalf("the right code while locked: got %v, want ErrLocked", err)
	}
	m.moved(t, "locked", "signin totp locked", 1)

	// erin: email codes and a recovery code.
	token := f.mustEmailFactor(t, "erin")
	m.moved(t, "erin sets up email codes", "signin password success", 1, "setups offered", 1, "enrolled email", 1)
	codes, _ := f.svc.PendingRecoveryCodes(f.current(t, token))
	f.clock.Advance(time.Minute)
	cur = f.current(t, f.mustSignIn(t, "erin", pw).Token)
	if _, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSignIn, "", client); err != nil {
		t.Fatal(err)
	}
	code := f.latestCode(t)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	verify(cur, mfagate.MethodEmail, wrong)
	m.moved(t, "a wrong email code", "signin password success", 1, "signin email wrong_code", 1, "wrong code email at challenge", 1)
	if err := verify(cur, mfagate.MethodRecovery, codes[0]); err != nil {
		t.Fatal(err)
	}
	m.moved(t, "a recovery code", "signin recovery success", 1)
}

// TestCountsRequiredSetup: a phase that demands a factor sends the
// password step to a setup that cannot be skipped, and counts it so.
func TestCountsRequiredSetup(t *testing.T) {
	required := &rollout.Rollout{Location: time.UTC, Phases: []rollout.Phase{{Name: "Required", Start: start.Add(-time.Hour),
		Audience: []string{rollout.Everyone}, Requirement: rollout.Required, Methods: []string{mfagate.MethodTOTP}}}}
	f := tightFixture(t, required)
	f.mustUser(t, "frank", pw)
	m := newCountsMeter(f.svc)
	in := f.mustSignIn(t, "frank", pw)
	if in.Next.Outcome != rollout.RequireEnrollment {
		t.Fatalf("got %v, want a required setup", in.Next.Outcome)
	}
	m.moved(t, "a sign-in sent to a required setup", "signin password success", 1, "setups required", 1)
	if _, err := f.svc.SkipSetup(context.Background(), f.current(t, in.Token), client); err == nil {
		t.Fatal("a required setup was skipped")
	}
	m.moved(t, "a refused skip")
}
