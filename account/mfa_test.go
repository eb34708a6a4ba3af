package account_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/emailcode"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/totp"
)

var codeRE = regexp.MustCompile(`Your security code is: (\d{6})`)

// latestCode reads the code in the newest code email.
func (f *fixture) latestCode(tb testing.TB) string {
	tb.Helper()
	for _, m := range f.mail(tb) {
		if c := codeRE.FindStringSubmatch(m.Text); c != nil {
			return c[1]
		}
	}
	tb.Fatal("no code email in the outbox")
	return ""
}

// subjects lists the subjects of the emails sent to addr, newest first.
func (f *fixture) subjects(tb testing.TB) []string {
	var out []string
	for _, m := range f.mail(tb) {
		out = append(out, m.Subject)
	}
	return out
}

func (f *fixture) current(tb testing.TB, token string) *account.Current {
	tb.Helper()
	cur, err := f.svc.Authenticate(context.Background(), token)
	if err != nil {
		tb.Fatalf("authenticate: %v", err)
	}
	return cur
}

var client = account.Actor{ClientAddr: "192.0.2.10", UserAgent: "test"}

// mustEmailFactor signs alice in and sets up email codes, returning the
// fully signed-in session's token.
func (f *fixture) mustEmailFactor(tb testing.TB, name string) string {
	tb.Helper()
	ctx := context.Background()
	in := f.mustSignIn(tb, name, pw)
	cur := f.current(tb, in.Token)
	if _, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSetup, "", client); err != nil {
		tb.Fatal(err)
	}
	out, err := f.svc.ConfirmEmailSetup(ctx, cur, f.latestCode(tb), client)
	if err != nil {
		tb.Fatal(err)
	}
	return out.Token
}

// mustTOTPFactor signs name in, sets up an authenticator app and returns
// the secret and the fully signed-in token.
func (f *fixture) mustTOTPFactor(tb testing.TB, name string) ([]byte, string) {
	tb.Helper()
	ctx := context.Background()
	cur := f.current(tb, f.mustSignIn(tb, name, pw).Token)
	setup, err := f.svc.StartTOTPSetup(ctx, cur)
	if err != nil {
		tb.Fatal(err)
	}
	secret, err := totp.DecodeSecret(setup.Secret)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := f.svc.ConfirmTOTPSetup(ctx, cur, totp.Code(secret, totp.Step(f.clock.Now())), client)
	if err != nil {
		tb.Fatal(err)
	}
	return secret, out.Token
}

