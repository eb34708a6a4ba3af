package web_test

// Red-team round 2 over HTTP. The breach it found is fixed and
// its test kept as a regression test.

import (
	"net/http"
	"testing"

	"github.com/mfagate/mfagate/web"
)

// TestRed2ForwardAuthUnicodeCaseFold — was a breach (low; application-dependent); fixed.
//
// allows() reads the path "without regard to ASCII case" only. Unicode
// case folding, as Go's strings.EqualFold, Java's equalsIgnoreCase and
// .NET's OrdinalIgnoreCase use, maps "ſ" (U+017F, long s) to "s", "K"
// (U+212A, Kelvin sign) to "k" and, for Java/.NET upper-casing, "ı"
// (U+0131) to "I". A protected application with a case-insensitive router
// serves "/ſecret" as /secret, yet no rule for "/secret" matches it here,
// and a request no rule matches is let through.
func TestRed2ForwardAuthUnicodeCaseFold(t *testing.T) {
	h := newHarness(t, withTrustedProxy("127.0.0.1/32"), func(o *harnessConfig) {
		o.ForwardAuth = []web.ForwardAuthRule{
			{Host: "wiki.example.com", Path: "/secret", Roles: []string{"admin"}},
			{Host: "wiki.example.com", Path: "/keys", Roles: []string{"admin"}},
			{Host: "wiki.example.com", Path: "/admin", Roles: []string{"admin"}},
		}
	})
	c := h.client(t)
	h.signIn(t, c, "alice", pw)
	ask := func(uri string) int {
		return h.verify(t, c, "", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "wiki.example.com", "X-Forwarded-Uri", uri).StatusCode
	}
	for _, p := range []string{"/secret", "/SECRET", "/keys", "/admin"} {
		if got := ask(p); got != http.StatusForbidden {
			t.Fatalf("control: alice at %s got %d, want 403", p, got)
		}
	}
	for _, tc := range []struct{ uri, same string }{
		{"/%C5%BFecret/x", "/secret/x"}, // ſ
		{"/%E2%84%AAeys", "/keys"},      // K (Kelvin)
		{"/adm%C4%B1n", "/admin"},       // ı (Java/.NET toUpperCase)
	} {
		if got := ask(tc.uri); got != http.StatusForbidden {
			t.Errorf("BREACH: alice (role user) at %s, which a Unicode case-insensitive application serves as %s, got %d, want 403",
				tc.uri, tc.same, got)
		}
	}
}
