package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRestoreKeepsWhatAStaleWALHeld: a server that stopped uncleanly
// leaves committed changes in the -wal file beside the database. Restore
// keeps them with the database it sets aside, and the restored database
// gets no WAL of the old one.
func TestRestoreKeepsWhatAStaleWALHeld(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "live", "mfagate.db")
	db, err := Open(ctx, DriverSQLite, src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	if _, err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	// A write that stays in the WAL: no checkpoint, and the files are
	// copied while the connection is open, as a crash would leave them.
	raw, err := sql.Open("sqlite", "file:"+src+"?_pragma=wal_autocheckpoint(0)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO users (username, username_key, created_at) VALUES ('late', 'late', 1)`); err != nil {
		t.Fatal(err)
	}
	crashed := filepath.Join(dir, "crashed", "mfagate.db")
	os.MkdirAll(filepath.Dir(crashed), 0o700)
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(src + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if suffix == "-wal" && len(b) == 0 {
			t.Fatal("the WAL is empty: the test did not make a stale WAL")
		}
		if err := os.WriteFile(crashed+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	db.Close()

	at := time.Date(2027, 7, 13, 9, 30, 0, 0, time.UTC)
	info, err := Restore(ctx, crashed, backup, at)
	if err != nil {
		t.Fatal(err)
	}
	if want := crashed + ".before-restore-20270713T093000"; info.KeptAs != want {
		t.Fatalf("kept the old database as %q, want %q", info.KeptAs, want)
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if _, err := os.Stat(crashed + suffix); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is beside the restored database: %v", suffix, err)
		}
	}
	count := func(path string) int {
		t.Helper()
		c, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var n int
		if err := c.QueryRow(`SELECT COUNT(*) FROM users WHERE username = 'late'`).Scan(&n); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return n
	}
	if n := count(info.KeptAs); n != 1 {
		t.Fatalf("the kept database has %d rows of the stale WAL's write, want 1", n)
	}
	if n := count(crashed); n != 0 {
		t.Fatalf("the restored database has %d rows written after the backup, want 0", n)
	}
	// A second restore in the same second keeps the first one's copy too.
	again, err := Restore(ctx, crashed, backup, at)
	if err != nil {
		t.Fatal(err)
	}
	if again.KeptAs != info.KeptAs+"-2" {
		t.Fatalf("second restore kept the database as %q, want %q", again.KeptAs, info.KeptAs+"-2")
	}
}
