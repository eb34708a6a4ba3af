//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package sqlstore

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// tryLock takes a flock on f without waiting. flock locks belong to the
// open file, not the process, so two DBs opened by one process on one
// database each hold their own shared lock, and an exclusive lock taken
// in the same process still conflicts with them.
func tryLock(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return errLocked
		default:
			return fmt.Errorf("lock %s: %w", f.Name(), err)
		}
	}
}

// giveToFolderOwner makes a file that root creates beside the database
// belong to the owner of the database's folder, the service's user, as
// SQLite does with the journal files it creates as root: a service that
// runs as its own user could not otherwise open a lock file or restored
// database that root made for it. Run as anyone else, it does nothing.
func giveToFolderOwner(f *os.File, dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return nil
	}
	return f.Chown(int(st.Uid), int(st.Gid))
}
