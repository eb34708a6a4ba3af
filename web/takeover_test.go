package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
)

// TestPasswordAloneCannotMoveTheAddress is the takeover over
// HTTP: someone with only the password, at the setup step, asks for the
// setup code at their own address. It is refused, nothing is sent there,
// and the account's address stays; the one path left is a code to the
// registered address.
func TestPasswordAloneCannotMoveTheAddress(t *testing.T) {
	h := newHarness(t)
	h.mustUser(t, "bob", pw)
	thief := h.client(t)
	if res := h.login(t, thief, "bob"); res.Header.Get("Location") != "/mfa/setup" {
		t.Fatalf("after the password: got %q, want the setup prompt", res.Header.Get("Location"))
	}
	page := h.get(t, thief, "/mfa/setup/email")
	if strings.Contains(page.body, `name="email"`) || !strings.Contains(page.body, "Not your email address?") {
		t.Fatal("the email setup page still offers to send the code to another address")
	}
	for _, other := range []string{"thief@evil.example", "BOB@evil.example", "bob@example.com.evil.example"} {
		res := h.post(t, thief, "/mfa/setup/email/send", url.Values{"email": {other}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.body, "can only be sent to the email address on your account") {
			t.Fatalf("a setup code to %s: got %d, want 403 with the reason", other, res.StatusCode)
		}
	}
	for _, m := range mustMail(t, h.store) {
		if m.To != "bob@example.com" {
			t.Fatalf("an email went to %s", m.To)
		}
	}
	denied := 0
	for _, e := range h.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditCodeSent}) {
		if e.Outcome == mfagate.OutcomeDenied && e.Subject == "bob" {
			denied++
		}
	}
	if denied != 3 {
		t.Fatalf("got %d refusals audited, want 3", denied)
	}
	// Confirming a code sent to the registered address sets up email
	// codes without touching the address.
	if res := h.post(t, thief, "/mfa/setup/email/send", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a code to the registered address: got %d", res.StatusCode)
	}
	if to := mustMail(t, h.store)[0].To; to != "bob@example.com" {
		t.Fatalf("the code went to %s", to)
	}
	if res := h.post(t, thief, "/mfa/setup/email", url.Values{"code": {h.latestCode(t)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirming: got %d", res.StatusCode)
	}
	if u, _ := h.accounts.User(context.Background(), "bob"); u.Email != "bob@example.com" {
		t.Fatalf("bob's address is now %q", u.Email)
	}
}

// TestFirstAppFromAPasswordWarnsAtOnce: an authenticator app added by a
// session that has passed no second factor (the person had none) emails
// the registered address straight away, so a thief who got in with the
// password is noticed.
func TestFirstAppFromAPasswordWarnsAtOnce(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.login(t, c, "alice")
	if _, res := h.setUpTOTP(t, c); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("setting up the app: got %d", res.StatusCode)
	}
	ms := mustMail(t, h.store)
	if len(ms) == 0 || ms[0].To != "alice@example.com" || ms[0].Subject != "A new way to confirm it's you was added" ||
		!strings.Contains(ms[0].Text, "has a new way to confirm it's you: an authenticator app. It was set up") || !strings.Contains(ms[0].Text, "contact your support team") {
		t.Fatalf("got %d emails, the newest %+v; want the 'was this you?' notice to alice", len(ms), ms[0])
	}
}
