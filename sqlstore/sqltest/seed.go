package sqltest

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/sqlstore"
)

// SeedPeople inserts n accounts with IDs 1..n into the migrated database
// dsn names, in one transaction of multi-row INSERTs written by hand (a
// million accounts through the use cases would take an hour): everyone is
// a user, every 7th an admin too, every 50th in support, every 97th
// without roles; 30% have a factor (email, and every 20th TOTP as well);
// two in three have signed in, and a quarter of the others were invited
// and have not accepted; one in a hundred is disabled, one in two hundred
// has an extension and one in eleven has skipped setting up MFA.
// Rows written by hand are in no rollout group, so it then counts the
// groups through db, as Migrate does after an upgrade. For benchmarks.
func SeedPeople(tb testing.TB, b Backend, dsn string, db *sqlstore.DB, n int) {
	tb.Helper()
	driver := "sqlite"
	if b.Driver == sqlstore.DriverPostgres {
		driver = "pgx"
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	ctx := context.Background()
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	const batch = 1000
	created := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	var users, roles, factors insertRows
	for _, r := range []*insertRows{&users, &roles, &factors} {
		r.postgres = driver == "pgx"
	}
	for i := 1; i <= n; i++ {
		var signedIn, extended, invited any
		if i%3 != 0 {
			signedIn = created + int64(i)
		} else if i%4 == 0 {
			invited = created
		}
		if i%200 == 0 {
			extended = created + 86_400_000
		}
		name := fmt.Sprintf("user%07d", i)
		skips := 0
		if i%11 == 0 {
			skips = 1 + i%3
		}
		disabled := 0
		if i%100 == 0 {
			disabled = 1
		}
		users.add(i, name, name, created, signedIn, disabled, extended, skips, invited)
		if i%97 != 0 {
			roles.add(i, mfagate.RoleUser)
			if i%7 == 0 {
				roles.add(i, mfagate.RoleAdmin)
			}
			if i%50 == 0 {
				roles.add(i, mfagate.RoleSupport)
			}
		}
		if i%10 < 3 {
			factors.add(i, mfagate.MethodEmail, created)
			if i%20 == 0 {
				factors.add(i, mfagate.MethodTOTP, created)
			}
		}
		if i%batch == 0 || i == n {
			for _, r := range []struct {
				prefix string
				rows   *insertRows
			}{
				{`INSERT INTO users (id, username, username_key, created_at, last_sign_in_at, disabled, extended_until, skips, invited_at) VALUES `, &users},
				{`INSERT INTO user_roles (user_id, role) VALUES `, &roles},
				{`INSERT INTO factors (user_id, method, created_at) VALUES `, &factors},
			} {
				if err := r.rows.flush(ctx, tx, r.prefix); err != nil {
					tb.Fatalf("seed %d people: %v", n, err)
				}
			}
		}
	}
	if driver == "pgx" { // later inserts must not reuse the IDs
		if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT MAX(id) FROM users))`); err != nil {
			tb.Fatalf("seed %d people: %v", n, err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatalf("seed %d people: %v", n, err)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute) // as Migrate's
	defer cancel()
	err = db.Update(ctx, func(tx mfagate.Tx) error {
		_, err := tx.RecountGroups(true)
		return err
	})
	if err != nil {
		tb.Fatalf("count the groups of %d people: %v", n, err)
	}
	tb.Logf("counted the rollout groups of %d people in %v", n, time.Since(start).Round(time.Millisecond))
}

// insertRows gathers the VALUES of one multi-row INSERT.
type insertRows struct {
	postgres bool
	values   []string
	args     []any
}

func (r *insertRows) add(args ...any) {
	marks := make([]string, len(args))
	for i := range args {
		marks[i] = "?"
		if r.postgres {
			marks[i] = "$" + strconv.Itoa(len(r.args)+i+1)
		}
	}
	r.values = append(r.values, "("+strings.Join(marks, ", ")+")")
	r.args = append(r.args, args...)
}

func (r *insertRows) flush(ctx context.Context, tx *sql.Tx, prefix string) error {
	if len(r.values) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, prefix+strings.Join(r.values, ", "), r.args...)
	r.values, r.args = r.values[:0], r.args[:0]
	return err
}

// SeedSchedule is SPEC.md's four phases, which the benchmarks forecast
// SeedPeople's population against: admins first, then everyone.
func SeedSchedule() *rollout.Rollout {
	both := []string{mfagate.MethodEmail, mfagate.MethodTOTP}
	day := func(m time.Month, d int) time.Time { return time.Date(2027, m, d, 0, 0, 0, 0, time.UTC) }
	return &rollout.Rollout{Location: time.UTC, Phases: []rollout.Phase{
		{Name: "Communication", Start: day(5, 26), Audience: []string{"admin"}, Requirement: rollout.Notify},
		{Name: "Optional", Start: day(6, 11), Audience: []string{"admin"}, Requirement: rollout.Optional, Methods: both},
		{Name: "Email required", Start: day(7, 13), Audience: []string{"admin"}, Requirement: rollout.Required, Methods: both, DefaultMethod: "email"},
		{Name: "Full enforcement", Start: day(7, 31), Audience: []string{"all"}, Requirement: rollout.Required, Methods: both},
	}}
}
