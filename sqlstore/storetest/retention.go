package storetest

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

func testNotices(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	hold := func(kind string) *mfagate.NoticeState {
		t.Helper()
		var n *mfagate.NoticeState
		mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
			n, err = tx.HoldNotice(alice.ID, kind)
			return err
		})
		return n
	}
	if got, want := hold(mfagate.NoticeReplay), (&mfagate.NoticeState{UserID: alice.ID, Kind: mfagate.NoticeReplay}); !reflect.DeepEqual(got, want) {
		t.Errorf("a kind never sent: got %+v, want %+v", *got, *want)
	}
	saved := &mfagate.NoticeState{UserID: alice.ID, Kind: mfagate.NoticeReplay, SentAt: base.Add(1500 * time.Microsecond),
		Held: 3, HeldSince: base.Add(time.Minute), HeldLastAt: base.Add(4 * time.Minute), HeldFrom: "192.0.2.7"}
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.SaveNotice(saved) })
	want := *saved
	want.SentAt = stored(saved.SentAt)
	if got := hold(mfagate.NoticeReplay); !reflect.DeepEqual(got, &want) {
		t.Errorf("after SaveNotice: got %+v, want %+v", *got, want)
	}
	if got := hold(mfagate.NoticeHardLock); got.Held != 0 || !got.SentAt.IsZero() {
		t.Errorf("another kind: got %+v, want untouched", *got)
	}
	saved.Held, saved.HeldSince, saved.HeldLastAt, saved.HeldFrom = 0, time.Time{}, time.Time{}, ""
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.SaveNotice(saved) })
	if got := hold(mfagate.NoticeReplay); got.Held != 0 || !got.HeldSince.IsZero() || got.HeldFrom != "" {
		t.Errorf("held cleared: got %+v", *got)
	}
	err := s.View(context.Background(), func(tx mfagate.Tx) error { _, err := tx.HoldNotice(alice.ID, "x"); return err })
	if err == nil {
		t.Error("HoldNotice inside View: got no error, want a refusal")
	}
}

func testNoticesDue(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice, bob := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	for _, n := range []*mfagate.NoticeState{
		{UserID: alice.ID, Kind: mfagate.NoticeReplay, SentAt: base, Held: 2, HeldSince: base.Add(time.Minute)},
		{UserID: alice.ID, Kind: mfagate.NoticeFailedCodes, SentAt: base.Add(10 * time.Minute), Held: 1}, // sent too recently
		{UserID: bob.ID, Kind: mfagate.NoticeReplay, SentAt: base.Add(-time.Minute), Held: 5},
		{UserID: bob.ID, Kind: mfagate.NoticeCodeLock, SentAt: base}, // nothing held
	} {
		mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.SaveNotice(n) })
	}
	var due []*mfagate.NoticeState
	mustView(t, s, func(tx mfagate.Tx) (err error) {
		due, err = tx.NoticesDue(base.Add(5*time.Minute), 10)
		return err
	})
	var got [][2]any
	for _, n := range due {
		got = append(got, [2]any{n.UserID, n.Kind})
	}
	want := [][2]any{{bob.ID, mfagate.NoticeReplay}, {alice.ID, mfagate.NoticeReplay}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NoticesDue: got %v, want %v (oldest email first)", got, want)
	}
	mustView(t, s, func(tx mfagate.Tx) (err error) {
		due, err = tx.NoticesDue(base.Add(5*time.Minute), 1)
		return err
	})
	if len(due) != 1 {
		t.Errorf("NoticesDue with limit 1: got %d", len(due))
	}
}

func mustClaimJob(tb testing.TB, s mfagate.Store, name string, now, next time.Time) bool {
	tb.Helper()
	var ok bool
	mustUpdate(tb, s, func(tx mfagate.Tx) (err error) {
		ok, err = tx.ClaimJob(name, now, next)
		return err
	})
	return ok
}

func testClaimJob(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	steps := []struct {
		name      string
		job       string
		now, next time.Time
		want      bool
	}{
		{"first run", "retention", base, base.Add(time.Minute), true},
		{"same turn again", "retention", base.Add(time.Second), base.Add(time.Minute + time.Second), false},
		{"another job", "notices", base, base.Add(time.Minute), true},
		{"the next turn", "retention", base.Add(time.Minute), base.Add(2 * time.Minute), true},
		{"just before it is due", "retention", base.Add(2*time.Minute - time.Millisecond), base.Add(3 * time.Minute), false},
	}
	for _, st := range steps {
		if got := mustClaimJob(t, s, st.job, st.now, st.next); got != st.want {
			t.Errorf("%s: got %v, want %v", st.name, got, st.want)
		}
	}
}

