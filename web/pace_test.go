package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/rollout"
)

// pacePlan is one phase for everyone from the harness's first day: phase
// changes it into a grace window or capped skips.
func pacePlan(tb testing.TB, change func(*rollout.Phase)) *rollout.Rollout {
	tb.Helper()
	ph := rollout.Phase{Name: "Sign-in security", Start: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC), Audience: []string{rollout.Everyone},
		Requirement: rollout.Optional, Methods: []string{"email", "totp"}}
	change(&ph)
	r := &rollout.Rollout{Location: time.UTC, Phases: []rollout.Phase{ph}}
	if err := r.Validate(); err != nil {
		tb.Fatal(err)
	}
	return r
}

// TestGraceWindowIsTheirOwn: the setup page and the banner name the end
// of the person's own window, from their first sign-in; after it the
// skip is gone.
func TestGraceWindowIsTheirOwn(t *testing.T) {
	h := newPolicyHarness(t, pacePlan(t, func(ph *rollout.Phase) {
		ph.Requirement, ph.Grace = rollout.Required, 14*24*time.Hour
	}))
	c := h.client(t)
	h.clock.Advance(2 * 24 * time.Hour) // first sign-in on 3 June at 09:00
	h.login(t, c, "alice")
	setup := h.get(t, c, "/mfa/setup").body
	for _, want := range []string{"You can skip it for now. <strong>From 17 June 2027 at 09:00 UTC it will be required</strong>", "Skip for now"} {
		if !strings.Contains(setup, want) {
			t.Errorf("the setup page does not say %q:\n%s", want, setup)
		}
	}
	h.post(t, c, "/mfa/setup/skip", nil)
	if home := h.get(t, c, "/").body; !strings.Contains(home, "You have until 17 June 2027 at 09:00 UTC to set up a way to get security codes.") {
		t.Errorf("the home page's banner does not name her date:\n%s", home)
	}

	h.clock.Set(time.Date(2027, 6, 17, 9, 0, 0, 0, time.UTC))
	c = h.client(t)
	h.login(t, c, "alice")
	if setup := h.get(t, c, "/mfa/setup").body; strings.Contains(setup, "Skip for now") || !strings.Contains(setup, "You need to set this up now") {
		t.Errorf("after her window the setup page still lets her skip:\n%s", setup)
	}
	if res := h.post(t, c, "/mfa/setup/skip", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("skip after her window: got %d, want 403", res.StatusCode)
	}
}

// TestCappedSkipsCountDown: each skip says how many are left; the third
// is the last, and the next sign-in requires setup.
func TestCappedSkipsCountDown(t *testing.T) {
	h := newPolicyHarness(t, pacePlan(t, func(ph *rollout.Phase) {
		ph.MaxSkips, ph.Then, ph.RepromptAfter = 3, rollout.Required, 24*time.Hour
	}))
	for i, want := range []struct{ hint, banner string }{
		{"You will not be asked again for 1 day. After this skip you can skip 2 more times.", "You can skip it 2 more times."},
		{"You will not be asked again for 1 day. After this skip you can skip 1 more time.", "You can skip it 1 more time."},
		{"This is the last time you can skip it: after this, you will need to set it up to sign in.", "You cannot skip it again"},
	} {
		c := h.client(t)
		if loc := h.login(t, c, "alice").Header.Get("Location"); loc != "/mfa/setup" {
			t.Fatalf("sign-in %d: went to %q, want the setup page", i+1, loc)
		}
		if setup := h.get(t, c, "/mfa/setup").body; !strings.Contains(setup, want.hint) {
			t.Errorf("sign-in %d: the setup page does not say %q:\n%s", i+1, want.hint, setup)
		}
		if res := h.post(t, c, "/mfa/setup/skip", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("skip %d: got %d", i+1, res.StatusCode)
		}
		if home := h.get(t, c, "/").body; !strings.Contains(home, want.banner) {
			t.Errorf("after skip %d the banner does not say %q:\n%s", i+1, want.banner, home)
		}
		// Within the day she is not asked; a day later she is.
		c = h.client(t)
		if loc := h.login(t, c, "alice").Header.Get("Location"); i < 2 && loc == "/mfa/setup" {
			t.Errorf("signing in again within a day of skip %d asked her to set up", i+1)
		}
		h.clock.Advance(24 * time.Hour)
	}
	c := h.client(t)
	h.login(t, c, "alice")
	if setup := h.get(t, c, "/mfa/setup").body; strings.Contains(setup, "Skip for now") {
		t.Errorf("after three skips the setup page still offers one:\n%s", setup)
	}
}

// TestGraceUntilEndsWithTheDay: a window cut short by grace_until ends
// with that day, and the banner says so in those words.
func TestGraceUntilEndsWithTheDay(t *testing.T) {
	h := newPolicyHarness(t, pacePlan(t, func(ph *rollout.Phase) {
		ph.Requirement, ph.Grace = rollout.Required, 14*24*time.Hour
		ph.GraceUntil = time.Date(2027, 6, 6, 0, 0, 0, 0, time.UTC) // grace_until: 2027-06-05
	}))
	c := h.client(t)
	h.signIn(t, c, "alice", pw)
	if home := h.get(t, c, "/").body; !strings.Contains(home, "You have until the end of 5 June 2027 to set up") {
		t.Errorf("the banner does not name the last day:\n%s", home)
	}
}

// TestRetiredMethodBanner: under a phase that retires email codes, Alice,
// whose only factor is email, is still asked for it during her window,
// and the banner says by when to add an app.
func TestRetiredMethodBanner(t *testing.T) {
	h := newPolicyHarness(t, pacePlan(t, func(ph *rollout.Phase) {
		ph.Requirement, ph.Grace, ph.Methods, ph.Retire = rollout.Required, 14*24*time.Hour, []string{"totp"}, []string{"email"}
	}))
	h.addFactor(t, "alice", "email")
	c := h.client(t)
	h.login(t, c, "alice") // her first sign-in under the phase opens her window
	if res := h.post(t, c, "/mfa/challenge", url.Values{"method": {"email"}, "code": {h.codeTo(t, "alice@example.com")}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("her email code during her window: got %d", res.StatusCode)
	}
	home := h.get(t, c, "/").body
	if want := "After 15 June 2027 at 09:00 UTC the way you get security codes now will no longer be accepted for your account. Before then, set up an authenticator app"; !strings.Contains(home, want) {
		t.Errorf("the banner does not say %q:\n%s", want, home)
	}
}
