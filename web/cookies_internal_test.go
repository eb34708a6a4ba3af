package web

import (
	"net/http"
	"testing"
)

func TestTokenFromCookieHeader(t *testing.T) {
	c := cookieSpec{name: "__Host-mfagate_session"}
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
			if got := c.token(r); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
