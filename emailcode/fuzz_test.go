package emailcode_test

import (
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/emailcode"
)

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "012345", "012 345", "012-345", "０１２３４５", "12345", "1234567", "abcdef", "\x00", "- -"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := emailcode.Normalize(in)
		if err != nil {
			if mfagate.ErrorCode(err) != mfagate.EINVALID || got != "" {
				t.Fatalf("got %q, %v; want \"\" and EINVALID", got, err)
			}
			return
		}
		if len(got) != 6 || strings.Trim(got, "0123456789") != "" {
			t.Fatalf("got %q, want 6 ASCII digits", got)
		}
		if strip := strings.NewReplacer(" ", "", "\t", "", "-", "").Replace(in); strip != got {
			t.Fatalf("got %q, want the input without separators, %q", got, strip)
		}
		if again, err := emailcode.Normalize(got); again != got || err != nil {
			t.Fatalf("normalising %q again: got %q, %v", got, again, err)
		}
	})
}
