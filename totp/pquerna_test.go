package totp_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/pquerna/otp"
	pqtotp "github.com/pquerna/otp/totp"

	"github.com/mfagate/mfagate/totp"
)

// TestCodeMatchesPquerna checks Code against an independent implementation
// that many Go services use, over thousands of steps.
func TestCodeMatchesPquerna(t *testing.T) {
	secret := mustSecret(t)
	enc := totp.EncodeSecret(secret)
	opts := pqtotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	start := time.Date(2026, 3, 29, 0, 59, 0, 0, time.UTC)
	for i := 0; i < 5000; i++ {
		now := start.Add(time.Duration(i) * 7 * time.Second)
		want, err := pqtotp.GenerateCodeCustom(enc, now, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := totp.Code(secret, totp.Step(now)); got != want {
			t.Fatalf("%v: got %s, want %s", now, got, want)
		}
		if _, err := totp.Verify(secret, want, now, 0, 0); err != nil {
			t.Fatalf("%v: Verify refused pquerna's code %s: %v", now, want, err)
		}
	}
}

func TestURIParsedByPquerna(t *testing.T) {
	secret := mustSecret(t)
	tests := []struct{ name, issuer, account string }{
		{"plain", "Acme", "alice"},
		{"spaces and @", "Acme Corp Sign-in", "alice.smith@example.com"},
		{"colon in account", "Acme", "domain:alice"},
		{"plus and ampersand", "A+B & Co", "x+y@example.com"},
		{"non-ASCII", "Müller GmbH", "jörg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := otp.NewKeyFromURL(totp.URI(tt.issuer, tt.account, secret))
			if err != nil {
				t.Fatal(err)
			}
			if k.Type() != "totp" || k.Issuer() != tt.issuer || k.AccountName() != tt.account {
				t.Fatalf("got %s %q %q, want totp %q %q", k.Type(), k.Issuer(), k.AccountName(), tt.issuer, tt.account)
			}
			got, err := totp.DecodeSecret(k.Secret())
			if err != nil || !bytes.Equal(got, secret) {
				t.Fatalf("got secret %x, %v; want %x", got, err, secret)
			}
			if k.Period() != 30 || k.Digits() != otp.DigitsSix || k.Algorithm() != otp.AlgorithmSHA1 {
				t.Fatalf("got period %d digits %v algorithm %v, want 30, 6, SHA1", k.Period(), k.Digits(), k.Algorithm())
			}
		})
	}
	// A colon in the issuer survives in the issuer parameter, which
	// pquerna (like current apps) prefers; the account then cannot be read
	// back from the label, which is why the issuer must not contain one.
	k, err := otp.NewKeyFromURL(totp.URI("Acme: Sign-in", "alice", secret))
	if err != nil {
		t.Fatal(err)
	}
	if k.Issuer() != "Acme: Sign-in" {
		t.Fatalf("got issuer %q, want %q", k.Issuer(), "Acme: Sign-in")
	}
}
