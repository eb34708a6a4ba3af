package recovery_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/recovery"
)

var shape = regexp.MustCompile(`^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$`)

func mustGenerate(tb testing.TB, r interface{ Read([]byte) (int, error) }, n int) []string {
	tb.Helper()
	codes, err := recovery.Generate(r, n)
	if err != nil {
		tb.Fatal(err)
	}
	return codes
}

func TestGenerate(t *testing.T) {
	codes := mustGenerate(t, rand.Reader, recovery.Count)
	if len(codes) != 10 {
		t.Fatalf("got %d codes, want 10", len(codes))
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if !shape.MatchString(c) {
			t.Errorf("got %q, want the shape ABCD-EFGH-IJKL-MNOP", c)
		}
		raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(c, "-", ""))
		if err != nil || len(raw) != 10 {
			t.Errorf("%q decodes to %d bytes (%v), want 10 (80 bits)", c, len(raw), err)
		}
		if seen[c] {
			t.Errorf("%q appears twice", c)
		}
		seen[c] = true
		if n, err := recovery.Normalize(c); err != nil || len(n) != recovery.Length {
			t.Errorf("Normalize(%q): got %q, %v", c, n, err)
		}
	}
	if other := mustGenerate(t, rand.Reader, 10); other[0] == codes[0] {
		t.Fatal("two sets start with the same code")
	}
}

func TestGenerateUsesEveryBit(t *testing.T) {
	// All-zero bytes give all A; all-one bytes give all 7: no bit is wasted
	// or fixed.
	zeros := mustGenerate(t, bytes.NewReader(make([]byte, 10)), 1)
	ones := mustGenerate(t, bytes.NewReader(bytes.Repeat([]byte{0xff}, 10)), 1)
	if zeros[0] != "AAAA-AAAA-AAAA-AAAA" || ones[0] != "7777-7777-7777-7777" {
		t.Fatalf("got %q and %q, want AAAA-… and 7777-…", zeros[0], ones[0])
	}
}

func TestGenerateSkipsRepeats(t *testing.T) {
	// The reader repeats its first code once; Generate draws again.
	r := bytes.NewReader(append(append(make([]byte, 10), make([]byte, 10)...), bytes.Repeat([]byte{0xff}, 10)...))
	codes := mustGenerate(t, r, 2)
	if codes[0] != "AAAA-AAAA-AAAA-AAAA" || codes[1] != "7777-7777-7777-7777" {
		t.Fatalf("got %q, want the repeat skipped", codes)
	}
}

func TestGenerateRefuses(t *testing.T) {
	for _, n := range []int{0, -1, 101} {
		if _, err := recovery.Generate(rand.Reader, n); err == nil {
			t.Errorf("n=%d: got no error", n)
		}
	}
	boom := errors.New("boom")
	if _, err := recovery.Generate(iotest.ErrReader(boom), 10); !errors.Is(err, boom) {
		t.Errorf("failing reader: got %v, want it to wrap %v", err, boom)
	}
	if _, err := recovery.Generate(bytes.NewReader(make([]byte, 95)), 10); err == nil {
		t.Error("short reader: got no error")
	}
	if _, err := recovery.Generate(bytes.NewReader(make([]byte, 10_000)), 10); err == nil {
		t.Error("reader that repeats itself: got no error")
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"as shown", "ABCD-EFGH-IJKL-MN23", "ABCDEFGHIJKLMN23", nil},
		{"no hyphens", "ABCDEFGHIJKLMN23", "ABCDEFGHIJKLMN23", nil},
		{"lower case", "abcd-efgh-ijkl-mn23", "ABCDEFGHIJKLMN23", nil},
		{"mixed case", "aBcD-eFgH-iJkL-mN23", "ABCDEFGHIJKLMN23", nil},
		{"spaces", " ABCD EFGH IJKL MN23 ", "ABCDEFGHIJKLMN23", nil},
		{"spaces and hyphens", "ABCD - EFGH - IJKL - MN23", "ABCDEFGHIJKLMN23", nil},
		{"tab", "ABCD\tEFGHIJKLMN23", "ABCDEFGHIJKLMN23", nil},
		{"all digits", "2345-6723-4567-2345", "2345672345672345", nil},
		{"empty", "", "", recovery.ErrNoCode},
		{"only separators", " - - ", "", recovery.ErrNoCode},
		{"15 characters", "ABCD-EFGH-IJKL-MN2", "", recovery.ErrFormat},
		{"17 characters", "ABCD-EFGH-IJKL-MN23A", "", recovery.ErrFormat},
		{"zero", "ABCD-EFGH-IJKL-MN20", "", recovery.ErrFormat},
		{"one", "ABCD-EFGH-IJKL-MN21", "", recovery.ErrFormat},
		{"eight", "ABCD-EFGH-IJKL-MN28", "", recovery.ErrFormat},
		{"nine", "ABCD-EFGH-IJKL-MN29", "", recovery.ErrFormat},
		{"underscore", "ABCD_EFGH_IJKL_MN23", "", recovery.ErrFormat},
		{"padding", "ABCDEFGHIJKLMN23=", "", recovery.ErrFormat},
		{"non-ASCII letter", "ÄBCD-EFGH-IJKL-MN23", "", recovery.ErrFormat},
		{"full-width letters", "ＡＢＣＤ-EFGH-IJKL-MN23", "", recovery.ErrFormat},
		{"a TOTP code", "123456", "", recovery.ErrFormat},
		{"very long", strings.Repeat("-", 200) + "ABCDEFGHIJKLMN23", "", recovery.ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := recovery.Normalize(tt.in)
			if got != tt.want || err != tt.err {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
			if err != nil && mfagate.ErrorCode(err) != mfagate.EINVALID {
				t.Fatalf("got code %q, want %q", mfagate.ErrorCode(err), mfagate.EINVALID)
			}
		})
	}
}

func TestHash(t *testing.T) {
	key := []byte("server key")
	h := recovery.Hash(key, 42, "ABCDEFGHIJKLMN23")
	if len(h) != 32 {
		t.Fatalf("got %d bytes, want 32", len(h))
	}
	if !bytes.Equal(h, recovery.Hash(key, 42, "ABCDEFGHIJKLMN23")) {
		t.Fatal("same inputs give different hashes")
	}
	for name, g := range map[string][]byte{
		"other user":    recovery.Hash(key, 43, "ABCDEFGHIJKLMN23"),
		"negative user": recovery.Hash(key, -42, "ABCDEFGHIJKLMN23"),
		"other key":     recovery.Hash([]byte("other key"), 42, "ABCDEFGHIJKLMN23"),
		"other code":    recovery.Hash(key, 42, "ABCDEFGHIJKLMN24"),
	} {
		if bytes.Equal(h, g) {
			t.Errorf("%s: got the same hash", name)
		}
	}
	// What a person types and what was shown hash the same once normalised.
	shown, _ := recovery.Normalize("ABCD-EFGH-IJKL-MN23")
	typed, _ := recovery.Normalize("abcd efgh ijkl mn23")
	if !bytes.Equal(recovery.Hash(key, 42, shown), recovery.Hash(key, 42, typed)) {
		t.Fatal("shown and typed forms hash differently")
	}
}
