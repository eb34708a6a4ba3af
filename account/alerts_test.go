package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/totp"
)

// mailsAbout lists the emails whose subject is subject, newest first.
func (f *fixture) mailsAbout(tb testing.TB, subject string) []*mfagate.Message {
	tb.Helper()
	var out []*mfagate.Message
	for _, m := range f.mail(tb) {
		if m.Subject == subject {
			out = append(out, m)
		}
	}
	return out
}

// TestReplayAlertsAreCoalesced is the flood: 47 refused replays
// in two minutes emailed the person 47 times. Now the first is emailed at
// once, the rest are held, and one summary follows when the quarter of an
// hour is over; the next replay after that is emailed again, saying how
// many there were before it.
func TestReplayAlertsAreCoalesced(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	secret, _ := f.mustTOTPFactor(t, "alice")
	f.clock.Advance(time.Minute)
	cur := f.current(t, f.mustSignIn(t, "alice", pw).Token)
	code := totp.Code(secret, totp.Step(f.clock.Now()))
	if _, err := f.svc.Verify(ctx, cur, mfagate.MethodTOTP, code, client); err != nil {
		t.Fatal(err)
	}
	const subject = "A security code was used twice"
	n := 0
	replay := func() {
		t.Helper()
		// Unlock as support would, and come from a new address each time,
		// so that no lock or delay stops the replays: the flood is of
		// alerts, not of guesses.
		if err := f.svc.Unlock(ctx, account.Actor{Name: "sam"}, "alice", "testing the flood"); err != nil {
			t.Fatal(err)
		}
		n++
		cur := f.current(t, f.mustSignIn(t, "alice", pw).Token)
		if _, err := f.svc.Verify(ctx, cur, mfagate.MethodTOTP, code, from(n)); !errors.Is(err, totp.ErrReplay) {
			t.Fatalf("replay %d: got %v, want ErrReplay", n, err)
		}
	}
	for i := 0; i < 47; i++ { // a second apart: the code stays in its window
		replay()
		f.clock.Advance(time.Second)
	}
	if got := len(f.mailsAbout(t, subject)); got != 1 {
		t.Fatalf("after 47 replays in under a minute: got %d emails, want 1", got)
	}
	// Nothing is due until the quarter of an hour is over.
	if n, err := f.svc.SendHeldAlerts(ctx, 10); err != nil || n != 0 {
		t.Fatalf("held alerts before the quarter hour: got %d, %v; want none", n, err)
	}
	f.clock.Advance(mfagate.NoticeEvery)
	other := mustService(t, f.store, f.clock, cheap) // another replica sends nothing twice
	if n, err := f.svc.SendHeldAlerts(ctx, 10); err != nil || n != 1 {
		t.Fatalf("held alerts after the quarter hour: got %d, %v; want 1", n, err)
	}
	if n, err := other.SendHeldAlerts(ctx, 10); err != nil || n != 0 {
		t.Fatalf("the same, on another replica: got %d, %v; want none", n, err)
	}
	ms := f.mailsAbout(t, subject)
	if len(ms) != 2 || !strings.Contains(ms[0].Text, "That makes 46 refused codes since 09:0") {
		t.Fatalf("got %d emails, the newest saying:\n%s\nwant a summary of the 46 held back", len(ms), ms[0].Text)
	}
	// A quiet spell, then one more: emailed at once, nothing held. (A new
	// code is replayed each time: the old one is out of its window.)
	fresh := func() {
		f.clock.Advance(time.Minute)
		code = totp.Code(secret, totp.Step(f.clock.Now()))
		if _, err := f.svc.Verify(ctx, f.current(t, f.mustSignIn(t, "alice", pw).Token), mfagate.MethodTOTP, code, client); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Advance(mfagate.NoticeEvery)
	fresh()
	replay()
	ms = f.mailsAbout(t, subject)
	if len(ms) != 3 || strings.Contains(ms[0].Text, "flood") {
		t.Fatalf("a replay after a quiet spell: got %d emails, the newest:\n%s", len(ms), ms[0].Text)
	}
	// Held, then a new event after the quarter hour: its email counts them.
	replay()
	replay()
	f.clock.Advance(mfagate.NoticeEvery)
	fresh()
	replay()
	ms = f.mailsAbout(t, subject)
	if len(ms) != 4 || !strings.Contains(ms[0].Text, "Before this there were 2 more refused codes since") {
		t.Fatalf("got %d emails, the newest:\n%s\nwant it to say 2 more were held", len(ms), ms[0].Text)
	}
}

// TestLockAlertsAreCoalesced: locks that come back to back (support
// unlocking, the attacker going on) email the person once a quarter hour.
func TestLockAlertsAreCoalesced(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	for lock := 0; lock < 5; lock++ {
		for i := 0; i < 10; i++ {
			f.wrongPassword(t, f.svc, "alice")
		}
		if locked, _, _ := f.svc.Locked(ctx, "alice"); !locked {
			t.Fatalf("lock %d: not locked", lock)
		}
		if err := f.svc.Unlock(ctx, account.Actor{Name: "sam"}, "alice", "unlocking again"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditLock})); n != 5 {
		t.Fatalf("got %d locks audited, want every one of the 5", n)
	}
	// 5 locks over 5 × 10 × 31 s (26 minutes): two lock emails at most
	// (one at once, one when the first quarter hour is over), however
	// many locks.
	if got := len(f.mailsAbout(t, "Your account has been locked for a while")); got != 2 {
		t.Fatalf("got %d lock emails for 5 locks in 26 minutes, want 2", got)
	}
}
