package account_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/password"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// cheap keeps tests fast; password.Default's cost is tested in package password.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// testKey is the server key in tests; real keys come from "mfagate keygen".
var testKey = []byte("0123456789abcdef0123456789abcdef")

var start = time.Date(2027, 6, 1, 9, 0, 0, 0, time.UTC)

type fixture struct {
	svc   *account.Service
	store *sqlstore.DB
	clock *mfagate.ManualClock
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	f := &fixture{store: sqltest.SQLite().New(tb), clock: mfagate.NewManualClock(start)}
	f.svc = mustService(tb, f.store, f.clock, cheap)
	return f
}

func mustService(tb testing.TB, store mfagate.Store, clock mfagate.Clock, p password.Params) *account.Service {
	tb.Helper()
	svc, err := account.New(account.Options{Store: store, Clock: clock, Password: p, Key: testKey,
		Support: account.Contacts{Email: "help@example.com"}})
	if err != nil {
		tb.Fatal(err)
	}
	return svc
}

func (f *fixture) mustUser(tb testing.TB, name, pw string, roles ...string) *mfagate.User {
	tb.Helper()
	if len(roles) == 0 {
		roles = []string{"user"}
	}
	u, err := f.svc.CreateUser(context.Background(), account.Actor{Name: "test", AtServer: true}, account.NewUser{
		Username: name, Email: name + "@example.com", Roles: roles, Password: pw,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

func (f *fixture) mustSignIn(tb testing.TB, name, pw string) *account.SignedIn {
	tb.Helper()
	in, err := f.svc.SignIn(context.Background(), account.SignIn{Username: name, Password: pw})
	if err != nil {
		tb.Fatalf("sign in %s: %v", name, err)
	}
	return in
}

func (f *fixture) audit(tb testing.TB, flt mfagate.AuditFilter) []*mfagate.AuditEvent {
	tb.Helper()
	var evs []*mfagate.AuditEvent
	err := f.store.View(context.Background(), func(tx mfagate.Tx) (err error) {
		evs, err = tx.AuditEvents(flt)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return evs
}

func (f *fixture) mail(tb testing.TB) []*mfagate.Message {
	tb.Helper()
	var ms []*mfagate.Message
	err := f.store.View(context.Background(), func(tx mfagate.Tx) (err error) {
		ms, err = tx.Mail(0)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return ms
}

const pw = "plum orchard lantern"

func TestSignInFailuresLookAlikeAndCostTheSame(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	f.mustUser(t, "nopass", "")
	dis := f.mustUser(t, "gone", pw)
	if err := f.svc.SetDisabled(ctx, account.Actor{Name: "test"}, dis.Username, true, "left"); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, user, pass string }{
		{"unknown user", "nobody", pw},
		{"wrong password", "alice", "not the password"},
		{"account without password", "nopass", pw},
		{"disabled account", "gone", pw},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.svc.Checks().Password
			_, err := f.svc.SignIn(ctx, account.SignIn{Username: tt.user, Password: tt.pass})
			if err != account.ErrBadCredentials {
				t.Fatalf("got %v, want ErrBadCredentials", err)
			}
			if got := f.svc.Checks().Password - before; got != 1 {
				t.Fatalf("got %d password checks, want 1 (the same work as a real account)", got)
			}
		})
	}
	evs := f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditSignInPassword})
	if len(evs) != len(tests) {
		t.Fatalf("got %d audit events, want %d", len(evs), len(tests))
	}
	for _, e := range evs {
		if e.Outcome != mfagate.OutcomeFailure {
			t.Errorf("got outcome %q, want failure", e.Outcome)
		}
		if strings.Contains(e.Subject, "nobody") || strings.Contains(e.Actor, "nobody") || strings.Contains(e.Detail, pw) {
			t.Errorf("audit event records typed input: %+v", e)
		}
	}
}

func TestSignInRefusesOversizeInputBeforeHashing(t *testing.T) {
	f := newFixture(t)
	f.mustUser(t, "alice", pw)
	before := f.svc.Checks().Password
	tests := []struct{ name, user, pass string }{
		{"1 MB password", "alice", strings.Repeat("a", 1<<20)},
		{"1025-byte password", "alice", strings.Repeat("a", 1025)},
		{"long username", strings.Repeat("a", 300), pw},
		{"non-UTF-8 username", "ali\xffce", pw},
		{"non-UTF-8 password", "alice", "pl\xfeum orchard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.SignIn(context.Background(), account.SignIn{Username: tt.user, Password: tt.pass})
			if mfagate.ErrorCode(err) != mfagate.EINVALID {
				t.Fatalf("got %v, want an EINVALID error", err)
			}
		})
	}
	if got := f.svc.Checks().Password - before; got != 0 {
		t.Fatalf("got %d password checks, want none", got)
	}
}

func TestSignInRehashesWhenParametersChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	old, _ := f.svc.User(ctx, "alice")

	stronger := cheap
	stronger.Time = 2
	svc := mustService(t, f.store, f.clock, stronger)
	if _, err := svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw}); err != nil {
		t.Fatal(err)
	}
	u, _ := svc.User(ctx, "alice")
	if u.PasswordHash == old.PasswordHash || !strings.Contains(u.PasswordHash, "t=2") {
		t.Fatalf("got hash %q, want one made with t=2", u.PasswordHash)
	}
	if _, err := svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw}); err != nil {
		t.Fatalf("sign-in after rehash: %v", err)
	}
	if n := len(f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditPasswordRehash})); n != 1 {
		t.Fatalf("got %d rehash events, want 1", n)
	}
}

