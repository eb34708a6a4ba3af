package recovery_test

import (
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/recovery"
)

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "ABCD-EFGH-IJKL-MN23", "abcd efgh ijkl mn23", "ABCD-EFGH-IJKL-MN20", "ÄBCD", "---", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := recovery.Normalize(in)
		if err != nil {
			if mfagate.ErrorCode(err) != mfagate.EINVALID || got != "" {
				t.Fatalf("got %q, %v; want \"\" and EINVALID", got, err)
			}
			return
		}
		if len(got) != recovery.Length || strings.Trim(got, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Fatalf("got %q, want 16 characters of A-Z and 2-7", got)
		}
		strip := strings.NewReplacer(" ", "", "\t", "", "-", "").Replace(in)
		if strings.ToUpper(strip) != got {
			t.Fatalf("got %q, want the input without separators in upper case, %q", got, strip)
		}
		if again, err := recovery.Normalize(got); again != got || err != nil {
			t.Fatalf("normalising %q again: got %q, %v", got, again, err)
		}
	})
}
