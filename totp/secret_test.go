package totp_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/totp"
)

func mustSecret(tb testing.TB) []byte {
	tb.Helper()
	s, err := totp.NewSecret(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestNewSecret(t *testing.T) {
	a, b := mustSecret(t), mustSecret(t)
	if len(a) != 20 {
		t.Fatalf("got %d bytes, want 20", len(a))
	}
	if bytes.Equal(a, b) {
		t.Fatal("two secrets are equal")
	}
	fixed, err := totp.NewSecret(bytes.NewReader(bytes.Repeat([]byte{7}, 20)))
	if err != nil || !bytes.Equal(fixed, bytes.Repeat([]byte{7}, 20)) {
		t.Fatalf("got %x, %v; want the reader's bytes", fixed, err)
	}
	if _, err := totp.NewSecret(bytes.NewReader(make([]byte, 19))); err == nil {
		t.Fatal("got no error from a short reader")
	}
	boom := errors.New("boom")
	if _, err := totp.NewSecret(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Fatalf("got %v, want it to wrap %v", err, boom)
	}
}

func TestEncodeFormatDecode(t *testing.T) {
	secret := []byte("12345678901234567890")
	enc := totp.EncodeSecret(secret)
	if enc != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" {
		t.Fatalf("got %s, want the RFC 4648 encoding", enc)
	}
	formatted := totp.FormatSecret(enc)
	if formatted != "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ" {
		t.Fatalf("got %q, want groups of four", formatted)
	}
	if again := totp.FormatSecret(formatted); again != formatted {
		t.Fatalf("formatting twice: got %q, want %q", again, formatted)
	}
	if got := totp.FormatSecret("ABCDEF"); got != "ABCD EF" {
		t.Fatalf("got %q, want %q", got, "ABCD EF")
	}
	for _, in := range []string{
		enc,
		formatted,
		strings.ToLower(formatted),
		"gezd-gnbv-gy3t-qojq-gezd-gnbv-gy3t-qojq",
		"\tGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ ",
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ======", // padded as some tools do
	} {
		got, err := totp.DecodeSecret(in)
		if err != nil || !bytes.Equal(got, secret) {
			t.Errorf("DecodeSecret(%q): got %q, %v; want %q", in, got, err, secret)
		}
	}
	// Secrets of every length from the floor up round-trip.
	for n := totp.MinSecretSize; n <= 64; n++ {
		s := bytes.Repeat([]byte{byte(n)}, n)
		got, err := totp.DecodeSecret(totp.FormatSecret(totp.EncodeSecret(s)))
		if err != nil || !bytes.Equal(got, s) {
			t.Errorf("%d bytes: got %x, %v; want %x", n, got, err, s)
		}
	}
}

func TestDecodeSecretRefuses(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"only spaces", "   "},
		{"digit 1", "GEZDGNBVGY3TQOJ1GEZDGNBVGY3TQOJQ"},
		{"digit 0", "GEZDGNBVGY3TQOJ0GEZDGNBVGY3TQOJQ"},
		{"digit 8", "GEZDGNBVGY3TQOJ8GEZDGNBVGY3TQOJQ"},
		{"punctuation", "GEZDGNBVGY3TQOJQ!GEZDGNBVGY3TQOJQ"},
		{"non-ASCII", "GEZDGNBVGY3TQOJQÄGEZDGNBVGY3TQOJQ"},
		{"padding inside", "GEZDGNBV=GY3TQOJQGEZDGNBVGY3TQOJQ"},
		{"impossible length", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQG"},
		{"too short", "GEZDGNBVGY3TQOJQGEZDGNBV"}, // 15 bytes
		{"too long", strings.Repeat("A", 300)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := totp.DecodeSecret(tt.in)
			if err == nil {
				t.Fatalf("got %x, want an error", got)
			}
			if mfagate.ErrorCode(err) != mfagate.EINVALID {
				t.Fatalf("got code %q (%v), want %q", mfagate.ErrorCode(err), err, mfagate.EINVALID)
			}
		})
	}
}

func TestURI(t *testing.T) {
	secret := []byte("12345678901234567890")
	tests := []struct {
		name, issuer, account, want string
	}{
		{
			"plain", "Acme", "alice",
			"otpauth://totp/Acme:alice?algorithm=SHA1&digits=6&issuer=Acme&period=30&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		},
		{
			"spaces and @", "Acme Corp", "alice@example.com",
			"otpauth://totp/Acme%20Corp:alice@example.com?algorithm=SHA1&digits=6&issuer=Acme%20Corp&period=30&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		},
		{
			"colons escaped", "Acme: Sign-in", "a:b",
			"otpauth://totp/Acme%3A%20Sign-in:a%3Ab?algorithm=SHA1&digits=6&issuer=Acme%3A%20Sign-in&period=30&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		},
		{
			"plus, slash, ampersand, question mark", "A+B/C", "x&y?z#",
			"otpauth://totp/A+B%2FC:x&y%3Fz%23?algorithm=SHA1&digits=6&issuer=A%2BB%2FC&period=30&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := totp.URI(tt.issuer, tt.account, secret)
			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if u.Scheme != "otpauth" || u.Host != "totp" {
				t.Fatalf("got scheme %q host %q, want otpauth and totp", u.Scheme, u.Host)
			}
			if want := "/" + tt.issuer + ":" + tt.account; u.Path != want {
				t.Fatalf("got label %q, want %q", u.Path, want)
			}
			if q := u.Query(); q.Get("issuer") != tt.issuer || q.Get("secret") != totp.EncodeSecret(secret) {
				t.Fatalf("got issuer %q secret %q, want %q and %q", q.Get("issuer"), q.Get("secret"), tt.issuer, totp.EncodeSecret(secret))
			}
		})
	}
}
