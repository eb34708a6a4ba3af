package account_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

// FuzzTokens: of all text, only a session's cookie token opens that
// session (Authenticate, CheckSession) and only an API token's text
// authenticates as it (AuthenticateToken); everything else is refused as
// unauthorized, and nothing of the wrong length or alphabet is looked
// up. The database is real (SQLite) and prepared once.
//
// A cookie token is accepted in one spelling only: 43 base64 characters
// carry 258 bits for 256, and of the four last characters that decode
// alike only the one newSession writes (spare bits zero) is taken.
func FuzzTokens(f *testing.F) {
	fx := newFixture(f)
	fx.mustUser(f, "alice", "plum orchard lantern")
	in := fx.mustSignIn(f, "alice", "plum orchard lantern")
	api, _, err := fx.svc.CreateToken(context.Background(), account.Actor{Name: "test"}, "bot", mfagate.RoleSupport)
	if err != nil {
		f.Fatal(err)
	}
	// The other spellings of the session's token: the last character with
	// its two spare bits set otherwise.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, in.Token[42])
	for k := range 4 {
		f.Add(in.Token[:42] + string(alphabet[last&^3+k]))
	}
	for _, s := range []string{
		in.Token, api, "", strings.Repeat("A", 43), in.Token[:42], in.Token + "A", in.Token[:42] + "+", in.Token[:42] + "=",
		"mfag_" + strings.Repeat("A", 43), api[:47], api + " ", strings.ToUpper(api), "mfag_" + in.Token,
		strings.Repeat("\xff", 43), in.Token[:40] + "é",
	} {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := account.TokenHash(s)
		if ok {
			raw, err := base64.RawURLEncoding.DecodeString(s)
			want := sha256.Sum256(raw)
			if len(s) != 43 || err != nil || len(raw) != 32 || base64.RawURLEncoding.EncodeToString(raw) != s ||
				!bytes.Equal(h, want[:]) {
				t.Fatalf("tokenHash(%q) accepted it: want the one spelling of 32 bytes in URL-safe base64, hashed", s)
			}
		}
		same := ok && s == in.Token
		for name, check := range map[string]func(context.Context, string) (*account.Current, error){
			"Authenticate": fx.svc.Authenticate, "CheckSession": fx.svc.CheckSession,
		} {
			cur, err := check(ctx, s)
			switch {
			case same && (err != nil || cur.User.Username != "alice"):
				t.Fatalf("%s(%q), alice's token: got %v, %v", name, s, cur, err)
			case !same && (cur != nil || mfagate.ErrorCode(err) != mfagate.EUNAUTHORIZED):
				t.Fatalf("%s(%q), not a token: got %v, %v, want unauthorized", name, s, cur, err)
			}
		}
		tok, err := fx.svc.AuthenticateToken(ctx, s)
		switch {
		case s == api && (err != nil || tok.Name != "bot"):
			t.Fatalf("AuthenticateToken(%q), the bot's token: got %v, %v", s, tok, err)
		case s != api && (tok != nil || mfagate.ErrorCode(err) != mfagate.EUNAUTHORIZED):
			t.Fatalf("AuthenticateToken(%q), not the token: got %v, %v, want unauthorized", s, tok, err)
		}
	})
}
