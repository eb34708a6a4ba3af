package sqlstore_test

import (
	"context"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// TestStatementCachePerBackend: SQLite prepares each query once and reuses
// it; PostgreSQL prepares nothing of its own (pgx keeps each connection's
// statements), and only the rebound text is kept. Running the same calls
// again adds nothing.
func TestStatementCachePerBackend(t *testing.T) {
	for _, be := range []struct {
		name    string
		backend func(testing.TB) sqltest.Backend
		prepare bool
	}{
		{"sqlite", func(testing.TB) sqltest.Backend { return sqltest.SQLite() }, true},
		{"postgres", func(tb testing.TB) sqltest.Backend { return sqltest.Postgres(tb) }, false},
	} {
		t.Run(be.name, func(t *testing.T) {
			db := be.backend(t).New(t)
			ctx := context.Background()
			read := func() {
				t.Helper()
				if err := db.View(ctx, func(tx mfagate.Tx) error {
					_, err := tx.UserByUsername("nobody")
					if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
						return nil
					}
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			read()
			prepared, cached := sqlstore.StatementsCached(db)
			if cached == 0 {
				t.Fatal("nothing cached")
			}
			if want := 0; be.prepare {
				if prepared == 0 {
					t.Fatalf("%d queries cached, none prepared", cached)
				}
			} else if prepared != want {
				t.Fatalf("%d statements prepared, want %d", prepared, want)
			}
			read()
			if p, c := sqlstore.StatementsCached(db); p != prepared || c != cached {
				t.Fatalf("the same read again: %d prepared, %d cached; was %d, %d", p, c, prepared, cached)
			}
		})
	}
}
