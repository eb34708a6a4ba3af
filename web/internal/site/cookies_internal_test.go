package site

import (
	"net/http"
	"strings"
	"testing"
)

func TestTokenFromCookieHeader(t *testing.T) {
	c := CookieSpec{name: "__Host-mfagate_session"}
	tests := []struct {
		name    string
		headers []string
		want    string
	}{
		{"alone", []string{"__Host-mfagate_session=abc"}, "abc"},
		{"among others", []string{"theme=dark; __Host-mfagate_session=abc; lang=en"}, "abc"},
		{"second header line", []string{"theme=dark", "__Host-mfagate_session=abc"}, "abc"},
		{"quoted", []string{`__Host-mfagate_session="abc"`}, "abc"},
		{"a longer name is another cookie", []string{"__Host-mfagate_session2=abc"}, ""},
		{"a prefix of the name", []string{"__Host-mfagate=abc"}, ""},
		{"absent", []string{"theme=dark"}, ""},
		{"no header", nil, ""},
		{"empty value", []string{"__Host-mfagate_session="}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "/", nil)
			for _, h := range tt.headers {
				r.Header.Add("Cookie", h)
			}
			if got := c.Token(r); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzCookieToken: reading the session cookie in place never panics,
// never returns a value with a separator or quote left in it, and for a
// Cookie header that net/http itself can parse gives the value net/http
// gives. (Whether the value is a token is for account.tokenHash, fuzzed
// in package account.)
func FuzzCookieToken(f *testing.F) {
	for _, s := range []string{
		"__Host-mfagate_session=abc",
		"theme=dark; __Host-mfagate_session=abc; lang=en",
		"theme=dark\n__Host-mfagate_session=abc",
		`__Host-mfagate_session="abc"`,
		`__Host-mfagate_session=""abc""`,
		"__Host-mfagate_session2=abc; __Host-mfagate_session=def",
		"__Host-mfagate_session=abc; __Host-mfagate_session=def",
		"__Host-mfagate_session=; __Host-mfagate_session=def",
		"__Host-mfagate_session= abc ;",
		"__Host-mfagate_session=a;b",
		"__Host-mfagate_session",
		"=__Host-mfagate_session=abc",
		"\u00a0__Host-mfagate_session=abc",
	} {
		f.Add(s)
	}
	c := CookieSpec{name: "__Host-mfagate_session"}
	f.Fuzz(func(t *testing.T, header string) {
		r, _ := http.NewRequest("GET", "/", nil)
		lines := strings.Split(header, "\n")
		for _, line := range lines {
			if !headerValueOK(line) {
				return // net/http refuses the request before any handler
			}
			r.Header.Add("Cookie", strings.Trim(line, " \t"))
		}
		got := c.Token(r)
		if strings.ContainsRune(got, ';') || strings.HasPrefix(got, `"`) || strings.HasSuffix(got, `"`) {
			t.Fatalf("got %q from %q, which still holds a separator or quote", got, header)
		}
		want, found, parsed := "", false, true
		for _, line := range r.Header["Cookie"] {
			cookies, err := http.ParseCookie(line)
			if err != nil {
				parsed = false
				break
			}
			for _, ck := range cookies {
				if ck.Name == c.name && !found { // the first, even if empty
					want, found = ck.Value, true
				}
			}
		}
		if parsed && got != want {
			t.Fatalf("got %q from %q, want %q as net/http reads it", got, header, want)
		}
	})
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
