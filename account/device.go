package account

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/mfagate/mfagate"
)

// Device tokens keep one person from locking a whole office out. A client
// address only ever slows down, but everyone behind it slows down
// together: someone sharing an office's address who keeps its count of
// failures up would keep every colleague waiting at every attempt. So a
// browser that has signed in to an account with the right password is
// given a device token for that account (OWASP's "device cookies"), and
// its attempts at that account skip the address's count altogether. They
// still count on the account's own keys: a device token buys no guess at
// a password or a code, and it is worth nothing for any other account.
//
// A token is stateless: the time it ends and a MAC of it and the username
// under a key derived from the server's, in base64url.

// DeviceFor is how long a device token lasts after its last sign-in.
const DeviceFor = 90 * 24 * time.Hour

const deviceMACLen = 16

// deviceToken makes the device token of username, lasting until until.
func (s *Service) deviceToken(username string, until time.Time) string {
	b := make([]byte, 8, 8+deviceMACLen)
	binary.BigEndian.PutUint64(b, uint64(until.Unix()))
	return base64.RawURLEncoding.EncodeToString(append(b, s.deviceMAC(username, b)...))
}

func (s *Service) deviceMAC(username string, until []byte) []byte {
	m := hmac.New(sha256.New, s.keys.device)
	m.Write([]byte("device v1\x00"))
	m.Write([]byte(mfagate.UsernameKey(username)))
	m.Write([]byte{0})
	m.Write(until)
	return m.Sum(nil)[:deviceMACLen]
}

// knownDevice reports whether token is a live device token of username.
func (s *Service) knownDevice(token, username string, now time.Time) bool {
	if token == "" || len(token) > 64 {
		return false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != 8+deviceMACLen {
		return false
	}
	if !hmac.Equal(raw[8:], s.deviceMAC(username, raw[:8])) {
		return false
	}
	return now.Unix() < int64(binary.BigEndian.Uint64(raw[:8]))
}
