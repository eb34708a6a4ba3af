package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/totp"
	"github.com/mfagate/mfagate/web"
)

// adminOnly is the rule of these tests: /admin-only on the test server's
// host needs role admin; everything else is open to anyone signed in.
func adminOnly(o *harnessConfig) {
	o.ForwardAuth = []web.ForwardAuthRule{{Host: "127.0.0.1", Path: "/admin-only", Roles: []string{"admin"}}}
}

// verify calls GET /auth/verify as a proxy would, with the client's
// cookies and the given header pairs.
func (h *harness) verify(tb testing.TB, c *http.Client, query string, header ...string) response {
	tb.Helper()
	req, _ := http.NewRequest("GET", h.ts.URL+"/auth/verify"+query, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(tb, c, req)
}

// app is the URL of a protected application on the test server's host.
func (h *harness) app(path string) string {
	u, _ := url.Parse(h.ts.URL)
	return "https://" + u.Hostname() + ":9443" + path
}

func TestVerify(t *testing.T) {
	h := newHarness(t, withTrustedProxy("127.0.0.1/32"), adminOnly)
	h.mustUser(t, "ada", pw, "admin", "user")
	ctx := context.Background()
	// Alice's account carries control characters in her name, which must
	// not reach the application's headers.
	h.store.Update(ctx, func(tx mfagate.Tx) error {
		u, err := tx.UserByUsername("alice")
		if err != nil {
			return err
		}
		u.Name = "Alice\r\nX-Injected: 1\x00"
		return tx.UpdateUser(u)
	})

	full, admin, partial, revoked, anon := h.client(t), h.client(t), h.client(t), h.client(t), h.client(t)
	h.signIn(t, full, "alice", pw)
	h.signIn(t, admin, "ada", pw)
	h.login(t, partial, "alice") // password only: MFA setup still offered
	h.signIn(t, revoked, "alice", pw)
	dead := *h.sessionCookie(revoked)
	h.post(t, revoked, "/logout", nil)
	revoked.Jar.SetCookies(mustURL(t, h.ts.URL), []*http.Cookie{{Name: dead.Name, Value: dead.Value}})
	garbage := h.client(t)
	garbage.Jar.SetCookies(mustURL(t, h.ts.URL), []*http.Cookie{{Name: dead.Name, Value: "not-a-session"}})

	orig := h.app("/docs?page=2&x=y")
	login := h.ts.URL + "/login?rd=" + url.QueryEscape(orig)
	tests := []struct {
		name     string
		c        *http.Client
		query    string
		header   []string
		status   int
		location string
		remote   map[string]string
	}{
		{name: "fully signed in", c: full, status: 200, remote: map[string]string{
			"Remote-User": "alice", "Remote-Name": "AliceX-Injected: 1", "Remote-Email": "alice@example.com", "Remote-Groups": "user"}},
		{name: "several roles", c: admin, status: 200, remote: map[string]string{"Remote-User": "ada", "Remote-Groups": "admin,user"}},
		{name: "no session", c: anon, status: 401},
		{name: "not a session token", c: garbage, status: 401},
		{name: "revoked", c: revoked, status: 401},
		{name: "password only", c: partial, status: 401},
		{name: "no session, redirect asked with rd", c: anon, query: "?rd=https://ignored.example.net/", header: []string{"X-Original-URL", orig}, status: 302, location: login},
		{name: "no session, redirect asked", c: anon, query: "?redirect=true", header: []string{"X-Original-URL", orig}, status: 302, location: login},
		{name: "password only, redirect asked", c: partial, query: "?redirect=true", header: []string{"X-Original-URL", orig}, status: 302, location: login},
		{name: "no session, forwarded trio", c: anon, query: "?redirect=true",
			header: []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "127.0.0.1:9443", "X-Forwarded-Uri", "/docs?page=2&x=y"}, status: 302, location: login},
		{name: "no redirect asked", c: anon, header: []string{"X-Original-URL", orig}, status: 401},
		{name: "redirect asked, original unknown", c: anon, query: "?redirect=true", status: 401},
		{name: "redirect=false", c: anon, query: "?redirect=false", header: []string{"X-Original-URL", orig}, status: 401},
		{name: "foreign host", c: anon, query: "?redirect=true", header: []string{"X-Original-URL", "https://evil.example.net/"}, status: 401},
		{name: "look-alike host", c: anon, query: "?redirect=true", header: []string{"X-Original-URL", "https://127.0.0.1.evil.net/"}, status: 401},
		{name: "user name in URL", c: anon, query: "?redirect=true", header: []string{"X-Original-URL", "https://evil.net@127.0.0.1/"}, status: 401},
		{name: "other scheme", c: anon, query: "?redirect=true", header: []string{"X-Original-URL", "javascript://127.0.0.1/%0aalert(1)"}, status: 401},
		{name: "role missing", c: full, header: []string{"X-Original-URL", h.app("/admin-only/users")}, status: 403},
		{name: "role missing, dot segments", c: full, header: []string{"X-Original-URL", h.app("/open/../admin-only")}, status: 403},
		{name: "role missing, escaped dots", c: full, header: []string{"X-Original-URL", h.app("/open/%2e%2e/admin-only")}, status: 403},
		{name: "role present", c: admin, header: []string{"X-Original-URL", h.app("/admin-only/users")}, status: 200, remote: map[string]string{"Remote-User": "ada"}},
		{name: "other path", c: full, header: []string{"X-Original-URL", h.app("/admin-only-not")}, status: 200, remote: map[string]string{"Remote-User": "alice"}},
		{name: "rules in force, URL unknown", c: full, status: 403},
		// A URL that cannot be checked: 400 where the answer reaches the
		// browser, and otherwise the answer of an unknown URL, since
		// nginx's auth_request makes anything but 401 and 403 a 500.
		{name: "no session, NUL in the path, redirect asked", c: anon, query: "?redirect=true", header: []string{"X-Original-URL", h.app("/docs%00")}, status: 400},
		{name: "no session, unreadable URL, redirect asked", c: anon, query: "?redirect=true", header: []string{"X-Original-URL", h.app("/docs%zz")}, status: 400},
		{name: "no session, NUL in the path", c: anon, header: []string{"X-Original-URL", h.app("/docs%00")}, status: 401},
		{name: "role missing, NUL after the ruled path", c: full, header: []string{"X-Original-URL", h.app("/admin-only%00")}, status: 403},
		{name: "role missing, bad byte in the ruled path", c: full, header: []string{"X-Original-URL", h.app("/admin-only%FF/users")}, status: 403},
		{name: "role missing, bad byte, redirect asked", c: full, query: "?redirect=true", header: []string{"X-Original-URL", h.app("/admin-only%FF")}, status: 400},
		{name: "long URL under no rule", c: full, header: []string{"X-Original-URL", h.app("/docs?q=" + strings.Repeat("x", 3000))}, status: 200},
		{name: "no session, URL too long to return to", c: anon, query: "?redirect=true", header: []string{"X-Original-URL", h.app("/docs?q=" + strings.Repeat("x", 3000))}, status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The path needs no rule unless the case gives one.
			header := tt.header
			if header == nil && tt.status == 200 {
				header = []string{"X-Original-URL", h.app("/")}
			}
			res := h.verify(t, tt.c, tt.query, header...)
			if res.StatusCode != tt.status {
				t.Fatalf("got %d, want %d", res.StatusCode, tt.status)
			}
			if got := res.Header.Get("Location"); got != tt.location {
				t.Errorf("Location: got %q, want %q", got, tt.location)
			}
			for k, want := range tt.remote {
				if got := res.Header.Get(k); got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
			if tt.status != 200 && res.Header.Get("Remote-User") != "" {
				t.Errorf("Remote-User on a %d", tt.status)
			}
			// The proxy consumes a 200 and never shows it to a browser, so
			// it goes without the browser's security headers (SPEC.md
			// section 4); every other answer may reach one and has them all.
			for _, k := range browserSecurityHeaders {
				if got := res.Header.Get(k); tt.status == 200 && got != "" {
					t.Errorf("%s: got %q on a 200, want none", k, got)
				} else if tt.status != 200 && got == "" {
					t.Errorf("no %s header on a %d", k, tt.status)
				}
			}
			if got := res.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control: got %q, want no-store", got)
			}
		})
	}

	// The redirect leads to a sign-in that returns the person there.
	res := h.get(t, anon, "/login?rd="+url.QueryEscape(orig))
	if !strings.Contains(res.body, `name="rd" value="`+strings.ReplaceAll(orig, "&", "&amp;")+`"`) {
		t.Fatalf("the sign-in page does not keep rd %q", orig)
	}
	if done := h.signIn(t, anon, "alice", pw, orig); done.Header.Get("Location") != orig {
		t.Fatalf("after signing in: got %d to %q, want %q", done.StatusCode, done.Header.Get("Location"), orig)
	}
}

