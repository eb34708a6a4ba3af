package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

const refusal = "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown"

// markUnreached records that a mail server refused name's address at the
// harness's now, as the delivery worker does.
func (h *harness) markUnreached(tb testing.TB, name, reply string) {
	tb.Helper()
	err := h.store.Update(context.Background(), func(tx mfagate.Tx) error {
		u, err := tx.UserByUsername(name)
		if err != nil {
			return err
		}
		marked, err := tx.MarkUnreached(u.ID, u.Email, reply, h.clock.Now())
		if err == nil && !marked {
			err = fmt.Errorf("%s not marked", name)
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// refusedMail queues a message for name and records its refusal.
func (h *harness) refusedMail(tb testing.TB, name string, m mfagate.Message) int64 {
	tb.Helper()
	err := h.store.Update(context.Background(), func(tx mfagate.Tx) error {
		u, err := tx.UserByUsername(name)
		if err != nil {
			return err
		}
		m.UserID, m.To, m.CreatedAt = u.ID, u.Email, h.clock.Now()
		if m.Text == "" {
			m.Text = "Hello"
		}
		if err := tx.EnqueueMail(&m); err != nil {
			return err
		}
		return tx.FailMail(m.ID, 0, refusal)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return m.ID
}

func (h *harness) disable(tb testing.TB, name string) {
	tb.Helper()
	err := h.store.Update(context.Background(), func(tx mfagate.Tx) error {
		u, err := tx.UserByUsername(name)
		if err != nil {
			return err
		}
		u.Disabled = true
		return tx.UpdateUser(u)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// unreachedPeople is a rollout harness (20 June 2027, admins forced on 13
// July) where bob (user) and ada (admin) cannot be reached, nor can dina,
// who is disabled; carl (admin) can. Two of bob's emails failed, and a
// code sent to him.
func unreachedPeople(t *testing.T) (*harness, []int64) {
	t.Helper()
	h := newRolloutHarness(t, time.Date(2027, 6, 20, 9, 0, 0, 0, time.UTC), withRollout(plan(t)))
	h.mustUser(t, "bob", pw, "user")
	h.mustUser(t, "carl", pw, "admin")
	h.mustUser(t, "dina", pw, "admin")
	for _, name := range []string{"bob", "ada", "dina"} {
		h.markUnreached(t, name, refusal)
	}
	h.disable(t, "dina")
	ids := []int64{
		h.refusedMail(t, "bob", mfagate.Message{Subject: "MFA is coming", Campaign: "notice/Communication", Priority: mfagate.MailCampaign}),
		h.refusedMail(t, "bob", mfagate.Message{Subject: "Your account was unlocked", Priority: mfagate.MailAccount}),
		h.refusedMail(t, "bob", mfagate.Message{Subject: "Your security code", Secret: true, Priority: mfagate.MailSecurity}),
	}
	return h, ids
}

func TestUnreachedOnTheDashboard(t *testing.T) {
	h, _ := unreachedPeople(t)
	sam := h.staff(t, "sam", "support")
	olga := h.staff(t, "olga", "operator")

	page := h.get(t, sam, "/admin").body
	section := between(page, `id="unreached"`, `id="campaigns"`)
	for _, s := range []string{
		"People we cannot reach by email",
		"A mail server has refused the address of <strong>2</strong> people.",
		`<th scope="row">admin</th><td class="num" data-label="People">1</td>`,
		`<th scope="row">user</th><td class="num" data-label="People">1</td>`,
		`<a href="/admin/people?unreached=yes">See the people we cannot reach by email</a>`,
	} {
		if !strings.Contains(section, s) {
			t.Errorf("the dashboard's unreached section does not contain %q:\n%s", s, section)
		}
	}
	// The forecast: ada and carl are forced on 13 July; ada cannot be
	// reached. Bob (a user) is not forced then; dina is disabled.
	forecast := between(page, `id="forecast"`, `id="unreached"`)
	for _, s := range []string{
		"<strong>2</strong> people will be forced",
		`<strong>1</strong> of them cannot be reached by email: they will not have had their notice or reminders about it.`,
	} {
		if !strings.Contains(forecast, s) {
			t.Errorf("the forecast does not say %q:\n%s", s, forecast)
		}
	}

	// Operators see the numbers but not the people list.
	page = h.get(t, olga, "/admin").body
	section = between(page, `id="unreached"`, `id="campaigns"`)
	if strings.Contains(page, "unreached=yes") || !strings.Contains(section, "Support staff can see who they are") {
		t.Errorf("an operator's dashboard links to the people list or does not say who can:\n%s", section)
	}
	if !strings.Contains(page, "<strong>1</strong> of them cannot be reached by email") {
		t.Error("an operator's forecast does not count the people who cannot be reached")
	}

	// Nobody unreached: said plainly, and nothing in the forecast.
	h2 := newRolloutHarness(t, time.Date(2027, 6, 20, 9, 0, 0, 0, time.UTC), withRollout(plan(t)))
	page = h2.get(t, h2.staff(t, "sam", "support"), "/admin").body
	if !strings.Contains(page, "Nobody: no mail server has refused the address of an enabled account.") ||
		strings.Contains(page, "cannot be reached by email:") {
		t.Errorf("with nobody unreached:\n%s", between(page, `id="forecast"`, `id="campaigns"`))
	}
}

func TestUnreachedPeopleFilter(t *testing.T) {
	h, _ := unreachedPeople(t)
	sam := h.staff(t, "sam", "support")
	names := func(page string) []string {
		var out []string
		for _, name := range []string{"alice", "ada", "bob", "carl", "dina", "sam"} {
			if strings.Contains(page, `<span class="hint">`+name+`</span>`) {
				out = append(out, name)
			}
		}
		return out
	}
	for _, tt := range []struct {
		path string
		want []string
	}{
		{"/admin/people?unreached=yes", []string{"ada", "bob", "dina"}},
		{"/admin/people?unreached=1", []string{"ada", "bob", "dina"}},
		{"/admin/people?unreached=yes&role=admin", []string{"ada", "dina"}},
		{"/admin/people", []string{"alice", "ada", "bob", "carl", "dina", "sam"}},
	} {
		res := h.get(t, sam, tt.path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: got %d", tt.path, res.StatusCode)
		}
		if got := names(res.body); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.path, got, tt.want)
		}
	}
	page := h.get(t, sam, "/admin/people?unreached=1").body
	if !strings.Contains(page, `id="unreached" name="unreached" value="yes" checked`) {
		t.Error("the filter's checkbox is not ticked when the list is filtered")
	}
	if !strings.Contains(page, "Emails refused") {
		t.Error("the list does not tag the people whose address is refused")
	}
	if !strings.Contains(page, `href="/admin/people.csv?unreached=yes"`) {
		t.Error("the CSV link does not keep the filter")
	}
	csv := h.get(t, sam, "/admin/people.csv?unreached=yes").body
	if !strings.Contains(csv, "\nbob,") || strings.Contains(csv, "\ncarl,") {
		t.Errorf("the CSV export does not follow the filter:\n%s", csv)
	}
}

func TestMarkAddressFixedThroughTheConsole(t *testing.T) {
	h, ids := unreachedPeople(t)
	sam := h.staff(t, "sam", "support")

	page := h.get(t, sam, "/admin/people/bob").body
	for _, s := range []string{
		`<h2 id="unreached-title">Emails to them are being refused</h2>`,
		"Their mail server refuses the address <strong class=\"wrap-anywhere\">bob@example.com</strong>",
		"<dt>Refused since</dt><dd>20 June 2027 at 10:00 BST</dd>",
		"Recipient address rejected: User unknown",
		"give them another address",
		`<form method="post" action="/admin/people/bob/address-fixed" novalidate>`,
		`<label for="address-fixed-reason">Reason</label>`,
		"Mark the address as fixed and send their emails again",
		"Emails refused",
	} {
		if !strings.Contains(page, s) {
			t.Errorf("bob's page does not contain %q", s)
		}
	}
	if page := h.get(t, sam, "/admin/people/carl").body; strings.Contains(page, "being refused") || strings.Contains(page, "address-fixed") {
		t.Error("carl's page, whose address works, shows the unreached panel")
	}

	// A reason is required, next to the field; nothing changes.
	res := h.post(t, sam, "/admin/people/bob/address-fixed", url.Values{"reason": {" "}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, `<a href="#address-fixed-reason">Enter a reason`) ||
		!strings.Contains(res.body, `id="address-fixed-reason-error"`) || !strings.HasPrefix(between(res.body, "<title>", "</title>"), "Error: ") {
		t.Fatalf("no reason: got %d, want 400 with the error linked and next to the field:\n%.3000s", res.StatusCode, between(res.body, "<main", "</main>"))
	}
	// From another site: refused.
	if res := h.post(t, sam, "/admin/people/bob/address-fixed", url.Values{"reason": {"x"}}, "Sec-Fetch-Site", "cross-site"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site: got %d, want 403", res.StatusCode)
	}
	if got := outboxStatus(t, h, ids[0]); got != mfagate.MailFailed {
		t.Fatalf("refused requests sent mail again: got %s", got)
	}

	const reason = "Mailbox restored by their IT team, checked by phone"
	res = h.post(t, sam, "/admin/people/bob/address-fixed", url.Values{"reason": {reason}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/people/bob?done=address-fixed&n=2" {
		t.Fatalf("fix: got %d to %q, want back to the person page with the count", res.StatusCode, res.Header.Get("Location"))
	}
	page = h.get(t, sam, res.Header.Get("Location")).body
	if !strings.Contains(page, "The address is marked as fixed. 2 emails are queued to be sent again to bob@example.com.") {
		t.Errorf("the page does not confirm how many emails were queued:\n%s", between(page, "<main", "<h2"))
	}
	if strings.Contains(page, "being refused") || strings.Contains(page, "Emails refused") {
		t.Error("the page still says emails are refused")
	}
	for i, want := range []string{mfagate.MailPending, mfagate.MailPending, mfagate.MailFailed} {
		if got := outboxStatus(t, h, ids[i]); got != want {
			t.Errorf("message %d: got %s, want %s", i, got, want)
		}
	}
	evs := h.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditAddressFixed, Subject: "bob"})
	if len(evs) != 1 || evs[0].Actor != "sam" || evs[0].Reason != reason || evs[0].ClientAddr == "" {
		t.Fatalf("audit: got %+v, want one by sam with the reason and address", evs)
	}
	if !strings.Contains(page, "Email address marked as fixed, emails sent again") {
		t.Error("bob's history does not name the event in words")
	}

	// Again, now that it is not marked: a clear refusal at the top, not a 500.
	res = h.post(t, sam, "/admin/people/bob/address-fixed", url.Values{"reason": {"again"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, `<a href="#help-them">Emails to bob are not being refused, so there is nothing to send again</a>`) {
		t.Fatalf("again: got %d, want 400 saying there is nothing to send:\n%.2000s", res.StatusCode, between(res.body, "<main", "</main>"))
	}
	if evs := h.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditAddressFixed}); len(evs) != 1 {
		t.Fatalf("audit after the refusal: got %d events, want 1", len(evs))
	}

	// A mangled count in the link gets the notice without a number.
	for _, q := range []string{"n=abc", "n=-1", "n=99999999999999999999", ""} {
		res := h.get(t, sam, "/admin/people/bob?done=address-fixed&"+q)
		if res.StatusCode != http.StatusOK || !strings.Contains(res.body, "The address is marked as fixed.") {
			t.Errorf("%q: got %d, want the plain notice", q, res.StatusCode)
		}
	}
	// Unknown people, and their own account.
	if res := h.post(t, sam, "/admin/people/nobody/address-fixed", url.Values{"reason": {"x"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown person: got %d, want 404", res.StatusCode)
	}
	h.markUnreached(t, "sam", "550 no such user")
	res = h.post(t, sam, "/admin/people/sam/address-fixed", url.Values{"reason": {"mine"}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(res.body, "You cannot do this to your own account") || !strings.Contains(res.body, `value="mine"`) {
		t.Errorf("own account: got %d, want 403 next to the reason, kept", res.StatusCode)
	}
}

func outboxStatus(tb testing.TB, h *harness, id int64) string {
	tb.Helper()
	for _, m := range outboxMail(tb, h) {
		if m.ID == id {
			return m.Status
		}
	}
	tb.Fatalf("message %d not in the outbox", id)
	return ""
}

func TestUnreachedThroughTheAPI(t *testing.T) {
	h, ids := unreachedPeople(t)
	support := h.mustToken(t, "helpdesk-bot", mfagate.RoleSupport)
	operator := h.mustToken(t, "ops-dashboard", mfagate.RoleOperator)

	var got []string
	for _, p := range decodeJSON[apiPage](t, h.api(t, "GET", "/api/v1/people?unreached=true", operator, "")).People {
		got = append(got, p.Username)
	}
	if want := []string{"ada", "bob", "dina"}; !slices.Equal(got, want) {
		t.Errorf("?unreached=true: got %v, want %v", got, want)
	}
	for _, v := range []string{"yes", "1", "false", "TRUE"} {
		wantError(t, h.api(t, "GET", "/api/v1/people?unreached="+v, operator, ""), 400, "invalid", "unreached takes only true")
	}

	bob := h.api(t, "GET", "/api/v1/people/bob", operator, "")
	if at, _ := bob.json["unreached_at"].(string); at != "2027-06-20T09:00:00Z" || bob.json["unreached_reason"] != refusal {
		t.Errorf("bob: got unreached_at %v, unreached_reason %v", bob.json["unreached_at"], bob.json["unreached_reason"])
	}
	carl := h.api(t, "GET", "/api/v1/people/carl", operator, "")
	if v, ok := carl.json["unreached_at"]; !ok || v != nil || carl.json["unreached_reason"] != "" {
		t.Errorf("carl: got unreached_at %v (present %v), unreached_reason %q; want null and empty", v, ok, carl.json["unreached_reason"])
	}

	progress := h.api(t, "GET", "/api/v1/rollout/progress", operator, "")
	fc, _ := progress.json["forecast"].(map[string]any)
	if fc["forced_at_next"] != float64(2) || fc["forced_at_next_unreached"] != float64(1) {
		t.Errorf("forecast: got forced_at_next %v, forced_at_next_unreached %v; want 2 and 1", fc["forced_at_next"], fc["forced_at_next_unreached"])
	}

	wantError(t, h.api(t, "POST", "/api/v1/people/bob/address-fixed", operator, `{"reason": "x"}`), 403, "forbidden", "needs a token with the role support")
	wantError(t, h.api(t, "POST", "/api/v1/people/bob/address-fixed", support, `{}`), 400, "invalid", `Give a "reason"`)
	wantError(t, h.api(t, "POST", "/api/v1/people/bob/address-fixed", support, `{"reason": "x", "address": "b@example.com"}`), 400, "invalid", `Unknown field "address"`)
	wantError(t, h.api(t, "POST", "/api/v1/people/nobody/address-fixed", support, `{"reason": "x"}`), 404, "not_found", "not found")
	wantError(t, h.api(t, "POST", "/api/v1/people/carl/address-fixed", support, `{"reason": "x"}`), 400, "invalid", "not being refused")
	if got := outboxStatus(t, h, ids[0]); got != mfagate.MailFailed {
		t.Fatalf("refused requests sent mail again: got %s", got)
	}

	res := h.api(t, "POST", "/api/v1/people/bob/address-fixed", support, `{"reason": "mailbox restored, ticket 4712"}`)
	if res.StatusCode != 200 || res.json["resent"] != float64(2) || res.json["unreached_at"] != nil || res.json["username"] != "bob" {
		t.Fatalf("fix: got %d %s", res.StatusCode, res.body)
	}
	evs := h.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditAddressFixed, Subject: "bob"})
	if len(evs) != 1 || evs[0].Actor != "token:helpdesk-bot" || evs[0].Reason != "mailbox restored, ticket 4712" {
		t.Fatalf("audit: got %+v", evs)
	}
	wantError(t, h.api(t, "POST", "/api/v1/people/bob/address-fixed", support, `{"reason": "again"}`), 400, "invalid", "not being refused")
}
