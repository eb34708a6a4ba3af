package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/sqlstore/storetest"
)

// BenchmarkProgress counts a million accounts by role and MFA state, as
// the rollout dashboard does on every request: on SQLite, and on
// PostgreSQL when MFAGATE_TEST_POSTGRES_DSN is set; a hundred thousand
// with -short. The population is sqltest.SeedPeople's.
//
//	go test ./sqlstore -run '^$' -bench Progress
func BenchmarkProgress(b *testing.B) {
	eachSeededBackend(b, func(b *testing.B, db *sqlstore.DB, n int) {
		// Once, the slow way: the seeded copy (progress_state) must
		// agree with the people it copies.
		storetest.CheckProgress(b, db, "seeded population")
		// The population's users: every account but each 97th, less
		// each 100th (disabled); 9,900 of them are both.
		wantUsers := n - n/97 - n/100 + n/9700
		for b.Loop() {
			var rows []*mfagate.ProgressRow
			err := db.View(context.Background(), func(tx mfagate.Tx) (err error) {
				rows, err = tx.Progress()
				return err
			})
			if err != nil {
				b.Fatalf("Progress: %v", err)
			}
			if len(rows) != 3 || rows[2].Role != mfagate.RoleUser || rows[2].Total != wantUsers {
				b.Fatalf("Progress: got %d rows, last %+v, want 3 with %d users", len(rows), rows[len(rows)-1], wantUsers)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
	})
}

// eachSeededBackend runs fn as a sub-benchmark on SQLite and, when
// MFAGATE_TEST_POSTGRES_DSN is set, PostgreSQL, each seeded with a million
// accounts by sqltest.SeedPeople (a hundred thousand with -short) and, on
// PostgreSQL, vacuumed and analysed as autovacuum soon would: statistics
// for the planner, and the visibility map that lets it count from an index.
func eachSeededBackend(b *testing.B, fn func(b *testing.B, db *sqlstore.DB, n int)) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	backends := []struct {
		name    string
		backend func(testing.TB) sqltest.Backend
	}{
		{"sqlite", func(testing.TB) sqltest.Backend { return sqltest.SQLite() }},
		{"postgres", sqltest.Postgres},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			backend := be.backend(b)
			dsn := backend.DSN(b)
			db := backend.Open(b, dsn)
			sqltest.MustMigrate(b, db)
			start := time.Now()
			sqltest.SeedPeople(b, backend, dsn, db, n)
			b.Logf("seeded %d accounts in %v", n, time.Since(start).Round(time.Millisecond))
			if be.name == "postgres" {
				if err := sqlstore.Exec(context.Background(), db, `VACUUM ANALYZE`); err != nil {
					b.Fatalf("VACUUM ANALYZE: %v", err)
				}
			}
			fn(b, db, n)
		})
	}
}