func TestSessionTimeouts(t *testing.T) {
	ctx := context.Background()
	t.Run("idle", func(t *testing.T) {
		f := newFixture(t)
		f.mustUser(t, "alice", pw)
		in := f.mustSignIn(t, "alice", pw)
		f.clock.Advance(29*time.Minute + 59*time.Second)
		if _, err := f.svc.Authenticate(ctx, in.Token); err != nil {
			t.Fatalf("one second before the idle timeout: got %v, want a valid session", err)
		}
		f.clock.Advance(30 * time.Minute) // idle since the last use
		if _, err := f.svc.Authenticate(ctx, in.Token); err != account.ErrNoSession {
			t.Fatalf("after 30 idle minutes: got %v, want ErrNoSession", err)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		f := newFixture(t)
		f.mustUser(t, "alice", pw)
		in := f.mustSignIn(t, "alice", pw)
		for elapsed := time.Duration(0); elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
			f.clock.Advance(20 * time.Minute)
			if _, err := f.svc.Authenticate(ctx, in.Token); err != nil {
				t.Fatalf("after %v of steady use: got %v, want a valid session", elapsed+20*time.Minute, err)
			}
		}
		f.clock.Set(start.Add(12 * time.Hour))
		if _, err := f.svc.Authenticate(ctx, in.Token); err != account.ErrNoSession {
			t.Fatalf("at 12 hours: got %v, want ErrNoSession", err)
		}
	})
	t.Run("last seen written at the flush", func(t *testing.T) {
		f := newFixture(t)
		f.mustUser(t, "alice", pw)
		in := f.mustSignIn(t, "alice", pw)
		f.clock.Advance(30 * time.Second)
		cur, _ := f.svc.Authenticate(ctx, in.Token)
		if !cur.Session.LastSeenAt.Equal(f.clock.Now()) {
			t.Fatalf("answered last seen %v, want %v", cur.Session.LastSeenAt, f.clock.Now())
		}
		if got := mustStoredSession(t, f.store, cur.Session.Hash).LastSeenAt; !got.Equal(start) {
			t.Fatalf("stored last seen before the flush: got %v, want unchanged %v", got, start)
		}
		if err := f.svc.FlushTouches(ctx); err != nil {
			t.Fatal(err)
		}
		if got := mustStoredSession(t, f.store, cur.Session.Hash).LastSeenAt; !got.Equal(f.clock.Now()) {
			t.Fatalf("stored last seen after the flush: got %v, want %v", got, f.clock.Now())
		}
	})
}

func mustStoredSession(tb testing.TB, store mfagate.Store, hash []byte) *mfagate.Session {
	tb.Helper()
	var sess *mfagate.Session
	if err := store.View(context.Background(), func(tx mfagate.Tx) (err error) {
		sess, err = tx.SessionByHash(hash)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	return sess
}

func TestSignInReplacesTheOldSession(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	first := f.mustSignIn(t, "alice", pw)
	second, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, OldToken: first.Token})
	if err != nil {
		t.Fatal(err)
	}
	if second.Token == first.Token {
		t.Fatal("got the same session token after signing in again, want a new one")
	}
	if _, err := f.svc.Authenticate(ctx, first.Token); err != account.ErrNoSession {
		t.Fatalf("old token: got %v, want ErrNoSession", err)
	}
	if len(second.Token) != 64 {
		t.Fatalf("got a %d-character token, want 64 (256 random bits and a 128-bit MAC, base64url)", len(second.Token))
	}
}

