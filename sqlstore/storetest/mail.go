package storetest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

func mustEnqueue(tb testing.TB, s mfagate.Store, to string, created time.Time) *mfagate.Message {
	tb.Helper()
	m := &mfagate.Message{To: to, Subject: "Hello " + to, Text: "Body for " + to, CreatedAt: created}
	mustUpdate(tb, s, func(tx mfagate.Tx) error { return tx.EnqueueMail(m) })
	return m
}

func mustClaim(tb testing.TB, s mfagate.Store, now time.Time, lease time.Duration, limit int) []*mfagate.Message {
	tb.Helper()
	var ms []*mfagate.Message
	mustUpdate(tb, s, func(tx mfagate.Tx) (err error) {
		ms, err = tx.ClaimMail(anyMail(now, lease, limit))
		return err
	})
	return ms
}

// anyMail claims messages of every priority, as a new batch with a
// random claim number (from crypto/rand, as the worker's).
func anyMail(now time.Time, lease time.Duration, limit int) mfagate.MailClaim {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return mfagate.MailClaim{Now: now, Lease: lease, Limit: limit, Lowest: mfagate.MailSecurity, Highest: mfagate.MailCampaign,
		Claim: int64(binary.BigEndian.Uint64(b[:])>>1) | 1}
}

func mustMail(tb testing.TB, s mfagate.Store) []*mfagate.Message {
	tb.Helper()
	var ms []*mfagate.Message
	mustView(tb, s, func(tx mfagate.Tx) (err error) {
		ms, err = tx.Mail(0)
		return err
	})
	return ms
}

// mustMessage returns the outbox message with that ID.
func mustMessage(tb testing.TB, s mfagate.Store, id int64) *mfagate.Message {
	tb.Helper()
	for _, m := range mustMail(tb, s) {
		if m.ID == id {
			return m
		}
	}
	tb.Fatalf("message %d not in the outbox", id)
	return nil
}

func messageIDs(ms []*mfagate.Message) []int64 {
	ids := []int64{}
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}

func testEnqueueMail(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	m1 := mustEnqueue(t, s, "alice@example.com", base.Add(1500*time.Microsecond))
	m2 := mustEnqueue(t, s, "bob@example.com", base.Add(time.Second))
	if m1.ID <= 0 || m2.ID <= m1.ID {
		t.Fatalf("IDs: got %d then %d, want positive and growing", m1.ID, m2.ID)
	}
	if m1.Status != mfagate.MailPending {
		t.Errorf("Status: got %q, want %q", m1.Status, mfagate.MailPending)
	}
	want1 := mfagate.Message{
		ID: m1.ID, To: m1.To, Subject: m1.Subject, Text: m1.Text,
		CreatedAt: stored(m1.CreatedAt), Status: mfagate.MailPending, NextAttemptAt: stored(m1.CreatedAt),
		QueuedAt: stored(m1.CreatedAt),
	}
	want2 := mfagate.Message{
		ID: m2.ID, To: m2.To, Subject: m2.Subject, Text: m2.Text,
		CreatedAt: m2.CreatedAt, Status: mfagate.MailPending, NextAttemptAt: m2.CreatedAt, QueuedAt: m2.CreatedAt,
	}
	tests := []struct {
		name  string
		limit int
		want  []mfagate.Message
	}{
		{"all", 0, []mfagate.Message{want2, want1}},
		{"limit", 1, []mfagate.Message{want2}},
		{"limit above count", 5, []mfagate.Message{want2, want1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []*mfagate.Message
			mustView(t, s, func(tx mfagate.Tx) (err error) {
				got, err = tx.Mail(tt.limit)
				return err
			})
			if len(got) != len(tt.want) {
				t.Fatalf("messages: got %d, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !reflect.DeepEqual(*got[i], tt.want[i]) {
					t.Errorf("message %d: got %+v, want %+v", i, *got[i], tt.want[i])
				}
			}
		})
	}
}