// browserSecurityHeaders are the headers SPEC.md section 4 asks of every
// answer a browser may see (the harness serves HTTPS, so HSTS too).
var browserSecurityHeaders = []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
	"Referrer-Policy", "Cross-Origin-Opener-Policy", "Permissions-Policy", "Strict-Transport-Security"}

func mustURL(tb testing.TB, s string) *url.URL {
	tb.Helper()
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

func TestVerifyIgnoresForwardedHeadersFromUntrustedPeers(t *testing.T) {
	// The test client connects from 127.0.0.1, which is not trusted here.
	h := newHarness(t, withTrustedProxy("10.0.0.0/8"))
	anon := h.client(t)
	headers := [][]string{
		{"X-Original-URL", h.app("/docs")},
		{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "127.0.0.1", "X-Forwarded-Uri", "/docs"},
	}
	for _, hd := range headers {
		if res := h.verify(t, anon, "?redirect=true", hd...); res.StatusCode != 401 || res.Header.Get("Location") != "" {
			t.Errorf("%v: got %d to %q, want 401 without a redirect", hd, res.StatusCode, res.Header.Get("Location"))
		}
	}
	// With rules in force, a URL the proxy is not trusted to give cannot
	// choose a rule: the person is refused rather than let through.
	h = newHarness(t, withTrustedProxy("10.0.0.0/8"), adminOnly)
	c := h.client(t)
	h.signIn(t, c, "alice", pw)
	if res := h.verify(t, c, "", "X-Original-URL", h.app("/open")); res.StatusCode != 403 {
		t.Errorf("signed in, rules, untrusted URL: got %d, want 403", res.StatusCode)
	}
}

func TestVerifyExpiredSessions(t *testing.T) {
	tests := []struct {
		name string
		// live keeps the session in use for this long, in steps of 20
		// minutes, before the last wait.
		live, wait time.Duration
		want       int
	}{
		{"fresh", 0, 0, 200},
		{"idle just under 30 minutes", 0, 29 * time.Minute, 200},
		{"idle 30 minutes", 0, 30 * time.Minute, 401},
		{"in use for 11 hours", 11 * time.Hour, 0, 200},
		{"in use for 12 hours", 12 * time.Hour, 0, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			c := h.client(t)
			h.signIn(t, c, "alice", pw)
			for spent := time.Duration(0); spent < tt.live; spent += 20 * time.Minute {
				h.clock.Advance(20 * time.Minute)
				if spent+20*time.Minute < tt.live {
					if res := h.verify(t, c, ""); res.StatusCode != 200 {
						t.Fatalf("after %v in use: got %d, want 200", spent, res.StatusCode)
					}
				}
			}
			h.clock.Advance(tt.wait)
			if res := h.verify(t, c, ""); res.StatusCode != tt.want {
				t.Fatalf("got %d, want %d", res.StatusCode, tt.want)
			}
		})
	}
}

