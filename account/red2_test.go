package account_test

// Red-team round 2, one replica on a manual clock. Tests of attacks that
// were refused, kept as regression tests.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/totp"
)

// TestRed2DeviceTokenBuysNoSpray — REGRESSION (passes).
//
// Mallory has her own account and its device token, kept by her browser.
// She sprays one guess at each of 60 other usernames from one address,
// every request carrying her token, and signs in to her own account (right
// password, token) between every two guesses, also with her username in
// other cases. The address's delay still starts after 20 guesses: the token
// skips the address only for her account, and her own sign-ins take back
// nothing of the address's run. Nor does a token replayed after support
// gave her account a new password do more.
func TestRed2DeviceTokenBuysNoSpray(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "mallory", pw)
	for i := 0; i < 60; i++ {
		f.mustUser(t, fmt.Sprintf("victim%d", i), pw)
	}
	office := account.Actor{ClientAddr: "203.0.113.99", UserAgent: "browser"}
	office.Device = f.mustSignIn(t, "mallory", pw).Device
	// An old token, replayed after support changes mallory's password.
	if err := f.svc.SetPassword(ctx, account.Actor{Name: mfagate.ActorCLI, AtServer: true}, "mallory", "fresh harbour compass"); err != nil {
		t.Fatal(err)
	}
	before := f.svc.Checks().Password
	waited := 0
	for i := 0; i < 60; i++ {
		if _, err := f.svc.SignIn(ctx, account.SignIn{Username: []string{"MALLORY", "Mallory", "mallory"}[i%3],
			Password: "fresh harbour compass", Client: office}); err != nil {
			t.Fatalf("mallory's own sign-in with her token: %v", err)
		}
		_, err := f.svc.SignIn(ctx, account.SignIn{Username: fmt.Sprintf("victim%d", i), Password: "guess", Client: office})
		if strings.Contains(mfagate.ErrorMessage(err), "Wait") {
			waited++
		}
	}
	sprayed := f.svc.Checks().Password - before - 60 // minus her own
	if sprayed > 20 {
		t.Errorf("BREACH: with her own device token, one address got %d password guesses at other accounts without waiting (want 20)", sprayed)
	}
	t.Logf("sprayed guesses checked: %d, refused with a wait: %d", sprayed, waited)
}

// TestRed2ReauthWithEmailUnderATOTPPhase — probe of "the challenge accepts
// only the methods the phase in force allows" at re-authentication: a
// fully signed-in admin, 10 minutes after their app code, confirms it's
// them before changing factors. Under a phase demanding an authenticator
// app for admins, an email code must not do it (else a stolen session plus
// the mailbox add the attacker's own app).
func TestRed2ReauthWithEmailUnderATOTPPhase(t *testing.T) {
	f, strict, secret := adaUnderAnAppOnlyPhase(t)
	ctx := context.Background()
	in, err := strict.SignIn(ctx, account.SignIn{Username: "ada", Password: pw, Client: from(3)})
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := strict.Authenticate(ctx, in.Token)
	v, err := strict.Verify(ctx, cur, mfagate.MethodTOTP, totp.Code(secret, totp.Step(f.clock.Now())), from(3))
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(11 * time.Minute)
	if cur, err = strict.Authenticate(ctx, v.Token); err != nil {
		t.Fatal(err)
	}
	fs, _ := strict.Factors(ctx, cur.User.ID)
	if !strict.NeedsReauth(cur, fs) {
		t.Fatal("no reauth needed 11 minutes after the second factor")
	}
	mustRefuseEmail(t, f, strict, cur)
}
