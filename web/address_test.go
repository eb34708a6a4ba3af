package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// Changing one's email address through the pages, and what someone with
// only the password can do to it (nothing).

// codeTo reads the newest code emailed to addr.
func (h *harness) codeTo(tb testing.TB, addr string) string {
	tb.Helper()
	for _, m := range mustMail(tb, h.store) {
		if c := mailRE.FindStringSubmatch(m.Text); c != nil && strings.EqualFold(m.To, addr) {
			return c[1]
		}
	}
	tb.Fatalf("no code emailed to %s", addr)
	return ""
}

// mailTo lists what was emailed to addr, newest first.
func (h *harness) mailTo(tb testing.TB, addr string) []*mfagate.Message {
	tb.Helper()
	var out []*mfagate.Message
	for _, m := range mustMail(tb, h.store) {
		if strings.EqualFold(m.To, addr) {
			out = append(out, m)
		}
	}
	return out
}

// emailFactor signs name in on c and sets up email codes through the
// pages, leaving c fully signed in.
func (h *harness) emailFactor(tb testing.TB, c *http.Client, name string) {
	tb.Helper()
	h.login(tb, c, name)
	h.post(tb, c, "/mfa/setup", url.Values{"method": {"email"}})
	if res := h.post(tb, c, "/mfa/setup/email", url.Values{"code": {h.codeTo(tb, name+"@example.com")}}); res.StatusCode != http.StatusSeeOther {
		tb.Fatalf("setting up email codes: got %d", res.StatusCode)
	}
	h.post(tb, c, "/mfa/recovery-codes", url.Values{"action": {"saved"}})
}

