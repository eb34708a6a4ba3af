package recovery_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/recovery"
)

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "ABCD-EFGH-IJKL-MN23", "abcd efgh ijkl mn23", "abcd-0fgh-ijkl-mn23", "ABCD-EFGH-IJKL-MN21", "ÄBCD", "---", "\x00", "A\u2013B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := recovery.Normalize(in)
		if err != nil {
			if mfagate.ErrorCode(err) != mfagate.EINVALID || got != "" || !strings.HasPrefix(err.Error(), "A recovery code") && err != recovery.ErrNoCode {
				t.Fatalf("got %q, %v; want \"\" and EINVALID with a message", got, err)
			}
			return
		}
		if len(got) != recovery.Length || strings.Trim(got, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Fatalf("got %q, want 16 characters of A-Z and 2-7", got)
		}
		// What is left of the input's ASCII letters and digits, in upper
		// case with 0 read as O, is the code.
		var kept strings.Builder
		for _, r := range in {
			if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				kept.WriteRune(r)
			}
		}
		strip := strings.ReplaceAll(strings.ToUpper(kept.String()), "0", "O")
		if strip != got {
			t.Fatalf("got %q, want the input without separators in upper case, %q", got, strip)
		}
		if again, err := recovery.Normalize(got); again != got || err != nil {
			t.Fatalf("normalising %q again: got %q, %v", got, again, err)
		}
	})
}
