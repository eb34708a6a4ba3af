package totp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/totp"
)

func FuzzVerify(f *testing.F) {
	secret := []byte("12345678901234567890")
	for _, s := range []string{"", "287082", "287 082", "287-082", "１２３４５６", "12345", "1234567", "abcdef", "\x00", "--------"} {
		f.Add(s, int64(59), int64(0), 1)
	}
	f.Fuzz(func(t *testing.T, code string, unix, lastStep int64, skew int) {
		step, err := totp.Verify(secret, code, time.Unix(unix, 0), lastStep, skew)
		if skew < 0 || skew > totp.MaxSkew {
			if err == nil {
				t.Fatalf("skew %d accepted", skew)
			}
			return
		}
		if err != nil {
			if mfagate.ErrorCode(err) != mfagate.EINVALID {
				t.Fatalf("got %v (code %q), want EINVALID", err, mfagate.ErrorCode(err))
			}
			return
		}
		digits := strings.NewReplacer(" ", "", "\t", "", "-", "").Replace(code)
		if len(digits) != 6 || strings.Trim(digits, "0123456789") != "" {
			t.Fatalf("accepted %q, which is not 6 digits", code)
		}
		if step <= lastStep {
			t.Fatalf("accepted step %d at or before last step %d", step, lastStep)
		}
		if cur := totp.Step(time.Unix(unix, 0)); step < cur-int64(skew) || step > cur+int64(skew) {
			t.Fatalf("accepted step %d, outside %d±%d", step, cur, skew)
		}
		if totp.Code(secret, step) != digits {
			t.Fatalf("accepted %q for step %d, whose code is %s", code, step, totp.Code(secret, step))
		}
	})
}
