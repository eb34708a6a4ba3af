package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/emailcode"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// Changing the email address (SPEC section 4, Addresses), on SQLite and
// PostgreSQL.

func newBackendFixture(t *testing.T, b sqltest.Backend) *fixture {
	t.Helper()
	f := &fixture{store: b.New(t), clock: mfagate.NewManualClock(start)}
	f.svc = mustService(t, f.store, f.clock, cheap)
	return f
}

// mailTo lists the emails sent to addr, newest first.
func (f *fixture) mailTo(tb testing.TB, addr string) []*mfagate.Message {
	tb.Helper()
	var out []*mfagate.Message
	for _, m := range f.mail(tb) {
		if strings.EqualFold(m.To, addr) {
			out = append(out, m)
		}
	}
	return out
}

// codeTo reads the code in the newest code email to addr.
func (f *fixture) codeTo(tb testing.TB, addr string) string {
	tb.Helper()
	for _, m := range f.mailTo(tb, addr) {
		if c := codeRE.FindStringSubmatch(m.Text); c != nil {
			return c[1]
		}
	}
	tb.Fatalf("no code email to %s", addr)
	return ""
}

func otherCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func (f *fixture) emailEvents(tb testing.TB, outcome string) []*mfagate.AuditEvent {
	tb.Helper()
	var out []*mfagate.AuditEvent
	for _, ev := range f.audit(tb, mfagate.AuditFilter{}) {
		if ev.Kind == mfagate.AuditEmailChange && ev.Outcome == outcome {
			out = append(out, ev)
		}
	}
	return out
}

const newAddr = "alice@new.example.com"

func TestChangeOwnAddress(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		f := newBackendFixture(t, b)
		f.mustUser(t, "alice", pw)
		token := f.mustEmailFactor(t, "alice")
		cur := f.current(t, token)
		before := len(f.mail(t))

		sent, err := f.svc.SendAddressCode(ctx, cur, " "+newAddr+" ", client)
		if err != nil {
			t.Fatal(err)
		}
		if sent.Address != newAddr {
			t.Fatalf("sent to %q, want %q", sent.Address, newAddr)
		}
		if got := f.mail(t); len(got) != before+1 || got[0].To != newAddr || !got[0].Secret {
			t.Fatalf("got %d new emails, the newest to %q; want one code email to the new address only", len(got)-before, got[0].To)
		}
		// The account is unchanged until the code comes back.
		if u, _ := f.svc.User(ctx, "alice"); u.Email != "alice@example.com" {
			t.Fatalf("address before confirming: got %q, want the old one", u.Email)
		}
		code := f.codeTo(t, newAddr)
		if err := f.svc.ConfirmAddress(ctx, cur, otherCode(code), client); !errors.Is(err, emailcode.ErrWrongCode) {
			t.Fatalf("wrong code: got %v, want ErrWrongCode", err)
		}
		if u, _ := f.svc.User(ctx, "alice"); u.Email != "alice@example.com" {
			t.Fatal("a wrong code changed the address")
		}
		f.clock.Advance(time.Minute)
		if err := f.svc.ConfirmAddress(ctx, cur, code, client); err != nil {
			t.Fatal(err)
		}
		u, _ := f.svc.User(ctx, "alice")
		if u.Email != newAddr || u.EmailUnconfirmed() {
			t.Fatalf("got address %q unconfirmed %v, want %q confirmed", u.Email, u.EmailUnconfirmed(), newAddr)
		}
		if err := f.svc.ConfirmAddress(ctx, cur, code, client); mfagate.ErrorCode(err) != mfagate.EINVALID {
			t.Fatalf("the same code again: got %v, want EINVALID", err)
		}

		old := f.mailTo(t, "alice@example.com")[0]
		for _, want := range []string{"was changed to " + newAddr, f.clock.Now().Format("2 January 2006"), "192.0.2.10", "help@example.com"} {
			if !strings.Contains(old.Text, want) {
				t.Errorf("notice to the old address lacks %q:\n%s", want, old.Text)
			}
		}
		if got := f.mailTo(t, newAddr)[0].Subject; got != "This is now your email address" {
			t.Errorf("newest email to the new address: got %q, want the confirmation", got)
		}
		evs := f.emailEvents(t, mfagate.OutcomeSuccess)
		if len(evs) != 1 || evs[0].Detail != "email alice@example.com → "+newAddr || evs[0].ClientAddr != "192.0.2.10" {
			t.Fatalf("got audit %+v, want one user.email event old → new", evs)
		}
		for _, ev := range f.audit(t, mfagate.AuditFilter{}) {
			if strings.Contains(ev.Detail, code) {
				t.Fatalf("audit event %q holds the code", ev.Detail)
			}
		}

		// Email codes moved with it.
		f.clock.Advance(time.Hour)
		in := f.mustSignIn(t, "alice", pw)
		next := f.current(t, in.Token)
		if sent, err := f.svc.SendCode(ctx, next, mfagate.PurposeSignIn, "", client); err != nil || sent.Address != newAddr {
			t.Fatalf("sign-in code: got %+v, %v; want it sent to the new address", sent, err)
		}
		if _, err := f.svc.Verify(ctx, next, mfagate.MethodEmail, f.codeTo(t, newAddr), client); err != nil {
			t.Fatal(err)
		}
	})
}

