package sqlstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A SQLite database file is guarded by an advisory lock on a file beside
// it, PATH.lock, which is never removed. Every DB opened on the file holds
// a shared lock for as long as it is open, so servers, replicas in one
// process and the command line work side by side. Restore holds an
// exclusive lock for the whole replacement: it cannot take it while any
// DB has the file open, and no DB opens while it holds it. The lock is on
// its own file because restore replaces the database file: a lock on the
// old file would not guard the new one.

// lockSuffix names the lock file: PATH + lockSuffix.
const lockSuffix = ".lock"

// errLocked is what tryLock returns when another holder's lock is in the
// way.
var errLocked = errors.New("locked")

// fileLock is a held lock; Close releases it.
type fileLock struct{ f *os.File }

// lockFile takes a shared (exclusive false) or exclusive lock on the lock
// file of the database at path without waiting, creating the file if
// need be. It returns errLocked when a holder of the other kind (or, for
// an exclusive lock, any holder) has it.
func lockFile(path string, exclusive bool) (*fileLock, error) {
	// Read-only is enough for flock, so a lock file that another user made
	// and left readable works too.
	f, err := os.OpenFile(path+lockSuffix, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := giveToFolderOwner(f, filepath.Dir(path)); err != nil {
		f.Close()
		return nil, fmt.Errorf("give the lock file to the database folder's owner: %w", err)
	}
	if err := tryLock(f, exclusive); err != nil {
		f.Close()
		return nil, err
	}
	return &fileLock{f: f}, nil
}

// Close releases the lock.
func (l *fileLock) Close() error {
	if l == nil {
		return nil
	}
	return l.f.Close() // closing the descriptor releases its flock
}

// createPrivate creates the SQLite database file at path, empty and
// readable by its owner only, if it does not exist yet: SQLite would
// make it readable by everyone (0644, less the umask), and it holds
// password hashes. SQLite gives its -wal and -shm files the database
// file's mode. "" (an in-memory database) creates nothing.
func createPrivate(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create the database file: %w", err)
	}
	if err := giveToFolderOwner(f, filepath.Dir(path)); err != nil {
		f.Close()
		return fmt.Errorf("give the database file to its folder's owner: %w", err)
	}
	return f.Close()
}
