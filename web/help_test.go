package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/account"
)

func TestHelpShowsTheScheduleAndContacts(t *testing.T) {
	r := plan(t)
	h := newRolloutHarness(t, time.Date(2027, 6, 20, 9, 0, 0, 0, time.UTC), withRollout(r), func(o *harnessConfig) {
		o.Account.Support = account.Contacts{Email: "desk@example.com", Phone: "+44 20 7946 0000", Hours: "Monday to Friday, 8am to 6pm"}
	})
	res := h.get(t, h.client(t), "/help")
	if res.StatusCode != 200 {
		t.Fatalf("help: got %d, want 200 without signing in", res.StatusCode)
	}
	page := res.body
	for _, s := range []string{
		"<h1>Get help signing in</h1>",
		// The configured dates, in the rollout's zone.
		`<th scope="row">26 May 2027<br><span class="tag">Started</span></th>`,
		`<th scope="row">11 June 2027<br><span class="tag">Started</span></th>`,
		`<th scope="row">13 July 2027</th>`,
		`<th scope="row">31 July 2027</th>`,
		"Security codes become required for administrators on 13 July 2027, and for everyone on 31 July 2027.",
		"Since 11 June 2027, administrators are asked to set them up",
		// The questions, by task.
		"Must I do it now?", "If you do not have a smartphone", "Choose email.", "About two minutes",
		"If you did not get a code", "Each code works for 10 minutes", "If your code does not work", "If you lost your phone", "Use a recovery code",
		// The contacts, as links.
		`<a href="mailto:desk@example.com">desk@example.com</a>`,
		`<a href="tel:&#43;44%2020%207946%200000">&#43;44 20 7946 0000</a>`,
		"Monday to Friday, 8am to 6pm",
	} {
		if !strings.Contains(page, s) {
			t.Errorf("the help page does not contain %q", s)
		}
	}

	// A later date: the schedule moves on.
	h.clock.Set(time.Date(2027, 7, 20, 9, 0, 0, 0, time.UTC))
	page = h.get(t, h.client(t), "/help").body
	if !strings.Contains(page, "Security codes are already required for administrators (since 13 July 2027)") ||
		!strings.Contains(page, "Security codes become required for everyone on 31 July 2027.") {
		t.Errorf("on 20 July the help page does not say what is required:\n%s", between(page, `id="now"`, `id="no-smartphone"`))
	}
}

func TestHelpWithoutRollout(t *testing.T) {
	h := newHarness(t)
	page := h.get(t, h.client(t), "/help").body
	for _, s := range []string{"No dates have been set yet", "Nothing is required yet", `<a href="mailto:help@example.com">`} {
		if !strings.Contains(page, s) {
			t.Errorf("the help page does not say %q", s)
		}
	}
	if strings.Contains(page, "2027") {
		t.Error("the help page names a date without a rollout")
	}
}