func testClaimMail(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	a := mustEnqueue(t, s, "a@example.com", base)
	b := mustEnqueue(t, s, "b@example.com", base.Add(time.Second))
	c := mustEnqueue(t, s, "c@example.com", base.Add(2*time.Second))
	later := mustEnqueue(t, s, "later@example.com", base.Add(time.Hour)) // not due yet

	got := mustClaim(t, s, base.Add(time.Minute), 2*time.Hour, 2)
	if ids, want := messageIDs(got), []int64{a.ID, b.ID}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("first claim: got %v, want %v (oldest first, at most the limit)", ids, want)
	}
	for _, m := range got {
		if m.Attempts != 1 || m.Status != mfagate.MailPending || m.To == "" || m.Text == "" {
			t.Errorf("claimed message: got %+v, want pending, one attempt, with its content", *m)
		}
	}
	got = mustClaim(t, s, base.Add(time.Minute), 2*time.Hour, 10)
	if ids, want := messageIDs(got), []int64{c.ID}; !reflect.DeepEqual(ids, want) {
		t.Errorf("second claim: got %v, want %v (leased and not yet due left out)", ids, want)
	}
	if got := mustClaim(t, s, base.Add(time.Minute), 2*time.Hour, 10); len(got) != 0 {
		t.Errorf("third claim: got %v, want none", messageIDs(got))
	}
	if got := mustClaim(t, s, base.Add(time.Minute), time.Minute, 0); len(got) != 0 {
		t.Errorf("claim with limit 0: got %v, want none", messageIDs(got))
	}
	// Due exactly at its time.
	got = mustClaim(t, s, later.CreatedAt, time.Minute, 10)
	if ids, want := messageIDs(got), []int64{later.ID}; !reflect.DeepEqual(ids, want) {
		t.Errorf("claim at the due time: got %v, want %v", ids, want)
	}
}

// testClaimMailLease: a claimed message is not claimed again until its
// lease ends, by the database's clock (whatever time the claimer says
// it is), and each claim counts an attempt.
func testClaimMailLease(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	m := mustEnqueue(t, s, "a@example.com", base)
	now := base.Add(time.Minute)
	const lease = time.Second
	mustClaim(t, s, now, lease, 10)
	claim := func(name string, at time.Time, lease time.Duration, wantIDs []int64, wantTries int) {
		t.Helper()
		got := mustClaim(t, s, at, lease, 10)
		if ids := messageIDs(got); !reflect.DeepEqual(ids, wantIDs) {
			t.Errorf("%s: claimed %v, want %v", name, ids, wantIDs)
		}
		if got := mustMessage(t, s, m.ID).Attempts; got != wantTries {
			t.Errorf("%s: Attempts %d, want %d", name, got, wantTries)
		}
	}
	claim("within the lease", now, lease, []int64{}, 1)
	// A claimer whose clock is far ahead does not end the lease early.
	claim("within the lease, by a clock an hour ahead", now.Add(time.Hour), lease, []int64{}, 1)
	time.Sleep(lease + 100*time.Millisecond)
	claim("when the lease has ended", now, time.Hour, []int64{m.ID}, 2)
	claim("within the new lease", now.Add(2*time.Hour), lease, []int64{}, 2)
}

func testRetryMail(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	m := mustEnqueue(t, s, "a@example.com", base)
	mustClaim(t, s, base, time.Hour, 10)
	next := base.Add(5 * time.Minute)
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.RetryMail(m.ID, 0, "421 try later", next) })

	got := mustMessage(t, s, m.ID)
	if got.Status != mfagate.MailPending || got.LastError != "421 try later" || got.NextAttemptAt != next || got.Attempts != 1 {
		t.Errorf("after RetryMail: got %+v, want pending, LastError set, NextAttemptAt %v, one attempt", *got, next)
	}
	// The lease ended with the retry, but the message is not due before next.
	if got := mustClaim(t, s, next.Add(-time.Millisecond), time.Hour, 10); len(got) != 0 {
		t.Errorf("claim before next: got %v, want none", messageIDs(got))
	}
	claimed := mustClaim(t, s, next, time.Hour, 10)
	if len(claimed) != 1 || claimed[0].Attempts != 2 || claimed[0].LastError != "421 try later" {
		t.Errorf("claim at next: got %v, want the message with 2 attempts and its last error", claimed)
	}
	err := update(s, func(tx mfagate.Tx) error { return tx.RetryMail(m.ID+100, 0, "x", next) })
	wantCode(t, "RetryMail of a missing message", err, mfagate.ENOTFOUND)
}

func testFailMail(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	m := mustEnqueue(t, s, "a@example.com", base)
	other := mustEnqueue(t, s, "b@example.com", base)
	mustClaim(t, s, base, time.Minute, 1)
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.FailMail(m.ID, 0, "550 no such user") })

	got := mustMessage(t, s, m.ID)
	if got.Status != mfagate.MailFailed || got.LastError != "550 no such user" {
		t.Errorf("after FailMail: got %+v, want failed with the last error", *got)
	}
	// A failed message is never claimed again.
	claimed := mustClaim(t, s, base.Add(24*time.Hour), time.Minute, 10)
	if ids, want := messageIDs(claimed), []int64{other.ID}; !reflect.DeepEqual(ids, want) {
		t.Errorf("claim after FailMail: got %v, want %v", ids, want)
	}
	err := update(s, func(tx mfagate.Tx) error { return tx.FailMail(m.ID+100, 0, "x") })
	wantCode(t, "FailMail of a missing message", err, mfagate.ENOTFOUND)
}

