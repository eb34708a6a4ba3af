package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

func newLink(userID int64, purpose, token string, created time.Time, ttl time.Duration) *mfagate.Link {
	return &mfagate.Link{UserID: userID, Purpose: purpose, Hash: hashOf(token), CreatedAt: created, ExpiresAt: created.Add(ttl)}
}

func testLinks(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	u := mustCreateUser(t, s, "linked")
	other := mustCreateUser(t, s, "other")
	invite := newLink(u.ID, mfagate.LinkInvite, "invite 1", base, 7*24*time.Hour)
	reset := newLink(u.ID, mfagate.LinkReset, "reset 1", base, 30*time.Minute)
	theirs := newLink(other.ID, mfagate.LinkInvite, "other invite", base, time.Hour)
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		for _, l := range []*mfagate.Link{invite, reset, theirs} {
			if err := tx.CreateLink(l); err != nil {
				return err
			}
		}
		return nil
	})
	var got *mfagate.Link
	mustView(t, s, func(tx mfagate.Tx) (err error) {
		got, err = tx.LinkByHash(hashOf("invite 1"))
		return err
	})
	if got.ID != invite.ID || got.UserID != u.ID || got.Purpose != mfagate.LinkInvite ||
		!got.CreatedAt.Equal(base) || !got.ExpiresAt.Equal(invite.ExpiresAt) || !got.UsedAt.IsZero() {
		t.Errorf("LinkByHash: got %+v, want %+v", got, invite)
	}
	checkUTC(t, "CreatedAt", got.CreatedAt)
	checkUTC(t, "ExpiresAt", got.ExpiresAt)

	// A new invitation voids the old one, and leaves the reset and the
	// other person's invitation alone.
	again := newLink(u.ID, mfagate.LinkInvite, "invite 2", base.Add(time.Hour), 7*24*time.Hour)
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.CreateLink(again) })
	checkLinkCode(t, s, "the replaced invitation", hashOf("invite 1"), mfagate.ENOTFOUND)
	checkLinkCode(t, s, "the reset", hashOf("reset 1"), "")
	checkLinkCode(t, s, "another's invitation", hashOf("other invite"), "")
	mustView(t, s, func(tx mfagate.Tx) (err error) {
		got, err = tx.LatestLink(u.ID, mfagate.LinkInvite)
		return err
	})
	if got.ID != again.ID {
		t.Errorf("LatestLink: got link %d, want %d", got.ID, again.ID)
	}

	// Used once only; not when expired.
	use := func(id int64, at time.Time) error {
		return s.Update(t.Context(), func(tx mfagate.Tx) error { return tx.UseLink(id, at) })
	}
	if err := use(reset.ID, reset.ExpiresAt); mfagate.ErrorCode(err) != mfagate.ENOTFOUND {
		t.Errorf("UseLink at its expiry: got %v, want ENOTFOUND", err)
	}
	if err := use(again.ID, base.Add(2*time.Hour)); err != nil {
		t.Fatalf("UseLink: %v", err)
	}
	if err := use(again.ID, base.Add(2*time.Hour)); mfagate.ErrorCode(err) != mfagate.ENOTFOUND {
		t.Errorf("UseLink a second time: got %v, want ENOTFOUND", err)
	}
	mustView(t, s, func(tx mfagate.Tx) (err error) {
		got, err = tx.LinkByHash(hashOf("invite 2"))
		return err
	})
	if !got.UsedAt.Equal(base.Add(2*time.Hour)) || got.Usable(base.Add(2*time.Hour)) {
		t.Errorf("a used link: UsedAt %v, usable %t", got.UsedAt, got.Usable(base.Add(2*time.Hour)))
	}

	var n int
	mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
		n, err = tx.DeleteLinks(u.ID, "")
		return err
	})
	if n != 2 {
		t.Errorf("DeleteLinks: removed %d, want 2", n)
	}
	checkLinkCode(t, s, "another's invitation after DeleteLinks", hashOf("other invite"), "")
	mustUpdate(t, s, func(tx mfagate.Tx) (err error) {
		n, err = tx.DeleteOldLinks(base.Add(time.Hour + time.Millisecond))
		return err
	})
	if n != 1 {
		t.Errorf("DeleteOldLinks: removed %d, want 1", n)
	}
	checkLinkCode(t, s, "an expired link after DeleteOldLinks", hashOf("other invite"), mfagate.ENOTFOUND)
}

func checkLinkCode(tb testing.TB, s mfagate.Store, what string, hash []byte, want string) {
	tb.Helper()
	err := s.View(tb.Context(), func(tx mfagate.Tx) error {
		_, err := tx.LinkByHash(hash)
		return err
	})
	if got := mfagate.ErrorCode(err); got != want {
		tb.Errorf("%s: LinkByHash got %v, want code %q", what, err, want)
	}
}

// UseLinkConcurrently uses one link from many goroutines at once, half
// through a and half through b: exactly one use succeeds.
func UseLinkConcurrently(t *testing.T, a, b mfagate.Store) {
	u := mustCreateUser(t, a, "racer")
	l := newLink(u.ID, mfagate.LinkReset, "raced link", base, time.Hour)
	mustUpdate(t, a, func(tx mfagate.Tx) error { return tx.CreateLink(l) })
	const n = 20
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			err := s.Update(t.Context(), func(tx mfagate.Tx) error { return tx.UseLink(l.ID, base.Add(time.Minute)) })
			switch mfagate.ErrorCode(err) {
			case "":
				mu.Lock()
				ok++
				mu.Unlock()
			case mfagate.ENOTFOUND:
			default:
				t.Errorf("UseLink: %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("%d of %d concurrent uses of one link succeeded, want 1", ok, n)
	}
}
