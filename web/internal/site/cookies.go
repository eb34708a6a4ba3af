package site

import (
	"net/http"
	"strings"
	"time"

	"github.com/mfagate/mfagate/account"
)

// CookieSpec is how the session cookie is named and flagged.
//
// Normally it is "__Host-mfagate_session": the browser then insists on
// Secure, Path=/ and no Domain, so no other host can set or read it. With
// a cookie domain it must carry Domain, which __Host- forbids, so it is
// "__Secure-mfagate_session". The demo on loopback runs over plain HTTP,
// where browsers refuse both prefixes, so it drops prefix and Secure.
type CookieSpec struct {
	name   string
	domain string
	secure bool
	// device names the device-token cookie (account/device.go): kept to
	// mfagate's own host (__Host-), since no application needs it.
	device string
}

func newCookieSpec(c Config) CookieSpec {
	switch {
	case c.InsecureCookies:
		return CookieSpec{name: "mfagate_session", domain: c.CookieDomain, device: "mfagate_device"}
	case c.CookieDomain != "":
		return CookieSpec{name: "__Secure-mfagate_session", domain: c.CookieDomain, secure: true, device: "__Host-mfagate_device"}
	default:
		return CookieSpec{name: "__Host-mfagate_session", secure: true, device: "__Host-mfagate_device"}
	}
}

// SetDevice gives the browser a device token, for as long as it lasts.
func (c CookieSpec) SetDevice(w http.ResponseWriter, token string) {
	if token == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: c.device, Value: token, Path: "/", MaxAge: int(account.DeviceFor / time.Second),
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// DeviceToken returns the device-token cookie's value, or "".
func (c CookieSpec) DeviceToken(r *http.Request) string {
	if ck, err := r.Cookie(c.device); err == nil {
		return ck.Value
	}
	return ""
}

// Set gives the browser a session token. The cookie has no Max-Age: the
// server decides when a session ends, and it ends with the browser too.
func (c CookieSpec) Set(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: c.name, Value: token, Path: "/", Domain: c.domain,
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// Clear ends the session cookie in the browser.
func (c CookieSpec) Clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: c.name, Value: "", Path: "/", Domain: c.domain, MaxAge: -1,
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// Token returns the session cookie's value, or "". It reads the Cookie
// header in place instead of parsing every cookie into new values: it runs
// for every request forward-auth checks. Whatever it returns is checked
// as a token before any use.
func (c CookieSpec) Token(r *http.Request) string {
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
