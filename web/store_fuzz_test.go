package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
)

// FuzzEdgeToStore pushes fuzzed text through the real handler over a real
// SQLite store: as a sign-in's username and password, a console search,
// a person's name in the path and in a new account, an audit subject,
// and a raw API body. Every answer must be one of ours (a page or the
// JSON error with the security headers), never a 500; and what the edge
// lets through, the store must keep: an audit event or an account name
// written with the text reads back unchanged, directly and through the
// API, and a search for the name finds the account. So "the edge lets it
// through but the store refuses or mangles it" is found here.
//
// The server, a signed-in operator and an API token are made once per
// process, not per input, so that each input costs a few requests.
func FuzzEdgeToStore(f *testing.F) {
	h := newHarness(f)
	staff := h.staff(f, "bea", "operator", "support")
	cookie := h.sessionCookie(staff)
	token := h.mustToken(f, "fuzz-bot", mfagate.RoleSupport)
	handler := h.ts.Config.Handler
	for _, s := range []struct {
		text string
		body string
	}{
		{"ada", `{"username": "ada", "email": "ada@example.com", "name": "Ada", "roles": ["user"]}`},
		{"Zoë Ñúñez 日本 😀", `{"username": "zoe", "email": "zoë@example.com", "roles": ["user"]}`},
		{"100%_\\ off", `{"username": "x", "email": "x@example.com", "roles": ["user"], "username": "y"}`},
		{"  padded  ", `{"username": "a\u0000", "email": "a@example.com", "roles": ["user"]}`},
		{"two\nlines\ttab", "{\"username\": \"\xff\", \"email\": \"a@example.com\", \"roles\": [\"user\"]}"},
		{"a\x00b", `{"username": "ops", "email": "ops@example.com", "roles": ["operator"]}`},
		{"\xff\xfe", `null`},
		{"\u2028\u00a0\ufeff", `[]`},
		{"'; DROP TABLE users; --", `{"roles": ["user", "USER", " user "], "username": "r", "email": "r@example.com"}`},
		{"ALICE", `{"username": "Alice", "email": "alice2@example.com", "roles": ["user"]}`},
		{"a/b/../c%2F", `{"username": "a.b", "email": "a.b@example.com", "name": "` + strings.Repeat("é", 101) + `", "roles": ["user"]}`},
		{"İı ß ẞ ﬁ", `{"username": "kelvin", "email": "k@example.com", "name": "\u212a", "roles": ["user"]}`},
	} {
		f.Add(s.text, []byte(s.body))
	}
	var n atomic.Int64 // names the accounts each input creates
	f.Fuzz(func(t *testing.T, text string, body []byte) {
		send := func(method, target string, body io.Reader, header ...string) *httptest.ResponseRecorder {
			t.Helper()
			req, err := http.NewRequest(method, h.ts.URL+target, body)
			if err != nil {
				t.Fatalf("%s %s: %v", method, target, err)
			}
			req.RemoteAddr, req.RequestURI = "192.0.2.1:40000", req.URL.RequestURI()
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, req)
			wantOurs(t, method, target, w)
			return w
		}
		api := func(method, target string, body []byte) (int, map[string]any) {
			t.Helper()
			w := send(method, target, bytes.NewReader(body), "Authorization", "Bearer "+token, "Content-Type", "application/json")
			var v map[string]any
			if w.Code == http.StatusMovedPermanently || w.Code == http.StatusTemporaryRedirect {
				return w.Code, nil // to the clean path: wantOurs checked where
			}
			if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
				t.Fatalf("%s %s: got %d with a body that is not a JSON object: %v\n%.300s", method, target, w.Code, err, w.Body)
			}
			return w.Code, v
		}
		line, field := cleanLine(text), cleanField(text)
		trimmed := strings.TrimSpace(text)

		// Signing in. (Never as bea: locking her out would end the run.)
		if mfagate.UsernameKey(trimmed) != "bea" {
			form := url.Values{"username": {text}, "password": {text}}.Encode()
			w := send("POST", "/login", strings.NewReader(form), "Content-Type", "application/x-www-form-urlencoded")
			if !field && w.Code != http.StatusBadRequest {
				t.Fatalf("POST /login with %q: got %d, want the edge's 400", text, w.Code)
			}
		}

		// The console's search.
		w := send("GET", "/admin/people?q="+url.QueryEscape(text), nil, "Cookie", cookie.Name+"="+cookie.Value)
		if !line && w.Code != http.StatusBadRequest {
			t.Fatalf("GET /admin/people?q=%q: got %d, want the edge's 400", text, w.Code)
		}

		// A person by name, in the path.
		switch code, _ := api("GET", "/api/v1/people/"+url.PathEscape(text), nil); code {
		case 200, 400, 404, http.StatusMovedPermanently, http.StatusTemporaryRedirect:
		default:
			t.Fatalf("GET /api/v1/people/%q: got %d, want 200, 400, 404 or a redirect to the clean path", text, code)
		}

		// An audit event with the text in every field, read back from the
		// store and, where a query can say it, through the API.
		if field {
			e := &mfagate.AuditEvent{Kind: "fuzz", Outcome: mfagate.OutcomeSuccess, Actor: text, Subject: text,
				ClientAddr: "192.0.2.1", Reason: text, Detail: text, At: h.clock.Now()}
			if err := h.store.Update(context.Background(), func(tx mfagate.Tx) error { return tx.AppendAudit(e) }); err != nil {
				t.Fatalf("AppendAudit with %q: %v", text, err)
			}
			got := h.audit(t, mfagate.AuditFilter{Subject: text, Actor: text, Limit: 1})
			if len(got) != 1 || *got[0] != *e {
				t.Fatalf("AuditEvents for %q: got %+v, want %+v", text, got, e)
			}
		}
		code, reply := api("GET", "/api/v1/audit?limit=1&subject="+url.QueryEscape(text), nil)
		switch {
		case !line && code != http.StatusBadRequest:
			t.Fatalf("GET /api/v1/audit?subject=%q: got %d, want the edge's 400", text, code)
		case line && trimmed == text && text != "":
			evs, _ := reply["events"].([]any)
			if code != 200 || len(evs) != 1 {
				t.Fatalf("GET /api/v1/audit?subject=%q: got %d %v, want the event just written", text, code, reply)
			}
			ev := evs[0].(map[string]any)
			for _, k := range []string{"subject", "actor", "reason", "detail"} {
				if ev[k] != text {
					t.Fatalf("GET /api/v1/audit?subject=%q: got %s %q, want the text as written", text, k, ev[k])
				}
			}
		}

		// A new account named with the text, read back and searched for.
		username := fmt.Sprintf("p%d-%d", n.Add(1), len(text))
		person := fmt.Sprintf(`{"username": %q, "email": "%s@example.com", "name": "%s", "roles": ["user"]}`, username, username, jsonRaw(text))
		code, reply = api("POST", "/api/v1/people", []byte(person))
		switch {
		case code == http.StatusCreated:
			if want := cmpOr(trimmed, username); !field || reply["name"] != want {
				t.Fatalf("POST /api/v1/people with name %q: got name %q, want %q", text, reply["name"], want)
			}
			if code, back := api("GET", "/api/v1/people/"+username, nil); code != 200 || back["name"] != reply["name"] {
				t.Fatalf("GET the account named %q: got %d %v, want name %q", text, code, back, reply["name"])
			}
			if trimmed != "" {
				u, err := h.accounts.User(context.Background(), username)
				if err != nil {
					t.Fatal(err)
				}
				// The page from just before the account: it must come first.
				cursor := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(u.ID-1, 10)))
				code, found := api("GET", "/api/v1/people?limit=1&cursor="+cursor+"&q="+url.QueryEscape(trimmed), nil)
				people, _ := found["people"].([]any)
				if code != 200 || len(people) != 1 || people[0].(map[string]any)["username"] != username {
					t.Fatalf("GET /api/v1/people?q=%q: got %d %v, want %s, named so", trimmed, code, found, username)
				}
			}
		case code == http.StatusBadRequest:
		case code == http.StatusConflict: // an earlier raw body took the username
		default:
			t.Fatalf("POST /api/v1/people with name %q: got %d %v, want 201, 400 or 409", text, code, reply)
		}

		// A raw body, as a program might send it.
		code, reply = api("POST", "/api/v1/people", body)
		switch code {
		case http.StatusCreated:
			name, _ := reply["username"].(string)
			if code, back := api("GET", "/api/v1/people/"+url.PathEscape(name), nil); code != 200 || fmt.Sprint(back) != fmt.Sprint(reply) {
				t.Fatalf("GET the account made from %q: got %d %v, want %v", body, code, back, reply)
			}
		case http.StatusBadRequest, http.StatusForbidden, http.StatusConflict, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("POST /api/v1/people with %q: got %d %v", body, code, reply)
		}
	})
}

