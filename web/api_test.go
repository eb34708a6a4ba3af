package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/mail/mailtest"
	"github.com/mfagate/mfagate/totp"
	"github.com/mfagate/mfagate/web"
)

// mustToken makes an API token with the account service and returns it.
func (h *harness) mustToken(tb testing.TB, name, role string) string {
	tb.Helper()
	plain, _, err := h.accounts.CreateToken(context.Background(), account.Actor{Name: "test"}, name, role)
	if err != nil {
		tb.Fatal(err)
	}
	return plain
}

// apiResponse is an API reply with its body decoded.
type apiResponse struct {
	response
	json map[string]any
}

// api sends one API request. A non-empty body is sent as JSON unless
// header sets another Content-Type.
func (h *harness) api(tb testing.TB, method, path, token, body string, header ...string) apiResponse {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, h.ts.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	res := do(tb, h.ts.Client(), req)
	out := apiResponse{response: res}
	if method != http.MethodHead {
		if err := json.Unmarshal([]byte(res.body), &out.json); err != nil {
			tb.Fatalf("%s %s: the reply is not a JSON object: %v\n%s", method, path, err, res.body)
		}
	}
	return out
}

// wantError checks that res is the documented JSON error.
func wantError(tb testing.TB, res apiResponse, status int, code, message string) {
	tb.Helper()
	if res.StatusCode != status || res.json["code"] != code || !strings.Contains(fmt.Sprint(res.json["error"]), message) {
		tb.Fatalf("got %d %s, want %d with code %q and an error saying %q", res.StatusCode, res.body, status, code, message)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		tb.Fatalf("got Content-Type %q, want application/json", ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		tb.Fatalf("got Cache-Control %q, want no-store", cc)
	}
	for k := range res.json {
		if k != "error" && k != "code" && k != "request_id" {
			tb.Fatalf("the error has an undocumented field %q: %s", k, res.body)
		}
	}
	if status == http.StatusUnauthorized && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
		tb.Fatalf("a 401 without WWW-Authenticate: Bearer (got %q)", res.Header.Get("WWW-Authenticate"))
	}
}

type apiRoute struct {
	method, path string
	roles        []string // nil: no token needed
}

// registeredAPIRoutes is the JSON API's route table, the one list of
// routes routes.go mounts, so that no route can escape the tests and the
// document.
func registeredAPIRoutes(tb testing.TB) []apiRoute {
	tb.Helper()
	var out []apiRoute
	for _, rt := range web.APIRoutes() {
		out = append(out, apiRoute{rt.Method, rt.Path, rt.Roles})
	}
	if len(out) < 10 {
		tb.Fatalf("found only %d API routes; has the table changed?", len(out))
	}
	return out
}

// The role matrix of docs/api.md.
var (
	bothRoles   = []string{mfagate.RoleOperator, mfagate.RoleSupport}
	supportOnly = []string{mfagate.RoleSupport}
)

func TestAPIAccessControl(t *testing.T) {
	h := newHarness(t)
	h.mustUser(t, "bob", pw)
	h.markUnreached(t, "bob", "550 no such user")
	if _, err := h.accounts.CreateUser(context.Background(), account.Actor{Name: "test", AtServer: true},
		account.NewUser{Username: "ivy", Email: "ivy@example.com", Roles: []string{"user"}, Invite: true}); err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{
		mfagate.RoleOperator: h.mustToken(t, "ops-dashboard", mfagate.RoleOperator),
		mfagate.RoleSupport:  h.mustToken(t, "helpdesk-bot", mfagate.RoleSupport),
	}
	revoked := h.mustToken(t, "old-bot", mfagate.RoleSupport)
	if err := h.accounts.RevokeToken(context.Background(), account.Actor{Name: "test"}, "old-bot"); err != nil {
		t.Fatal(err)
	}
	n := 0
	created := func() string {
		n++
		return fmt.Sprintf(`{"username": "new%d", "email": "new%d@example.com", "roles": ["user"]}`, n, n)
	}
	reason := func() string { return `{"reason": "asked by phone"}` }
	routes := []struct {
		method, path string
		body         func() string // nil for none
		roles        []string      // allowed; nil for no token needed
		status       int           // when allowed
	}{
		{"GET", "/api/v1/openapi.json", nil, nil, 200},
		{"GET", "/api/v1/people", nil, bothRoles, 200},
		{"POST", "/api/v1/people", created, supportOnly, 201},
		{"GET", "/api/v1/people/{username}", nil, bothRoles, 200},
		{"POST", "/api/v1/people/{username}/disable", reason, supportOnly, 200},
		{"POST", "/api/v1/people/{username}/roles", func() string { return `{"roles": ["admin", "user"], "reason": "asked by phone"}` }, supportOnly, 200},
		{"GET", "/api/v1/people/{username}/mfa", nil, bothRoles, 200},
		{"POST", "/api/v1/people/{username}/reset-mfa", reason, supportOnly, 200},
		{"POST", "/api/v1/people/{username}/unlock", reason, supportOnly, 200},
		{"POST", "/api/v1/people/{username}/address-fixed", reason, supportOnly, 200}, // bob's address is refused
		{"POST", "/api/v1/people/{username}/invite", reason, supportOnly, 200},        // ivy's, not bob's
		{"POST", "/api/v1/people/{username}/invite/revoke", reason, supportOnly, 200},
		{"POST", "/api/v1/people/{username}/email", func() string { return `{"email": "bob@new.example.com", "reason": "asked by phone"}` }, supportOnly, 200},
		{"GET", "/api/v1/audit", nil, bothRoles, 200},
		{"GET", "/api/v1/rollout", nil, bothRoles, 200},
		{"GET", "/api/v1/rollout/progress", nil, bothRoles, 200},
		{"GET", "/api/v1/rollout/forecast", nil, bothRoles, 200},
	}
	var tested []apiRoute
	for _, rt := range routes {
		who := "bob"
		if strings.Contains(rt.path, "/invite") {
			who = "ivy" // invited, with no password yet
		}
		path := strings.ReplaceAll(rt.path, "{username}", who)
		body := func() string {
			if rt.body == nil {
				return ""
			}
			return rt.body()
		}
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			tested = append(tested, apiRoute{method: rt.method, path: rt.path})
			if rt.roles == nil {
				if res := h.api(t, rt.method, path, "", ""); res.StatusCode != rt.status {
					t.Fatalf("without a token: got %d, want %d", res.StatusCode, rt.status)
				}
				return
			}
			wantError(t, h.api(t, rt.method, path, "", body()), 401, "unauthorized", "Send an API token")
			wantError(t, h.api(t, rt.method, path, "", body(), "Authorization", "Basic YWxpY2U6cHc="), 401, "unauthorized", "must be \"Bearer\"")
			wantError(t, h.api(t, rt.method, path, "not-a-token", body()), 401, "unauthorized", "A valid API token is required")
			wantError(t, h.api(t, rt.method, path, "mfag_"+strings.Repeat("A", 43), body()), 401, "unauthorized", "A valid API token is required")
			wantError(t, h.api(t, rt.method, path, revoked, body()), 401, "unauthorized", "A valid API token is required")
			for _, role := range []string{mfagate.RoleOperator, mfagate.RoleSupport} {
				res := h.api(t, rt.method, path, tokens[role], body())
				if !slices.Contains(rt.roles, role) {
					wantError(t, res, 403, "forbidden", "A "+role+" token cannot do this")
					continue
				}
				if res.StatusCode != rt.status {
					t.Fatalf("%s token: got %d %s, want %d", role, res.StatusCode, res.body, rt.status)
				}
				if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
					t.Fatalf("got Cache-Control %q, want no-store", cc)
				}
			}
		})
	}
	for _, rt := range registeredAPIRoutes(t) {
		if !slices.ContainsFunc(tested, func(x apiRoute) bool { return x.method == rt.method && x.path == rt.path }) {
			t.Errorf("%s %s is registered in routes.go but not in the access-control table", rt.method, rt.path)
		}
	}
}

