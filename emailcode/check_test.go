package emailcode_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/emailcode"
)

func TestCheck(t *testing.T) {
	key := []byte("server key")
	session := []byte("session hash")
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	expires := created.Add(10 * time.Minute)
	const maxFailures = 5
	// fresh returns a stored code for "042137", edited by fn.
	fresh := func(fn func(*mfagate.EmailCode)) *mfagate.EmailCode {
		c := &mfagate.EmailCode{
			ID: 1, UserID: 7, SessionHash: session, Purpose: mfagate.PurposeSignIn,
			Hash: emailcode.Hash(key, session, "042137"), CreatedAt: created, ExpiresAt: expires,
		}
		if fn != nil {
			fn(c)
		}
		return c
	}
	now := created.Add(time.Minute)
	tests := []struct {
		name  string
		code  *mfagate.EmailCode
		key   []byte
		input string
		now   time.Time
		want  error
	}{
		{"right", fresh(nil), key, "042137", now, nil},
		{"right with space and hyphen", fresh(nil), key, "042 - 137", now, nil},
		{"wrong", fresh(nil), key, "042138", now, emailcode.ErrWrongCode},
		{"leading zero dropped", fresh(nil), key, "42137", now, emailcode.ErrFormat},
		{"empty", fresh(nil), key, "", now, emailcode.ErrNoCode},
		{"letters", fresh(nil), key, "abcdef", now, emailcode.ErrFormat},
		{"other key", fresh(nil), []byte("other key"), "042137", now, emailcode.ErrWrongCode},
		{"other session", fresh(func(c *mfagate.EmailCode) { c.SessionHash = []byte("other") }), key, "042137", now, emailcode.ErrWrongCode},
		{"used", fresh(func(c *mfagate.EmailCode) { c.UsedAt = now }), key, "042137", now, emailcode.ErrUsed},
		{"used beats voided", fresh(func(c *mfagate.EmailCode) { c.UsedAt = now; c.Voided = true }), key, "042137", now, emailcode.ErrUsed},
		{"voided", fresh(func(c *mfagate.EmailCode) { c.Voided = true }), key, "042137", now, emailcode.ErrVoided},
		{"voided beats expired", fresh(func(c *mfagate.EmailCode) { c.Voided = true }), key, "042137", expires, emailcode.ErrVoided},
		{"a millisecond before expiry", fresh(nil), key, "042137", expires.Add(-time.Millisecond), nil},
		{"a nanosecond before expiry", fresh(nil), key, "042137", expires.Add(-time.Nanosecond), nil},
		{"at expiry", fresh(nil), key, "042137", expires, emailcode.ErrExpired},
		{"after expiry", fresh(nil), key, "042137", expires.Add(time.Millisecond), emailcode.ErrExpired},
		{"expired beats too many tries", fresh(func(c *mfagate.EmailCode) { c.Failures = 9 }), key, "042137", expires, emailcode.ErrExpired},
		{"expired beats bad format", fresh(nil), key, "x", expires, emailcode.ErrExpired},
		{"4 failures, right code", fresh(func(c *mfagate.EmailCode) { c.Failures = 4 }), key, "042137", now, nil},
		{"4 failures, 5th wrong", fresh(func(c *mfagate.EmailCode) { c.Failures = 4 }), key, "000000", now, emailcode.ErrWrongCode},
		{"5 failures, right code", fresh(func(c *mfagate.EmailCode) { c.Failures = 5 }), key, "042137", now, emailcode.ErrTooManyTries},
		{"5 failures, bad format", fresh(func(c *mfagate.EmailCode) { c.Failures = 5 }), key, "1", now, emailcode.ErrTooManyTries},
		{"no stored hash", fresh(func(c *mfagate.EmailCode) { c.Hash = nil }), key, "042137", now, emailcode.ErrWrongCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *tt.code
			err := emailcode.Check(tt.code, tt.key, tt.input, tt.now, maxFailures)
			if err != tt.want {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if !reflect.DeepEqual(before, *tt.code) {
				t.Fatalf("Check changed the code: got %+v, want %+v", *tt.code, before)
			}
		})
	}
}

func TestCheckFifthFailureLocks(t *testing.T) {
	key, session := []byte("k"), []byte("s")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &mfagate.EmailCode{SessionHash: session, Hash: emailcode.Hash(key, session, "111111"), ExpiresAt: now.Add(time.Minute)}
	for i := 1; i <= 5; i++ {
		if err := emailcode.Check(c, key, "222222", now, 5); err != emailcode.ErrWrongCode {
			t.Fatalf("try %d: got %v, want ErrWrongCode", i, err)
		}
		c.Failures++ // as the caller does
	}
	if err := emailcode.Check(c, key, "111111", now, 5); err != emailcode.ErrTooManyTries {
		t.Fatalf("after 5 failures: got %v, want ErrTooManyTries", err)
	}
}

func TestCheckNil(t *testing.T) {
	err := emailcode.Check(nil, []byte("k"), "123456", time.Unix(0, 0), 5)
	if err == nil || mfagate.ErrorCode(err) != mfagate.EINTERNAL {
		t.Fatalf("got %v, want an internal error", err)
	}
}

func TestErrors(t *testing.T) {
	errs := map[error]string{
		emailcode.ErrNoCode:       mfagate.EINVALID,
		emailcode.ErrFormat:       mfagate.EINVALID,
		emailcode.ErrUsed:         mfagate.EINVALID,
		emailcode.ErrVoided:       mfagate.EINVALID,
		emailcode.ErrExpired:      mfagate.EINVALID,
		emailcode.ErrTooManyTries: mfagate.ETHROTTLED,
		emailcode.ErrWrongCode:    mfagate.EINVALID,
	}
	seen := map[string]bool{}
	for err, code := range errs {
		if got := mfagate.ErrorCode(err); got != code {
			t.Errorf("%q: got code %q, want %q", err, got, code)
		}
		if seen[err.Error()] {
			t.Errorf("%q: message used twice", err)
		}
		seen[err.Error()] = true
		if !errors.Is(err, err) {
			t.Errorf("%q: errors.Is fails", err)
		}
	}
}
