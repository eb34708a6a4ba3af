package web_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// badRequest is one request carrying bad bytes somewhere.
type badRequest struct {
	name   string
	client *http.Client
	method string
	// target is the path and query, with "{bad}" standing for the bad
	// bytes in their URL form ("%00", "%FF", or raw).
	target string
	form   url.Values // sent as a urlencoded body; "{bad}" in a value stands for the bad bytes
	body   string     // sent as it is with contentType, when form is nil
	ctype  string
	header []string // header pairs; "{bad}" in a value stands for the bad bytes in their URL form
	api    bool     // a JSON API request: the reply must be the JSON error
}

// badBytes are the bad bytes of the table: as they appear in a URL, and
// as raw bytes in form values and headers.
var badBytes = []struct{ name, inURL, raw string }{
	{"NUL", "%00", "\x00"},
	{"invalid UTF-8", "%FF", "\xff"},
	{"overlong UTF-8", "%C0%AF", "\xc0\xaf"},
	{"control character", "%1B", "\x1b"},
	{"raw invalid UTF-8", "\xff", "\xff"},
}

// TestBadBytesAreRefusedEverywhere sends NUL bytes, invalid UTF-8 and
// control characters through every family of routes, in paths, queries,
// forms, JSON bodies and forward-auth's headers, on SQLite and on
// PostgreSQL (which refuses such text in a query, so before the edge
// check these gave 500 there). Each must be a 400 with our error page or
// JSON error and the security headers, and change nothing.
func TestBadBytesAreRefusedEverywhere(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		h := newBackendHarness(t, b, withTrustedProxy("127.0.0.1/32"), adminOnly)
		h.mustUser(t, "bob", pw)
		staff := h.staff(t, "bea", "operator", "support")
		full, partial, anon := h.client(t), h.client(t), h.client(t)
		h.signIn(t, full, "alice", pw)
		h.login(t, partial, "bob") // the password step only: setup is next
		token := h.mustToken(t, "helpdesk-bot", mfagate.RoleSupport)
		app := h.app("/docs/{bad}")
		before := snapshotState(t, h)

		reqs := []badRequest{
			// Signing in and out.
			{name: "login username", client: anon, method: "POST", target: "/login", form: url.Values{"username": {"ali{bad}ce"}, "password": {pw}}},
			{name: "login password", client: anon, method: "POST", target: "/login", form: url.Values{"username": {"alice"}, "password": {"plum{bad}"}}},
			{name: "login return address", client: anon, method: "POST", target: "/login", form: url.Values{"username": {"alice"}, "password": {pw}, "rd": {"/account{bad}"}}},
			{name: "login query", client: anon, method: "GET", target: "/login?rd=/account{bad}"},
			{name: "logout form", client: full, method: "POST", target: "/logout", form: url.Values{"x": {"{bad}"}}},
			// The account pages.
			{name: "account query", client: full, method: "GET", target: "/account?x={bad}"},
			{name: "password form", client: full, method: "POST", target: "/account/password", form: url.Values{"current_password": {pw}, "new_password": {"a{bad}bcdefghij"}, "confirm_password": {"a{bad}bcdefghij"}}},
			{name: "factor id in the path", client: full, method: "POST", target: "/account/factors/1{bad}/remove", form: url.Values{}},
			{name: "end other sessions", client: full, method: "POST", target: "/account/sessions/end-others", form: url.Values{"x{bad}": {"1"}}},
			{name: "recovery codes", client: full, method: "POST", target: "/account/recovery-codes", form: url.Values{"action": {"new{bad}"}}},
			// The second step.
			{name: "setup choice", client: partial, method: "POST", target: "/mfa/setup", form: url.Values{"method": {"email{bad}"}}},
			{name: "setup page query", client: partial, method: "GET", target: "/mfa/setup?rd={bad}"},
			{name: "email setup address", client: partial, method: "POST", target: "/mfa/setup/email/send", form: url.Values{"email": {"bob{bad}@example.com"}}},
			{name: "email setup code", client: partial, method: "POST", target: "/mfa/setup/email", form: url.Values{"code": {"123{bad}456"}}},
			{name: "totp setup code", client: partial, method: "POST", target: "/mfa/setup/totp", form: url.Values{"code": {"123{bad}456"}}},
			{name: "challenge query", client: partial, method: "GET", target: "/mfa/challenge?method=totp{bad}"},
			{name: "challenge code", client: partial, method: "POST", target: "/mfa/challenge", form: url.Values{"method": {"totp"}, "code": {"123{bad}456"}}},
			// The console.
			{name: "people search", client: staff, method: "GET", target: "/admin/people?q=ali{bad}"},
			{name: "people role filter", client: staff, method: "GET", target: "/admin/people?role={bad}"},
			{name: "people export", client: staff, method: "GET", target: "/admin/people.csv?q={bad}"},
			{name: "person in the path", client: staff, method: "GET", target: "/admin/people/ali{bad}ce"},
			{name: "reset of a bad name", client: staff, method: "POST", target: "/admin/people/b{bad}ob/reset-mfa", form: url.Values{"reason": {"lost phone"}}},
			{name: "reset reason", client: staff, method: "POST", target: "/admin/people/bob/reset-mfa", form: url.Values{"reason": {"lost{bad}phone"}}},
			{name: "unlock reason", client: staff, method: "POST", target: "/admin/people/bob/unlock", form: url.Values{"reason": {"{bad}"}}},
			{name: "resend code", client: staff, method: "POST", target: "/admin/people/b{bad}ob/resend-code", form: url.Values{}},
			{name: "end sessions", client: staff, method: "POST", target: "/admin/people/bob/end-sessions", form: url.Values{"reason": {"x{bad}"}}},
			{name: "extend date", client: staff, method: "POST", target: "/admin/people/bob/extend", form: url.Values{"reason": {"x"}, "until": {"2027-07-01{bad}"}}},
			{name: "audit subject", client: staff, method: "GET", target: "/admin/audit?subject=ali{bad}ce"},
			{name: "audit actor", client: staff, method: "GET", target: "/admin/audit?actor={bad}"},
			{name: "audit kind", client: staff, method: "GET", target: "/admin/audit?kind=signin{bad}"},
			{name: "audit parameter name", client: staff, method: "GET", target: "/admin/audit?sub{bad}ject=alice"},
			// The JSON API.
			{name: "API people search", method: "GET", target: "/api/v1/people?q=ali{bad}", header: []string{"Authorization", "Bearer " + token}, api: true},
			{name: "API person", method: "GET", target: "/api/v1/people/ali{bad}ce", header: []string{"Authorization", "Bearer " + token}, api: true},
			{name: "API person's MFA", method: "GET", target: "/api/v1/people/ali{bad}ce/mfa", header: []string{"Authorization", "Bearer " + token}, api: true},
			{name: "API unlock of a bad name", method: "POST", target: "/api/v1/people/b{bad}ob/unlock", body: `{"reason": "x"}`, ctype: "application/json", header: []string{"Authorization", "Bearer " + token}, api: true},
			{name: "API audit subject", method: "GET", target: "/api/v1/audit?subject={bad}", header: []string{"Authorization", "Bearer " + token}, api: true},
			{name: "API without a token", method: "GET", target: "/api/v1/people/{bad}", api: true},
			// Forward-auth: the original URL, from a trusted proxy.
			{name: "verify, anonymous, bad Uri", client: anon, method: "GET", target: "/auth/verify?redirect=true",
				header: []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "127.0.0.1:9443", "X-Forwarded-Uri", "/docs/{bad}"}},
			{name: "verify, anonymous, bad X-Original-URL", client: anon, method: "GET", target: "/auth/verify?redirect=true", header: []string{"X-Original-URL", app}},
			{name: "verify, anonymous, bad host", client: anon, method: "GET", target: "/auth/verify?redirect=true",
				header: []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "app{bad}.example.com", "X-Forwarded-Uri", "/"}},
			{name: "verify, signed in, bad Uri under a rule", client: full, method: "GET", target: "/auth/verify?redirect=true",
				header: []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "127.0.0.1:9443", "X-Forwarded-Uri", "/admin-only{bad}"}},
			{name: "verify rd", client: anon, method: "GET", target: "/auth/verify?rd=https://127.0.0.1:9443/{bad}"},
			// Everything else.
			{name: "help query", client: anon, method: "GET", target: "/help?topic={bad}"},
			{name: "unknown path", client: anon, method: "GET", target: "/no{bad}where"},
			{name: "unknown path, posted", client: anon, method: "POST", target: "/no{bad}where", form: url.Values{}},
			{name: "static file", client: anon, method: "GET", target: "/static/{bad}.css"},
			{name: "home query", client: full, method: "GET", target: "/?{bad}"},
		}
		for _, bb := range badBytes {
			for _, rq := range reqs {
				t.Run(bb.name+"/"+rq.name, func(t *testing.T) {
					res := sendBad(t, h, rq, bb.inURL, bb.raw)
					wantRefused(t, res, rq.api)
				})
			}
		}

		// Bodies that only the API reads: JSON with bad strings or a field
		// given twice, and forms in raw bytes and multipart.
		auth := []string{"Authorization", "Bearer " + token}
		bodies := []badRequest{
			{name: "raw invalid UTF-8 in a string", body: "{\"reason\": \"lost \xff phone\"}"},
			{name: "escaped NUL", body: `{"reason": "lost \u0000 phone"}`},
			{name: "escaped control character", body: `{"reason": "lost \u001b phone"}`},
			{name: "lone surrogate", body: `{"reason": "lost \ud800 phone"}`},
			{name: "duplicate key", body: `{"reason": "a", "reason": "b"}`},
			{name: "duplicate key in another case", body: `{"reason": "a", "Reason": "b"}`},
		}
		for _, rq := range bodies {
			t.Run("API body/"+rq.name, func(t *testing.T) {
				rq.method, rq.target, rq.ctype, rq.header, rq.api = "POST", "/api/v1/people/bob/unlock", "application/json", auth, true
				wantRefused(t, sendBad(t, h, rq, "", ""), true)
			})
		}
		t.Run("API body/bad string in a new person", func(t *testing.T) {
			rq := badRequest{method: "POST", target: "/api/v1/people", ctype: "application/json", header: auth, api: true,
				body: `{"username": "carol", "email": "carol@example.com", "roles": ["user\u0000"]}`}
			wantRefused(t, sendBad(t, h, rq, "", ""), true)
		})
		t.Run("API body/duplicate username", func(t *testing.T) {
			rq := badRequest{method: "POST", target: "/api/v1/people", ctype: "application/json", header: auth, api: true,
				body: `{"username": "carol", "email": "carol@example.com", "roles": ["user"], "username": "dave"}`}
			wantRefused(t, sendBad(t, h, rq, "", ""), true)
		})
		t.Run("raw bytes in a form body", func(t *testing.T) {
			rq := badRequest{client: anon, method: "POST", target: "/login", ctype: "application/x-www-form-urlencoded",
				body: "username=ali\xffce&password=" + url.QueryEscape(pw)}
			wantRefused(t, sendBad(t, h, rq, "", ""), false)
		})
		t.Run("multipart form", func(t *testing.T) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			mw.WriteField("username", "ali\x00ce")
			mw.WriteField("password", pw)
			mw.Close()
			rq := badRequest{client: anon, method: "POST", target: "/login", ctype: mw.FormDataContentType(), body: buf.String()}
			wantRefused(t, sendBad(t, h, rq, "", ""), false)
		})

		if after := snapshotState(t, h); after != before {
			t.Errorf("refused requests changed something: before %+v, after %+v", before, after)
		}
		for name, c := range map[string]*http.Client{"alice": full, "bea": staff} {
			if res := h.get(t, c, "/account"); res.StatusCode != http.StatusOK {
				t.Errorf("%s is no longer signed in: got %d", name, res.StatusCode)
			}
		}

		// A header that is not UTF-8 passes net/http; the user agent is
		// stored with the session, cleaned, and is no reason to fail.
		res := h.post(t, h.client(t), "/login", url.Values{"username": {"alice"}, "password": {pw}}, "User-Agent", "Mozilla/5.0 \xff\xfe")
		if res.StatusCode != http.StatusSeeOther {
			t.Errorf("signing in with a user agent that is not UTF-8: got %d, want 303", res.StatusCode)
		}
	})
}

