package api

import (
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/web/internal/site"
)

// FuzzBearerToken: an Authorization header gives a token only as
// "Bearer TOKEN" (the scheme in any case, spaces around the token
// dropped), and is otherwise refused as unauthorized. Whether the token
// is one is for account.AuthenticateToken, fuzzed in package account.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{
		"Bearer mfag_" + strings.Repeat("A", 43), "bearer  x ", "BEARER\tx", "Basic YWxhZGRpbjpvcGVu",
		"Bearer", "Bearer ", "Bearer x y", " Bearer x", "Bearerx", "Bearer \u00a0x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, err := bearerToken(h)
		if err != nil {
			if tok != "" || mfagate.ErrorCode(err) != mfagate.EUNAUTHORIZED {
				t.Fatalf("bearerToken(%q) = %q, %v; want no token and an unauthorized error", h, tok, err)
			}
			return
		}
		scheme, rest, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "bearer") || tok == "" || tok != strings.TrimSpace(tok) || !strings.Contains(rest, tok) {
			t.Fatalf("bearerToken(%q) = %q, want the trimmed text after \"Bearer \"", h, tok)
		}
	})
}

// FuzzAPIQuery: for any query string the edge check lets through, the
// API's query helpers either refuse it as invalid or return what it
// says: no parameter dropped or unknown or given twice, a limit in
// range, a cursor this API would have written, an RFC 3339 time that
// reads back as itself.
func FuzzAPIQuery(f *testing.F) {
	for _, s := range []string{
		"", "q=ada&limit=10", "limit=0", "limit=501", "limit=+5", "limit=%205%20", "q=a&q=b", "Q=a", "x=1",
		"cursor=" + encodeCursor(42), "cursor=NDI=", "cursor=-1",
		"since=2027-07-13T00:00:00Z", "since=2027-07-13T00:00:00%2B01:00", "since=2027-07-13", "since=0000-01-01T00:00:00Z",
		"since=2027-07-13T24:00:00Z", "&&q", "q",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if strings.ContainsAny(raw, "#") {
			return // a fragment never reaches the server
		}
		u := &url.URL{Path: "/api/v1/people", RawQuery: raw}
		if site.CheckURL(u, true) != nil {
			return
		}
		r := httptest.NewRequest("GET", "/api/v1/people", nil)
		r.URL = u
		wantInvalid := func(what string, err error) {
			t.Helper()
			if mfagate.ErrorCode(err) != mfagate.EINVALID {
				t.Fatalf("%s of %q: got %v, want an invalid error", what, raw, err)
			}
		}
		q, err := readQuery(r, "q", "limit", "cursor", "since")
		if err != nil {
			wantInvalid("readQuery", err)
			return
		}
		vals, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatalf("readQuery accepted %q, which does not parse: %v", raw, err)
		}
		for k, vs := range vals {
			if (k != "q" && k != "limit" && k != "cursor" && k != "since") || len(vs) > 1 {
				t.Fatalf("readQuery accepted %q, with %q given %d times", raw, k, len(vs))
			}
		}
		if n, err := q.limit(); err != nil {
			wantInvalid("limit", err)
		} else if s := strings.TrimSpace(vals.Get("limit")); n < 1 || n > maxLimit || (s != "" && strconv.Itoa(n) != strings.TrimLeft(strings.TrimPrefix(s, "+"), "0")) {
			t.Fatalf("limit of %q: got %d", raw, n)
		}
		if id, err := q.cursor(); err != nil {
			wantInvalid("cursor", err)
		} else if s := strings.TrimSpace(vals.Get("cursor")); (s == "") != (id == 0) || (s != "" && encodeCursor(id) != s) {
			t.Fatalf("cursor of %q: got %d, which this API writes as %q", raw, id, encodeCursor(id))
		}
		if at, err := q.time("since"); err != nil {
			wantInvalid("time", err)
		} else if s := strings.TrimSpace(vals.Get("since")); s != "" {
			back, err := time.Parse(time.RFC3339, at.Format(time.RFC3339Nano))
			if at.Location() != time.UTC || err != nil || !back.Equal(at) || at.IsZero() {
				t.Fatalf("time of %q: got %v, which does not read back (%v)", raw, at, err)
			}
		}
	})
}
