package sqlstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLiteLockIsSharedByStores: any number of stores, in one process or
// several, open one SQLite file together, and the exclusive lock a restore
// takes is refused until the last one closes.
func TestSQLiteLockIsSharedByStores(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data", "mfagate.db")
	one, err := Open(ctx, DriverSQLite, path)
	if err != nil {
		t.Fatal(err)
	}
	two, err := Open(ctx, DriverSQLite, "file:"+path+"?cache=private")
	if err != nil {
		t.Fatalf("a second store on the same file: %v", err)
	}
	for i, closeNext := range []*DB{one, two} {
		if l, err := lockFile(path, true); !errors.Is(err, errLocked) {
			l.Close()
			t.Fatalf("exclusive lock with %d stores open: got %v, want errLocked", 2-i, err)
		}
		if err := closeNext.Close(); err != nil {
			t.Fatal(err)
		}
	}
	l, err := lockFile(path, true)
	if err != nil {
		t.Fatalf("exclusive lock once every store closed: %v", err)
	}
	l.Close()
}

// TestOpenRefusedWhileRestoring: a store does not open a file a restore
// holds, and says why, and opens once the restore is over.
func TestOpenRefusedWhileRestoring(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mfagate.db")
	l, err := lockFile(path, true)
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, DriverSQLite, path)
	if err == nil {
		db.Close()
		t.Fatal("a store opened while a restore held the database")
	}
	if want := path + ` is being replaced by "mfagate restore"`; !strings.Contains(err.Error(), want) {
		t.Fatalf("got %q, want it to say %q", err, want)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the refused open created the database: %v", err)
	}
	l.Close()
	db, err = Open(ctx, DriverSQLite, path)
	if err != nil {
		t.Fatalf("after the restore: %v", err)
	}
	db.Close()
}
