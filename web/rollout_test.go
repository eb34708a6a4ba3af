package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // London resolves, with or without the machine's zoneinfo

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
)

// plan is SPEC.md's schedule, in London.
func plan(tb testing.TB) *rollout.Rollout {
	tb.Helper()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		tb.Fatal(err)
	}
	day := func(m time.Month, d int) time.Time { return time.Date(2027, m, d, 0, 0, 0, 0, london) }
	both := []string{mfagate.MethodEmail, mfagate.MethodTOTP}
	r := &rollout.Rollout{Location: london, Phases: []rollout.Phase{
		{Name: "Communication", Start: day(5, 26), Audience: []string{"admin"}, Requirement: rollout.Notify},
		{Name: "Optional enrollment", Start: day(6, 11), Audience: []string{"admin"}, Requirement: rollout.Optional, Methods: both},
		{Name: "Email verification required", Start: day(7, 13), Audience: []string{"admin"}, Requirement: rollout.Required, Methods: both, DefaultMethod: mfagate.MethodEmail},
		{Name: "Full enforcement", Start: day(7, 31), Audience: []string{"all"}, Requirement: rollout.Required, Methods: both},
	}}
	if err := r.Validate(); err != nil {
		tb.Fatal(err)
	}
	return r
}

func newRolloutHarness(tb testing.TB, at time.Time, opts ...harnessOption) *harness {
	tb.Helper()
	r := plan(tb)
	h := newPolicyHarness(tb, r, opts...)
	h.mustUser(tb, "ada", pw, "admin")
	h.clock.Set(at)
	return h
}

func TestPhasesAtTheDoor(t *testing.T) {
	at := func(m time.Month, d int) time.Time { return time.Date(2027, m, d, 12, 0, 0, 0, time.UTC) }
	tests := []struct {
		name, user string
		at         time.Time
		location   string // where the password step leads
		page       []string
		absent     []string
	}{
		{"admin before the rollout", "ada", at(5, 1), "/", nil, nil},
		{"admin in optional enrollment", "ada", at(6, 20), "/mfa/setup", []string{"Skip for now", "From 13 July 2027 it will be required"}, nil},
		{"user in optional enrollment", "alice", at(6, 20), "/", nil, nil},
		{"admin when email is required", "ada", at(7, 13), "/mfa/setup/email", []string{"Check your email", "ada@example.com"}, []string{"Skip for now"}},
		{"user in full enforcement", "alice", at(8, 1), "/mfa/setup", []string{"Authenticator app", "Email"}, []string{"Skip for now"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newRolloutHarness(t, tt.at)
			c := h.client(t)
			res := h.login(t, c, tt.user)
			if res.Header.Get("Location") != tt.location {
				t.Fatalf("after the password: got %q, want %q", res.Header.Get("Location"), tt.location)
			}
			page := h.get(t, c, tt.location).body
			for _, want := range tt.page {
				if !strings.Contains(page, want) {
					t.Errorf("the page does not say %q", want)
				}
			}
			for _, not := range tt.absent {
				if strings.Contains(page, not) {
					t.Errorf("the page says %q", not)
				}
			}
			if tt.location == "/mfa/setup/email" {
				h.latestCode(t) // fails the test when no code was sent
			}
		})
	}
}

func TestSkipIsRefusedWhenRequired(t *testing.T) {
	h := newRolloutHarness(t, time.Date(2027, 7, 14, 9, 0, 0, 0, time.UTC))
	c := h.client(t)
	h.login(t, c, "ada")
	res := h.post(t, c, "/mfa/setup/skip", nil)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(res.body, "cannot be skipped") {
		t.Fatalf("got %d, want 403 saying it cannot be skipped", res.StatusCode)
	}
	if home := h.get(t, c, "/"); home.StatusCode == 200 {
		t.Fatal("signed in without setting up in a required phase")
	}
}

func TestBannerNamesTheNextDate(t *testing.T) {
	h := newRolloutHarness(t, time.Date(2027, 6, 20, 9, 0, 0, 0, time.UTC), withRollout(plan(t)))
	c := h.client(t)
	h.login(t, c, "ada")
	h.post(t, c, "/mfa/setup/skip", nil)
	for _, p := range []string{"/", "/account"} {
		page := h.get(t, c, p).body
		if !strings.Contains(page, "From 13 July 2027 you will need to verify a code sent to your email at every sign-in.") {
			t.Errorf("%s lacks the banner:\n%s", p, page)
		}
	}
	// The help page's schedule says the same of that phase, in the same words.
	if help := h.get(t, c, "/help").body; !strings.Contains(help, "You will need to verify a code sent to your email at every sign-in.") {
		t.Errorf("the help page's schedule does not say what the banner says:\n%s", help)
	}
	// Someone already set up hears nothing of it.
	h.clock.Advance(time.Minute)
	h.post(t, c, "/mfa/setup", url.Values{"method": {"email"}})
	h.post(t, c, "/mfa/setup/email", url.Values{"code": {h.latestCode(t)}})
	if page := h.get(t, c, "/").body; strings.Contains(page, `class="banner"`) {
		t.Error("the banner shows for someone with a factor")
	}
}

func TestRehearsalIsOnEveryPage(t *testing.T) {
	h := newRolloutHarness(t, time.Date(2027, 7, 13, 9, 30, 0, 0, time.UTC), func(o *harnessConfig) { o.Rehearsal = true })
	c := h.client(t)
	for _, p := range []string{"/login", "/help", "/nowhere"} {
		if page := h.get(t, c, p).body; !strings.Contains(page, "Rehearsal: this server is running as if it were Tuesday 13 July 2027, 10:30 BST") {
			t.Errorf("%s lacks the rehearsal banner", p)
		}
	}
}
