package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

// mustMarkUnreached marks user id unreached at address and returns what
// MarkUnreached reported.
func mustMarkUnreached(tb testing.TB, s mfagate.Store, id int64, address, reason string, at time.Time) bool {
	tb.Helper()
	var marked bool
	mustUpdate(tb, s, func(tx mfagate.Tx) (err error) {
		marked, err = tx.MarkUnreached(id, address, reason, at)
		return err
	})
	return marked
}

// checkUnreached fails unless user id's mark is at (zero: none) with reason.
func checkUnreached(tb testing.TB, s mfagate.Store, what string, id int64, at time.Time, reason string) {
	tb.Helper()
	u := mustGetUser(tb, s, id)
	if !u.UnreachedAt.Equal(at) || u.UnreachedReason != reason {
		tb.Errorf("%s: got unreached at %v, reason %q; want %v, %q", what, u.UnreachedAt, u.UnreachedReason, at, reason)
	}
	checkUTC(tb, what+": UnreachedAt", u.UnreachedAt)
}

func testMarkUnreached(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice", mfagate.RoleUser)
	bob := mustCreateUser(t, s, "bob", mfagate.RoleUser)
	first := base.Add(1500 * time.Microsecond)

	// The address is compared without regard to case or surrounding space.
	if !mustMarkUnreached(t, s, alice.ID, " ALICE@Example.COM", "550 5.1.1 no such user", first) {
		t.Errorf("MarkUnreached of the person's own address: got false, want true")
	}
	checkUnreached(t, s, "after the first refusal", alice.ID, stored(first), "550 5.1.1 no such user")
	checkUnreached(t, s, "someone else", bob.ID, time.Time{}, "")

	// A later refusal keeps the first time and takes the latest answer.
	if !mustMarkUnreached(t, s, alice.ID, "alice@example.com", "550 mailbox disabled", base.Add(time.Hour)) {
		t.Errorf("MarkUnreached again: got false, want true")
	}
	checkUnreached(t, s, "after a second refusal", alice.ID, stored(first), "550 mailbox disabled")

	// A refusal of an address that is no longer theirs marks nobody.
	if mustMarkUnreached(t, s, bob.ID, "old-bob@example.com", "550 gone", base) {
		t.Errorf("MarkUnreached of an old address: got true, want false")
	}
	checkUnreached(t, s, "old address", bob.ID, time.Time{}, "")

	err := update(s, func(tx mfagate.Tx) error {
		_, err := tx.MarkUnreached(bob.ID+100, "x@example.com", "550", base)
		return err
	})
	wantCode(t, "MarkUnreached of a missing user", err, mfagate.ENOTFOUND)

	// Rolled back with its transaction.
	err = update(s, func(tx mfagate.Tx) error {
		if _, err := tx.MarkUnreached(bob.ID, bob.Email, "550", base); err != nil {
			return err
		}
		return errBoom
	})
	if err == nil {
		t.Fatalf("rolled-back Update: got nil error")
	}
	checkUnreached(t, s, "after a rollback", bob.ID, time.Time{}, "")
}

func testClearUnreached(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	mustMarkUnreached(t, s, alice.ID, alice.Email, "550 no such user", base)
	mustMarkUnreached(t, s, bob.ID, bob.Email, "550 no such user", base)

	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.ClearUnreached(alice.ID) })
	checkUnreached(t, s, "cleared", alice.ID, time.Time{}, "")
	checkUnreached(t, s, "someone else", bob.ID, stored(base), "550 no such user")

	// Clearing someone who is not marked changes nothing and is no error.
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.ClearUnreached(alice.ID) })
	checkUnreached(t, s, "cleared twice", alice.ID, time.Time{}, "")

	err := update(s, func(tx mfagate.Tx) error { return tx.ClearUnreached(bob.ID + 100) })
	wantCode(t, "ClearUnreached of a missing user", err, mfagate.ENOTFOUND)
}

func testUpdateUserUnreached(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	u := mustCreateUser(t, s, "alice")
	mustMarkUnreached(t, s, u.ID, u.Email, "550 no such user", base)

	// Changing anything but the address keeps the mark, even when the
	// caller's copy of the user does not carry it.
	changed := mustGetUser(t, s, u.ID)
	changed.Name = "Alice Smith"
	changed.Username = "alice.smith"
	changed.UnreachedAt, changed.UnreachedReason = time.Time{}, ""
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UpdateUser(changed) })
	checkUnreached(t, s, "name changed", u.ID, stored(base), "550 no such user")
	if got := mustGetUser(t, s, u.ID); got.Name != "Alice Smith" {
		t.Errorf("name: got %q, want %q", got.Name, "Alice Smith")
	}

	// A new address clears it.
	changed = mustGetUser(t, s, u.ID)
	changed.Email = "alice.smith@example.com"
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UpdateUser(changed) })
	checkUnreached(t, s, "address changed", u.ID, time.Time{}, "")
	if got := mustGetUser(t, s, u.ID); got.Email != "alice.smith@example.com" {
		t.Errorf("email: got %q, want %q", got.Email, "alice.smith@example.com")
	}

	// The old address's late refusals no longer mark them; the new one's do.
	if mustMarkUnreached(t, s, u.ID, "alice@example.com", "550 no such user", base.Add(time.Hour)) {
		t.Errorf("MarkUnreached of the old address: got true, want false")
	}
	if !mustMarkUnreached(t, s, u.ID, "alice.smith@example.com", "550 full", base.Add(2*time.Hour)) {
		t.Errorf("MarkUnreached of the new address: got false, want true")
	}
	checkUnreached(t, s, "new address refused", u.ID, stored(base.Add(2*time.Hour)), "550 full")
}

