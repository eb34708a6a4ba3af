package web_test

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/mfagate/mfagate/web"
)

// pageRouteRE finds the page routes in routes.go (the API has its own
// mux and its own test, TestAPIErrors).
var pageRouteRE = regexp.MustCompile(`\bmux\.Handle\("([A-Z]+) (/[^"]*)"`)

// TestWrongMethodsGet405 sends every page route of routes.go the methods
// it does not take: each answers 405 with Allow and our page, with the
// security headers, and HEAD still works where GET does.
func TestWrongMethodsGet405(t *testing.T) {
	h := newHarness(t)
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string][]string{} // path → methods registered
	for _, m := range pageRouteRE.FindAllStringSubmatch(string(src), -1) {
		path := strings.NewReplacer("{username}", "alice", "{id}", "1", "{$}", "").Replace(m[2])
		if strings.HasSuffix(path, "/") && path != "/" {
			path += "style.css" // a prefix route: one path under it
		}
		methods[path] = append(methods[path], m[1])
	}
	if len(methods) < 30 {
		t.Fatalf("found only %d page routes in routes.go; has its form changed?", len(methods))
	}
	c := h.client(t)
	for path, have := range methods {
		allow := strings.Join(expectAllow(have), ", ")
		for _, method := range []string{"GET", "POST", "PUT", "DELETE", "PATCH"} {
			if strings.Contains(", "+allow+",", ", "+method+",") {
				continue
			}
			t.Run(method+" "+path, func(t *testing.T) {
				req, _ := http.NewRequest(method, h.ts.URL+path, nil)
				res := do(t, c, req)
				if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != allow {
					t.Fatalf("got %d with Allow %q, want 405 with Allow %q", res.StatusCode, res.Header.Get("Allow"), allow)
				}
				if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(res.body, "<h1>This page cannot be used this way</h1>") {
					t.Fatalf("want our error page, got:\n%.400s", res.body)
				}
				if res.Header.Get("X-Frame-Options") != "DENY" || res.Header.Get("Content-Security-Policy") == "" {
					t.Fatalf("the 405 lacks the security headers: %v", res.Header)
				}
			})
		}
		if strings.Contains(allow, "HEAD") {
			t.Run("HEAD "+path, func(t *testing.T) {
				req, _ := http.NewRequest("HEAD", h.ts.URL+path, nil)
				if res := do(t, c, req); res.StatusCode == http.StatusMethodNotAllowed || res.StatusCode >= 500 {
					t.Fatalf("HEAD on a GET route: got %d", res.StatusCode)
				}
			})
		}
	}
	t.Run("unknown path", func(t *testing.T) {
		req, _ := http.NewRequest("DELETE", h.ts.URL+"/no-such-page", nil)
		if res := do(t, c, req); res.StatusCode != http.StatusNotFound || res.Header.Get("Allow") != "" {
			t.Fatalf("got %d with Allow %q, want 404 without Allow", res.StatusCode, res.Header.Get("Allow"))
		}
	})
}

// expectAllow is the Allow header for routes with these methods: sorted,
// with HEAD wherever GET is.
func expectAllow(have []string) []string {
	set := map[string]bool{}
	for _, m := range have {
		set[m] = true
		if m == "GET" {
			set["HEAD"] = true
		}
	}
	var out []string
	for _, m := range []string{"DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"} {
		if set[m] {
			out = append(out, m)
		}
	}
	return out
}

// TestHeadersOverTheLimitGet431 checks that headers over
// web.MaxHeaderBytes get our 431, with the security headers and a page
// (or the JSON error), while forward-auth is left to the server's limit.
func TestHeadersOverTheLimitGet431(t *testing.T) {
	h := newHarness(t, withTrustedProxy("127.0.0.1/32"))
	c := h.client(t)
	send := func(path string, size int) response {
		req, _ := http.NewRequest("GET", h.ts.URL+path, nil)
		// Counted as HTTP/1.1 sends it: "X-Padding: " + value + CRLF,
		// beside the request line, Host and the client's own headers.
		req.Header.Set("X-Padding", strings.Repeat("p", size))
		return do(t, c, req)
	}
	if res := send("/login", web.MaxHeaderBytes-1024); res.StatusCode != http.StatusOK {
		t.Fatalf("headers under the limit: got %d, want 200", res.StatusCode)
	}
	res := send("/login", web.MaxHeaderBytes)
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge || !strings.Contains(res.body, "<h1>The request is too large</h1>") ||
		!strings.Contains(res.body, "clear this site&#39;s cookies") {
		t.Fatalf("headers over the limit: got %d, want 431 with our page:\n%.600s", res.StatusCode, res.body)
	}
	if res.Header.Get("X-Frame-Options") != "DENY" || res.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("the 431 lacks the security headers: %v", res.Header)
	}
	api := send("/api/v1/people", web.MaxHeaderBytes)
	if api.StatusCode != http.StatusRequestHeaderFieldsTooLarge || !strings.Contains(api.body, `"code": "headers_too_large"`) ||
		api.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("API headers over the limit: got %d, want 431 with the JSON error:\n%s", api.StatusCode, api.body)
	}
	if res := send("/auth/verify", 2*web.MaxHeaderBytes); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forward-auth with big headers: got %d, want 401", res.StatusCode)
	}
}