// TestAddressChangeNeedsFullSignIn: with only the password, nobody can
// have a code sent to another address, nor change it, whatever they call.
func TestAddressChangeNeedsFullSignIn(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		f := newBackendFixture(t, b)
		f.mustUser(t, "alice", pw)
		f.mustEmailFactor(t, "alice")
		f.clock.Advance(time.Hour)
		cur := f.current(t, f.mustSignIn(t, "alice", pw).Token)
		if cur.Session.Stage != mfagate.StagePassword {
			t.Fatalf("got stage %v, want the password step only", cur.Session.Stage)
		}
		before := len(f.mail(t))
		if _, err := f.svc.SendAddressCode(ctx, cur, "mallory@example.net", client); !errors.Is(err, account.ErrAddressNeedsSignIn) {
			t.Fatalf("SendAddressCode: got %v, want ErrAddressNeedsSignIn", err)
		}
		for _, purpose := range []string{mfagate.PurposeSignIn, mfagate.PurposeSetup} {
			if _, err := f.svc.SendCode(ctx, cur, purpose, "mallory@example.net", client); !errors.Is(err, account.ErrOtherAddress) {
				t.Fatalf("SendCode %s elsewhere: got %v, want ErrOtherAddress", purpose, err)
			}
		}
		if err := f.svc.ConfirmAddress(ctx, cur, "123456", client); !errors.Is(err, account.ErrAddressNeedsSignIn) {
			t.Fatalf("ConfirmAddress: got %v, want ErrAddressNeedsSignIn", err)
		}
		if got := len(f.mail(t)); got != before {
			t.Fatalf("got %d emails sent, want none", got-before)
		}
		if u, _ := f.svc.User(ctx, "alice"); u.Email != "alice@example.com" {
			t.Fatalf("address: got %q, want it unchanged", u.Email)
		}
		if evs := f.emailEvents(t, mfagate.OutcomeDenied); len(evs) != 1 {
			t.Fatalf("got %d refused address changes audited, want 1", len(evs))
		}

		// Fully signed in, but eleven minutes after the second factor.
		f.clock.Advance(time.Hour)
		token := f.current(t, f.mustSignIn(t, "alice", pw).Token)
		if _, err := f.svc.SendCode(ctx, token, mfagate.PurposeSignIn, "", client); err != nil {
			t.Fatal(err)
		}
		v, err := f.svc.Verify(ctx, token, mfagate.MethodEmail, f.codeTo(t, "alice@example.com"), client)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(11 * time.Minute)
		if _, err := f.svc.SendAddressCode(ctx, f.current(t, v.Token), newAddr, client); !errors.Is(err, account.ErrReauth) {
			t.Fatalf("11 minutes after the second factor: got %v, want ErrReauth", err)
		}
	})
}

