package sqlstore_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// testMigrateFrom0005 upgrades a database as the hardening release left
// it, with code emails, notices and campaign emails in the outbox, and
// checks that 0006 gives each its priority and its queue time, and that
// the pending ones are then claimed in priority order.
func testMigrateFrom0005(t *testing.T, b sqltest.Backend) {
	ctx := context.Background()
	db := b.Open(t, b.DSN(t))
	if _, err := sqlstore.MigrateTo(ctx, db, "0005_hardening.sql"); err != nil {
		t.Fatalf("MigrateTo 0005: %v", err)
	}
	rows := []struct {
		subject, campaign string
		secret            int
		wantPriority      int
	}{
		{"Rollout news", "rollout-1", 0, mfagate.MailCampaign},
		{"Your account has been unlocked", "", 0, mfagate.MailAccount},
		{"Your mfagate security code", "", 1, mfagate.MailSecurity},
	}
	for i, r := range rows {
		at := base.Add(time.Duration(i) * time.Second).UnixMilli()
		if err := sqlstore.Exec(ctx, db, `INSERT INTO mail_outbox
			(to_addr, subject, body_text, created_at, status, next_attempt_at, campaign, secret)
			VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`,
			"alice@example.com", r.subject, "text", at, at, r.campaign, r.secret); err != nil {
			t.Fatalf("insert mail at 0005: %v", err)
		}
	}
	if got, want := sqltest.MustMigrate(t, db), allMigrations[5:]; !reflect.DeepEqual(got, want) {
		t.Fatalf("Migrate from 0005: got %v, want %v", got, want)
	}
	var ms []*mfagate.Message
	mustUpdate(t, db, func(tx mfagate.Tx) (err error) {
		ms, err = tx.ClaimMail(mfagate.MailClaim{Now: base.Add(time.Minute), Lease: time.Minute, Limit: 10,
			Lowest: mfagate.MailSecurity, Highest: mfagate.MailCampaign, Claim: 1})
		return err
	})
	if len(ms) != len(rows) {
		t.Fatalf("claimed %d messages after the upgrade, want %d", len(ms), len(rows))
	}
	for i, m := range ms {
		r := rows[len(rows)-1-i] // security first, campaigns last
		if m.Subject != r.subject || m.Priority != r.wantPriority || !m.QueuedAt.Equal(m.CreatedAt) || m.UserID != 0 {
			t.Errorf("claim %d: got %q priority %d queued %v (created %v) user %d; want %q priority %d queued when created",
				i, m.Subject, m.Priority, m.QueuedAt, m.CreatedAt, m.UserID, r.subject, r.wantPriority)
		}
	}
}

// testMailQueued: a committed transaction that queued security mail
// signals MailQueued; one that queued only other mail, or that rolled
// back, does not.
func testMailQueued(t *testing.T, b sqltest.Backend) {
	db := b.New(t)
	signalled := func() bool {
		select {
		case <-db.MailQueued():
			return true
		default:
			return false
		}
	}
	enqueue := func(priority int, fail bool) {
		t.Helper()
		err := db.Update(context.Background(), func(tx mfagate.Tx) error {
			if err := tx.EnqueueMail(&mfagate.Message{To: "a@example.com", Subject: "s", CreatedAt: base, Priority: priority}); err != nil {
				return err
			}
			if fail {
				return errRollback
			}
			return nil
		})
		if (err != nil) != fail {
			t.Fatalf("Update: %v", err)
		}
	}
	enqueue(mfagate.MailCampaign, false)
	enqueue(mfagate.MailAccount, false)
	if signalled() {
		t.Error("signalled after queuing a campaign email and a notice")
	}
	enqueue(mfagate.MailSecurity, true)
	if signalled() {
		t.Error("signalled after a transaction that rolled back")
	}
	enqueue(mfagate.MailSecurity, false)
	enqueue(mfagate.MailSecurity, false) // one signal waits for both
	if !signalled() {
		t.Error("not signalled after queuing a code")
	}
	if signalled() {
		t.Error("signalled twice: the signal should not pile up")
	}
}

var errRollback = errors.New("roll back")
