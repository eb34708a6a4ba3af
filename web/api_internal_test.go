package web

import (
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
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