func TestEmailSetupAndSignIn(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	in := f.mustSignIn(t, "alice", pw)
	if in.Next.Outcome != rollout.OfferEnrollment || in.Session.Stage != mfagate.StagePassword {
		t.Fatalf("got %v at stage %v, want setup offered before full sign-in", in.Next.Outcome, in.Session.Stage)
	}
	cur := f.current(t, in.Token)
	sent, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSetup, "", client)
	if err != nil {
		t.Fatal(err)
	}
	if sent.Address != "alice@example.com" || !sent.ExpiresAt.Equal(start.Add(10*time.Minute)) {
		t.Fatalf("got %+v, want a code to alice lasting 10 minutes", sent)
	}
	code := f.latestCode(t)
	msg := f.mail(t)[0]
	if msg.To != "alice@example.com" || strings.Contains(msg.Text, "http") || !strings.Contains(msg.Text, "10 minutes") {
		t.Fatalf("code email: got to %q:\n%s\nwant to alice, saying how long, without links", msg.To, msg.Text)
	}
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	if _, err := f.svc.ConfirmEmailSetup(ctx, cur, wrong, client); !errors.Is(err, emailcode.ErrWrongCode) {
		t.Fatalf("wrong code: got %v, want ErrWrongCode", err)
	}
	if fs, _ := f.svc.Factors(ctx, cur.User.ID); len(fs) != 0 {
		t.Fatal("a wrong code created a factor")
	}
	out, err := f.svc.ConfirmEmailSetup(ctx, cur, code[:3]+" "+code[3:], client)
	if err != nil {
		t.Fatalf("right code with a space: %v", err)
	}
	if out.Token == "" || out.Token == in.Token || !out.RecoveryCodes {
		t.Fatalf("got %+v, want a new session id and recovery codes to show", out)
	}
	if _, err := f.svc.Authenticate(ctx, in.Token); err != account.ErrNoSession {
		t.Fatalf("the pre-setup session id: got %v, want it dead", err)
	}
	full := f.current(t, out.Token)
	if full.Session.Stage != mfagate.StageFull || !full.Session.SecondFactorAt.Equal(start) {
		t.Fatalf("got stage %v, second factor at %v; want full, now", full.Session.Stage, full.Session.SecondFactorAt)
	}
	codes, err := f.svc.PendingRecoveryCodes(full)
	if err != nil || len(codes) != 10 {
		t.Fatalf("got %d recovery codes, %v; want 10", len(codes), err)
	}
	if n, _ := f.svc.RecoveryCodesLeft(ctx, full.User.ID); n != 10 {
		t.Fatalf("got %d unused recovery codes stored, want 10", n)
	}
	if err := f.svc.RecoveryCodesSaved(ctx, full); err != nil {
		t.Fatal(err)
	}
	if again, _ := f.svc.PendingRecoveryCodes(f.current(t, out.Token)); again != nil {
		t.Fatal("recovery codes are still shown after being saved")
	}
	if subj := f.subjects(t); subj[0] != "A new way to confirm it's you was added" {
		t.Fatalf("got emails %q, want the factor-added notice last", subj)
	}

	// At the next sign-in the person is challenged, by email.
	f.clock.Advance(time.Hour)
	in = f.mustSignIn(t, "alice", pw)
	if in.Next.Outcome != rollout.Challenge || in.Session.Stage != mfagate.StagePassword {
		t.Fatalf("got %v, want a challenge", in.Next.Outcome)
	}
	cur = f.current(t, in.Token)
	if _, err := f.svc.Verify(ctx, cur, mfagate.MethodTOTP, "123456", client); mfagate.ErrorCode(err) != mfagate.EINVALID {
		t.Fatalf("a method not set up: got %v, want EINVALID", err)
	}
	if _, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSignIn, "", client); err != nil {
		t.Fatal(err)
	}
	v, err := f.svc.Verify(ctx, cur, mfagate.MethodEmail, f.latestCode(t), client)
	if err != nil {
		t.Fatal(err)
	}
	if v.Token == in.Token || v.Session.Stage != mfagate.StageFull {
		t.Fatal("passing the challenge did not rotate the session into full sign-in")
	}
	fs, _ := f.svc.Factors(ctx, cur.User.ID)
	if !fs[0].LastUsedAt.Equal(f.clock.Now()) {
		t.Fatalf("got last used %v, want now", fs[0].LastUsedAt)
	}
}

