package emailcode

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mfagate/mfagate"
)

// Digits is the number of digits in a code.
const Digits = 6

// Errors returned by Normalize and Check. All are *mfagate.Error values
// whose messages can be shown as they are; compare with == or errors.Is.
var (
	// ErrNoCode means nothing but spaces and hyphens was typed.
	ErrNoCode = mfagate.Errorf(mfagate.EINVALID, "Enter the security code")
	// ErrFormat means the input, ignoring spaces and hyphens, is not six
	// ASCII digits.
	ErrFormat = mfagate.Errorf(mfagate.EINVALID, "The security code must be 6 digits")
	// ErrUsed means the code already signed someone in.
	ErrUsed = mfagate.Errorf(mfagate.EINVALID, "That code has already been used. Send a new code")
	// ErrVoided means a newer code was sent after this one.
	ErrVoided = mfagate.Errorf(mfagate.EINVALID,
		"That code has been replaced by a newer one. Use the code in the latest email")
	// ErrExpired means the code is past its ExpiresAt.
	ErrExpired = mfagate.Errorf(mfagate.EINVALID, "That code has expired. Send a new code")
	// ErrTooManyTries means the code has had its share of wrong tries.
	// Resending does not help, since a new code inherits the count.
	ErrTooManyTries = mfagate.Errorf(mfagate.ETHROTTLED,
		"You entered the wrong code too many times. Sign in again to get a new code")
	// ErrWrongCode means a well-formed code that does not match. It is the
	// only error after which the caller counts a failed try.
	ErrWrongCode = mfagate.Errorf(mfagate.EINVALID, "That code is not correct. Check the email and try again")
)

// maxAttempts bounds the rejection sampling in Generate. Each draw is
// refused with probability below 1/4000, so a reader that keeps failing
// it is broken rather than unlucky.
const maxAttempts = 100

// Generate returns a code of six digits, each value from 000000 to 999999
// equally likely, read from rand (crypto/rand.Reader outside tests).
// Values of a 32-bit draw above the largest multiple of one million are
// drawn again, so the remainder carries no modulo bias.
func Generate(rand io.Reader) (string, error) {
	const n = 1_000_000
	const limit = (1 << 32) - (1<<32)%n // draws at or above are refused
	var buf [4]byte
	for range maxAttempts {
		if _, err := io.ReadFull(rand, buf[:]); err != nil {
			return "", fmt.Errorf("read random code: %w", err)
		}
		if v := binary.BigEndian.Uint32(buf[:]); v < limit {
			return fmt.Sprintf("%06d", v%n), nil
		}
	}
	return "", errors.New("read random code: the random source gives only out-of-range values")
}

// Hash returns the value stored in place of a code: HMAC-SHA-256 under the
// server's key of the hash of the sign-in attempt (session) and the code
// in its normalised form (as Generate and Normalize return it). Without
// the key a copy of the database cannot test the million possible codes,
// and a code is worth nothing in another attempt.
func Hash(key, sessionHash []byte, code string) []byte {
	mac := hmac.New(sha256.New, key)
	// A label keeps these hashes apart from others made with the same key,
	// and the length prefix keeps the two fields apart from each other.
	mac.Write([]byte("mfagate email code v1\x00"))
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(sessionHash)))
	mac.Write(n[:])
	mac.Write(sessionHash)
	mac.Write([]byte(code))
	return mac.Sum(nil)
}

// maxInput bounds the input Normalize looks at; a real code with generous
// spacing is far shorter.
const maxInput = 64

// Normalize returns the six digits of a typed code, dropping spaces, tabs
// and hyphens. Nothing left gives ErrNoCode; anything but exactly six
// ASCII digits gives ErrFormat. Both have code EINVALID.
func Normalize(input string) (string, error) {
	if len(input) > maxInput {
		return "", ErrFormat
	}
	out := make([]byte, 0, Digits)
	for i := 0; i < len(input); i++ {
		c := input[i]
		switch {
		case c == ' ' || c == '\t' || c == '-':
		case '0' <= c && c <= '9' && len(out) < Digits:
			out = append(out, c)
		default:
			return "", ErrFormat // a seventh digit, a letter, or any non-ASCII byte
		}
	}
	switch len(out) {
	case 0:
		return "", ErrNoCode
	case Digits:
		return string(out), nil
	}
	return "", ErrFormat
}

// Check decides whether input is the code stored in c at time now. It
// answers, in this order: ErrUsed, ErrVoided, ErrExpired (from ExpiresAt
// on), ErrTooManyTries (when c.Failures >= maxFailures), the errors of
// Normalize, and ErrWrongCode; nil means the code is right.
//
// Check changes nothing, c included. The caller marks c used on success
// and adds one to c.Failures only after ErrWrongCode: a badly typed code
// tells nothing about the real one, so it costs no try. Hashes are
// compared in constant time.
func Check(c *mfagate.EmailCode, key []byte, input string, now time.Time, maxFailures int) error {
	if c == nil {
		return errors.New("emailcode: no code to check")
	}
	switch {
	case !c.UsedAt.IsZero():
		return ErrUsed
	case c.Voided:
		return ErrVoided
	case !now.Before(c.ExpiresAt):
		return ErrExpired
	case c.Failures >= maxFailures:
		return ErrTooManyTries
	}
	code, err := Normalize(input)
	if err != nil {
		return err
	}
	if !hmac.Equal(Hash(key, c.SessionHash, code), c.Hash) {
		return ErrWrongCode
	}
	return nil
}

// CanResend returns how long to wait before another code may be sent to
// a person whose latest code was sent at lastSent: zero when one may be
// sent now (or lastSent is zero: none was), otherwise the time until
// lastSent plus cooldown, so the page can say when to ask again.
func CanResend(lastSent, now time.Time, cooldown time.Duration) (wait time.Duration) {
	if lastSent.IsZero() {
		return 0
	}
	if next := lastSent.Add(cooldown); now.Before(next) {
		return next.Sub(now)
	}
	return 0
}
