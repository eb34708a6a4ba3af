package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/web/internal/site"
)

// fuzzRules are the access rules FuzzOriginalURL checks decisions with.
var fuzzRules = []ForwardAuthRule{
	{Host: "app.example.com", Path: "/admin", Roles: []string{"admin"}},
	{Host: "app.example.com", Path: "/Public/", Roles: []string{RoleAll}},
	{Host: "app.example.com", Path: "/team/", Roles: []string{"support"}},
	{Host: "*.internal.example.com", Roles: []string{"operator"}},
	{Host: "*", Path: "/secret", Roles: []string{"admin"}},
}

// FuzzOriginalURL: forward-auth's original URL, from X-Original-URL or
// from X-Forwarded-Proto, -Host and -Uri sent by a trusted proxy, is
// refused (EINVALID), ignored, or a URL of the parts the proxy sent with
// a clean host and decoded path; and whenever the access rules let a
// request through, they let through every reading an application might
// make of its path (lower case, ";parameters" dropped, dot segments
// resolved or not, dots and spaces at the ends of names dropped), so
// that no such reading reaches a path the rules keep the person out of.
func FuzzOriginalURL(f *testing.F) {
	for _, s := range [][4]string{
		{"", "https", "app.example.com", "/admin"},
		{"", "https", "app.example.com:8443, proxy.example.com", "/docs?page=2"},
		{"", "http, https", "APP.Example.COM.", "/Admin/users"},
		{"", "https", "app.example.com", "/public/%2e%2e/admin"},
		{"", "https", "app.example.com", "/public/..%2Fadmin"},
		{"", "https", "app.example.com", "/x%5C..%5Cadmin"},
		{"", "https", "app.example.com", "//admin"},
		{"", "https", "app.example.com", "/admin;jsessionid=1"},
		{"", "https", "app.example.com", "/admin%2e/x"},
		{"", "https", "app.example.com", "/admin%20"},
		{"", "https", "app.example.com", "/admin%00"},
		{"", "https", "app.example.com?x", "/admin"},
		{"", "https", "app.example.com", "x/admin"},
		{"", "https", "a@app.example.com", "/"},
		{"", "https", "db.internal.example.com", "/"},
		{"", "ftp", "app.example.com", "/"},
		{"https://app.example.com/admin#x", "", "", ""},
		{"https://app.example.com/team/a", "", "", ""},
		{"https://app.example.com/Public/../admin", "", "", ""},
		{"https://app.example.com/SECRET", "", "", ""},
		{"https://app.example.com/adm%FFin", "", "", ""},
		{"/admin", "", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	base, _ := url.Parse("https://login.example.com")
	st, err := site.New(site.Config{BaseURL: base, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if err != nil {
		f.Fatal(err)
	}
	rules := newAccessRules(fuzzRules)
	f.Fuzz(func(t *testing.T, original, proto, host, uri string) {
		r := httptest.NewRequest("GET", "/auth/verify", nil)
		r.RemoteAddr = "127.0.0.1:40000"
		for name, v := range map[string]string{"X-Original-Url": original, "X-Forwarded-Proto": proto, "X-Forwarded-Host": host, "X-Forwarded-Uri": uri} {
			if !headerValueOK(v) {
				return // net/http refuses the request before any handler
			}
			if v = strings.Trim(v, " \t"); v != "" { // as net/http reads it
				r.Header.Set(name, v)
			}
		}
		u, err := originalURL(st, r)
		if err != nil {
			if u != nil || mfagate.ErrorCode(err) != mfagate.EINVALID {
				t.Fatalf("got %v and %v, want no URL and an invalid error", u, err)
			}
			return
		}
		r.RemoteAddr = "192.0.2.1:40000"
		if other, err := originalURL(st, r); other != nil || err != nil {
			t.Fatalf("from an untrusted peer: got %v, %v, want the headers ignored", other, err)
		}
		if u == nil {
			return
		}
		checkOriginalURL(t, r, u)
		for _, roles := range [][]string{{"user"}, {"support"}, {"admin", "user"}, {"operator"}} {
			if !rules.allows(u, roles) {
				continue
			}
			for _, h := range hostReadings(u) {
				for _, p := range pathReadings(u.Path) {
					for _, fold := range []bool{false, true} {
						if !literalAllows(fuzzRules, h, p, fold, roles) {
							t.Fatalf("%s is let through for %v, but a reading of it is not: host %q, path %q, ignoring case %v", u, roles, h, p, fold)
						}
					}
				}
			}
		}
	})
}

// checkOriginalURL fails t unless u is a URL rules can be applied to and,
// built from X-Forwarded-*, made of the parts the proxy sent.
func checkOriginalURL(t *testing.T, r *http.Request, u *url.URL) {
	t.Helper()
	if (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Host == "" || u.Fragment != "" {
		t.Fatalf("got %s, want an http or https URL with a host, no user and no fragment", u)
	}
	if !site.PlainHost(strings.ToLower(u.Hostname())) || !site.CleanText(u.Host, site.LineText) {
		t.Fatalf("got %s, whose host %q is not a plain host name", u, u.Host)
	}
	if !site.CleanText(u.Path, site.LineText) || strings.Contains(u.Path, `\`) {
		t.Fatalf("got %s, whose decoded path %q holds a control character, a backslash or invalid UTF-8", u, u.Path)
	}
	if r.Header.Get("X-Original-Url") != "" {
		return
	}
	first := func(name string) string {
		v, _, _ := strings.Cut(r.Header.Get(name), ",")
		return strings.TrimSpace(v)
	}
	if proto := strings.ToLower(first("X-Forwarded-Proto")); u.Scheme != proto {
		t.Fatalf("got scheme %q, want %q, the proxy's", u.Scheme, proto)
	}
	if host := first("X-Forwarded-Host"); u.Host != host {
		t.Fatalf("got host %q, want %q, the proxy's", u.Host, host)
	}
	uri := r.Header.Get("X-Forwarded-Uri")
	if uri == "" {
		uri = "/"
	}
	rawPath, _, _ := strings.Cut(uri, "?")
	rawPath, _, _ = strings.Cut(rawPath, "#")
	if want, err := url.PathUnescape(rawPath); err != nil || u.Path != want {
		t.Fatalf("got path %q from X-Forwarded-Uri %q, want %q (%v)", u.Path, uri, want, err)
	}
}

// headerValueOK reports whether net/http accepts v as a header value.
func headerValueOK(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// hostReadings are the hosts a proxy may take u's for.
func hostReadings(u *url.URL) []string {
	h := strings.ToLower(u.Hostname())
	return []string{h, strings.TrimRight(h, ".")}
}

var (
	pathParams = regexp.MustCompile(`;[^/]*`)
	nameEnds   = regexp.MustCompile(`([^/. ])[. ]+(/|$)`)
)

// pathReadings are the paths an application may take decoded path p for:
// as it is, resolved, with Java's ";parameters" dropped, with Windows'
// trailing dots and spaces dropped, and a backslash taken for a slash.
func pathReadings(p string) []string {
	if p == "" {
		p = "/"
	}
	windows := func(s string) string {
		for {
			next := nameEnds.ReplaceAllString(s, "$1$2")
			if next == s {
				return s
			}
			s = next
		}
	}
	java := pathParams.ReplaceAllString(p, "")
	return []string{p, path.Clean(p), path.Clean(java), path.Clean(windows(p)), path.Clean(windows(java)),
		path.Clean(strings.ReplaceAll(p, `\`, "/"))}
}

func lowerASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// literalAllows is what the rules say of one host and path, read
// literally, or with fold as an application that ignores case reads them.
func literalAllows(rules []ForwardAuthRule, host, p string, fold bool, roles []string) bool {
	for _, r := range rules {
		rh, rp := strings.ToLower(r.Host), r.Path
		if fold {
			p, rp = lowerASCII(p), lowerASCII(rp)
		}
		hostOK := rh == "*" || rh == host || (strings.HasPrefix(rh, "*.") && strings.HasSuffix(host, rh[1:]))
		pathOK := rp == "/" || p == rp || strings.HasPrefix(p, strings.TrimSuffix(rp, "/")+"/")
		if !hostOK || !pathOK {
			continue
		}
		if len(r.Roles) == 0 || r.Roles[0] == RoleAll {
			return true
		}
		for _, have := range roles {
			for _, want := range r.Roles {
				if have == want {
					return true
				}
			}
		}
		return false
	}
	return true
}

func TestAccessRules(t *testing.T) {
	rules := newAccessRules([]ForwardAuthRule{
		{Host: "wiki.example.com", Path: "/admin", Roles: []string{"admin"}},
		{Host: "WIKI.example.com", Path: "/team/", Roles: []string{"support", "operator"}},
		{Host: "*.internal.example.com", Roles: []string{"operator"}},
		{Host: "open.example.com", Roles: []string{"all"}},
		{Host: "*", Path: "/secret", Roles: []string{"admin"}},
	})
	user, admin, support := []string{"user"}, []string{"admin", "user"}, []string{"support"}
	tests := []struct {
		name  string
		host  string
		path  string
		roles []string
		want  bool
	}{
		{"admin path, no role", "wiki.example.com", "/admin", user, false},
		{"admin subpath, no role", "wiki.example.com", "/admin/users", user, false},
		{"admin path, role", "wiki.example.com", "/admin/users", admin, true},
		{"segment, not prefix", "wiki.example.com", "/administrator", user, true},
		{"trailing-slash prefix", "wiki.example.com", "/team/a", support, true},
		{"trailing-slash prefix, no role", "wiki.example.com", "/team/a", user, false},
		{"trailing-slash prefix, bare", "wiki.example.com", "/team", user, true},
		{"wildcard", "db.internal.example.com", "/", user, false},
		{"wildcard deeper", "a.db.internal.example.com", "/", []string{"operator"}, true},
		{"wildcard is not the apex", "internal.example.com", "/", user, true},
		{"wildcard look-alike", "evilinternal.example.com", "/", user, true},
		{"all", "open.example.com", "/secret", user, true},
		{"any host", "elsewhere.example.org", "/secret/x", user, false},
		{"no rule", "elsewhere.example.org", "/", user, true},
		{"no roles at all", "wiki.example.com", "/admin", nil, false},
		// The readings of other applications (see allows).
		{"dot segments", "wiki.example.com", "/team/../admin", user, false},
		{"repeated slashes", "wiki.example.com", "//admin", user, false},
		{"under the rule before its dot segments", "wiki.example.com", "/admin/../x", user, false},
		{"upper case", "wiki.example.com", "/ADMIN/users", user, false},
		{"path parameter", "wiki.example.com", "/admin;jsessionid=1/users", user, false},
		{"trailing dot", "wiki.example.com", "/admin./users", user, false},
		{"trailing space", "wiki.example.com", "/admin ", user, false},
		{"dots and spaces only", "wiki.example.com", "/team/x/.. /admin", user, false},
		{"parameter and trailing dot", "wiki.example.com", "/admin.;x", user, false},
		{"host with a trailing dot", "wiki.example.com.", "/admin", user, false},
		{"upper case, open to the role", "WIKI.example.com", "/TEAM/a", support, true},
		{"a dot inside a name", "wiki.example.com", "/admin.html", user, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rules.allows(&url.URL{Scheme: "https", Host: tt.host, Path: tt.path}, tt.roles); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if rules.allows(nil, admin) {
		t.Error("unknown URL with rules: got allowed, want refused")
	}
	if !accessRules(nil).allows(nil, user) {
		t.Error("unknown URL without rules: got refused, want allowed")
	}
}

func TestHeaderValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Alice Smith", "Alice Smith"},
		{"José Ñúñez", "José Ñúñez"},
		{"a\r\nX-Evil: 1", "aX-Evil: 1"},
		{"tab\there\x00\x7f\u0085", "tabhere"},
		{"bad \xff utf-8", "bad  utf-8"},
	}
	for _, tt := range tests {
		if got := headerValue(tt.in); got != tt.want {
			t.Errorf("headerValue(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
