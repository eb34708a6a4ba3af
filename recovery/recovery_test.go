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
	"unicode"

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
	const (
		alphabet = "A recovery code uses only the letters A to Z and the numbers 2 to 7; "
		one      = "A recovery code has no number 1. Type the letter I or the letter L, whichever your code shows"
	)
	tests := []struct {
		name, in, want, msg string
	}{
		{"as shown", "ABCD-EFGH-IJKL-MN23", "ABCDEFGHIJKLMN23", ""},
		{"no hyphens", "ABCDEFGHIJKLMN23", "ABCDEFGHIJKLMN23", ""},
		{"lower case", "abcd-efgh-ijkl-mn23", "ABCDEFGHIJKLMN23", ""},
		{"mixed case", "aBcD-eFgH-iJkL-mN23", "ABCDEFGHIJKLMN23", ""},
		{"spaces", " ABCD EFGH IJKL MN23 ", "ABCDEFGHIJKLMN23", ""},
		{"spaces and hyphens", "ABCD - EFGH - IJKL - MN23", "ABCDEFGHIJKLMN23", ""},
		{"tab", "ABCD\tEFGHIJKLMN23", "ABCDEFGHIJKLMN23", ""},
		{"pasted with a line break", "ABCD-EFGH-IJKL-MN23\r\n", "ABCDEFGHIJKLMN23", ""},
		{"en dashes", "ABCD–EFGH–IJKL–MN23", "ABCDEFGHIJKLMN23", ""},
		{"em dashes", "ABCD—EFGH—IJKL—MN23", "ABCDEFGHIJKLMN23", ""},
		{"minus signs", "ABCD−EFGH−IJKL−MN23", "ABCDEFGHIJKLMN23", ""},
		{"non-breaking spaces", "ABCD EFGH IJKL MN23", "ABCDEFGHIJKLMN23", ""},
		{"zero-width space", "ABCD​EFGHIJKLMN23", "ABCDEFGHIJKLMN23", ""},
		{"all digits", "2345-6723-4567-2345", "2345672345672345", ""},
		// The confusables: 0 can only be O; the letters I, L and O are
		// code characters themselves and stay as typed.
		{"zero for O", "OOPS-0OPS-0000-MN23", "OOPSOOPSOOOOMN23", ""},
		{"lower-case o", "oops-oops-oooo-mn23", "OOPSOOPSOOOOMN23", ""},
		{"capital I stays I", "IIII-AAAA-AAAA-AAAA", "IIIIAAAAAAAAAAAA", ""},
		{"lower-case i is I", "iiii-aaaa-aaaa-aaaa", "IIIIAAAAAAAAAAAA", ""},
		{"capital L stays L", "LLLL-AAAA-AAAA-AAAA", "LLLLAAAAAAAAAAAA", ""},
		{"lower-case l is L, not I", "llll-aaaa-aaaa-aaaa", "LLLLAAAAAAAAAAAA", ""},
		{"everything at once", " abcd efgh ijkl mn2o ", "ABCDEFGHIJKLMN2O", ""},
		{"zero, spaces and lower case", "r0se 4bcd efgh ijk7", "ROSE4BCDEFGHIJK7", ""},
		// 1 could be I or L: it is refused with a message that asks.
		{"one", "ABCD-EFGH-1JKL-MN23", "", one},
		{"one among confusables", "0000-1111-llll-iiii", "", one},
		{"empty", "", "", "Enter a recovery code"},
		{"only separators", " - - – ", "", "Enter a recovery code"},
		{"15 characters", "ABCD-EFGH-IJKL-MN2", "", "A recovery code has 16 letters and numbers; you entered 15"},
		{"1 character", "A", "", "A recovery code has 16 letters and numbers; you entered 1"},
		{"17 characters", "ABCD-EFGH-IJKL-MN23A", "", "A recovery code has 16 letters and numbers; you entered 17"},
		{"a TOTP-length code of letters", "ABCDEF", "", "A recovery code has 16 letters and numbers; you entered 6"},
		{"eight", "ABCD-EFGH-IJKL-MN28", "", alphabet + "‘8’ is not one of them"},
		{"nine", "ABCD-EFGH-IJKL-MN29", "", alphabet + "‘9’ is not one of them"},
		{"a TOTP code", "123456", "", one},
		{"an email code", "842375", "", alphabet + "‘8’ is not one of them"},
		{"underscore", "ABCD_EFGH_IJKL_MN23", "", alphabet + "‘_’ is not one of them"},
		{"padding", "ABCDEFGHIJKLMN23=", "", alphabet + "‘=’ is not one of them"},
		{"non-ASCII letter", "ÄBCD-EFGH-IJKL-MN23", "", alphabet + "‘Ä’ is not one of them"},
		{"full-width letters", "ＡＢＣＤ-EFGH-IJKL-MN23", "", alphabet + "‘Ａ’ is not one of them"},
		{"Cyrillic O", "ОBCD-EFGH-IJKL-MN23", "", alphabet + "‘О’ is not one of them"},
		{"a control character", "ABCD\x00EFGHIJKLMN23", "", alphabet + "a character you typed is not one of them"},
		{"invalid UTF-8", "ABCD\xffEFGHIJKLMN23", "", alphabet + "a character you typed is not one of them"},
		{"very long", strings.Repeat("-", 200) + "ABCDEFGHIJKLMN23", "", "A recovery code has 16 letters and numbers; you entered far more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := recovery.Normalize(tt.in)
			if tt.msg == "" {
				if got != tt.want || err != nil {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if got != "" || err == nil || err.Error() != tt.msg {
				t.Fatalf("got %q, %v; want the message %q", got, err, tt.msg)
			}
			if mfagate.ErrorCode(err) != mfagate.EINVALID || mfagate.ErrorMessage(err) != tt.msg {
				t.Fatalf("got code %q, want %q with the message shown", mfagate.ErrorCode(err), mfagate.EINVALID)
			}
		})
	}
}

