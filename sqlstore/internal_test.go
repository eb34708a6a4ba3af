package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		name  string
		d     dialect
		query string
		want  string
	}{
		{"sqlite unchanged", dialectSQLite, "SELECT ? WHERE a = ?", "SELECT ? WHERE a = ?"},
		{"postgres numbered", dialectPostgres, "SELECT ? WHERE a = ? AND b IN (?, ?)", "SELECT $1 WHERE a = $2 AND b IN ($3, $4)"},
		{"postgres no placeholders", dialectPostgres, "SELECT 1", "SELECT 1"},
		{"postgres literal kept", dialectPostgres, "SELECT '?' || ?, 'it''s?' || ?", "SELECT '?' || $1, 'it''s?' || $2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.rebind(tt.query); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"empty", "\n-- only a comment\n", nil},
		{"two", "CREATE TABLE a (x INT);\nCREATE INDEX i ON a (x);\n", []string{"CREATE TABLE a (x INT)", "CREATE INDEX i ON a (x)"}},
		{"multi-line with comments", "-- head\nCREATE TABLE a (\n    x INT, -- why\n    y TEXT DEFAULT 'a;b'\n);\n", []string{"CREATE TABLE a (\n    x INT, -- why\n    y TEXT DEFAULT 'a;b'\n)"}},
		{"last without semicolon", "SELECT 1;\nSELECT 2\n", []string{"SELECT 1", "SELECT 2"}},
		{"crlf", "SELECT 1;\r\nSELECT 2;\r\n", []string{"SELECT 1", "SELECT 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitStatements(tt.src); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadMigrations(t *testing.T) {
	for _, d := range []dialect{dialectSQLite, dialectPostgres} {
		t.Run(d.String(), func(t *testing.T) {
			ms, err := loadMigrations(migrationsFS(), d)
			if err != nil {
				t.Fatalf("loadMigrations: %v", err)
			}
			if len(ms) == 0 || ms[0].name != "0001_init.sql" {
				t.Fatalf("got %d migrations, want 0001_init.sql first", len(ms))
			}
			for _, m := range ms {
				for _, stmt := range m.statements {
					if strings.Contains(stmt, "{{") || strings.Contains(stmt, "<no value>") {
						t.Errorf("%s: unfilled placeholder in %q", m.name, stmt)
					}
				}
			}
		})
	}
}

func TestSQLiteDSN(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, dsn, wantPrefix, wantDir string
	}{
		{"path", filepath.Join(dir, "a", "db.sqlite"), filepath.Join(dir, "a", "db.sqlite") + "?_pragma=", filepath.Join(dir, "a")},
		{"file uri", "file:" + filepath.Join(dir, "b", "db.sqlite") + "?cache=private", "file:" + filepath.Join(dir, "b", "db.sqlite") + "?cache=private&_pragma=", filepath.Join(dir, "b")},
		{"file uri with slashes", "file://" + filepath.Join(dir, "c", "db.sqlite"), "file://" + filepath.Join(dir, "c", "db.sqlite") + "?_pragma=", filepath.Join(dir, "c")},
		{"memory", ":memory:", ":memory:?_pragma=", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sqliteDSN(tt.dsn, 5*time.Second)
			if err != nil {
				t.Fatalf("sqliteDSN: %v", err)
			}
			if !strings.HasPrefix(got, tt.wantPrefix) || !strings.Contains(got, "_txlock=immediate") {
				t.Errorf("got %q, want it to start with %q and take the lock at BEGIN", got, tt.wantPrefix)
			}
			if tt.wantDir != "" {
				if fi, err := os.Stat(tt.wantDir); err != nil || !fi.IsDir() {
					t.Errorf("folder %s: got %v, want it created", tt.wantDir, err)
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, driver, dsn string
		want              []string // substrings of the error
	}{
		{"unknown driver", "mysql", "x", []string{"open database", `"mysql"`, `"sqlite"`, `"postgres"`}},
		{"empty sqlite", DriverSQLite, "", []string{"open database", "empty"}},
		{"sqlite under a file", DriverSQLite, filepath.Join(notADir, "db.sqlite"), []string{"open database"}},
		{"postgres down", DriverPostgres, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", []string{"open database"}},
		{"bad postgres dsn", DriverPostgres, "postgres://%zz", []string{"open database"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(context.Background(), tt.driver, tt.dsn)
			if err == nil {
				db.Close()
				t.Fatalf("Open: got nil error, want one")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error: got %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestSQLitePragmas(t *testing.T) {
	dir := t.TempDir()
	dsns := map[string]string{
		"path":     filepath.Join(dir, "a", "db.sqlite"),
		"file uri": "file:" + filepath.Join(dir, "b", "db.sqlite") + "?cache=private",
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			db, err := Open(context.Background(), DriverSQLite, dsn)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer db.Close()
			if _, err := db.Migrate(context.Background()); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			tests := []struct{ pragma, want string }{
				{"journal_mode", "wal"},
				{"busy_timeout", "5000"},
				{"foreign_keys", "1"},
				{"synchronous", "1"}, // NORMAL
			}
			for _, tt := range tests {
				var got string
				if err := db.db.QueryRowContext(context.Background(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
					t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
				}
				if got != tt.want {
					t.Errorf("PRAGMA %s: got %q, want %q", tt.pragma, got, tt.want)
				}
			}
		})
	}
}
