package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
)

// cookieSpec is how the session cookie is named and flagged.
//
// Normally it is "__Host-mfagate_session": the browser then insists on
// Secure, Path=/ and no Domain, so no other host can set or read it. With
// a cookie domain it must carry Domain, which __Host- forbids, so it is
// "__Secure-mfagate_session". The demo on loopback runs over plain HTTP,
// where browsers refuse both prefixes, so it drops prefix and Secure.
type cookieSpec struct {
	name   string
	domain string
	secure bool
	// device names the device-token cookie (account/device.go): kept to
	// mfagate's own host (__Host-), since no application needs it.
	device string
}

func newCookieSpec(o Options) cookieSpec {
	switch {
	case o.InsecureCookies:
		return cookieSpec{name: "mfagate_session", domain: o.CookieDomain, device: "mfagate_device"}
	case o.CookieDomain != "":
		return cookieSpec{name: "__Secure-mfagate_session", domain: o.CookieDomain, secure: true, device: "__Host-mfagate_device"}
	default:
		return cookieSpec{name: "__Host-mfagate_session", secure: true, device: "__Host-mfagate_device"}
	}
}

// setDevice gives the browser a device token, for as long as it lasts.
func (c cookieSpec) setDevice(w http.ResponseWriter, token string) {
	if token == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: c.device, Value: token, Path: "/", MaxAge: int(account.DeviceFor / time.Second),
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// deviceToken returns the device-token cookie's value, or "".
func (c cookieSpec) deviceToken(r *http.Request) string {
	if ck, err := r.Cookie(c.device); err == nil {
		return ck.Value
	}
	return ""
}

// set gives the browser a session token. The cookie has no Max-Age: the
// server decides when a session ends, and it ends with the browser too.
func (c cookieSpec) set(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: c.name, Value: token, Path: "/", Domain: c.domain,
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

func (c cookieSpec) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: c.name, Value: "", Path: "/", Domain: c.domain, MaxAge: -1,
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// token returns the session cookie's value, or "". It reads the Cookie
// header in place instead of parsing every cookie into new values: it runs
// for every request forward-auth checks. Whatever it returns is checked
// as a token before any use.
func (c cookieSpec) token(r *http.Request) string {
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			if len(part) > len(c.name) && part[len(c.name)] == '=' && part[:len(c.name)] == c.name {
				return strings.Trim(part[len(c.name)+1:], `"`)
			}
		}
	}
	return ""
}

// current looks up the request's session. A missing or dead session is
// not an error: it gives nil.
func (s *server) current(r *http.Request) (*account.Current, error) {
	tok := s.cookie.token(r)
	if tok == "" {
		return nil, nil
	}
	cur, err := s.Accounts.Authenticate(r.Context(), tok)
	if mfagate.ErrorCode(err) == mfagate.EUNAUTHORIZED {
		return nil, nil
	}
	return cur, err
}

func currentFrom(r *http.Request) *account.Current {
	cur, _ := r.Context().Value(keyCurrent).(*account.Current)
	return cur
}

func withCurrent(r *http.Request, cur *account.Current) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), keyCurrent, cur))
}

// requireSignIn lets fully signed-in people through. Someone part-way
// through signing in is sent back to their next step; anyone else to the
// sign-in page, which returns them here afterwards.
func (s *server) requireSignIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, err := s.current(r)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		if cur == nil {
			s.toSignIn(w, r)
			return
		}
		if cur.Session.Stage != mfagate.StageFull {
			rd := ""
			if r.Method == http.MethodGet {
				rd = r.URL.RequestURI()
			}
			step, err := s.pendingStep(r, cur)
			if err != nil {
				s.renderError(w, r, err)
				return
			}
			http.Redirect(w, r, s.withRd(step, rd), http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, withCurrent(r, cur))
	})
}

// pendingStep is the page of the step someone part-way through signing in
// has still to do. When the database cannot tell, the error is shown
// rather than a guess, which would only fail on the next page.
func (s *server) pendingStep(r *http.Request, cur *account.Current) (string, error) {
	d, _, err := s.Accounts.Decide(r.Context(), cur)
	if err != nil {
		return "", err
	}
	if d.Outcome == rollout.Challenge {
		return "/mfa/challenge", nil
	}
	return "/mfa/setup", nil
}

// safeRedirect returns where to send someone after sign-in: rd when it is
// a path on this site or a URL mfagate may send people to (see
// redirectable), and "/" otherwise, so mfagate is never an open redirect.
func (s *server) safeRedirect(rd string) string {
	if rd == "" || len(rd) > maxRedirectBytes || strings.ContainsAny(rd, "\\\r\n\t") {
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
	} else if out = u.String(); !s.redirectable(u) {
		return "/"
	}
	// Re-encoding can triple the length: the bound holds for what is
	// sent, so that the answer is kept when it comes back as rd.
	if len(out) > maxRedirectBytes {
		return "/"
	}
	return out
}

// maxRedirectBytes bounds a return address; longer ones are not kept.
const maxRedirectBytes = 2048

// redirectable reports whether an absolute URL is somewhere mfagate may
// send a browser: the base URL's host (any port, the base URL's scheme),
// or, when server.cookie_domain is set, that domain or a host under it
// over https (or over the base URL's scheme, which is http only for a
// demo on loopback). Nothing with a user name, nothing else: the
// protected applications share the cookie domain, strangers do not.
func (s *server) redirectable(u *url.URL) bool {
	if u.User != nil || u.Opaque != "" || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if !plainHost(host) {
		return false
	}
	if u.Scheme == s.BaseURL.Scheme && host == strings.ToLower(s.BaseURL.Hostname()) {
		return true
	}
	d := strings.ToLower(strings.TrimPrefix(s.CookieDomain, "."))
	if d == "" || (u.Scheme != "https" && u.Scheme != s.BaseURL.Scheme) {
		return false
	}
	return host == d || strings.HasSuffix(host, "."+d)
}

// plainHost reports whether host (lower case, without a port) is a DNS
// name or an IP address, with nothing a browser might read differently.
func plainHost(host string) bool {
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