// TestCodesOfOnePurposeOnly: a sign-in code does not confirm an address,
// an address code does not sign in, and a sign-in code sent to the old
// address before the change stops working, without being sent on.
func TestCodesOfOnePurposeOnly(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		f := newBackendFixture(t, b)
		f.mustUser(t, "alice", pw)
		full := f.current(t, f.mustEmailFactor(t, "alice"))

		// Another sign-in, waiting for its code at the old address.
		f.clock.Advance(time.Minute)
		waiting := f.current(t, f.mustSignIn(t, "alice", pw).Token)
		if _, err := f.svc.SendCode(ctx, waiting, mfagate.PurposeSignIn, "", client); err != nil {
			t.Fatal(err)
		}
		signInCode := f.codeTo(t, "alice@example.com")

		if _, err := f.svc.SendAddressCode(ctx, full, newAddr, client); err != nil {
			t.Fatal(err)
		}
		addrCode := f.codeTo(t, newAddr)
		if addrCode != signInCode {
			if err := f.svc.ConfirmAddress(ctx, full, signInCode, client); !errors.Is(err, emailcode.ErrWrongCode) {
				t.Fatalf("a sign-in code to confirm the address: got %v, want ErrWrongCode", err)
			}
			if _, err := f.svc.Verify(ctx, waiting, mfagate.MethodEmail, addrCode, client); !errors.Is(err, emailcode.ErrWrongCode) {
				t.Fatalf("an address code to sign in: got %v, want ErrWrongCode", err)
			}
		}
		if err := f.svc.ConfirmAddress(ctx, full, addrCode, client); err != nil {
			t.Fatal(err)
		}
		mailed := len(f.mail(t))
		if _, err := f.svc.Verify(ctx, waiting, mfagate.MethodEmail, signInCode, client); mfagate.ErrorCode(err) != mfagate.EINVALID ||
			!strings.Contains(mfagate.ErrorMessage(err), "changed since that code was sent") {
			t.Fatalf("the code sent to the old address: got %v, want it refused as sent before the change", err)
		}
		if got := len(f.mail(t)); got != mailed {
			t.Fatalf("got %d emails after the refused code, want none (nothing is sent on)", got-mailed)
		}
		f.clock.Advance(time.Minute)
		if sent, err := f.svc.SendCode(ctx, waiting, mfagate.PurposeSignIn, "", client); err != nil || sent.Address != newAddr {
			t.Fatalf("a new sign-in code: got %+v, %v; want it at the new address", sent, err)
		}
	})
}

func TestNewAddressValidation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.mustUser(t, "alice", pw)
	f.mustUser(t, "bob", pw)
	cur := f.current(t, f.mustEmailFactor(t, "alice"))
	tests := []struct {
		name, address string
		code          string
		says          string
	}{
		{"empty", "  ", mfagate.EINVALID, "Enter the new email address"},
		{"not an address", "alice.example.com", mfagate.EINVALID, "correct format"},
		{"two addresses", "a@example.com, b@example.com", mfagate.EINVALID, "correct format"},
		{"with a name", "Alice <a@example.com>", mfagate.EINVALID, "correct format"},
		{"the current one", "alice@example.com", mfagate.EINVALID, "already the email address"},
		{"the current one in capitals", "ALICE@example.com", mfagate.EINVALID, "already the email address"},
		{"another account's", "Bob@Example.com", mfagate.ECONFLICT, "used by another account"},
		{"too long", strings.Repeat("a", 250) + "@example.com", mfagate.EINVALID, "correct format"},
	}
	before := len(f.mail(t))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.SendAddressCode(ctx, cur, tt.address, client)
			if mfagate.ErrorCode(err) != tt.code || !strings.Contains(mfagate.ErrorMessage(err), tt.says) {
				t.Fatalf("got %v, want %s saying %q", err, tt.code, tt.says)
			}
		})
	}
	if got := len(f.mail(t)); got != before {
		t.Fatalf("got %d emails, want none", got-before)
	}
}

