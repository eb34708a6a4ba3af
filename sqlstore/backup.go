package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mfagate/mfagate"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// BackupInfo describes a backup file, as read back from the file itself.
type BackupInfo struct {
	Path     string
	Size     int64 // bytes
	Accounts int
	// Schema is the newest migration the backup has applied.
	Schema string
	// Pending are the migrations this version knows that the backup has
	// not applied: a server applies them when it starts on it.
	Pending []string
	// Newer are the migrations the backup has applied that this version
	// does not know: a newer mfagate made them, and only it, or a later
	// one, can restore the backup.
	Newer []string
	// TOTPFactors is how many authenticator apps the backup holds, and
	// TOTPSample the newest few of them, with their sealed secrets, for
	// a caller to check a secret key against before restoring.
	TOTPFactors int
	TOTPSample  []*mfagate.Factor
}

// Backup writes a consistent copy of the SQLite database to the new file
// target while the database stays in use: VACUUM INTO reads one snapshot,
// so transactions committing meanwhile are either wholly in the copy or
// not at all, and writers are not held up (WAL). The copy is written to a
// temporary name in target's folder with mode 0600 (it holds password
// hashes and sealed secrets), synced to disk, checked as Restore would
// check it, and only then given its name; a failed backup leaves no file
// behind. Backup never replaces a file: it fails when target exists, even
// when it appears while the copy is written. It gives itself no deadline:
// the caller's context bounds it.
func (db *DB) Backup(ctx context.Context, target string) (BackupInfo, error) {
	if db.dialect != dialectSQLite || db.path == "" {
		return BackupInfo{}, errors.New("only a SQLite database file can be backed up this way")
	}
	if fi, err := os.Lstat(target); err == nil {
		if fi.IsDir() {
			return BackupInfo{}, fmt.Errorf("%s is a folder; give the name of the backup file to write in it, as in %s", target, filepath.Join(target, "mfagate-"+time.Now().Format("20060102")+".db"))
		}
		return BackupInfo{}, fmt.Errorf("the file %s already exists; a backup never replaces a file, so give a new name", target)
	}
	dir := filepath.Dir(target)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return BackupInfo{}, fmt.Errorf("the folder %s does not exist; create it first", dir)
	}
	if db.ownsName(target) {
		return BackupInfo{}, fmt.Errorf("%s is a name SQLite uses for the database's own files: it would take the backup for one of them and delete it, so give the backup another name", target)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".partial-*") // mode 0600
	if err != nil {
		return BackupInfo{}, fmt.Errorf("create backup file: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	done := false
	defer func() {
		if !done {
			removeWithSidecars(tmpPath)
		}
	}()
	// The file exists, empty, with our mode: VACUUM INTO writes into an
	// empty file and keeps its mode.
	if _, err := db.db.ExecContext(ctx, "VACUUM INTO ?", tmpPath); err != nil {
		if diskFull(err) {
			return BackupInfo{}, fmt.Errorf("there is not enough room in %s for the backup: the disk is full; nothing was written", dir)
		}
		return BackupInfo{}, unavailable(ctx, fmt.Errorf("copy database: %w", err))
	}
	if err := syncFile(tmpPath); err != nil {
		if diskFull(err) {
			return BackupInfo{}, fmt.Errorf("there is not enough room in %s for the backup: the disk is full; nothing was written", dir)
		}
		return BackupInfo{}, fmt.Errorf("write backup file: %w", err)
	}
	info, err := checkBackup(ctx, tmpPath, target, false)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("the copy did not pass its check, so it was not kept: %w", err)
	}
	if err := placeNew(tmpPath, target); err != nil {
		return BackupInfo{}, err
	}
	done = true
	os.Remove(tmpPath) // placeNew linked it; the name is all that is left
	if err := syncDir(dir); err != nil {
		return BackupInfo{}, fmt.Errorf("write backup file: %w", err)
	}
	info.Path = target
	return info, nil
}

// ownsName reports whether target, which does not exist, is a name that
// SQLite or mfagate give to a file beside the database: its journal
// (which SQLite would take for a hot journal and delete on the next
// open), WAL, shared-memory index or lock file. Folders are compared as
// files, so another spelling of the database's folder is caught too.
// A database file that is a symbolic link has its journals beside the
// file it leads to, where SQLite keeps them, and its lock beside the link.
func (db *DB) ownsName(target string) bool {
	tdir, err := os.Stat(filepath.Dir(target))
	if err != nil {
		return false
	}
	paths := []string{db.path}
	if real, err := filepath.EvalSymlinks(db.path); err == nil && real != db.path {
		paths = append(paths, real)
	}
	for _, path := range paths {
		ddir, err := os.Stat(filepath.Dir(path))
		if err != nil || !os.SameFile(tdir, ddir) {
			continue
		}
		base, name := filepath.Base(path), filepath.Base(target)
		for _, suffix := range []string{"", "-journal", "-wal", "-shm", lockSuffix} {
			if name == base+suffix {
				return true
			}
		}
	}
	return false
}

// placeNew gives the finished file tmp the name target, failing when
// target exists. A hard link is that atomic no-replace rename (rename
// would replace); where the file system has no links, a rename after a
// last check.
func placeNew(tmp, target string) error {
	err := os.Link(tmp, target)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("the file %s already exists; a backup never replaces a file, so give a new name", target)
	}
	if _, serr := os.Lstat(target); serr == nil {
		return fmt.Errorf("the file %s already exists; a backup never replaces a file, so give a new name", target)
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("name backup file: %w", err)
	}
	return nil
}

