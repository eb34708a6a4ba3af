package web

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeRedirect(t *testing.T) {
	base, _ := url.Parse("https://login.example.com")
	shared := &server{Options: Options{BaseURL: base, CookieDomain: ".example.com"}}
	alone := &server{Options: Options{BaseURL: base}}
	demoBase, _ := url.Parse("http://127.0.0.1:8080")
	demo := &server{Options: Options{BaseURL: demoBase}}
	tests := []struct {
		name string
		s    *server
		rd   string
		want string
	}{
		{"path", shared, "/account?x=1#top", "/account?x=1#top"},
		{"empty", shared, "", "/"},
		{"relative", shared, "account", "/"},
		{"scheme-relative", shared, "//evil.example.net/", "/"},
		{"backslash", shared, "/\\evil.example.net", "/"},
		{"escaped slash, relative", shared, "%2F", "/"},
		{"escaped slashes", shared, "/%2F%2Fevil.example.net", "/%2F%2Fevil.example.net"},
		{"re-encoded as scheme-relative", shared, "/%2F/evil.example.net/a b", "/"},
		{"longer once escaped", shared, "/" + strings.Repeat("\xf9", 1000), "/"},
		{"base host", shared, "https://login.example.com/help", "https://login.example.com/help"},
		{"base host, other port", shared, "https://login.example.com:8443/", "https://login.example.com:8443/"},
		{"application under the cookie domain", shared, "https://app.example.com/docs?page=2", "https://app.example.com/docs?page=2"},
		{"deeper under the cookie domain", shared, "https://a.b.example.com/", "https://a.b.example.com/"},
		{"the cookie domain itself", shared, "https://example.com/", "https://example.com/"},
		{"upper case host", shared, "https://APP.Example.COM/", "https://APP.Example.COM/"},
		{"application over http", shared, "http://app.example.com/", "/"},
		{"application without a cookie domain", alone, "https://app.example.com/", "/"},
		{"foreign host", shared, "https://evil.example.net/", "/"},
		{"look-alike suffix", shared, "https://example.com.evil.net/", "/"},
		{"look-alike prefix", shared, "https://evilexample.com/", "/"},
		{"look-alike with a dot", shared, "https://app.example.com.evil.net/", "/"},
		{"trailing dot", shared, "https://app.example.com./", "/"},
		{"user info", shared, "https://evil.example.net@app.example.com/", "/"},
		{"user and password", shared, "https://u:p@app.example.com/", "/"},
		{"javascript", shared, "javascript:alert(1)", "/"},
		{"javascript with host", shared, "javascript://app.example.com/%0aalert(1)", "/"},
		{"data", shared, "data:text/html,<script>alert(1)</script>", "/"},
		{"ftp", shared, "ftp://app.example.com/", "/"},
		{"opaque", shared, "https:app.example.com", "/"},
		{"escaped host", shared, "https://evil%2eexample.net/", "/"},
		{"newline", shared, "https://app.example.com/\nx", "/"},
		{"too long", shared, "https://app.example.com/" + string(make([]byte, 2100)), "/"},
		{"demo host, other port", demo, "http://127.0.0.1:9000/x", "http://127.0.0.1:9000/x"},
		{"demo, other loopback name", demo, "http://localhost:9000/x", "/"},
		{"demo, https", demo, "https://127.0.0.1:9000/x", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.safeRedirect(tt.rd); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
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

// FuzzSafeRedirect: whatever rd is, safeRedirect answers a path on this
// site that a browser cannot read as another host's, or an absolute URL
// redirectable allows, and gives the same answer when asked again (a
// kept return address goes through it once per step).
func FuzzSafeRedirect(f *testing.F) {
	for _, s := range []string{
		"/account?x=1#top", "", "account", "//evil.example.net/", "/\\evil.example.net",
		"/%2F%2Fevil.example.net", "https://app.example.com/docs", "https://evil.example.net@app.example.com/",
		"javascript:alert(1)", "https:app.example.com", "https://evil%2eexample.net/", "/a\tb", "/?q=a b#c d",
		"http://127.0.0.1:9000/x", "HTTPS://APP.EXAMPLE.COM/", "/%00", "/\x7f", "https://app.example.com:99999/",
	} {
		f.Add(s)
	}
	base, _ := url.Parse("https://login.example.com")
	demoBase, _ := url.Parse("http://127.0.0.1:8080")
	servers := []*server{
		{Options: Options{BaseURL: base, CookieDomain: ".example.com"}},
		{Options: Options{BaseURL: base}},
		{Options: Options{BaseURL: demoBase}},
	}
	f.Fuzz(func(t *testing.T, rd string) {
		for _, s := range servers {
			got := s.safeRedirect(rd)
			checkRedirectTarget(t, s, rd, got)
			if again := s.safeRedirect(got); again != got {
				t.Fatalf("safeRedirect(%.300q) = %.300q, but safeRedirect of that is %.300q", rd, got, again)
			}
		}
	})
}

// checkRedirectTarget fails t unless got is somewhere s may send a
// browser after sign-in.
func checkRedirectTarget(t *testing.T, s *server, rd, got string) {
	t.Helper()
	for i := 0; i < len(got); i++ {
		// Browsers drop tabs and newlines from a URL and read a backslash
		// as a slash, which would turn "/\t/evil" into "//evil".
		if c := got[i]; c < 0x20 || c == 0x7f || c == '\\' {
			t.Fatalf("safeRedirect(%q) = %q, which holds byte %#x", rd, got, c)
		}
	}
	u, err := url.Parse(got)
	if err != nil {
		t.Fatalf("safeRedirect(%q) = %q, which does not parse: %v", rd, got, err)
	}
	if strings.HasPrefix(got, "/") {
		if strings.HasPrefix(got, "//") || u.Scheme != "" || u.Host != "" || u.User != nil {
			t.Fatalf("safeRedirect(%q) = %q, which leaves this site", rd, got)
		}
		return
	}
	if !s.redirectable(u) || len(got) > 2*maxRedirectBytes {
		t.Fatalf("safeRedirect(%q) = %q, which is not a path and not redirectable", rd, got)
	}
	if u.Scheme != "https" && u.Scheme != s.BaseURL.Scheme {
		t.Fatalf("safeRedirect(%q) = %q, whose scheme is not https or the base URL's", rd, got)
	}
}