// sendBad sends rq with "{bad}" replaced: by inURL in the target and
// headers, by raw in form values.
func sendBad(tb testing.TB, h *harness, rq badRequest, inURL, raw string) response {
	tb.Helper()
	body, ctype := rq.body, rq.ctype
	if rq.form != nil {
		form := url.Values{}
		for k, vs := range rq.form {
			for _, v := range vs {
				form.Add(strings.ReplaceAll(k, "{bad}", raw), strings.ReplaceAll(v, "{bad}", raw))
			}
		}
		body, ctype = form.Encode(), "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequest(rq.method, h.ts.URL+"/", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	// Opaque is sent as it is, so the target can hold raw bytes that
	// url.URL would escape.
	target := strings.ReplaceAll(rq.target, "{bad}", inURL)
	path, query, _ := strings.Cut(target, "?")
	req.URL.Opaque, req.URL.RawQuery = path, query
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(rq.header); i += 2 {
		// Headers cannot carry NUL or control bytes (TestBadBytesOnTheWire),
		// so they get the URL form, as a proxy passes a URL on.
		req.Header[rq.header[i]] = []string{strings.ReplaceAll(rq.header[i+1], "{bad}", inURL)}
	}
	c := rq.client
	if c == nil {
		c = h.ts.Client()
	}
	return do(tb, c, req)
}

// wantRefused checks that res is a 400 with our error page (or, from the
// API, our JSON error) and the security headers.
func wantRefused(tb testing.TB, res response, api bool) {
	tb.Helper()
	if res.StatusCode != http.StatusBadRequest {
		tb.Fatalf("got %d, want 400:\n%.600s", res.StatusCode, res.body)
	}
	if res.Header.Get("Content-Security-Policy") == "" || res.Header.Get("X-Frame-Options") != "DENY" {
		tb.Fatalf("the refusal lacks the security headers: %v", res.Header)
	}
	if api {
		if ct := res.Header.Get("Content-Type"); ct != "application/json" || !strings.Contains(res.body, `"code": "invalid"`) {
			tb.Fatalf("want the JSON error with code invalid, got %s:\n%s", ct, res.body)
		}
		return
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") ||
		!strings.Contains(res.body, "<h1>There is a problem with the request</h1>") || !strings.Contains(res.body, "cannot be") {
		tb.Fatalf("want our HTML error page, got %s:\n%.600s", ct, res.body)
	}
}

// state is what a refused request must not change.
type state struct {
	audit, sessions, mail int
}

func snapshotState(tb testing.TB, h *harness) state {
	tb.Helper()
	return state{
		audit:    len(h.audit(tb, mfagate.AuditFilter{})),
		sessions: countSessions(tb, h),
		mail:     len(outboxMail(tb, h)),
	}
}

// TestBadBytesOnTheWire checks what net/http refuses before any handler
// runs: a NUL byte in the request line or a header gets its own bare 400
// (docs/security.md says so), never a 500.
func TestBadBytesOnTheWire(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct{ name, req string }{
		{"NUL in the path", "GET /admin/people/a\x00b HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"NUL in a header", "GET /login HTTP/1.1\r\nHost: x\r\nX-Forwarded-Uri: /a\x00b\r\n\r\n"},
		{"NUL in the cookie", "GET /account HTTP/1.1\r\nHost: x\r\nCookie: __Host-mfagate_session=a\x00b\r\n\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := h.ts.Client().Transport.(*http.Transport).TLSClientConfig
			tc, err := tls.Dial("tcp", h.ts.Listener.Addr().String(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer tc.Close()
			if _, err := tc.Write([]byte(tt.req)); err != nil {
				t.Fatal(err)
			}
			res, err := http.ReadResponse(bufio.NewReader(tc), nil)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("got %d, want net/http's 400", res.StatusCode)
			}
		})
	}
}