func TestChangeAddressPages(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		h := newBackendHarness(t, b)
		h.mustUser(t, "bob", pw)
		c := h.client(t)
		h.emailFactor(t, c, "alice")

		if page := h.get(t, c, "/account"); !strings.Contains(page.body, `href="/account/email">Change your email address`) {
			t.Fatal("the account page has no link to change the address")
		}
		form := h.get(t, c, "/account/email")
		for _, want := range []string{"<h1>Change your email address</h1>", `name="email" type="email" autocomplete="email"`, `<label for="email">`, "alice@example.com"} {
			if !strings.Contains(form.body, want) {
				t.Errorf("the form lacks %q", want)
			}
		}
		for _, tt := range []struct {
			name, email string
			status      int
			says        string
		}{
			{"empty", "", http.StatusBadRequest, "Enter the new email address"},
			{"bad", "alice.example.com", http.StatusBadRequest, "in the correct format"},
			{"the same", "Alice@Example.com", http.StatusBadRequest, "already the email address of your account"},
			{"bob's", "bob@example.com", http.StatusConflict, "used by another account"},
		} {
			res := h.post(t, c, "/account/email", url.Values{"email": {tt.email}})
			body := html.UnescapeString(res.body)
			if res.StatusCode != tt.status || !strings.Contains(body, tt.says) || !strings.Contains(body, "<title>Error: ") ||
				!strings.Contains(body, "There is a problem") || !strings.Contains(body, `value="`+tt.email+`"`) {
				t.Errorf("%s: got %d, want %d with %q in an error summary, keeping what was typed", tt.name, res.StatusCode, tt.status, tt.says)
			}
		}
		if n := len(h.mailTo(t, "bob@example.com")); n != 0 {
			t.Fatalf("bob got %d emails", n)
		}

		res := h.post(t, c, "/account/email", url.Values{"email": {"alice@new.example.com"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/email/code" {
			t.Fatalf("sending: got %d to %q, want the code page", res.StatusCode, res.Header.Get("Location"))
		}
		page := h.get(t, c, "/account/email/code")
		for _, want := range []string{"<h1>Check your email</h1>", "alice@new.example.com", `autocomplete="one-time-code"`, `inputmode="numeric"`, `name="code"`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the code page lacks %q", want)
			}
		}
		code := h.codeTo(t, "alice@new.example.com")
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		if res := h.post(t, c, "/account/email/code", url.Values{"code": {wrong}}); res.StatusCode != http.StatusBadRequest ||
			!strings.Contains(res.body, "That code is not correct") {
			t.Fatalf("a wrong code: got %d", res.StatusCode)
		}
		h.clock.Advance(time.Minute)
		res = h.post(t, c, "/account/email/code", url.Values{"code": {code}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account?email_changed" {
			t.Fatalf("the right code: got %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		if page := h.get(t, c, "/account?email_changed"); !strings.Contains(page.body, "Your email address is now alice@new.example.com") {
			t.Fatal("the account page does not say the address changed")
		}
		if got := h.verify(t, c, "").Header.Get("Remote-Email"); got != "alice@new.example.com" {
			t.Fatalf("forward-auth's Remote-Email: got %q, want the new address at the next request", got)
		}
		if got := h.mailTo(t, "alice@example.com")[0]; got.Subject != "The email address of your account was changed" {
			t.Fatalf("newest email to the old address: got %q, want the notice", got.Subject)
		}
	})
}

// TestPasswordOnlySessionCannotChangeTheAddress is the attack over HTTP:
// someone who has alice's password, stopped at the challenge, posts to
// each step of the address change directly. Nothing is sent anywhere new
// and the address stays; the sign-in code emailed to alice does not
// confirm anything either.
func TestPasswordOnlySessionCannotChangeTheAddress(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		h := newBackendHarness(t, b)
		h.emailFactor(t, h.client(t), "alice")
		h.clock.Advance(time.Hour)
		thief := h.client(t)
		if loc := h.login(t, thief, "alice").Header.Get("Location"); !strings.HasPrefix(loc, "/mfa/challenge") {
			t.Fatalf("after the password: got %q, want the challenge", loc)
		}
		signInCode := h.codeTo(t, "alice@example.com")
		before := len(mustMail(t, h.store))
		for _, step := range []struct {
			method, path string
			form         url.Values
		}{
			{"GET", "/account/email", nil},
			{"POST", "/account/email", url.Values{"email": {"thief@evil.example"}}},
			{"GET", "/account/email/code", nil},
			{"POST", "/account/email/code", url.Values{"code": {signInCode}}},
		} {
			var res response
			if step.method == "GET" {
				res = h.get(t, thief, step.path)
			} else {
				res = h.post(t, thief, step.path, step.form)
			}
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/mfa/challenge") {
				t.Errorf("%s %s: got %d to %q, want to be sent to the challenge", step.method, step.path, res.StatusCode, res.Header.Get("Location"))
			}
		}
		if got := len(mustMail(t, h.store)); got != before {
			t.Fatalf("got %d emails, want none", got-before)
		}
		if u, _ := h.accounts.User(context.Background(), "alice"); u.Email != "alice@example.com" {
			t.Fatalf("alice's address is now %q", u.Email)
		}
		// The sign-in code still works for signing in: it was not used up.
		if res := h.post(t, thief, "/mfa/challenge", url.Values{"method": {"email"}, "code": {signInCode}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("the sign-in code at the challenge: got %d", res.StatusCode)
		}
	})
}

