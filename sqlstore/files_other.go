//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package sqlstore

import (
	"errors"
	"os"
)

// tryLock cannot lock here: opening always succeeds, and restore, which
// must know that no server uses the database, refuses.
func tryLock(f *os.File, exclusive bool) error {
	if exclusive {
		return errors.New("this system has no file locks mfagate knows how to use, so restore cannot tell whether a server is using the database")
	}
	return nil
}

// giveToFolderOwner does nothing here.
func giveToFolderOwner(f *os.File, dir string) error { return nil }
