package account_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
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