func testMarkMailSent(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	m := mustEnqueue(t, s, "a@example.com", base)
	mustClaim(t, s, base, time.Minute, 10)
	sentAt := base.Add(2 * time.Second)
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.MarkMailSent(m.ID, sentAt) })

	got := mustMessage(t, s, m.ID)
	if got.Status != mfagate.MailSent || got.SentAt != sentAt {
		t.Errorf("after MarkMailSent: got %+v, want sent at %v", *got, sentAt)
	}
	if claimed := mustClaim(t, s, base.Add(time.Hour), time.Minute, 10); len(claimed) != 0 {
		t.Errorf("claim after sent: got %v, want none", messageIDs(claimed))
	}
	tests := []struct {
		name string
		fn   func(mfagate.Tx) error
		code string
	}{
		{"sent twice", func(tx mfagate.Tx) error { return tx.MarkMailSent(m.ID, sentAt.Add(time.Second)) }, mfagate.ECONFLICT},
		{"missing", func(tx mfagate.Tx) error { return tx.MarkMailSent(m.ID+100, sentAt) }, mfagate.ENOTFOUND},
		{"retry after sent", func(tx mfagate.Tx) error { return tx.RetryMail(m.ID, 0, "late", sentAt) }, mfagate.ECONFLICT},
		{"fail after sent", func(tx mfagate.Tx) error { return tx.FailMail(m.ID, 0, "late") }, mfagate.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.name, update(s, tt.fn), tt.code)
		})
	}
	// None of that changed the record of the one delivery.
	if got := mustMessage(t, s, m.ID); got.Status != mfagate.MailSent || got.SentAt != sentAt || got.LastError != "" {
		t.Errorf("after the refused calls: got %+v, want still sent at %v", *got, sentAt)
	}
}

// ClaimConcurrently checks that two claimers working at once, through a
// and b (the same store, or two stores on one database, as two replicas
// would be), are handed disjoint sets of messages that together cover the
// whole outbox.
func ClaimConcurrently(t *testing.T, a, b mfagate.Store) {
	t.Helper()
	const total = 50
	want := make([]int64, 0, total)
	mustUpdate(t, a, func(tx mfagate.Tx) error {
		for i := range total {
			m := &mfagate.Message{To: fmt.Sprintf("p%d@example.com", i), Subject: "s", Text: "t", CreatedAt: base}
			if err := tx.EnqueueMail(m); err != nil {
				return err
			}
			want = append(want, m.ID)
		}
		return nil
	})

	now := base.Add(time.Minute)
	claimed := make([][]int64, 2)
	var wg sync.WaitGroup
	for i, s := range []mfagate.Store{a, b} {
		wg.Go(func() {
			for {
				var ms []*mfagate.Message
				err := s.Update(context.Background(), func(tx mfagate.Tx) (err error) {
					ms, err = tx.ClaimMail(anyMail(now, time.Hour, 3))
					return err
				})
				if err != nil {
					t.Errorf("claimer %d: %v", i, err)
					return
				}
				if len(ms) == 0 {
					return
				}
				for _, m := range ms {
					if m.Attempts != 1 {
						t.Errorf("claimer %d: message %d has %d attempts, want 1", i, m.ID, m.Attempts)
					}
					claimed[i] = append(claimed[i], m.ID)
				}
			}
		})
	}
	wg.Wait()

	seen := map[int64]int{}
	for i, ids := range claimed {
		for _, id := range ids {
			if j, dup := seen[id]; dup {
				t.Errorf("message %d claimed by claimer %d and claimer %d", id, j, i)
			}
			seen[id] = i
		}
	}
	var got []int64
	for id := range seen {
		got = append(got, id)
	}
	slices.Sort(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("claimed together: got %v, want %v", got, want)
	}
	if rest := mustClaim(t, a, now, time.Hour, total); len(rest) != 0 {
		t.Errorf("left to claim: got %v, want none", messageIDs(rest))
	}
	t.Logf("claimer 0 got %d, claimer 1 got %d", len(claimed[0]), len(claimed[1]))
}
