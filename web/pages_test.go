package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
)

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.signIn(t, c, "alice", pw)
	paths := []string{"/login", "/", "/account", "/help", "/no-such-page", "/static/style.css", "/static/", "/healthz", "/readyz", "/metrics", "/dev/outbox"}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			res := h.get(t, c, p)
			want := map[string]string{
				"X-Frame-Options":           "DENY",
				"X-Content-Type-Options":    "nosniff",
				"Referrer-Policy":           "no-referrer",
				"Strict-Transport-Security": "max-age=31536000",
			}
			for k, v := range want {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s: got %q, want %q", k, got, v)
				}
			}
			csp := res.Header.Get("Content-Security-Policy")
			for _, part := range []string{"frame-ancestors 'none'", "script-src 'self'", "default-src 'none'"} {
				if !strings.Contains(csp, part) {
					t.Errorf("CSP %q lacks %q", csp, part)
				}
			}
			if strings.Contains(csp, "unsafe-inline") {
				t.Errorf("CSP %q allows inline code", csp)
			}
		})
	}
	if res := h.post(t, c, "/no-such-page", nil); res.StatusCode != 404 || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("POST to an unknown page: got %d without headers, want a 404 page with them", res.StatusCode)
	}
	// Forward-auth's 200 alone may go without them (the proxy consumes
	// it): its path spelt any other way, or asked with another method,
	// reaches some other answer, which keeps them all.
	for _, tt := range []struct{ method, path string }{
		{"POST", "/auth/verify"}, {"GET", "/auth/verify/"}, {"GET", "/auth//verify"},
		{"GET", "/auth%2Fverify"}, {"GET", "/AUTH/verify"}, {"DELETE", "/auth/verify"},
	} {
		req, _ := http.NewRequest(tt.method, h.ts.URL+tt.path, nil)
		res := do(t, c, req)
		if res.StatusCode == http.StatusOK {
			t.Errorf("%s %s: got 200, want a refusal", tt.method, tt.path)
		}
		for _, k := range browserSecurityHeaders {
			if res.Header.Get(k) == "" {
				t.Errorf("%s %s: %d without %s", tt.method, tt.path, res.StatusCode, k)
			}
		}
	}
}

func TestNoInlineScriptOrStyle(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	bodies := map[string]string{}
	for _, p := range []string{"/login", "/help"} {
		bodies[p] = h.get(t, c, p).body
	}
	h.signIn(t, c, "alice", pw)
	for _, p := range []string{"/", "/account", "/account/password", "/dev/outbox", "/nowhere"} {
		bodies[p] = h.get(t, c, p).body
	}
	for p, body := range bodies {
		if strings.Contains(body, "<script>") || strings.Contains(body, " onclick=") || strings.Contains(body, "<style") || strings.Contains(body, " style=") {
			t.Errorf("%s has inline script or style", p)
		}
		if !strings.Contains(body, `href="/help"`) {
			t.Errorf("%s has no help link", p)
		}
		if strings.Count(body, "<h1") != 1 {
			t.Errorf("%s: want exactly one <h1>", p)
		}
	}
}

func TestNoHSTSWithoutTLS(t *testing.T) {
	h := newHarness(t, func(o *harnessConfig) {
		o.BaseURL, _ = url.Parse("http://127.0.0.1:8080")
		o.InsecureCookies = true
	})
	res := h.get(t, h.client(t), "/login")
	if res.Header.Get("Strict-Transport-Security") != "" {
		t.Fatal("HSTS sent for a plain-HTTP base URL")
	}
	c := h.client(t)
	ck := h.signIn(t, c, "alice", pw).Cookies()[0]
	if ck.Name != "mfagate_session" || ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
		t.Fatalf("demo cookie: got %+v, want mfagate_session, not Secure, HttpOnly, Lax", ck)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	if res := h.get(t, c, "/healthz"); res.StatusCode != 200 {
		t.Fatalf("healthz: got %d, want 200", res.StatusCode)
	}
	if res := h.get(t, c, "/readyz"); res.StatusCode != 200 {
		t.Fatalf("readyz: got %d, want 200", res.StatusCode)
	}
	res := h.get(t, c, "/metrics")
	if res.StatusCode != 200 || !strings.Contains(res.body, `mfagate_http_requests_total{route="GET /readyz",status="200"} 1`) {
		t.Fatalf("metrics: got %d, want request counts by route:\n%.2000s", res.StatusCode, res.body)
	}
	h.store.Close()
	if res := h.get(t, c, "/readyz"); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the database closed: got %d, want 503", res.StatusCode)
	}
	if res := h.get(t, c, "/healthz"); res.StatusCode != 200 {
		t.Fatalf("healthz with the database closed: got %d, want 200", res.StatusCode)
	}
}

