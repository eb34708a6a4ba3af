package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// mustOpenMigrated opens a SQLite store at path with every migration
// applied, closed when the test ends.
func mustOpenMigrated(tb testing.TB, path string) *DB {
	tb.Helper()
	db, err := Open(context.Background(), DriverSQLite, path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return db
}

// countUsers counts the accounts in the SQLite file at path, read-only.
func countUsers(tb testing.TB, path, where string) int {
	tb.Helper()
	c, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	var n int
	if err := c.QueryRow(`SELECT COUNT(*) FROM users WHERE ` + where).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return n
}

// dirNames lists the names in dir.
func dirNames(tb testing.TB, dir string) []string {
	tb.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestBackupRefusesTheDatabasesOwnNames: a backup named like the
// database's journal is taken by SQLite for a hot journal the next time
// the database opens, and deleted: the operator was told "Wrote …" and
// has no backup. Backup refuses every name SQLite and mfagate use beside
// the database, however the folder is spelled.
func TestBackupRefusesTheDatabasesOwnNames(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "mfagate.db")
	db := mustOpenMigrated(t, path)
	if err := os.Symlink(dir, filepath.Join(filepath.Dir(dir), "via-link")); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(filepath.Dir(dir), "via-link")
	for _, target := range []string{
		path + "-journal",
		filepath.Join(dir, "..", "data", "mfagate.db-journal"),
		filepath.Join(other, "mfagate.db-journal"),
	} {
		_, err := db.Backup(ctx, target)
		if err == nil || !strings.Contains(err.Error(), "SQLite uses for the database's own files") {
			t.Fatalf("backup to %s: got %v, want a refusal naming the database's own files", target, err)
		}
		if _, serr := os.Lstat(target); !errors.Is(serr, os.ErrNotExist) {
			t.Fatalf("the refused backup to %s left a file: %v", target, serr)
		}
	}
	names, _ := os.ReadDir(dir)
	for _, e := range names {
		if strings.Contains(e.Name(), "partial") {
			t.Errorf("a refused backup left %s behind", e.Name())
		}
	}
}

// TestRestoreTakesTheWALBesideABackup: a copy of the database's folder
// taken while it ran (a file-system snapshot, a machine image, or the
// files a crash left) holds its newest transactions in mfagate.db-wal,
// beside the file. Restoring that file keeps them, as SQLite itself would
// on opening it, rather than silently going back to the last checkpoint.
func TestRestoreTakesTheWALBesideABackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	live := filepath.Join(dir, "live", "mfagate.db")
	db := mustOpenMigrated(t, live)
	raw, err := sql.Open("sqlite", "file:"+live+"?_pragma=wal_autocheckpoint(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`INSERT INTO users (username, username_key, created_at) VALUES ('late', 'late', 1)`); err != nil {
		t.Fatal(err)
	}
	snapshot := filepath.Join(dir, "snapshot", "mfagate.db")
	os.MkdirAll(filepath.Dir(snapshot), 0o700)
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(live + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if suffix == "-wal" && len(b) == 0 {
			t.Fatal("the WAL is empty: the test did not make a snapshot with a WAL")
		}
		if err := os.WriteFile(snapshot+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	db.Close()
	walBefore, _ := os.ReadFile(snapshot + "-wal")

	target := filepath.Join(dir, "new", "mfagate.db")
	res, err := Restore(ctx, target, snapshot, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res.WAL != snapshot+"-wal" {
		t.Errorf("restore says it took in the WAL %q, want %q", res.WAL, snapshot+"-wal")
	}
	if n := countUsers(t, target, "username = 'late'"); n != 1 {
		t.Fatalf("the restored database has %d of the transactions in the backup's WAL, want 1", n)
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if _, err := os.Stat(target + suffix); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is beside the restored database: %v", suffix, err)
		}
	}
	if walAfter, _ := os.ReadFile(snapshot + "-wal"); string(walAfter) != string(walBefore) {
		t.Fatal("restore changed the backup's WAL")
	}
}

// TestRestoreSaysWhoHoldsTheDatabase: a restore refused because another
// restore is replacing the database says so, rather than blaming a
// server that is not running.
func TestRestoreSaysWhoHoldsTheDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "data", "mfagate.db")
	db := mustOpenMigrated(t, path)
	backup := filepath.Join(dir, "backup.db")
	if _, err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(ctx, path, backup, time.Now()); err == nil || !strings.Contains(err.Error(), "a server is using "+path+"; stop it first") {
		t.Fatalf("restore under an open store: got %v", err)
	}
	db.Close()
	other, err := lockFile(path, true) // the other restore, half-way
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, err = Restore(ctx, path, backup, time.Now())
	if err == nil || !strings.Contains(err.Error(), `another "mfagate restore" is replacing `+path+" right now") {
		t.Fatalf("restore while another restore runs: got %v", err)
	}
}

