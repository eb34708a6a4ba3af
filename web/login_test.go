package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

func TestSignInSetsAStrictSessionCookie(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	res := h.signIn(t, c, "alice", pw)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("got %d to %q, want 303 to /", res.StatusCode, res.Header.Get("Location"))
	}
	cookies := res.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("got %d cookies, want 1", len(cookies))
	}
	ck := cookies[0]
	raw := res.Header.Get("Set-Cookie")
	checks := []struct {
		what string
		ok   bool
	}{
		{"name __Host-mfagate_session", ck.Name == "__Host-mfagate_session"},
		{"Secure", ck.Secure},
		{"HttpOnly", ck.HttpOnly},
		{"SameSite=Lax", ck.SameSite == http.SameSiteLaxMode},
		{"Path=/", ck.Path == "/"},
		{"no Domain", !strings.Contains(strings.ToLower(raw), "domain=")},
		{"no Max-Age or Expires (the server ends sessions)", ck.MaxAge == 0 && ck.RawExpires == ""},
		{"64-character token (256 random bits and a 128-bit MAC)", len(ck.Value) == 64},
	}
	for _, chk := range checks {
		if !chk.ok {
			t.Errorf("cookie %q: want %s", raw, chk.what)
		}
	}
	home := h.get(t, c, "/")
	if home.StatusCode != 200 || !strings.Contains(home.body, "You are signed in") || !strings.Contains(home.body, "alice") {
		t.Fatalf("home page: got %d, want 200 saying alice is signed in", home.StatusCode)
	}
}

func TestCookieDomainUsesSecurePrefix(t *testing.T) {
	h := newHarness(t, func(o *harnessConfig) { o.CookieDomain = ".example.com" })
	res := h.post(t, h.client(t), "/login", url.Values{"username": {"alice"}, "password": {pw}})
	raw := res.Header.Get("Set-Cookie")
	if !strings.HasPrefix(raw, "__Secure-mfagate_session=") || !strings.Contains(raw, "Domain=example.com") || !strings.Contains(raw, "Secure") {
		t.Fatalf("got %q, want a __Secure- cookie for example.com", raw)
	}
}

func TestSignInRotatesTheSessionID(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.signIn(t, c, "alice", pw)
	first := h.sessionCookie(c).Value
	h.signIn(t, c, "alice", pw) // the browser still sends the first cookie
	second := h.sessionCookie(c).Value
	if first == second {
		t.Fatal("got the same session id after signing in again, want a new one")
	}
	stale := h.client(t)
	u, _ := url.Parse(h.ts.URL)
	stale.Jar.SetCookies(u, []*http.Cookie{{Name: "__Host-mfagate_session", Value: first, Path: "/", Secure: true}})
	if res := h.get(t, stale, "/account"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("old session id: got %d, want a redirect to sign in", res.StatusCode)
	}
}

func TestUnknownUserAndWrongPasswordPagesAreIdentical(t *testing.T) {
	h := newHarness(t)
	unknown := h.signIn(t, h.client(t), "carol", "orange marmalade sky")
	h.mustUser(t, "carol", pw)
	wrong := h.signIn(t, h.client(t), "carol", "orange marmalade sky")
	if unknown.body != wrong.body || unknown.StatusCode != wrong.StatusCode {
		t.Fatalf("pages differ:\nunknown user (%d):\n%s\nwrong password (%d):\n%s", unknown.StatusCode, unknown.body, wrong.StatusCode, wrong.body)
	}
	if !strings.Contains(wrong.body, "The username or password is not correct") {
		t.Fatalf("page does not say the username or password is not correct:\n%s", wrong.body)
	}
	if !strings.Contains(wrong.body, `value="carol"`) || strings.Contains(wrong.body, "orange marmalade") {
		t.Fatal("want the username kept and the password cleared")
	}
	if !strings.HasPrefix(between(wrong.body, "<title>", "</title>"), "Error: ") {
		t.Fatal("want the title to start with \"Error: \"")
	}
	if h.sessionCookie(h.client(t)) != nil {
		t.Fatal("a failed sign-in set a cookie")
	}
}

func between(s, a, b string) string {
	_, after, _ := strings.Cut(s, a)
	inner, _, _ := strings.Cut(after, b)
	return inner
}

