package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/storetest"

	_ "github.com/jackc/pgx/v5/stdlib"
)

const postgresEnv = "MFAGATE_TEST_POSTGRES_DSN"

// backend opens databases of one kind for the tests: dsn returns a new,
// empty database's DSN, which may be opened more than once.
type backend struct {
	driver string
	dsn    func(t *testing.T) string
}

func sqliteBackend() backend {
	return backend{driver: sqlstore.DriverSQLite, dsn: func(t *testing.T) string {
		// A folder that does not exist yet: Open creates it.
		return filepath.Join(t.TempDir(), "data", "mfagate.db")
	}}
}

// postgresBackend gives each test its own schema in the database named by
// MFAGATE_TEST_POSTGRES_DSN, dropped when the test ends, so runs and
// parallel packages do not collide.
func postgresBackend(t *testing.T) backend {
	base := os.Getenv(postgresEnv)
	if base == "" {
		t.Skip("set " + postgresEnv + " to run the PostgreSQL suite, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return backend{driver: sqlstore.DriverPostgres, dsn: func(t *testing.T) string {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatalf("open %s: %v", postgresEnv, err)
		}
		t.Cleanup(func() { admin.Close() })
		schema := "test_" + randomHex(t)
		if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
			t.Fatalf("create schema: %v", err)
		}
		t.Cleanup(func() {
			if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				t.Errorf("drop schema: %v", err)
			}
		})
		return withSearchPath(t, base, schema)
	}}
}

// withSearchPath adds search_path to a pgx DSN, URL or key=value form.
func withSearchPath(t *testing.T, dsn, schema string) string {
	if !strings.Contains(dsn, "://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %s: %v", postgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(t *testing.T) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// mustOpen opens dsn and closes it when t ends.
func mustOpen(tb testing.TB, driver, dsn string) *sqlstore.DB {
	tb.Helper()
	db, err := sqlstore.Open(context.Background(), driver, dsn)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func mustMigrate(tb testing.TB, db *sqlstore.DB) []string {
	tb.Helper()
	applied, err := db.Migrate(context.Background())
	if err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return applied
}

func (b backend) newStore(t *testing.T) mfagate.Store {
	db := mustOpen(t, b.driver, b.dsn(t))
	mustMigrate(t, db)
	return db
}

func TestSQLite(t *testing.T) { runBackend(t, sqliteBackend()) }

func TestPostgres(t *testing.T) { runBackend(t, postgresBackend(t)) }

func runBackend(t *testing.T, b backend) {
	storetest.Run(t, b.newStore)

	t.Run("ClaimMailTwoReplicas", func(t *testing.T) {
		dsn := b.dsn(t)
		one := mustOpen(t, b.driver, dsn)
		mustMigrate(t, one)
		two := mustOpen(t, b.driver, dsn)
		storetest.ClaimConcurrently(t, one, two)
	})

	t.Run("MigrateTwice", func(t *testing.T) {
		db := mustOpen(t, b.driver, b.dsn(t))
		if got, want := mustMigrate(t, db), []string{"0001_init.sql"}; !reflect.DeepEqual(got, want) {
			t.Errorf("first Migrate: got %v, want %v", got, want)
		}
		if got := mustMigrate(t, db); len(got) != 0 {
			t.Errorf("second Migrate: got %v, want nothing applied", got)
		}
	})

	t.Run("MigrateConcurrently", func(t *testing.T) {
		// Two replicas starting together: one applies, the other waits and
		// finds nothing to do.
		dsn := b.dsn(t)
		dbs := []*sqlstore.DB{mustOpen(t, b.driver, dsn), mustOpen(t, b.driver, dsn)}
		type result struct {
			applied []string
			err     error
		}
		results := make(chan result, len(dbs))
		for _, db := range dbs {
			go func() {
				applied, err := db.Migrate(context.Background())
				results <- result{applied, err}
			}()
		}
		var total int
		for range dbs {
			r := <-results
			if r.err != nil {
				t.Errorf("Migrate: %v", r.err)
			}
			total += len(r.applied)
		}
		if total != 1 {
			t.Errorf("files applied by both: got %d, want 1", total)
		}
	})

	t.Run("ViewRefusesWrites", func(t *testing.T) {
		s := b.newStore(t)
		err := s.View(context.Background(), func(tx mfagate.Tx) error {
			return tx.CreateUser(&mfagate.User{Username: "alice", CreatedAt: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)})
		})
		if err == nil {
			t.Fatalf("CreateUser in View: got nil error, want one")
		}
		err = s.View(context.Background(), func(tx mfagate.Tx) error { _, err := tx.UserByUsername("alice"); return err })
		if got, want := mfagate.ErrorCode(err), mfagate.ENOTFOUND; got != want {
			t.Errorf("user written in View: got code %q, want %q", got, want)
		}
	})

	t.Run("Ping", func(t *testing.T) {
		if err := b.newStore(t).Ping(context.Background()); err != nil {
			t.Errorf("Ping: got %v, want nil", err)
		}
	})
}
