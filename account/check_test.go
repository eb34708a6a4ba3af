package account_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

func TestCheckSessionRevocationIsBounded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.mustUser(t, "alice", pw)
	other := mustService(t, f.store, f.clock, cheap) // a second replica
	in := f.mustSignIn(t, "alice", pw)
	if _, err := f.svc.CheckSession(ctx, in.Token); err != nil {
		t.Fatal(err)
	}
	// Signed out on this replica: refused at once.
	f.svc.SignOut(ctx, in.Token, client)
	if _, err := f.svc.CheckSession(ctx, in.Token); err != account.ErrNoSession {
		t.Fatalf("after signing out here: got %v, want ErrNoSession", err)
	}
	// Signed out on another replica: refused within CheckTTL.
	in = f.mustSignIn(t, "alice", pw)
	f.svc.CheckSession(ctx, in.Token)
	other.SignOut(ctx, in.Token, client)
	if _, err := f.svc.CheckSession(ctx, in.Token); err != nil {
		t.Fatalf("within the cache time: got %v, want the remembered session", err)
	}
	f.clock.Advance(account.CheckTTL)
	if _, err := f.svc.CheckSession(ctx, in.Token); err != account.ErrNoSession {
		t.Fatalf("after %v: got %v, want ErrNoSession", account.CheckTTL, err)
	}
	// Disabled on this replica: refused at once.
	in = f.mustSignIn(t, "alice", pw)
	f.svc.CheckSession(ctx, in.Token)
	f.svc.SetDisabled(ctx, account.Actor{Name: "cli"}, "alice", true, "left")
	if _, err := f.svc.CheckSession(ctx, in.Token); err != account.ErrNoSession {
		t.Fatalf("after disabling: got %v, want ErrNoSession", err)
	}
}

func TestCheckSessionHonoursTimeouts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.mustUser(t, "alice", pw)
	in := f.mustSignIn(t, "alice", pw)
	for i := 0; i < 5; i++ { // cached hits do not extend the idle time by themselves...
		if _, err := f.svc.CheckSession(ctx, in.Token); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Second)
	}
	cur, err := f.svc.CheckSession(ctx, in.Token)
	if err != nil || cur.Full != (in.Session.Stage == mfagate.StageFull) || cur.Username != "alice" {
		t.Fatalf("got %v, %v", cur, err)
	}
	f.clock.Advance(31 * time.Minute)
	if _, err := f.svc.CheckSession(ctx, in.Token); err != account.ErrNoSession {
		t.Fatalf("after 31 idle minutes: got %v, want ErrNoSession", err)
	}
	if _, err := f.svc.CheckSession(ctx, "not a token"); err != account.ErrNoSession {
		t.Fatalf("garbage: got %v", err)
	}
}

// BenchmarkCheckSession is the cost of one forward-auth check of a signed-in
// session: from memory, as nearly every request is.
func BenchmarkCheckSession(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b)
	f.mustUser(b, "alice", pw)
	in := f.mustSignIn(b, "alice", pw)
	f.svc.CheckSession(ctx, in.Token)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.CheckSession(ctx, in.Token); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCheckSessionRemembersNoStrangers: tokens that name no session, of
// the old form, the right length or garbage, leave nothing in memory,
// however many arrive.
func TestCheckSessionRemembersNoStrangers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.mustUser(t, "alice", pw)
	in := f.mustSignIn(t, "alice", pw)
	f.svc.CheckSession(ctx, in.Token)
	for i := range 1000 {
		tok := fmt.Sprintf("%043d", i) // the form before MACs
		switch i % 3 {
		case 1:
			tok = "garbage"
		case 2:
			tok = fmt.Sprintf("%064d", i) // the right length, no MAC
		}
		if _, err := f.svc.CheckSession(ctx, tok); err != account.ErrNoSession {
			t.Fatalf("got %v, want ErrNoSession", err)
		}
	}
	if got := f.svc.CachedChecks(); got != 1 {
		t.Errorf("cached checks: got %d, want 1 (alice's session only)", got)
	}
}
