package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/web/internal/site"
)

// The JSON API (/api/v1) for programs acting for operators and support:
// bearer tokens made with "mfagate token create", JSON in and out, errors
// as {"error": "...", "code": "..."}. docs/api.md is the guide and
// openapi.json the contract; the routes and the roles each allows are in
// web/routes.go.
//
// Browsers' cross-site request forgery does not apply: a token is sent by
// the program in a header, never by a browser on its own as a cookie is.
// The server's cross-origin protection still wraps the API; it lets
// through requests without Origin or Sec-Fetch-Site headers (programs)
// and refuses cross-origin writes from browsers, and no CORS headers are
// sent, so browsers on other sites cannot read replies either.

// Roles of the tokens a route accepts, for routes.go's table.
var (
	Staff   = []string{mfagate.RoleOperator, mfagate.RoleSupport} // reads
	Support = []string{mfagate.RoleSupport}                       // changes to people
)

// maxAPIBody bounds request bodies; every request we take is far smaller.
const maxAPIBody = 64 << 10

// Func is an API handler: the shape of site.HandlerFunc, with the token
// that WithToken checked. It writes its reply or returns an error, which
// site.Error turns into the JSON error reply.
type Func func(w http.ResponseWriter, r *http.Request, tok *mfagate.Token) error

// WithToken authenticates the bearer token, checks that its role is one
// of roles, and runs fn.
func WithToken(d Deps, roles []string, fn Func) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tok, err := token(d.Accounts, r)
		if err != nil {
			return err
		}
		if !slices.Contains(roles, tok.Role) {
			return mfagate.Errorf(mfagate.EFORBIDDEN, "A %s token cannot do this: it needs a token with the role %s",
				tok.Role, strings.Join(roles, " or "))
		}
		return fn(w, r, tok)
	}
}

// token returns the valid token the request carries.
func token(accounts *account.Service, r *http.Request) (*mfagate.Token, error) {
	plain, err := bearerToken(r.Header.Get("Authorization"))
	if err != nil {
		return nil, err
	}
	return accounts.AuthenticateToken(r.Context(), plain)
}

// bearerToken reads the token of an Authorization header's value,
// "Bearer TOKEN" (the scheme in any case); whether it is a token is for
// AuthenticateToken to say.
func bearerToken(h string) (string, error) {
	if h == "" {
		return "", mfagate.Errorf(mfagate.EUNAUTHORIZED,
			"Send an API token in the Authorization header, as in \"Authorization: Bearer mfag_...\"; make one with \"mfagate token create\"")
	}
	scheme, plain, ok := strings.Cut(h, " ")
	if plain = strings.TrimSpace(plain); !ok || !strings.EqualFold(scheme, "Bearer") || plain == "" {
		return "", mfagate.Errorf(mfagate.EUNAUTHORIZED,
			"The Authorization header must be \"Bearer\" followed by an API token")
	}
	return plain, nil
}

// actorOf is who the token acts as: "token:NAME", in the audit log and
// in the emails people receive.
func actorOf(st *site.Site, r *http.Request, tok *mfagate.Token) account.Actor {
	return account.Actor{Name: "token:" + tok.Name, ClientAddr: st.ClientAddr(r), UserAgent: r.UserAgent()}
}

// Fallback serves api, the API's own mux, and answers what its routes do
// not match: 405, with Allow, for a path that exists under another
// method, and 404 otherwise, both as JSON.
func Fallback(api *http.ServeMux) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, pattern := api.Handler(r); pattern != "" {
			api.ServeHTTP(w, r)
			return nil
		}
		// The mux knows whether another method would match; ask it
		// without letting it write its plain-text reply.
		probe := &probeWriter{header: http.Header{}}
		api.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			allow := probe.header.Get("Allow")
			w.Header().Set("Allow", allow)
			return &site.HTTPError{Status: http.StatusMethodNotAllowed, Code: site.CodeMethod,
				Message: fmt.Sprintf("%s is not allowed here; use %s", r.Method, allow)}
		}
		return mfagate.Errorf(mfagate.ENOTFOUND,
			"There is no API endpoint at %s; GET /api/v1/openapi.json lists them", site.CleanPath(r.URL.Path))
	}
}

// probeWriter keeps the status and headers a handler writes, and drops
// the body.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header         { return p.header }
func (p *probeWriter) Write(b []byte) (int, error) { return len(b), nil }
func (p *probeWriter) WriteHeader(status int)      { p.status = status }

// query reads a request's query string, refusing parameters the endpoint
// does not take, so a misspelt filter is not silently ignored.
type query struct {
	vals url.Values
}

func readQuery(r *http.Request, allowed ...string) (query, error) {
	// Not r.URL.Query(), which drops what it cannot read: "limit=5;x=1"
	// would silently be no limit at all.
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		if strings.Contains(r.URL.RawQuery, ";") {
			return query{}, mfagate.Errorf(mfagate.EINVALID, "The query string holds a \";\": separate parameters with \"&\", and write a \";\" in a value as %%3B")
		}
		return query{}, mfagate.Errorf(mfagate.EINVALID, "The query string cannot be read: %s", strings.TrimPrefix(err.Error(), "invalid "))
	}
	for k, v := range vals {
		if !slices.Contains(allowed, k) {
			return query{}, mfagate.Errorf(mfagate.EINVALID, "Unknown parameter %q: this endpoint takes %s", site.Clip(k), strings.Join(allowed, ", "))
		}
		if len(v) > 1 {
			return query{}, mfagate.Errorf(mfagate.EINVALID, "Give parameter %q once", k)
		}
	}
	return query{vals}, nil
}

func (q query) get(name string) string {
	if v := q.vals[name]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// API paging: limit defaults to 50, at most 500.
const (
	defaultLimit = 50
	maxLimit     = 500
)

func (q query) limit() (int, error) {
	s := q.get("limit")
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, mfagate.Errorf(mfagate.EINVALID, "limit must be a whole number from 1 to %d", maxLimit)
	}
	return n, nil
}

// A cursor is the last ID of a page, base64-encoded so that clients treat
// it as opaque.
func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

func (q query) cursor() (int64, error) {
	s := q.get("cursor")
	if s == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	id, err2 := strconv.ParseInt(string(b), 10, 64)
	// Only the spelling this API writes: "MDQy" ("042") and "KzQy" ("+42")
	// would be 42 too, so one page would have many names.
	if err != nil || err2 != nil || id < 1 || encodeCursor(id) != s {
		return 0, mfagate.Errorf(mfagate.EINVALID, "cursor is not one this API gave: pass next_cursor from the previous page as it is")
	}
	return id, nil
}

// time reads an RFC 3339 time parameter; zero when absent. Times before
// 1970 are refused: none can matter here, and 0001-01-01T00:00:00Z is
// the zero time, which would read as absent (until it, everything).
func (q query) time(name string) (time.Time, error) {
	s := q.get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.UTC().Year() < 1970 {
		return time.Time{}, mfagate.Errorf(mfagate.EINVALID, "%s must be an RFC 3339 time from 1970 on, such as 2027-07-13T00:00:00Z", name)
	}
	return t.UTC(), nil
}

// apiTime writes a time as RFC 3339 in UTC; a zero time is null.
func apiTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

// checkReason checks a staff action's reason before anything is changed.
func checkReason(reason string) error {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return mfagate.Errorf(mfagate.EINVALID, "Give a \"reason\"; it is kept in the audit log")
	case len(reason) > 500:
		return mfagate.Errorf(mfagate.EINVALID, "Keep the reason to 500 characters or fewer")
	}
	return nil
}
