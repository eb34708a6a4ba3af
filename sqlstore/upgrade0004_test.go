package sqlstore_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/sqlstore/storetest"
)

// testMigrateFrom0003 upgrades a database as the rollout release left it,
// with people in every MFA state, and checks that Progress, which reads a
// copy that 0004 fills in, counts them as a recount does.
func testMigrateFrom0003(t *testing.T, b sqltest.Backend) {
	ctx := context.Background()
	db := b.Open(t, b.DSN(t))
	if _, err := sqlstore.MigrateTo(ctx, db, "0003_rollout.sql"); err != nil {
		t.Fatalf("MigrateTo 0003: %v", err)
	}
	exec := func(query string, args ...any) {
		t.Helper()
		if err := sqlstore.Exec(ctx, db, query, args...); err != nil {
			t.Fatalf("at 0003: %s: %v", query, err)
		}
	}
	people := []struct {
		name     string
		roles    []string
		methods  []string
		signedIn bool
		skips    int
		disabled bool
	}{
		{"ann", []string{"admin", "user"}, []string{"email", "totp"}, true, 0, false},
		{"ben", []string{"user"}, []string{"totp"}, true, 2, false},
		{"cat", []string{"user"}, []string{"email"}, false, 0, false},
		{"dan", []string{"admin"}, nil, false, 1, false},
		{"eve", []string{"user"}, nil, true, 0, false},
		{"fay", []string{"user"}, nil, false, 0, true},
	}
	for _, p := range people {
		var signedIn any
		if p.signedIn {
			signedIn = base.UnixMilli()
		}
		exec(`INSERT INTO users (username, username_key, created_at, last_sign_in_at, skips, disabled)
			VALUES (?, ?, ?, ?, ?, ?)`, p.name, p.name, base.UnixMilli(), signedIn, p.skips, boolInt(p.disabled))
		for _, r := range p.roles {
			exec(`INSERT INTO user_roles (user_id, role) SELECT id, ? FROM users WHERE username_key = ?`, r, p.name)
		}
		for _, m := range p.methods {
			exec(`INSERT INTO factors (user_id, method, created_at) SELECT id, ?, ? FROM users WHERE username_key = ?`,
				m, base.UnixMilli(), p.name)
		}
	}

	if got, want := sqltest.MustMigrate(t, db), allMigrations[3:]; !reflect.DeepEqual(got, want) {
		t.Fatalf("Migrate from 0003: got %v, want %v", got, want)
	}
	want := []mfagate.ProgressRow{
		{Role: "admin", Total: 2, Both: 1, None: 1, Skipped: 1, NeverSignedIn: 1},
		{Role: "user", Total: 4, Email: 1, TOTP: 1, Both: 1, None: 1},
	}
	var got []mfagate.ProgressRow
	for _, r := range storetest.MustProgress(t, db) {
		got = append(got, *r)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Progress after the upgrade: got %v, want %v", got, want)
	}
	storetest.CheckProgress(t, db, "after the upgrade")

	// And the copy is kept up from there.
	eve, err := sqlstore.QueryInt(ctx, db, `SELECT id FROM users WHERE username_key = 'eve'`)
	if err != nil {
		t.Fatalf("read eve: %v", err)
	}
	mustUpdate(t, db, func(tx mfagate.Tx) error {
		return tx.CreateFactor(&mfagate.Factor{UserID: eve, Method: mfagate.MethodEmail, CreatedAt: base})
	})
	storetest.CheckProgress(t, db, "after a factor")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