func testRequeueFailedMail(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	since := base.Add(-time.Hour)
	now := base.Add(time.Hour)

	type outcome int
	const (
		kept outcome = iota
		requeued
	)
	tests := []struct {
		name   string
		m      mfagate.Message
		status string // what it is before the requeue
		want   outcome
	}{
		{"failed, at since", mfagate.Message{UserID: alice.ID, CreatedAt: since}, mfagate.MailFailed, requeued},
		{"failed campaign notice", mfagate.Message{UserID: alice.ID, CreatedAt: base, Campaign: "rollout-1",
			Priority: mfagate.MailCampaign}, mfagate.MailFailed, requeued},
		{"failed before since", mfagate.Message{UserID: alice.ID, CreatedAt: since.Add(-time.Millisecond)}, mfagate.MailFailed, kept},
		{"failed code", mfagate.Message{UserID: alice.ID, CreatedAt: base, Secret: true, Priority: mfagate.MailSecurity},
			mfagate.MailFailed, kept},
		{"sent", mfagate.Message{UserID: alice.ID, CreatedAt: base}, mfagate.MailSent, kept},
		{"pending", mfagate.Message{UserID: alice.ID, CreatedAt: base}, mfagate.MailPending, kept},
		{"someone else's", mfagate.Message{UserID: bob.ID, CreatedAt: base, To: bob.Email}, mfagate.MailFailed, kept},
		{"nobody's", mfagate.Message{CreatedAt: base, To: "list@example.com"}, mfagate.MailFailed, kept},
	}
	msgs := make([]*mfagate.Message, len(tests))
	for i, tt := range tests {
		m := tt.m
		if m.To == "" {
			m.To = alice.Email
		}
		m.Subject, m.Text = tt.name, "Body of "+tt.name
		mustUpdate(t, s, func(tx mfagate.Tx) error {
			if err := tx.EnqueueMail(&m); err != nil {
				return err
			}
			switch tt.status {
			case mfagate.MailFailed:
				return tx.FailMail(m.ID, 0, "550 5.1.1 no such user")
			case mfagate.MailSent:
				return tx.MarkMailSent(m.ID, base)
			}
			return nil
		})
		msgs[i] = mustMessage(t, s, m.ID)
	}
	stats := func() []mfagate.CampaignStat {
		var got []mfagate.CampaignStat
		mustView(t, s, func(tx mfagate.Tx) (err error) { got, err = tx.CampaignStats(); return err })
		return got
	}
	if got, want := stats(), []mfagate.CampaignStat{{Campaign: "rollout-1", Failed: 1}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("stats before: got %+v, want %+v", got, want)
	}

	var n int
	mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
		n, err = tx.RequeueFailedMail(alice.ID, "alice.new@example.com", since, now)
		return err
	})
	if n != 2 {
		t.Errorf("RequeueFailedMail: got %d, want 2", n)
	}
	var wantIDs []int64
	for i, tt := range tests {
		got := mustMessage(t, s, msgs[i].ID)
		want := *msgs[i]
		if tt.want == requeued {
			wantIDs = append(wantIDs, want.ID)
			want.To = "alice.new@example.com"
			want.Status = mfagate.MailPending
			want.NextAttemptAt, want.QueuedAt = now, now
			want.Attempts, want.LastError = 0, ""
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, *got, want)
		}
	}
	// The campaign's failed message is pending again, not counted twice.
	if got, want := stats(), []mfagate.CampaignStat{{Campaign: "rollout-1", Pending: 1}}; !reflect.DeepEqual(got, want) {
		t.Errorf("stats after: got %+v, want %+v", got, want)
	}
	// They are due at now, to the new address; the pending one was due
	// already.
	if claimed := mustClaim(t, s, now.Add(-time.Millisecond), time.Minute, 10); len(claimed) != 1 || claimed[0].ID != msgs[5].ID {
		t.Errorf("claim before now: got %v, want only the message that was pending", messageIDs(claimed))
	}
	claimed := mustClaim(t, s, now, time.Minute, 10)
	var got []int64
	for _, m := range claimed {
		if m.To != "alice.new@example.com" {
			t.Errorf("claimed message %d: got To %q, want the new address", m.ID, m.To)
		}
		got = append(got, m.ID)
	}
	// Claimed in priority order: the campaign notice after the account mail.
	if !reflect.DeepEqual(got, wantIDs) {
		t.Errorf("claim at now: got %v, want %v", got, wantIDs)
	}

	// Nothing left to requeue.
	mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
		n, err = tx.RequeueFailedMail(alice.ID, "alice.new@example.com", since, now)
		return err
	})
	if n != 0 {
		t.Errorf("RequeueFailedMail again: got %d, want 0", n)
	}
}