// TestAddressSetBySupportIsConfirmedAfterSignIn: after support sets a new
// address, the sign-in code still goes to the old one, and once past it
// the person is asked to confirm the new one with a code sent there.
func TestAddressSetBySupportIsConfirmedAfterSignIn(t *testing.T) {
	h := newHarness(t)
	h.emailFactor(t, h.client(t), "alice")
	if err := h.accounts.ChangeEmail(context.Background(), account.Actor{Name: "sam"}, "alice", "alice@new.example.com", "asked by phone"); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour)
	c := h.client(t)
	h.login(t, c, "alice")
	if page := h.get(t, c, "/mfa/challenge?method=email"); !strings.Contains(page.body, "<strong>alice@example.com</strong>") {
		t.Fatal("the challenge does not say the code went to the confirmed address")
	}
	res := h.post(t, c, "/mfa/challenge", url.Values{"method": {"email"}, "code": {h.codeTo(t, "alice@example.com")}})
	if res.Header.Get("Location") != "/account/email" {
		t.Fatalf("after the second factor: got %q, want the confirmation page", res.Header.Get("Location"))
	}
	// Applications are not told an address nobody has proved yet.
	if got := h.verify(t, c, "").Header.Get("Remote-Email"); got != "alice@example.com" {
		t.Fatalf("Remote-Email before confirming: got %q, want the confirmed address", got)
	}
	page := h.get(t, c, "/account/email")
	if !strings.Contains(page.body, "<h1>Confirm your email address</h1>") || !strings.Contains(page.body, "alice@new.example.com") {
		t.Fatal("the confirmation page does not name the new address")
	}
	if res := h.post(t, c, "/account/email", url.Values{"email": {"alice@new.example.com"}}); res.Header.Get("Location") != "/account/email/code" {
		t.Fatalf("sending: got %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res := h.post(t, c, "/account/email/code", url.Values{"code": {h.codeTo(t, "alice@new.example.com")}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirming: got %d", res.StatusCode)
	}
	if u, _ := h.accounts.User(context.Background(), "alice"); u.EmailUnconfirmed() || u.CodeAddress() != "alice@new.example.com" {
		t.Fatalf("got unconfirmed %v, codes to %q; want the new address confirmed", u.EmailUnconfirmed(), u.CodeAddress())
	}
	if got := h.verify(t, c, "").Header.Get("Remote-Email"); got != "alice@new.example.com" {
		t.Fatalf("Remote-Email after confirming: got %q, want the new address at once", got)
	}
}

