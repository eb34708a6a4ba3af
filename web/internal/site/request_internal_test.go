package site

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// FuzzClientAddr: the client address is an IP address without a zone;
// from a peer that is not a trusted proxy it is the peer, whatever
// X-Forwarded-For says; from a trusted proxy it is the nearest address
// in X-Forwarded-For that is not a trusted proxy (or the farthest
// trusted one, when every hop is).
func FuzzClientAddr(f *testing.F) {
	for _, s := range [][2]string{
		{"192.0.2.7:4000", "203.0.113.9"},
		{"10.0.0.2:4000", "203.0.113.9"},
		{"10.0.0.2:4000", "198.51.100.1, 203.0.113.9, 10.0.0.3"},
		{"10.0.0.2:4000", "203.0.113.9\n10.0.0.3"}, // two header lines
		{"10.0.0.2:4000", "garbage, 203.0.113.9"},
		{"10.0.0.2:4000", "203.0.113.9, garbage"},
		{"10.0.0.2:4000", "10.0.0.9, 10.0.0.3"},
		{"10.0.0.2:4000", "::ffff:203.0.113.9"},
		{"10.0.0.2:4000", "fe80::1%eth0"},
		{"10.0.0.2:4000", "fe80::1%<b>, ::ffff:10.0.0.3"},
		{"[::ffff:10.0.0.2]:4000", "2001:db8::1"},
		{"[fe80::2%eth0]:4000", "203.0.113.9"},
		{"[::1]:4000", ""},
		{"203.0.113.9:4000", ""},
		{"@", "203.0.113.9"},
	} {
		f.Add(s[0], s[1])
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("fe80::/10")}
	s := &Site{cfg: Config{TrustedProxies: trusted}}
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest("GET", "/login", nil)
		r.RemoteAddr = remote
		for line := range strings.SplitSeq(xff, "\n") {
			if !headerValueOK(line) {
				return // net/http refuses the request before any handler
			}
			r.Header.Add("X-Forwarded-For", strings.Trim(line, " \t"))
		}
		got := s.ClientAddr(r)
		peer, err := netip.ParseAddrPort(remote)
		if err != nil {
			return // not an address net/http gives: the peer of a Unix socket, say
		}
		a, err := netip.ParseAddr(got)
		if err != nil || a.Zone() != "" || a.Is4In6() {
			t.Fatalf("got %q from peer %q and X-Forwarded-For %q, want an IP address without a zone", got, remote, xff)
		}
		// The chain, nearest first: the peer, then the hops from the right
		// up to the first that is not an address. The answer is the first
		// that is not a trusted proxy, or the last of the chain.
		chain := []netip.Addr{peer.Addr()}
		if isTrusted(peer.Addr().Unmap().WithZone("")) {
			hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
			for i := len(hops) - 1; i >= 0; i-- {
				hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
				if err != nil {
					break
				}
				chain = append(chain, hop)
			}
		}
		want := chain[len(chain)-1]
		for _, c := range chain {
			if c = c.Unmap().WithZone(""); !isTrusted(c) {
				want = c
				break
			}
		}
		if want = want.Unmap().WithZone(""); a != want {
			t.Fatalf("got %v from peer %q and X-Forwarded-For %q, want %v", a, remote, xff, want)
		}
	})
}

// FuzzCleanPathHidesLinkTokens: whatever the path, nothing that follows
// /reset/ or /invite/ reaches a log.
func FuzzCleanPathHidesLinkTokens(f *testing.F) {
	for _, s := range []string{"/reset/abc", "//reset/abc", "/invite/abc/reset/def", "/reset/", "/x/reset/a\xff", "/reset"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got := CleanPath(p)
		end := -1 // where the secret begins: after the earliest prefix
		for _, prefix := range linkPrefixes {
			if i := strings.Index(p, prefix); i >= 0 && len(p) > i+len(prefix) && (end < 0 || i+len(prefix) < end) {
				end = i + len(prefix)
			}
		}
		if end < 0 {
			return
		}
		// What is logged does not depend on the secret at all.
		if other := CleanPath(p[:end] + "x"); got != other {
			t.Fatalf("CleanPath(%q) = %q, but %q for another secret: it keeps some of it", p, got, other)
		}
		if end < 150 && !strings.HasSuffix(got, "REDACTED") {
			t.Fatalf("CleanPath(%q) = %q: does not say it hid something", p, got)
		}
	})
}
