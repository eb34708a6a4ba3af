package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// TestAnnounceEnded: on PostgreSQL an announcement reaches a Listener on
// the same database when its transaction commits, and never when it
// rolls back; one too long to name its sessions says "all"; and the
// listener, cut off, says so and comes back. On SQLite a Poller on another
// store of the same file hears the committed announcements only, in
// order, and, when rows went unread, says "all".
func TestAnnounceEnded(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		// Two stores on one file, as a server and a command beside it.
		b := sqltest.SQLite()
		dsn := b.DSN(t)
		db := b.Open(t, dsn)
		sqltest.MustMigrate(t, db)
		server := b.Open(t, dsn)
		mustAnnounce(t, db, [][]byte{bytes.Repeat([]byte{9}, 32)}, nil) // before the poller: not handed on
		p, err := sqlstore.NewPoller(server, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.Every = 5 * time.Millisecond
		ctx := context.Background()
		states, heard := follow(t, p)
		waitState(t, states, true)
		checkCommittedOnly(t, db, heard)
		h := bytes.Repeat([]byte{0xab}, 32)
		// Rows removed before they were read (the poller stalled past
		// Keep): a gap, so everything is forgotten.
		mustAnnounce(t, db, [][]byte{h}, nil)
		if got := <-heard; got.All || len(got.Hashes) != 1 {
			t.Fatalf("heard %+v, want the hash", got)
		}
		if err := sqlstore.Exec(ctx, db, `INSERT INTO ended_sessions (id, at, payload) VALUES ((SELECT MAX(id) + 2 FROM ended_sessions), 9999999999999, 'u1')`); err != nil {
			t.Fatal(err)
		}
		if got := <-heard; !got.All {
			t.Fatalf("after a gap: heard %+v, want All", got)
		}
		if _, err := sqlstore.NewPoller(nil, nil); err == nil {
			t.Error("NewPoller(nil) did not fail")
		}
	})
	t.Run("postgres", func(t *testing.T) {
		b := sqltest.Postgres(t)
		dsn := b.DSN(t)
		db := b.Open(t, dsn)
		sqltest.MustMigrate(t, db)
		l, err := sqlstore.NewListener(dsn, 5*time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		l.Retry = 10 * time.Millisecond
		states, heard := follow(t, l)
		waitState(t, states, true)
		checkCommittedOnly(t, db, heard)
		h := bytes.Repeat([]byte{0xab}, 32)

		many := make([][]byte, 200) // 200 hashes of 64 hex digits: beyond a payload
		for i := range many {
			many[i] = bytes.Repeat([]byte{byte(i)}, 32)
		}
		mustAnnounce(t, db, many, nil)
		if got := <-heard; !got.All {
			t.Fatalf("heard %+v for 200 sessions, want All", got)
		}

		// Cut the listener's connection: it stops listening, then
		// listens again.
		admin, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		var cut int
		if err := admin.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE query = 'LISTEN "' || 'mfagate_ended_' || left(md5(current_schema()), 16) || '"'`).Scan(&cut); err != nil || cut != 1 {
			t.Fatalf("cut %d listeners (%v), want 1", cut, err)
		}
		waitState(t, states, false)
		waitState(t, states, true)
		mustAnnounce(t, db, [][]byte{h}, nil)
		if got := <-heard; len(got.Hashes) != 1 {
			t.Fatalf("after reconnecting: heard %+v, want the hash", got)
		}
	})
}

// follow runs r until the test ends, telling its states and what it
// hears.
func follow(tb testing.TB, r mfagate.Revocations) (<-chan bool, <-chan mfagate.Ended) {
	ctx, cancel := context.WithCancel(context.Background())
	states := make(chan bool, 10)
	heard := make(chan mfagate.Ended, 10)
	done := make(chan struct{})
	go func() {
		r.Follow(ctx, func(on bool) { states <- on }, func(e mfagate.Ended) { heard <- e })
		close(done)
	}()
	tb.Cleanup(func() { cancel(); <-done })
	return states, heard
}

// checkCommittedOnly announces in a transaction that rolls back, then in
// one that commits: only the second is heard. They are delivered in
// commit order, so had the first been sent it would come first.
func checkCommittedOnly(tb testing.TB, db *sqlstore.DB, heard <-chan mfagate.Ended) {
	tb.Helper()
	errRollback := errors.New("roll back")
	if err := db.Update(context.Background(), func(tx mfagate.Tx) error {
		if err := tx.AnnounceEnded([][]byte{bytes.Repeat([]byte{0xcd}, 32)}, nil); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		tb.Fatal(err)
	}
	h := bytes.Repeat([]byte{0xab}, 32)
	mustAnnounce(tb, db, [][]byte{h}, []int64{42, 43})
	got := <-heard
	if got.All || len(got.Hashes) != 1 || !bytes.Equal(got.Hashes[0], h) || !slices.Equal(got.Users, []int64{42, 43}) {
		tb.Fatalf("heard %+v, want the committed announcement: hash %x, users 42 and 43", got, h)
	}
}

func mustAnnounce(tb testing.TB, db *sqlstore.DB, hashes [][]byte, users []int64) {
	tb.Helper()
	if err := db.Update(context.Background(), func(tx mfagate.Tx) error { return tx.AnnounceEnded(hashes, users) }); err != nil {
		tb.Fatal(err)
	}
}

func waitState(tb testing.TB, states <-chan bool, want bool) {
	tb.Helper()
	select {
	case got := <-states:
		if got != want {
			tb.Fatalf("listening: got %v, want %v", got, want)
		}
	case <-time.After(30 * time.Second): // a hang, not a timing: the signal never came
		tb.Fatalf("listening never became %v", want)
	}
}
