package site

import (
	"net/url"
	"strings"
)

// The return-address policy: where mfagate may send a browser after
// signing in, so that it is never an open redirect.

// SafeRedirect returns where to send someone after sign-in: rd when it is
// a path on this site or a URL mfagate may send people to (see
// Redirectable), and "/" otherwise, so mfagate is never an open redirect.
func (s *Site) SafeRedirect(rd string) string {
	if rd == "" || len(rd) > MaxRedirectBytes || strings.ContainsAny(rd, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(rd)
	if err != nil {
		return "/"
	}
	var out string
	if u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == "" {
		// A path on this site. What is checked is what is sent, not the
		// decoded path: "%2F" decodes to "/" but stays a relative
		// reference, and "/%2F/evil.example y" is sent re-encoded as
		// "///evil.example%20y", which browsers read as another host.
		out = u.RequestURI() + fragment(u)
		if !strings.HasPrefix(rd, "/") || strings.HasPrefix(rd, "//") || !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") {
			return "/"
		}
	} else if out = u.String(); !s.Redirectable(u) {
		return "/"
	}
	// Re-encoding can triple the length: the bound holds for what is
	// sent, so that the answer is kept when it comes back as rd.
	if len(out) > MaxRedirectBytes {
		return "/"
	}
	return out
}

// MaxRedirectBytes bounds a return address; longer ones are not kept.
const MaxRedirectBytes = 2048

// KeepRedirect carries rd through a form only when it is safe.
func (s *Site) KeepRedirect(rd string) string {
	if s.SafeRedirect(rd) == "/" {
		return ""
	}
	return rd
}

// WithRd adds a safe return address to a path.
func (s *Site) WithRd(path, rd string) string {
	if rd = s.KeepRedirect(rd); rd == "" {
		return path
	}
	sep := "?"
	if u, err := url.Parse(path); err == nil && u.RawQuery != "" {
		sep = "&"
	}
	return path + sep + "rd=" + url.QueryEscape(rd)
}

// Redirectable reports whether an absolute URL is somewhere mfagate may
// send a browser: the base URL's host (any port, the base URL's scheme),
// or, when server.cookie_domain is set, that domain or a host under it
// over https (or over the base URL's scheme, which is http only for a
// demo on loopback). Nothing with a user name, nothing else: the
// protected applications share the cookie domain, strangers do not.
func (s *Site) Redirectable(u *url.URL) bool {
	if u.User != nil || u.Opaque != "" || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if !PlainHost(host) {
		return false
	}
	base := s.cfg.BaseURL
	if u.Scheme == base.Scheme && host == strings.ToLower(base.Hostname()) {
		return true
	}
	d := strings.ToLower(strings.TrimPrefix(s.cfg.CookieDomain, "."))
	if d == "" || (u.Scheme != "https" && u.Scheme != base.Scheme) {
		return false
	}
	return host == d || strings.HasSuffix(host, "."+d)
}

// PlainHost reports whether host (lower case, without a port) is a DNS
// name or an IP address, with nothing a browser might read differently.
func PlainHost(host string) bool {
	if host == "" || len(host) > 253 {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '.' && c != ':' {
			return false
		}
	}
	return true
}

func fragment(u *url.URL) string {
	if u.Fragment == "" {
		return ""
	}
	return "#" + u.EscapedFragment()
}
