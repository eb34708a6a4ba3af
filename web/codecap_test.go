package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// TestHourlyCodeCapSaysWhen: once the hourly cap on email codes is
// reached, asking for another says so and names the time the next one
// can be sent, an hour after the first, and the code page says that
// time too, never "You can ask for a new code now", at sign-in and
// during setup alike.
func TestHourlyCodeCapSaysWhen(t *testing.T) {
	for _, tt := range []struct{ name, page, send string }{
		{"setup", "/mfa/setup/email", "/mfa/setup/email/send"},
		{"sign-in", "/mfa/challenge?method=email", "/mfa/challenge/send"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
				h := newBackendHarness(t, b)
				c := h.client(t)
				if tt.name == "sign-in" {
					h.addFactor(t, "alice", mfagate.MethodEmail)
					h.login(t, c, "alice") // sends the first sign-in code
				} else {
					h.login(t, c, "alice")
					h.post(t, c, "/mfa/setup", url.Values{"method": {"email"}}) // sends the first setup code
				}
				first := h.clock.Now()
				for i := 1; i < 10; i++ { // the cap: 10 codes in an hour
					h.clock.Advance(31 * time.Second)
					if res := h.post(t, c, tt.send, nil); res.StatusCode != http.StatusSeeOther {
						t.Fatalf("code %d: got %d, want 303", i+1, res.StatusCode)
					}
				}
				h.clock.Advance(31 * time.Second)
				// The first code leaves the hour just after first+1h: the next
				// whole second.
				next := first.Add(time.Hour + time.Second)
				when := next.Format("15:04:05 MST")
				res := h.post(t, c, tt.send, nil)
				if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(res.body, "You can ask for a new code from "+when) ||
					strings.Contains(res.body, "You can ask for a new code now") || !strings.Contains(res.body, "10 codes in the last hour") {
					t.Fatalf("the 11th code: got %d, want 429 saying the cap is reached and naming %s:\n%s", res.StatusCode, when, between(res.body, "<main", "</main>"))
				}
				page := h.get(t, c, tt.page).body
				if !strings.Contains(page, "You can ask for a new code from "+when) || strings.Contains(page, "You can ask for a new code now") {
					t.Errorf("the code page does not name %s:\n%s", when, between(page, "<main", "</main>"))
				}
				for h.clock.Now().Before(next.Add(-5 * time.Minute)) { // the session stays in use
					h.clock.Advance(4 * time.Minute)
					h.get(t, c, tt.page)
				}
				h.clock.Set(next.Add(-time.Second))
				if res := h.post(t, c, tt.send, nil); res.StatusCode != http.StatusTooManyRequests {
					t.Errorf("a second before %s: got %d, want 429", when, res.StatusCode)
				}
				h.clock.Set(next)
				if res := h.post(t, c, tt.send, nil); res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "sent=1") {
					t.Errorf("at %s: got %d to %q, want the code sent", when, res.StatusCode, res.Header.Get("Location"))
				}
			})
		})
	}
}
