package account_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/totp"
)

// TestRotatedSessionIDsDieAtOnce: every way a session ends is seen by
// forward-auth's check at once on the replica that ended it, and within
// CheckTTL on another. Rotation was the hole: the id a browser had before
// its second factor kept working from the cache.
func TestRotatedSessionIDsDieAtOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.mustUser(t, "alice", pw)
	f.mustUser(t, "bob", pw)
	secret, _ := f.mustTOTPFactor(t, "alice")
	other := mustService(t, f.store, f.clock, cheap) // a second replica on the same database
	at := func() string { return totp.Code(secret, totp.Step(f.clock.Now())) }
	ends := []struct {
		name string
		user string
		end  func(t *testing.T, token string) // ends the session token names, on f.svc
	}{
		{"rotation after the second factor", "alice", func(t *testing.T, token string) {
			f.clock.Advance(30 * time.Second)
			if _, err := f.svc.Verify(ctx, f.current(t, token), mfagate.MethodTOTP, at(), client); err != nil {
				t.Fatal(err)
			}
		}},
		{"signing in again in the same browser", "bob", func(t *testing.T, token string) {
			if _, err := f.svc.SignIn(ctx, account.SignIn{Username: "bob", Password: pw, OldToken: token}); err != nil {
				t.Fatal(err)
			}
		}},
		{"skipping setup", "bob", func(t *testing.T, token string) {
			if _, err := f.svc.SkipSetup(ctx, f.current(t, token), client); err != nil {
				t.Fatal(err)
			}
		}},
		{"signing out", "bob", func(t *testing.T, token string) { f.svc.SignOut(ctx, token, client) }},
		{"signed out everywhere by support", "bob", func(t *testing.T, token string) {
			if _, err := f.svc.EndSessions(ctx, account.Actor{Name: "sam"}, "bob", "lost laptop"); err != nil {
				t.Fatal(err)
			}
		}},
		{"a reset", "bob", func(t *testing.T, token string) {
			if err := f.svc.ResetMFA(ctx, account.Actor{Name: "sam"}, "bob", "lost phone"); err != nil {
				t.Fatal(err)
			}
		}},
		{"a password set by staff", "bob", func(t *testing.T, token string) {
			if err := f.svc.SetPassword(ctx, account.Actor{Name: "cli", AtServer: true}, "bob", pw); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range ends {
		t.Run(tt.name, func(t *testing.T) {
			f.clock.Advance(time.Minute)
			token := f.mustSignIn(t, tt.user, pw).Token
			for _, svc := range []*account.Service{f.svc, other} {
				if _, err := svc.CheckSession(ctx, token); err != nil {
					t.Fatalf("before: %v", err)
				}
			}
			tt.end(t, token)
			if _, err := f.svc.CheckSession(ctx, token); err != account.ErrNoSession {
				t.Fatalf("the old id on the same replica: got %v, want ErrNoSession at once", err)
			}
			f.clock.Advance(account.CheckTTL)
			if _, err := other.CheckSession(ctx, token); err != account.ErrNoSession {
				t.Fatalf("the old id on another replica after %v: got %v, want ErrNoSession", account.CheckTTL, err)
			}
		})
	}
}

// TestOnlyOnePathEndsSessions keeps every session deletion of package
// account on the one path that also tells the check cache (ended, in
// sessions.go): a new way of ending sessions that skips it would leave
// dead ids working on this replica for CheckTTL.
func TestOnlyOnePathEndsSessions(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			onEnded := fn.Recv != nil && strings.Contains(types(fn.Recv), "ended")
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "DeleteSession" && sel.Sel.Name != "DeleteUserSessions") {
					return true
				}
				checked++
				if !onEnded {
					t.Errorf("%s: %s calls %s directly; end sessions through ended (sessions.go)",
						fset.Position(call.Pos()), fn.Name.Name, sel.Sel.Name)
				}
				return true
			})
		}
	}
	if checked == 0 {
		t.Fatal("found no session deletions at all: the test no longer looks at the right code")
	}
}

func types(fl *ast.FieldList) string {
	var b strings.Builder
	for _, f := range fl.List {
		ast.Inspect(f.Type, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				b.WriteString(id.Name)
			}
			return true
		})
	}
	return b.String()
}
