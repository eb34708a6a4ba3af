package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mustOpenMigrated opens a SQLite store at path with every migration
// applied, closed when the test ends.
func mustOpenMigrated(tb testing.TB, path string) *DB {
	tb.Helper()
	db, err := Open(context.Background(), DriverSQLite, path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return db
}

// countUsers counts the accounts in the SQLite file at path, read-only.
func countUsers(tb testing.TB, path, where string) int {
	tb.Helper()
	c, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	var n int
	if err := c.QueryRow(`SELECT COUNT(*) FROM users WHERE ` + where).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return n
}

// TestBackupRefusesTheDatabasesOwnNames: a backup named like the
// database's journal is taken by SQLite for a hot journal the next time
// the database opens, and deleted: the operator was told "Wrote …" and
// has no backup. Backup refuses every name SQLite and mfagate use beside
// the database, however the folder is spelled.
func TestBackupRefusesTheDatabasesOwnNames(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "mfagate.db")
	db := mustOpenMigrated(t, path)
	if err := os.Symlink(dir, filepath.Join(filepath.Dir(dir), "via-link")); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(filepath.Dir(dir), "via-link")
	for _, target := range []string{
		path + "-journal",
		filepath.Join(dir, "..", "data", "mfagate.db-journal"),
		filepath.Join(other, "mfagate.db-journal"),
	} {
		_, err := db.Backup(ctx, target)
		if err == nil || !strings.Contains(err.Error(), "SQLite uses for the database's own files") {
			t.Fatalf("backup to %s: got %v, want a refusal naming the database's own files", target, err)
		}
		if _, serr := os.Lstat(target); !errors.Is(serr, os.ErrNotExist) {
			t.Fatalf("the refused backup to %s left a file: %v", target, serr)
		}
	}
	names, _ := os.ReadDir(dir)
	for _, e := range names {
		if strings.Contains(e.Name(), "partial") {
			t.Errorf("a refused backup left %s behind", e.Name())
		}
	}
}
