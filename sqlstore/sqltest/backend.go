package sqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mfagate/mfagate/sqlstore"
)

// PostgresEnv names the variable holding the PostgreSQL DSN that tests use;
// without it, PostgreSQL tests skip.
const PostgresEnv = "MFAGATE_TEST_POSTGRES_DSN"

// Backend makes fresh, empty databases of one kind for tests.
type Backend struct {
	Driver string
	// DSN returns a new empty database's DSN, which may be opened more than
	// once (two "replicas" on one database).
	DSN func(tb testing.TB) string
}

// SQLite makes each database a file under the test's temporary folder.
func SQLite() Backend {
	return Backend{Driver: sqlstore.DriverSQLite, DSN: func(tb testing.TB) string {
		// A folder that does not exist yet: Open creates it.
		return filepath.Join(tb.TempDir(), "data", "mfagate.db")
	}}
}

// Postgres gives each database its own schema in the database named by
// MFAGATE_TEST_POSTGRES_DSN, dropped when the test ends, so runs and
// parallel packages do not collide. It skips tb when the variable is unset.
func Postgres(tb testing.TB) Backend {
	base := os.Getenv(PostgresEnv)
	if base == "" {
		tb.Skip("set " + PostgresEnv + " to run the PostgreSQL suite, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return Backend{Driver: sqlstore.DriverPostgres, DSN: func(tb testing.TB) string {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			tb.Fatalf("open %s: %v", PostgresEnv, err)
		}
		tb.Cleanup(func() { admin.Close() })
		schema := "test_" + randomHex(tb)
		if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
			tb.Fatalf("create schema: %v", err)
		}
		tb.Cleanup(func() {
			if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				tb.Errorf("drop schema: %v", err)
			}
		})
		return withSearchPath(tb, base, schema)
	}}
}

// Open opens dsn with the driver's default options and closes it when tb
// ends.
func (b Backend) Open(tb testing.TB, dsn string) *sqlstore.DB {
	tb.Helper()
	return b.OpenWith(tb, dsn, sqlstore.Options{})
}

// OpenWith opens dsn with o and closes it when tb ends.
func (b Backend) OpenWith(tb testing.TB, dsn string, o sqlstore.Options) *sqlstore.DB {
	tb.Helper()
	db, err := sqlstore.OpenWith(context.Background(), b.Driver, dsn, o)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// New opens a fresh, migrated database.
func (b Backend) New(tb testing.TB) *sqlstore.DB {
	tb.Helper()
	db := b.Open(tb, b.DSN(tb))
	MustMigrate(tb, db)
	return db
}

// MustMigrate applies the migrations and returns the names applied.
func MustMigrate(tb testing.TB, db *sqlstore.DB) []string {
	tb.Helper()
	applied, err := db.Migrate(context.Background())
	if err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return applied
}

// withSearchPath adds search_path to a pgx DSN, URL or key=value form.
func withSearchPath(tb testing.TB, dsn, schema string) string {
	if !strings.Contains(dsn, "://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(tb testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// EachBackend runs fn as a subtest on SQLite and, when
// MFAGATE_TEST_POSTGRES_DSN is set, on PostgreSQL.
func EachBackend(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite()) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// Replicas opens one fresh, migrated database twice, as two servers
// sharing it would.
func (b Backend) Replicas(tb testing.TB) (one, two *sqlstore.DB) {
	tb.Helper()
	dsn := b.DSN(tb)
	one = b.Open(tb, dsn)
	MustMigrate(tb, one)
	return one, b.Open(tb, dsn)
}
