package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/totp"
)

// TestCheckupAsksForTheUnusedAppFirst walks the check-up at sign-in:
// Alice adds an app beside email codes and keeps using email; from 28
// days after adding the app, sign-in asks for the app first, says why,
// and keeps email one click away; once she has used the app, the method
// used last is first again. The console says the app is not used yet.
func TestCheckupAsksForTheUnusedAppFirst(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		h := newBackendHarness(t, b)
		c := h.client(t)
		h.emailFactor(t, c, "alice")
		added := h.clock.Now() // 1 June 2027
		secret, res := h.setUpTOTP(t, c)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("adding the app: got %d", res.StatusCode)
		}
		const why = "You set up an authenticator app on 1 June 2027 but have not used it yet. Enter a code from it now, so you know it works before you need it."

		// signIn signs alice in afresh at the clock and returns where the
		// password step sends her and that page.
		signIn := func() (*http.Client, string, response) {
			t.Helper()
			c := h.client(t)
			loc := h.login(t, c, "alice").Header.Get("Location")
			return c, loc, h.get(t, c, loc)
		}
		withEmail := func(c *http.Client) {
			t.Helper()
			h.post(t, c, "/mfa/challenge/send", nil)
			if res := h.post(t, c, "/mfa/challenge", url.Values{"method": {"email"}, "code": {h.codeTo(t, "alice@example.com")}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("email code: got %d", res.StatusCode)
			}
		}

		// The next day she chooses email over the app, and keeps doing so.
		h.clock.Advance(24 * time.Hour)
		c, _, _ = signIn()
		withEmail(c)
		person := func() string {
			t.Helper()
			return h.get(t, h.staff(t, "sam"+h.clock.Now().Format("0102150405"), "support"), "/admin/people/alice").body
		}
		if page := person(); strings.Count(page, "Set up, not yet used") != 1 {
			t.Errorf("console: got %d cells saying the app is not used yet, want 1", strings.Count(page, "Set up, not yet used"))
		}

		h.clock.Set(added.Add(28*24*time.Hour - time.Second))
		c, loc, page := signIn()
		if loc != "/mfa/challenge?method=email" || strings.Contains(page.body, "have not used it yet") {
			t.Fatalf("a second before the check-up: got %q, want email codes first and no check-up", loc)
		}
		withEmail(c)

		h.clock.Set(added.Add(28 * 24 * time.Hour))
		c, loc, page = signIn()
		if loc != "/mfa/challenge?method=totp" {
			t.Fatalf("at the check-up: got %q, want the app first", loc)
		}
		for _, want := range []string{"<h1>Enter the code from your authenticator app</h1>", why,
			`href="/mfa/challenge?method=email">Get a code by email instead`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the check-up page does not say %q", want)
			}
		}
		if other := h.get(t, c, "/mfa/challenge?method=email"); !strings.Contains(other.body, "Get a code by email") || strings.Contains(other.body, "have not used it yet") {
			t.Error("the email page, one click away, does not ask for email codes alone")
		}
		ok := h.post(t, c, "/mfa/challenge", url.Values{"method": {"totp"}, "code": {totp.Code(secret, totp.Step(h.clock.Now()))}})
		if ok.StatusCode != http.StatusSeeOther || strings.HasPrefix(ok.Header.Get("Location"), "/mfa/") {
			t.Fatalf("the app's code: got %d to %q, want signed in", ok.StatusCode, ok.Header.Get("Location"))
		}
		if page := person(); strings.Contains(page, "Set up, not yet used") {
			t.Error("console: the app is still said to be unused after signing in with it")
		}

		// Used: the most recently used method leads again, with no word of
		// a check-up.
		h.clock.Advance(time.Hour)
		c, loc, page = signIn()
		if loc != "/mfa/challenge?method=totp" || strings.Contains(page.body, "have not used it yet") {
			t.Fatalf("after using the app: got %q, want the app (used last) without the check-up", loc)
		}
		h.get(t, c, "/mfa/challenge?method=email")
		withEmail(c)
		h.clock.Advance(time.Hour)
		if _, loc, _ := signIn(); loc != "/mfa/challenge?method=email" {
			t.Fatalf("after email again: got %q, want email codes (used last)", loc)
		}
	})
}