// TestChangeEmailFromTheConsole: support gives alice another address,
// with a reason, from her page; staff accounts, their own and an address
// in use are refused with the reason next to the field; an operator
// cannot reach the form.
func TestChangeEmailFromTheConsole(t *testing.T) {
	h := newHarness(t)
	h.mustUser(t, "bob", pw)
	h.mustUser(t, "olga", pw, "operator")
	sam := h.staff(t, "sam", "support")
	alice := h.client(t)
	h.signIn(t, alice, "alice", pw)

	page := h.get(t, sam, "/admin/people/alice").body
	for _, want := range []string{`<form method="post" action="/admin/people/alice/email" novalidate>`, `<label for="new-email">New email address</label>`,
		`<label for="email-reason">Reason</label>`, "Change their email address"} {
		if !strings.Contains(page, want) {
			t.Errorf("alice's page lacks %q", want)
		}
	}
	for _, tt := range []struct {
		name, who, email, reason string
		status                   int
		says                     string
	}{
		{"no address", "alice", "", "asked by phone", http.StatusBadRequest, "Enter the new email address"},
		{"no reason", "alice", "alice@new.example.com", " ", http.StatusBadRequest, "Enter a reason"},
		{"a bad address", "alice", "alice@", "asked by phone", http.StatusBadRequest, "correct format"},
		{"bob's address", "alice", "BOB@example.com", "asked by phone", http.StatusConflict, "used by another account"},
		{"an operator", "olga", "olga@new.example.com", "asked by phone", http.StatusForbidden, "operator or support account"},
		{"their own", "sam", "sam@new.example.com", "asked by phone", http.StatusForbidden, "your own account"},
	} {
		res := h.post(t, sam, "/admin/people/"+tt.who+"/email", url.Values{"email": {tt.email}, "reason": {tt.reason}})
		if body := html.UnescapeString(res.body); res.StatusCode != tt.status || !strings.Contains(body, tt.says) || !strings.Contains(body, "There is a problem") {
			t.Errorf("%s: got %d, want %d saying %q", tt.name, res.StatusCode, tt.status, tt.says)
		}
	}
	if u, _ := h.accounts.User(context.Background(), "olga"); u.Email != "olga@example.com" {
		t.Fatal("support changed an operator's address")
	}

	res := h.post(t, sam, "/admin/people/alice/email", url.Values{"email": {"alice@new.example.com"}, "reason": {"left her old employer"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/people/alice?done=email" {
		t.Fatalf("changing: got %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	page = h.get(t, sam, "/admin/people/alice?done=email").body
	if !strings.Contains(page, "The new address is saved") || !strings.Contains(page, "Not confirmed yet") {
		t.Fatal("alice's page does not say the address waits for her")
	}
	if res := h.get(t, alice, "/account"); res.StatusCode == http.StatusOK {
		t.Fatal("alice is still signed in after the change")
	}
	var found bool
	for _, ev := range h.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditEmailChange, Subject: "alice"}) {
		found = found || ev.Actor == "sam" && ev.Reason == "left her old employer" && strings.Contains(ev.Detail, "alice@example.com → alice@new.example.com")
	}
	if !found {
		t.Fatal("the change is not audited with sam, the reason and old → new")
	}
	if got := h.mailTo(t, "alice@example.com")[0].Subject; got != "A new email address was set for your account" {
		t.Fatalf("newest email to the old address: got %q", got)
	}

	olga := h.staff(t, "opal", "operator")
	if res := h.post(t, olga, "/admin/people/bob/email", url.Values{"email": {"bob@new.example.com"}, "reason": {"x"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("an operator: got %d, want 403", res.StatusCode)
	}
}

// TestAPISetEmail: a support token gives alice another address; the reply
// shows it, the change is audited with the token and the reason, and her
// session ends.
func TestAPISetEmail(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.signIn(t, c, "alice", pw)
	tok := h.mustToken(t, "helpdesk-bot", mfagate.RoleSupport)
	res := h.api(t, "POST", "/api/v1/people/alice/email", tok, `{"email": "alice@new.example.com", "reason": "new employer"}`)
	var reply struct {
		Email string `json:"email"`
	}
	if err := json.Unmarshal([]byte(res.body), &reply); res.StatusCode != 200 || err != nil || reply.Email != "alice@new.example.com" {
		t.Fatalf("set email: %d %s", res.StatusCode, res.body)
	}
	evs := h.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditEmailChange, Subject: "alice"})
	if len(evs) != 1 || evs[0].Actor != "token:helpdesk-bot" || evs[0].Reason != "new employer" ||
		!strings.HasPrefix(evs[0].Detail, "email alice@example.com → alice@new.example.com") {
		t.Fatalf("audit: %+v", evs)
	}
	if res := h.verify(t, c, ""); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("alice's session after the change: got %d, want 401", res.StatusCode)
	}
	if got := h.mailTo(t, "alice@example.com")[0].Subject; got != "A new email address was set for your account" {
		t.Fatalf("newest email to the old address: %q", got)
	}
}

// TestNoFactorNoAddressChange: fully signed in with the password alone
// (no factor), the address cannot be moved through the pages either.
func TestNoFactorNoAddressChange(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.signIn(t, c, "alice", pw)
	if page := h.get(t, c, "/account").body; strings.Contains(page, `href="/account/email"`) || !strings.Contains(page, "first set up a way to get security codes") {
		t.Fatal("the account page offers to change the address to someone with no factor")
	}
	before := len(mustMail(t, h.store))
	res := h.post(t, c, "/account/email", url.Values{"email": {"thief@evil.example"}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(html.UnescapeString(res.body), "Set up a way to get security codes first") {
		t.Fatalf("got %d, want 403 saying why", res.StatusCode)
	}
	if got := len(mustMail(t, h.store)); got != before {
		t.Fatalf("got %d emails, want none", got-before)
	}
}

// TestAddressChangeAsksForARecentCode: eleven minutes after the second
// factor, the change first sends the person to confirm it's them, and
// back to the form afterwards; nothing goes to the new address meanwhile.
func TestAddressChangeAsksForARecentCode(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.emailFactor(t, c, "alice")
	h.clock.Advance(11 * time.Minute)
	res := h.post(t, c, "/account/email", url.Values{"email": {"alice@new.example.com"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/mfa/challenge?rd=%2Faccount%2Femail" {
		t.Fatalf("got %d to %q, want the challenge, then back to the form", res.StatusCode, res.Header.Get("Location"))
	}
	if n := len(h.mailTo(t, "alice@new.example.com")); n != 0 {
		t.Fatalf("got %d emails to the new address, want none", n)
	}
}
