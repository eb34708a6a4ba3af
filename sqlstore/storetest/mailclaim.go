package storetest

import (
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

// mustEnqueueAs adds a message of the given priority (and expiry, when
// not zero) to to.
func mustEnqueueAs(tb testing.TB, s mfagate.Store, to string, priority int, created, expires time.Time) *mfagate.Message {
	tb.Helper()
	m := &mfagate.Message{To: to, Subject: "Hello " + to, Text: "Body for " + to, CreatedAt: created,
		Priority: priority, ExpiresAt: expires, Secret: priority == mfagate.MailSecurity}
	mustUpdate(tb, s, func(tx mfagate.Tx) error { return tx.EnqueueMail(m) })
	return m
}

func claimBatch(tb testing.TB, s mfagate.Store, c mfagate.MailClaim) []*mfagate.Message {
	tb.Helper()
	var ms []*mfagate.Message
	mustUpdate(tb, s, func(tx mfagate.Tx) (err error) {
		ms, err = tx.ClaimMail(c)
		return err
	})
	return ms
}

// testClaimMailPriority: a claim takes only its priorities, the most
// urgent first and then the oldest, and tags every message with its
// claim.
func testClaimMailPriority(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	campaign := mustEnqueueAs(t, s, "campaign@example.com", mfagate.MailCampaign, base, time.Time{})
	account := mustEnqueueAs(t, s, "account@example.com", mfagate.MailAccount, base.Add(time.Second), time.Time{})
	code := mustEnqueueAs(t, s, "code@example.com", mfagate.MailSecurity, base.Add(2*time.Second), base.Add(time.Hour))
	campaign2 := mustEnqueueAs(t, s, "campaign2@example.com", mfagate.MailCampaign, base.Add(3*time.Second), time.Time{})
	now := base.Add(time.Minute)

	bulk := claimBatch(t, s, mfagate.MailClaim{Now: now, Lease: time.Minute, Limit: 10,
		Lowest: mfagate.MailAccount, Highest: mfagate.MailCampaign, Claim: 7})
	if got, want := messageIDs(bulk), []int64{account.ID, campaign.ID, campaign2.ID}; !equalIDs(got, want) {
		t.Errorf("bulk claim: got %v, want %v (account notices, then campaigns oldest first)", got, want)
	}
	for _, m := range bulk {
		if m.Claim != 7 || m.Priority == mfagate.MailSecurity {
			t.Errorf("message %d: claim %d priority %d, want claim 7 and no security mail", m.ID, m.Claim, m.Priority)
		}
	}
	security := claimBatch(t, s, mfagate.MailClaim{Now: now, Lease: time.Minute, Limit: 10,
		Lowest: mfagate.MailSecurity, Highest: mfagate.MailSecurity, Claim: 8})
	if got, want := messageIDs(security), []int64{code.ID}; !equalIDs(got, want) {
		t.Errorf("security claim: got %v, want %v", got, want)
	}
	if m := security[0]; !m.ExpiresAt.Equal(base.Add(time.Hour)) || !m.Secret || m.Claim != 8 {
		t.Errorf("code message as claimed: %+v", *m)
	}
}

// testClaimMailExpired: a message whose code has expired is given up by
// the next security claim, never handed out.
func testClaimMailExpired(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	late := mustEnqueueAs(t, s, "late@example.com", mfagate.MailSecurity, base, base.Add(time.Minute))
	fresh := mustEnqueueAs(t, s, "fresh@example.com", mfagate.MailSecurity, base, base.Add(time.Hour))
	got := claimBatch(t, s, mfagate.MailClaim{Now: base.Add(2 * time.Minute), Lease: time.Minute, Limit: 10,
		Lowest: mfagate.MailSecurity, Highest: mfagate.MailCampaign, Claim: 1})
	if ids := messageIDs(got); !equalIDs(ids, []int64{fresh.ID}) {
		t.Errorf("claimed %v, want only the fresh code %d", ids, fresh.ID)
	}
	if m := mustMessage(t, s, late.ID); m.Status != mfagate.MailFailed || m.Text != "" || m.LastError == "" {
		t.Errorf("expired code: got status %q text %q error %q, want failed, no text, a reason", m.Status, m.Text, m.LastError)
	}
}

// testHoldMail: only the batch that holds a message may go on with it,
// and only while it is pending and not expired; holding extends the
// lease.
func testHoldMail(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	m := mustEnqueueAs(t, s, "a@example.com", mfagate.MailSecurity, base, base.Add(10*time.Minute))
	now := base.Add(time.Second)
	const short = 500 * time.Millisecond
	claimBatch(t, s, mfagate.MailClaim{Now: now, Lease: short, Limit: 1, Lowest: 0, Highest: 2, Claim: big + 41})

	hold := func(claim int64, at time.Time) bool {
		t.Helper()
		var held bool
		mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
			held, err = tx.HoldMail(m.ID, claim, at, time.Minute)
			return err
		})
		return held
	}
	if hold(big+42, now) {
		t.Error("another batch held the message")
	}
	if !hold(big+41, now) {
		t.Fatal("the claiming batch could not hold its message")
	}
	// The hold moved the lease on: once the claim's own lease has ended,
	// another claim still gets nothing.
	time.Sleep(short + 100*time.Millisecond)
	if got := claimBatch(t, s, anyMail(now, time.Minute, 10)); len(got) != 0 {
		t.Errorf("claim within the renewed lease: got %v, want nothing", messageIDs(got))
	}
	if hold(big+41, base.Add(10*time.Minute)) {
		t.Error("held a message whose code has expired")
	}
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.MarkMailSent(m.ID, now) })
	if hold(big+41, now) {
		t.Error("held a message that was sent")
	}
}

