package web_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/totp"
)

var (
	quotedRE  = regexp.MustCompile(`“([^”]+)”`)
	controlRE = regexp.MustCompile(`(?s)<(a|button|summary)\b[^>]*>(.*?)</(?:a|button|summary)>`)
	tagRE     = regexp.MustCompile(`<[^>]+>`)
)

// controls lists the names of the links, buttons and expandable sections
// on a page, as a person sees them.
func controls(page string) map[string]bool {
	out := map[string]bool{}
	for _, m := range controlRE.FindAllStringSubmatch(page, -1) {
		out[strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(m[2], ""))), " ")] = true
	}
	return out
}

// TestHelpNamesRealControls: every link or button the help page tells
// people to choose (in “quotes”) is on the page it means, with the same
// words, rendered for people with one method or both.
func TestHelpNamesRealControls(t *testing.T) {
	h := newHarness(t)
	pages := map[string]string{}

	// Alice: an authenticator app, then email codes as well.
	c := h.client(t)
	h.login(t, c, "alice")
	secret, _ := h.setUpTOTP(t, c)
	h.post(t, c, "/mfa/recovery-codes", url.Values{"action": {"saved"}})
	pages["account page, app only"] = h.get(t, c, "/account").body
	h.clock.Advance(11 * time.Minute)
	h.get(t, c, "/mfa/setup/email?rd=%2Faccount")
	h.post(t, c, "/mfa/challenge", url.Values{"method": {"totp"}, "code": {totp.Code(secret, totp.Step(h.clock.Now()))}, "rd": {"/mfa/setup/email?rd=%2Faccount"}})
	h.post(t, c, "/mfa/setup/email/send", url.Values{"rd": {"/account"}})
	if done := h.post(t, c, "/mfa/setup/email", url.Values{"code": {h.latestCode(t)}, "rd": {"/account"}}); done.Header.Get("Location") != "/account" {
		t.Fatalf("adding email codes: got %d to %q", done.StatusCode, done.Header.Get("Location"))
	}
	h.clock.Advance(time.Minute)
	c2 := h.client(t)
	h.login(t, c2, "alice")
	pages["challenge, app"] = h.get(t, c2, "/mfa/challenge?method=totp").body
	// The help's advice is for a person who was sent a code.
	if res := h.post(t, c2, "/mfa/challenge/send", nil); res.StatusCode >= 400 {
		t.Fatalf("sending a code: got %d", res.StatusCode)
	}
	pages["challenge, email"] = h.get(t, c2, "/mfa/challenge?method=email").body
	pages["challenge, recovery code"] = h.get(t, c2, "/mfa/challenge?method=recovery").body

	// Bob: email codes only.
	h.mustUser(t, "bob", pw)
	b := h.client(t)
	h.login(t, b, "bob")
	h.post(t, b, "/mfa/setup", url.Values{"method": {"email"}})
	h.get(t, b, "/mfa/setup/email")
	h.post(t, b, "/mfa/setup/email", url.Values{"code": {h.latestCode(t)}})
	h.post(t, b, "/mfa/recovery-codes", url.Values{"action": {"saved"}})
	pages["account page, email only"] = h.get(t, b, "/account").body

	// Where each name the help page quotes must be found.
	where := map[string][]string{
		"Set up an authenticator app": {"account page, email only"},
		"Get security codes by email": {"account page, app only"},
		"Get new recovery codes":      {"account page, app only", "account page, email only"},
		"Problems with the code?":     {"challenge, email"},
		"Send a new code":             {"challenge, email"},
		"Use a recovery code":         {"challenge, app", "challenge, email"},
		"Get a code by email instead": {"challenge, app", "challenge, recovery code"},
	}
	help := h.get(t, h.client(t), "/help").body
	quoted := quotedRE.FindAllStringSubmatch(help, -1)
	if len(quoted) < len(where) {
		t.Fatalf("the help page quotes %d control names, want at least %d", len(quoted), len(where))
	}
	for _, q := range quoted {
		name := html.UnescapeString(q[1])
		on, ok := where[name]
		if !ok {
			t.Errorf("the help page tells people to choose %q: say here which page has it", name)
			continue
		}
		for _, p := range on {
			if !controls(pages[p])[name] {
				t.Errorf("the help page names %q, but the %s has no link or button called that; it has %q", name, p, keys(controls(pages[p])))
			}
		}
	}
	// The names are not found on pages that lack them: the check can fail.
	if controls(pages["account page, app only"])["Set up an authenticator app"] {
		t.Error("a person with an app is offered a second one")
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
