package recovery

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
)

// Count is the number of codes in a set (SPEC.md section 4).
const Count = 10

// Length is the number of characters in a code, not counting hyphens.
const Length = 16

// randomBytes is the randomness in one code: 80 bits, 16 base32 characters
// of 5 bits each with none to spare.
const randomBytes = Length * 5 / 8

// maxCount bounds the n of Generate, to catch a misconfigured caller.
const maxCount = 100

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Generate returns n different codes read from rand (crypto/rand.Reader
// outside tests), each formatted for display as four groups of four
// characters joined by hyphens, "ABCD-EFGH-IJKL-MNOP". The characters come
// from the base32 alphabet of RFC 4648 (A-Z and 2-7), which has no 0, 1, 8
// or 9 to mistake for letters.
func Generate(rand io.Reader, n int) ([]string, error) {
	if n < 1 || n > maxCount {
		return nil, fmt.Errorf("recovery: %d codes asked for, want 1 to %d", n, maxCount)
	}
	codes := make([]string, 0, n)
	seen := make(map[string]bool, n)
	var buf [randomBytes]byte
	// A repeat is a 1 in 2^80 event; allowing a few keeps a stuck reader
	// from looping for ever.
	for tries := 0; len(codes) < n; tries++ {
		if tries >= n+10 {
			return nil, fmt.Errorf("recovery: the random source repeats itself")
		}
		if _, err := io.ReadFull(rand, buf[:]); err != nil {
			return nil, fmt.Errorf("read random recovery code: %w", err)
		}
		c := b32.EncodeToString(buf[:])
		if seen[c] {
			continue
		}
		seen[c] = true
		codes = append(codes, c[0:4]+"-"+c[4:8]+"-"+c[8:12]+"-"+c[12:16])
	}
	return codes, nil
}

// maxInput bounds the input Normalize looks at: a code with generous
// spacing fits many times over.
const maxInput = 128

// ErrNoCode is Normalize's answer when nothing but spaces and dashes was
// typed. It is an *mfagate.Error with code EINVALID, like every error
// Normalize returns; the others say what is wrong with the code typed.
var ErrNoCode = mfagate.Errorf(mfagate.EINVALID, "Enter a recovery code")

// Normalize returns a typed code in the form Hash takes: 16 characters of
// A-Z and 2-7. It reads a code the way a person may type or copy it:
//
//   - letters in either case;
//   - spaces, tabs, line breaks and dashes anywhere (hyphen, en dash, em
//     dash, minus sign, non-breaking space: whatever a copy from a
//     document or a printed sheet brings along) are left out;
//   - the digit 0 is read as the letter O: codes have no 0, and O is the
//     only character it can be mistaken for.
//
// The digit 1 is not read as a letter, because two letters of the
// alphabet look like it, I and L: reading it as either would spend one of
// the person's tries on a guess, and trying both would check two codes for
// one try. The message asks which letter it is instead. 8 and 9 are
// refused like any other character that codes do not use.
//
// Anything else gives an error that says what is wrong, in words for the
// person who typed it: which character codes do not use, or how many
// characters were typed. None of them is a guess at a code: the caller
// checks nothing and counts nothing for them.
func Normalize(input string) (string, error) {
	if len(input) > maxInput {
		return "", mfagate.Errorf(mfagate.EINVALID, "A recovery code has %d letters and numbers; you entered far more", Length)
	}
	var b strings.Builder
	b.Grow(Length)
	n := 0 // characters of the code typed, beyond Length too
	for _, r := range input {
		switch {
		case isSeparator(r):
			continue
		case 'A' <= r && r <= 'Z', '2' <= r && r <= '7':
		case 'a' <= r && r <= 'z':
			r -= 'a' - 'A'
		case r == '0':
			r = 'O'
		case r == '1':
			return "", errOne
		default:
			return "", notInAlphabet(r)
		}
		n++
		if n <= Length {
			b.WriteRune(r)
		}
	}
	switch {
	case n == 0:
		return "", ErrNoCode
	case n != Length:
		return "", mfagate.Errorf(mfagate.EINVALID, "A recovery code has %d letters and numbers; you entered %d", Length, n)
	}
	return b.String(), nil
}

// errOne answers a typed 1, which could stand for I or for L.
var errOne = mfagate.Errorf(mfagate.EINVALID,
	"A recovery code has no number 1. Type the letter I or the letter L, whichever your code shows")

// isSeparator reports whether r is a space or a dash of any kind, which a
// code may be typed or copied with.
func isSeparator(r rune) bool {
	return unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) || r == '\u2212' || // minus sign
		r == '\u00a0' || r == '\u200b' || r == '\ufeff' // no-break space, zero-width space, byte order mark
}

// notInAlphabet says which character typed is not in the code alphabet,
// quoting it when it is printable and describing it when it is not.
func notInAlphabet(r rune) error {
	what := "‘" + string(r) + "’"
	if r == utf8.RuneError || !unicode.IsPrint(r) || unicode.Is(unicode.Mn, r) {
		what = "a character you typed"
	}
	return mfagate.Errorf(mfagate.EINVALID,
		"A recovery code uses only the letters A to Z and the numbers 2 to 7; %s is not one of them", what)
}

// Hash returns the value stored in place of a code: HMAC-SHA-256 under the
// server's key of the owner's user ID and the normalised code (as Normalize
// returns it). Without the key a copy of the database is no help in
// finding codes, and a code works only for the person it was made for.
func Hash(key []byte, userID int64, normalized string) []byte {
	mac := hmac.New(sha256.New, key)
	// A label keeps these hashes apart from others made with the same key.
	mac.Write([]byte("mfagate recovery code v1\x00"))
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(userID))
	mac.Write(id[:])
	mac.Write([]byte(normalized))
	return mac.Sum(nil)
}
