package web_test

import (
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
