package account_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// FuzzTokens: of all text, only a session's cookie token opens that
// session (Authenticate, CheckSession) and only an API token's text
// authenticates as it (AuthenticateToken); everything else is refused as
// unauthorized, and nothing of the wrong length or alphabet is looked
// up. The database is real (SQLite) and prepared once.
//
// A cookie token is 64 base64url characters, 32 random bytes and a MAC of
// them under the server's key: every other value, of any length, a token
// of the old 43-character form, or one whose MAC does not match, is
// refused without a lookup.
func FuzzTokens(f *testing.F) {
	// A key of this process's own: under -fuzz each worker process runs
	// this setup again and signs alice in afresh, and the seeds carry the
	// coordinator's token. Under one shared key that token would pass the
	// worker's MAC without being the worker's alice's; under a key of its
	// own it is a stranger's, refused like any other.
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		f.Fatal(err)
	}
	fx := &fixture{store: sqltest.SQLite().New(f), clock: mfagate.NewManualClock(start)}
	svc, err := account.New(account.Options{Store: fx.store, Clock: fx.clock, Password: cheap, Key: key})
	if err != nil {
		f.Fatal(err)
	}
	fx.svc = svc
	fx.mustUser(f, "alice", "plum orchard lantern")
	in := fx.mustSignIn(f, "alice", "plum orchard lantern")
	api, _, err := fx.svc.CreateToken(context.Background(), account.Actor{Name: "test"}, "bot", mfagate.RoleSupport)
	if err != nil {
		f.Fatal(err)
	}
	// The token with one character changed, in the random part and in the
	// MAC: right length and alphabet, wrong MAC.
	for _, i := range []int{0, 20, 42, 43, 63} {
		c := byte('A')
		if in.Token[i] == 'A' {
			c = 'B'
		}
		f.Add(in.Token[:i] + string(c) + in.Token[i+1:])
	}
	for _, s := range []string{
		in.Token, api, "", strings.Repeat("A", 43), strings.Repeat("A", 64), in.Token[:63], in.Token + "A", in.Token[:63] + "+", in.Token[:63] + "=",
		"mfag_" + strings.Repeat("A", 43), api[:47], api + " ", strings.ToUpper(api), "mfag_" + in.Token,
		strings.Repeat("\xff", 64), in.Token[:62] + "é", in.Token[:43],
	} {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := fx.svc.TokenHash(s)
		if ok {
			raw, err := base64.RawURLEncoding.DecodeString(s)
			want := sha256.Sum256(raw[:32])
			if s != in.Token || err != nil || !bytes.Equal(h, want[:]) {
				t.Fatalf("tokenHash(%q) accepted it: only the token the server made may pass, hashed", s)
			}
		}
		same := ok && s == in.Token
		for name, check := range map[string]func(context.Context, string) (string, error){
			"Authenticate": func(ctx context.Context, s string) (string, error) {
				cur, err := fx.svc.Authenticate(ctx, s)
				if cur == nil {
					return "", err
				}
				return cur.User.Username, err
			},
			"CheckSession": func(ctx context.Context, s string) (string, error) {
				cur, err := fx.svc.CheckSession(ctx, s)
				if cur == nil {
					return "", err
				}
				return cur.Username, err
			},
		} {
			cur, err := check(ctx, s)
			switch {
			case same && (err != nil || cur != "alice"):
				t.Fatalf("%s(%q), alice's token: got %v, %v", name, s, cur, err)
			case !same && (cur != "" || mfagate.ErrorCode(err) != mfagate.EUNAUTHORIZED):
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
