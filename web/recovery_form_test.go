package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

// TestRecoveryCodeForm: a badly formed recovery code is answered with what
// is wrong and stays in the field, escaped, to be mended; it checks
// nothing. A well-formed wrong code empties the field; the right code
// typed loosely then signs in.
func TestRecoveryCodeForm(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.login(t, c, "alice")
	h.post(t, c, "/mfa/setup", url.Values{"method": {"email"}})
	h.get(t, c, "/mfa/setup/email")
	h.post(t, c, "/mfa/setup/email", url.Values{"code": {h.latestCode(t)}})
	m := codesRE.FindAllStringSubmatch(h.get(t, c, "/mfa/recovery-codes").body, -1)
	if len(m) != 10 {
		t.Fatalf("got %d recovery codes on the page, want 10", len(m))
	}
	h.post(t, c, "/mfa/recovery-codes", url.Values{"action": {"saved"}})
	code := m[0][1]

	h.clock.Advance(time.Minute)
	c2 := h.client(t)
	h.login(t, c2, "alice")
	post := func(typed string) response {
		return h.post(t, c2, "/mfa/challenge", url.Values{"method": {"recovery"}, "code": {typed}})
	}
	before := h.accounts.Checks().Codes[mfagate.MethodRecovery]
	for _, tt := range []struct{ typed, message, value string }{
		{code[:18], "A recovery code has 16 letters and numbers; you entered 15", `value="` + code[:18] + `"`},
		{`ABCD"><b>x`, "A recovery code uses only the letters A to Z and the numbers 2 to 7; ‘&#34;’ is not one of them",
			`value="ABCD&#34;&gt;&lt;b&gt;x"`},
	} {
		res := post(tt.typed)
		if res.StatusCode != 400 || !strings.Contains(res.body, tt.message) || !strings.Contains(res.body, tt.value) {
			t.Fatalf("%q: got %d, want 400 saying %q with %s in the field:\n%s", tt.typed, res.StatusCode, tt.message, tt.value, between(res.body, `<main`, `</main>`))
		}
		if strings.Contains(res.body, "<b>x") {
			t.Fatal("what was typed is on the page unescaped")
		}
	}
	if n := h.accounts.Checks().Codes[mfagate.MethodRecovery] - before; n != 0 {
		t.Fatalf("badly formed codes: %d checked, want none", n)
	}
	wrong := "AAAA-AAAA-AAAA-AAAA"
	if code == wrong {
		wrong = "BBBB-BBBB-BBBB-BBBB"
	}
	res := post(wrong)
	if res.StatusCode != 400 || !strings.Contains(res.body, "That recovery code is not correct") || strings.Contains(res.body, `value="`+wrong) {
		t.Fatalf("a wrong code: got %d, want 400 with the field empty", res.StatusCode)
	}
	if n := h.accounts.Checks().Codes[mfagate.MethodRecovery] - before; n != 1 {
		t.Fatalf("a wrong code: %d checked, want 1", n)
	}
	h.clock.Advance(time.Minute)
	loose := strings.ReplaceAll(strings.ToLower(strings.ReplaceAll(code, "-", " ")), "o", "0")
	if ok := post(loose); ok.StatusCode != 303 || ok.Header.Get("Location") != "/" {
		t.Fatalf("%q for %s: got %d to %q, want signed in", loose, code, ok.StatusCode, ok.Header.Get("Location"))
	}
}
