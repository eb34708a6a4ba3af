package cli_test

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// findPgTool returns the path of a PostgreSQL client program, or skips
// the test (fails it when MFAGATE_E2E_REQUIRED is set, as in CI).
func findPgTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Getenv("MFAGATE_E2E_REQUIRED") != "" {
		t.Fatalf("%s is not on PATH, and MFAGATE_E2E_REQUIRED is set: the PostgreSQL backup test must run", name)
	}
	t.Skipf("%s is not on PATH: skipping the PostgreSQL backup test (install it with: apt-get install postgresql-client)", name)
	return ""
}

// TestPostgresDumpUnderWritesRestoresAndSignsIn follows
// docs/operations.md#backups for PostgreSQL: pg_dump -Fc while the server
// writes, pg_restore --single-transaction into a new database, serve it,
// and sign in there with password and authenticator code. (The test's
// database lives in a schema of the test database, so the dump names it
// with -n; the docs dump the whole database.)
func TestPostgresDumpUnderWritesRestoresAndSignsIn(t *testing.T) {
	pgBackend := sqltest.Postgres(t)
	pgDump, pgRestore := findPgTool(t, "pg_dump"), findPgTool(t, "pg_restore")
	base := os.Getenv(sqltest.PostgresEnv)
	dsn := pgBackend.DSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")

	// The new database, made before the servers start so that it is
	// dropped after they stop.
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	b := make([]byte, 6)
	rand.Read(b)
	restored := "restore_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + restored); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE " + restored + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database: %v", err)
		}
	})

	cfg := install(t, "")
	text, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, bytes.Replace(bytes.Replace(text, []byte("driver: sqlite"), []byte("driver: postgres"), 1),
		[]byte(fmt.Sprintf("%q", dbPath(cfg))), []byte(fmt.Sprintf("%q", dsn)), 1), 0o600)
	alice, l := busyServer(t, cfg)

	dump := filepath.Join(t.TempDir(), "mfagate.dump")
	createdBefore, during := l.created.Load(), l.during.Load()
	l.epoch.Add(1)
	out, err := exec.Command(pgDump, "-Fc", "--no-owner", "-n", schema, "-d", base, "-f", dump).CombinedOutput()
	l.epoch.Add(1)
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	wroteDuring := l.during.Load() - during
	l.end()
	t.Logf("%d writes by the load, %d of them started and finished while pg_dump ran", l.writes.Load(), wroteDuring)

	target, _ := url.Parse(base)
	target.Path = "/" + restored
	if out, err := exec.Command(pgRestore, "--no-owner", "--single-transaction", "--exit-on-error", "-d", target.String(), dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	q := target.Query()
	q.Set("search_path", schema)
	target.RawQuery = q.Encode()
	db, err := sql.Open("pgx", target.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	checkWhole(t, db, "the restored dump", createdBefore)
	db.Close()

	// The same configuration and key, on the restored database.
	cfg2 := filepath.Join(t.TempDir(), "mfagate.yaml")
	text, _ = os.ReadFile(cfg)
	if !bytes.Contains(text, []byte(fmt.Sprintf("%q", dsn))) {
		t.Fatalf("the configuration does not name the database as the test expects:\n%s", text)
	}
	os.WriteFile(cfg2, bytes.Replace(text, []byte(fmt.Sprintf("%q", dsn)), []byte(fmt.Sprintf("%q", target.String())), 1), 0o600)
	out2, _ := start(t, "serve", "--config", cfg2)
	signInAgain(t, alice, "http://"+out2.await(t, regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`))[1])
}