func TestBadFormInputChangesNothing(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"over-long password", url.Values{"username": {"alice"}, "password": {strings.Repeat("p", 2000)}}.Encode(), 400, "too long"},
		{"1 MB body", "username=alice&password=" + strings.Repeat("p", 1<<20), 400, "could not be read"},
		{"non-UTF-8 username", "username=ali%FFce&password=" + url.QueryEscape(pw), 400, "cannot be used"},
		{"non-UTF-8 password", "username=alice&password=pl%FEum", 400, "cannot be used"},
		{"empty fields", "username=&password=", 400, "Enter your username"},
		{"malformed encoding", "username=%zz&password=x", 400, "could not be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.client(t)
			req, _ := http.NewRequest("POST", h.ts.URL+"/login", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res := do(t, c, req)
			if res.StatusCode != tt.status || !strings.Contains(res.body, tt.want) {
				t.Fatalf("got %d, want %d with %q in:\n%s", res.StatusCode, tt.status, tt.want, res.body)
			}
			if len(res.Cookies()) != 0 {
				t.Fatal("want no session cookie")
			}
		})
	}
	u, _ := h.accounts.User(context.Background(), "alice")
	if !u.LastSignInAt.IsZero() {
		t.Fatal("alice's last sign-in changed")
	}
}

func TestSessionTimeoutsAtTheDoor(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.signIn(t, c, "alice", pw)
	h.clock.Advance(29 * time.Minute)
	if res := h.get(t, c, "/account"); res.StatusCode != 200 {
		t.Fatalf("after 29 minutes: got %d, want 200", res.StatusCode)
	}
	h.clock.Advance(30 * time.Minute)
	res := h.get(t, c, "/account")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?rd=%2Faccount" {
		t.Fatalf("after 30 idle minutes: got %d to %q, want 303 to /login?rd=%%2Faccount", res.StatusCode, res.Header.Get("Location"))
	}

	h.signIn(t, c, "alice", pw)
	for i := 0; i < 35; i++ { // 11h40m of steady use
		h.clock.Advance(20 * time.Minute)
		if res := h.get(t, c, "/account"); res.StatusCode != 200 {
			t.Fatalf("after %d minutes of use: got %d, want 200", (i+1)*20, res.StatusCode)
		}
	}
	h.clock.Advance(20 * time.Minute) // 12 hours
	if res := h.get(t, c, "/account"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after 12 hours: got %d, want a redirect to sign in", res.StatusCode)
	}
}

func TestLogoutRevokesOnTheServer(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.signIn(t, c, "alice", pw)
	token := h.sessionCookie(c).Value
	res := h.post(t, c, "/logout", nil)
	if res.StatusCode != http.StatusSeeOther || h.sessionCookie(c) != nil {
		t.Fatalf("got %d and cookie %v, want 303 and the cookie cleared", res.StatusCode, h.sessionCookie(c))
	}
	if _, err := h.accounts.Authenticate(context.Background(), token); err != account.ErrNoSession {
		t.Fatalf("the old token: got %v, want ErrNoSession", err)
	}
	if evs := h.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditSignOut}); len(evs) != 1 {
		t.Fatalf("got %d sign-out events, want 1", len(evs))
	}
	if res := h.get(t, c, "/login?signed_out"); !strings.Contains(res.body, "You have signed out") {
		t.Fatal("the sign-in page does not confirm the sign-out")
	}
}

