package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
)

// extend gives name an extension until, as staff do.
func (h *harness) extend(tb testing.TB, name string, until time.Time) {
	tb.Helper()
	if err := h.accounts.Extend(context.Background(), account.Actor{Name: "sam", AtServer: true}, name, until, "On leave"); err != nil {
		tb.Fatal(err)
	}
}

// TestExtensionNamesTheLastDayItCovers: an extension through 20 August
// (in the rollout's zone) is written "20 August 2027" on the banner, the
// setup page and the person's page in the console, whether it was stored
// as the last second of that day or, as the command line once stored it,
// as the midnight after.
func TestExtensionNamesTheLastDayItCovers(t *testing.T) {
	london := plan(t).Location
	for _, tt := range []struct {
		name  string
		until time.Time
	}{
		{"the last second of the day", rollout.EndOfDay(time.Date(2027, 8, 20, 0, 0, 0, 0, time.UTC), london)},
		{"the midnight after", time.Date(2027, 8, 21, 0, 0, 0, 0, london)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newRolloutHarness(t, time.Date(2027, 8, 1, 12, 0, 0, 0, time.UTC))
			sam := h.staff(t, "sam", "support")
			h.extend(t, "alice", tt.until)
			c := h.client(t)
			if res := h.login(t, c, "alice"); res.Header.Get("Location") != "/mfa/setup" {
				t.Fatalf("after the password: got %q, want the setup offer", res.Header.Get("Location"))
			}
			pages := map[string]string{"setup page": h.get(t, c, "/mfa/setup").body}
			if res := h.post(t, c, "/mfa/setup/skip", nil); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("skip: got %d", res.StatusCode)
			}
			pages["home page"] = h.get(t, c, "/").body
			pages["person page"] = h.get(t, sam, "/admin/people/alice").body
			for name, page := range pages {
				if !strings.Contains(page, "20 August 2027") || strings.Contains(page, "21 August") {
					t.Errorf("the %s does not name 20 August 2027 alone:\n%s", name, page)
				}
			}
		})
	}
}

// TestExtendedPersonIsOfferedSetup: in a required phase whose
// default_method is email, an administrator with an extension is not
// taken into email setup with a code already sent: they see the offer,
// with "Skip for now" and until when, as long as the extension runs, and
// once it ends they are taken into email setup as everyone else.
func TestExtendedPersonIsOfferedSetup(t *testing.T) {
	h := newRolloutHarness(t, time.Date(2027, 7, 14, 9, 0, 0, 0, time.UTC))
	h.extend(t, "ada", rollout.EndOfDay(time.Date(2027, 7, 20, 0, 0, 0, 0, time.UTC), plan(t).Location))
	c := h.client(t)
	if res := h.login(t, c, "ada"); res.Header.Get("Location") != "/mfa/setup" {
		t.Fatalf("after the password: got %q, want /mfa/setup (the offer)", res.Header.Get("Location"))
	}
	for _, m := range mustMail(t, h.store) {
		if mailRE.MatchString(m.Text) {
			t.Errorf("a security code was sent on the way to the offer:\n%s", m.Text)
		}
	}
	page := h.get(t, c, "/mfa/setup").body
	for _, want := range []string{"Skip for now", "20 July 2027"} {
		if !strings.Contains(page, want) {
			t.Errorf("the setup page does not say %q:\n%s", want, page)
		}
	}
	if res := h.post(t, c, "/mfa/setup/skip", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("skip during the extension: got %d, want 303", res.StatusCode)
	}

	h.clock.Set(time.Date(2027, 7, 21, 9, 0, 0, 0, time.UTC))
	later := h.client(t)
	if res := h.login(t, later, "ada"); res.Header.Get("Location") != "/mfa/setup/email" {
		t.Fatalf("after the extension: got %q, want /mfa/setup/email", res.Header.Get("Location"))
	}
}

// TestBannerAnnouncesANotice: before a notice-only phase for
// administrators starts, an administrator's banner says it is coming and
// when; a user, whom it does not concern, hears of their own next phase.
func TestBannerAnnouncesANotice(t *testing.T) {
	r := plan(t)
	r.Phases[0].Notice = &rollout.Notice{Subject: "MFA is coming", Body: "Sign-in is getting a second step."}
	h := newPolicyHarness(t, r)
	h.mustUser(t, "ada", pw, "admin")
	h.clock.Set(time.Date(2027, 5, 1, 9, 0, 0, 0, time.UTC))
	for _, tt := range []struct{ user, want string }{
		{"ada", "From 26 May 2027 you will get an email explaining what is coming; nothing changes when you sign in."},
		{"alice", "From 31 July 2027 you will need to enter a security code at every sign-in."},
	} {
		c := h.client(t)
		h.signIn(t, c, tt.user, pw)
		if page := h.get(t, c, "/").body; !strings.Contains(page, tt.want) {
			t.Errorf("%s's home page lacks the banner %q:\n%s", tt.user, tt.want, between(page, "<body", "</header>"))
		}
	}
}

// TestBannerCountsTheExtension: someone whose extension runs past the
// next required phase's start is not told that it applies to them from
// then: the banner (and the setup page) say until when they have.
func TestBannerCountsTheExtension(t *testing.T) {
	london := plan(t).Location
	h := newRolloutHarness(t, time.Date(2027, 6, 20, 9, 0, 0, 0, time.UTC))
	h.extend(t, "alice", rollout.EndOfDay(time.Date(2027, 8, 20, 0, 0, 0, 0, time.UTC), london))
	h.extend(t, "ada", rollout.EndOfDay(time.Date(2027, 7, 20, 0, 0, 0, 0, time.UTC), london))
	for _, tt := range []struct{ user, until, phase string }{
		{"alice", "20 August 2027", "31 July 2027"},
		{"ada", "20 July 2027", "13 July 2027"},
	} {
		c := h.client(t)
		pages := map[string]string{}
		if res := h.login(t, c, tt.user); res.Header.Get("Location") == "/mfa/setup" {
			pages["setup page"] = h.get(t, c, "/mfa/setup").body
			h.post(t, c, "/mfa/setup/skip", nil)
		}
		pages["home page"] = h.get(t, c, "/").body
		for name, page := range pages {
			if strings.Contains(page, tt.phase) || !strings.Contains(page, tt.until) {
				t.Errorf("%s's %s names %s, or not %s:\n%s", tt.user, name, tt.phase, tt.until, between(page, "<body", "</main>"))
			}
		}
	}
}