// TestStaffChangeEmail: support sets a new address with a reason; the
// person is signed out, both addresses are told, and it is audited. Until
// the person confirms it, sign-in codes still go to the address before,
// so someone who talked support into their own address gets no code.
func TestStaffChangeEmail(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		f := newBackendFixture(t, b)
		f.mustUser(t, "alice", pw)
		f.mustUser(t, "bob", pw)
		f.mustUser(t, "sam", pw, "support")
		f.mustUser(t, "olga", pw, "operator")
		token := f.mustEmailFactor(t, "alice")
		support := account.Actor{Name: "sam", ClientAddr: "198.51.100.7"}
		const mallory = "mallory@example.net"

		for _, tt := range []struct {
			name, who, address, reason, code string
		}{
			{"no reason", "alice", mallory, " ", mfagate.EINVALID},
			{"a bad address", "alice", "mallory", "asked by phone", mfagate.EINVALID},
			{"another's address", "alice", "bob@example.com", "asked by phone", mfagate.ECONFLICT},
			{"the same address", "alice", "alice@example.com", "asked by phone", mfagate.EINVALID},
			{"a staff account", "olga", mallory, "asked by phone", mfagate.EFORBIDDEN},
			{"one's own", "sam", mallory, "asked by phone", mfagate.EFORBIDDEN},
			{"nobody", "nobody", mallory, "asked by phone", mfagate.ENOTFOUND},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if err := f.svc.ChangeEmail(ctx, support, tt.who, tt.address, tt.reason); mfagate.ErrorCode(err) != tt.code {
					t.Fatalf("got %v, want %s", err, tt.code)
				}
			})
		}
		if u, _ := f.svc.User(ctx, "olga"); u.Email != "olga@example.com" {
			t.Fatal("support changed an operator's address")
		}
		// At the server, a staff account's address can change.
		if err := f.svc.ChangeEmail(ctx, account.Actor{Name: mfagate.ActorCLI, AtServer: true}, "olga", "olga@new.example.com", "new team"); err != nil {
			t.Fatalf("at the server: %v", err)
		}

		if err := f.svc.ChangeEmail(ctx, support, "alice", mallory, "lost her mailbox, asked by phone"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, token); err != account.ErrNoSession {
			t.Fatalf("alice's session: got %v, want it ended", err)
		}
		u, _ := f.svc.User(ctx, "alice")
		if u.Email != mallory || !u.EmailUnconfirmed() || u.PreviousEmail != "alice@example.com" || u.CodeAddress() != "alice@example.com" {
			t.Fatalf("got %q unconfirmed %v previous %q, want the new address waiting, codes to the old", u.Email, u.EmailUnconfirmed(), u.PreviousEmail)
		}
		for _, addr := range []string{"alice@example.com", mallory} {
			got := f.mailTo(t, addr)
			if len(got) == 0 || got[0].Subject != "A new email address was set for your account" || !strings.Contains(got[0].Text, "sam from your support team set "+mallory) {
				t.Fatalf("newest email to %s: got %+v, want the notice of the change", addr, got)
			}
		}
		evs := f.emailEvents(t, mfagate.OutcomeSuccess)
		if ev := evs[0]; ev.Actor != "sam" || ev.Reason != "lost her mailbox, asked by phone" || !strings.Contains(ev.Detail, "alice@example.com → "+mallory) {
			t.Fatalf("audit: got %+v, want sam's change with the reason, old → new", ev)
		}

		// Whoever signs in with the password gets no code at the new
		// address: it still goes where the person confirmed.
		f.clock.Advance(time.Hour)
		cur := f.current(t, f.mustSignIn(t, "alice", pw).Token)
		if _, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSignIn, mallory, client); !errors.Is(err, account.ErrOtherAddress) {
			t.Fatalf("a sign-in code to the new address: got %v, want ErrOtherAddress", err)
		}
		if _, err := f.svc.SendAddressCode(ctx, cur, mallory, client); !errors.Is(err, account.ErrAddressNeedsSignIn) {
			t.Fatalf("a code to confirm before the second factor: got %v, want ErrAddressNeedsSignIn", err)
		}
		if sent, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSignIn, "", client); err != nil || sent.Address != "alice@example.com" {
			t.Fatalf("sign-in code: got %+v, %v; want it at the confirmed address", sent, err)
		}
		for _, m := range f.mailTo(t, mallory) {
			if codeRE.MatchString(m.Text) {
				t.Fatal("a code reached the unconfirmed address before the second factor")
			}
		}
		v, err := f.svc.Verify(ctx, cur, mfagate.MethodEmail, f.codeTo(t, "alice@example.com"), client)
		if err != nil {
			t.Fatal(err)
		}
		// Meanwhile notices go to both addresses.
		if err := f.svc.RenewRecoveryCodes(ctx, f.current(t, v.Token), client); err != nil {
			t.Fatal(err)
		}
		for _, addr := range []string{"alice@example.com", mallory} {
			if got := f.mailTo(t, addr)[0].Subject; got != "You have new recovery codes" {
				t.Errorf("newest email to %s while unconfirmed: got %q, want the notice", addr, got)
			}
		}

		// After the second factor, the person confirms the new address.
		full := f.current(t, v.Token)
		if _, err := f.svc.SendAddressCode(ctx, full, mallory, client); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ConfirmAddress(ctx, full, f.codeTo(t, mallory), client); err != nil {
			t.Fatal(err)
		}
		u, _ = f.svc.User(ctx, "alice")
		if u.Email != mallory || u.EmailUnconfirmed() || u.PreviousEmail != "" || u.CodeAddress() != mallory {
			t.Fatalf("got %q unconfirmed %v previous %q, want the new address confirmed", u.Email, u.EmailUnconfirmed(), u.PreviousEmail)
		}
		if got := f.mailTo(t, "alice@example.com")[0]; !strings.Contains(got.Text, "was changed to "+mallory) {
			t.Fatalf("newest email to the old address: got %q, want the notice of the change", got.Subject)
		}
		if ev := f.emailEvents(t, mfagate.OutcomeSuccess)[0]; !strings.Contains(ev.Detail, "confirmed") || ev.Actor != "alice" {
			t.Fatalf("audit: got %+v, want alice's confirmation", ev)
		}
	})
}