// ClaimJobConcurrently checks that of 20 replicas claiming one turn of a
// job at once, through a and b in turn, exactly one wins.
func ClaimJobConcurrently(t *testing.T, a, b mfagate.Store) {
	t.Helper()
	var (
		wins atomic.Int32
		wg   sync.WaitGroup
	)
	start := make(chan struct{})
	for i := range 20 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			<-start
			err := s.Update(context.Background(), func(tx mfagate.Tx) error {
				ok, err := tx.ClaimJob("retention", base, base.Add(time.Minute))
				if ok {
					wins.Add(1)
				}
				return err
			})
			if err != nil {
				t.Errorf("ClaimJob %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if got := wins.Load(); got != 1 {
		t.Errorf("replicas that won one turn: got %d, want 1", got)
	}
}

func enqueueSecret(tb testing.TB, s mfagate.Store, to string, created time.Time) *mfagate.Message {
	tb.Helper()
	m := &mfagate.Message{To: to, Subject: "Your security code", Text: "Your code is 123456", CreatedAt: created, Secret: true}
	mustUpdate(tb, s, func(tx mfagate.Tx) error { return tx.EnqueueMail(m) })
	return m
}

// mailByID returns the outbox's messages by ID.
func mailByID(tb testing.TB, s mfagate.Store) map[int64]*mfagate.Message {
	tb.Helper()
	out := map[int64]*mfagate.Message{}
	for _, m := range mustMail(tb, s) {
		out[m.ID] = m
	}
	return out
}

func testSecretMail(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	sent, failed, pending := enqueueSecret(t, s, "a@example.com", base), enqueueSecret(t, s, "b@example.com", base),
		enqueueSecret(t, s, "c@example.com", base)
	plain := mustEnqueue(t, s, "d@example.com", base)
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		for _, id := range []int64{sent.ID, plain.ID} {
			if err := tx.MarkMailSent(id, base.Add(time.Second)); err != nil {
				return err
			}
		}
		return tx.FailMail(failed.ID, 0, "550 no such mailbox")
	})
	got := mailByID(t, s)
	for _, tt := range []struct {
		name string
		m    *mfagate.Message
		text string
	}{
		{"a sent secret", sent, ""},
		{"a failed secret", failed, ""},
		{"a pending secret", pending, pending.Text},
		{"a sent plain message", plain, plain.Text},
	} {
		m := got[tt.m.ID]
		if m.Text != tt.text || m.To != tt.m.To || m.Subject != tt.m.Subject || m.Secret != tt.m.Secret {
			t.Errorf("%s: got to %q, subject %q, text %q, secret %v; want the envelope kept and text %q",
				tt.name, m.To, m.Subject, m.Text, m.Secret, tt.text)
		}
	}
	// The text comes out of ClaimMail too while pending.
	claimed := mustClaim(t, s, base.Add(time.Minute), time.Minute, 10)
	if len(claimed) != 1 || claimed[0].ID != pending.ID || claimed[0].Text != pending.Text || !claimed[0].Secret {
		t.Errorf("ClaimMail: got %+v, want the pending secret with its text", claimed)
	}
}

func testExpireSecretMail(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	old := enqueueSecret(t, s, "old@example.com", base)
	leased := enqueueSecret(t, s, "leased@example.com", base)
	young := enqueueSecret(t, s, "young@example.com", base.Add(20*time.Minute))
	plain := mustEnqueue(t, s, "plain@example.com", base)
	now := base.Add(30 * time.Minute)
	// A lease in force (a worker sending it right now) is left alone.
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		return tx.RetryMail(old.ID, 0, "", base) // due, not leased
	})
	ms := mustClaim(t, s, now.Add(-time.Second), time.Minute, 10)
	for _, m := range ms {
		if m.ID != leased.ID {
			mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.RetryMail(m.ID, 0, "", base) })
		}
	}
	var n int
	mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
		n, err = tx.ExpireSecretMail(now.Add(-10*time.Minute), now)
		return err
	})
	if n != 1 {
		t.Errorf("ExpireSecretMail: got %d, want 1", n)
	}
	got := mailByID(t, s)
	if m := got[old.ID]; m.Status != mfagate.MailFailed || m.Text != "" || m.LastError == "" {
		t.Errorf("an old pending code email: got status %s, text %q, error %q; want failed, empty, a reason", m.Status, m.Text, m.LastError)
	}
	for _, m := range []*mfagate.Message{leased, young, plain} {
		if g := got[m.ID]; g.Status != mfagate.MailPending || g.Text != m.Text {
			t.Errorf("%s: got status %s, text %q; want it pending and whole", m.To, g.Status, g.Text)
		}
	}
}