// TestRestoreOfAnOlderSchema: a backup taken before an upgrade restores
// with the new version, says what it lacks, and a store opening it then
// brings it up to date with the accounts it held.
func TestRestoreOfAnOlderSchema(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old := filepath.Join(dir, "old", "mfagate.db")
	db, err := Open(ctx, DriverSQLite, old)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := MigrateTo(ctx, db, "0003_rollout.sql"); err != nil {
		t.Fatal(err)
	}
	if err := Exec(ctx, db, `INSERT INTO users (username, username_key, created_at) VALUES ('alice', 'alice', 1)`); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "before-upgrade.db")
	info, err := db.Backup(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations(migrationsFS(), dialectSQLite)
	if err != nil {
		t.Fatal(err)
	}
	var want []string // every migration after 0003, as a later release adds them
	for _, m := range ms[3:] {
		want = append(want, m.name)
	}
	if info.Schema != "0003_rollout.sql" || !reflect.DeepEqual(info.Pending, want) {
		t.Fatalf("backup of the old schema: got schema %q pending %v, want 0003_rollout.sql pending %v", info.Schema, info.Pending, want)
	}
	target := filepath.Join(dir, "new", "mfagate.db")
	res, err := Restore(ctx, target, backup, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Pending, want) || res.Accounts != 1 {
		t.Fatalf("restore: got pending %v, %d accounts; want %v, 1", res.Pending, res.Accounts, want)
	}
	restored := mustOpenMigrated(t, target)
	var n int64
	if n, err = QueryInt(ctx, restored, `SELECT COUNT(*) FROM schema_migrations`); err != nil || n != int64(len(ms)) {
		t.Fatalf("after migrating the restored database: %d migrations, %v; want %d", n, err, len(ms))
	}
	if n := countUsers(t, target, "username = 'alice'"); n != 1 {
		t.Fatalf("the migrated database has %d alice, want 1", n)
	}
}

