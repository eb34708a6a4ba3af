package site

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeRedirect(t *testing.T) {
	base, _ := url.Parse("https://login.example.com")
	shared := &Site{cfg: Config{BaseURL: base, CookieDomain: ".example.com"}}
	alone := &Site{cfg: Config{BaseURL: base}}
	demoBase, _ := url.Parse("http://127.0.0.1:8080")
	demo := &Site{cfg: Config{BaseURL: demoBase}}
	tests := []struct {
		name string
		s    *Site
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
			if got := tt.s.SafeRedirect(tt.rd); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
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
	servers := []*Site{
		{cfg: Config{BaseURL: base, CookieDomain: ".example.com"}},
		{cfg: Config{BaseURL: base}},
		{cfg: Config{BaseURL: demoBase}},
	}
	f.Fuzz(func(t *testing.T, rd string) {
		for _, s := range servers {
			got := s.SafeRedirect(rd)
			checkRedirectTarget(t, s, rd, got)
			if again := s.SafeRedirect(got); again != got {
				t.Fatalf("safeRedirect(%.300q) = %.300q, but safeRedirect of that is %.300q", rd, got, again)
			}
		}
	})
}

// checkRedirectTarget fails t unless got is somewhere s may send a
// browser after sign-in.
func checkRedirectTarget(t *testing.T, s *Site, rd, got string) {
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
	if !s.Redirectable(u) || len(got) > 2*MaxRedirectBytes {
		t.Fatalf("safeRedirect(%q) = %q, which is not a path and not redirectable", rd, got)
	}
	if u.Scheme != "https" && u.Scheme != s.cfg.BaseURL.Scheme {
		t.Fatalf("safeRedirect(%q) = %q, whose scheme is not https or the base URL's", rd, got)
	}
}
