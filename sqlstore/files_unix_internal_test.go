//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestRootGivesFilesToTheService: the commands run as root on a server
// whose service runs as its own user (docs/operations.md, "Running it as
// a system service"). The lock file and a restored database that root
// creates in the service's folder belong to the service's user, or the
// service could not open them.
func TestRootGivesFilesToTheService(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root can make files for another user: run the tests as root to check this")
	}
	ctx := context.Background()
	dir := t.TempDir()
	backup := filepath.Join(dir, "backup.db")
	db, err := Open(ctx, DriverSQLite, filepath.Join(dir, "made", "mfagate.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	db.Close()

	const service = 4711 // the folder's owner, as systemd's StateDirectory makes it
	folder := filepath.Join(dir, "service")
	if err := os.Mkdir(folder, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(folder, service, service); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(folder, "mfagate.db")
	if _, err := Restore(ctx, path, backup, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + lockSuffix} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != service || st.Gid != service {
			t.Errorf("%s belongs to %d:%d, want the folder's owner %d:%d", filepath.Base(p), st.Uid, st.Gid, service, service)
		}
	}
}

// TestNewDatabaseIsPrivate opens a database that does not exist yet, with
// the usual umask that leaves new files readable by everyone, and checks
// that the database and the files SQLite makes beside it are readable by
// their owner only: they hold password hashes.
func TestNewDatabaseIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "data", "mfagate.db")
	db, err := Open(context.Background(), DriverSQLite, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(name), err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(name), mode)
		}
	}
}
