package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRequiredSetupSaysWhy: on the day a phase requires a second step,
// the setup page the person lands on says so, with the date, and offers a
// way out; a signed-in person adding a method by choice is not told they
// may skip what they cannot, and is offered the way back to their account.
func TestRequiredSetupSaysWhy(t *testing.T) {
	london, _ := time.LoadLocation("Europe/London")
	h := newRolloutHarness(t, time.Date(2027, 7, 14, 9, 0, 0, 0, london))
	c := h.client(t)
	res := h.login(t, c, "ada")
	page := h.get(t, c, res.Header.Get("Location")).body
	for _, want := range []string{"From 13 July 2027 your organisation requires a second step when you sign in.",
		"Cancel and sign out", "Choose another way to get codes"} {
		if !strings.Contains(page, want) {
			t.Errorf("the required setup page (%s) does not say %q", res.Header.Get("Location"), want)
		}
	}

	// Uma, a user, has no phase yet and signs in with her password alone.
	// Setting up by choice, she is not told she may skip what she cannot,
	// and is offered the way back to her account.
	h2 := newRolloutHarness(t, time.Date(2027, 7, 14, 9, 0, 0, 0, london))
	h2.mustUser(t, "uma", pw, "user")
	u := h2.client(t)
	if res := h2.login(t, u, "uma"); res.Header.Get("Location") != "/" {
		t.Fatalf("uma after her password: %q, want signed in", res.Header.Get("Location"))
	}
	res = h2.get(t, u, "/mfa/setup")
	if res.StatusCode != http.StatusOK || strings.Contains(res.body, "You can skip it for now") || !strings.Contains(res.body, "From 31 July 2027 it will be required") ||
		!strings.Contains(res.body, `href="/account">Back to your account`) {
		t.Errorf("the setup page for a signed-in person (%d):\n%s", res.StatusCode, between(res.body, "<main", "</main>"))
	}
}
