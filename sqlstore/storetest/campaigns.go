package storetest

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

func mustMarkSent(tb testing.TB, s mfagate.Store, campaign string, userID int64) bool {
	tb.Helper()
	var ok bool
	mustUpdate(tb, s, func(tx mfagate.Tx) (err error) {
		ok, err = tx.MarkCampaignSent(campaign, userID, base)
		return err
	})
	return ok
}

func mustRecipients(tb testing.TB, s mfagate.Store, campaign string, roles []string, withoutFactor bool, afterID int64, limit int) []*mfagate.User {
	tb.Helper()
	var users []*mfagate.User
	mustView(tb, s, func(tx mfagate.Tx) (err error) {
		users, err = tx.CampaignRecipients(campaign, roles, withoutFactor, nil, afterID, limit)
		return err
	})
	return users
}

// campaignPopulation is the accounts the campaign tests choose from.
type campaignPopulation struct {
	user, admin, disabled, noRole, support, sent, admin2 *mfagate.User
}

// newCampaignPopulation creates, in ID order: a user without a factor, an
// admin with one, a disabled user, an account without roles, a support
// person who is also a user and has a factor, a user whom campaign "c1"
// already reached, and an admin without a factor.
func newCampaignPopulation(tb testing.TB, s mfagate.Store) campaignPopulation {
	tb.Helper()
	create := func(u *mfagate.User, methods ...string) *mfagate.User {
		tb.Helper()
		u.Email, u.CreatedAt = u.Username+"@example.com", base
		mustPerson(tb, s, u, methods...)
		return u
	}
	p := campaignPopulation{
		user:     create(&mfagate.User{Username: "user", Roles: []string{"user"}}),
		admin:    create(&mfagate.User{Username: "admin", Roles: []string{"admin"}}, mfagate.MethodEmail),
		disabled: create(&mfagate.User{Username: "disabled", Roles: []string{"user"}, Disabled: true}),
		noRole:   create(&mfagate.User{Username: "norole", ExtendedUntil: base.Add(time.Hour)}),
		support:  create(&mfagate.User{Username: "support", Roles: []string{"user", "support"}}, mfagate.MethodTOTP),
		sent:     create(&mfagate.User{Username: "sent", Roles: []string{"user"}}),
		admin2:   create(&mfagate.User{Username: "admin2", Roles: []string{"admin"}}),
	}
	if !mustMarkSent(tb, s, "c1", p.sent.ID) {
		tb.Fatalf("MarkCampaignSent of a new pair: got false, want true")
	}
	return p
}

func testCampaignRecipients(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	p := newCampaignPopulation(t, s)
	tests := []struct {
		name          string
		campaign      string
		roles         []string
		withoutFactor bool
		afterID       int64
		limit         int
		want          []*mfagate.User
	}{
		{"one role", "c1", []string{"user"}, false, 0, 0, []*mfagate.User{p.user, p.support}},
		{"two roles", "c1", []string{"admin", "user"}, false, 0, 0, []*mfagate.User{p.user, p.admin, p.support, p.admin2}},
		{"all", "c1", []string{"all"}, false, 0, 0, []*mfagate.User{p.user, p.admin, p.noRole, p.support, p.admin2}},
		{"all among others", "c1", []string{"support", "all"}, false, 0, 0, []*mfagate.User{p.user, p.admin, p.noRole, p.support, p.admin2}},
		{"without factor", "c1", []string{"all"}, true, 0, 0, []*mfagate.User{p.user, p.noRole, p.admin2}},
		{"admins without factor", "c1", []string{"admin"}, true, 0, 0, []*mfagate.User{p.admin2}},
		{"another campaign", "c2", []string{"user"}, false, 0, 0, []*mfagate.User{p.user, p.support, p.sent}},
		{"after and limit", "c1", []string{"all"}, false, p.admin.ID, 2, []*mfagate.User{p.noRole, p.support}},
		{"after the last", "c1", []string{"all"}, false, p.admin2.ID, 10, nil},
		{"unknown role", "c1", []string{"nobody"}, false, 0, 0, nil},
		{"no roles", "c1", nil, false, 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRecipients(t, s, tt.campaign, tt.roles, tt.withoutFactor, tt.afterID, tt.limit)
			if g, w := userIDs(got), userIDs(tt.want); !reflect.DeepEqual(g, w) {
				t.Fatalf("IDs: got %v, want %v", g, w)
			}
			for i := range got {
				checkUser(t, got[i], tt.want[i])
			}
		})
	}

	// Without a factor that counts: the admin whose only factor is email,
	// when only apps count; support, whose factor is an app, is not.
	var counted []*mfagate.User
	mustView(t, s, func(tx mfagate.Tx) (err error) {
		counted, err = tx.CampaignRecipients("c1", []string{"all"}, true, []string{mfagate.MethodTOTP}, 0, 0)
		return err
	})
	if g, w := userIDs(counted), []int64{p.user.ID, p.admin.ID, p.noRole.ID, p.admin2.ID}; !reflect.DeepEqual(g, w) {
		t.Errorf("without an app: got %v, want %v", g, w)
	}

	// Once reached, a person is no longer a recipient of that campaign.
	mustMarkSent(t, s, "c1", p.user.ID)
	got := mustRecipients(t, s, "c1", []string{"user"}, false, 0, 10)
	if g, w := userIDs(got), []int64{p.support.ID}; !reflect.DeepEqual(g, w) {
		t.Errorf("after marking user sent: got %v, want %v", g, w)
	}
}

