package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func withCodeTTL(d time.Duration) harnessOption {
	return func(c *harnessConfig) { c.Account.MFA.CodeTTL = d }
}

// TestCodePageWords: the page that asks for an emailed code writes its
// numbers properly ("1 minute") and works out the resend hint when it is
// drawn: a time that has passed is not offered as the time to wait for.
func TestCodePageWords(t *testing.T) {
	h := newHarness(t, withCodeTTL(time.Minute))
	h.mustUser(t, "bob", pw, "user")
	h.addFactor(t, "bob", "email")
	c := h.client(t)
	res := h.login(t, c, "bob")
	page := h.get(t, c, res.Header.Get("Location")).body
	if !strings.Contains(page, "works for 1 minute.") || strings.Contains(page, "1 minutes") {
		t.Errorf("the code page does not say %q:\n%s", "works for 1 minute.", between(page, "<main", "</main>"))
	}
	if !strings.Contains(page, "You can ask for a new code from ") {
		t.Error("right after sending, the page does not say from when a new code can be asked for")
	}
	h.clock.Advance(31 * time.Second)
	page = h.get(t, c, "/mfa/challenge?method=email").body
	if !strings.Contains(page, "You can ask for a new code now.") || strings.Contains(page, "You can ask for a new code from ") {
		t.Errorf("after the wait the page still names a time gone by:\n%s", between(page, "<details", "</details>"))
	}
}

// TestExpiredCodeOffersANewOne: an expired code's error has the button for
// a new code right after it, outside "Problems with the code?", and after
// sending, the page confirms where and when the new code went.
func TestExpiredCodeOffersANewOne(t *testing.T) {
	h := newHarness(t)
	h.mustUser(t, "bob", pw, "user")
	h.addFactor(t, "bob", "email")
	c := h.client(t)
	h.login(t, c, "bob")
	code := h.latestCode(t)
	h.clock.Advance(11 * time.Minute)
	res := h.post(t, c, "/mfa/challenge", url.Values{"method": {"email"}, "code": {code}})
	main := between(res.body, "<main", "<details")
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(main, "That code has expired") ||
		!strings.Contains(main, `<form method="post" action="/mfa/challenge/send" class="send-again">`) {
		t.Fatalf("an expired code (%d): the send-again button is not next to the error:\n%s", res.StatusCode, main)
	}
	res = h.post(t, c, "/mfa/challenge/send", nil)
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "sent=1") {
		t.Fatalf("send: %d to %q", res.StatusCode, loc)
	}
	page := h.get(t, c, res.Header.Get("Location")).body
	if !strings.Contains(page, "A new code is on its way to ") || !strings.Contains(page, ", sent at ") {
		t.Errorf("after sending, the page does not confirm it:\n%s", between(page, "<main", "</form>"))
	}
	// A wrong code is not dead: no button there, the code can be retyped.
	res = h.post(t, c, "/mfa/challenge", url.Values{"method": {"email"}, "code": {"000000"}})
	if strings.Contains(between(res.body, "<main", "<details"), `class="send-again"`) {
		t.Error("a wrong code offers to send a new one as if the code had expired")
	}
}

// TestTooSoonKeepsTheForm: a code typed too soon after wrong ones is
// answered on the same page, the code field still there, saying the time
// from which the person may try again, not by a page with no form.
func TestTooSoonKeepsTheForm(t *testing.T) {
	h := newHarness(t)
	h.mustUser(t, "bob", pw, "user")
	h.addFactor(t, "bob", "email")
	c := h.client(t)
	h.login(t, c, "bob")
	for range 3 {
		h.post(t, c, "/mfa/challenge", url.Values{"method": {"email"}, "code": {"000000"}})
	}
	res := h.post(t, c, "/mfa/challenge", url.Values{"method": {"email"}, "code": {"000000"}})
	if !strings.Contains(res.body, `id="code"`) || !strings.Contains(res.body, "Too many wrong codes in a row. You can try again at 09:00:0") ||
		!strings.Contains(res.body, `<a href="#code">`) {
		t.Errorf("too soon (%d): the code form is not there with the time to try again:\n%s", res.StatusCode, between(res.body, "<main", "</form>"))
	}
}

// TestExpiredAddressCodeOffersANewOne: the address-change page, too, has
// the button for a new code next to an expired code's error.
func TestExpiredAddressCodeOffersANewOne(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.emailFactor(t, c, "alice")
	if res := h.post(t, c, "/account/email", url.Values{"email": {"alice@new.example.com"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sending the code: %d", res.StatusCode)
	}
	code := h.codeTo(t, "alice@new.example.com")
	h.clock.Advance(11 * time.Minute)
	res := h.post(t, c, "/account/email/code", url.Values{"code": {code}})
	main := between(res.body, "<main", "<details")
	if !strings.Contains(main, "That code has expired") || !strings.Contains(main, `<form method="post" action="/account/email" class="send-again">`) {
		t.Errorf("an expired address code (%d): no send-again button by the error:\n%s", res.StatusCode, main)
	}
}
