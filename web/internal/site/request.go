package site

import (
	"crypto/rand"
	"encoding/binary"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// StatusWriter remembers the status a handler wrote, and carries the
// request's id (web's observe middleware makes one per request).
type StatusWriter struct {
	http.ResponseWriter
	Status int
	// IDBits is the request's id (NewRequestID), for logs and error
	// pages; it is spelt out (ID) only when one of them needs it, so a
	// request nobody logs makes no string.
	IDBits uint64
}

// ID is the request's id as logs and error pages show it.
func (w *StatusWriter) ID() string {
	var b [16]byte
	const digits = "0123456789abcdef"
	n := w.IDBits
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = digits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

// RequestID returns the id of the request that w answers, or "".
func RequestID(w http.ResponseWriter) string {
	for {
		switch v := w.(type) {
		case *StatusWriter:
			return v.ID()
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return ""
		}
	}
}

func (w *StatusWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// NewRequestID names a request in logs and on error pages (as
// StatusWriter.IDBits). It only has to tell requests apart, but
// crypto/rand is cheap enough here and keeps the rule that every id comes
// from it.
func NewRequestID() uint64 {
	var raw [8]byte
	rand.Read(raw[:])
	return binary.LittleEndian.Uint64(raw[:])
}

// CleanPath keeps request paths short and printable in logs, and keeps
// the tokens of emailed links (/reset/TOKEN, /invite/TOKEN) out of them:
// whoever reads the logs must not be able to follow someone's link.
func CleanPath(p string) string {
	for _, prefix := range linkPrefixes {
		// Anywhere in the path: "//reset/TOKEN" reaches the server too
		// (and is redirected to the clean path).
		if i := strings.Index(p, prefix); i >= 0 && len(p) > i+len(prefix) {
			p = p[:i+len(prefix)] + "REDACTED"
		}
	}
	if len(p) > 200 {
		p = p[:200] + "…"
	}
	return strings.ToValidUTF8(p, "?")
}

// ClientAddr is the address of the person's browser: the connection's peer,
// or, when that peer is a trusted proxy, the nearest untrusted address in
// X-Forwarded-For. Forwarded headers from anyone else are ignored.
//
// IPv6 zones ("fe80::1%eth0") are dropped: a zone names a link of the
// machine that saw the address, not a client, and keeping it would let
// any text after the % make one client many, and hide a trusted proxy
// (a prefix never contains a zoned address).
func (s *Site) ClientAddr(r *http.Request) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		return host
	}
	addr := peer.Addr().Unmap().WithZone("")
	if !s.trusted(addr) {
		return addr.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		hop = hop.Unmap().WithZone("")
		if !s.trusted(hop) {
			return hop.String()
		}
		addr = hop
	}
	return addr.String()
}

// PeerTrusted reports whether the connection comes from a trusted proxy.
func (s *Site) PeerTrusted(r *http.Request) bool {
	if len(s.cfg.TrustedProxies) == 0 {
		return false
	}
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && s.trusted(peer.Addr().Unmap().WithZone(""))
}

func (s *Site) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// linkPrefixes begin the paths of emailed links, whose rest is a secret
// (account.LinkPath).
var linkPrefixes = []string{"/reset/", "/invite/"}
