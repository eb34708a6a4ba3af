package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/sqlstore"
)

// BenchmarkPeople streams every account of a seeded population, as a
// rollout simulation does: a million on SQLite (and on PostgreSQL when
// MFAGATE_TEST_POSTGRES_DSN is set), a hundred thousand with -short. One
// op is the whole population; ns/person is the cost of one account.
// View and Update are what callers get; Merged and Joined force one way
// of streaming, to compare them. RecipientsPage is one page of a campaign
// from the middle of the population.
//
//	go test ./sqlstore -run '^$' -bench People -benchtime 3x
func BenchmarkPeople(b *testing.B) {
	eachSeededBackend(b, func(b *testing.B, db *sqlstore.DB, n int) {
		// A walk over every account outlasts the request timeout; its
		// callers (rollout simulate, the forecast) give it a deadline of
		// its own, and so does the benchmark.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		stream := func(b *testing.B, walk func(fn func(*mfagate.Person) error) error) {
			b.ReportAllocs()
			for b.Loop() {
				seen, decided := 0, 0
				err := walk(func(p *mfagate.Person) error {
					seen++
					// Stands in for deciding: cheap work on every field read.
					if !p.Disabled && len(p.Methods) == 0 && slices.Contains(p.Roles, mfagate.RoleAdmin) {
						decided++
					}
					return nil
				})
				if err != nil {
					b.Fatalf("People: %v", err)
				}
				if seen != n {
					b.Fatalf("people: got %d, want %d", seen, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/person")
		}
		b.Run("View", func(b *testing.B) {
			stream(b, func(fn func(*mfagate.Person) error) error {
				return db.View(ctx, func(tx mfagate.Tx) error { return tx.People(fn) })
			})
		})
		b.Run("Update", func(b *testing.B) {
			stream(b, func(fn func(*mfagate.Person) error) error {
				return db.Update(ctx, func(tx mfagate.Tx) error { return tx.People(fn) })
			})
		})
		b.Run("Merged", func(b *testing.B) {
			stream(b, func(fn func(*mfagate.Person) error) error {
				return sqlstore.PeopleMerged(context.Background(), db, fn)
			})
		})
		b.Run("Joined", func(b *testing.B) {
			stream(b, func(fn func(*mfagate.Person) error) error {
				return sqlstore.PeopleJoined(context.Background(), db, fn)
			})
		})
		b.Run("Simulate", func(b *testing.B) {
			// What "mfagate rollout simulate" does: stream and decide.
			plan := benchPlan()
			for b.Loop() {
				sim := rollout.NewSimulator(plan, time.Date(2027, 7, 20, 0, 0, 0, 0, time.UTC))
				err := db.View(ctx, func(tx mfagate.Tx) error {
					return tx.People(func(p *mfagate.Person) error {
						sim.Add(rollout.Person{Roles: p.Roles, Methods: p.Methods, ExtendedUntil: p.ExtendedUntil}, p.SignedIn)
						return nil
					})
				})
				if err != nil || sim.Summary().Total != n {
					b.Fatalf("simulate: %v, %d people", err, sim.Summary().Total)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/person")
		})
		b.Run("RecipientsPage", func(b *testing.B) {
			// Admins without a factor, 500 at a time, from the middle.
			for b.Loop() {
				err := db.View(context.Background(), func(tx mfagate.Tx) error {
					users, err := tx.CampaignRecipients("c1", []string{mfagate.RoleAdmin}, true, int64(n/2), 500)
					if err == nil && len(users) != 500 {
						err = fmt.Errorf("got %d recipients, want 500", len(users))
					}
					return err
				})
				if err != nil {
					b.Fatalf("CampaignRecipients: %v", err)
				}
			}
		})
	})
}

// mustSeedPeople inserts n accounts with IDs 1..n in one transaction,
// with multi-row INSERTs: everyone is a user, every 7th an admin too,
// every 50th in support, every 97th without roles; 30% have a factor
// (email, and every 20th TOTP as well); two in three have signed in; one
// in a hundred is disabled, one in two hundred has an extension and one
// in eleven has skipped setting up MFA.
func mustSeedPeople(tb testing.TB, db *sqlstore.DB, n int) {
	tb.Helper()
	const batch = 1000
	created := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	err := sqlstore.ExecInTx(context.Background(), db, func(exec func(string, ...any) error) error {
		var users, roles, factors rows
		for i := 1; i <= n; i++ {
			var signedIn, extended any
			if i%3 != 0 {
				signedIn = created + int64(i)
			}
			if i%200 == 0 {
				extended = created + 86_400_000
			}
			name := fmt.Sprintf("user%07d", i)
			skips := 0
			if i%11 == 0 {
				skips = 1 + i%3
			}
			users.add(8, i, name, name, created, signedIn, boolInt(i%100 == 0), extended, skips)
			// What migration 0004 and the store keep on each role row.
			state := 0
			if i%10 < 3 {
				state |= 1
				if i%20 == 0 {
					state |= 2
				}
			}
			if skips > 0 {
				state |= 4
			}
			if signedIn == nil {
				state |= 8
			}
			if i%100 == 0 {
				state |= 16
			}
			if i%97 != 0 {
				roles.add(3, i, mfagate.RoleUser, state)
				if i%7 == 0 {
					roles.add(3, i, mfagate.RoleAdmin, state)
				}
				if i%50 == 0 {
					roles.add(3, i, mfagate.RoleSupport, state)
				}
			}
			if i%10 < 3 {
				factors.add(3, i, mfagate.MethodEmail, created)
				if i%20 == 0 {
					factors.add(3, i, mfagate.MethodTOTP, created)
				}
			}
			if i%batch == 0 || i == n {
				for _, r := range []struct {
					prefix string
					rows   *rows
				}{
					{`INSERT INTO users (id, username, username_key, created_at, last_sign_in_at, disabled, extended_until, skips) VALUES `, &users},
					{`INSERT INTO user_roles (user_id, role, progress_state) VALUES `, &roles},
					{`INSERT INTO factors (user_id, method, created_at) VALUES `, &factors},
				} {
					if err := r.rows.flush(r.prefix, exec); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("seed %d people: %v", n, err)
	}
}

// rows gathers the VALUES of one multi-row INSERT.
type rows struct {
	values []string
	args   []any
}

func (r *rows) add(cols int, args ...any) {
	r.values = append(r.values, "("+strings.TrimSuffix(strings.Repeat("?, ", cols), ", ")+")")
	r.args = append(r.args, args...)
}

func (r *rows) flush(prefix string, exec func(string, ...any) error) error {
	if len(r.values) == 0 {
		return nil
	}
	err := exec(prefix+strings.Join(r.values, ", "), r.args...)
	r.values, r.args = r.values[:0], r.args[:0]
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// benchPlan is SPEC.md's four phases.
func benchPlan() *rollout.Rollout {
	both := []string{mfagate.MethodEmail, mfagate.MethodTOTP}
	day := func(m time.Month, d int) time.Time { return time.Date(2027, m, d, 0, 0, 0, 0, time.UTC) }
	return &rollout.Rollout{Location: time.UTC, Phases: []rollout.Phase{
		{Name: "Communication", Start: day(5, 26), Audience: []string{"admin"}, Requirement: rollout.Notify},
		{Name: "Optional", Start: day(6, 11), Audience: []string{"admin"}, Requirement: rollout.Optional, Methods: both},
		{Name: "Email required", Start: day(7, 13), Audience: []string{"admin"}, Requirement: rollout.Required, Methods: both, DefaultMethod: "email"},
		{Name: "Full enforcement", Start: day(7, 31), Audience: []string{"all"}, Requirement: rollout.Required, Methods: both},
	}}
}
