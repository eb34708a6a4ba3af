package account

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"hash"
	"sync"
)

// Session tokens: what a session cookie carries, and how a value that
// cannot be one is refused in memory.
//
// A token is 32 random bytes and a MAC of them under a key derived from
// the server's (keys.session), 48 bytes in unpadded base64url: 64
// characters, whose every spelling is the only one (48 bytes fill whole
// groups of 3, so no bits are spare). The store keeps only the SHA-256 of
// the random part: a copy of the database holds no cookie, nor anything a
// cookie can be made from without the server's key.
//
// The MAC is what makes a flood of random or forged tokens cheap: only
// the server can make a value that passes it, so anything else is refused
// with no lookup at all, in memory or in the database. Tokens written
// before the MAC existed (43 characters) are refused the same way: after
// that upgrade everyone signs in once more (docs/operations.md).

const (
	tokenRandomLen = 32
	tokenMACLen    = 16 // 128 bits: a forgery is a guess of those
	tokenLen       = (tokenRandomLen + tokenMACLen) / 3 * 4
)

// tokenMACDomain keeps these MACs apart from any other made with the key.
var tokenMACDomain = []byte("session token v1\x00")

// macPool holds HMACs keyed with keys.session, reused: keying one costs
// more than the MAC itself, and Reset goes back to the keyed state.
type macPool struct {
	pool sync.Pool
}

// macState is one keyed HMAC and the room to use it: what is handed to
// the hash escapes to the heap, so it lives here rather than on each
// call's stack.
type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
	raw [tokenRandomLen + tokenMACLen]byte
}

func (p *macPool) get(key []byte) *macState {
	if m, ok := p.pool.Get().(*macState); ok {
		return m
	}
	return &macState{h: hmac.New(sha256.New, key)}
}

// put returns m to the pool, without the token it last held.
func (p *macPool) put(m *macState) {
	clear(m.raw[:])
	p.pool.Put(m)
}

// tokenMAC writes the MAC of the random part into dst (tokenMACLen bytes).
func (s *Service) tokenMAC(dst, random []byte) {
	m := s.macs.get(s.keys.session)
	copy(m.raw[:], random)
	copy(dst, m.mac(m.raw[:tokenRandomLen]))
	s.macs.put(m)
}

// mac returns the MAC of random, in m.sum.
func (m *macState) mac(random []byte) []byte {
	m.h.Reset()
	m.h.Write(tokenMACDomain)
	m.h.Write(random)
	return m.h.Sum(m.sum[:0])[:tokenMACLen]
}

// sessionKey returns the store key of a cookie token (the SHA-256 of its
// random part), and false for a value that is not a token this server
// made: the wrong length or alphabet, or a MAC that does not match. It
// reads nothing but token and allocates nothing, so it costs the same
// small work for any input of the right length.
func (s *Service) sessionKey(token string) (key [32]byte, ok bool) {
	if len(token) != tokenLen {
		return key, false
	}
	m := s.macs.get(s.keys.session)
	defer s.macs.put(m)
	if !decodeToken(m.raw[:], token) {
		return key, false
	}
	if subtle.ConstantTimeCompare(m.mac(m.raw[:tokenRandomLen]), m.raw[tokenRandomLen:]) != 1 {
		return key, false
	}
	return sha256.Sum256(m.raw[:tokenRandomLen]), true
}

// tokenHash is sessionKey as the store takes it.
func (s *Service) tokenHash(token string) ([]byte, bool) {
	key, ok := s.sessionKey(token)
	if !ok {
		return nil, false
	}
	return key[:], true
}

// decodeToken decodes unpadded base64url whose length is a multiple of 4
// into dst (3 bytes for every 4 characters), refusing any other
// character. It is encoding/base64 without the copy of token that
// decoding a string there makes.
func decodeToken(dst []byte, token string) bool {
	var bad byte
	for i, j := 0, 0; i+4 <= len(token); i, j = i+4, j+3 {
		a, b, c, d := b64[token[i]], b64[token[i+1]], b64[token[i+2]], b64[token[i+3]]
		bad |= (a | b | c | d) & 0x80
		dst[j] = a<<2 | b>>4
		dst[j+1] = b<<4 | c>>2
		dst[j+2] = c<<6 | d
	}
	return bad == 0
}

// b64 maps each byte to its value in the base64url alphabet, or 0xff.
var b64 = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = 0xff
	}
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	return t
}()
