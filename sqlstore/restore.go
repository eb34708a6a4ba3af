package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// RestoreInfo says what Restore did.
type RestoreInfo struct {
	BackupInfo
	// Database is the file restored into.
	Database string
	// KeptAs is where the database that was replaced now is; "" when
	// there was none.
	KeptAs string
	// WAL is the write-ahead log beside the backup whose changes were
	// taken into the restored database; "" when there was none.
	WAL string
}

// Restore is RestoreWith accepting any backup that passes its check.
func Restore(ctx context.Context, dsn, backup string, now time.Time) (RestoreInfo, error) {
	return RestoreWith(ctx, dsn, backup, now, nil)
}

// RestoreWith replaces the SQLite database that dsn names with the backup
// file, or creates it when there is none (a new machine). It copies the
// backup into the database's folder and checks that copy first (see
// checkBackup), so a bad backup changes nothing. It then takes the
// database's lock exclusively (lock.go), failing while any server or
// command has the database open, and holds it until the
// replacement is done, so no server can open the database half-way. The
// replaced database is kept beside it as NAME.before-restore-TIME (now,
// in UTC), with any journal that still held some of its changes; the new
// file takes the database's name in one rename. Run as root, the new file
// is given to the owner of the database's folder: the service's user.
// A database file that is a symbolic link keeps it: the file it leads to
// is the one replaced. accept, when not nil, is shown what the backup holds once it passed its
// check, before anything changes; an error from it stops the restore.
func RestoreWith(ctx context.Context, dsn, backup string, now time.Time, accept func(BackupInfo) error) (RestoreInfo, error) {
	path, err := SQLitePath(dsn)
	if err != nil {
		return RestoreInfo{}, err
	}
	// The lock is beside the name that servers open. A database file that
	// is a symbolic link (to a file on another disk, say) has the file it
	// leads to replaced, beside which SQLite keeps its journals, so that
	// the link stays a link and the database stays on its disk.
	lockPath := path
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if path, err = filepath.EvalSymlinks(path); err != nil {
			return RestoreInfo{}, fmt.Errorf("the database %s is a symbolic link that leads to no file", lockPath)
		}
	}
	// Looked at before it is opened: opening a named pipe to read waits
	// for a writer, for ever.
	if fi, err := os.Stat(backup); errors.Is(err, fs.ErrNotExist) {
		return RestoreInfo{}, fmt.Errorf("the backup %s does not exist", backup)
	} else if err == nil && !fi.Mode().IsRegular() {
		return RestoreInfo{}, fmt.Errorf("the backup %s is not a file", backup)
	}
	src, err := os.Open(backup)
	if err != nil {
		return RestoreInfo{}, fmt.Errorf("open backup: %w", err)
	}
	defer src.Close()
	sfi, err := src.Stat()
	if err != nil {
		return RestoreInfo{}, fmt.Errorf("open backup: %w", err)
	}
	if !sfi.Mode().IsRegular() { // it changed since
		return RestoreInfo{}, fmt.Errorf("the backup %s is not a file", backup)
	}
	if dfi, err := os.Stat(path); err == nil && os.SameFile(sfi, dfi) {
		return RestoreInfo{}, fmt.Errorf("the file %s is the database itself, not a backup of it", backup)
	}
	dir := filepath.Dir(path)
	made := missingFolders(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return RestoreInfo{}, fmt.Errorf("create database folder: %w", err)
	}
	placed := false
	defer func() {
		if !placed { // a refused restore leaves no folder it made
			for _, d := range made {
				os.Remove(d) // only while empty
			}
		}
	}()

	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".restoring-*") // mode 0600
	if err != nil {
		return RestoreInfo{}, fmt.Errorf("copy backup: %w", err)
	}
	tmpPath := tmp.Name()
	defer func() {
		if !placed {
			removeWithSidecars(tmpPath)
		}
	}()
	err = giveToFolderOwner(tmp, dir)
	if err == nil {
		_, err = io.Copy(tmp, src)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if diskFull(err) {
		return RestoreInfo{}, fmt.Errorf("there is not enough room in %s for the restored database: the disk is full; nothing was changed", dir)
	}
	if err != nil {
		return RestoreInfo{}, fmt.Errorf("copy backup: %w", err)
	}
	// A copy of a running database's folder (a snapshot, or what a crash
	// left) has its newest transactions in the WAL beside the file, and
	// the file alone may not even be whole. The WAL is copied too, and
	// checkBackup, turning the copy to rollback journaling, folds it in,
	// as SQLite does when it opens such a file.
	wal, err := copyWAL(backup, tmpPath, dir)
	if diskFull(err) {
		return RestoreInfo{}, fmt.Errorf("there is not enough room in %s for the restored database: the disk is full; nothing was changed", dir)
	}
	if err != nil {
		return RestoreInfo{}, fmt.Errorf("copy the backup's WAL %s: %w", backup+"-wal", err)
	}
	info, err := checkBackup(ctx, tmpPath, backup, true)
	if err != nil {
		return RestoreInfo{}, err
	}
	if len(info.Newer) > 0 {
		return RestoreInfo{}, fmt.Errorf("the backup %s comes from a newer mfagate: its database has migration %s, which this version does not know; restore it with the version that made it, or a newer one", backup, info.Newer[0])
	}
	if fi, err := os.Stat(tmpPath + "-wal"); wal && err == nil && fi.Size() > 0 {
		return RestoreInfo{}, fmt.Errorf("the changes in %s, beside the backup, could not be taken into it", backup+"-wal")
	}
	if accept != nil {
		if err := accept(info); err != nil {
			return RestoreInfo{}, err
		}
	}
	// checkBackup's connection closed; a rollback journal file may stay
	// empty beside the copy.
	for _, suffix := range []string{"-journal", "-wal", "-shm"} {
		os.Remove(tmpPath + suffix)
	}

	lock, err := lockFile(lockPath, true)
	if errors.Is(err, errLocked) {
		return RestoreInfo{}, heldBy(lockPath)
	}
	if err != nil {
		return RestoreInfo{}, err
	}
	defer lock.Close()

	res := RestoreInfo{BackupInfo: info, Database: path}
	if wal {
		res.WAL = backup + "-wal"
	}
	if _, err := os.Lstat(path); err == nil {
		if res.KeptAs, err = keepAside(ctx, path, now); err != nil {
			return RestoreInfo{}, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return RestoreInfo{}, fmt.Errorf("look at database: %w", err)
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return RestoreInfo{}, fmt.Errorf("put the backup in place: %w", err)
	}
	placed = true
	if err := syncDir(dir); err != nil {
		return RestoreInfo{}, fmt.Errorf("put the backup in place: %w", err)
	}
	res.Path = backup
	return res, nil
}

// missingFolders lists dir and those of its parents that do not exist,
// deepest first.
func missingFolders(dir string) []string {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); !errors.Is(err, fs.ErrNotExist) {
			return missing
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			return missing
		}
	}
}