func TestRedirectAfterSignInStaysHome(t *testing.T) {
	h := newHarness(t)
	host := strings.TrimPrefix(h.ts.URL, "https://")
	tests := []struct{ rd, want string }{
		{"/account", "/account"},
		{"/account?tab=1", "/account?tab=1"},
		{h.ts.URL + "/account", h.ts.URL + "/account"},
		{"https://evil.example/", "/"},
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"http://" + host + "/account", "/"}, // another scheme
		{"https://user@" + host + "/", "/"},
		{"javascript:alert(1)", "/"},
		{"account", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.rd, func(t *testing.T) {
			res := h.signIn(t, h.client(t), "alice", pw, tt.rd)
			if got := res.Header.Get("Location"); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	res := h.post(t, c, "/login", url.Values{"username": {"alice"}, "password": {pw}},
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if res.StatusCode != http.StatusForbidden || !strings.Contains(res.body, "another website") {
		t.Fatalf("got %d, want 403 explaining the form came from another website", res.StatusCode)
	}
	if res.Header.Get("Content-Security-Policy") == "" {
		t.Fatal("the refusal page has no security headers")
	}
	if len(res.Cookies()) != 0 {
		t.Fatal("a cross-site sign-in set a cookie")
	}
	h.signIn(t, c, "alice", pw)
	res = h.post(t, c, "/logout", nil, "Sec-Fetch-Site", "cross-site")
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site logout: got %d, want 403", res.StatusCode)
	}
	if res := h.post(t, c, "/logout", nil, "Sec-Fetch-Site", "same-origin"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin logout: got %d, want 303", res.StatusCode)
	}
}

func TestDisabledAccountIsSignedOut(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.signIn(t, c, "alice", pw)
	if err := h.accounts.SetDisabled(context.Background(), account.Actor{Name: "cli"}, "alice", true, "left"); err != nil {
		t.Fatal(err)
	}
	if res := h.get(t, c, "/account"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("got %d, want a redirect to sign in", res.StatusCode)
	}
	if res := h.signIn(t, h.client(t), "alice", pw); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("signing in to a disabled account: got %d, want 401", res.StatusCode)
	}
}

func TestClientAddressTrustsOnlyConfiguredProxies(t *testing.T) {
	for _, tt := range []struct {
		name    string
		proxies []string
		want    string
	}{
		{"untrusted peer: header ignored", nil, "127.0.0.1"},
		{"trusted peer: header used", []string{"127.0.0.1/32"}, "203.0.113.9"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var opts []harnessOption
			for _, p := range tt.proxies {
				opts = append(opts, withTrustedProxy(p))
			}
			h := newHarness(t, opts...)
			h.post(t, h.client(t), "/login", url.Values{"username": {"alice"}, "password": {pw}},
				"X-Forwarded-For", "198.51.100.1, 203.0.113.9")
			evs := h.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditSignInPassword})
			if len(evs) != 1 || evs[0].ClientAddr != tt.want {
				t.Fatalf("got %+v, want one event from %s", evs, tt.want)
			}
		})
	}
}

// TestSignInSetsADeviceCookie: the right password gives the browser a
// device token for the account (account/device.go), kept to mfagate's
// host however the session cookie is shared, for 90 days; with it, the
// browser's sign-ins are not slowed by others' failures at its address.
func TestSignInSetsADeviceCookie(t *testing.T) {
	h := newHarness(t, func(o *harnessConfig) { o.CookieDomain = "" }, withTrustedProxy("127.0.0.1/32"))
	c := h.client(t)
	office := []string{"X-Forwarded-For", "203.0.113.77"}
	res := h.post(t, c, "/login", url.Values{"username": {"alice"}, "password": {pw}}, office...)
	var device *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "__Host-mfagate_device" {
			device = ck
		}
	}
	if device == nil {
		t.Fatalf("got cookies %v, want a device cookie", res.Cookies())
	}
	if !device.Secure || !device.HttpOnly || device.SameSite != http.SameSiteLaxMode || device.Path != "/" ||
		device.Domain != "" || device.MaxAge != int((90*24*time.Hour)/time.Second) {
		t.Fatalf("device cookie %+v: want Secure, HttpOnly, Lax, Path=/, no Domain, 90 days", device)
	}
	// Someone else at the office slows its address down...
	other := h.client(t)
	for i := 0; i < 21; i++ {
		h.post(t, other, "/login", url.Values{"username": {fmt.Sprintf("nobody%d", i)}, "password": {"guess"}}, office...)
	}
	if res := h.post(t, other, "/login", url.Values{"username": {"alice"}, "password": {pw}}, office...); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("alice from a new browser at the slowed address: got %d, want 429", res.StatusCode)
	}
	// ...and alice's own browser signs in all the same.
	if res := h.post(t, c, "/login", url.Values{"username": {"alice"}, "password": {pw}}, office...); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("alice from her own browser: got %d, want 303", res.StatusCode)
	}
}
