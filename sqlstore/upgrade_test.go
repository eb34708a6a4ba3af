package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"reflect"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
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
func testMigrateFrom0001(t *testing.T, b sqltest.Backend) {
	ctx := context.Background()
	db := b.Open(t, b.DSN(t))
	applied, err := sqlstore.MigrateTo(ctx, db, "0001_init.sql")
	if err != nil {
		t.Fatalf("MigrateTo 0001: %v", err)
	}
	if want := []string{"0001_init.sql"}; !reflect.DeepEqual(applied, want) {
		t.Fatalf("MigrateTo 0001: got %v, want %v", applied, want)
	}
	// CreateUser and CreateSession write newer columns, so the old rows
	// are written as the first release wrote them.
	alice := mustInsertOldUser(t, db, "alice")
	if err := sqlstore.Exec(ctx, db, `INSERT INTO sessions
		(hash, user_id, stage, created_at, last_seen_at, client_addr, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		hashOf("old"), alice.ID, "full", base.UnixMilli(), base.UnixMilli(), "192.0.2.1", "old"); err != nil {
		t.Fatalf("insert a session at 0001: %v", err)
	}

	if got, want := sqltest.MustMigrate(t, db), allMigrations[1:]; !reflect.DeepEqual(got, want) {
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
		sess.PendingTOTP = []byte("sealed")
		if err := tx.UpdateSession(sess); err != nil {
			return err
		}
		return tx.CreateFactor(&mfagate.Factor{UserID: alice.ID, Method: mfagate.MethodEmail, CreatedAt: base})
	})
}

// mustInsertOldUser inserts a user as the first release did, with the
// columns of 0001 only, and returns it as the current release reads it.
func mustInsertOldUser(tb testing.TB, db *sqlstore.DB, username string) *mfagate.User {
	tb.Helper()
	if err := sqlstore.Exec(context.Background(), db, `INSERT INTO users
		(username, username_key, email, name, password_hash, disabled, created_at, last_sign_in_at)
		VALUES (?, ?, ?, '', '', 0, ?, ?)`,
		username, username, username+"@example.com", base.UnixMilli(), base.UnixMilli()); err != nil {
		tb.Fatalf("insert user %q: %v", username, err)
	}
	id, err := sqlstore.QueryInt(context.Background(), db, `SELECT id FROM users WHERE username_key = ?`, username)
	if err != nil {
		tb.Fatalf("read user %q: %v", username, err)
	}
	return &mfagate.User{ID: id, Username: username, Email: username + "@example.com", CreatedAt: base, LastSignInAt: base}
}

// testMigrateFrom0002 upgrades a database as the factors release left it,
// with a user, a factor and a message, and checks that they read back with
// the new fields at their zero values and take part in the rollout.
func testMigrateFrom0002(t *testing.T, b sqltest.Backend) {
	ctx := context.Background()
	db := b.Open(t, b.DSN(t))
	if _, err := sqlstore.MigrateTo(ctx, db, "0002_factors.sql"); err != nil {
		t.Fatalf("MigrateTo 0002: %v", err)
	}
	alice := mustInsertOldUser(t, db, "alice")
	if err := sqlstore.Exec(ctx, db, `INSERT INTO user_roles (user_id, role) VALUES (?, 'user')`, alice.ID); err != nil {
		t.Fatalf("insert role at 0002: %v", err)
	}
	alice.Roles = []string{"user"}
	if err := sqlstore.Exec(ctx, db, `INSERT INTO factors (user_id, method, created_at) VALUES (?, 'email', ?)`,
		alice.ID, base.UnixMilli()); err != nil {
		t.Fatalf("insert factor at 0002: %v", err)
	}
	if err := sqlstore.Exec(ctx, db, `INSERT INTO mail_outbox (to_addr, created_at, next_attempt_at) VALUES ('a@example.com', ?, ?)`,
		base.UnixMilli(), base.UnixMilli()); err != nil {
		t.Fatalf("insert message at 0002: %v", err)
	}

	if got, want := sqltest.MustMigrate(t, db), allMigrations[2:]; !reflect.DeepEqual(got, want) {
		t.Fatalf("Migrate from 0002: got %v, want %v", got, want)
	}

	var (
		got    *mfagate.User
		people []*mfagate.Person
		ms     []*mfagate.Message
	)
	mustUpdate(t, db, func(tx mfagate.Tx) (err error) {
		if got, err = tx.UserByID(alice.ID); err != nil {
			return err
		}
		if ms, err = tx.Mail(0); err != nil {
			return err
		}
		if err := tx.RecordSkip(alice.ID, base); err != nil {
			return err
		}
		if ok, err := tx.MarkCampaignSent("c1", alice.ID, base); err != nil || !ok {
			t.Errorf("MarkCampaignSent after the upgrade: got %v, %v, want true", ok, err)
		}
		return tx.People(func(p *mfagate.Person) error { people = append(people, p); return nil })
	})
	if !reflect.DeepEqual(got, alice) {
		t.Errorf("user from 0002: got %+v, want %+v", got, alice)
	}
	if len(ms) != 1 || ms[0].Campaign != "" {
		t.Errorf("message from 0002: got %+v, want one without a campaign", ms)
	}
	want := []*mfagate.Person{{ID: alice.ID, Username: "alice", Roles: []string{"user"},
		Methods: []string{mfagate.MethodEmail}, SignedIn: true, Skips: 1}}
	if !reflect.DeepEqual(people, want) {
		t.Errorf("people after the upgrade: got %+v, want %+v", people, want)
	}
}

// testCreateEmailCodeVoids checks what the Store interface cannot show:
// the codes a new one replaces are marked voided in the database, and
// only those of the same session and purpose.
func testCreateEmailCodeVoids(t *testing.T, b sqltest.Backend) {
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
