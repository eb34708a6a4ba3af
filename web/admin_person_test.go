package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/totp"
)

func outboxMail(tb testing.TB, h *harness) []*mfagate.Message {
	tb.Helper()
	var ms []*mfagate.Message
	if err := h.store.View(context.Background(), func(tx mfagate.Tx) (err error) {
		ms, err = tx.Mail(0)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	return ms
}

func TestResetThroughTheConsole(t *testing.T) {
	h := newHarness(t)
	sam := h.staff(t, "sam", "support")

	// Bob sets up an app, and stays signed in on one device.
	h.mustUser(t, "bob", pw, "user")
	bob := h.client(t)
	h.login(t, bob, "bob")
	secret, _ := h.setUpTOTP(t, bob)
	h.post(t, bob, "/mfa/recovery-codes", url.Values{"action": {"saved"}})

	page := h.get(t, sam, "/admin/people/bob").body
	for _, s := range []string{"<h1>Bob</h1>", "Set up: authenticator app", "Authenticator app", "10 unused recovery codes left", "Asked for a security code: an authenticator app"} {
		if !strings.Contains(page, s) {
			t.Errorf("the person page does not say %q", s)
		}
	}
	if strings.Contains(page, totp.EncodeSecret(secret)) {
		t.Fatal("the person page shows the secret")
	}

	// A reason is required, and shown next to the field.
	res := h.post(t, sam, "/admin/people/bob/reset-mfa", url.Values{"reason": {"  "}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, `<a href="#reset-mfa-reason">Enter a reason`) ||
		!strings.Contains(res.body, `id="reset-mfa-reason-error"`) || !strings.HasPrefix(between(res.body, "<title>", "</title>"), "Error: ") {
		t.Fatalf("no reason: got %d, want 400 with the error linked and next to the field", res.StatusCode)
	}

	const reason = "Lost phone; identity checked by call-back"
	// First a page that names bob and what will happen, changing nothing.
	res = h.post(t, sam, "/admin/people/bob/reset-mfa", url.Values{"reason": {reason}})
	for _, want := range []string{"<h1>Reset the security codes of Bob?</h1>", "Their authenticator app will stop working for bob, and so will their 10 unused recovery codes.",
		"They will be signed out of the 1 session they have.", "When they next sign in: Asked to set up security codes after their password; they can skip it.",
		`name="confirm" value="yes"`, "Yes, reset security codes"} {
		if res.StatusCode != http.StatusOK || !strings.Contains(res.body, want) {
			t.Errorf("the confirmation page (%d) does not say %q", res.StatusCode, want)
		}
	}
	if evs := h.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditMFAReset, Subject: "bob"}); len(evs) != 0 {
		t.Fatal("asking to confirm reset bob's codes")
	}
	res = h.post(t, sam, "/admin/people/bob/reset-mfa", url.Values{"reason": {reason}, "confirm": {"yes"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/people/bob?done=reset-mfa" {
		t.Fatalf("reset: got %d to %q, want back to the person page", res.StatusCode, res.Header.Get("Location"))
	}
	if page := h.get(t, sam, res.Header.Get("Location")).body; !strings.Contains(page, "Security codes reset and they have been signed out.") || !strings.Contains(page, "Not set up") ||
		!strings.Contains(page, "When they next sign in: asked to set up security codes after their password; they can skip it.") {
		t.Fatal("the person page does not confirm the reset")
	}

	evs := h.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditMFAReset, Subject: "bob"})
	if len(evs) != 1 || evs[0].Actor != "sam" || evs[0].Reason != reason || evs[0].ClientAddr == "" {
		t.Fatalf("audit: got %+v, want one reset by sam with the reason and address", evs)
	}
	var emailed bool
	for _, m := range outboxMail(t, h) {
		if m.To == "bob@example.com" && strings.Contains(m.Text, "sam from your support team removed the security codes") {
			emailed = true
		}
	}
	if !emailed {
		t.Fatal("bob was not emailed about the reset")
	}

	// Bob's session ended; his old app no longer signs him in; he sets up again.
	if res := h.get(t, bob, "/account"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("bob's session survived the reset: got %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	h.clock.Advance(time.Minute)
	again := h.client(t)
	if loc := h.login(t, again, "bob").Header.Get("Location"); loc != "/mfa/setup" {
		t.Fatalf("bob after the password: got %q, want setup", loc)
	}
	res = h.post(t, again, "/mfa/challenge", url.Values{"method": {"totp"}, "code": {totp.Code(secret, totp.Step(h.clock.Now()))}})
	if res.StatusCode == http.StatusSeeOther && !strings.HasPrefix(res.Header.Get("Location"), "/mfa/setup") {
		t.Fatalf("the old app's code was accepted: got %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if home := h.get(t, again, "/"); home.StatusCode == http.StatusOK {
		t.Fatal("bob signed in without a second factor after the reset")
	}
	if page := h.get(t, again, "/mfa/setup"); !strings.Contains(page.body, "Choose how to get security codes") {
		t.Fatal("bob is not taken through setup")
	}
}

func TestStaffCannotResetThemselves(t *testing.T) {
	h := newHarness(t)
	sam := h.staff(t, "sam", "support")
	page := h.get(t, sam, "/admin/people/sam").body
	if !strings.Contains(page, "This is your own account") {
		t.Error("the own-account page does not warn")
	}
	res := h.post(t, sam, "/admin/people/SAM/reset-mfa", url.Values{"reason": {"testing"}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(res.body, `id="reset-mfa-reason-error"`) ||
		!strings.Contains(res.body, "You cannot do this to your own account") || !strings.Contains(res.body, `value="testing"`) {
		t.Fatalf("own reset: got %d, want 403 with the message next to the reason, kept:\n%.2000s", res.StatusCode, between(res.body, "<main", "</main>"))
	}
	if res := h.get(t, sam, "/admin"); res.StatusCode != http.StatusOK {
		t.Fatal("sam lost access: the refused reset changed something")
	}
}

func TestSupportActions(t *testing.T) {
	h := newHarness(t)
	sam := h.staff(t, "sam", "support")
	h.mustUser(t, "bob", pw, "user")

	// Lock bob with wrong passwords, then unlock him.
	for range 10 {
		h.post(t, h.client(t), "/login", url.Values{"username": {"bob"}, "password": {"wrong password here"}})
		h.clock.Advance(time.Minute)
	}
	if page := h.get(t, sam, "/admin/people?locked=yes").body; !strings.Contains(page, `href="/admin/people/bob"`) || !strings.Contains(page, "<strong class=\"tag\">Locked</strong>") {
		t.Fatal("the locked filter does not list bob as locked")
	}
	if res := h.post(t, sam, "/admin/people/bob/unlock", url.Values{"reason": {"Called the desk"}}); res.Header.Get("Location") != "/admin/people/bob?done=unlock" {
		t.Fatalf("unlock: got %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if page := h.get(t, sam, "/admin/people/bob").body; !strings.Contains(page, "<dt>Locked</dt><dd>No</dd>") {
		t.Fatal("bob is still locked")
	}

	// Resending needs bob to be waiting for a code: the page does not
	// offer it, and a post from a page left open says why at the top.
	if page := h.get(t, sam, "/admin/people/bob").body; strings.Contains(page, `action="/admin/people/bob/resend-code"`) || strings.Contains(page, `action="/admin/people/bob/unlock"`) {
		t.Error("the page offers to resend a code or unlock when bob waits for none and is not locked")
	}
	res := h.post(t, sam, "/admin/people/bob/resend-code", url.Values{"reason": {"On the phone"}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.body, `<a href="#help-them">`) || !strings.Contains(res.body, "is not waiting for an email code") {
		t.Fatalf("resend with nothing pending: got %d, want 409 with the message at the top", res.StatusCode)
	}

	// An extension: the date is checked, then saved and shown.
	res = h.post(t, sam, "/admin/people/bob/extend", url.Values{"reason": {"On leave"}, "until": {"31/07/2027"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, `<a href="#extend-until">Enter the date as year-month-day`) {
		t.Fatalf("bad date: got %d, want 400 linked to the date field", res.StatusCode)
	}
	res = h.post(t, sam, "/admin/people/bob/extend", url.Values{"reason": {"On leave"}, "until": {"2027-05-01"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, `id="extend-until-error"`) {
		t.Fatalf("past date: got %d, want 400 by the date field", res.StatusCode)
	}
	if res := h.post(t, sam, "/admin/people/bob/extend", url.Values{"reason": {"On leave"}, "until": {" 15  august 2027 "}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("extend with the date as people write it: got %d", res.StatusCode)
	}
	if page := h.get(t, sam, "/admin/people/bob").body; !strings.Contains(page, "Until 15 August 2027. Reason: On leave") {
		t.Fatalf("the extension is not shown:\n%s", between(page, `id="rollout"`, `id="sessions"`))
	}

	// Ending sessions.
	bob := h.client(t)
	h.signIn(t, bob, "bob", pw)
	if res := h.post(t, sam, "/admin/people/bob/end-sessions", url.Values{"reason": {"Stolen laptop"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("end sessions: got %d", res.StatusCode)
	}
	if res := h.get(t, bob, "/account"); res.StatusCode != http.StatusSeeOther {
		t.Fatal("bob is still signed in")
	}

	// Every action is in bob's history, with sam and the reason.
	page := h.get(t, sam, "/admin/people/bob").body
	for _, s := range []string{"Account unlocked by staff", "More time given", "Sessions ended", "Reason:</strong> Stolen laptop"} {
		if !strings.Contains(page, s) {
			t.Errorf("bob's history lacks %q", s)
		}
	}
	if res := h.get(t, sam, "/admin/people/nobody"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown person: got %d, want 404", res.StatusCode)
	}
}
