package web

import (
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/web/internal/site"
)

// Forward-auth: the endpoint a reverse proxy (nginx auth_request, Traefik
// forwardAuth, Caddy forward_auth) calls before every request to a
// protected application. It is the hot path of the whole service, so it
// answers signed-in sessions from account.CheckSession's memory, never
// hashes a password, never writes per request, and leaves no trace of
// anonymous requests (no session, no cache entry, no log line above debug).

// routeVerify is the forward-auth route's pattern, known to the
// middleware so that its refusals are logged at debug level only.
const (
	routeVerify = "GET " + pathVerify
	pathVerify  = "/auth/verify"
)

// RoleAll in a forward-auth rule lets every signed-in person through.
const RoleAll = "all"

// ForwardAuthRule says which roles may reach a host and path. The first
// rule that matches a request decides; when none does, every signed-in
// person passes.
type ForwardAuthRule struct {
	// Host is a host name without a port ("app.example.com"), a wildcard
	// for the hosts under a domain ("*.example.com", not example.com
	// itself), or "*" for any host.
	Host string
	// Path is a path prefix matched segment by segment: "/admin" matches
	// /admin and /admin/x, not /administrator. Empty means "/".
	Path string
	// Roles may pass; RoleAll (or none listed) means every signed-in person.
	Roles []string
}

// accessRules are the forward-auth rules, normalised once at start-up.
type accessRules []ForwardAuthRule

func newAccessRules(in []ForwardAuthRule) accessRules {
	out := make(accessRules, 0, len(in))
	for _, r := range in {
		r.Host = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(r.Host)), ".") // as hosts are compared
		if r.Path == "" {
			r.Path = "/"
		}
		if len(r.Roles) == 0 || slices.Contains(r.Roles, RoleAll) {
			r.Roles = nil // nil: anyone signed in
		}
		out = append(out, r)
	}
	return out
}

// allows reports whether someone with roles may open orig, the URL
// originalURL gave: nil when the proxy did not say (or was not trusted
// to say) which URL is being opened, which with rules in force is
// refused, since no rule can be chosen.
//
// Applications do not all read a URL alike, and a rule must hold however
// the protected one reads it. So the rules are applied to each reading
// below, and the request passes only if every reading does:
//   - the host without a trailing dot: DNS, and so the proxy, takes
//     "app.example.com." for app.example.com;
//   - the decoded path with dot segments resolved and repeated slashes
//     merged, as most applications serve it (/public/../admin is /admin),
//     and as it came, as a router matching prefixes sees it
//     (/admin/../public is under /admin there);
//   - with ";parameters" dropped from each segment, as Java servlet
//     containers do (/admin;x is /admin there), and with dots and spaces
//     at the ends of segments dropped, as Windows does (/admin. is /admin);
//   - each of these without regard to ASCII case, as case-insensitive
//     routers and file systems read it (/ADMIN is /admin there), and,
//     for a path beyond ASCII, with Unicode's case folded too.
//
// A path that reads the same every way, as nearly all do, costs two
// passes over the rules and no allocation.
func (rs accessRules) allows(orig *url.URL, roles []string) bool {
	return rs.allowsReadings(orig, roles, true)
}