// testCampaignRecipientsPaging walks a campaign the way the worker does:
// a page at a time, marking each person, until no one is left.
func testCampaignRecipientsPaging(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	p := newCampaignPopulation(t, s)
	var seen []int64
	for after, pages := int64(0), 0; ; pages++ {
		if pages > 10 {
			t.Fatalf("still paging after %d pages: %v", pages, seen)
		}
		page := mustRecipients(t, s, "c1", []string{"all"}, false, after, 2)
		if len(page) == 0 {
			break
		}
		for _, u := range page {
			if !mustMarkSent(t, s, "c1", u.ID) {
				t.Errorf("MarkCampaignSent of recipient %d: got false, want true", u.ID)
			}
		}
		seen = append(seen, userIDs(page)...)
		after = page[len(page)-1].ID
	}
	want := userIDs([]*mfagate.User{p.user, p.admin, p.noRole, p.support, p.admin2})
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("paged recipients: got %v, want %v", seen, want)
	}
	if got := mustRecipients(t, s, "c1", []string{"all"}, false, 0, 0); len(got) != 0 {
		t.Errorf("recipients after the walk: got %v, want none", userIDs(got))
	}
}

func testMarkCampaignSent(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice", "user")
	bob := mustCreateUser(t, s, "bob", "user")
	if !mustMarkSent(t, s, "c1", alice.ID) {
		t.Errorf("first mark: got false, want true")
	}
	if mustMarkSent(t, s, "c1", alice.ID) {
		t.Errorf("second mark: got true, want false")
	}
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		for i, want := range []bool{true, false} {
			got, err := tx.MarkCampaignSent("c1", bob.ID, base)
			if err != nil {
				return err
			}
			if got != want {
				t.Errorf("mark %d of bob in one transaction: got %v, want %v", i+1, got, want)
			}
		}
		return nil
	})
	if !mustMarkSent(t, s, "c2", alice.ID) {
		t.Errorf("another campaign: got false, want true")
	}

	// A rolled-back mark is forgotten, with the email it came with.
	err := update(s, func(tx mfagate.Tx) error {
		if _, err := tx.MarkCampaignSent("c3", alice.ID, base); err != nil {
			return err
		}
		return errBoom
	})
	if err != errBoom {
		t.Fatalf("Update: got %v, want %v", err, errBoom)
	}
	if !mustMarkSent(t, s, "c3", alice.ID) {
		t.Errorf("mark after a rollback: got false, want true")
	}
	err = view(s, func(tx mfagate.Tx) error { _, err := tx.MarkCampaignSent("c4", alice.ID, base); return err })
	if err == nil {
		t.Errorf("MarkCampaignSent in View: got nil error, want one")
	}
}