// TestVerifyAnonymousLeavesNoTrace: anonymous requests, however many,
// create no session and no log line above debug.
func TestVerifyAnonymousLeavesNoTrace(t *testing.T) {
	var logs bytes.Buffer
	h := newHarness(t, withTrustedProxy("127.0.0.1/32"), func(o *harnessConfig) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	signedIn := h.client(t)
	h.signIn(t, signedIn, "alice", pw)
	before := countSessions(t, h)
	logs.Reset()

	name := h.sessionCookie(signedIn).Name
	unknown := strings.Repeat("A", 43) // well-formed, so it is looked up
	cookies := []string{"", name + "=", name + "=garbage", name + "=" + unknown, "other=1"}
	c := h.client(t)
	for i := range 300 {
		req, _ := http.NewRequest("GET", h.ts.URL+"/auth/verify?redirect=true", nil)
		if ck := cookies[i%len(cookies)]; ck != "" {
			req.Header.Set("Cookie", ck)
		}
		if i%2 == 0 {
			req.Header.Set("X-Original-URL", h.app("/x"))
		}
		res := do(t, c, req)
		if res.StatusCode != 401 && res.StatusCode != 302 {
			t.Fatalf("request %d: got %d, want 401 or 302", i, res.StatusCode)
		}
		if res.Header.Get("Set-Cookie") != "" {
			t.Fatalf("request %d set a cookie: %q", i, res.Header.Get("Set-Cookie"))
		}
	}
	if after := countSessions(t, h); after != before {
		t.Errorf("sessions: got %d after anonymous requests, want %d", after, before)
	}
	if logs.Len() != 0 {
		t.Errorf("got log lines for anonymous requests, want none above debug:\n%s", logs.String())
	}
}

func countSessions(tb testing.TB, h *harness) int {
	tb.Helper()
	n := 0
	err := h.store.View(context.Background(), func(tx mfagate.Tx) error {
		users, err := tx.Users(mfagate.UserFilter{})
		if err != nil {
			return err
		}
		for _, u := range users {
			ss, err := tx.UserSessions(u.ID)
			if err != nil {
				return err
			}
			n += len(ss)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// BenchmarkVerify is one forward-auth check of a signed-in session
// through the whole handler and its middleware, as a proxy makes it: the
// session comes from memory, as nearly every check's does.
func BenchmarkVerify(b *testing.B) {
	h := newHarness(b, withTrustedProxy("127.0.0.1/32"), adminOnly)
	c := h.client(b)
	h.signIn(b, c, "alice", pw)
	ck := h.sessionCookie(c)
	handler := h.ts.Config.Handler
	for _, bc := range []struct {
		name   string
		cookie bool
		want   int
	}{{"signed-in", true, 200}, {"anonymous", false, 401}} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/auth/verify", nil)
			req.RemoteAddr = "127.0.0.1:40000"
			req.Header.Set("X-Original-URL", h.app("/docs"))
			if bc.cookie {
				req.AddCookie(ck)
			}
			b.ReportAllocs()
			for b.Loop() {
				w := &headerWriter{h: http.Header{}}
				handler.ServeHTTP(w, req)
				if w.code != bc.want {
					b.Fatalf("got %d, want %d", w.code, bc.want)
				}
			}
		})
	}
}

// headerWriter is the least a response writer does, so that the benchmark
// measures the handler (httptest.ResponseRecorder copies every header).
type headerWriter struct {
	h    http.Header
	code int
}

func (w *headerWriter) Header() http.Header         { return w.h }
func (w *headerWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *headerWriter) WriteHeader(code int)        { w.code = code }

// TestVerifyRefusesARotatedSessionAtOnce: a session forward-auth has just
// let through (and so remembers) is refused at once, on the same server,
// once it is replaced: by signing in again in the same browser, or by a
// new id after confirming with a code. The first release kept such ids
// working from the cache for up to five seconds.
func TestVerifyRefusesARotatedSessionAtOnce(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.signIn(t, c, "alice", pw)
	orig := []string{"X-Original-URL", h.app("/")}
	copyOf := func() *http.Client {
		cookie := *h.sessionCookie(c)
		other := h.client(t)
		other.Jar.SetCookies(mustURL(t, h.ts.URL), []*http.Cookie{{Name: cookie.Name, Value: cookie.Value}})
		return other
	}
	// Signing in again in the same browser ends the old session.
	old := copyOf()
	if res := h.verify(t, old, "", orig...); res.StatusCode != http.StatusOK {
		t.Fatalf("before: got %d, want 200", res.StatusCode)
	}
	h.signIn(t, c, "alice", pw)
	if res := h.verify(t, old, "", orig...); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the replaced session: got %d, want 401 at once", res.StatusCode)
	}
	// Confirming with a code (to change factors) moves it to a new id.
	secret, _ := h.setUpTOTP(t, c)
	h.post(t, c, "/mfa/recovery-codes", url.Values{"action": {"saved"}})
	h.clock.Advance(11 * time.Minute) // the code passed at setup is no longer recent
	old = copyOf()
	if res := h.verify(t, old, "", orig...); res.StatusCode != http.StatusOK {
		t.Fatalf("before confirming: got %d, want 200", res.StatusCode)
	}
	res := h.post(t, c, "/mfa/challenge", url.Values{"method": {"totp"}, "code": {totp.Code(secret, totp.Step(h.clock.Now()))}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirming with a code: got %d", res.StatusCode)
	}
	if res := h.verify(t, old, "", orig...); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the id before confirming: got %d, want 401 at once", res.StatusCode)
	}
	if res := h.verify(t, c, "", orig...); res.StatusCode != http.StatusOK {
		t.Fatalf("the new id: got %d, want 200", res.StatusCode)
	}
}

// TestVerifyAllowsOnlyWhatEverySpellingAllows: a path is let through only
// when the rules allow it both as written and as a case-blind server (or
// one that drops ";params") reads it. So an open rule for /public does not
// open /PUBLIC on a case-sensitive application where / is kept for
// admins, and a closed rule for /admin holds for /ADMIN and /admin;x.
func TestVerifyAllowsOnlyWhatEverySpellingAllows(t *testing.T) {
	h := newHarness(t, withTrustedProxy("127.0.0.1/32"), func(o *harnessConfig) {
		o.ForwardAuth = []web.ForwardAuthRule{
			{Host: "docs.example.com.", Path: "/public", Roles: []string{web.RoleAll}},
			{Host: "docs.example.com", Path: "/", Roles: []string{"admin"}},
		}
	})
	c := h.client(t)
	h.signIn(t, c, "alice", pw) // role user
	for _, tt := range []struct {
		host, uri string
		want      int
	}{
		{"docs.example.com", "/public/guide", 200},
		{"DOCS.example.com.", "/public/guide", 200},
		{"docs.example.com", "/PUBLIC/guide", 403},
		{"docs.example.com", "/public;x/guide", 403},
		{"docs.example.com", "/private", 403},
		{"docs.example.com.", "/Private", 403},
	} {
		res := h.verify(t, c, "", "X-Forwarded-Proto", "https", "X-Forwarded-Host", tt.host, "X-Forwarded-Uri", tt.uri)
		if res.StatusCode != tt.want {
			t.Errorf("%s%s: got %d, want %d", tt.host, tt.uri, res.StatusCode, tt.want)
		}
	}
}