// TestSettingUpEmailCodesConfirmsTheAddress: someone without email codes
// whose address support changed proves it by setting them up there.
func TestSettingUpEmailCodesConfirmsTheAddress(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.mustUser(t, "alice", pw)
	if err := f.svc.ChangeEmail(ctx, account.Actor{Name: "sam"}, "alice", newAddr, "typo at import"); err != nil {
		t.Fatal(err)
	}
	cur := f.current(t, f.mustSignIn(t, "alice", pw).Token)
	if sent, err := f.svc.SendCode(ctx, cur, mfagate.PurposeSetup, "", client); err != nil || sent.Address != newAddr {
		t.Fatalf("setup code: got %+v, %v; want it at the new address", sent, err)
	}
	if _, err := f.svc.ConfirmEmailSetup(ctx, cur, f.codeTo(t, newAddr), client); err != nil {
		t.Fatal(err)
	}
	if u, _ := f.svc.User(ctx, "alice"); u.EmailUnconfirmed() || u.CodeAddress() != newAddr {
		t.Fatalf("got unconfirmed %v, codes to %q; want the new address confirmed", u.EmailUnconfirmed(), u.CodeAddress())
	}
}

// TestAddressCodesAreThrottled: the cooldown and the hourly cap of other
// codes hold for address codes, and five wrong codes end the code.
func TestAddressCodesAreThrottled(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.mustUser(t, "alice", pw)
	cur := f.current(t, f.mustEmailFactor(t, "alice"))
	if _, err := f.svc.SendAddressCode(ctx, cur, newAddr, client); err != nil {
		t.Fatal(err)
	}
	before := len(f.mail(t))
	if _, err := f.svc.SendAddressCode(ctx, cur, "alice@other.example.com", client); mfagate.ErrorCode(err) != mfagate.ETHROTTLED {
		t.Fatalf("at once again: got %v, want ETHROTTLED", err)
	}
	if got := len(f.mail(t)); got != before {
		t.Fatalf("got %d emails within the cooldown, want none", got-before)
	}
	code := f.codeTo(t, newAddr)
	var err error
	for i := 0; i < 6; i++ {
		f.clock.Advance(time.Minute) // past the growing delay between tries
		if err = f.svc.ConfirmAddress(ctx, cur, otherCode(code), client); !errors.Is(err, emailcode.ErrWrongCode) {
			break
		}
	}
	if !errors.Is(err, emailcode.ErrTooManyTries) {
		t.Fatalf("after five wrong codes: got %v, want ErrTooManyTries", err)
	}
	if err := f.svc.ConfirmAddress(ctx, cur, code, client); err == nil {
		t.Fatal("the right code worked after five wrong ones")
	}
	if u, _ := f.svc.User(ctx, "alice"); u.Email != "alice@example.com" {
		t.Fatal("the address changed")
	}
}

