package account_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore/storetest"
)

// TestRolesFromTheKnownList: with the installation's roles given, a role
// off the list is refused when an account is made or imported, with the
// closest role named when one is close, and an import with such a row
// imports nothing; accounts that hold a role no longer listed are counted
// by UnknownRoles.
func TestRolesFromTheKnownList(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	known := []string{"admin", "user", "operator", "support"}
	f.svc = mustServiceWith(t, f.store, f.clock, account.Options{Roles: known})
	staff := account.Actor{Name: "test", AtServer: true}
	for _, tc := range []struct{ role, want string }{
		{"admn", `Role "admn" is not one of the roles this installation uses (admin, user, operator, support). Did you mean "admin"?`},
		{"wizard", `Role "wizard" is not one of the roles this installation uses (admin, user, operator, support). An operator can add it to roles in the configuration`},
	} {
		_, err := f.svc.CreateUser(ctx, staff, account.NewUser{Username: "ada", Email: "ada@example.com", Roles: []string{"user", tc.role}})
		if mfagate.ErrorCode(err) != mfagate.EINVALID || mfagate.ErrorMessage(err) != tc.want {
			t.Errorf("role %q: got %v, want %q", tc.role, err, tc.want)
		}
	}
	rows := []account.ImportRow{
		{Line: 2, NewUser: account.NewUser{Username: "bea", Email: "bea@example.com", Roles: []string{"user"}}},
		{Line: 3, NewUser: account.NewUser{Username: "cy", Email: "cy@example.com", Roles: []string{"suport"}}},
	}
	if _, err := f.svc.ImportUsers(ctx, staff, rows); err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), `Did you mean "support"?`) {
		t.Errorf("import with an unknown role: got %v, want the row and the role named", err)
	}
	if _, err := f.svc.User(ctx, "bea"); mfagate.ErrorCode(err) != mfagate.ENOTFOUND {
		t.Errorf("the import's good row: got %v, want nothing imported", err)
	}
	if _, err := f.svc.CreateUser(ctx, staff, account.NewUser{Username: "dee", Email: "dee@example.com", Roles: []string{"admin"}}); err != nil {
		t.Fatal(err)
	}
	// Given before the list existed: straight into the store.
	for _, name := range []string{"eve", "fay"} {
		if err := f.store.Update(ctx, func(tx mfagate.Tx) error {
			return tx.CreateUser(&mfagate.User{Username: name, Email: name + "@example.com", Roles: []string{"wizard", "user"}, CreatedAt: f.clock.Now()})
		}); err != nil {
			t.Fatal(err)
		}
	}
	unknown, err := f.svc.UnknownRoles(ctx)
	if err != nil || len(unknown) != 1 || unknown["wizard"] != 2 {
		t.Errorf("UnknownRoles: got %v, %v; want wizard held by 2", unknown, err)
	}
	// Without a list (tests, embedding), any well-formed role is taken.
	if _, err := f.newServiceAnyRoles(t).CreateUser(ctx, staff, account.NewUser{Username: "gus", Email: "gus@example.com", Roles: []string{"wizard"}}); err != nil {
		t.Errorf("no list: got %v", err)
	}
}

func (f *fixture) newServiceAnyRoles(tb testing.TB) *account.Service {
	return mustServiceWith(tb, f.store, f.clock, account.Options{})
}

// TestSetRoles: staff change a person's roles with a reason, from the
// known list; it is audited with the roles before and after, the person is
// emailed, and forward-auth answers with the new roles at the next check
// though its entry was warm (the session itself goes on). The console and
// the API (not at the server) can neither grant operator or support nor
// change a staff account's roles; the server's command line can.
func TestSetRoles(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.svc = mustServiceWith(t, f.store, f.clock, account.Options{Roles: []string{"admin", "user", "operator", "support"}})
	f.mustUser(t, "ada", pw, "user")
	f.mustUser(t, "sam", pw, "support")
	console := account.Actor{Name: "sam", ClientAddr: "192.0.2.7"}
	in, err := f.svc.SignIn(ctx, account.SignIn{Username: "ada", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if cur, err := f.svc.CheckSession(ctx, in.Token); err != nil || cur.Groups != "user" {
		t.Fatalf("before: %+v, %v", cur, err)
	}

	if err := f.svc.SetRoles(ctx, console, "ada", []string{"admin", "user"}, ""); mfagate.ErrorCode(err) != mfagate.EINVALID {
		t.Errorf("no reason: got %v, want EINVALID", err)
	}
	if err := f.svc.SetRoles(ctx, console, "ada", []string{"admn"}, "promoted"); err == nil || !strings.Contains(err.Error(), `Did you mean "admin"?`) {
		t.Errorf("a role off the list: got %v", err)
	}
	if err := f.svc.SetRoles(ctx, console, "ada", []string{"support", "user"}, "promoted"); mfagate.ErrorCode(err) != mfagate.EFORBIDDEN {
		t.Errorf("granting support from the console: got %v, want EFORBIDDEN", err)
	}
	if err := f.svc.SetRoles(ctx, account.Actor{Name: "ada"}, "sam", []string{"user"}, "demoted"); mfagate.ErrorCode(err) != mfagate.EFORBIDDEN {
		t.Errorf("changing a staff account from the console: got %v, want EFORBIDDEN", err)
	}
	if got := successes(f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditRolesChange})); len(got) != 0 {
		t.Fatalf("refused changes were applied: %+v", got)
	}

	if err := f.svc.SetRoles(ctx, console, "ada", []string{"user", "admin"}, "leads the ops team"); err != nil {
		t.Fatal(err)
	}
	u, err := f.svc.User(ctx, "ada")
	if err != nil || !slices.Equal(u.Roles, []string{"admin", "user"}) {
		t.Fatalf("ada's roles: %v, %v", u, err)
	}
	evs := successes(f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditRolesChange}))
	if len(evs) != 1 || evs[0].Actor != "sam" || evs[0].Reason != "leads the ops team" || evs[0].Detail != "roles user → admin, user" {
		t.Errorf("audit: %+v", evs)
	}
	if n := len(f.mailsAbout(t, "Your roles have changed")); n != 1 {
		t.Errorf("%d emails about the change, want 1", n)
	}
	cur, err := f.svc.CheckSession(ctx, in.Token) // the entry was warm, within CheckTTL
	if err != nil || cur.Groups != "admin,user" || !slices.Equal(cur.Roles, []string{"admin", "user"}) {
		t.Errorf("forward-auth after the change: %+v, %v; want the new roles at once", cur, err)
	}
	if err := f.svc.SetRoles(ctx, console, "ada", []string{"admin", "user"}, "again"); err != nil {
		t.Fatal(err)
	}
	if n := len(successes(f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditRolesChange}))); n != 1 {
		t.Errorf("the same roles again: %d changes audited, want still 1", n)
	}

	// At the server's command line: staff roles too.
	if err := f.svc.SetRoles(ctx, account.Actor{Name: mfagate.ActorCLI, AtServer: true}, "ada", []string{"operator", "user"}, "on call"); err != nil {
		t.Fatal(err)
	}
	if u, _ := f.svc.User(ctx, "ada"); !slices.Equal(u.Roles, []string{"operator", "user"}) {
		t.Errorf("at the server: %v", u.Roles)
	}
	storetest.CheckGroups(t, f.store, "after the role changes")
}

// successes are the events of evs that succeeded.
func successes(evs []*mfagate.AuditEvent) []*mfagate.AuditEvent {
	var out []*mfagate.AuditEvent
	for _, e := range evs {
		if e.Outcome == mfagate.OutcomeSuccess {
			out = append(out, e)
		}
	}
	return out
}
