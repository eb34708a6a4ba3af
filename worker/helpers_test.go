package worker_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/mail"
	"github.com/mfagate/mfagate/mail/mailtest"
	"github.com/mfagate/mfagate/sqlstore"
)

// start is where every test's ManualClock starts.
var start = time.Date(2025, 5, 26, 9, 0, 0, 0, time.UTC)

// dbPath returns the path of a new SQLite database in a temp folder.
func dbPath(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(tb.TempDir(), "mfagate.db")
}

// mustStore opens (and migrates) the SQLite database at path; it is closed
// when the test ends. Two calls with one path give two separate handles.
func mustStore(tb testing.TB, path string) *sqlstore.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.DriverSQLite, path)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return db
}

// mustMailer returns an SMTP Mailer for srv, without TLS.
func mustMailer(tb testing.TB, srv *mailtest.Server) *mail.SMTP {
	tb.Helper()
	m, err := mail.NewSMTP(mail.SMTPConfig{
		Host:    srv.Host(),
		Port:    srv.Port(),
		TLS:     mail.TLSNone,
		From:    "mfa@example.org",
		Timeout: 10 * time.Second,
	})
	if err != nil {
		tb.Fatalf("NewSMTP: %v", err)
	}
	return m
}

// mustEnqueue adds n account notices (mfagate.MailAccount, the bulk
// sender's) to p1@example.com … pn@example.com, created at at, and
// returns them.
func mustEnqueue(tb testing.TB, s mfagate.Store, n int, at time.Time) []*mfagate.Message {
	tb.Helper()
	return enqueueEach(tb, s, n, func(i int) *mfagate.Message {
		return &mfagate.Message{To: fmt.Sprintf("p%d@example.com", i), Subject: fmt.Sprintf("Your code %d", i),
			Text: fmt.Sprintf("Your sign-in code is 9%05d.\n", i), CreatedAt: at, Priority: mfagate.MailAccount}
	})
}

// enqueueEach queues the n messages each makes (i from 1) in one
// transaction, given a minute however many, and returns them.
func enqueueEach(tb testing.TB, s mfagate.Store, n int, each func(i int) *mfagate.Message) []*mfagate.Message {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var msgs []*mfagate.Message
	err := s.Update(ctx, func(tx mfagate.Tx) error {
		for i := range n {
			m := each(i + 1)
			if err := tx.EnqueueMail(m); err != nil {
				return err
			}
			msgs = append(msgs, m)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("enqueue mail: %v", err)
	}
	return msgs
}

// idSet is the set of the Message-IDs msgs go out with.
func idSet(msgs []*mfagate.Message) map[string]bool {
	ids := map[string]bool{}
	for _, m := range msgs {
		ids[mail.MessageID(m, fromDomain)] = true
	}
	return ids
}

// mustMail returns every message of the outbox by ID.
func mustMail(tb testing.TB, s mfagate.Store) map[int64]*mfagate.Message {
	tb.Helper()
	var msgs []*mfagate.Message
	err := s.View(context.Background(), func(tx mfagate.Tx) error {
		var err error
		msgs, err = tx.Mail(0)
		return err
	})
	if err != nil {
		tb.Fatalf("list mail: %v", err)
	}
	byID := make(map[int64]*mfagate.Message, len(msgs))
	for _, m := range msgs {
		byID[m.ID] = m
	}
	return byID
}

// newLogger returns a debug logger writing to a buffer, which is shown
// when the test fails.
func newLogger(tb testing.TB) (*slog.Logger, *mailtest.LogBuffer) {
	tb.Helper()
	buf := &mailtest.LogBuffer{}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("logs:\n%s", buf)
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// mustEnqueueCode adds a code email (security, secret) to to, expiring at
// expires.
func mustEnqueueCode(tb testing.TB, s mfagate.Store, to string, at, expires time.Time) *mfagate.Message {
	tb.Helper()
	m := &mfagate.Message{To: to, Subject: "Your code", Text: "Your code is 012345.\n", CreatedAt: at,
		Priority: mfagate.MailSecurity, Secret: true, ExpiresAt: expires}
	if err := s.Update(context.Background(), func(tx mfagate.Tx) error { return tx.EnqueueMail(m) }); err != nil {
		tb.Fatalf("enqueue code mail: %v", err)
	}
	return m
}

// mustUser creates a person with that email address.
func mustUser(tb testing.TB, s mfagate.Store, email string) *mfagate.User {
	tb.Helper()
	u := &mfagate.User{Username: strings.Split(email, "@")[0] + fmt.Sprint(time.Now().UnixNano()), Email: email,
		Name: "Someone", CreatedAt: start}
	if err := s.Update(context.Background(), func(tx mfagate.Tx) error { return tx.CreateUser(u) }); err != nil {
		tb.Fatalf("create user: %v", err)
	}
	return u
}

func mustUserByID(tb testing.TB, s mfagate.Store, id int64) *mfagate.User {
	tb.Helper()
	var u *mfagate.User
	if err := s.View(context.Background(), func(tx mfagate.Tx) (err error) {
		u, err = tx.UserByID(id)
		return err
	}); err != nil {
		tb.Fatalf("get user: %v", err)
	}
	return u
}

// mustEnqueueTo adds an account notice for the person userID at to.
func mustEnqueueTo(tb testing.TB, s mfagate.Store, to string, userID int64, at time.Time) *mfagate.Message {
	tb.Helper()
	m := &mfagate.Message{To: to, Subject: "News", Text: "Something happened.\n", CreatedAt: at,
		Priority: mfagate.MailAccount, UserID: userID}
	if err := s.Update(context.Background(), func(tx mfagate.Tx) error { return tx.EnqueueMail(m) }); err != nil {
		tb.Fatalf("enqueue mail: %v", err)
	}
	return m
}