// TestAPIRolesMatchTheDocument keeps routes.go, the OpenAPI document and
// the role matrix of the tests in step.
func TestAPIRoutesMatchTheDocument(t *testing.T) {
	h := newHarness(t)
	res := h.api(t, "GET", "/api/v1/openapi.json", "", "")
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Roles       []string                   `json:"x-roles"`
			Parameters  []map[string]any           `json:"parameters"`
			RequestBody map[string]any             `json:"requestBody"`
			Responses   map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(res.body), &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not an OpenAPI 3 document: %v", err)
	}
	registered := map[string]bool{}
	for _, rt := range registeredAPIRoutes(t) {
		key := rt.method + " " + rt.path
		registered[key] = true
		op, ok := doc.Paths[rt.path][strings.ToLower(rt.method)]
		if !ok {
			t.Errorf("%s is registered but not in openapi.json", key)
			continue
		}
		roles := rt.roles
		if roles == nil {
			roles = []string{}
		}
		if !slices.Equal(op.Roles, roles) {
			t.Errorf("%s: the document's x-roles %v differ from routes.go's %v", key, op.Roles, roles)
		}
		if rt.roles == nil {
			continue
		}
		want := []string{"200", "400", "401", "403", "405", "500", "503"}
		if rt.method == "POST" {
			want = append(want, "413", "415")
		}
		if strings.Contains(rt.path, "{username}") {
			want = append(want, "404")
			if !strings.Contains(fmt.Sprint(op.Parameters), "username") {
				t.Errorf("%s does not document the username parameter", key)
			}
		}
		if rt.method == "POST" && op.RequestBody == nil {
			t.Errorf("%s does not document its body", key)
		}
		for _, status := range want {
			if status == "200" && rt.method == "POST" && rt.path == "/api/v1/people" {
				status = "201"
			}
			if _, ok := op.Responses[status]; !ok {
				t.Errorf("%s does not document its %s reply", key, status)
			}
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if key := strings.ToUpper(method) + " " + path; !registered[key] {
				t.Errorf("openapi.json documents %s, which routes.go does not register", key)
			}
		}
	}
}