func testDeleteOldMail(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	enqueue := func(campaign string, created time.Time) *mfagate.Message {
		m := &mfagate.Message{To: "x@example.com", Subject: "s", Text: "t", CreatedAt: created, Campaign: campaign}
		mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.EnqueueMail(m) })
		return m
	}
	old := base
	recent := base.Add(40 * 24 * time.Hour)
	var oldSent, oldFailed []*mfagate.Message
	for range 3 {
		oldSent = append(oldSent, enqueue("rollout-a", old))
	}
	oldFailed = append(oldFailed, enqueue("rollout-a", old))
	oldPlain := enqueue("", old)
	oldPending := enqueue("rollout-a", old)
	recentSent := enqueue("rollout-a", recent)
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		for _, m := range append(append(oldSent, oldPlain), recentSent) {
			if err := tx.MarkMailSent(m.ID, m.CreatedAt.Add(time.Minute)); err != nil {
				return err
			}
		}
		return tx.FailMail(oldFailed[0].ID, 0, "550")
	})
	stats := func() []mfagate.CampaignStat {
		var got []mfagate.CampaignStat
		mustView(t, s, func(tx mfagate.Tx) (err error) { got, err = tx.CampaignStats(); return err })
		return got
	}
	before := stats()
	// In batches: a limit of 2 takes the oldest two, then the rest.
	cutoff := base.Add(30 * 24 * time.Hour)
	var total int
	for _, want := range []int{2, 2, 1, 0} {
		var n int
		mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
			n, err = tx.DeleteOldMail(cutoff, 2)
			return err
		})
		if n != want {
			t.Errorf("DeleteOldMail batch: got %d, want %d", n, want)
		}
		total += n
	}
	if total != 5 {
		t.Errorf("deleted in all: got %d, want 5 (3 sent, 1 failed, 1 plain)", total)
	}
	left := mailByID(t, s)
	if len(left) != 2 || left[oldPending.ID] == nil || left[recentSent.ID] == nil {
		t.Errorf("left: got %d messages, want the old pending one and the recent one", len(left))
	}
	if got := stats(); !reflect.DeepEqual(got, before) {
		t.Errorf("campaign counts after deleting: got %+v, want them unchanged at %+v", got, before)
	}
	want := []mfagate.CampaignStat{{Campaign: "rollout-a", Pending: 1, Sent: 4, Failed: 1}}
	if got := stats(); !reflect.DeepEqual(got, want) {
		t.Errorf("campaign counts: got %+v, want %+v", got, want)
	}
}

func testDeleteOldEmailCodes(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	now := base.Add(2 * time.Hour)
	gone := newEmailCode(alice.ID, "a", mfagate.PurposeSignIn, base)                       // expired at +10m, made 2h ago
	recent := newEmailCode(alice.ID, "b", mfagate.PurposeSignIn, now.Add(-30*time.Minute)) // expired, but counts towards the hourly cap
	live := newEmailCode(alice.ID, "c", mfagate.PurposeSignIn, now.Add(-time.Minute))
	for _, c := range []*mfagate.EmailCode{gone, recent, live} {
		mustCreateEmailCode(t, s, c)
	}
	var n int
	mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
		n, err = tx.DeleteOldEmailCodes(now, now.Add(-time.Hour))
		return err
	})
	if n != 1 {
		t.Errorf("DeleteOldEmailCodes: got %d, want 1", n)
	}
	var since int
	mustView(t, s, func(tx mfagate.Tx) (err error) {
		since, err = tx.EmailCodesSince(alice.ID, now.Add(-time.Hour))
		return err
	})
	if since != 2 {
		t.Errorf("codes in the last hour after deleting: got %d, want 2", since)
	}
	err := view(s, func(tx mfagate.Tx) error {
		_, err := tx.LatestEmailCode([]byte("a"), mfagate.PurposeSignIn)
		return err
	})
	wantCode(t, "the deleted code", err, mfagate.ENOTFOUND)
}
