//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRestoreRefusesWhatIsNotAFile: a named pipe given as the backup is
// refused at once; opening it to read would wait for ever for a writer.
func TestRestoreRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "backup.db")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	path := filepath.Join(dir, "data", "mfagate.db")
	for _, backup := range []string{fifo, dir} {
		done := make(chan error, 1)
		go func() {
			_, err := Restore(context.Background(), path, backup, time.Now())
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "is not a file") {
				t.Fatalf("restore of %s: got %v, want it refused as not a file", backup, err)
			}
		case <-time.After(30 * time.Second):
			// Unblock the open so that the goroutine ends with the test.
			if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
				f.Close()
			}
			t.Fatalf("restore of %s still waited after 30s", backup)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the refused restore made a database: %v", err)
	}
}

// smallDisk mounts a file system of size bytes on a new folder for the
// test, or skips the test where it may not (fails it when
// MFAGATE_E2E_REQUIRED is set, as in CI, which runs as root).
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		if os.Getenv("MFAGATE_E2E_REQUIRED") != "" {
			t.Fatalf("cannot mount a small tmpfs (%v), and MFAGATE_E2E_REQUIRED is set: the full-disk test must run", err)
		}
		t.Skipf("cannot mount a small tmpfs to fill (%v): skipping the full-disk test (run it as root)", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestFullDiskSaysSo: a backup or a restore that runs out of room says
// that the disk where it writes is full, names the folder, and leaves
// nothing there. SQLite's own words, "database or disk is full", read as
// if the live database had filled up.
func TestFullDiskSaysSo(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "data", "mfagate.db")
	db := mustOpenMigrated(t, path)
	if err := Exec(ctx, db, `INSERT INTO users (username, username_key, created_at)
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
		SELECT 'user' || i, 'user' || i, 1 FROM n`); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	info, err := db.Backup(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	small := smallDisk(t, int(info.Size/2))

	_, err = db.Backup(ctx, filepath.Join(small, "backup.db"))
	if want := "there is not enough room in " + small + " for the backup: the disk is full"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("backup to a full disk: got %v, want it to say %q", err, want)
	}
	if names := dirNames(t, small); len(names) != 0 {
		t.Fatalf("the failed backup left %v", names)
	}

	_, err = Restore(ctx, filepath.Join(small, "mfagate.db"), backup, time.Now())
	if want := "there is not enough room in " + small + " for the restored database: the disk is full"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("restore onto a full disk: got %v, want it to say %q", err, want)
	}
	if names := dirNames(t, small); len(names) != 0 {
		t.Fatalf("the failed restore left %v", names)
	}
}
