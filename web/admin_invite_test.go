package web_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
)

func withKnownRoles(roles ...string) harnessOption {
	return func(c *harnessConfig) {
		c.Account.Roles = roles
		c.Account.RoleHelp = map[string]string{"nurse": "Ward staff"}
	}
}

// TestConsoleAddsAndInvites: support adds a person from the console with
// the known roles offered; the invitation is queued; the person page says
// it waits, sends it again (voiding the old link) and withdraws it. Bad
// input comes back next to its field and makes nobody.
func TestConsoleAddsAndInvites(t *testing.T) {
	h := newHarness(t, withKnownRoles("nurse", "user", "operator", "support"))
	sam := h.staff(t, "sam", "support")
	h.mustUser(t, "bob", pw, "user")

	form := h.get(t, sam, "/admin/add-person").body
	for _, want := range []string{`<h1>Add a person</h1>`, `value="nurse"`, "Ward staff", `value="user"`, "7 days"} {
		if !strings.Contains(form, want) {
			t.Errorf("the add-person form does not show %q", want)
		}
	}
	if strings.Contains(form, `value="support"`) || strings.Contains(form, `value="operator"`) {
		t.Error("the add-person form offers a staff role")
	}
	if page := h.get(t, sam, "/admin/people").body; !strings.Contains(page, `href="/admin/add-person"`) {
		t.Error("the people list has no way to add a person")
	}

	invitations := func(to string) int {
		n := 0
		for _, m := range outboxMail(t, h) {
			if m.To == to && m.Subject == "Set up your account" {
				n++
			}
		}
		return n
	}
	bad := []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		{"no roles", url.Values{"username": {"ann"}, "email": {"ann@example.com"}}, "roles-nurse", "Choose at least one role"},
		{"a role off the list", url.Values{"username": {"ann"}, "email": {"ann@example.com"}, "roles": {"wizard"}}, "roles-nurse", `Role &#34;wizard&#34; is not one of the roles`},
		{"a staff role", url.Values{"username": {"ann"}, "email": {"ann@example.com"}, "roles": {"support"}}, "roles-nurse", "only be created at the server"},
		{"a bad username", url.Values{"username": {"a b"}, "email": {"ann@example.com"}, "roles": {"user"}}, "username", "can only use letters"},
		{"a taken username", url.Values{"username": {"BOB"}, "email": {"ann@example.com"}, "roles": {"user"}}, "username", "already taken"},
		{"an address in use", url.Values{"username": {"ann"}, "email": {"bob@example.com"}, "roles": {"user"}}, "email", "already used by the account bob"},
		{"a bad address", url.Values{"username": {"ann"}, "email": {"ann"}, "roles": {"user"}}, "email", "email address in the correct format"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			res := h.post(t, sam, "/admin/add-person", tt.form)
			if res.StatusCode < 400 || res.StatusCode >= 500 || !strings.Contains(res.body, `<a href="#`+tt.field+`">`) || !strings.Contains(res.body, tt.msg) {
				t.Errorf("got %d, want a 4xx naming %q at #%s; page:\n%s", res.StatusCode, tt.msg, tt.field, between(res.body, "<main", "</form>"))
			}
			if res := h.get(t, sam, "/admin/people/ann"); res.StatusCode != http.StatusNotFound {
				t.Errorf("ann was made anyway: %d", res.StatusCode)
			}
		})
	}
	if n := invitations("ann@example.com"); n != 0 {
		t.Fatalf("refused forms queued %d invitations", n)
	}

	res := h.post(t, sam, "/admin/add-person", url.Values{"username": {"ann"}, "name": {"Ann Lee"}, "email": {"ann@example.com"}, "roles": {"nurse", "user"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/people/ann?done=added" {
		t.Fatalf("add: got %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	page := h.get(t, sam, res.Header.Get("Location")).body
	for _, want := range []string{"An invitation is on its way to them", "Invited, not yet accepted", "The link in the invitation works until", "nurse, user", "Withdraw the invitation"} {
		if !strings.Contains(page, want) {
			t.Errorf("ann's page does not say %q", want)
		}
	}
	if n := invitations("ann@example.com"); n != 1 {
		t.Fatalf("%d invitations to ann, want 1", n)
	}

	if res := h.post(t, sam, "/admin/people/ann/invite", url.Values{"reason": {"lost the first one"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("send again: %d", res.StatusCode)
	}
	if n := invitations("ann@example.com"); n != 2 {
		t.Errorf("%d invitations to ann after sending again, want 2", n)
	}
	if res := h.post(t, sam, "/admin/people/ann/revoke-invite", url.Values{"reason": {"joined by mistake"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", res.StatusCode)
	}
	page = h.get(t, sam, "/admin/people/ann?done=revoke-invite").body
	if !strings.Contains(page, "The invitation is withdrawn") || !strings.Contains(page, "They have no password yet") || strings.Contains(page, "Withdraw the invitation") {
		t.Error("ann's page after withdrawing does not offer a new invitation only")
	}
	var done []string
	for _, e := range h.audit(t, mfagate.AuditFilter{Subject: "ann"}) {
		if e.Outcome == mfagate.OutcomeSuccess {
			done = append(done, e.Kind)
		}
	}
	if strings.Join(done, " ") != "user.invite user.invite user.create" { // newest first
		t.Errorf("ann's audit: %v, want made, sent again and withdrawn", done)
	}
	// Someone with a password is not offered an invitation.
	if page := h.get(t, sam, "/admin/people/bob").body; strings.Contains(page, "invitation") {
		t.Error("bob's page offers an invitation although he has a password")
	}
}

// TestConsoleChangesRoles: the person page changes roles among the
// organisation's, with a reason, audited and emailed; a role off the list
// and a staff role are refused with the same words as everywhere.
func TestConsoleChangesRoles(t *testing.T) {
	h := newHarness(t, withKnownRoles("nurse", "user", "operator", "support"))
	sam := h.staff(t, "sam", "support")
	h.mustUser(t, "bob", pw, "user")
	bob := h.client(t)
	h.signIn(t, bob, "bob", pw)
	if res := h.verify(t, bob, ""); res.StatusCode != 200 || res.Header.Get("Remote-Groups") != "user" {
		t.Fatalf("bob before: %d, Remote-Groups %q", res.StatusCode, res.Header.Get("Remote-Groups"))
	}

	page := h.get(t, sam, "/admin/people/bob").body
	if !strings.Contains(page, `id="roles-user" name="roles" value="user" checked`) || !strings.Contains(page, `id="roles-nurse" name="roles" value="nurse"`) {
		t.Fatalf("the roles form does not show bob's roles ticked:\n%s", between(page, `id="roles-title"`, "</form>"))
	}
	for _, tt := range []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		{"no reason", url.Values{"roles": {"nurse"}}, "roles-reason", "Enter a reason"},
		{"no roles", url.Values{"reason": {"x"}}, "roles-nurse", "Choose at least one role"},
		{"off the list", url.Values{"roles": {"nurze"}, "reason": {"x"}}, "roles-nurse", `Did you mean &#34;nurse&#34;?`},
		{"a staff role", url.Values{"roles": {"support"}, "reason": {"x"}}, "roles-nurse", "support"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := h.post(t, sam, "/admin/people/bob/roles", tt.form)
			if res.StatusCode < 400 || res.StatusCode >= 500 || !strings.Contains(res.body, `<a href="#`+tt.field+`">`) || !strings.Contains(res.body, tt.msg) {
				t.Errorf("got %d, want a 4xx naming %q at #%s", res.StatusCode, tt.msg, tt.field)
			}
		})
	}
	// The same words from the API, the console and (cli.TestRolesOffTheListAreRefused) the command line.
	const offList = `Role "nurze" is not one of the roles this installation uses (nurse, user, operator, support). Did you mean "nurse"?`
	tok := h.mustToken(t, "helpdesk-bot", mfagate.RoleSupport)
	wantError(t, h.api(t, "POST", "/api/v1/people/bob/roles", tok, `{"roles": ["nurze"], "reason": "x"}`), 400, "invalid", offList)
	if res := h.post(t, sam, "/admin/people/bob/roles", url.Values{"roles": {"nurze"}, "reason": {"x"}}); !strings.Contains(res.body, html.EscapeString(offList)) {
		t.Errorf("the console does not refuse with %q", offList)
	}
	if u, _ := h.accounts.User(t.Context(), "bob"); strings.Join(u.Roles, ",") != "user" {
		t.Fatalf("refused changes changed bob's roles to %v", u.Roles)
	}
	res := h.post(t, sam, "/admin/people/bob/roles", url.Values{"roles": {"nurse", "user"}, "reason": {"moved to the ward"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/people/bob?done=roles" {
		t.Fatalf("change: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if page := h.get(t, sam, res.Header.Get("Location")).body; !strings.Contains(page, "Their roles are changed. An email is on its way") || !strings.Contains(page, "nurse, user") {
		t.Error("bob's page does not confirm the new roles")
	}
	if res := h.verify(t, bob, ""); res.StatusCode != 200 || res.Header.Get("Remote-Groups") != "nurse,user" {
		t.Errorf("forward-auth after the change: %d, Remote-Groups %q, want nurse,user", res.StatusCode, res.Header.Get("Remote-Groups"))
	}
	evs := h.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditRolesChange, Subject: "bob"})
	if len(evs) == 0 || evs[0].Actor != "sam" || evs[0].Reason != "moved to the ward" || evs[0].Outcome != mfagate.OutcomeSuccess {
		t.Errorf("audit: %+v", evs)
	}
	// A staff account's page has no roles form.
	h.mustUser(t, "stan", pw, "support")
	if page := h.get(t, sam, "/admin/people/stan").body; strings.Contains(page, `action="/admin/people/stan/roles"`) {
		t.Error("a support account's page offers to change its roles")
	}
}