func TestDisablingEndsSessions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	in := f.mustSignIn(t, "alice", pw)
	if err := f.svc.SetDisabled(ctx, account.Actor{Name: "cli"}, "alice", true, "left the company"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, in.Token); err != account.ErrNoSession {
		t.Fatalf("got %v, want ErrNoSession", err)
	}
	evs := f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditUserDisable})
	if len(evs) != 1 || evs[0].Reason != "left the company" || evs[0].Actor != "cli" {
		t.Fatalf("got %+v, want one disable event with actor and reason", evs)
	}
}

func TestChangePassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	here := f.mustSignIn(t, "alice", pw)
	there := f.mustSignIn(t, "alice", pw)
	cur, err := f.svc.Authenticate(ctx, here.Token)
	if err != nil {
		t.Fatal(err)
	}
	const next = "violet harbour compass"
	if err := f.svc.ChangePassword(ctx, cur, "wrong guess", next, account.Actor{}); err != account.ErrWrongCurrentPassword {
		t.Fatalf("wrong current password: got %v, want ErrWrongCurrentPassword", err)
	}
	if err := f.svc.ChangePassword(ctx, cur, pw, "password1", account.Actor{}); mfagate.ErrorCode(err) != mfagate.EINVALID {
		t.Fatalf("common new password: got %v, want EINVALID", err)
	}
	if err := f.svc.ChangePassword(ctx, cur, pw, next, account.Actor{ClientAddr: "192.0.2.7"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, there.Token); err != account.ErrNoSession {
		t.Fatalf("other session: got %v, want ErrNoSession", err)
	}
	if _, err := f.svc.Authenticate(ctx, here.Token); err != nil {
		t.Fatalf("this session: got %v, want it kept", err)
	}
	if _, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw}); err != account.ErrBadCredentials {
		t.Fatalf("old password: got %v, want ErrBadCredentials", err)
	}
	f.mustSignIn(t, "alice", next)
	ms := f.mail(t)
	if len(ms) != 1 || ms[0].To != "alice@example.com" || ms[0].Subject != "Your password was changed" {
		t.Fatalf("got %d emails %+v, want one 'Your password was changed' to alice", len(ms), ms)
	}
	for _, want := range []string{"192.0.2.7", "help@example.com", "1 June 2027"} {
		if !strings.Contains(ms[0].Text, want) {
			t.Errorf("email does not say %q:\n%s", want, ms[0].Text)
		}
	}
	if strings.Contains(ms[0].Text, next) || strings.Contains(ms[0].Text, "http") {
		t.Errorf("email holds the password or a link:\n%s", ms[0].Text)
	}
}

func TestCreateUserValidation(t *testing.T) {
	f := newFixture(t)
	f.mustUser(t, "alice", pw)
	tests := []struct {
		name string
		in   account.NewUser
		code string
		want string
	}{
		{"taken, other case", account.NewUser{Username: "ALICE", Email: "a@example.com", Roles: []string{"user"}}, mfagate.ECONFLICT, "taken"},
		{"empty username", account.NewUser{Email: "a@example.com", Roles: []string{"user"}}, mfagate.EINVALID, "Enter a username"},
		{"space in username", account.NewUser{Username: "a b", Email: "a@example.com", Roles: []string{"user"}}, mfagate.EINVALID, "Username"},
		{"bad email", account.NewUser{Username: "bob", Email: "bob@", Roles: []string{"user"}}, mfagate.EINVALID, "email address"},
		{"display-name email", account.NewUser{Username: "bob", Email: "Bob <bob@example.com>", Roles: []string{"user"}}, mfagate.EINVALID, "email address"},
		{"no role", account.NewUser{Username: "bob", Email: "bob@example.com"}, mfagate.EINVALID, "at least one role"},
		{"bad role", account.NewUser{Username: "bob", Email: "bob@example.com", Roles: []string{"Super User"}}, mfagate.EINVALID, "Role"},
		{"weak password", account.NewUser{Username: "bob", Email: "bob@example.com", Roles: []string{"user"}, Password: "short"}, mfagate.EINVALID, "at least 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.CreateUser(context.Background(), account.Actor{Name: "test"}, tt.in)
			if mfagate.ErrorCode(err) != tt.code || !strings.Contains(mfagate.ErrorMessage(err), tt.want) {
				t.Fatalf("got %v (%s), want %s containing %q", err, mfagate.ErrorCode(err), tt.code, tt.want)
			}
		})
	}
	us, _ := f.svc.Users(context.Background(), mfagate.UserFilter{})
	if len(us) != 1 {
		t.Fatalf("got %d accounts, want only alice", len(us))
	}
}
