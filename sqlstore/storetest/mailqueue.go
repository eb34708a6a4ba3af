package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

func mustMailQueue(tb testing.TB, s mfagate.Store, now time.Time) []mfagate.MailQueueLane {
	tb.Helper()
	var lanes []mfagate.MailQueueLane
	mustView(tb, s, func(tx mfagate.Tx) (err error) {
		lanes, err = tx.MailQueue(now)
		return err
	})
	return lanes
}

// testMailQueue: each priority's pending messages are counted, sent and
// failed ones are not; one waiting for its next try counts as pending
// but not as waiting for a sender until that try comes due; and the
// longest wait is found by when messages became due, even behind a
// message put back in line with an old id.
func testMailQueue(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	at := func(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }
	empty := []mfagate.MailQueueLane{{Priority: mfagate.MailSecurity}, {Priority: mfagate.MailAccount}, {Priority: mfagate.MailCampaign}}
	if got := mustMailQueue(t, s, at(0)); !reflect.DeepEqual(got, empty) {
		t.Fatalf("empty outbox: got %+v, want %+v", got, empty)
	}
	alice := mustCreateUser(t, s, "alice")
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
	retried := func(tx mfagate.Tx, id int64) error { return tx.RetryMail(id, 0, "421 try later", at(40)) }

	enqueue(mfagate.MailCampaign, 1, failed) // put back in line below, at minute 20
	enqueue(mfagate.MailSecurity, 2, sent)
	enqueue(mfagate.MailSecurity, 3, nil)
	enqueue(mfagate.MailAccount, 4, retried) // next try at minute 40
	enqueue(mfagate.MailCampaign, 5, nil)
	enqueue(mfagate.MailCampaign, 6, nil)
	enqueue(mfagate.MailCampaign, 7, sent)
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		n, err := tx.RequeueFailedMail(alice.ID, alice.Email, at(0), at(20))
		if err == nil && n != 1 {
			t.Fatalf("requeued %d, want 1", n)
		}
		return err
	})
	for _, tt := range []struct {
		now        time.Time
		accountDue time.Time
	}{
		{at(30), time.Time{}}, // the retry is not due yet
		{at(45), at(40)},      // due since minute 40
	} {
		want := []mfagate.MailQueueLane{
			{Priority: mfagate.MailSecurity, Pending: 1, Due: at(3)},
			{Priority: mfagate.MailAccount, Pending: 1, Due: tt.accountDue},
			{Priority: mfagate.MailCampaign, Pending: 3, Due: at(5)},
		}
		if got := mustMailQueue(t, s, tt.now); !reflect.DeepEqual(got, want) {
			t.Errorf("queue at %v:\ngot  %+v\nwant %+v", tt.now, got, want)
		}
	}
}
