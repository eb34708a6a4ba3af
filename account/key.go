package account

import (
	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/seal"
)

// KeyOpens reports whether key, the server key "mfagate keygen" writes,
// opens the sealed authenticator-app secrets of factors (TOTP factors as
// a store holds them): true when any of them opens, or when there is
// none to try. A key other than the one they were sealed with opens none;
// one damaged value among good ones does not make the right key look
// wrong. It lets a restore refuse a backup that the key in place cannot
// read, before everyone's authenticator app stops working.
func KeyOpens(key []byte, factors []*mfagate.Factor) (bool, error) {
	k, err := deriveKeys(key)
	if err != nil {
		return false, err
	}
	if len(factors) == 0 {
		return true, nil
	}
	for _, f := range factors {
		if _, err := seal.Open(k.seal, f.Secret, factorContext(f.UserID)); err == nil {
			return true, nil
		}
	}
	return false, nil
}
