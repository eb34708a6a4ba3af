package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

func TestCacheable(t *testing.T) {
	for _, tt := range []struct {
		query string
		want  bool
	}{
		{"SELECT id FROM users WHERE username = ?", true},
		{"\n\t\tselect 1", true},
		{"INSERT INTO audit (at) VALUES (?, ?, ?)", true},
		{"UPDATE sessions SET last_seen_at = ? WHERE id = ?", true},
		{"DELETE FROM factors WHERE id = ?", true},
		{"WITH x AS (SELECT 1) SELECT * FROM x", true},
		{"SELECT id FROM users WHERE id IN (?)", true}, // one shape only
		{"SELECT id FROM users WHERE id IN (?, ?, ?)", false},
		{"UPDATE mail_outbox SET claim = NULL WHERE id IN (?, ?)", false},
		{"CREATE TABLE x (id INTEGER)", false},
		{"ALTER TABLE x ADD COLUMN y INTEGER", false},
		{"DROP INDEX x", false},
		{"VACUUM", false},
		{"", false},
	} {
		if got := cacheable(tt.query); got != tt.want {
			t.Errorf("cacheable(%q): got %v, want %v", tt.query, got, tt.want)
		}
	}
}

func openSQLite(t *testing.T, o Options) *DB {
	t.Helper()
	db, err := OpenWith(context.Background(), DriverSQLite, filepath.Join(t.TempDir(), "db.sqlite"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// selectN runs "SELECT n" (a distinct query for each n) through the tx
// helpers and checks its answer.
func selectN(mtx mfagate.Tx, n int) error {
	var got int
	if err := mtx.(*tx).queryRow(fmt.Sprintf("SELECT %d", n)).Scan(&got); err != nil {
		return err
	}
	if got != n {
		return fmt.Errorf("SELECT %d gave %d", n, got)
	}
	return nil
}

// TestStatementCacheIsBounded: queries beyond maxStatements still run,
// unprepared, and the cache stops growing; the ones cached are reused.
func TestStatementCacheIsBounded(t *testing.T) {
	db := openSQLite(t, Options{})
	ctx := context.Background()
	for round := 0; round < 2; round++ {
		for n := range maxStatements + 100 {
			if err := db.View(ctx, func(tx mfagate.Tx) error { return selectN(tx, n) }); err != nil {
				t.Fatal(err)
			}
		}
		if prepared, cached := db.stmts.len(); cached != maxStatements || prepared != maxStatements {
			t.Fatalf("round %d: %d prepared, %d cached; want %d of each", round, prepared, cached, maxStatements)
		}
	}
	// An IN list built for the call is not cached at all.
	if err := db.View(ctx, func(mtx mfagate.Tx) error {
		return mtx.(*tx).queryRow("SELECT COUNT(*) FROM (SELECT 1 AS v) WHERE v IN (?, ?)", 1, 2).Scan(new(int))
	}); err != nil {
		t.Fatal(err)
	}
	if _, cached := db.stmts.len(); cached != maxStatements {
		t.Fatalf("an IN list was cached: %d", cached)
	}
}

// TestStatementsPreparedInTransactions: a query first met in a
// transaction runs unprepared and is prepared in the background, never
// waiting for a connection: here every connection of the pool is held by
// a transaction (one running, two waiting for SQLite's write lock), and
// preparing on the DB there and then would wait until the deadline.
func TestStatementsPreparedInTransactions(t *testing.T) {
	db := openSQLite(t, Options{MaxOpenConns: 3, RequestTimeout: 3 * time.Second})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	err := db.Update(ctx, func(tx mfagate.Tx) error {
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- db.Update(ctx, func(tx mfagate.Tx) error { return selectN(tx, 100+i) })
			}()
		}
		// Both wait in BEGIN for the write lock, each holding a connection.
		for waited := time.Now(); db.db.Stats().InUse < 3; time.Sleep(time.Millisecond) {
			if time.Since(waited) > 2*time.Second {
				return fmt.Errorf("the other transactions hold %d connections, want 2", db.db.Stats().InUse-1)
			}
		}
		return selectN(tx, 7)
	})
	wg.Wait()
	close(errs)
	if err != nil {
		t.Fatalf("the transaction holding the lock: %v", err)
	}
	for err := range errs {
		if err != nil {
			t.Fatalf("a waiting transaction: %v", err)
		}
	}
	// Prepared meanwhile, in the background: later transactions use it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if prepared, _ := db.stmts.len(); prepared == 3 {
			break
		}
		if time.Now().After(deadline) {
			p, c := db.stmts.len()
			t.Fatalf("%d of %d queries prepared", p, c)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := db.Update(ctx, func(tx mfagate.Tx) error { return selectN(tx, 7) }); err != nil {
		t.Fatal(err)
	}
}

// TestClosingTheDBClosesItsStatements: Close closes every statement,
// and a call after it fails with an error, not a panic, and prepares
// nothing.
func TestClosingTheDBClosesItsStatements(t *testing.T) {
	db := openSQLite(t, Options{})
	ctx := context.Background()
	if err := db.View(ctx, func(tx mfagate.Tx) error { return selectN(tx, 1) }); err != nil {
		t.Fatal(err)
	}
	var stmt = db.stmts.entries["SELECT 1"].stmt
	if stmt == nil {
		t.Fatal("SELECT 1 was not prepared")
	}
	db.Close()
	if prepared, _ := db.stmts.len(); prepared != 0 {
		t.Fatalf("%d statements still open after Close", prepared)
	}
	if err := stmt.QueryRowContext(ctx).Scan(new(int)); err == nil {
		t.Fatal("the statement still runs after Close")
	}
	for _, n := range []int{1, 2} { // cached before Close, and new
		if err := db.View(ctx, func(tx mfagate.Tx) error { return selectN(tx, n) }); err == nil {
			t.Fatalf("SELECT %d ran on a closed DB", n)
		}
		if err := db.Update(ctx, func(tx mfagate.Tx) error { return selectN(tx, n) }); err == nil {
			t.Fatalf("SELECT %d ran in a transaction on a closed DB", n)
		}
	}
	if prepared, _ := db.stmts.len(); prepared != 0 {
		t.Fatalf("%d statements prepared after Close", prepared)
	}
}
