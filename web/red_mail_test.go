package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/mfagate/mfagate"
)

// TestRedAddressFixedHostileInput: the console form and the API of the
// address-fixed action, and the unreached filter, given hostile input.
// Nothing answers 500, nothing but the one good request sends mail
// again, the action cannot be used on one's own account, and two
// requests at once send the person's mail again once, not twice.
func TestRedAddressFixedHostileInput(t *testing.T) {
	h, ids := unreachedPeople(t)
	sam := h.staff(t, "sam", "support")
	h.markUnreached(t, "sam", refusal)
	support := h.mustToken(t, "red-bot", mfagate.RoleSupport)
	operator := h.mustToken(t, "red-ops", mfagate.RoleOperator)

	noServerError := func(what string, code int, body string) {
		t.Helper()
		if code >= 500 {
			t.Errorf("%s: got %d:\n%.600s", what, code, body)
		}
	}
	for _, reason := range []string{
		"\xff\xfe not UTF-8", "\x00", strings.Repeat("é", 501), strings.Repeat("x", 100_000),
	} {
		res := h.post(t, sam, "/admin/people/bob/address-fixed", url.Values{"reason": {reason}})
		noServerError("console reason "+reason[:min(len(reason), 20)], res.StatusCode, res.body)
		if res.StatusCode == http.StatusSeeOther {
			t.Errorf("console reason %q: accepted", reason[:min(len(reason), 20)])
		}
	}
	for _, name := range []string{"nobody", "%00", "bob%0d%0a", strings.Repeat("a", 5000), "..%2fadmin", "%ff", "BOB%20"} {
		res := h.post(t, sam, "/admin/people/"+name+"/address-fixed", url.Values{"reason": {"x"}})
		noServerError("console username "+name[:min(len(name), 20)], res.StatusCode, res.body)
		res2 := h.api(t, "POST", "/api/v1/people/"+name+"/address-fixed", support, `{"reason": "x"}`)
		noServerError("API username "+name[:min(len(name), 20)], res2.StatusCode, res2.body)
	}
	// One's own account: refused, in the console (sam is unreached too).
	if res := h.post(t, sam, "/admin/people/sam/address-fixed", url.Values{"reason": {"my own"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("own account: got %d, want 403", res.StatusCode)
	}
	for _, body := range []string{
		``, `null`, `[]`, `{"reason": 5}`, `{"reason": null}`, `{"reason": "\u0000"}`, `{"reason": "` + strings.Repeat("é", 501) + `"}`,
		`{"reason": "x"} {"reason": "y"}`, `{"reason": "x", "reason": "y"}`, `{"Reason": "x", "to": "evil@attacker.example"}`,
		`{"reason": "` + strings.Repeat("x", 2_000_000) + `"}`, "\xff",
	} {
		res := h.api(t, "POST", "/api/v1/people/bob/address-fixed", support, body)
		noServerError("API body "+body[:min(len(body), 30)], res.StatusCode, res.body)
		if res.StatusCode == http.StatusOK {
			t.Errorf("API body %.30q: accepted", body)
		}
	}
	for _, v := range []string{"%00", "true%00", "%ff", "true&unreached=true", "true&unreached=false", strings.Repeat("t", 10000)} {
		res := h.api(t, "GET", "/api/v1/people?unreached="+v, operator, "")
		noServerError("?unreached="+v[:min(len(v), 20)], res.StatusCode, res.body)
	}
	if got := outboxStatus(t, h, ids[0]); got != mfagate.MailFailed {
		t.Fatalf("hostile requests sent mail again: got %s", got)
	}

	// Ten requests at once, half through each door: one succeeds.
	var wg sync.WaitGroup
	codes := make([]int, 10)
	for i := range codes {
		wg.Go(func() {
			if i%2 == 0 {
				codes[i] = h.api(t, "POST", "/api/v1/people/bob/address-fixed", support, `{"reason": "restored"}`).StatusCode
			} else {
				codes[i] = h.post(t, sam, "/admin/people/bob/address-fixed", url.Values{"reason": {"restored"}}).StatusCode
			}
		})
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		noServerError("concurrent fix", c, "")
		if c == http.StatusOK || c == http.StatusSeeOther {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("concurrent fixes: %d succeeded (%v), want 1", ok, codes)
	}
	if evs := h.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditAddressFixed, Subject: "bob"}); len(evs) != 1 {
		t.Errorf("audit: %d address-fixed events, want 1", len(evs))
	}
	if got := outboxStatus(t, h, ids[0]); got != mfagate.MailPending {
		t.Errorf("after the fix: the campaign message is %s, want pending", got)
	}
	if got := outboxStatus(t, h, ids[2]); got != mfagate.MailFailed {
		t.Errorf("after the fix: the code is %s, want still failed", got)
	}
}
