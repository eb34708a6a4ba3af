package account_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

// failedMail queues a message for u created at created and records how it
// ended: failed (refused), or sent when sent is true.
func (f *fixture) failedMail(tb testing.TB, u *mfagate.User, subject string, created time.Time, m mfagate.Message, sent bool) *mfagate.Message {
	tb.Helper()
	m.UserID, m.Subject, m.Text, m.CreatedAt = u.ID, subject, "Body of "+subject, created
	if m.To == "" {
		m.To = u.Email
	}
	err := f.store.Update(context.Background(), func(tx mfagate.Tx) error {
		if err := tx.EnqueueMail(&m); err != nil {
			return err
		}
		if sent {
			return tx.MarkMailSent(m.ID, created)
		}
		return tx.FailMail(m.ID, 0, "550 5.1.1 no such user")
	})
	if err != nil {
		tb.Fatal(err)
	}
	return &m
}

func (f *fixture) markUnreached(tb testing.TB, u *mfagate.User, at time.Time) {
	tb.Helper()
	err := f.store.Update(context.Background(), func(tx mfagate.Tx) error {
		marked, err := tx.MarkUnreached(u.ID, u.Email, "550 5.1.1 <"+u.Email+">: no such user", at)
		if err == nil && !marked {
			tb.Errorf("MarkUnreached(%s): not marked", u.Username)
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func (f *fixture) message(tb testing.TB, id int64) *mfagate.Message {
	tb.Helper()
	for _, m := range f.mail(tb) {
		if m.ID == id {
			return m
		}
	}
	tb.Fatalf("message %d not in the outbox", id)
	return nil
}

func TestMarkAddressFixed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	alice := f.mustUser(t, "alice", pw)
	refused := start.Add(-2 * time.Hour)
	f.markUnreached(t, alice, refused)

	tests := []struct {
		name   string
		m      *mfagate.Message
		resent bool
	}{
		{"queued a day before the refusal, refused with it",
			f.failedMail(t, alice, "Set up security codes", refused.Add(-24*time.Hour),
				mfagate.Message{Campaign: "rollout-1", Priority: mfagate.MailCampaign, To: "ALICE@example.com"}, false), true},
		{"a notice after the refusal",
			f.failedMail(t, alice, "Your account was unlocked", refused.Add(time.Hour), mfagate.Message{Priority: mfagate.MailAccount}, false), true},
		{"failed before mail.retry_for ahead of the refusal",
			f.failedMail(t, alice, "Old news", refused.Add(-73*time.Hour), mfagate.Message{}, false), false},
		{"a code",
			f.failedMail(t, alice, "Your security code", refused.Add(time.Hour), mfagate.Message{Secret: true}, false), false},
		{"sent",
			f.failedMail(t, alice, "Delivered", refused.Add(-time.Hour), mfagate.Message{}, true), false},
	}
	sam := account.Actor{Name: "sam", ClientAddr: "10.0.0.5"}
	f.clock.Advance(time.Minute)
	n, err := f.svc.MarkAddressFixed(ctx, sam, "ALICE", "  Mailbox restored by their IT, checked by phone ")
	if err != nil {
		t.Fatalf("MarkAddressFixed: %v", err)
	}
	if n != 2 {
		t.Errorf("resent: got %d, want 2", n)
	}
	now := f.clock.Now().UTC().Truncate(time.Millisecond)
	for _, tt := range tests {
		got := f.message(t, tt.m.ID)
		if tt.resent {
			if got.Status != mfagate.MailPending || got.To != alice.Email || !got.NextAttemptAt.Equal(now) || !got.QueuedAt.Equal(now) {
				t.Errorf("%s: got %s to %s due %v (queued %v), want pending to %s due %v",
					tt.name, got.Status, got.To, got.NextAttemptAt, got.QueuedAt, alice.Email, now)
			}
		} else if got.Status == mfagate.MailPending {
			t.Errorf("%s: got pending again, want left as it was (%s)", tt.name, tt.m.Status)
		}
	}
	u, err := f.svc.User(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !u.UnreachedAt.IsZero() || u.UnreachedReason != "" {
		t.Errorf("after MarkAddressFixed: got unreached at %v (%q), want no mark", u.UnreachedAt, u.UnreachedReason)
	}
	evs := f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditAddressFixed})
	if len(evs) != 1 {
		t.Fatalf("audit events: got %d, want 1", len(evs))
	}
	e := evs[0]
	if e.Actor != "sam" || e.Subject != "alice" || e.ClientAddr != "10.0.0.5" || e.Outcome != mfagate.OutcomeSuccess ||
		e.Reason != "Mailbox restored by their IT, checked by phone" ||
		!strings.Contains(e.Detail, "2 emails queued again to alice@example.com") || !strings.Contains(e.Detail, "no such user") {
		t.Errorf("audit event: got %+v", *e)
	}

	// Not marked any more: refused, and nothing changes.
	_, err = f.svc.MarkAddressFixed(ctx, sam, "alice", "again")
	if mfagate.ErrorCode(err) != mfagate.EINVALID || !strings.Contains(mfagate.ErrorMessage(err), "not being refused") {
		t.Errorf("second MarkAddressFixed: got %v, want EINVALID saying emails are not being refused", err)
	}
	if got := f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditAddressFixed}); len(got) != 1 {
		t.Errorf("audit events after the refusal: got %d, want still 1", len(got))
	}
}

func TestMarkAddressFixedRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	bob := f.mustUser(t, "bob", pw)
	f.markUnreached(t, bob, start)
	queued := f.failedMail(t, bob, "Notice", start, mfagate.Message{}, false)
	sam := account.Actor{Name: "sam"}
	tests := []struct {
		name     string
		by       account.Actor
		username string
		reason   string
		code     string
	}{
		{"no reason", sam, "bob", "  ", mfagate.EINVALID},
		{"reason too long", sam, "bob", strings.Repeat("x", 501), mfagate.EINVALID},
		{"reason too long in Cyrillic", sam, "bob", strings.Repeat("ж", 501), mfagate.EINVALID},
		{"own account", account.Actor{Name: "Bob"}, "bob", "my mailbox works", mfagate.EFORBIDDEN},
		{"nobody", sam, "nobody", "fixed", mfagate.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := f.svc.MarkAddressFixed(ctx, tt.by, tt.username, tt.reason)
			if mfagate.ErrorCode(err) != tt.code || n != 0 {
				t.Errorf("got %d, %v; want 0, %s", n, err, tt.code)
			}
		})
	}
	// None of them cleared the mark or sent anything.
	u, err := f.svc.User(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if u.UnreachedAt.IsZero() {
		t.Errorf("bob's mark: cleared by a refused call")
	}
	if got := f.message(t, queued.ID); got.Status != mfagate.MailFailed {
		t.Errorf("bob's failed email: got %s, want still failed", got.Status)
	}
	if got := f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditAddressFixed}); len(got) != 0 {
		t.Errorf("audit events: got %d, want none", len(got))
	}

	// The server's command line may act on its own account, and support
	// on a staff account: it weakens nothing.
	olga := f.mustUser(t, "olga", pw, mfagate.RoleOperator)
	f.markUnreached(t, olga, start)
	if _, err := f.svc.MarkAddressFixed(ctx, sam, "olga", "mailbox restored"); err != nil {
		t.Errorf("support on an operator's address: %v", err)
	}
	if _, err := f.svc.MarkAddressFixed(ctx, account.Actor{Name: "bob", AtServer: true}, "bob", "fixed"); err != nil {
		t.Errorf("at the server, on its own account: %v", err)
	}

	// The limit counts characters, as the console's form does: 500 in
	// Cyrillic (1,000 bytes) are taken.
	ivan := f.mustUser(t, "ivan", pw)
	f.markUnreached(t, ivan, start)
	if _, err := f.svc.MarkAddressFixed(ctx, sam, "ivan", strings.Repeat("ж", account.MaxReason)); err != nil {
		t.Errorf("a reason of %d Cyrillic characters: %v, want it taken", account.MaxReason, err)
	}
}

// TestMarkAddressFixedLooksBackRetryFor: how far back it sends again
// follows mail.retry_for.
func TestMarkAddressFixedLooksBackRetryFor(t *testing.T) {
	f := newFixture(t)
	svc, err := account.New(account.Options{Store: f.store, Clock: f.clock, Password: cheap, Key: testKey,
		MailRetryFor: 10 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	alice := f.mustUser(t, "alice", pw)
	f.markUnreached(t, alice, start)
	in := f.failedMail(t, alice, "Nine days before", start.Add(-9*24*time.Hour), mfagate.Message{}, false)
	out := f.failedMail(t, alice, "Eleven days before", start.Add(-11*24*time.Hour), mfagate.Message{}, false)
	n, err := svc.MarkAddressFixed(context.Background(), account.Actor{Name: "sam"}, "alice", "fixed")
	if err != nil || n != 1 {
		t.Fatalf("MarkAddressFixed: got %d, %v; want 1", n, err)
	}
	if got := f.message(t, in.ID).Status; got != mfagate.MailPending {
		t.Errorf("nine days before: got %s, want pending", got)
	}
	if got := f.message(t, out.ID).Status; got != mfagate.MailFailed {
		t.Errorf("eleven days before: got %s, want failed", got)
	}
}

// TestForecastCountsUnreached: the forecast says how many of those forced
// at the next phase cannot be reached by email; disabled people, and
// people no longer marked, are not among them.
func TestForecastCountsUnreached(t *testing.T) {
	f := rolloutFixture(t, nil, optionalDay)
	ctx := context.Background()
	var admins []*mfagate.User
	for _, name := range []string{"ada", "ben", "cy", "dee"} {
		admins = append(admins, f.mustUser(t, name, pw, "admin"))
	}
	user := f.mustUser(t, "una", pw, "user")
	for _, u := range append(admins[:3:3], user) {
		f.markUnreached(t, u, optionalDay)
	}
	if err := f.svc.SetDisabled(ctx, account.Actor{Name: "test", AtServer: true}, "cy", true, "left"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.MarkAddressFixed(ctx, account.Actor{Name: "sam"}, "ben", "mailbox restored"); err != nil {
		t.Fatal(err)
	}
	sum, err := f.svc.Forecast(ctx, optionalDay.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// Forced on July 13: ada, ben and dee (cy is disabled; una is a user,
	// forced only at the last phase). Of them only ada is still unreached.
	if sum.Next == nil || sum.Next.Name != "Email verification required" || sum.ForcedAtNext != 3 || sum.ForcedAtNextUnreached != 1 {
		t.Errorf("forecast: got next %v, %d forced, %d unreached; want the email phase, 3 forced, 1 unreached",
			sum.Next, sum.ForcedAtNext, sum.ForcedAtNextUnreached)
	}
}