func TestEmailCodeRules(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*fixture, *account.Current) {
		f := newFixture(t)
		f.mustUser(t, "alice", pw)
		return f, f.current(t, f.mustSignIn(t, "alice", pw).Token)
	}
	send := func(t *testing.T, f *fixture, cur *account.Current) string {
		t.Helper()
		if _, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSetup, "", client); err != nil {
			t.Fatal(err)
		}
		return f.latestCode(t)
	}
	wrongOf := func(code string) string {
		if code == "000000" {
			return "000001"
		}
		return "000000"
	}
	t.Run("refused after 10 minutes", func(t *testing.T) {
		f, cur := setup(t)
		code := send(t, f, cur)
		f.clock.Advance(10 * time.Minute)
		if _, err := f.svc.ConfirmEmailSetup(ctx, cur, code, client); !errors.Is(err, emailcode.ErrExpired) {
			t.Fatalf("got %v, want ErrExpired", err)
		}
	})
	t.Run("accepted just before 10 minutes", func(t *testing.T) {
		f, cur := setup(t)
		code := send(t, f, cur)
		f.clock.Advance(10*time.Minute - time.Millisecond)
		if _, err := f.svc.ConfirmEmailSetup(ctx, cur, code, client); err != nil {
			t.Fatalf("got %v, want accepted", err)
		}
	})
	t.Run("single use", func(t *testing.T) {
		f := newFixture(t)
		f.mustUser(t, "alice", pw)
		f.mustEmailFactor(t, "alice")
		f.clock.Advance(31 * time.Second) // the cooldown after the setup code
		cur := f.current(t, f.mustSignIn(t, "alice", pw).Token)
		if _, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSignIn, "", client); err != nil {
			t.Fatal(err)
		}
		code := f.latestCode(t)
		if _, err := f.svc.Verify(ctx, cur, mfagate.MethodEmail, code, client); err != nil {
			t.Fatal(err)
		}
		cur = f.current(t, f.mustSignIn(t, "alice", pw).Token)
		if _, err := f.svc.Verify(ctx, cur, mfagate.MethodEmail, code, client); err == nil {
			t.Fatal("a used code signed in again")
		}
	})
	t.Run("five wrong tries end the code", func(t *testing.T) {
		f, cur := setup(t)
		code := send(t, f, cur)
		for i := 1; i <= 5; i++ {
			if _, err := f.svc.ConfirmEmailSetup(ctx, cur, wrongOf(code), client); !errors.Is(err, emailcode.ErrWrongCode) {
				t.Fatalf("wrong try %d: got %v, want ErrWrongCode", i, err)
			}
			f.clock.Advance(time.Minute) // past any growing delay
		}
		if _, err := f.svc.ConfirmEmailSetup(ctx, cur, code, client); !errors.Is(err, emailcode.ErrTooManyTries) {
			t.Fatalf("the right code after five wrong tries: got %v, want ErrTooManyTries", err)
		}
	})
	t.Run("resend voids the old code, keeps the count, honours the cooldown", func(t *testing.T) {
		f, cur := setup(t)
		old := send(t, f, cur)
		for i := 0; i < 3; i++ {
			f.svc.ConfirmEmailSetup(ctx, cur, wrongOf(old), client)
			f.clock.Advance(10 * time.Second)
		}
		// 30 s have passed since sending; 29 s would be too soon.
		f.clock.Set(start.Add(29 * time.Second))
		_, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSetup, "", client)
		if mfagate.ErrorCode(err) != mfagate.ETHROTTLED || !strings.Contains(err.Error(), "from 09:00:30") {
			t.Fatalf("resend after 29 s: got %v, want a refusal saying when (09:00:30)", err)
		}
		f.clock.Set(start.Add(31 * time.Second))
		fresh := send(t, f, cur)
		if old == fresh {
			t.Skip("the two random codes happened to be equal")
		}
		f.clock.Advance(time.Minute)
		if _, err := f.svc.ConfirmEmailSetup(ctx, cur, old, client); !errors.Is(err, emailcode.ErrWrongCode) {
			t.Fatalf("the old code after a resend: got %v, want it refused", err)
		}
		// Three failures carried over and the old code made four: one more
		// wrong try uses up five.
		f.clock.Advance(time.Minute)
		f.svc.ConfirmEmailSetup(ctx, cur, wrongOf(fresh), client)
		f.clock.Advance(time.Minute)
		if _, err := f.svc.ConfirmEmailSetup(ctx, cur, fresh, client); !errors.Is(err, emailcode.ErrTooManyTries) {
			t.Fatalf("got %v, want ErrTooManyTries: a resend must not reset the count", err)
		}
	})
	t.Run("hourly cap", func(t *testing.T) {
		f, cur := setup(t)
		for i := 0; i < 10; i++ {
			send(t, f, cur)
			f.clock.Advance(31 * time.Second)
		}
		if _, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSetup, "", client); mfagate.ErrorCode(err) != mfagate.ETHROTTLED {
			t.Fatalf("11th code within the hour: got %v, want ETHROTTLED", err)
		}
		f.clock.Set(start.Add(time.Hour + time.Second))
		send(t, f, cur)
	})
	t.Run("a code is bound to its sign-in attempt", func(t *testing.T) {
		f, cur := setup(t)
		code := send(t, f, cur)
		other := f.current(t, f.mustSignIn(t, "alice", pw).Token)
		if _, err := f.svc.ConfirmEmailSetup(ctx, other, code, client); err == nil {
			t.Fatal("a code sent for one sign-in worked in another")
		}
	})
	// A password alone must never move where codes go: the issue's
	// takeover sent a setup code to the thief's address and made it the
	// account's.
	t.Run("only the registered address gets codes", func(t *testing.T) {
		f, cur := setup(t)
		before := len(f.mail(t))
		for _, addr := range []string{"thief@evil.example", "not an address", "alice@example.com.evil.example"} {
			if _, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSetup, addr, client); err != account.ErrOtherAddress {
				t.Fatalf("a code to %q: got %v, want ErrOtherAddress", addr, err)
			}
		}
		if got := len(f.mail(t)); got != before {
			t.Fatalf("got %d new emails, want none", got-before)
		}
		if evs := f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditCodeSent}); len(evs) < 3 || evs[0].Outcome != mfagate.OutcomeDenied {
			t.Fatalf("got %+v, want the refusals audited", evs)
		}
		// The registered address, typed in any case, is fine.
		if _, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSetup, "Alice@Example.com", client); err != nil {
			t.Fatal(err)
		}
		if to := f.mail(t)[0].To; to != "alice@example.com" {
			t.Fatalf("code sent to %q, want the registered address", to)
		}
		if _, err := f.svc.ConfirmEmailSetup(ctx, cur, f.latestCode(t), client); err != nil {
			t.Fatal(err)
		}
		if u, _ := f.svc.User(ctx, "alice"); u.Email != "alice@example.com" {
			t.Fatalf("got email %q, want it unchanged", u.Email)
		}
	})
}

