package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

func mustMailQueue(tb testing.TB, s mfagate.Store) []mfagate.MailQueueLane {
	tb.Helper()
	var lanes []mfagate.MailQueueLane
	mustView(tb, s, func(tx mfagate.Tx) (err error) {
		lanes, err = tx.MailQueue()
		return err
	})
	return lanes
}

// testMailQueue: each priority's pending messages are counted, sent and
// failed ones are not, a message waiting to be tried again still is,
// and the oldest is found by when it joined the queue, even behind a
// message put back in line with an old id.
func testMailQueue(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	empty := []mfagate.MailQueueLane{{Priority: mfagate.MailSecurity}, {Priority: mfagate.MailAccount}, {Priority: mfagate.MailCampaign}}
	if got := mustMailQueue(t, s); !reflect.DeepEqual(got, empty) {
		t.Fatalf("empty outbox: got %+v, want %+v", got, empty)
	}
	alice := mustCreateUser(t, s, "alice")
	at := func(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }
	enqueue := func(priority, minutes int, then func(tx mfagate.Tx, id int64) error) {
		t.Helper()
		m := &mfagate.Message{To: alice.Email, UserID: alice.ID, Subject: "s", Text: "t", CreatedAt: at(minutes), Priority: priority}
		if priority == mfagate.MailCampaign {
			m.Campaign = "rollout-1"
		}
		mustUpdate(t, s, func(tx mfagate.Tx) error {
			if err := tx.EnqueueMail(m); err != nil || then == nil {
				return err
			}
			return then(tx, m.ID)
		})
	}
	sent := func(tx mfagate.Tx, id int64) error { return tx.MarkMailSent(id, at(30)) }
	failed := func(tx mfagate.Tx, id int64) error { return tx.FailMail(id, 0, "550 no such user") }
	retried := func(tx mfagate.Tx, id int64) error { return tx.RetryMail(id, 0, "421 try later", at(60)) }

	enqueue(mfagate.MailCampaign, 1, failed) // put back in line below, at minute 20
	enqueue(mfagate.MailSecurity, 2, sent)
	enqueue(mfagate.MailSecurity, 3, nil)
	enqueue(mfagate.MailAccount, 4, retried)
	enqueue(mfagate.MailCampaign, 5, nil)
	enqueue(mfagate.MailCampaign, 6, nil)
	enqueue(mfagate.MailCampaign, 7, sent)
	enqueue(mfagate.MailAccount, 8, failed)
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		n, err := tx.RequeueFailedMail(alice.ID, alice.Email, at(0), at(20))
		if err == nil && n != 2 {
			t.Fatalf("requeued %d, want 2", n)
		}
		return err
	})
	want := []mfagate.MailQueueLane{
		{Priority: mfagate.MailSecurity, Pending: 1, Oldest: at(3)},
		{Priority: mfagate.MailAccount, Pending: 2, Oldest: at(4)},
		{Priority: mfagate.MailCampaign, Pending: 3, Oldest: at(5)},
	}
	if got := mustMailQueue(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("queue:\ngot  %+v\nwant %+v", got, want)
	}
}
