package seal_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
	"testing/iotest"

	"github.com/mfagate/mfagate/seal"
)

var (
	key      = bytes.Repeat([]byte{0x42}, 32)
	otherKey = bytes.Repeat([]byte{0x43}, 32)
	ctx      = []byte("totp:user:42")
)

func mustSeal(tb testing.TB, key, plain, context []byte) []byte {
	tb.Helper()
	s, err := seal.Seal(key, plain, context, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name           string
		plain, context []byte
	}{
		{"totp secret", []byte("12345678901234567890"), ctx},
		{"empty plaintext", []byte{}, ctx},
		{"nil context", []byte("secret"), nil},
		{"large", bytes.Repeat([]byte("x"), 100_000), []byte("recovery:session:abc")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSeal(t, key, tt.plain, tt.context)
			if len(s) != len(tt.plain)+seal.Overhead {
				t.Fatalf("got %d bytes, want %d", len(s), len(tt.plain)+seal.Overhead)
			}
			if s[0] != 1 {
				t.Fatalf("got version %d, want 1", s[0])
			}
			if len(tt.plain) >= 8 && bytes.Contains(s, tt.plain[:8]) {
				t.Fatal("sealed value contains the plaintext")
			}
			got, err := seal.Open(key, s, tt.context)
			if err != nil || !bytes.Equal(got, tt.plain) || got == nil {
				t.Fatalf("got %q, %v; want %q", got, err, tt.plain)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	nonce := bytes.Repeat([]byte{9}, 12)
	s, err := seal.Seal(key, []byte("abc"), ctx, bytes.NewReader(nonce))
	if err != nil {
		t.Fatal(err)
	}
	if s[0] != 1 || !bytes.Equal(s[1:13], nonce) || len(s) != 1+12+3+16 {
		t.Fatalf("got %x, want 01 || nonce || 3 bytes || 16-byte tag", s)
	}
}

func TestNonceDiffers(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s := mustSeal(t, key, []byte("same"), ctx)
		if seen[string(s[1:13])] {
			t.Fatal("a nonce repeated")
		}
		seen[string(s[1:13])] = true
	}
}

func TestOpenRefuses(t *testing.T) {
	s := mustSeal(t, key, []byte("12345678901234567890"), ctx)
	if _, err := seal.Open(otherKey, s, ctx); err != seal.ErrCannotOpen {
		t.Errorf("wrong key: got %v, want ErrCannotOpen", err)
	}
	for _, c := range []string{"totp:user:43", "totp:user:4", "", "totp:user:42 "} {
		if _, err := seal.Open(key, s, []byte(c)); err != seal.ErrCannotOpen {
			t.Errorf("context %q: got %v, want ErrCannotOpen", c, err)
		}
	}
	for i := range s {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(s)
			bad[i] ^= bit
			if got, err := seal.Open(key, bad, ctx); err != seal.ErrCannotOpen {
				t.Errorf("byte %d bit %02x flipped: got %q, %v; want ErrCannotOpen", i, bit, got, err)
			}
		}
	}
	for n := range len(s) {
		if got, err := seal.Open(key, s[:n], ctx); err != seal.ErrCannotOpen {
			t.Errorf("first %d bytes: got %q, %v; want ErrCannotOpen", n, got, err)
		}
	}
	if _, err := seal.Open(key, append(bytes.Clone(s), 0), ctx); err != seal.ErrCannotOpen {
		t.Errorf("extra byte: got %v, want ErrCannotOpen", err)
	}
	if _, err := seal.Open(key, nil, ctx); err != seal.ErrCannotOpen {
		t.Errorf("nil: got %v, want ErrCannotOpen", err)
	}
}

func TestKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		k := make([]byte, n)
		if _, err := seal.Seal(k, []byte("x"), ctx, rand.Reader); !errors.Is(err, seal.ErrKeySize) {
			t.Errorf("Seal with %d-byte key: got %v, want ErrKeySize", n, err)
		}
		if _, err := seal.Open(k, make([]byte, 40), ctx); !errors.Is(err, seal.ErrKeySize) {
			t.Errorf("Open with %d-byte key: got %v, want ErrKeySize", n, err)
		}
	}
}

func TestSealRandomFails(t *testing.T) {
	boom := errors.New("boom")
	if _, err := seal.Seal(key, []byte("x"), ctx, iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Fatalf("got %v, want it to wrap %v", err, boom)
	}
	if _, err := seal.Seal(key, []byte("x"), ctx, bytes.NewReader(make([]byte, 11))); err == nil {
		t.Fatal("short reader: got no error")
	}
}

func FuzzOpen(f *testing.F) {
	// A fixed nonce: fuzzing workers each run this set-up again.
	good, err := seal.Seal(key, []byte("12345678901234567890"), ctx, bytes.NewReader(make([]byte, 12)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, ctx)
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1}, ctx)
	f.Add(good[:seal.Overhead], ctx)
	f.Fuzz(func(t *testing.T, sealed, context []byte) {
		got, err := seal.Open(key, sealed, context)
		if err != nil {
			if err != seal.ErrCannotOpen {
				t.Fatalf("got %v, want ErrCannotOpen", err)
			}
			return
		}
		// Only a value sealed under this key and context can open.
		if !bytes.Equal(sealed, good) || !bytes.Equal(context, ctx) || string(got) != "12345678901234567890" {
			t.Fatalf("opened %x with context %q to %q", sealed, context, got)
		}
	})
}