// TestNormalizeEveryCharacter holds the mapping to its rule over every
// ASCII character: letters fold to upper case, 0 reads as O, separators
// vanish, and every other character is refused by name, 1 with its own
// message; nothing else maps onto a code character.
func TestNormalizeEveryCharacter(t *testing.T) {
	for c := rune(0); c < 128; c++ {
		in := "AAAA-AAAA-AAAA-AAA" + string(c)
		got, err := recovery.Normalize(in)
		var want string
		switch {
		case 'A' <= c && c <= 'Z', '2' <= c && c <= '7':
			want = "AAAAAAAAAAAAAAA" + string(c)
		case 'a' <= c && c <= 'z':
			want = "AAAAAAAAAAAAAAA" + strings.ToUpper(string(c))
		case c == '0':
			want = "AAAAAAAAAAAAAAAO"
		case c == ' ' || c == '-' || ('\t' <= c && c <= '\r'):
			if err == nil || !strings.HasSuffix(err.Error(), "you entered 15") {
				t.Errorf("%q: got %q, %v; want it left out, leaving 15", c, got, err)
			}
			continue
		}
		if want != "" {
			if got != want || err != nil {
				t.Errorf("%q: got %q, %v; want %q", c, got, err, want)
			}
			continue
		}
		if got != "" || err == nil || !strings.Contains(err.Error(), "A recovery code") {
			t.Errorf("%q: got %q, %v; want it refused with a message", c, got, err)
		}
		if c == '1' != strings.Contains(err.Error(), "no number 1") {
			t.Errorf("%q: got %v", c, err)
		}
		if unicode.IsPrint(c) && c != '1' && !strings.Contains(err.Error(), "‘"+string(c)+"’") {
			t.Errorf("%q: got %v, want the message to name it", c, err)
		}
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