// heldBy says who holds the lock that kept a restore of the database at
// path from taking it: stores hold it shared, and another restore holds
// it exclusively, so that a shared lock is refused too.
func heldBy(path string) error {
	l, err := lockFile(path, false)
	if errors.Is(err, errLocked) {
		return fmt.Errorf("another \"mfagate restore\" is replacing %s right now; let it finish", path)
	}
	l.Close()
	return fmt.Errorf("a server is using %s; stop it first", path)
}

// copyWAL copies the WAL beside the backup file, when there is one that
// holds anything, to beside tmp, and reports whether it did.
func copyWAL(backup, tmp, dir string) (bool, error) {
	src, err := os.Open(backup + "-wal")
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer src.Close()
	if fi, err := src.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return false, err
	}
	dst, err := os.OpenFile(tmp+"-wal", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, err
	}
	err = giveToFolderOwner(dst, dir)
	if err == nil {
		_, err = io.Copy(dst, src)
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return err == nil, err
}

// keepAside gives the database at path a second name,
// NAME.before-restore-TIME, and moves its journal files out of the way of
// the file that replaces it, under the restore's exclusive lock. First
// it folds a WAL that a server stopped uncleanly left behind into the
// file, so the kept copy is whole on its own; a WAL that cannot be folded
// (a damaged database) moves with it, under the same new name, where
// SQLite still finds it. The old file keeps its own name too until the
// rename that replaces it, so a crash half-way leaves the old database
// in place, never none.
func keepAside(ctx context.Context, path string, now time.Time) (string, error) {
	checkpoint(ctx, path)
	base := path + ".before-restore-" + now.UTC().Format("20060102T150405")
	aside := base
	for i := 2; ; i++ {
		err := os.Link(path, aside)
		if err == nil {
			break
		}
		if errors.Is(err, fs.ErrExist) {
			aside = fmt.Sprintf("%s-%d", base, i)
			continue
		}
		// No hard links here: the database is renamed, and for a moment
		// the name is free; the lock keeps servers away meanwhile.
		if _, lerr := os.Lstat(aside); lerr == nil {
			aside = fmt.Sprintf("%s-%d", base, i)
			continue
		}
		if err := os.Rename(path, aside); err != nil {
			return "", fmt.Errorf("keep the old database: %w", err)
		}
		break
	}
	for _, suffix := range []string{"-wal", "-journal"} {
		if err := os.Rename(path+suffix, aside+suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("keep the old database's %s file: %w", suffix, err)
		}
	}
	// The shared-memory index only speeds up reading the WAL; SQLite
	// rebuilds it.
	if err := os.Remove(path + "-shm"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("remove the old database's -shm file: %w", err)
	}
	return aside, nil
}

// checkpoint copies what the WAL of the database at path holds into the
// file and removes the WAL, as the last connection to close does. It is
// called only under the exclusive lock, when no server has the file
// open. Errors are left for keepAside to cope with.
func checkpoint(ctx context.Context, path string) {
	if _, err := os.Stat(path + "-wal"); err != nil {
		return
	}
	sdb, err := sql.Open("sqlite", fileURI(path, ""))
	if err != nil {
		return
	}
	defer sdb.Close()
	sdb.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
}
