package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
)

// TestSupportCannotTouchStaffAccounts: through the console, support
// cannot reset, unlock or give more time to an operator's or another
// support member's account; each refusal is a 403 with the reason on the
// page, is audited as denied, and changes nothing. The same actions on a
// person who is not staff work. (The API: TestAPIErrors; the command
// line, which may: cli.TestStaffAccountsAtTheCommandLine.)
func TestSupportCannotTouchStaffAccounts(t *testing.T) {
	h := newHarness(t)
	sam := h.staff(t, "sam", mfagate.RoleSupport)
	h.staff(t, "olga", mfagate.RoleOperator)
	h.staff(t, "sue", mfagate.RoleSupport)
	h.addFactor(t, "alice", mfagate.MethodEmail)
	actions := []struct {
		path string
		form url.Values
		want string
	}{
		{"reset-mfa", url.Values{"reason": {"lost phone"}, "confirm": {"yes"}}, "can only be reset at the server's command line"},
		{"unlock", url.Values{"reason": {"called in"}}, "can only be unlocked at the server's command line"},
		{"extend", url.Values{"reason": {"on leave"}, "until": {"2027-07-20"}}, "can only be given more time at the server's command line"},
	}
	for _, target := range []string{"olga", "sue"} {
		for _, a := range actions {
			res := h.post(t, sam, "/admin/people/"+target+"/"+a.path, a.form)
			if res.StatusCode != http.StatusForbidden || !strings.Contains(html.UnescapeString(res.body), a.want) {
				t.Errorf("support %s on %s: got %d, want 403 saying %q", a.path, target, res.StatusCode, a.want)
			}
		}
		if fs, _ := h.accounts.Factors(context.Background(), mustID(t, h, target)); len(fs) != 1 {
			t.Errorf("%s: got %d factors after the refusals, want 1", target, len(fs))
		}
	}
	denied := 0
	for _, e := range h.audit(t, mfagate.AuditFilter{Actor: "sam"}) {
		if e.Outcome == mfagate.OutcomeDenied {
			denied++
		}
	}
	if denied != 6 {
		t.Errorf("got %d refusals audited, want 6", denied)
	}
	for _, a := range actions {
		if res := h.post(t, sam, "/admin/people/alice/"+a.path, a.form); res.StatusCode != http.StatusSeeOther {
			t.Errorf("support %s on alice: got %d, want done", a.path, res.StatusCode)
		}
	}
}

func mustID(tb testing.TB, h *harness, name string) int64 {
	tb.Helper()
	u, err := h.accounts.User(context.Background(), name)
	if err != nil {
		tb.Fatal(err)
	}
	return u.ID
}
