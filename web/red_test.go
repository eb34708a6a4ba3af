package web_test

// Red-team tests over HTTP, kept as regression tests: a failure says
// which breach is back.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/web"
)

// TestRedForwardAuthSpellingsDodgeRules — was a breach; now a
// regression test.
//
// The first release's access rules compared the host and path as the
// proxy passed them, and a request no rule matches is let through.
// "grafana.example.com." (a
// trailing dot, the same host in DNS; Traefik routes it to the same
// router since traefik#4763 and passes X-Forwarded-Host as sent) matches
// no rule, so anyone signed in reaches an application kept for
// operators. The same holds for a wildcard rule. Paths are compared
// case-sensitively and ";params" are kept, which lets "/ADMIN" and
// "/admin;x" through to applications that treat them as /admin (IIS,
// Tomcat/Spring): application-dependent, reported as a weaker variant.
func TestRedForwardAuthSpellingsDodgeRules(t *testing.T) {
	h := newHarness(t, withTrustedProxy("127.0.0.1/32"), func(o *harnessConfig) {
		o.ForwardAuth = []web.ForwardAuthRule{
			{Host: "grafana.example.com", Roles: []string{mfagate.RoleOperator}},
			{Host: "*.ops.example.com", Roles: []string{mfagate.RoleOperator}},
			{Host: "wiki.example.com", Path: "/admin", Roles: []string{"admin"}},
		}
	})
	c := h.client(t)
	h.signIn(t, c, "alice", pw) // role user, no factor: fully signed in after skipping
	ask := func(host, uri string) int {
		return h.verify(t, c, "", "X-Forwarded-Proto", "https", "X-Forwarded-Host", host, "X-Forwarded-Uri", uri).StatusCode
	}
	if got := ask("grafana.example.com", "/"); got != http.StatusForbidden {
		t.Fatalf("control: alice at grafana got %d, want 403", got)
	}
	if got := ask("wiki.example.com", "/admin/users"); got != http.StatusForbidden {
		t.Fatalf("control: alice at wiki /admin got %d, want 403", got)
	}
	for _, tc := range []struct{ host, uri, kind string }{
		{"grafana.example.com.", "/", "host with a trailing dot"},
		{"grafana.example.com.:443", "/", "host with a trailing dot and a port"},
		{"db.ops.example.com.", "/", "wildcard host with a trailing dot"},
		{"wiki.example.com.", "/admin/users", "host with a trailing dot, path rule"},
		{"wiki.example.com", "/ADMIN/users", "path in another case (app-dependent)"},
		{"wiki.example.com", "/admin;jsessionid=x/users", "path with ;params (app-dependent)"},
	} {
		if got := ask(tc.host, tc.uri); got != http.StatusForbidden {
			t.Errorf("BREACH: %s: alice (role user) at %s%s got %d, want 403 as for the plain spelling", tc.kind, tc.host, tc.uri, got)
		}
	}
}

// TestRedEndedSessionsDeadAtTheDoor — REGRESSION (passes).
//
// A session id that was rotated (second factor passed) or signed out is
// refused at once by the pages and by forward-auth on the same replica,
// even right after forward-auth cached it.
func TestRedEndedSessionsDeadAtTheDoor(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.login(t, c, "alice")
	partial := *h.sessionCookie(c)
	h.setUpTOTP(t, c) // rotates into a full session
	full := *h.sessionCookie(c)
	if full.Value == partial.Value {
		t.Fatal("no rotation")
	}
	if res := h.verify(t, c, ""); res.StatusCode != http.StatusOK {
		t.Fatalf("full session at forward-auth: %d", res.StatusCode)
	}
	replay := func(ck http.Cookie) *http.Client {
		x := h.client(t)
		x.Jar.SetCookies(mustURL(t, h.ts.URL), []*http.Cookie{{Name: ck.Name, Value: ck.Value}})
		return x
	}
	old := replay(partial)
	if res := h.get(t, old, "/mfa/challenge"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("BREACH: the rotated id still opens the second-step pages: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res := h.verify(t, old, ""); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("BREACH: the rotated id passes forward-auth: %d", res.StatusCode)
	}
	stolen := replay(full)
	h.verify(t, stolen, "") // cached
	h.post(t, c, "/logout", nil)
	if res := h.verify(t, stolen, ""); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("BREACH: a signed-out id passes forward-auth on the same replica: %d", res.StatusCode)
	}
	if res := h.get(t, stolen, "/account"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("BREACH: a signed-out id opens /account: %d", res.StatusCode)
	}
}

