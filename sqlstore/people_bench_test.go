package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
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
			plan := sqltest.SeedSchedule()
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
					users, err := tx.CampaignRecipients("c1", []string{mfagate.RoleAdmin}, true, nil, int64(n/2), 500)
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