// allowsReadings is allows; foldUnicode says whether to try the Unicode
// folding too (once: a folded path is not folded again).
func (rs accessRules) allowsReadings(orig *url.URL, roles []string, foldUnicode bool) bool {
	if len(rs) == 0 {
		return true
	}
	if orig == nil {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(orig.Hostname()), ".")
	p := orig.Path
	if p == "" {
		p = "/"
	}
	ok := rs.allowsPath(host, p, roles)
	if clean := path.Clean(p); clean != p {
		ok = ok && rs.allowsPath(host, clean, roles)
	}
	if trimmableEnds(p) {
		ok = ok && rs.allowsPath(host, path.Clean(trimEnds(p)), roles)
	}
	if strings.Contains(p, ";") {
		dp := dropParams(p)
		ok = ok && rs.allowsPath(host, path.Clean(dp), roles)
		if trimmableEnds(dp) {
			ok = ok && rs.allowsPath(host, path.Clean(trimEnds(dp)), roles)
		}
	}
	// Beyond ASCII, applications that ignore case with Unicode rules
	// (Go's EqualFold, Java's equalsIgnoreCase) read "ſecret" as secret,
	// "Keys" (the Kelvin sign) as keys and "admın" as admin: every
	// reading again, folded so.
	if ok && foldUnicode && !isASCII(p) {
		if folded := strings.ToLower(strings.ToUpper(p)); folded != p {
			u := *orig
			u.Path = folded
			ok = rs.allowsReadings(&u, roles, false)
		}
	}
	return ok
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// allowsPath applies the rules to one reading of the path, as it is and
// without regard to case.
func (rs accessRules) allowsPath(host, p string, roles []string) bool {
	return rs.first(host, p, false, roles) && rs.first(host, p, true, roles)
}

// first lets the first rule that matches decide.
func (rs accessRules) first(host, p string, fold bool, roles []string) bool {
	for _, r := range rs {
		if !hostMatches(r.Host, host) || !pathMatches(r.Path, p, fold) {
			continue
		}
		if r.Roles == nil {
			return true
		}
		for _, have := range roles {
			if slices.Contains(r.Roles, have) {
				return true
			}
		}
		return false
	}
	return true
}

func hostMatches(pattern, host string) bool {
	switch {
	case pattern == "*":
		return true
	case strings.HasPrefix(pattern, "*."):
		return strings.HasSuffix(host, pattern[1:])
	default:
		return pattern == host
	}
}

// pathMatches reports whether p is prefix or under it, segment by
// segment; with fold, ASCII letters match in either case.
func pathMatches(prefix, p string, fold bool) bool {
	if prefix == "/" {
		return true
	}
	if len(p) < len(prefix) {
		return false
	}
	if head := p[:len(prefix)]; head != prefix && (!fold || !equalFoldASCII(head, prefix)) {
		return false
	}
	return len(p) == len(prefix) || strings.HasSuffix(prefix, "/") || p[len(prefix)] == '/'
}

// equalFoldASCII is strings.EqualFold for ASCII letters only, for a and
// b of equal length.
func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// dropParams drops ";parameters" from each segment of p.
func dropParams(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i], _, _ = strings.Cut(s, ";")
	}
	return strings.Join(segs, "/")
}

// trimmableEnds reports whether a segment of p ends in a dot or a space.
func trimmableEnds(p string) bool {
	for i := 0; i < len(p); i++ {
		if (p[i] == '.' || p[i] == ' ') && (i+1 == len(p) || p[i+1] == '/') {
			return true
		}
	}
	return false
}

// trimEnds drops the dots and spaces at the end of each segment of p, as
// Windows does with names. A segment of dots and spaces only becomes
// "..", the reading that goes furthest.
func trimEnds(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if s == "" || s == "." || s == ".." {
			continue // path.Clean deals with these
		}
		if segs[i] = strings.TrimRight(s, ". "); segs[i] == "" {
			segs[i] = ".."
		}
	}
	return strings.Join(segs, "/")
}

// handleVerify is GET /auth/verify. A fully signed-in session gets 200
// with the person's Remote-* headers, or 403 when the access rules keep
// them out. Anyone else gets 401, or, when the proxy asks for a redirect
// (rd or redirect=true) and says which trusted URL was opened, a 302 to
// the sign-in page that returns them there.
func handleVerify(st *site.Site, accounts *account.Service, forwardAuth []ForwardAuthRule, m *metrics) site.HandlerFunc {
	rules := newAccessRules(forwardAuth)
	login := strings.TrimSuffix(st.BaseURL().String(), "/") + "/login?rd="
	return func(w http.ResponseWriter, r *http.Request) error {
		h := w.Header()
		h["Cache-Control"] = noStore
		var cur *account.Checked
		if tok := st.Cookie.Token(r); tok != "" {
			var err error
			cur, err = accounts.CheckSession(r.Context(), tok)
			if err != nil && mfagate.ErrorCode(err) != mfagate.EUNAUTHORIZED {
				m.decided(verifyError)
				return err
			}
		}
		if cur == nil || !cur.Full {
			if wantsRedirect(r) {
				orig, err := originalURL(st, r)
				if err != nil { // the answer reaches the browser: say why
					m.decided(verifyBadRequest)
					return err
				}
				if orig != nil && st.Redirectable(orig) {
					if back := orig.String(); len(back) <= site.MaxRedirectBytes {
						m.decided(verifySignInNeeded)
						h["Location"] = []string{login + url.QueryEscape(back)}
						w.WriteHeader(http.StatusFound)
						return nil
					}
				}
			}
			m.decided(verifySignInNeeded)
			w.WriteHeader(http.StatusUnauthorized)
			return nil
		}
		if len(rules) > 0 {
			orig, err := originalURL(st, r)
			if err != nil && wantsRedirect(r) {
				m.decided(verifyBadRequest)
				return err
			}
			if !rules.allows(orig, cur.Roles) {
				m.decided(verifyForbidden)
				w.WriteHeader(http.StatusForbidden)
				return nil
			}
		}
		// One backing array for the four values; each slice is capped at
		// one element, so appending to a header copies instead of
		// overwriting its neighbour.
		v := []string{headerValue(cur.Username), headerValue(cur.Name), headerValue(cur.Email), headerValue(cur.Groups)}
		h["Remote-User"], h["Remote-Name"], h["Remote-Email"], h["Remote-Groups"] = v[0:1:1], v[1:2:2], v[2:3:3], v[3:4:4]
		m.decided(verifyAllowed)
		w.WriteHeader(http.StatusOK)
		return nil
	}
}

