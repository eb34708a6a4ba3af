package password_test

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/password"
)

// cheap keeps most tests fast; the floor itself is tested once below.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func mustHash(tb testing.TB, pw string, p password.Params) string {
	tb.Helper()
	h, err := password.Hash(pw, p, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func TestDefaultMeetsOWASPFloor(t *testing.T) {
	p := password.Default
	if p.Memory < 19*1024 || p.Time < 2 || p.Threads < 1 {
		t.Fatalf("got m=%d t=%d p=%d, want at least m=19456 t=2 p=1", p.Memory, p.Time, p.Threads)
	}
	h := mustHash(t, "correct horse battery", password.Default)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("got %q, want an argon2id PHC string with m=19456,t=2,p=1", h)
	}
	ok, rehash, err := password.Verify("correct horse battery", h, password.Default)
	if err != nil || !ok || rehash {
		t.Fatalf("got ok=%v rehash=%v err=%v, want ok, no rehash", ok, rehash, err)
	}
}

func TestVerify(t *testing.T) {
	h := mustHash(t, "correct horse battery", cheap)
	tests := []struct {
		name       string
		pw         string
		want       password.Params
		ok, rehash bool
	}{
		{"right", "correct horse battery", cheap, true, false},
		{"wrong", "correct horse batterY", cheap, false, false},
		{"empty", "", cheap, false, false},
		{"right but parameters raised", "correct horse battery", password.Default, true, true},
		{"wrong and parameters raised", "nope nope nope", password.Default, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := password.Verify(tt.pw, h, tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.ok || rehash != tt.rehash {
				t.Fatalf("got ok=%v rehash=%v, want ok=%v rehash=%v", ok, rehash, tt.ok, tt.rehash)
			}
		})
	}
}

func TestLongPasswordsAreNotTruncated(t *testing.T) {
	long := strings.Repeat("ab", 100) // 200 characters
	h := mustHash(t, long, cheap)
	if ok, _, _ := password.Verify(long[:len(long)-1]+"x", h, cheap); ok {
		t.Fatal("a password differing only in its 200th character was accepted")
	}
	if ok, _, _ := password.Verify(long, h, cheap); !ok {
		t.Fatal("the 200-character password itself was refused")
	}
}

func TestUnicodeIsNormalized(t *testing.T) {
	composed := "caf\u00e9 au lait"    // é as one code point
	decomposed := "cafe\u0301 au lait" // e + combining accent
	h := mustHash(t, composed, cheap)
	if ok, _, _ := password.Verify(decomposed, h, cheap); !ok {
		t.Fatal("the same password typed in another Unicode form was refused")
	}
}

func TestDecodeRefusesMalformed(t *testing.T) {
	good := mustHash(t, "correct horse battery", cheap)
	bad := []string{
		"",
		"plain",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!!$a2V5a2V5a2V5a2V5a2V5",
		strings.Replace(good, "$argon2id$", "$argon2id$$", 1),
	}
	for _, phc := range bad {
		if _, _, err := password.Verify("x", phc, cheap); err == nil {
			t.Errorf("Verify(%q): got nil error, want malformed", phc)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name, pw, want string // want: part of the message, or "" for accepted
	}{
		{"seven characters", "abcdefg", "at least 8 characters"},
		{"eight characters", "mzq8vw2x", ""},
		{"64 characters accepted", strings.Repeat("kq7!", 16), ""},
		{"256 characters accepted", strings.Repeat("kq7!", 64), ""},
		{"257 characters refused", strings.Repeat("kq7!", 64) + "z", "256 characters or fewer"},
		{"1 MB refused", strings.Repeat("x", 1<<20), "256 characters or fewer"},
		{"common", "password1", "too common"},
		{"common in capitals", "PASSWORD1", "too common"},
		{"one character repeated", "zzzzzzzzzzzz", "too common"},
		{"username", "Alice.Smith", "not be your username"},
		{"email", "alice@example.com", "not be your username"},
		{"invalid utf-8", "abc\xffdefgh", "cannot be used"},
		{"no composition rules: only lowercase", "quietmeadowlark", ""},
		{"spaces allowed", "four words in a row", ""},
		{"emoji allowed", "🔑🔑 my key ring 🔑", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := password.Check(tt.pw, "alice.smith", "alice@example.com")
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want accepted", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a message containing %q", err, tt.want)
			}
			if mfagate.ErrorCode(err) != mfagate.EINVALID {
				t.Fatalf("got code %q, want %q", mfagate.ErrorCode(err), mfagate.EINVALID)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("pw", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5")
	f.Add("", "$argon2id$v=19$m=8,t=1,p=1$$")
	f.Fuzz(func(t *testing.T, pw, phc string) {
		p, _, _, err := password.Decode(phc)
		if err != nil {
			return
		}
		if p.Memory > 1<<16 || p.Time > 4 {
			return // valid but too slow to fuzz
		}
		password.Verify(pw, phc, cheap)
	})
}

func FuzzCheck(f *testing.F) {
	f.Add("correct horse battery", "alice", "alice@example.com")
	f.Fuzz(func(t *testing.T, pw, user, email string) {
		err := password.Check(pw, user, email)
		if err != nil && mfagate.ErrorCode(err) != mfagate.EINVALID {
			t.Fatalf("got code %q, want %q", mfagate.ErrorCode(err), mfagate.EINVALID)
		}
	})
}