func TestTOTPSetupAndReplay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	cur := f.current(t, f.mustSignIn(t, "alice", pw).Token)
	setup, err := f.svc.StartTOTPSetup(ctx, cur)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := f.svc.StartTOTPSetup(ctx, cur); again.Secret != setup.Secret {
		t.Fatal("reloading the setup page changed the secret")
	}
	if !strings.Contains(setup.URI, "otpauth://totp/mfagate:alice?") || !strings.Contains(setup.URI, "issuer=mfagate") {
		t.Fatalf("got URI %q, want the issuer in label and query", setup.URI)
	}
	secret, _ := totp.DecodeSecret(setup.Secret)
	if len(secret) != 20 {
		t.Fatalf("got a %d-byte secret, want 20", len(secret))
	}
	if _, err := f.svc.ConfirmTOTPSetup(ctx, cur, "12345", client); mfagate.ErrorCode(err) != mfagate.EINVALID {
		t.Fatalf("five digits: got %v, want EINVALID", err)
	}
	code := totp.Code(secret, totp.Step(f.clock.Now()))
	if _, err := f.svc.ConfirmTOTPSetup(ctx, cur, code, client); err != nil {
		t.Fatal(err)
	}
	fs, _ := f.svc.Factors(ctx, cur.User.ID)
	if len(fs) != 1 || fs[0].Method != mfagate.MethodTOTP {
		t.Fatalf("got %+v, want one TOTP factor", fs)
	}
	if strings.Contains(string(fs[0].Secret), string(secret)) || strings.Contains(string(fs[0].Secret), totp.EncodeSecret(secret)) {
		t.Fatal("the stored secret holds the plain secret")
	}

	// The code used at setup cannot sign in: its step is spent. Typed
	// again at once, it is Alice's own repeat, not an attack: refused and
	// audited, but she is not emailed that a code was used twice.
	mailed := len(f.subjects(t))
	in := f.mustSignIn(t, "alice", pw)
	cur = f.current(t, in.Token)
	if _, err := f.svc.Verify(ctx, cur, mfagate.MethodTOTP, code, client); !errors.Is(err, account.ErrSetupCodeAgain) || !errors.Is(err, totp.ErrReplay) {
		t.Fatalf("the setup code again: got %v, want ErrSetupCodeAgain, a replay", err)
	}
	if msg := mfagate.ErrorMessage(account.ErrSetupCodeAgain); !strings.Contains(msg, "Wait for your app to show a new one") {
		t.Fatalf("the page would say %q, which does not ask for the next code", msg)
	}
	f.svc.SendHeldAlerts(ctx, 10)
	if subj := f.subjects(t); len(subj) != mailed {
		t.Fatalf("the setup code typed again emailed %q", subj[:len(subj)-mailed])
	}
	if evs := f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditSignInFactor}); evs[0].Outcome != mfagate.OutcomeFailure || !strings.Contains(evs[0].Detail, "set up the app") {
		t.Fatalf("got %+v, want the repeat of the setup code audited", evs[0])
	}
	f.clock.Advance(30 * time.Second)
	next := totp.Code(secret, totp.Step(f.clock.Now()))
	if _, err := f.svc.Verify(ctx, cur, mfagate.MethodTOTP, next, client); err != nil {
		t.Fatalf("the next code: %v", err)
	}
	cur = f.current(t, f.mustSignIn(t, "alice", pw).Token)
	if _, err := f.svc.Verify(ctx, cur, mfagate.MethodTOTP, next, client); !errors.Is(err, totp.ErrReplay) {
		t.Fatalf("the same code twice: got %v, want ErrReplay", err)
	}
	if subj := f.subjects(t); subj[0] != "A security code was used twice" {
		t.Fatalf("got emails %q, want the replay notice", subj)
	}
	evs := f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditSignInFactor})
	if evs[0].Outcome != mfagate.OutcomeFailure || !strings.Contains(evs[0].Detail, "already used") {
		t.Fatalf("got %+v, want the replay audited", evs[0])
	}
	// One step of skew either way is accepted, two are not.
	f.clock.Advance(30 * time.Second)
	now := totp.Step(f.clock.Now())
	if _, err := f.svc.Verify(ctx, cur, mfagate.MethodTOTP, totp.Code(secret, now+2), client); !errors.Is(err, totp.ErrWrongCode) {
		t.Fatalf("two steps ahead: got %v, want ErrWrongCode", err)
	}
	f.clock.Advance(time.Minute) // past the growing delay
	if _, err := f.svc.Verify(ctx, cur, mfagate.MethodTOTP, totp.Code(secret, totp.Step(f.clock.Now())+1), client); err != nil {
		t.Fatalf("one step ahead: got %v, want accepted", err)
	}
}

func TestAbandonedSetupLeavesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	in := f.mustSignIn(t, "alice", pw)
	cur := f.current(t, in.Token)
	if _, err := f.svc.StartTOTPSetup(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSetup, "", client); err != nil {
		t.Fatal(err)
	}
	f.svc.SignOut(ctx, in.Token, client)
	next := f.mustSignIn(t, "alice", pw)
	if next.Next.Outcome != rollout.OfferEnrollment {
		t.Fatalf("got %v, want setup offered again: nothing was set up", next.Next.Outcome)
	}
	if fs, _ := f.svc.Factors(ctx, cur.User.ID); len(fs) != 0 {
		t.Fatalf("got %d factors after an abandoned setup, want none", len(fs))
	}
	fresh := f.current(t, next.Token)
	if fresh.Session.PendingTOTP != nil {
		t.Fatal("a new session carries the abandoned secret")
	}
	if _, err := f.svc.ConfirmTOTPSetup(ctx, fresh, "123456", client); mfagate.ErrorCode(err) != mfagate.EINVALID {
		t.Fatalf("confirming without a started setup: got %v, want EINVALID", err)
	}
}

func TestRecoveryCodes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	token := f.mustEmailFactor(t, "alice")
	codes, _ := f.svc.PendingRecoveryCodes(f.current(t, token))
	cur := f.current(t, f.mustSignIn(t, "alice", pw).Token)
	if _, err := f.svc.Verify(ctx, cur, mfagate.MethodRecovery, strings.ToLower(codes[3]), client); err != nil {
		t.Fatalf("a recovery code in lower case: %v", err)
	}
	if subj := f.subjects(t); subj[0] != "A recovery code was used to sign in" || !strings.Contains(f.mail(t)[0].Text, "9 left") {
		t.Fatalf("got %q, want a notice saying 9 are left", subj[0])
	}
	cur = f.current(t, f.mustSignIn(t, "alice", pw).Token)
	if _, err := f.svc.Verify(ctx, cur, mfagate.MethodRecovery, codes[3], client); err != account.ErrWrongRecoveryCode {
		t.Fatalf("the same recovery code twice: got %v, want ErrWrongRecoveryCode", err)
	}
	f.clock.Advance(time.Minute)
	v, err := f.svc.Verify(ctx, cur, mfagate.MethodRecovery, codes[4], client)
	if err != nil {
		t.Fatal(err)
	}
	full := f.current(t, v.Token)
	if err := f.svc.RenewRecoveryCodes(ctx, full, client); err != nil {
		t.Fatal(err)
	}
	fresh, _ := f.svc.PendingRecoveryCodes(f.current(t, v.Token))
	if len(fresh) != 10 || fresh[0] == codes[0] {
		t.Fatal("renewing did not make a new set of 10")
	}
	cur = f.current(t, f.mustSignIn(t, "alice", pw).Token)
	if _, err := f.svc.Verify(ctx, cur, mfagate.MethodRecovery, codes[5], client); err != account.ErrWrongRecoveryCode {
		t.Fatalf("an old code after renewing: got %v, want refused", err)
	}
	f.clock.Advance(time.Minute)
	if _, err := f.svc.Verify(ctx, cur, mfagate.MethodRecovery, fresh[0], client); err != nil {
		t.Fatalf("a new code: %v", err)
	}
}

