package account_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// wrongPassword tries a wrong password and steps past the growing delay.
func (f *fixture) wrongPassword(tb testing.TB, svc *account.Service, name string) {
	tb.Helper()
	if _, err := svc.SignIn(context.Background(), account.SignIn{Username: name, Password: "not it at all", Client: client}); err != account.ErrBadCredentials {
		tb.Fatalf("got %v, want ErrBadCredentials", err)
	}
	f.clock.Advance(31 * time.Second)
}

func TestGrowingDelay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	for _, name := range []string{"alice", "nobody"} { // the same for real and unknown names
		for i := 0; i < 3; i++ {
			f.svc.SignIn(ctx, account.SignIn{Username: name, Password: "wrong guess here", Client: client})
		}
		_, err := f.svc.SignIn(ctx, account.SignIn{Username: name, Password: pw, Client: client})
		if mfagate.ErrorCode(err) != mfagate.ETHROTTLED || !strings.Contains(err.Error(), "Wait 1 second") {
			t.Fatalf("%s, straight after 3 failures: got %v, want to wait 1 second", name, err)
		}
		f.clock.Advance(time.Second)
	}
	if _, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: client}); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	// A success clears the count: the next failure does not wait.
	f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: "wrong guess here", Client: client})
	if _, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: client}); err != nil {
		t.Fatalf("one failure after a success: got %v, want no wait", err)
	}
}

func TestLockAfterTenAndHardLockAfterFifty(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	for i := 0; i < 10; i++ {
		f.wrongPassword(t, f.svc, "alice")
	}
	if _, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: client}); err != account.ErrBadCredentials {
		t.Fatalf("the right password while locked: got %v, want the same answer as a wrong one", err)
	}
	if locked, hard, _ := f.svc.Locked(ctx, "alice"); !locked || hard {
		t.Fatalf("got locked=%v hard=%v, want a temporary lock", locked, hard)
	}
	if subj := f.subjects(t); subj[0] != "Your account has been locked for a while" || !strings.Contains(f.mail(t)[0].Text, "15 minutes") {
		t.Fatalf("got %q, want the lock notice saying 15 minutes", subj[0])
	}
	if evs := f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditLock}); len(evs) != 1 || evs[0].Subject != "alice" {
		t.Fatalf("got %+v, want the lock audited", evs)
	}
	f.clock.Advance(15 * time.Minute)
	f.mustSignIn(t, "alice", pw)

	for i := 0; i < 50; i++ {
		f.wrongPassword(t, f.svc, "alice")
		if locked, _, _ := f.svc.Locked(ctx, "alice"); locked && i < 49 {
			f.clock.Advance(15 * time.Minute)
		}
	}
	if locked, hard, _ := f.svc.Locked(ctx, "alice"); !locked || !hard {
		t.Fatalf("after 50 failures: got locked=%v hard=%v, want a hard lock", locked, hard)
	}
	f.clock.Advance(24 * time.Hour)
	if _, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: client}); err != account.ErrBadCredentials {
		t.Fatalf("a day later: got %v, want still locked", err)
	}
	if err := f.svc.Unlock(ctx, account.Actor{Name: "sam"}, "alice", "called from her desk phone"); err != nil {
		t.Fatal(err)
	}
	f.mustSignIn(t, "alice", pw)
	if subj := f.subjects(t); !strings.Contains(strings.Join(subj, "|"), "Your account has been unlocked") {
		t.Fatalf("got %q, want an unlock notice", subj)
	}
}

func TestWrongCodesCountTowardsTheLock(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	_, _ = f.mustTOTPFactor(t, "alice")
	cur := f.current(t, f.mustSignIn(t, "alice", pw).Token)
	for i := 1; i <= 10; i++ {
		_, err := f.svc.Verify(ctx, cur, mfagate.MethodTOTP, "000000", client)
		if i < 10 && mfagate.ErrorCode(err) != mfagate.EINVALID {
			t.Fatalf("wrong code %d: got %v, want a wrong-code error", i, err)
		}
		if i == 10 && err != account.ErrLocked {
			t.Fatalf("wrong code 10: got %v, want ErrLocked", err)
		}
		if i == 3 {
			if subj := f.subjects(t); subj[0] != "Someone entered wrong security codes for your account" {
				t.Fatalf("after 3 wrong codes: got %q, want the warning", subj[0])
			}
		}
		f.clock.Advance(31 * time.Second)
	}
	if _, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: client}); err != account.ErrBadCredentials {
		t.Fatalf("password while locked: got %v, want ErrBadCredentials", err)
	}
}

// TestThrottlingAcrossReplicas runs two services on two connections to one
// database, as two replicas would: failures on either count towards one
// lock.
func TestThrottlingAcrossReplicas(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, be sqltest.Backend) {
		one, two := be.Replicas(t)
		f := &fixture{store: one, clock: mfagate.NewManualClock(start)}
		f.svc = mustService(t, one, f.clock, cheap)
		other := mustService(t, two, f.clock, cheap)
		f.mustUser(t, "alice", pw)
		for i := 0; i < 10; i++ {
			svc := f.svc
			if i%2 == 1 {
				svc = other
			}
			f.wrongPassword(t, svc, "alice")
		}
		for _, svc := range []*account.Service{f.svc, other} {
			if _, err := svc.SignIn(context.Background(), account.SignIn{Username: "alice", Password: pw, Client: client}); err != account.ErrBadCredentials {
				t.Fatalf("right password after 10 failures split over two replicas: got %v, want locked", err)
			}
		}
	})
}