// MarkConcurrently checks that a campaign reaches a person once when two
// replicas (a and b: the same store, or two stores on one database) try
// at the same time. The first holds its transaction open after marking;
// the second must wait for it and then report false. Then a burst of
// transactions through both: exactly one reports true.
func MarkConcurrently(t *testing.T, a, b mfagate.Store) {
	t.Helper()
	alice := mustCreateUser(t, a, "alice", "user")
	marked, released := make(chan bool, 1), make(chan time.Time, 1)
	go func() {
		var ok bool
		err := a.Update(context.Background(), func(tx mfagate.Tx) (err error) {
			if ok, err = tx.MarkCampaignSent("c1", alice.ID, base); err != nil {
				return err
			}
			marked <- ok
			time.Sleep(300 * time.Millisecond) // hold the row while the other tries
			released <- time.Now()             // the commit comes after this
			return nil
		})
		if err != nil {
			t.Errorf("first MarkCampaignSent: %v", err)
		}
	}()
	if !<-marked {
		t.Errorf("first MarkCampaignSent: got false, want true")
	}
	if mustMarkSent(t, b, "c1", alice.ID) {
		t.Errorf("second MarkCampaignSent while the first was open: got true, want false")
	}
	done := time.Now()
	if first := <-released; done.Before(first) {
		t.Errorf("second MarkCampaignSent returned before the first committed")
	}

	const n = 8
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		trues int
	)
	start := make(chan struct{})
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			<-start
			err := s.Update(context.Background(), func(tx mfagate.Tx) error {
				ok, err := tx.MarkCampaignSent("c2", alice.ID, base)
				if err != nil {
					return err
				}
				time.Sleep(10 * time.Millisecond)
				if ok {
					mu.Lock()
					trues++
					mu.Unlock()
				}
				return nil
			})
			if err != nil {
				t.Errorf("MarkCampaignSent %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if trues != 1 {
		t.Errorf("marks that reported true: got %d, want 1", trues)
	}
}

func testCampaignStats(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	stats := func() []mfagate.CampaignStat {
		var got []mfagate.CampaignStat
		mustView(t, s, func(tx mfagate.Tx) (err error) { got, err = tx.CampaignStats(); return err })
		return got
	}
	if got := stats(); len(got) != 0 {
		t.Fatalf("stats of an empty outbox: got %v, want none", got)
	}
	enqueue := func(campaign string) *mfagate.Message {
		m := &mfagate.Message{To: "x@example.com", Subject: "s", Text: "t", CreatedAt: base, Campaign: campaign}
		mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.EnqueueMail(m) })
		return m
	}
	bSent, bFailed, _ := enqueue("rollout-b"), enqueue("rollout-b"), enqueue("rollout-b")
	enqueue("rollout-a")
	plain := enqueue("")
	enqueue("")
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		if err := tx.MarkMailSent(bSent.ID, base.Add(time.Minute)); err != nil {
			return err
		}
		if err := tx.MarkMailSent(plain.ID, base.Add(time.Minute)); err != nil {
			return err
		}
		return tx.FailMail(bFailed.ID, 0, "550 no such mailbox")
	})
	want := []mfagate.CampaignStat{
		{Campaign: "rollout-a", Pending: 1},
		{Campaign: "rollout-b", Pending: 1, Sent: 1, Failed: 1},
	}
	if got := stats(); !reflect.DeepEqual(got, want) {
		t.Errorf("stats: got %+v, want %+v", got, want)
	}
}

func testEnqueueMailCampaign(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	m := &mfagate.Message{To: "alice@example.com", Subject: "Set up MFA", Text: "…", CreatedAt: base, Campaign: "rollout-1"}
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.EnqueueMail(m) })
	other := mustEnqueue(t, s, "bob@example.com", base)
	if got := mustMessage(t, s, m.ID); got.Campaign != "rollout-1" {
		t.Errorf("Campaign from Mail: got %q, want %q", got.Campaign, "rollout-1")
	}
	if got := mustMessage(t, s, other.ID); got.Campaign != "" {
		t.Errorf("Campaign of a plain message: got %q, want empty", got.Campaign)
	}
	claimed := mustClaim(t, s, base, time.Minute, 10)
	if len(claimed) != 2 || claimed[0].Campaign != "rollout-1" {
		t.Errorf("Campaign from ClaimMail: got %d messages, want the first with campaign %q", len(claimed), "rollout-1")
	}
}
