package sqlstore_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/sqlstore/storetest"
)

// testMigrateFrom0006 upgrades a database as the mail release left it and
// checks that Migrate puts every account in its rollout group, counted
// once: roles, factors, skips, sign-ins, unreached and disabled people,
// and one with an extension, whom ExtendedPeople then finds. An account
// that an older release creates afterwards (in no group) is counted at the
// next start.
func testMigrateFrom0006(t *testing.T, b sqltest.Backend) {
	ctx := context.Background()
	db := b.Open(t, b.DSN(t))
	if _, err := sqlstore.MigrateTo(ctx, db, "0006_mail.sql"); err != nil {
		t.Fatalf("MigrateTo 0006: %v", err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if err := sqlstore.Exec(ctx, db, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	extended := base.Add(30 * 24 * time.Hour)
	people := []struct {
		name      string
		roles     []string
		methods   []string
		signedIn  bool
		skips     int
		disabled  bool
		unreached bool
		extended  bool
	}{
		{"ann", []string{"user", "admin"}, []string{"totp", "email"}, true, 0, false, false, false},
		{"ben", []string{"admin"}, nil, false, 2, false, true, true},
		{"cat", []string{"user"}, []string{"email"}, true, 0, true, false, false},
		{"dan", []string{"user"}, nil, false, 0, false, false, false},
		{"eve", nil, nil, true, 1, false, true, false},
	}
	for _, p := range people {
		var signedIn, unreached, until any
		if p.signedIn {
			signedIn = base.UnixMilli()
		}
		if p.unreached {
			unreached = base.UnixMilli()
		}
		if p.extended {
			until = extended.UnixMilli()
		}
		exec(`INSERT INTO users (username, username_key, created_at, last_sign_in_at, skips, disabled, unreached_at, extended_until)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, p.name, p.name, base.UnixMilli(), signedIn, p.skips, boolInt(p.disabled), unreached, until)
		for _, r := range p.roles {
			exec(`INSERT INTO user_roles (user_id, role) SELECT id, ? FROM users WHERE username_key = ?`, r, p.name)
		}
		for _, m := range p.methods {
			exec(`INSERT INTO factors (user_id, method, created_at) SELECT id, ?, ? FROM users WHERE username_key = ?`,
				m, base.UnixMilli(), p.name)
		}
	}
	if got, want := sqltest.MustMigrate(t, db), allMigrations[6:]; !reflect.DeepEqual(got, want) {
		t.Fatalf("Migrate from 0006: got %v, want %v", got, want)
	}
	wantGroups := map[string]int{
		"admin,user email,totp signed-in":    1,
		"admin none skipped never unreached": 1,
		"user email signed-in disabled":      1,
		"user none never":                    1,
		" none skipped signed-in unreached":  1,
	}
	if got := groupsOf(t, db); !reflect.DeepEqual(got, wantGroups) {
		t.Errorf("groups after the upgrade: got %v, want %v", got, wantGroups)
	}
	storetest.CheckProgress(t, db, "after the upgrade")
	var ext []*mfagate.Person
	err := db.View(ctx, func(tx mfagate.Tx) (err error) { _, ext, err = tx.Groups(base); return err })
	if err != nil || len(ext) != 1 || ext[0].Username != "ben" || !ext[0].ExtendedUntil.Equal(extended) ||
		!reflect.DeepEqual(ext[0].Roles, []string{"admin"}) || ext[0].SignedIn || !ext[0].Unreached || ext[0].Skips != 2 {
		t.Errorf("extended people after the upgrade: got %+v, %v; want ben, extended to %v", ext, err, extended)
	}

	// An older release still running during the upgrade creates fay
	// without a group; the next start counts her.
	exec(`INSERT INTO users (username, username_key, created_at) VALUES ('fay', 'fay', ?)`, base.UnixMilli())
	exec(`INSERT INTO user_roles (user_id, role) SELECT id, 'user' FROM users WHERE username_key = 'fay'`)
	var fay *mfagate.User
	if err := db.View(ctx, func(tx mfagate.Tx) (err error) { fay, err = tx.UserByUsername("fay"); return err }); err != nil ||
		!reflect.DeepEqual(fay.Roles, []string{"user"}) {
		t.Fatalf("fay, in no group yet: %+v, %v; want her roles read from user_roles", fay, err)
	}
	if got := sqltest.MustMigrate(t, db); len(got) != 0 {
		t.Fatalf("second Migrate applied %v", got)
	}
	wantGroups["user none never"] = 2
	if got := groupsOf(t, db); !reflect.DeepEqual(got, wantGroups) {
		t.Errorf("groups after the next start: got %v, want %v", got, wantGroups)
	}
	storetest.CheckProgress(t, db, "after the next start")
}

// groupsOf names each group by its roles, methods and facts.
func groupsOf(t *testing.T, db *sqlstore.DB) map[string]int {
	t.Helper()
	var groups []*mfagate.Group
	if err := db.View(context.Background(), func(tx mfagate.Tx) (err error) { groups, _, err = tx.Groups(time.Time{}); return err }); err != nil {
		t.Fatalf("Groups: %v", err)
	}
	out := map[string]int{}
	for _, g := range groups {
		methods := strings.Join(g.Methods, ",")
		if methods == "" {
			methods = "none"
		}
		name := strings.Join(g.Roles, ",") + " " + methods
		for _, f := range []struct {
			on   bool
			word string
		}{{g.Skipped, "skipped"}, {!g.NeverSignedIn, "signed-in"}, {g.NeverSignedIn, "never"}, {g.Unreached, "unreached"}, {g.Disabled, "disabled"}} {
			if f.on {
				name += " " + f.word
			}
		}
		out[name] += g.People
	}
	return out
}
