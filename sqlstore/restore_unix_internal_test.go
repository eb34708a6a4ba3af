//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package sqlstore

import (
	"context"
	"errors"
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