// checkBackup checks that the SQLite file at path is whole and is an
// mfagate database: integrity_check and foreign_key_check pass and it has
// mfagate's migration table. Migrations this version does not know are
// listed in Newer, for Restore to refuse. name is how errors
// call the file. writable opens it to turn it to rollback journaling
// (restore's own copy of a file that a copy of a live database left in
// WAL mode); otherwise it is opened read-only and left as it is.
func checkBackup(ctx context.Context, path, name string, writable bool) (BackupInfo, error) {
	dsn := fileURI(path, "mode=ro")
	if writable {
		dsn = fileURI(path, "_pragma=journal_mode(DELETE)")
	}
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("open %s: %w", name, err)
	}
	defer sdb.Close()
	sdb.SetMaxOpenConns(1)

	rows, err := sdb.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return BackupInfo{}, fileError(name, err)
	}
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return BackupInfo{}, fileError(name, err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Close(); err != nil {
		return BackupInfo{}, fileError(name, err)
	}
	if err := rows.Err(); err != nil {
		return BackupInfo{}, fileError(name, err)
	}
	if len(problems) > 0 {
		return BackupInfo{}, fmt.Errorf("the backup %s is damaged: SQLite's integrity check found %d problems, the first: %s", name, len(problems), oneLine(problems[0]))
	}

	applied, err := appliedMigrations(ctx, sdb)
	if err != nil {
		return BackupInfo{}, fileError(name, err)
	}
	ms, err := loadMigrations(migrationsFS(), dialectSQLite)
	if err != nil {
		return BackupInfo{}, err
	}
	known := make([]string, len(ms))
	for i, m := range ms {
		known[i] = m.name
	}
	if !slices.Contains(applied, known[0]) {
		return BackupInfo{}, fmt.Errorf("the file %s is an SQLite database but not an mfagate one: it has none of mfagate's tables", name)
	}
	var info BackupInfo
	for _, v := range applied {
		if !slices.Contains(known, v) {
			info.Newer = append(info.Newer, v)
		}
		info.Schema = max(info.Schema, v)
	}
	for _, k := range known {
		if !slices.Contains(applied, k) {
			info.Pending = append(info.Pending, k)
		}
	}

	var orphans int
	if err := sdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM pragma_foreign_key_check").Scan(&orphans); err != nil {
		return BackupInfo{}, fileError(name, err)
	}
	if orphans > 0 {
		return BackupInfo{}, fmt.Errorf("the backup %s is damaged: %d rows refer to rows it does not have", name, orphans)
	}
	if err := sdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&info.Accounts); err != nil {
		return BackupInfo{}, fileError(name, err)
	}
	if info.TOTPFactors, info.TOTPSample, err = totpSample(ctx, sdb); err != nil {
		return BackupInfo{}, fileError(name, err)
	}
	if err := sdb.Close(); err != nil {
		return BackupInfo{}, fileError(name, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return BackupInfo{}, err
	}
	info.Size = fi.Size()
	return info, nil
}

// totpSample counts the authenticator apps in a SQLite database file and
// returns the newest few with their sealed secrets; none in a database
// older than the factors table.
func totpSample(ctx context.Context, sdb *sql.DB) (int, []*mfagate.Factor, error) {
	var n int
	if err := sdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'factors'").Scan(&n); err != nil || n == 0 {
		return 0, nil, err
	}
	return sampleTOTP(ctx, sdb, dialectSQLite)
}

// fileURI is the file: URI that opens the SQLite file at path with query.
// A file name may hold characters that mean something in a URI: % (an
// escape), ? (the query) and # (a fragment), and a path that begins with
// // would name a host; each is written so that SQLite opens that file.
func fileURI(path, query string) string {
	p := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	if strings.HasPrefix(p, "//") {
		p = "//" + p // an empty authority, then the path
	}
	if query == "" {
		return "file:" + p
	}
	return "file:" + p + "?" + query
}

// appliedMigrations reads schema_migrations: nil when the database has no
// such table.
func appliedMigrations(ctx context.Context, sdb *sql.DB) ([]string, error) {
	var n int
	if err := sdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").Scan(&n); err != nil || n == 0 {
		return nil, err
	}
	rows, err := sdb.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var vs []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, rows.Err()
}

// fileError says in words what SQLite found wrong with the file name.
func fileError(name string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary code
		case sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("the file %s is not an SQLite database", name)
		case sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("the backup %s is damaged: SQLite cannot read it (%v)", name, err)
		}
	}
	return fmt.Errorf("check %s: %w", name, err)
}

// diskFull reports whether err is a write that found no room: SQLite's
// SQLITE_FULL or the system's ENOSPC.
func diskFull(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL {
		return true
	}
	return errors.Is(err, syscall.ENOSPC)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// syncFile flushes the file at path to disk.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir flushes a folder's entries to disk, so that a rename in it
// survives a crash.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// removeWithSidecars removes a SQLite file of ours and the journal files
// SQLite may have left beside it.
func removeWithSidecars(path string) {
	for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
}
