package account_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

// TestRedAddressChangeRaces: the person confirms a new address on one
// replica while support sets another on the other. Whichever commits
// first, the outcome is one of the two orders, never a mix: support
// first ends the session, so the person's confirmation is refused and
// support's address waits to be confirmed; the person first, and
// support's change then starts from the address the person confirmed.
func TestRedAddressChangeRaces(t *testing.T) {
	const mine, staffs = "alice@mine.example.com", "alice@desk.example.com"
	support := account.Actor{Name: "sam", ClientAddr: "10.0.0.5"}
	setup := func(t *testing.T) (*fixture, *account.Service, *hookStore, *account.Current, string, string) {
		f, person, hooks, _ := redReplicas(t)
		f.mustUser(t, "alice", pw)
		token := f.mustEmailFactor(t, "alice")
		cur, err := person.Authenticate(context.Background(), token)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := person.SendAddressCode(context.Background(), cur, mine, client); err != nil {
			t.Fatal(err)
		}
		return f, person, hooks, cur, f.codeTo(t, mine), token
	}

	t.Run("support first", func(t *testing.T) {
		f, person, hooks, cur, code, _ := setup(t)
		ctx := context.Background()
		reached, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		pause := func(key string) {
			if key == mfagate.FactorThrottleKey("alice") {
				once.Do(func() { close(reached); <-release })
			}
		}
		hooks.on("HoldThrottle", pause)
		hooks.on("StartThrottle", pause)
		done := make(chan error, 1)
		go func() { done <- person.ConfirmAddress(ctx, cur, code, client) }()
		<-reached
		if err := f.svc.ChangeEmail(ctx, support, "alice", staffs, "asked by phone"); err != nil {
			t.Fatal(err)
		}
		close(release)
		if err := <-done; !errors.Is(err, account.ErrNoSession) {
			t.Fatalf("the person's confirmation after support's change: got %v, want ErrNoSession", err)
		}
		u, _ := f.svc.User(ctx, "alice")
		if u.Email != staffs || !u.EmailUnconfirmed() || u.CodeAddress() != "alice@example.com" {
			t.Fatalf("got %q unconfirmed %v codes to %q, want support's address waiting and codes to the old one", u.Email, u.EmailUnconfirmed(), u.CodeAddress())
		}
	})

	t.Run("person first", func(t *testing.T) {
		f, person, hooks, cur, code, token := setup(t)
		ctx := context.Background()
		reached, release := make(chan struct{}), make(chan struct{})
		hooks.on("UpdateUser", pauseOnce("alice", reached, release))
		done := make(chan error, 1)
		go func() { done <- person.ConfirmAddress(ctx, cur, code, client) }()
		<-reached // the confirmation holds alice's row
		staffDone := make(chan error, 1)
		go func() { staffDone <- f.svc.ChangeEmail(ctx, support, "alice", staffs, "asked by phone") }()
		time.Sleep(50 * time.Millisecond) // let support reach the held row; either order must be safe
		close(release)
		if err := <-done; err != nil {
			t.Fatalf("the person's confirmation: %v", err)
		}
		if err := <-staffDone; err != nil {
			t.Fatalf("support's change: %v", err)
		}
		u, _ := f.svc.User(ctx, "alice")
		if u.Email != staffs || !u.EmailUnconfirmed() || u.CodeAddress() != mine {
			t.Fatalf("got %q unconfirmed %v codes to %q, want support's address waiting and codes to the one alice confirmed", u.Email, u.EmailUnconfirmed(), u.CodeAddress())
		}
		if _, err := f.svc.Authenticate(ctx, token); err == nil {
			t.Fatal("alice's session outlived support's change")
		}
	})

	t.Run("one code on both replicas at once", func(t *testing.T) {
		f, person, _, cur, code, token := setup(t)
		ctx := context.Background()
		other, err := f.svc.Authenticate(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 8)
		var start sync.WaitGroup
		start.Add(1)
		for i := 0; i < 8; i++ {
			svc, c := person, cur
			if i%2 == 1 {
				svc, c = f.svc, other
			}
			copyCur := *c
			go func() { start.Wait(); errs <- svc.ConfirmAddress(ctx, &copyCur, code, client) }()
		}
		start.Done()
		ok := 0
		for i := 0; i < 8; i++ {
			if err := <-errs; err == nil {
				ok++
			}
		}
		if ok != 1 {
			t.Fatalf("got %d confirmations with one code, want 1", ok)
		}
		notices := 0
		for _, m := range f.mailTo(t, "alice@example.com") {
			if m.Subject == "The email address of your account was changed" {
				notices++
			}
		}
		if notices != 1 {
			t.Fatalf("got %d notices to the old address, want 1", notices)
		}
	})
}