// TestRestoreKeepsADatabaseThatIsALink: an operator who put the database
// on another disk and left a symbolic link at database.dsn keeps that
// layout: restore replaces the file the link leads to, keeps the old one
// beside it, and leaves the link a link. SQLite keeps its journals beside
// that file too, so backup refuses those names there.
func TestRestoreKeepsADatabaseThatIsALink(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	real := filepath.Join(dir, "big-disk", "mfagate.db")
	link := filepath.Join(dir, "var", "mfagate.db")
	os.MkdirAll(filepath.Dir(real), 0o700)
	os.MkdirAll(filepath.Dir(link), 0o700)
	if err := os.WriteFile(real, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	db := mustOpenMigrated(t, link)
	if err := Exec(ctx, db, `INSERT INTO users (username, username_key, created_at) VALUES ('alice', 'alice', 1)`); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	if _, err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Backup(ctx, real+"-journal"); err == nil || !strings.Contains(err.Error(), "SQLite uses for the database's own files") {
		t.Fatalf("backup to the journal beside the linked file: got %v, want a refusal", err)
	}
	if err := Exec(ctx, db, `INSERT INTO users (username, username_key, created_at) VALUES ('bob', 'bob', 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	res, err := Restore(ctx, link, backup, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link at database.dsn is no longer a link: %v %v", fi.Mode(), err)
	}
	if n := countUsers(t, real, "username = 'bob'"); n != 0 {
		t.Fatalf("the file the link leads to has %d bob, want the backup's none", n)
	}
	if n := countUsers(t, link, "username = 'alice'"); n != 1 {
		t.Fatalf("the database through the link has %d alice, want 1", n)
	}
	if filepath.Dir(res.KeptAs) != filepath.Dir(real) {
		t.Fatalf("kept the old database as %s, want it beside %s", res.KeptAs, real)
	}
	if fi, err := os.Lstat(res.KeptAs); err != nil || !fi.Mode().IsRegular() || countUsers(t, res.KeptAs, "username = 'bob'") != 1 {
		t.Fatalf("the kept database %s is not the old file with bob: %v", res.KeptAs, err)
	}
}

// TestRefusedRestoreLeavesNoFolder: on a new machine, a restore that
// refuses its backup leaves no trace, not even the database's folders it
// made to check the copy in.
func TestRefusedRestoreLeavesNoFolder(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(junk, []byte(strings.Repeat("not a database\n", 500)), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "srv", "mfagate", "mfagate.db")
	if _, err := Restore(context.Background(), path, junk, time.Now()); err == nil || !strings.Contains(err.Error(), "is not an SQLite database") {
		t.Fatalf("restore of a text file: got %v, want it refused", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "srv")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the refused restore left the folder it made: %v", err)
	}
}

// TestBackupOfANewerSchema: after going back to an older mfagate, whose
// server runs on the database a newer one migrated, the nightly backup
// still works, and says what only a newer mfagate can restore.
func TestBackupOfANewerSchema(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := mustOpenMigrated(t, filepath.Join(dir, "data", "mfagate.db"))
	if err := Exec(ctx, db, `INSERT INTO schema_migrations (version, applied_at) VALUES ('9999_future.sql', 1)`); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	info, err := db.Backup(ctx, backup)
	if err != nil {
		t.Fatalf("backup of a database a newer mfagate migrated: %v", err)
	}
	if !reflect.DeepEqual(info.Newer, []string{"9999_future.sql"}) || info.Schema != "9999_future.sql" {
		t.Fatalf("got schema %q, newer %v; want 9999_future.sql both", info.Schema, info.Newer)
	}
	_, err = Restore(ctx, filepath.Join(dir, "new", "mfagate.db"), backup, time.Now())
	if err == nil || !strings.Contains(err.Error(), "comes from a newer mfagate: its database has migration 9999_future.sql") {
		t.Fatalf("restore of it with this version: got %v, want it refused", err)
	}
}

// TestRestoreFindsTheFileAURINames: database.dsn may be a file: URI, in
// which SQLite decodes %XX and takes file://localhost/PATH as PATH.
// Backup, restore and the lock must mean the file SQLite opens, or a
// restore reports success into a file no server reads.
func TestRestoreFindsTheFileAURINames(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, tt := range []struct{ name, dsn, file string }{
		{"escaped space", "file:" + dir + "/my%20data/mfagate.db", dir + "/my data/mfagate.db"},
		{"localhost", "file://localhost" + dir + "/local/mfagate.db?_pragma=foreign_keys(1)", dir + "/local/mfagate.db"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := mustOpenMigrated(t, tt.dsn)
			if _, err := os.Stat(tt.file); err != nil {
				t.Fatalf("SQLite did not open %s: %v", tt.file, err)
			}
			if err := Exec(ctx, db, `INSERT INTO users (username, username_key, created_at) VALUES ('alice', 'alice', 1)`); err != nil {
				t.Fatal(err)
			}
			backup := filepath.Join(t.TempDir(), "backup.db")
			if _, err := db.Backup(ctx, backup); err != nil {
				t.Fatal(err)
			}
			if _, err := Restore(ctx, tt.dsn, backup, time.Now()); err == nil || !strings.Contains(err.Error(), "a server is using") {
				t.Fatalf("restore under an open store: got %v, want it refused", err)
			}
			if err := Exec(ctx, db, `INSERT INTO users (username, username_key, created_at) VALUES ('bob', 'bob', 1)`); err != nil {
				t.Fatal(err)
			}
			db.Close()
			res, err := Restore(ctx, tt.dsn, backup, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if res.Database != tt.file || res.KeptAs == "" {
				t.Fatalf("restored into %q keeping %q, want into %q keeping the old one", res.Database, res.KeptAs, tt.file)
			}
			if n := countUsers(t, tt.file, "username = 'bob'"); n != 0 {
				t.Fatalf("the file SQLite opens still has bob after the restore")
			}
		})
	}
	if _, err := Open(ctx, DriverSQLite, "file://db.example.com/var/lib/mfagate.db"); err == nil || !strings.Contains(err.Error(), "db.example.com") {
		t.Fatalf("a file: URI naming another host: got %v, want it refused", err)
	}
}

// TestOddNamesBackUpAndRestore: a name with #, ? or % in it is a plain
// file name to the operator, but those mean fragment, query and escape
// in the file: URIs that backup and restore open SQLite files with. A
// backup named "mfagate #2.db" was refused as "not an mfagate
// database" after SQLite opened, and created, the file ".mfagate " beside
// it instead.
func TestOddNamesBackUpAndRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// A ? cannot be in database.dsn itself, where it starts the options.
	for _, name := range []string{"odd#dir/mfagate.db", "100%41/mfagate.db"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "live-"+name)
			db := mustOpenMigrated(t, path)
			if err := Exec(ctx, db, `INSERT INTO users (username, username_key, created_at) VALUES ('alice', 'alice', 1)`); err != nil {
				t.Fatal(err)
			}
			backups := filepath.Join(dir, "backups?"+filepath.Dir(name))
			os.MkdirAll(backups, 0o700)
			backup := filepath.Join(backups, "mfagate #2 100% ?.db")
			if _, err := db.Backup(ctx, backup); err != nil {
				t.Fatalf("backup to %s: %v", backup, err)
			}
			if names := dirNames(t, backups); !reflect.DeepEqual(names, []string{filepath.Base(backup)}) {
				t.Fatalf("the backups folder holds %q, want only the backup", names)
			}
			db.Close()
			res, err := Restore(ctx, path, backup, time.Now())
			if err != nil {
				t.Fatalf("restore from %s into %s: %v", backup, path, err)
			}
			if res.Accounts != 1 || res.KeptAs == "" {
				t.Fatalf("restore: %d accounts, kept %q; want 1 and the old database kept", res.Accounts, res.KeptAs)
			}
			if names := dirNames(t, filepath.Dir(path)); len(names) != 3 { // the database, its lock and the kept one
				t.Fatalf("the database's folder holds %q", names)
			}
		})
	}
}
