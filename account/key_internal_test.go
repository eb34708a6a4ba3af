package account

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/seal"
)

func TestKeyOpens(t *testing.T) {
	right, wrong := make([]byte, 32), make([]byte, 32)
	rand.Read(right)
	rand.Read(wrong)
	k, err := deriveKeys(right)
	if err != nil {
		t.Fatal(err)
	}
	sealed := func(userID int64) *mfagate.Factor {
		s, err := seal.Seal(k.seal, bytes.Repeat([]byte{7}, 20), factorContext(userID), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return &mfagate.Factor{UserID: userID, Method: mfagate.MethodTOTP, Secret: s}
	}
	good, other := sealed(1), sealed(2)
	damaged := sealed(3)
	damaged.Secret[len(damaged.Secret)-1] ^= 1
	moved := sealed(4)
	moved.UserID = 5 // a secret under another person's row does not open
	tests := []struct {
		name    string
		key     []byte
		factors []*mfagate.Factor
		want    bool
	}{
		{"the key that sealed them", right, []*mfagate.Factor{good, other}, true},
		{"another key", wrong, []*mfagate.Factor{good, other}, false},
		{"one damaged among good ones", right, []*mfagate.Factor{damaged, good}, true},
		{"only damaged or moved ones", right, []*mfagate.Factor{damaged, moved}, false},
		{"nothing to try", wrong, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := KeyOpens(tt.key, tt.factors)
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v, want %v", got, err, tt.want)
			}
		})
	}
}
