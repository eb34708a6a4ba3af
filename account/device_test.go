package account_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

// TestDeviceTokenSkipsOnlyTheAddress: a browser's device token for an
// account lets its attempts at that account past a slowed-down address,
// and does nothing else: no extra guess at the account, nothing for
// another account, nothing once expired or tampered with.
func TestDeviceTokenSkipsOnlyTheAddress(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "bob", pw)
	f.mustUser(t, "alice", pw)
	office := account.Actor{ClientAddr: "203.0.113.77"}
	token := f.mustSignIn(t, "bob", pw).Device
	if token == "" {
		t.Fatal("a sign-in gave no device token")
	}
	with := func(device string) account.Actor { a := office; a.Device = device; return a }
	signIn := func(name, password string, c account.Actor) error {
		_, err := f.svc.SignIn(ctx, account.SignIn{Username: name, Password: password, Client: c})
		return err
	}
	// Someone in the office slows its address down.
	for i := 0; i < 21; i++ {
		signIn(fmt.Sprintf("nobody%d", i), "guess", office)
	}
	slowed := func(err error) bool { return err != nil && strings.Contains(err.Error(), "Wait") }
	if err := signIn("bob", pw, office); !slowed(err) {
		t.Fatalf("bob from a new browser: got %v, want the address's wait", err)
	}
	if err := signIn("bob", pw, with(token)); err != nil {
		t.Fatalf("bob from his own browser: got %v, want in", err)
	}
	for name, tok := range map[string]string{
		"another account's token": "alice",
		"a tampered token":        "bob-tampered",
		"garbage":                 "garbage",
	} {
		device := token
		switch tok {
		case "alice":
			if err := signIn("alice", pw, with(token)); !slowed(err) {
				t.Errorf("%s: got %v, want the address's wait", name, err)
			}
			continue
		case "bob-tampered": // its last character changed: 24 bytes, every bit in a character
			last := "A"
			if strings.HasSuffix(token, "A") {
				last = "B"
			}
			device = token[:len(token)-1] + last
		default:
			device = "not-a-device-token"
		}
		if err := signIn("bob", pw, with(device)); !slowed(err) {
			t.Errorf("%s: got %v, want the address's wait", name, err)
		}
	}
	// No extra guess at the account: ten wrong passwords lock it, token
	// or not.
	for i := 0; i < 10; i++ {
		f.clock.Advance(31 * time.Second)
		if err := signIn("bob", "wrong", with(token)); err != account.ErrBadCredentials {
			t.Fatalf("wrong password %d with the token: got %v", i+1, err)
		}
	}
	if locked, _, _ := f.svc.Locked(ctx, "bob"); !locked {
		t.Fatal("ten wrong passwords with a device token did not lock")
	}
	// Expired after DeviceFor.
	f.clock.Advance(account.DeviceFor)
	for i := 0; i < 21; i++ {
		signIn(fmt.Sprintf("later%d", i), "guess", office)
	}
	if err := signIn("bob", pw, with(token)); !slowed(err) {
		t.Errorf("an expired token: got %v, want the address's wait", err)
	}
	if evs := f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditSignInPassword, Subject: "bob"}); len(evs) == 0 {
		t.Fatal("no sign-in audited")
	}
}
