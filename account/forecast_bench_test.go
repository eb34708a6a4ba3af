package account_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// BenchmarkForecastCold is what the rollout dashboard and
// /api/v1/rollout/progress read — the forecast, the dashboard's count for
// each phase to come, the counts by role and the unreachable people —
// from a cold start: each op opens the database
// afresh and makes a new Service, so no connection, statement or result
// is warm in the server (the database's own cache is, as on a server that
// has run a while). On SQLite and, with MFAGATE_TEST_POSTGRES_DSN, on
// PostgreSQL, at 10,000, 100,000 and 1,000,000 accounts seeded by
// sqltest.SeedPeople (1,000,000 left out with -short). SPEC.md section 7:
// under 50 ms at a million, and flat: the three sizes within a factor of
// two of each other.
//
//	go test ./account -run '^$' -bench ForecastCold -benchtime 20x
func BenchmarkForecastCold(b *testing.B) {
	sizes := []int{10_000, 100_000, 1_000_000}
	if testing.Short() {
		sizes = sizes[:2]
	}
	backends := []struct {
		name    string
		backend func(testing.TB) sqltest.Backend
	}{
		{"sqlite", func(testing.TB) sqltest.Backend { return sqltest.SQLite() }},
		{"postgres", sqltest.Postgres},
	}
	plan := sqltest.SeedSchedule()
	at := time.Date(2027, 7, 20, 0, 0, 0, 0, time.UTC)
	// The phases to come are counted as on the day of the notice, when
	// there are most of them (three).
	noticeDay := mfagate.NewManualClock(time.Date(2027, 5, 27, 0, 0, 0, 0, time.UTC))
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			backend := be.backend(b)
			for _, n := range sizes {
				b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
					dsn := backend.DSN(b)
					seeded := backend.Open(b, dsn)
					sqltest.MustMigrate(b, seeded)
					sqltest.SeedPeople(b, backend, dsn, seeded, n)
					seeded.Close()
					clock := mfagate.NewManualClock(at)
					var total int
					b.ResetTimer()
					for b.Loop() {
						b.StopTimer()
						db := backend.Open(b, dsn)
						svc, err := account.New(account.Options{Store: db, Clock: clock, Password: cheap, Key: testKey, Rollout: plan})
						if err != nil {
							b.Fatal(err)
						}
						early, err := account.New(account.Options{Store: db, Clock: noticeDay, Password: cheap, Key: testKey, Rollout: plan})
						if err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
						ctx := context.Background()
						f, err := svc.ForecastNow(ctx)
						if err == nil {
							_, err = svc.Progress(ctx)
						}
						if err == nil {
							_, err = svc.UnreachedByRole(ctx)
						}
						if err == nil {
							var phases []account.PhaseForecast
							if phases, err = early.PhaseForecasts(ctx); err == nil && len(phases) != 3 {
								b.Fatalf("%d phases to come, want 3", len(phases))
							}
						}
						b.StopTimer()
						if err != nil {
							b.Fatal(err)
						}
						total = f.Total
						db.Close()
						b.StartTimer()
					}
					// Everyone but the disabled: one in a hundred.
					if want := n - n/100; total != want {
						b.Fatalf("the forecast counts %d people, want %d", total, want)
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
				})
			}
		})
	}
}