// wantOurs fails t unless w is one of mfagate's answers: no 500, the
// security headers, and a page, the JSON error or a redirect here.
func wantOurs(t *testing.T, method, target string, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("%s %.200s: got %d:\n%.600s", method, target, w.Code, w.Body)
	}
	if w.Header().Get("Content-Security-Policy") == "" || w.Header().Get("X-Frame-Options") != "DENY" {
		t.Fatalf("%s %.200s: got %d without the security headers", method, target, w.Code)
	}
	switch ct := w.Header().Get("Content-Type"); {
	case w.Code == http.StatusSeeOther || w.Code == http.StatusFound:
	case w.Code == http.StatusMovedPermanently || w.Code == http.StatusTemporaryRedirect:
		// net/http's ServeMux sends a path with dot segments or repeated
		// slashes to its clean form, API paths too (/api/v1/people/.).
		if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
			t.Fatalf("%s %.200s: got %d to %q, want a path on this site", method, target, w.Code, loc)
		}
	case ct == "application/json":
	case strings.HasPrefix(ct, "text/html") && strings.Contains(w.Body.String(), "</html>"):
	default:
		t.Fatalf("%s %.200s: got %d %q:\n%.300s", method, target, w.Code, ct, w.Body)
	}
}

// cleanLine and cleanField are what the edge lets through in a query
// and in a form or JSON string (web's cleanText, which tests outside the
// package cannot call).
func cleanLine(s string) bool { return clean(s, "") }

func cleanField(s string) bool { return clean(s, "\t\n\r") }

func clean(s, allowed string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if (r < 0x20 || r == 0x7f) && !strings.ContainsRune(allowed, r) {
			return false
		}
	}
	return true
}

// jsonRaw writes s as the inside of a JSON string with its bytes as they
// are, escaping only what JSON requires, so that bytes json.Marshal would
// replace (invalid UTF-8) reach the server.
func jsonRaw(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
