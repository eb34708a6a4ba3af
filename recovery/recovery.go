package recovery

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

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

// Errors returned by Normalize. Both are *mfagate.Error values with code
// EINVALID; compare with == or errors.Is.
var (
	// ErrNoCode means nothing but spaces and hyphens was typed.
	ErrNoCode = mfagate.Errorf(mfagate.EINVALID, "Enter a recovery code")
	// ErrFormat means the input is not 16 characters of the code alphabet.
	ErrFormat = mfagate.Errorf(mfagate.EINVALID,
		"Recovery codes are 16 letters and numbers, like ABCD-EFGH-IJKL-MNOP")
)

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

// maxInput bounds the input Normalize looks at.
const maxInput = 128

// Normalize returns a typed code in the form Hash takes: upper case, with
// spaces, tabs and hyphens removed. What is left must be 16 characters of
// A-Z and 2-7, else ErrFormat (ErrNoCode when nothing is left). Look-alike
// characters such as 0 and 1 are not mapped to letters: they never appear
// in a code, so the message tells the person what codes look like instead.
func Normalize(input string) (string, error) {
	if len(input) > maxInput {
		return "", ErrFormat
	}
	var b strings.Builder
	b.Grow(Length)
	for i := 0; i < len(input); i++ {
		c := input[i]
		switch {
		case c == ' ' || c == '\t' || c == '-':
		case b.Len() == Length:
			return "", ErrFormat
		case 'A' <= c && c <= 'Z', '2' <= c && c <= '7':
			b.WriteByte(c)
		case 'a' <= c && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		default:
			return "", ErrFormat // 0, 1, 8, 9, punctuation or any non-ASCII byte
		}
	}
	switch b.Len() {
	case 0:
		return "", ErrNoCode
	case Length:
		return b.String(), nil
	}
	return "", ErrFormat
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