func TestAPIErrors(t *testing.T) {
	var logs mailtest.LogBuffer
	h := newHarness(t, func(o *harnessConfig) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	h.mustUser(t, "bob", pw)
	h.mustUser(t, "sam", pw, "support")
	support := h.mustToken(t, "helpdesk-bot", mfagate.RoleSupport)
	operator := h.mustToken(t, "ops-dashboard", mfagate.RoleOperator)
	big := `{"reason": "` + strings.Repeat("x", 70<<10) + `"}`
	tests := []struct {
		name, method, path, token, body string
		header                          []string
		status                          int
		code, message                   string
	}{
		{"empty body", "POST", "/api/v1/people/bob/unlock", support, "", []string{"Content-Type", "application/json"}, 400, "invalid", "The body is empty"},
		{"cut-short JSON", "POST", "/api/v1/people/bob/unlock", support, `{"reason": "x"`, nil, 400, "invalid", "ends in the middle"},
		{"bad JSON", "POST", "/api/v1/people/bob/unlock", support, `{reason: "x"}`, nil, 400, "invalid", "not valid JSON (at byte 2)"},
		{"unknown field", "POST", "/api/v1/people/bob/unlock", support, `{"reason": "x", "force": true}`, nil, 400, "invalid", `Unknown field "force"`},
		{"wrong type", "POST", "/api/v1/people/bob/unlock", support, `{"reason": 42}`, nil, 400, "invalid", `Field "reason" must be a string, not a JSON number`},
		{"null body", "POST", "/api/v1/people/bob/unlock", support, `null`, nil, 400, "invalid", `The body must be a JSON object, not a JSON null`},
		{"wrong type in a list", "POST", "/api/v1/people", support, `{"username": "x", "email": "x@example.com", "roles": "user"}`, nil, 400, "invalid", `Field "roles" must be an array, not a JSON string`},
		{"not an object", "POST", "/api/v1/people/bob/unlock", support, `["x"]`, nil, 400, "invalid", "must be a JSON object, not a JSON array"},
		{"trailing data", "POST", "/api/v1/people/bob/unlock", support, `{"reason": "x"} {"reason": "y"}`, nil, 400, "invalid", "one JSON object and nothing after it"},
		{"field twice", "POST", "/api/v1/people", support, `{"username": "carol", "email": "carol@example.com", "roles": ["user"], "username": "dave"}`, nil, 400, "invalid", `Field "username" appears twice`},
		{"field twice in another case", "POST", "/api/v1/people/bob/unlock", support, `{"reason": "x", "REASON": "y"}`, nil, 400, "invalid", `Fields "reason" and "REASON" are the same field`},
		{"NUL in a string", "POST", "/api/v1/people/bob/unlock", support, `{"reason": "x\u0000"}`, nil, 400, "invalid", `Field "reason" holds characters that cannot be used`},
		{"not UTF-8 in a list", "POST", "/api/v1/people", support, "{\"username\": \"carol\", \"email\": \"carol@example.com\", \"roles\": [\"user\", \"\xff\"]}", nil, 400, "invalid", `Field "roles[1]" holds characters that cannot be used`},
		{"unpaired surrogate", "POST", "/api/v1/people/bob/unlock", support, `{"reason": "\udc00 x"}`, nil, 400, "invalid", `Field "reason" holds characters`},
		{"NUL in a field name", "POST", "/api/v1/people/bob/unlock", support, `{"reason\u0000": "x"}`, nil, 400, "invalid", `A field name holds characters`},
		{"NUL in the path", "GET", "/api/v1/people/bob%00", operator, "", nil, 400, "invalid", "The path holds characters that cannot be used"},
		{"bad byte in a parameter", "GET", "/api/v1/people?q=%FF", operator, "", nil, 400, "invalid", `Parameter "q" holds characters that cannot be used`},
		{"broken escape in a parameter", "GET", "/api/v1/people?q=%zz", operator, "", nil, 400, "invalid", "broken %-escape"},
		{"too large", "POST", "/api/v1/people/bob/unlock", support, big, nil, 413, "too_large", "larger than 64 KiB"},
		{"not JSON", "POST", "/api/v1/people/bob/unlock", support, "reason=x", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", "Content-Type: application/json"},
		{"no content type", "POST", "/api/v1/people/bob/unlock", support, `{"reason": "x"}`, []string{"Content-Type", ""}, 415, "unsupported_media_type", "Content-Type: application/json"},
		{"reason missing", "POST", "/api/v1/people/bob/reset-mfa", support, `{}`, nil, 400, "invalid", `Give a "reason"`},
		{"reason blank", "POST", "/api/v1/people/bob/disable", support, `{"reason": "  "}`, nil, 400, "invalid", `Give a "reason"`},
		{"reason too long", "POST", "/api/v1/people/bob/unlock", support, `{"reason": "` + strings.Repeat("x", 501) + `"}`, nil, 400, "invalid", "500 characters"},
		{"unknown person", "GET", "/api/v1/people/nobody", operator, "", nil, 404, "not_found", `user "nobody" not found`},
		{"unknown person's MFA", "GET", "/api/v1/people/nobody/mfa", operator, "", nil, 404, "not_found", `not found`},
		{"reset of an unknown person", "POST", "/api/v1/people/nobody/reset-mfa", support, `{"reason": "x"}`, nil, 404, "not_found", `not found`},
		{"username taken", "POST", "/api/v1/people", support, `{"username": "ALICE", "email": "a2@example.com", "roles": ["user"]}`, nil, 409, "conflict", "already taken"},
		{"bad email", "POST", "/api/v1/people", support, `{"username": "carol", "email": "carol-at-example", "roles": ["user"]}`, nil, 400, "invalid", "Enter an email address in the correct format"},
		{"no roles", "POST", "/api/v1/people", support, `{"username": "carol", "email": "carol@example.com"}`, nil, 400, "invalid", "Give at least one role"},
		{"support token cannot make staff", "POST", "/api/v1/people", support, `{"username": "carol", "email": "carol@example.com", "roles": ["user", "Support"]}`, nil, 403, "forbidden", "only be created at the server's command line"},
		{"support token cannot reset staff", "POST", "/api/v1/people/sam/reset-mfa", support, `{"reason": "x"}`, nil, 403, "forbidden", "can only be reset at the server's command line"},
		{"support token cannot unlock staff", "POST", "/api/v1/people/sam/unlock", support, `{"reason": "x"}`, nil, 403, "forbidden", "can only be unlocked at the server's command line"},
		{"support token cannot disable staff", "POST", "/api/v1/people/SAM/disable", support, `{"reason": "x"}`, nil, 403, "forbidden", "can only be disabled at the server's command line"},
		{"roles missing", "POST", "/api/v1/people/bob/roles", support, `{"reason": "x"}`, nil, 400, "invalid", `Give "roles"`},
		{"roles not a list", "POST", "/api/v1/people/bob/roles", support, `{"roles": "admin", "reason": "x"}`, nil, 400, "invalid", `roles`},
		{"support token cannot grant support", "POST", "/api/v1/people/bob/roles", support, `{"roles": ["support", "user"], "reason": "x"}`, nil, 403, "forbidden", "given only at the server's command line"},
		{"support token cannot change staff roles", "POST", "/api/v1/people/sam/roles", support, `{"roles": ["user"], "reason": "x"}`, nil, 403, "forbidden", "can only be given other roles at the server's command line"},
		{"email missing", "POST", "/api/v1/people/bob/email", support, `{"reason": "x"}`, nil, 400, "invalid", `Give "email"`},
		{"email not an address", "POST", "/api/v1/people/bob/email", support, `{"email": "bob", "reason": "x"}`, nil, 400, "invalid", "Enter an email address in the correct format"},
		{"email another's", "POST", "/api/v1/people/bob/email", support, `{"email": "Alice@example.com", "reason": "x"}`, nil, 409, "conflict", "used by another account"},
		{"email unknown field", "POST", "/api/v1/people/bob/email", support, `{"email": "b@example.com", "reason": "x", "confirmed": true}`, nil, 400, "invalid", `"confirmed"`},
		{"support token cannot change a staff address", "POST", "/api/v1/people/sam/email", support, `{"email": "sam@new.example.com", "reason": "x"}`, nil, 403, "forbidden", "can only be given another email address at the server's command line"},
		{"operator token cannot change an address", "POST", "/api/v1/people/bob/email", operator, `{"email": "b@example.com", "reason": "x"}`, nil, 403, "forbidden", "needs a token with the role support"},
		{"operator token cannot reset", "POST", "/api/v1/people/bob/reset-mfa", operator, `{"reason": "x"}`, nil, 403, "forbidden", "needs a token with the role support"},
		{"wrong method", "DELETE", "/api/v1/people/bob", support, "", nil, 405, "method_not_allowed", "DELETE is not allowed here"},
		{"wrong method on a list", "PUT", "/api/v1/people", support, `{}`, nil, 405, "method_not_allowed", "use GET, HEAD, POST"},
		{"no such endpoint", "GET", "/api/v1/groups", support, "", nil, 404, "not_found", "There is no API endpoint at /api/v1/groups"},
		{"no such endpoint, no token", "GET", "/api/v1/", "", "", nil, 404, "not_found", "There is no API endpoint"},
		{"unknown parameter", "GET", "/api/v1/people?rol=admin", operator, "", nil, 400, "invalid", `Unknown parameter "rol"`},
		{"parameter twice", "GET", "/api/v1/people?role=a&role=b", operator, "", nil, 400, "invalid", `Give parameter "role" once`},
		{"limit zero", "GET", "/api/v1/people?limit=0", operator, "", nil, 400, "invalid", "limit must be a whole number from 1 to 500"},
		{"limit too big", "GET", "/api/v1/audit?limit=501", operator, "", nil, 400, "invalid", "limit must be a whole number from 1 to 500"},
		{"bad cursor", "GET", "/api/v1/people?cursor=!!", operator, "", nil, 400, "invalid", "cursor is not one this API gave"},
		{"bad MFA state", "GET", "/api/v1/people?mfa=maybe", operator, "", nil, 400, "invalid", "mfa must be none, setup, email or totp"},
		{"locked=false", "GET", "/api/v1/people?locked=false", operator, "", nil, 400, "invalid", "locked takes only true"},
		{"bad time", "GET", "/api/v1/audit?since=yesterday", operator, "", nil, 400, "invalid", "since must be an RFC 3339 time"},
		{"the zero time", "GET", "/api/v1/audit?until=0001-01-01T00:00:00Z", operator, "", nil, 400, "invalid", "until must be an RFC 3339 time from 1970 on"},
		{"semicolon", "GET", "/api/v1/people?limit=5;x=1", operator, "", nil, 400, "invalid", `separate parameters with "&"`},
		{"cursor spelt another way", "GET", "/api/v1/people?cursor=MDQy", operator, "", nil, 400, "invalid", "cursor is not one this API gave"},
		{"parameters where none are taken", "GET", "/api/v1/rollout?at=2027-01-01", operator, "", nil, 400, "invalid", `Unknown parameter "at"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, h.api(t, tt.method, tt.path, tt.token, tt.body, tt.header...), tt.status, tt.code, tt.message)
		})
	}
	// Refusals change nothing; those of changes to staff accounts are
	// audited, as denied.
	evs := h.audit(t, mfagate.AuditFilter{Actor: "token:helpdesk-bot"})
	var denied []string
	for _, e := range evs {
		if e.Outcome != mfagate.OutcomeDenied {
			t.Fatalf("refused requests left audit events: %+v", e)
		}
		denied = append(denied, e.Kind+" "+e.Subject)
	}
	if want := []string{"user.email sam", "user.roles sam", "user.roles bob", "user.disable sam", "account.unlock sam", "mfa.reset sam", "user.create carol"}; !reflect.DeepEqual(denied, want) {
		t.Fatalf("denied changes audited: got %q, want %q", denied, want)
	}
	if u, _ := h.accounts.User(context.Background(), "sam"); u.Disabled {
		t.Fatal("a refused request disabled sam")
	}

	t.Run("internal error", func(t *testing.T) {
		h.store.Close()
		res := h.api(t, "GET", "/api/v1/people", operator, "")
		wantError(t, res, 500, "internal", "request id")
		id, _ := res.json["request_id"].(string)
		if id == "" || !strings.Contains(fmt.Sprint(res.json["error"]), id) {
			t.Fatalf("the reply does not give the request id: %s", res.body)
		}
		if strings.Contains(strings.ToLower(res.body), "sql") || strings.Contains(res.body, "closed") {
			t.Fatalf("the reply leaks details: %s", res.body)
		}
		if !strings.Contains(logs.String(), "request_id="+id) || !strings.Contains(logs.String(), "closed") {
			t.Fatalf("the log lacks the request id and the details:\n%s", logs.String())
		}
	})
}

func TestAPICrossOrigin(t *testing.T) {
	h := newHarness(t)
	h.mustUser(t, "bob", pw)
	support := h.mustToken(t, "helpdesk-bot", mfagate.RoleSupport)
	// A browser page on another site: refused before the handler runs.
	req, _ := http.NewRequest("POST", h.ts.URL+"/api/v1/people/bob/unlock", strings.NewReader(`{"reason": "x"}`))
	req.Header.Set("Authorization", "Bearer "+support)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := do(t, h.ts.Client(), req); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-site browser request: got %d, want 403", res.StatusCode)
	}
	// A program sends neither header: accepted.
	if res := h.api(t, "POST", "/api/v1/people/bob/unlock", support, `{"reason": "x"}`); res.StatusCode != 200 {
		t.Fatalf("a program's request: got %d %s, want 200", res.StatusCode, res.body)
	}
	// No CORS: browsers on other sites cannot read replies either.
	res := h.api(t, "GET", "/api/v1/people", support, "", "Origin", "https://evil.example")
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("the API sent a CORS header")
	}
}

// apiPeople decodes a page of people.
type apiPage struct {
	People []struct {
		Username   string   `json:"username"`
		MFAMethods []string `json:"mfa_methods"`
	} `json:"people"`
	Events []struct {
		ID int64 `json:"id"`
	} `json:"events"`
	NextCursor string `json:"next_cursor"`
}

func decodeJSON[T any](tb testing.TB, res apiResponse) T {
	tb.Helper()
	var v T
	if res.StatusCode/100 != 2 {
		tb.Fatalf("got %d %s", res.StatusCode, res.body)
	}
	if err := json.Unmarshal([]byte(res.body), &v); err != nil {
		tb.Fatal(err)
	}
	return v
}

func TestAPIPaging(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	want := map[string]bool{"alice": true}
	for i := range 120 {
		name := fmt.Sprintf("person%03d", i)
		if _, err := h.accounts.CreateUser(ctx, account.Actor{Name: "test"}, account.NewUser{
			Username: name, Email: name + "@example.com", Roles: []string{"user"},
		}); err != nil {
			t.Fatal(err)
		}
		want[name] = true
	}
	tok := h.mustToken(t, "ops-dashboard", mfagate.RoleOperator)

	seen := map[string]int{}
	var sizes []int
	path := "/api/v1/people?limit=50"
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		page := decodeJSON[apiPage](t, h.api(t, "GET", path, tok, ""))
		sizes = append(sizes, len(page.People))
		for _, p := range page.People {
			seen[p.Username]++
		}
		if page.NextCursor == "" {
			break
		}
		path = "/api/v1/people?limit=50&cursor=" + page.NextCursor
	}
	if !slices.Equal(sizes, []int{50, 50, 21}) {
		t.Fatalf("got pages of %v, want [50 50 21]", sizes)
	}
	for name := range want {
		if seen[name] != 1 {
			t.Errorf("%s was listed %d times, want once", name, seen[name])
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("got %d people, want %d", len(seen), len(want))
	}

	// A page that ends exactly at the last person has no next cursor.
	if page := decodeJSON[apiPage](t, h.api(t, "GET", "/api/v1/people?q=person11&limit=10", tok, "")); len(page.People) != 10 || page.NextCursor != "" {
		t.Fatalf("got %d people and cursor %q, want 10 and none", len(page.People), page.NextCursor)
	}

	// Audit events page the other way, newest first.
	var ids []int64
	path = "/api/v1/audit?kind=user.create&limit=50"
	for path != "" {
		page := decodeJSON[apiPage](t, h.api(t, "GET", path, tok, ""))
		for _, e := range page.Events {
			ids = append(ids, e.ID)
		}
		path = ""
		if page.NextCursor != "" {
			path = "/api/v1/audit?kind=user.create&limit=50&cursor=" + page.NextCursor
		}
	}
	if len(ids) != 121 || !slices.IsSortedFunc(ids, func(a, b int64) int { return int(b - a) }) || len(slices.Compact(slices.Clone(ids))) != 121 {
		t.Fatalf("got %d audit events, want 121 distinct, newest first", len(ids))
	}
}

func TestAPIPeopleFilters(t *testing.T) {
	h := newHarness(t)
	h.mustUser(t, "bob", pw, "admin")
	tok := h.mustToken(t, "ops-dashboard", mfagate.RoleOperator)
	c := h.client(t)
	h.login(t, c, "alice")
	h.setUpTOTP(t, c)
	names := func(path string) []string {
		var out []string
		for _, p := range decodeJSON[apiPage](t, h.api(t, "GET", path, tok, "")).People {
			out = append(out, p.Username)
		}
		return out
	}
	for path, want := range map[string][]string{
		"/api/v1/people?role=admin":  {"bob"},
		"/api/v1/people?mfa=totp":    {"alice"},
		"/api/v1/people?mfa=none":    {"bob"},
		"/api/v1/people?q=ALI":       {"alice"},
		"/api/v1/people?locked=true": nil,
	} {
		if got := names(path); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", path, got, want)
		}
	}
	p := h.api(t, "GET", "/api/v1/people/Alice", tok, "")
	if p.json["username"] != "alice" || fmt.Sprint(p.json["mfa_methods"]) != "[totp]" || p.json["password_set"] != true {
		t.Fatalf("got %s", p.body)
	}
	if created, ok := p.json["created_at"].(string); !ok || !strings.HasSuffix(created, "Z") {
		t.Fatalf("created_at %v is not an RFC 3339 UTC time", p.json["created_at"])
	}
	if p.json["last_sign_in_at"] == nil {
		t.Fatal("last_sign_in_at is null after a sign-in")
	}
	if p := h.api(t, "GET", "/api/v1/people/bob", tok, ""); p.json["last_sign_in_at"] != nil {
		t.Fatalf("last_sign_in_at of someone who never signed in: got %v, want null", p.json["last_sign_in_at"])
	}
}

func TestAPICreateAndDisable(t *testing.T) {
	h := newHarness(t)
	tok := h.mustToken(t, "helpdesk-bot", mfagate.RoleSupport)
	res := h.api(t, "POST", "/api/v1/people", tok, `{"username": "Carol", "email": "carol@example.com", "name": "Carol Jones", "roles": ["user", "admin"]}`)
	if res.StatusCode != 201 || res.Header.Get("Location") != "/api/v1/people/Carol" {
		t.Fatalf("got %d %q %s, want 201 with a Location", res.StatusCode, res.Header.Get("Location"), res.body)
	}
	if res.json["password_set"] != false || fmt.Sprint(res.json["roles"]) != "[admin user]" || fmt.Sprint(res.json["mfa_methods"]) != "[]" {
		t.Fatalf("got %s", res.body)
	}
	evs := h.audit(t, mfagate.AuditFilter{Subject: "Carol", Kind: mfagate.AuditUserCreate})
	if len(evs) != 1 || evs[0].Actor != "token:helpdesk-bot" || evs[0].ClientAddr == "" {
		t.Fatalf("the creation is not audited with the token as actor: %+v", evs)
	}

	c := h.client(t)
	h.signIn(t, c, "alice", pw)
	res = h.api(t, "POST", "/api/v1/people/alice/disable", tok, `{"reason": "left the company"}`)
	if res.StatusCode != 200 || res.json["disabled"] != true {
		t.Fatalf("got %d %s", res.StatusCode, res.body)
	}
	evs = h.audit(t, mfagate.AuditFilter{Subject: "alice", Kind: mfagate.AuditUserDisable})
	if len(evs) != 1 || evs[0].Actor != "token:helpdesk-bot" || evs[0].Reason != "left the company" {
		t.Fatalf("the disabling is not audited with the token and reason: %+v", evs)
	}
	if home := h.get(t, c, "/"); home.StatusCode != http.StatusSeeOther {
		t.Fatalf("alice's session outlived the disabling: got %d", home.StatusCode)
	}
	// Again: nothing changes, and nothing more is audited.
	if res := h.api(t, "POST", "/api/v1/people/alice/disable", tok, `{"reason": "again"}`); res.StatusCode != 200 {
		t.Fatalf("disabling twice: got %d", res.StatusCode)
	}
	if evs := h.audit(t, mfagate.AuditFilter{Subject: "alice", Kind: mfagate.AuditUserDisable}); len(evs) != 1 {
		t.Fatalf("got %d disable events, want 1", len(evs))
	}
}

func TestAPIResetMFA(t *testing.T) {
	h := newHarness(t)
	tok := h.mustToken(t, "helpdesk-bot", mfagate.RoleSupport)
	c := h.client(t)
	h.login(t, c, "alice")
	secret, _ := h.setUpTOTP(t, c)

	before := h.api(t, "GET", "/api/v1/people/alice/mfa", tok, "")
	factors, _ := before.json["factors"].([]any)
	if len(factors) != 1 || before.json["recovery_codes_left"] != float64(10) {
		t.Fatalf("before: got %s", before.body)
	}
	if f := factors[0].(map[string]any); f["method"] != "totp" || f["added_at"] == nil || len(f) != 3 {
		t.Fatalf("a factor shows %v; want method, added_at and last_used_at only", f)
	}
	if strings.Contains(strings.ToLower(before.body), "secret") {
		t.Fatal("the MFA state mentions a secret")
	}

	h.clock.Advance(time.Minute)
	res := h.api(t, "POST", "/api/v1/people/alice/reset-mfa", tok, `{"reason": "lost her phone, ticket 4711"}`)
	if res.StatusCode != 200 || fmt.Sprint(res.json["mfa_methods"]) != "[]" {
		t.Fatalf("reset: got %d %s", res.StatusCode, res.body)
	}
	evs := h.audit(t, mfagate.AuditFilter{Subject: "alice", Kind: mfagate.AuditMFAReset})
	if len(evs) != 1 || evs[0].Actor != "token:helpdesk-bot" || evs[0].Reason != "lost her phone, ticket 4711" {
		t.Fatalf("the reset is not audited with the token and the reason: %+v", evs)
	}
	audit := decodeJSON[struct {
		Events []struct{ Actor, Kind, Reason string } `json:"events"`
	}](t, h.api(t, "GET", "/api/v1/audit?actor=token:helpdesk-bot&kind=mfa.reset", tok, ""))
	if len(audit.Events) != 1 || audit.Events[0].Reason != "lost her phone, ticket 4711" {
		t.Fatalf("the audit endpoint: got %+v", audit.Events)
	}
	var mails []*mfagate.Message
	h.store.View(context.Background(), func(tx mfagate.Tx) (err error) {
		mails, err = tx.Mail(0)
		return err
	})
	if len(mails) == 0 || mails[0].To != "alice@example.com" || mails[0].Subject != "Your sign-in security was reset" {
		t.Fatalf("alice was not emailed about the reset: %+v", mails)
	}
	after := h.api(t, "GET", "/api/v1/people/alice/mfa", tok, "")
	if fmt.Sprint(after.json["factors"]) != "[]" || after.json["recovery_codes_left"] != float64(0) {
		t.Fatalf("after: got %s", after.body)
	}

	// Her session ended; at the next sign-in the old app's code is no
	// use and she is sent to set up again.
	if home := h.get(t, c, "/"); home.StatusCode != http.StatusSeeOther || !strings.HasPrefix(home.Header.Get("Location"), "/login") {
		t.Fatalf("the old session still works: got %d %q", home.StatusCode, home.Header.Get("Location"))
	}
	c = h.client(t)
	res2 := h.login(t, c, "alice")
	if loc := res2.Header.Get("Location"); loc != "/mfa/setup" {
		t.Fatalf("after the password: got %q, want the setup page", loc)
	}
	h.clock.Advance(time.Minute)
	code := totp.Code(secret, totp.Step(h.clock.Now()))
	ch := h.post(t, c, "/mfa/challenge", url.Values{"method": {"totp"}, "code": {code}})
	if ch.StatusCode == http.StatusSeeOther && ch.Header.Get("Location") == "/" {
		t.Fatal("the old authenticator app still signs in")
	}
	if home := h.get(t, c, "/"); home.StatusCode != http.StatusSeeOther {
		t.Fatalf("signed in with the old factor: got %d", home.StatusCode)
	}
	if page := h.get(t, c, "/mfa/setup"); page.StatusCode != 200 {
		t.Fatalf("the setup page: got %d", page.StatusCode)
	}
}

func TestAPIRollout(t *testing.T) {
	at := time.Date(2027, 6, 20, 12, 0, 0, 0, time.UTC)
	h := newRolloutHarness(t, at, withRollout(plan(t)))
	tok := h.mustToken(t, "ops-dashboard", mfagate.RoleOperator)

	r := decodeJSON[struct {
		Timezone string
		Now      string
		Phases   []struct{ Name, Starts, Requirement string }
		Active   []string
		Next     struct{ Name, Starts string }
	}](t, h.api(t, "GET", "/api/v1/rollout", tok, ""))
	if r.Timezone != "Europe/London" || len(r.Phases) != 4 || r.Now != "2027-06-20T12:00:00Z" {
		t.Fatalf("got %+v", r)
	}
	if !slices.Equal(r.Active, []string{"Communication", "Optional enrollment"}) {
		t.Fatalf("active: got %v", r.Active)
	}
	if r.Next.Name != "Email verification required" || r.Next.Starts != "2027-07-12T23:00:00Z" {
		t.Fatalf("next: got %+v, want email verification at midnight in London", r.Next)
	}

	mfa := decodeJSON[struct {
		Now       struct{ Next, Phase string }
		NextPhase struct {
			Name, Starts string
			Required     bool
			Decision     struct {
				Next          string
				DefaultMethod string `json:"default_method"`
			}
		} `json:"next_phase"`
	}](t, h.api(t, "GET", "/api/v1/people/ada/mfa", tok, ""))
	if mfa.Now.Next != "offer_setup" || mfa.Now.Phase != "Optional enrollment" {
		t.Fatalf("now: got %+v", mfa.Now)
	}
	if mfa.NextPhase.Name != "Email verification required" || !mfa.NextPhase.Required ||
		mfa.NextPhase.Decision.Next != "require_setup" || mfa.NextPhase.Decision.DefaultMethod != "email" {
		t.Fatalf("next phase: got %+v", mfa.NextPhase)
	}

	type progress struct {
		ByRole []struct {
			Role  string
			Total int
			None  int
		} `json:"by_role"`
		Forecast struct {
			ComputedAt   string `json:"computed_at"`
			Total        int
			ForcedAtNext int                   `json:"forced_at_next"`
			NextPhase    struct{ Name string } `json:"next_phase"`
		}
	}
	p := decodeJSON[progress](t, h.api(t, "GET", "/api/v1/rollout/progress", tok, ""))
	if p.Forecast.Total != 2 || p.Forecast.ForcedAtNext != 1 || p.Forecast.NextPhase.Name != "Email verification required" {
		t.Fatalf("forecast: got %+v", p.Forecast)
	}
	if !slices.ContainsFunc(p.ByRole, func(r struct {
		Role  string
		Total int
		None  int
	}) bool {
		return r.Role == "admin" && r.Total == 1 && r.None == 1
	}) {
		t.Fatalf("by role: got %+v", p.ByRole)
	}
	// A new admin: the counts and the forecast change at once.
	h.mustUser(t, "grace", pw, "admin")
	h.clock.Advance(30 * time.Second)
	again := decodeJSON[progress](t, h.api(t, "GET", "/api/v1/rollout/progress", tok, ""))
	if again.Forecast.ComputedAt == p.Forecast.ComputedAt || again.Forecast.ForcedAtNext != 2 {
		t.Fatalf("the forecast 30 s later: %+v, want one made then, with grace forced at the next phase", again.Forecast)
	}
}

func TestAPIRefusesBrowserCrossOriginCallsInJSON(t *testing.T) {
	h := newHarness(t)
	req, _ := http.NewRequest("POST", h.ts.URL+"/api/v1/people", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	res := do(t, h.client(t), req)
	if res.StatusCode != http.StatusForbidden || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") ||
		!strings.Contains(strings.ReplaceAll(res.body, " ", ""), `"code":"forbidden"`) {
		t.Fatalf("got %d %s %s, want a JSON 403", res.StatusCode, res.Header.Get("Content-Type"), res.body)
	}
}

// TestAPISetRoles: support changes a person's roles through the API; the
// reply has them, the change is audited with the roles before and after,
// and forward-auth answers the person's next request with the new roles
// in Remote-Groups, though their session was checked a moment before.
func TestAPISetRoles(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.signIn(t, c, "alice", pw)
	if res := h.verify(t, c, ""); res.StatusCode != 200 || res.Header.Get("Remote-Groups") != "user" {
		t.Fatalf("before: %d, Remote-Groups %q", res.StatusCode, res.Header.Get("Remote-Groups"))
	}
	tok := h.mustToken(t, "helpdesk-bot", mfagate.RoleSupport)
	res := h.api(t, "POST", "/api/v1/people/alice/roles", tok, `{"roles": ["admin", "user"], "reason": "joins the admins"}`)
	var reply struct {
		Roles []string `json:"roles"`
	}
	if err := json.Unmarshal([]byte(res.body), &reply); res.StatusCode != 200 || err != nil || !slices.Equal(reply.Roles, []string{"admin", "user"}) {
		t.Fatalf("set roles: %d %s", res.StatusCode, res.body)
	}
	evs := h.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditRolesChange, Subject: "alice"})
	if len(evs) != 1 || evs[0].Actor != "token:helpdesk-bot" || evs[0].Reason != "joins the admins" || evs[0].Detail != "roles user → admin, user" {
		t.Fatalf("audit: %+v", evs)
	}
	if res := h.verify(t, c, ""); res.StatusCode != 200 || res.Header.Get("Remote-Groups") != "admin,user" {
		t.Fatalf("forward-auth after the change: %d, Remote-Groups %q, want admin,user", res.StatusCode, res.Header.Get("Remote-Groups"))
	}
}

// TestAPIForecastList: the forecast list names the admins forced on 13
// July (a date, midnight in the rollout's zone), pages with a cursor, and
// refuses a time it cannot read, a format it does not write and an
// unknown parameter, each with 400 and a sentence.
func TestAPIForecastList(t *testing.T) {
	h := newRolloutHarness(t, time.Date(2027, 6, 20, 9, 0, 0, 0, time.UTC), withRollout(plan(t)))
	h.mustUser(t, "grace", pw, "admin")
	tok := h.mustToken(t, "bot", "support")
	type page struct {
		People []struct {
			Username, Decision, Why string
			Deadline                *string
		}
		NextCursor string `json:"next_cursor"`
	}
	first := decodeJSON[page](t, h.api(t, "GET", "/api/v1/rollout/forecast?at=2027-07-13&limit=1", tok, ""))
	if len(first.People) != 1 || first.NextCursor == "" || first.People[0].Decision != "require_enrollment" {
		t.Fatalf("first page: %+v", first)
	}
	second := decodeJSON[page](t, h.api(t, "GET", "/api/v1/rollout/forecast?at=2027-07-13&limit=1&cursor="+first.NextCursor, tok, ""))
	if len(second.People) != 1 || second.People[0].Username == first.People[0].Username {
		t.Fatalf("second page: %+v after %+v", second, first)
	}
	// The day before, the admins are only offered setup, until 13 July.
	before := decodeJSON[page](t, h.api(t, "GET", "/api/v1/rollout/forecast?at=2027-07-12", tok, ""))
	for _, p := range before.People {
		if p.Decision != "offer_enrollment" || p.Deadline == nil || *p.Deadline != "2027-07-12T23:00:00Z" {
			t.Errorf("12 July: %+v, want offered until midnight in London", p)
		}
	}
	req, _ := http.NewRequest("GET", h.ts.URL+"/api/v1/rollout/forecast?at=2027-07-13&format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	csv := do(t, h.ts.Client(), req)
	if csv.StatusCode != 200 || !strings.HasPrefix(csv.body, "username,email,roles,decision,") || !strings.Contains(csv.body, "grace,") ||
		!strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %s\n%s", csv.StatusCode, csv.Header.Get("Content-Type"), csv.body)
	}
	for _, q := range []string{"at=next+week", "at=2027-07-13&format=xml", "at=2027-07-13&who=admins", "limit=0"} {
		if r := h.api(t, "GET", "/api/v1/rollout/forecast?"+q, tok, ""); r.StatusCode != 400 || r.json["code"] != "invalid" {
			t.Errorf("%s: got %d %s, want 400 invalid", q, r.StatusCode, r.body)
		}
	}
}
