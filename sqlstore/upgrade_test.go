package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"reflect"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/storetest"
)

var base = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func mustUpdate(tb testing.TB, s mfagate.Store, fn func(mfagate.Tx) error) {
	tb.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		tb.Fatalf("Update: %v", err)
	}
}

// testMigrateFrom0001 upgrades a database that the first release left,
// with a user and a session in it, and checks that both come through and
// that the new tables work.
func testMigrateFrom0001(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	db := mustOpen(t, b.Driver, b.DSN(t))
	applied, err := sqlstore.MigrateTo(ctx, db, "0001_init.sql")
	if err != nil {
		t.Fatalf("MigrateTo 0001: %v", err)
	}
	if want := []string{"0001_init.sql"}; !reflect.DeepEqual(applied, want) {
		t.Fatalf("MigrateTo 0001: got %v, want %v", applied, want)
	}
	alice := &mfagate.User{Username: "alice", CreatedAt: base}
	mustUpdate(t, db, func(tx mfagate.Tx) error { return tx.CreateUser(alice) })
	// CreateSession writes the new columns, so the old row is written as
	// the first release wrote it.
	if err := sqlstore.Exec(ctx, db, `INSERT INTO sessions
		(hash, user_id, stage, created_at, last_seen_at, client_addr, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		hashOf("old"), alice.ID, "full", base.UnixMilli(), base.UnixMilli(), "192.0.2.1", "old"); err != nil {
		t.Fatalf("insert a session at 0001: %v", err)
	}

	if got, want := mustMigrate(t, db), []string{"0002_factors.sql"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Migrate from 0001: got %v, want %v", got, want)
	}

	var sess *mfagate.Session
	mustUpdate(t, db, func(tx mfagate.Tx) (err error) {
		sess, err = tx.SessionByHash(hashOf("old"))
		return err
	})
	want := &mfagate.Session{
		Hash: hashOf("old"), UserID: alice.ID, Stage: mfagate.StageFull, CreatedAt: base, LastSeenAt: base,
		ClientAddr: "192.0.2.1", UserAgent: "old",
	}
	if !reflect.DeepEqual(sess, want) {
		t.Errorf("session from 0001: got %+v, want %+v", sess, want)
	}
	mustUpdate(t, db, func(tx mfagate.Tx) error {
		sess.PendingTOTP, sess.FactorFailures = []byte("sealed"), 1
		if err := tx.UpdateSession(sess); err != nil {
			return err
		}
		return tx.CreateFactor(&mfagate.Factor{UserID: alice.ID, Method: mfagate.MethodEmail, CreatedAt: base})
	})
}

// testCreateEmailCodeVoids checks what the Store interface cannot show:
// the codes a new one replaces are marked voided in the database, and
// only those of the same session and purpose.
func testCreateEmailCodeVoids(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	db := b.New(t)
	alice := &mfagate.User{Username: "alice", CreatedAt: base}
	mustUpdate(t, db, func(tx mfagate.Tx) error { return tx.CreateUser(alice) })
	code := func(session, purpose string) *mfagate.EmailCode {
		c := &mfagate.EmailCode{
			UserID: alice.ID, SessionHash: hashOf(session), Purpose: purpose, Hash: hashOf("x"),
			CreatedAt: base, ExpiresAt: base.Add(time.Minute),
		}
		mustUpdate(t, db, func(tx mfagate.Tx) error { return tx.CreateEmailCode(c) })
		return c
	}
	first := code("a", mfagate.PurposeSignIn)
	second := code("a", mfagate.PurposeSignIn)
	setup := code("a", mfagate.PurposeSetup)
	other := code("b", mfagate.PurposeSignIn)
	third := code("a", mfagate.PurposeSignIn)
	tests := []struct {
		name string
		c    *mfagate.EmailCode
		want int64
	}{
		{"first", first, 1},
		{"second", second, 1},
		{"third, the latest", third, 0},
		{"another purpose", setup, 0},
		{"another session", other, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sqlstore.QueryInt(ctx, db, `SELECT voided FROM email_codes WHERE id = ?`, tt.c.ID)
			if err != nil {
				t.Fatalf("read voided: %v", err)
			}
			if got != tt.want {
				t.Errorf("voided: got %d, want %d", got, tt.want)
			}
		})
	}
}
