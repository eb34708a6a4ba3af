package sqlstore_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// testMigrateFrom0004 upgrades a database as the console release left it,
// with code emails in the outbox that kept their codes after delivery,
// and checks that 0005 marks them secret and removes the codes of the
// delivered and failed ones, leaving everything else as it was.
func testMigrateFrom0004(t *testing.T, b sqltest.Backend) {
	ctx := context.Background()
	db := b.Open(t, b.DSN(t))
	if _, err := sqlstore.MigrateTo(ctx, db, "0004_console.sql"); err != nil {
		t.Fatalf("MigrateTo 0004: %v", err)
	}
	alice := mustInsertOldUser(t, db, "alice")
	if err := sqlstore.Exec(ctx, db, `INSERT INTO sessions
		(hash, user_id, stage, created_at, last_seen_at, client_addr, user_agent, factor_failures)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		hashOf("old"), alice.ID, "password", base.UnixMilli(), base.UnixMilli(), "192.0.2.1", "old", 2); err != nil {
		t.Fatalf("insert a session at 0004: %v", err)
	}
	rows := []struct {
		subject, status, campaign string
		wantText                  string
		wantSecret                bool
	}{
		{"Your mfagate security code", "sent", "", "", true},
		{"Your Example Corp security code", "failed", "", "", true},
		{"Your mfagate security code", "pending", "", "Your security code is: 123456", true},
		{"Your account has been locked for a while", "sent", "", "Your security code is: 123456", false},
		{"Your new security code", "sent", "rollout-1", "Your security code is: 123456", false},
	}
	for _, r := range rows {
		if err := sqlstore.Exec(ctx, db, `INSERT INTO mail_outbox
			(to_addr, subject, body_text, created_at, status, next_attempt_at, campaign)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			"alice@example.com", r.subject, "Your security code is: 123456", base.UnixMilli(), r.status, base.UnixMilli(), r.campaign); err != nil {
			t.Fatalf("insert mail at 0004: %v", err)
		}
	}

	if got, want := sqltest.MustMigrate(t, db), allMigrations[4:]; !reflect.DeepEqual(got, want) {
		t.Fatalf("Migrate from 0004: got %v, want %v", got, want)
	}
	var ms []*mfagate.Message
	mustUpdate(t, db, func(tx mfagate.Tx) (err error) {
		ms, err = tx.Mail(0)
		return err
	})
	if len(ms) != len(rows) {
		t.Fatalf("got %d messages after the upgrade, want %d", len(ms), len(rows))
	}
	for i, r := range rows {
		m := ms[len(ms)-1-i] // Mail lists newest first
		if m.Subject != r.subject || m.Text != r.wantText || m.Secret != r.wantSecret || m.Status != r.status {
			t.Errorf("%q (%s): got text %q, secret %v, status %s; want text %q, secret %v",
				r.subject, r.status, m.Text, m.Secret, m.Status, r.wantText, r.wantSecret)
		}
	}
	mustUpdate(t, db, func(tx mfagate.Tx) error {
		sess, err := tx.SessionByHash(hashOf("old"))
		if err != nil {
			return err
		}
		return tx.UpdateSession(sess)
	})
}
