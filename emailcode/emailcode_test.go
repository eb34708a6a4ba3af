package emailcode_test

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/emailcode"
)

func mustGenerate(tb testing.TB) string {
	tb.Helper()
	c, err := emailcode.Generate(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestGenerateDistribution(t *testing.T) {
	const n = 10_000
	var first [10]int
	leadingZeros, distinct := 0, map[string]bool{}
	for range n {
		c := mustGenerate(t)
		if len(c) != 6 || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("got %q, want 6 ASCII digits", c)
		}
		first[c[0]-'0']++
		if c[0] == '0' {
			leadingZeros++
		}
		distinct[c] = true
	}
	for d, count := range first {
		// Each first digit is expected 1000 times; 800 is over six standard
		// deviations away, so a failure means bias, not bad luck.
		if count < 800 || count > 1200 {
			t.Errorf("first digit %d: got %d of %d, want about %d", d, count, n, n/10)
		}
	}
	if leadingZeros == 0 {
		t.Error("no code starts with 0: leading zeros are lost")
	}
	// 10,000 draws from a million collide about 50 times.
	if len(distinct) < n-200 {
		t.Errorf("got %d distinct codes of %d, want nearly all", len(distinct), n)
	}
}

// draws returns a reader yielding the given 32-bit values, big-endian.
func draws(vs ...uint32) *bytes.Reader {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return bytes.NewReader(b)
}

func TestGenerateRejectionSampling(t *testing.T) {
	const limit = 4_294_000_000 // largest multiple of 1e6 below 2^32
	tests := []struct {
		name string
		r    *bytes.Reader
		want string
	}{
		{"zero keeps its zeros", draws(0), "000000"},
		{"small value", draws(42), "000042"},
		{"last accepted", draws(limit - 1), "999999"},
		{"first refused, then next draw", draws(limit, 7), "000007"},
		{"max refused, then next draw", draws(1<<32-1, 123456), "123456"},
		{"value wraps", draws(1_234_567), "234567"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := emailcode.Generate(tt.r)
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	boom := errors.New("boom")
	if _, err := emailcode.Generate(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Fatalf("failing reader: got %v, want it to wrap %v", err, boom)
	}
	if _, err := emailcode.Generate(bytes.NewReader([]byte{1, 2})); err == nil {
		t.Fatal("short reader: got no error")
	}
	if _, err := emailcode.Generate(bytes.NewReader(bytes.Repeat([]byte{0xff}, 4000))); err == nil {
		t.Fatal("reader of only refused values: got no error")
	}
}

func TestHash(t *testing.T) {
	key, other := []byte("server key 1"), []byte("server key 2")
	s1, s2 := []byte("session one"), []byte("session two")
	h := emailcode.Hash(key, s1, "123456")
	if len(h) != 32 {
		t.Fatalf("got %d bytes, want 32", len(h))
	}
	if !bytes.Equal(h, emailcode.Hash(key, s1, "123456")) {
		t.Fatal("same inputs give different hashes")
	}
	for name, g := range map[string][]byte{
		"other session": emailcode.Hash(key, s2, "123456"),
		"other key":     emailcode.Hash(other, s1, "123456"),
		"other code":    emailcode.Hash(key, s1, "123457"),
		// Without the length prefix these two would hash the same bytes.
		"boundary moved": emailcode.Hash(key, []byte("session one1"), "23456"),
	} {
		if bytes.Equal(h, g) {
			t.Errorf("%s: got the same hash", name)
		}
	}
	if bytes.Contains(h, []byte("123456")) {
		t.Fatal("hash contains the code")
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"plain", "012345", "012345", nil},
		{"space", "012 345", "012345", nil},
		{"hyphen", "012-345", "012345", nil},
		{"spaces around and tab", " \t012345 ", "012345", nil},
		{"every gap", "0 1-2 3-4 5", "012345", nil},
		{"empty", "", "", emailcode.ErrNoCode},
		{"only separators", " - -", "", emailcode.ErrNoCode},
		{"five digits", "01234", "", emailcode.ErrFormat},
		{"seven digits", "0123456", "", emailcode.ErrFormat},
		{"letter", "01234a", "", emailcode.ErrFormat},
		{"letter O for zero", "O12345", "", emailcode.ErrFormat},
		{"full-width digits", "０１２３４５", "", emailcode.ErrFormat},
		{"non-breaking space", "012\u00a0345", "", emailcode.ErrFormat},
		{"newline", "012345\n", "", emailcode.ErrFormat},
		{"very long", strings.Repeat(" ", 100) + "012345", "", emailcode.ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := emailcode.Normalize(tt.in)
			if got != tt.want || err != tt.err {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
			if err != nil && mfagate.ErrorCode(err) != mfagate.EINVALID {
				t.Fatalf("got code %q, want %q", mfagate.ErrorCode(err), mfagate.EINVALID)
			}
		})
	}
}

func TestCanResend(t *testing.T) {
	sent := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	last := sent
	cooldown := 30 * time.Second
	tests := []struct {
		name string
		last time.Time
		now  time.Time
		want time.Duration
	}{
		{"no code yet", time.Time{}, sent, 0},
		{"just sent", last, sent, 30 * time.Second},
		{"ten seconds later", last, sent.Add(10 * time.Second), 20 * time.Second},
		{"a millisecond before", last, sent.Add(cooldown - time.Millisecond), time.Millisecond},
		{"exactly at the end", last, sent.Add(cooldown), 0},
		{"long after", last, sent.Add(time.Hour), 0},
		{"clock went back", last, sent.Add(-5 * time.Second), 35 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := emailcode.CanResend(tt.last, tt.now, cooldown); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