func TestChangingFactorsNeedsARecentSecondFactor(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	_, token := f.mustTOTPFactor(t, "alice")
	f.clock.Advance(11 * time.Minute)
	cur := f.current(t, token)
	fs, _ := f.svc.Factors(ctx, cur.User.ID)
	if err := f.svc.RemoveFactor(ctx, cur, fs[0].ID, client); err != account.ErrReauth {
		t.Fatalf("removing 11 minutes after the second factor: got %v, want ErrReauth", err)
	}
	if err := f.svc.RenewRecoveryCodes(ctx, cur, client); err != account.ErrReauth {
		t.Fatalf("renewing recovery codes: got %v, want ErrReauth", err)
	}
	if _, err := f.svc.StartTOTPSetup(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSetup, "", client); err != account.ErrReauth {
		t.Fatalf("a code to set up email codes: got %v, want ErrReauth", err)
	}
	if _, err := f.svc.ConfirmEmailSetup(ctx, cur, "123456", client); err != account.ErrReauth {
		t.Fatalf("adding email codes: got %v, want ErrReauth", err)
	}
}

func TestRemovedAndResetFactorsNoLongerSignIn(t *testing.T) {
	ctx := context.Background()
	t.Run("removed by the person", func(t *testing.T) {
		f := newFixture(t)
		f.mustUser(t, "alice", pw)
		secret, token := f.mustTOTPFactor(t, "alice")
		cur := f.current(t, token)
		fs, _ := f.svc.Factors(ctx, cur.User.ID)
		if err := f.svc.RemoveFactor(ctx, cur, fs[0].ID, client); err != nil {
			t.Fatal(err)
		}
		if subj := f.subjects(t); subj[0] != "A way to confirm it's you was removed" {
			t.Fatalf("got %q, want the removal notice", subj[0])
		}
		if n, _ := f.svc.RecoveryCodesLeft(ctx, cur.User.ID); n != 0 {
			t.Fatalf("got %d recovery codes after removing the only factor, want 0", n)
		}
		f.clock.Advance(time.Minute)
		in := f.mustSignIn(t, "alice", pw)
		if in.Next.Outcome != rollout.OfferEnrollment {
			t.Fatalf("got %v, want setup offered: no factor is left", in.Next.Outcome)
		}
		if _, err := f.svc.Verify(ctx, f.current(t, in.Token), mfagate.MethodTOTP, totp.Code(secret, totp.Step(f.clock.Now())), client); err == nil {
			t.Fatal("a removed authenticator app still signed in")
		}
	})
	t.Run("reset by support", func(t *testing.T) {
		f := newFixture(t)
		f.mustUser(t, "alice", pw)
		secret, token := f.mustTOTPFactor(t, "alice")
		staff := account.Actor{Name: "sam", ClientAddr: "198.51.100.4"}
		if err := f.svc.ResetMFA(ctx, staff, "alice", ""); mfagate.ErrorCode(err) != mfagate.EINVALID {
			t.Fatalf("without a reason: got %v, want EINVALID", err)
		}
		if err := f.svc.ResetMFA(ctx, staff, "alice", "lost her phone; identity checked by video call"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, token); err != account.ErrNoSession {
			t.Fatal("the person's session survived the reset")
		}
		evs := f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditMFAReset})
		if len(evs) != 1 || evs[0].Actor != "sam" || evs[0].Subject != "alice" || !strings.Contains(evs[0].Reason, "lost her phone") {
			t.Fatalf("got %+v, want the reset audited with actor, subject and reason", evs)
		}
		if subj := f.subjects(t); subj[0] != "Your sign-in security was reset" {
			t.Fatalf("got %q, want the reset notice", subj[0])
		}
		f.clock.Advance(time.Minute)
		in := f.mustSignIn(t, "alice", pw)
		if in.Next.Outcome != rollout.OfferEnrollment {
			t.Fatalf("got %v, want setup at the next sign-in", in.Next.Outcome)
		}
		if _, err := f.svc.Verify(ctx, f.current(t, in.Token), mfagate.MethodTOTP, totp.Code(secret, totp.Step(f.clock.Now())), client); err == nil {
			t.Fatal("a reset authenticator app still signed in")
		}
	})
}

func TestSkipSetup(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	in := f.mustSignIn(t, "alice", pw)
	token, err := f.svc.SkipSetup(ctx, f.current(t, in.Token), client)
	if err != nil {
		t.Fatal(err)
	}
	if f.current(t, token).Session.Stage != mfagate.StageFull {
		t.Fatal("skipping did not complete sign-in")
	}
	if evs := f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditSetupSkip}); len(evs) != 1 {
		t.Fatalf("got %d skip events, want 1", len(evs))
	}
	f.mustEmailFactor(t, "alice")
	in = f.mustSignIn(t, "alice", pw)
	if _, err := f.svc.SkipSetup(ctx, f.current(t, in.Token), client); mfagate.ErrorCode(err) != mfagate.EFORBIDDEN {
		t.Fatalf("skipping the challenge: got %v, want EFORBIDDEN: MFA once set up is never bypassed", err)
	}
}