// noStore keeps proxies and browsers from caching an answer about a session.
var noStore = []string{"no-store"}

// wantsRedirect reports whether the proxy asked for a redirect instead of
// 401: Traefik and Caddy pass the answer to the browser, nginx cannot.
func wantsRedirect(r *http.Request) bool {
	if r.URL.RawQuery == "" {
		return false
	}
	v := r.URL.Query()
	return v.Has("rd") || v.Get("redirect") == "true"
}

// originalURL is the URL the browser opened at the proxy, from
// X-Original-URL or X-Forwarded-Proto, -Host and -Uri. These headers are
// believed only from a trusted proxy; from anyone else they are ignored,
// as if absent (nil, nil). So is a URL that parses but is nowhere people
// are sent or rules apply: another scheme, a user name, an odd host.
//
// A URL that cannot be checked is an error: one that does not parse,
// holds a raw space or backslash, or whose host or decoded path holds
// NUL, a control character, a backslash or invalid UTF-8. The path
// matters for the access rules: "/admin%00", "/adm%FFin" or
// "/x%5C..%5Cadmin" match no "/admin" rule here, yet an application that
// stops at NUL, drops bad bytes or takes a backslash for a slash would
// serve /admin.
// The caller answers 400 where the answer reaches the browser (the proxy
// asked for a redirect) and otherwise treats the URL as unknown (401, or
// 403 under rules): nginx's auth_request turns any other answer into a
// 500 of its own.
func originalURL(st *site.Site, r *http.Request) (*url.URL, error) {
	if !st.PeerTrusted(r) {
		return nil, nil
	}
	// Spelt as net/http stores it ("Url", not "URL"): Get canonicalises a
	// key, and a key not already canonical costs an allocation per check.
	raw := r.Header.Get("X-Original-Url")
	if raw == "" {
		proto, host, uri := r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Forwarded-Uri")
		if proto == "" || host == "" {
			return nil, nil
		}
		// A proxy chain may list several; the first is the browser's.
		proto, _, _ = strings.Cut(proto, ",")
		host, _, _ = strings.Cut(host, ",")
		host = strings.TrimSpace(host)
		if uri == "" {
			uri = "/"
		}
		// Parts that would join into another URL are no URL at all: host
		// "app?x" and URI "/admin" would be app's "/" with a query, host
		// "app" and URI "x/admin" the host "appx".
		if strings.ContainsAny(host, "/?#@") || uri[0] != '/' {
			return nil, nil
		}
		raw = strings.TrimSpace(proto) + "://" + host + uri
	}
	if strings.ContainsAny(raw, "\\\r\n\t ") {
		return nil, errOriginText
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, errOriginUnreadable
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Opaque != "":
		return nil, nil
	case !site.CleanText(u.Host, site.LineText) || !site.CleanText(u.Path, site.LineText) || strings.ContainsRune(u.Path, '\\'):
		// An escaped backslash (%5C) too: some applications take it for
		// a slash, which no rule here does.
		return nil, errOriginText
	case !site.PlainHost(strings.ToLower(u.Hostname())):
		return nil, nil
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// The refusals of an original URL that cannot be checked.
var (
	errOriginText       = mfagate.Errorf(mfagate.EINVALID, site.MsgBadAddress)
	errOriginUnreadable = mfagate.Errorf(mfagate.EINVALID,
		"The web address you opened cannot be read. If you typed or pasted it, check it and try again")
)

// headerValue drops control characters, which have no place in a name
// or an address and could split or corrupt headers.
func headerValue(v string) string {
	clean := true
	for _, r := range v {
		if unicode.IsControl(r) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return v
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, v)
}
