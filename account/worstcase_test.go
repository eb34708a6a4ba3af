package account_test

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/emailcode"
)

// The worst case an attacker gets, in numbers: docs/security.md ("What an
// attacker can and cannot do") quotes what this test measures.

var waitRE = regexp.MustCompile(`Wait (\d+) seconds?`)

// guesser makes one guess of its kind and reports the error; the attack
// loop counts what the service checked, through Checks.
type guesser func(i int) error

// attack guesses as fast as the throttle allows, for as long as it lets
// any guess be checked, on a manual clock: after a wait error it waits
// exactly that long, and when nothing is checked (a lock) it comes back a
// minute later. It returns the guesses checked in the first hour and in
// all, until the hard lock, and how long that took.
func attack(t *testing.T, f *fixture, checked func() int64, guess guesser) (firstHour, total int, took time.Duration) {
	t.Helper()
	begin, before := f.clock.Now(), checked()
	for i := 0; i < 2000; i++ {
		if locked, hard, _ := f.svc.Locked(context.Background(), "alice"); locked && hard {
			break
		}
		n := checked()
		err := guess(i)
		if f.clock.Now().Sub(begin) < time.Hour {
			firstHour = int(checked() - before)
		}
		switch m := waitRE.FindStringSubmatch(mfagate.ErrorMessage(err)); {
		case m != nil:
			secs, _ := strconv.Atoi(m[1])
			f.clock.Advance(time.Duration(secs) * time.Second)
		case checked() == n: // refused unchecked: locked
			f.clock.Advance(time.Minute)
		}
	}
	return firstHour, int(checked() - before), f.clock.Now().Sub(begin)
}

func TestWorstCaseGuessesPerHour(t *testing.T) {
	ctx := context.Background()
	kinds := []struct {
		name  string
		setup func(t *testing.T, f *fixture) (func() int64, guesser)
	}{
		{"password", func(t *testing.T, f *fixture) (func() int64, guesser) {
			return func() int64 { return f.svc.Checks().Password }, func(i int) error {
				_, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: "guess " + strconv.Itoa(i), Client: from(i)})
				return err
			}
		}},
		{"authenticator code", func(t *testing.T, f *fixture) (func() int64, guesser) {
			secret, _ := f.mustTOTPFactor(t, "alice")
			return func() int64 { return f.svc.Checks().Codes[mfagate.MethodTOTP] }, func(i int) error {
				in, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: from(i)})
				if err != nil {
					return err
				}
				_, err = f.svc.Verify(ctx, f.current(t, in.Token), mfagate.MethodTOTP, wrongTOTP(secret, f.clock.Now()), from(i))
				return err
			}
		}},
		{"email code", func(t *testing.T, f *fixture) (func() int64, guesser) {
			f.mustEmailFactor(t, "alice")
			var cur *account.Current
			return func() int64 { return f.svc.Checks().Codes[mfagate.MethodEmail] }, func(i int) error {
				if cur == nil {
					in, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: from(i)})
					if err != nil {
						return err
					}
					cur = f.current(t, in.Token)
					if _, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSignIn, "", from(i)); err != nil {
						cur = nil
						return err
					}
				}
				_, err := f.svc.Verify(ctx, cur, mfagate.MethodEmail, "000000", from(i))
				if errors.Is(err, emailcode.ErrTooManyTries) || errors.Is(err, account.ErrLocked) || errors.Is(err, account.ErrNoSession) {
					cur = nil // a new sign-in and a new code
				}
				return err
			}
		}},
		{"recovery code", func(t *testing.T, f *fixture) (func() int64, guesser) {
			f.mustTOTPFactor(t, "alice")
			return func() int64 { return f.svc.Checks().Codes[mfagate.MethodRecovery] }, func(i int) error {
				in, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: from(i)})
				if err != nil {
					return err
				}
				_, err = f.svc.Verify(ctx, f.current(t, in.Token), mfagate.MethodRecovery, "AAAA-AAAA-AAAA-AAAA", from(i))
				return err
			}
		}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			f := newFixture(t)
			f.mustUser(t, "alice", pw)
			checked, guess := k.setup(t, f)
			hour, total, took := attack(t, f, checked, guess)
			t.Logf("%s: %d guesses checked in the first hour, %d in all before the hard lock (after %v)", k.name, hour, total, took.Round(time.Minute))
			if hour > 39 || total > 50 {
				t.Errorf("%s: got %d in the first hour and %d in all, want at most 39 and 50", k.name, hour, total)
			}
			if total < 50 {
				t.Errorf("%s: only %d before the hard lock: the attack loop no longer pushes the throttle to its limit", k.name, total)
			}
		})
	}
}