// TestRedSupportCannotTouchStaffOverHTTP — REGRESSION (passes).
//
// Support at the console, and a support API token, try every weakening
// action on an operator's account under several spellings; each is
// refused (403) and the operator keeps her factor.
func TestRedSupportCannotTouchStaffOverHTTP(t *testing.T) {
	h := newHarness(t)
	h.staff(t, "olga", mfagate.RoleOperator)
	sam := h.staff(t, "sam", mfagate.RoleSupport)
	tok := h.mustToken(t, "helpdesk-bot", mfagate.RoleSupport)
	for _, name := range []string{"olga", "OLGA", "Olga"} {
		for _, action := range []string{"reset-mfa", "unlock", "extend"} {
			res := h.post(t, sam, "/admin/people/"+name+"/"+action, url.Values{"reason": {"asked on the phone"}, "until": {"2030-01-01"}})
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("BREACH: support %s on %q in the console: got %d, want 403", action, name, res.StatusCode)
			}
		}
		for _, action := range []string{"disable", "reset-mfa", "unlock"} {
			res := h.api(t, "POST", "/api/v1/people/"+name+"/"+action, tok, `{"reason":"asked"}`)
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("BREACH: API %s on %q: got %d %s, want 403", action, name, res.StatusCode, res.body)
			}
		}
	}
	for _, roles := range []string{`["operator"]`, `["Support"]`, `["user"," OPERATOR "]`} {
		res := h.api(t, "POST", "/api/v1/people", tok, `{"username":"mallory`+fmt.Sprint(len(roles))+`","email":"m@example.com","roles":`+roles+`}`)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("BREACH: API made a staff account with roles %s: %d %s", roles, res.StatusCode, res.body)
		}
	}
	u, _ := h.accounts.User(context.Background(), "olga")
	if fs, _ := h.accounts.Factors(context.Background(), u.ID); len(fs) == 0 || u.Disabled {
		t.Errorf("BREACH: the operator's account was changed: %d factors, disabled %v", len(fs), u.Disabled)
	}
}

// TestRedOddTextNeverAnswers500 — REGRESSION (passes).
//
// Valid but unusual text (noncharacters, bidi and zero-width marks, line
// and paragraph separators, 4-byte characters, the replacement
// character) and JSON escapes of NUL and lone surrogates, through the
// sign-in, second-step, console and API doors, on SQLite and PostgreSQL:
// never a 500.
func TestRedOddTextNeverAnswers500(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		h := newBackendHarness(t, b)
		sam := h.staff(t, "sam", mfagate.RoleSupport)
		tok := h.mustToken(t, "helpdesk-bot", mfagate.RoleSupport)
		odd := []string{"\uffff", "\ufffe", "\ufffd", "\u202e", "\u200b", "\u2028", "\u2029", "\U0001F600", "\U0010FFFF",
			"alice\u0301", strings.Repeat("é", 300), "%00", "'; --", "\\", "%", "_"}
		partial := h.client(t)
		h.login(t, partial, "alice")
		for _, v := range odd {
			checks := []response{
				h.post(t, h.client(t), "/login", url.Values{"username": {v}, "password": {v}}),
				h.post(t, h.client(t), "/login", url.Values{"username": {"alice"}, "password": {pw}, "rd": {v}}),
				h.post(t, partial, "/mfa/challenge", url.Values{"method": {v}, "code": {v}}),
				h.post(t, partial, "/mfa/setup/email", url.Values{"code": {v}}),
				h.post(t, partial, "/mfa/setup/totp", url.Values{"code": {v}}),
				h.post(t, partial, "/mfa/setup/email/send", url.Values{"email": {v}}),
				h.post(t, partial, "/mfa/setup", url.Values{"method": {v}}),
				h.get(t, sam, "/admin/people?q="+url.QueryEscape(v)+"&mfa="+url.QueryEscape(v)+"&role="+url.QueryEscape(v)),
				h.get(t, sam, "/admin/people/"+url.PathEscape(v)),
				h.post(t, sam, "/admin/people/alice/extend", url.Values{"reason": {v}, "until": {v}}),
				h.api(t, "GET", "/api/v1/people?q="+url.QueryEscape(v)+"&cursor="+url.QueryEscape(v), tok, "").response,
				h.api(t, "POST", "/api/v1/people", tok, fmt.Sprintf(`{"username":%q,"email":%q,"name":%q,"roles":[%q]}`, v, v, v, v)).response,
				h.api(t, "POST", "/api/v1/people/alice/unlock", tok, fmt.Sprintf(`{"reason":%q}`, v)).response,
			}
			for i, res := range checks {
				if res.StatusCode >= 500 {
					t.Errorf("BREACH: input %q at door %d answered %d: %.200s", v, i, res.StatusCode, res.body)
				}
			}
		}
		for _, body := range []string{`{"reason":"\u0000"}`, `{"reason":"\ud800"}`, `{"reason":"a\udfff"}`} {
			if res := h.api(t, "POST", "/api/v1/people/alice/unlock", tok, body); res.StatusCode >= 500 {
				t.Errorf("BREACH: body %s answered %d", body, res.StatusCode)
			}
			if res := h.api(t, "POST", "/api/v1/people", tok, strings.Replace(`{"username":"x","email":"x@example.com","name":"R","roles":["user"]}`, `"R"`, body[10:len(body)-1], 1)); res.StatusCode >= 500 {
				t.Errorf("BREACH: name %s answered %d", body, res.StatusCode)
			}
		}
	})
}