// testRenewAndReleaseMail: renewing moves every pending message of the
// batch on; releasing frees only the messages named, at once.
func testRenewAndReleaseMail(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	var ids []int64
	for _, to := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		ids = append(ids, mustEnqueueAs(t, s, to, mfagate.MailCampaign, base, time.Time{}).ID)
	}
	now := base.Add(time.Second)
	const short = 500 * time.Millisecond
	claimBatch(t, s, mfagate.MailClaim{Now: now, Lease: short, Limit: 10, Lowest: 0, Highest: 2, Claim: big + 5})
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.MarkMailSent(ids[0], now) })

	var renewed int
	mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
		renewed, err = tx.RenewMail(big+5, time.Hour)
		return err
	})
	if renewed != 2 {
		t.Errorf("RenewMail: got %d, want the 2 still pending", renewed)
	}
	time.Sleep(short + 100*time.Millisecond)
	if got := claimBatch(t, s, anyMail(now, time.Minute, 10)); len(got) != 0 {
		t.Errorf("claim after the first lease, within the renewed one: got %v, want nothing", messageIDs(got))
	}

	var released int
	mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
		released, err = tx.ReleaseMail(big+5, []int64{ids[0], ids[2]})
		return err
	})
	if released != 1 {
		t.Errorf("ReleaseMail: got %d, want 1 (the sent one stays sent)", released)
	}
	got := claimBatch(t, s, anyMail(now, time.Minute, 10))
	if !equalIDs(messageIDs(got), []int64{ids[2]}) {
		t.Errorf("claim after the release: got %v, want only the released message", messageIDs(got))
	}
	if m := mustMessage(t, s, ids[1]); m.Claim != big+5 {
		t.Errorf("unreleased message: claim %d, want still %d", m.Claim, big+5)
	}
}

// big is added to claim numbers, which are random int64s, so that the
// tests would see one that did not fit its column.
const big = int64(1) << 62

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// testStaleBatchLeavesMailAlone: once another batch has taken a message
// over, the first batch's failure is not recorded (ECONFLICT): it would
// free the message while the other batch sends it.
func testStaleBatchLeavesMailAlone(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	m := mustEnqueueAs(t, s, "a@example.com", mfagate.MailCampaign, base, time.Time{})
	// Claims are random int64s: big ones must fit as well.
	const first, second = int64(1) << 62, int64(1)<<62 + 1
	const short = 300 * time.Millisecond
	claimBatch(t, s, mfagate.MailClaim{Now: base, Lease: short, Limit: 1, Lowest: 0, Highest: 2, Claim: first})
	time.Sleep(short + 100*time.Millisecond) // the first lease has ended
	later := base.Add(time.Second)
	if got := claimBatch(t, s, mfagate.MailClaim{Now: later, Lease: time.Minute, Limit: 1, Lowest: 0, Highest: 2, Claim: second}); len(got) != 1 {
		t.Fatalf("the second batch could not take the message over: got %v", messageIDs(got))
	}

	for name, fn := range map[string]func(mfagate.Tx) error{
		"retry": func(tx mfagate.Tx) error { return tx.RetryMail(m.ID, first, "451 later", later) },
		"fail":  func(tx mfagate.Tx) error { return tx.FailMail(m.ID, first, "554 no") },
	} {
		if err := update(s, fn); mfagate.ErrorCode(err) != mfagate.ECONFLICT {
			t.Errorf("%s by the stale batch: got %v, want ECONFLICT", name, err)
		}
	}
	if got := mustMessage(t, s, m.ID); got.Status != mfagate.MailPending || got.Claim != second || got.LastError != "" {
		t.Errorf("after the stale batch's calls: status %q claim %d error %q, want still pending in batch 2", got.Status, got.Claim, got.LastError)
	}
	if got := claimBatch(t, s, anyMail(later.Add(time.Second), time.Minute, 1)); len(got) != 0 {
		t.Errorf("a third claim while batch 2 holds the message: got %v", messageIDs(got))
	}
	if err := update(s, func(tx mfagate.Tx) error { return tx.RetryMail(m.ID, second, "451 later", later) }); err != nil {
		t.Errorf("retry by the batch that holds it: %v", err)
	}
}
