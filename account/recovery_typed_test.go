package account_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// typedLoosely is code as a person might type it from paper: lower case,
// 0 for every O, groups split by spaces and an en dash.
func typedLoosely(code string) string {
	g := strings.Split(strings.ReplaceAll(strings.ToLower(code), "o", "0"), "-")
	return " " + g[0] + " " + g[1] + " \u2013 " + g[2] + "-" + g[3] + " "
}

// TestRecoveryCodeTypedLoosely: a code typed in lower case, with 0 for O,
// spaces and dashes signs in and is then used up; badly formed codes are
// refused with a message that says what is wrong and are not guesses:
// more of them than the lock allows check nothing, count nothing and
// leave the right code working at once.
func TestRecoveryCodeTypedLoosely(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		f := newBackendFixture(t, b)
		f.mustUser(t, "alice", pw)
		token := f.mustEmailFactor(t, "alice")
		codes, err := f.svc.PendingRecoveryCodes(f.current(t, token))
		if err != nil {
			t.Fatal(err)
		}
		// Take a code with an O in it, to type as 0 (1 in 160 sets of ten
		// has none: make new ones then).
		var code string
		for tries := 0; code == ""; tries++ {
			for _, c := range codes {
				if strings.Contains(c, "O") {
					code = c
					break
				}
			}
			if code == "" {
				if tries == 20 {
					t.Fatal("no recovery code with an O in 20 sets")
				}
				if err := f.svc.RenewRecoveryCodes(ctx, f.current(t, token), client); err != nil {
					t.Fatal(err)
				}
				codes, _ = f.svc.PendingRecoveryCodes(f.current(t, token))
			}
		}
		other := codes[0]
		if other == code {
			other = codes[1]
		}
		cur := f.current(t, f.mustSignIn(t, "alice", pw).Token)
		checksBefore := f.svc.Checks().Codes[mfagate.MethodRecovery]
		factorEvents := func() int {
			return len(f.audit(t, mfagate.AuditFilter{Subject: "alice", Kind: mfagate.AuditSignInFactor}))
		}
		eventsBefore := factorEvents()

		flat := strings.ReplaceAll(other, "-", "")
		malformed := []struct{ in, msg string }{
			{flat[:15], "A recovery code has 16 letters and numbers; you entered 15"},
			{flat + "A", "A recovery code has 16 letters and numbers; you entered 17"},
			{flat[:15] + "8", "A recovery code uses only the letters A to Z and the numbers 2 to 7; ‘8’ is not one of them"},
			{"1" + flat[1:], "A recovery code has no number 1. Type the letter I or the letter L, whichever your code shows"},
			{" - ", "Enter a recovery code"},
			{"123456", "A recovery code has no number 1. Type the letter I or the letter L, whichever your code shows"},
		}
		// Twice round: 12 refusals, more than the 10 that lock an account.
		for round := 0; round < 2; round++ {
			for _, m := range malformed {
				_, err := f.svc.Verify(ctx, cur, mfagate.MethodRecovery, m.in, client)
				if mfagate.ErrorCode(err) != mfagate.EINVALID || mfagate.ErrorMessage(err) != m.msg {
					t.Fatalf("%q: got %v (%s), want %q", m.in, err, mfagate.ErrorCode(err), m.msg)
				}
			}
		}
		if n := f.svc.Checks().Codes[mfagate.MethodRecovery] - checksBefore; n != 0 {
			t.Fatalf("badly formed codes: %d recovery codes checked, want none", n)
		}
		if n := factorEvents() - eventsBefore; n != 0 {
			t.Fatalf("badly formed codes: %d sign-in attempts audited, want none", n)
		}
		if locked, _, err := f.svc.Locked(ctx, "alice"); err != nil || locked {
			t.Fatalf("after 12 badly formed codes: locked %v, %v; want not locked", locked, err)
		}

		// No delay was earned: the right code, typed loosely, works now.
		typed := typedLoosely(code)
		if !strings.Contains(typed, "0") || strings.ContainsAny(typed, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Fatalf("typed %q: want lower case with a 0", typed)
		}
		v, err := f.svc.Verify(ctx, cur, mfagate.MethodRecovery, typed, client)
		if err != nil {
			t.Fatalf("%q for %s: %v", typed, code, err)
		}
		if v.Session.Stage != mfagate.StageFull {
			t.Fatalf("got stage %q, want signed in", v.Session.Stage)
		}
		if subj := f.subjects(t); subj[0] != "A recovery code was used to sign in" || !strings.Contains(f.mail(t)[0].Text, "9 left") {
			t.Fatalf("got %q, want a notice saying 9 are left", subj[0])
		}

		// Used up, however it is typed; and a wrong well-formed code is a
		// guess: checked, audited, counted.
		cur = f.current(t, f.mustSignIn(t, "alice", pw).Token)
		for i, in := range []string{typed, code, strings.ToLower(code)} {
			f.clock.Advance(time.Minute) // past any delay the last wrong code set
			_, err := f.svc.Verify(ctx, cur, mfagate.MethodRecovery, in, client)
			if err != account.ErrWrongRecoveryCode {
				t.Fatalf("%q a second time: got %v, want ErrWrongRecoveryCode", in, err)
			}
			if n := f.svc.Checks().Codes[mfagate.MethodRecovery] - checksBefore; n != int64(i+2) {
				t.Fatalf("after %d wrong codes: %d checked in all, want %d", i+1, n, i+2)
			}
		}
		var failures int
		for _, e := range f.audit(t, mfagate.AuditFilter{Subject: "alice", Kind: mfagate.AuditSignInFactor}) {
			if e.Outcome != mfagate.OutcomeSuccess {
				failures++
			}
		}
		if failures != 3 {
			t.Fatalf("got %d failed sign-in attempts audited, want the 3 wrong codes", failures)
		}
		f.clock.Advance(time.Minute)
		if _, err := f.svc.Verify(ctx, cur, mfagate.MethodRecovery, typedLoosely(other), client); err != nil {
			t.Fatalf("another code typed loosely after wrong ones: %v", err)
		}
	})
}