func testUnreachedByRole(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	count := func() map[string]int {
		var got map[string]int
		mustView(t, s, func(tx mfagate.Tx) (err error) { got, err = tx.UnreachedByRole(); return err })
		return got
	}
	if got, want := count(), map[string]int{"": 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("empty store: got %v, want %v", got, want)
	}
	mark := func(u *mfagate.User) { mustMarkUnreached(t, s, u.ID, u.Email, "550", base) }
	mark(mustCreateUser(t, s, "a", mfagate.RoleUser, mfagate.RoleAdmin))
	mark(mustCreateUser(t, s, "b", mfagate.RoleUser))
	mark(mustCreateUser(t, s, "c")) // no role: counted in the total only
	mustCreateUser(t, s, "d", mfagate.RoleUser, mfagate.RoleSupport)
	disabled := mustCreateUser(t, s, "e", mfagate.RoleUser, mfagate.RoleSupport)
	mark(disabled)
	disabled.Disabled = true
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UpdateUser(disabled) })

	want := map[string]int{"": 3, mfagate.RoleUser: 2, mfagate.RoleAdmin: 1}
	if got := count(); !reflect.DeepEqual(got, want) {
		t.Errorf("UnreachedByRole: got %v, want %v", got, want)
	}
}

func testPeopleUnreached(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	// Every flag that shares the packed integer, on and off, with skips.
	want := []*mfagate.Person{
		mustPerson(t, s, &mfagate.User{Username: "a", Email: "a@example.com", Roles: []string{"user"},
			LastSignInAt: base, Skips: 5, Disabled: true}, mfagate.MethodEmail),
		mustPerson(t, s, &mfagate.User{Username: "b", Email: "b@example.com", Roles: []string{"user", "admin"}, Skips: 3}),
		mustPerson(t, s, &mfagate.User{Username: "c", Email: "c@example.com", LastSignInAt: base}),
		mustPerson(t, s, &mfagate.User{Username: "d", Email: "d@example.com", Skips: 1, Disabled: true},
			mfagate.MethodTOTP, mfagate.MethodEmail),
	}
	for _, i := range []int{0, 1} {
		mustMarkUnreached(t, s, want[i].ID, want[i].Username+"@example.com", "550 no such user", base)
		want[i].Unreached = true
	}
	checkPeople(t, s, want)
}

func testSearchPeopleUnreached(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	p := newSearchPopulation(t, s)
	// Alice (0), carol (2, locked, no factor) and frank (5, no factor).
	for _, i := range []int{0, 2, 5} {
		mustMarkUnreached(t, s, p.users[i].ID, p.users[i].Email, "550 no such user", base)
	}
	tests := []struct {
		name string
		f    mfagate.PeopleFilter
		want []int64
	}{
		{"unreached", mfagate.PeopleFilter{Unreached: true}, p.ids(0, 2, 5)},
		{"not asked", mfagate.PeopleFilter{}, p.ids(0, 1, 2, 3, 4, 5)},
		{"unreached and role", mfagate.PeopleFilter{Unreached: true, Role: mfagate.RoleUser}, p.ids(0, 5)},
		{"unreached and no factor", mfagate.PeopleFilter{Unreached: true, MFA: mfagate.MFANone}, p.ids(2, 5)},
		{"unreached and locked", mfagate.PeopleFilter{Unreached: true, Locked: true, Now: base}, p.ids(2)},
		{"unreached and text", mfagate.PeopleFilter{Unreached: true, Query: "FRANK"}, p.ids(5)},
		{"unreached, first page", mfagate.PeopleFilter{Unreached: true, Limit: 2}, p.ids(0, 2)},
		{"unreached, next page", mfagate.PeopleFilter{Unreached: true, AfterID: p.users[2].ID, Limit: 2}, p.ids(5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found := mustSearch(t, s, tt.f)
			if got := summaryIDs(found); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SearchPeople(%+v): got %v, want %v", tt.f, got, tt.want)
			}
			for _, got := range found {
				if tt.f.Unreached && got.User.UnreachedAt.IsZero() {
					t.Errorf("%s: found by the filter but not marked unreached", got.User.Username)
				}
			}
		})
	}
	// Fixing the address takes them off the list.
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.ClearUnreached(p.users[0].ID) })
	if got, want := summaryIDs(mustSearch(t, s, mfagate.PeopleFilter{Unreached: true})), p.ids(2, 5); !reflect.DeepEqual(got, want) {
		t.Errorf("after ClearUnreached: got %v, want %v", got, want)
	}
}