func TestPagesNeedSignIn(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	for _, p := range []string{"/", "/account", "/account/password"} {
		res := h.get(t, c, p)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
			t.Errorf("%s: got %d to %q, want a redirect to sign in", p, res.StatusCode, res.Header.Get("Location"))
		}
	}
	for _, p := range []string{"/account/password", "/account/sessions/end-others"} {
		if res := h.post(t, c, p, nil); res.StatusCode != http.StatusSeeOther {
			t.Errorf("POST %s: got %d, want a redirect to sign in", p, res.StatusCode)
		}
	}
	// Signed-in people are sent on from the sign-in page.
	h.signIn(t, c, "alice", pw)
	if res := h.get(t, c, "/login?rd=/account"); res.Header.Get("Location") != "/account" {
		t.Fatalf("got %q, want /account", res.Header.Get("Location"))
	}
}

func TestChangePasswordPage(t *testing.T) {
	h := newHarness(t)
	c, other := h.client(t), h.client(t)
	h.signIn(t, c, "alice", pw)
	h.signIn(t, other, "alice", pw)
	const next = "violet harbour compass"
	tests := []struct {
		name                  string
		current, next, repeat string
		field, want           string
	}{
		{"wrong current", "guess", next, next, "current_password", "Your current password is not correct"},
		{"no new", pw, "", "", "new_password", "Enter a new password"},
		{"mismatch", pw, next, next + "x", "confirm_password", "do not match"},
		{"too short", pw, "short", "short", "new_password", "at least 8 characters"},
		{"common", pw, "password123", "password123", "new_password", "too common"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.post(t, c, "/account/password", url.Values{
				"current_password": {tt.current}, "new_password": {tt.next}, "confirm_password": {tt.repeat}})
			if res.StatusCode != 400 || !strings.Contains(res.body, tt.want) || !strings.Contains(res.body, `href="#`+tt.field+`"`) {
				t.Fatalf("got %d, want 400 with %q linked to #%s:\n%s", res.StatusCode, tt.want, tt.field, res.body)
			}
		})
	}
	res := h.post(t, c, "/account/password", url.Values{"current_password": {pw}, "new_password": {next}, "confirm_password": {next}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("got %d, want 303", res.StatusCode)
	}
	if res := h.get(t, other, "/account"); res.StatusCode != http.StatusSeeOther {
		t.Fatal("the other session survived the password change")
	}
	if res := h.get(t, c, "/account?password_changed"); !strings.Contains(res.body, "Your password has been changed") {
		t.Fatal("no confirmation on the account page")
	}
	outbox := h.get(t, c, "/dev/outbox").body
	if !strings.Contains(outbox, "Your password was changed") || !strings.Contains(outbox, "alice@example.com") {
		t.Fatalf("the outbox does not show the notice:\n%s", outbox)
	}
}

func TestEndOtherSessions(t *testing.T) {
	h := newHarness(t)
	c, other := h.client(t), h.client(t)
	h.signIn(t, other, "alice", pw)
	h.signIn(t, c, "alice", pw)
	page := h.get(t, c, "/account").body
	if strings.Count(page, "<tr>") != 3 || !strings.Contains(page, "This device") {
		t.Fatalf("want two sessions listed, this one marked:\n%s", page)
	}
	h.post(t, c, "/account/sessions/end-others", nil)
	if res := h.get(t, other, "/account"); res.StatusCode != http.StatusSeeOther {
		t.Fatal("the other session survived")
	}
	if res := h.get(t, c, "/account"); res.StatusCode != 200 {
		t.Fatal("this session was ended too")
	}
	if evs := h.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditSessionRevoked}); len(evs) != 1 {
		t.Fatalf("got %d revoke events, want 1", len(evs))
	}
}

func TestDevOutboxOnlyWithOutboxDriver(t *testing.T) {
	h := newHarness(t, func(o *harnessConfig) { o.DevOutbox = false })
	if res := h.get(t, h.client(t), "/dev/outbox"); res.StatusCode != 404 {
		t.Fatalf("got %d, want 404 when the mail driver is smtp", res.StatusCode)
	}
	h = newHarness(t)
	err := h.store.Update(context.Background(), func(tx mfagate.Tx) error {
		for _, s := range []string{"First <b>", "Second"} {
			if err := tx.EnqueueMail(&mfagate.Message{To: "x@example.com", Subject: s, Text: "Body of " + s, CreatedAt: h.clock.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	body := h.get(t, h.client(t), "/dev/outbox").body
	first, second := strings.Index(body, "First &lt;b&gt;"), strings.Index(body, "Second")
	if first < 0 || second < 0 || second > first {
		t.Fatalf("want both messages, newest first, escaped:\n%s", body)
	}
}
