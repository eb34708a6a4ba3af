package totp

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/mfagate/mfagate"
)

// Period is the length of one time step.
const Period = 30 * time.Second

// Digits is the number of digits in a code.
const Digits = 6

// MaxSkew is the largest skew Verify accepts: one step back and forward,
// as SPEC.md section 4 allows for clocks that drift and people who type
// slowly.
const MaxSkew = 1

// Errors returned by Verify. They are *mfagate.Error values with code
// EINVALID, so their messages can be shown as they are; compare with ==
// or errors.Is.
var (
	// ErrNoCode means nothing but spaces and hyphens was typed.
	ErrNoCode = mfagate.Errorf(mfagate.EINVALID, "Enter the security code")
	// ErrFormat means the input, ignoring spaces and hyphens, is not
	// exactly six ASCII digits.
	ErrFormat = mfagate.Errorf(mfagate.EINVALID, "The security code must be 6 digits")
	// ErrWrongCode means the code matches none of the steps tried. The
	// caller counts it as a failed try.
	ErrWrongCode = mfagate.Errorf(mfagate.EINVALID, "That code is not correct. Check your app and try again")
	// ErrReplay means the code was right but for a step at or before the
	// last accepted one: it has been used already, perhaps by someone who
	// saw it. SPEC.md asks the caller to audit this and notify the person.
	ErrReplay = mfagate.Errorf(mfagate.EINVALID,
		"That code has already been used. Wait for your app to show a new one")
)

// Step returns the RFC 6238 time step of t: whole periods since the Unix
// epoch, rounded down. Times before 1970 give negative steps, still rounded
// down (toward the past), so a step always starts on a multiple of 30 s.
func Step(t time.Time) int64 {
	sec := t.Unix()
	step := sec / int64(Period/time.Second)
	if sec%int64(Period/time.Second) < 0 {
		step--
	}
	return step
}

// Code returns the 6-digit code, zero-padded, for secret at step: the HOTP
// value of RFC 4226 (HMAC-SHA-1 and dynamic truncation) with the step as
// the counter. A negative step is used as its 64-bit two's complement,
// which no app will ever show, since it lies before 1970.
func Code(secret []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	mac := hmac.New(sha1.New, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", bin%1_000_000)
}

// Verify checks a code typed by a person against secret at time now. It
// tries the steps from Step(now)-skew to Step(now)+skew; skew must be 0 or
// 1 (MaxSkew). lastStep is the last step accepted for this secret (any
// number below the current step, such as 0, for a secret never used).
//
// The input may contain spaces and hyphens; what is left must be exactly
// six ASCII digits, or Verify returns ErrNoCode (nothing typed) or
// ErrFormat; neither says anything about the secret, so the caller need
// not count them as failed tries. A code matching a step
// after lastStep is accepted and that step returned: the caller must store
// it as the new lastStep. When it matches only steps at or before lastStep,
// Verify returns ErrReplay; when it matches none, ErrWrongCode.
//
// Every candidate step is computed and compared in constant time, so the
// time taken does not tell which step, if any, matched.
func Verify(secret []byte, code string, now time.Time, lastStep int64, skew int) (step int64, err error) {
	if skew < 0 || skew > MaxSkew {
		return 0, fmt.Errorf("totp: skew %d is outside 0..%d", skew, MaxSkew)
	}
	if len(secret) == 0 {
		return 0, fmt.Errorf("totp: empty secret")
	}
	typed, err := normalize(code)
	if err != nil {
		return 0, err
	}
	current := Step(now)
	var accepted, replayed int
	for s := current - int64(skew); s <= current+int64(skew); s++ {
		match := subtle.ConstantTimeCompare([]byte(Code(secret, s)), typed)
		fresh := 0
		if s > lastStep { // public: which steps are fresh is no secret
			fresh = 1
		}
		// Steps are tried oldest first, so the last fresh match is the newest.
		step = int64(subtle.ConstantTimeSelect(match&fresh, int(s), int(step)))
		accepted |= match & fresh
		replayed |= match
	}
	switch {
	case accepted == 1:
		return step, nil
	case replayed == 1:
		return 0, ErrReplay
	}
	return 0, ErrWrongCode
}

// maxCodeInput bounds the input normalize looks at; a real code with
// generous spacing is far shorter.
const maxCodeInput = 64

// normalize drops spaces and hyphens from a typed code and returns the six
// ASCII digits that must remain.
func normalize(s string) ([]byte, error) {
	if len(s) > maxCodeInput {
		return nil, ErrFormat
	}
	out := make([]byte, 0, Digits)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '-':
		case '0' <= c && c <= '9' && len(out) < Digits:
			out = append(out, c)
		default:
			return nil, ErrFormat // a seventh digit, a letter, or any non-ASCII byte
		}
	}
	switch len(out) {
	case 0:
		return nil, ErrNoCode
	case Digits:
		return out, nil
	}
	return nil, ErrFormat
}