// TestAddressChangeNeedsAFactor: someone fully signed in with only their
// password (they have no factor) cannot move their address; they can
// confirm the one support set.
func TestAddressChangeNeedsAFactor(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.mustUser(t, "alice", pw)
	in := f.mustSignIn(t, "alice", pw)
	token, err := f.svc.SkipSetup(ctx, f.current(t, in.Token), client)
	if err != nil {
		t.Fatal(err)
	}
	cur := f.current(t, token)
	if cur.Session.Stage != mfagate.StageFull {
		t.Fatalf("got stage %v, want fully signed in", cur.Session.Stage)
	}
	before := len(f.mail(t))
	if _, err := f.svc.SendAddressCode(ctx, cur, newAddr, client); !errors.Is(err, account.ErrAddressNeedsFactor) {
		t.Fatalf("with the password only: got %v, want ErrAddressNeedsFactor", err)
	}
	if got := len(f.mail(t)); got != before {
		t.Fatalf("got %d emails, want none", got-before)
	}
	if evs := f.emailEvents(t, mfagate.OutcomeDenied); len(evs) != 1 {
		t.Fatalf("got %d refusals audited, want 1", len(evs))
	}

	if err := f.svc.ChangeEmail(ctx, account.Actor{Name: "sam"}, "alice", newAddr, "typo at import"); err != nil {
		t.Fatal(err)
	}
	in = f.mustSignIn(t, "alice", pw)
	token, err = f.svc.SkipSetup(ctx, f.current(t, in.Token), client)
	if err != nil {
		t.Fatal(err)
	}
	cur = f.current(t, token)
	if _, err := f.svc.SendAddressCode(ctx, cur, "alice@third.example.com", client); !errors.Is(err, account.ErrAddressNeedsFactor) {
		t.Fatalf("another address: got %v, want ErrAddressNeedsFactor", err)
	}
	if _, err := f.svc.SendAddressCode(ctx, cur, newAddr, client); err != nil {
		t.Fatalf("confirming support's address: %v", err)
	}
	if err := f.svc.ConfirmAddress(ctx, cur, f.codeTo(t, newAddr), client); err != nil {
		t.Fatal(err)
	}
	if u, _ := f.svc.User(ctx, "alice"); u.EmailUnconfirmed() || u.Email != newAddr {
		t.Fatalf("got %q unconfirmed %v, want %q confirmed", u.Email, u.EmailUnconfirmed(), newAddr)
	}
}
