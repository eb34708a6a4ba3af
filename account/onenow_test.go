package account_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// tickingClock moves on by a second every time it is read, so that two
// reads inside one transaction can never agree by chance.
type tickingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *tickingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// TestOneNowPerTransaction proves that a change, its audit event and the
// email about it carry the one time fixed when their transaction began,
// however often the clock is read meanwhile.
func TestOneNowPerTransaction(t *testing.T) {
	ctx := context.Background()
	store := sqltest.SQLite().New(t)
	f := &fixture{store: store, svc: mustService(t, store, &tickingClock{t: start}, cheap)}
	cli := account.Actor{Name: mfagate.ActorCLI, AtServer: true}

	for _, tc := range []struct {
		name string
		kind string // of the audit event
		// do makes the change and returns the times it stored.
		do func(t *testing.T) []time.Time
	}{
		{
			name: "create user",
			kind: mfagate.AuditUserCreate,
			do: func(t *testing.T) []time.Time {
				u := f.mustUser(t, "ada", "correct horse battery staple")
				return []time.Time{u.CreatedAt, mustUserByName(t, store, "ada").CreatedAt}
			},
		},
		{
			name: "sign in",
			kind: mfagate.AuditSignInPassword,
			do: func(t *testing.T) []time.Time {
				in := f.mustSignIn(t, "ada", "correct horse battery staple")
				stored := mustUserByName(t, store, "ada")
				return []time.Time{in.Session.CreatedAt, in.Session.LastSeenAt, stored.LastSignInAt}
			},
		},
		{
			name: "set password",
			kind: mfagate.AuditPasswordChange,
			do: func(t *testing.T) []time.Time {
				if err := f.svc.SetPassword(ctx, cli, "ada", "another horse battery staple"); err != nil {
					t.Fatal(err)
				}
				return []time.Time{mustNewestMail(t, store).CreatedAt}
			},
		},
		{
			name: "create token",
			kind: account.AuditTokenCreate,
			do: func(t *testing.T) []time.Time {
				_, tok, err := f.svc.CreateToken(ctx, cli, "helpdesk-bot", mfagate.RoleSupport)
				if err != nil {
					t.Fatal(err)
				}
				toks, err := f.svc.Tokens(ctx)
				if err != nil || len(toks) != 1 {
					t.Fatalf("tokens: got %v, %v, want one", toks, err)
				}
				return []time.Time{tok.CreatedAt, toks[0].CreatedAt}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stored := tc.do(t)
			evs := f.audit(t, mfagate.AuditFilter{Kind: tc.kind, Limit: 1})
			if len(evs) != 1 {
				t.Fatalf("got %d %s events, want 1", len(evs), tc.kind)
			}
			for i, at := range stored {
				if !at.Equal(evs[0].At) {
					t.Errorf("stored time %d: got %v, want the audit event's %v", i, at, evs[0].At)
				}
			}
		})
	}
}

// TestTransactionsReadNoClock keeps it so: code handed a *txn reads
// tx.now, never the service's clock (s.now, s.clock), which would stamp
// one change with two times; and audit events are appended only by
// tx.audit (txn.go), which stamps them with it.
func TestTransactionsReadNoClock(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "txn.go" {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "AppendAudit" {
				t.Errorf("%s: calls AppendAudit directly; audit through tx.audit, which stamps the transaction's now", fset.Position(sel.Pos()))
			}
			var ft *ast.FuncType
			var body *ast.BlockStmt
			switch fn := n.(type) {
			case *ast.FuncDecl:
				ft, body = fn.Type, fn.Body
			case *ast.FuncLit:
				ft, body = fn.Type, fn.Body
			default:
				return true
			}
			if body == nil || !takesTxn(ft) {
				return true
			}
			checked++
			ast.Inspect(body, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "s" && (sel.Sel.Name == "now" || sel.Sel.Name == "clock") {
					t.Errorf("%s: reads s.%s inside a transaction; use tx.now", fset.Position(sel.Pos()), sel.Sel.Name)
				}
				return true
			})
			return true
		})
	}
	if checked == 0 {
		t.Fatal("found no function taking a *txn: the test no longer looks at the right code")
	}
}

func takesTxn(ft *ast.FuncType) bool {
	for _, p := range ft.Params.List {
		if star, ok := p.Type.(*ast.StarExpr); ok {
			if id, ok := star.X.(*ast.Ident); ok && id.Name == "txn" {
				return true
			}
		}
	}
	return false
}

func mustUserByName(tb testing.TB, s mfagate.Store, name string) *mfagate.User {
	tb.Helper()
	var u *mfagate.User
	if err := s.View(context.Background(), func(tx mfagate.Tx) (err error) {
		u, err = tx.UserByUsername(name)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	return u
}

func mustNewestMail(tb testing.TB, s mfagate.Store) *mfagate.Message {
	tb.Helper()
	var ms []*mfagate.Message
	if err := s.View(context.Background(), func(tx mfagate.Tx) (err error) {
		ms, err = tx.Mail(1)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	if len(ms) != 1 {
		tb.Fatalf("got %d messages, want 1", len(ms))
	}
	return ms[0]
}
