package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Validate checks every key and, when they parse, fills the parsed fields
// (Server.ParsedBaseURL, Server.TrustedProxyPrefixes, Mail.FromAddress,
// Rollout.Location, each Phase's Start and ReminderOffsets). It reports all
// the problems it finds in one *Error, each naming its key and, for a
// Config from Parse or Load, the file line or environment variable the
// value came from. Non-fatal findings are appended to Warnings.
//
// server.base_url may be empty here, since only serving needs it; see
// CheckServe.
func (c *Config) Validate() error {
	v := &validator{src: c.src}
	c.validateRoles(v)
	c.validateServer(v)
	c.validateStores(v)
	c.validateMail(v)
	c.validateMFA(v)
	c.validateThrottle(v)
	c.validateRetention(v)
	c.validateRollout(v)
	c.validateAccounts(v)
	c.validateForwardAuth(v)
	for _, w := range v.warnings {
		if !slices.Contains(c.Warnings, w) {
			c.Warnings = append(c.Warnings, w)
		}
	}
	if len(v.problems) > 0 {
		return &Error{Problems: v.problems}
	}
	return nil
}

// CheckServe reports what running the server needs beyond Validate: the
// public base URL.
func (c *Config) CheckServe() error {
	if c.Server.BaseURL == "" {
		return &Error{Problems: []Problem{c.src.problem("server.base_url",
			"server.base_url is required to serve: the public address people open, such as https://login.example.com")}}
	}
	return nil
}

type validator struct {
	src      sources
	problems []Problem
	warnings []string
}

func (v *validator) fail(path, format string, args ...any) {
	v.problems = append(v.problems, v.src.problem(path, format, args...))
}

// oneOf checks that a required value is in allowed.
func (v *validator) oneOf(path, value, hint string, allowed ...string) {
	switch {
	case value == "":
		v.fail(path, "%s is required (%s)", path, hint)
	case !slices.Contains(allowed, value):
		v.fail(path, "%s %q is not one of %s", path, value, strings.Join(allowed, ", "))
	}
}

func (v *validator) durationRange(path string, d, lo, hi time.Duration) bool {
	if d < lo || d > hi {
		v.fail(path, "%s is %s; it must be between %s and %s", path, formatDuration(d), formatDuration(lo), formatDuration(hi))
		return false
	}
	return true
}

func (v *validator) intRange(path string, n, lo, hi int) {
	if n < lo || n > hi {
		v.fail(path, "%s is %d; it must be between %d and %d", path, n, lo, hi)
	}
}

const day = 24 * time.Hour

func (c *Config) validateServer(v *validator) {
	s := &c.Server
	if s.Addr == "" {
		v.fail("server.addr", "server.addr is required, such as 127.0.0.1:8080")
	} else if _, port, err := net.SplitHostPort(s.Addr); err != nil || !validPort(port, 0) {
		v.fail("server.addr", "server.addr %q is not a listen address such as 127.0.0.1:8080 or :8080", s.Addr)
	}
	if s.MetricsAddr != "" {
		host, port, err := net.SplitHostPort(s.MetricsAddr)
		switch {
		case err != nil || !validPort(port, 0):
			v.fail("server.metrics_addr", "server.metrics_addr %q is not a listen address such as 127.0.0.1:9090", s.MetricsAddr)
		case port != "0" && s.MetricsAddr == s.Addr:
			v.fail("server.metrics_addr", "server.metrics_addr %q is server.addr too: give the metrics a port of their own, such as 127.0.0.1:9090", s.MetricsAddr)
		case !isLoopback(host):
			v.warnings = append(v.warnings, fmt.Sprintf("server.metrics_addr %q is reachable from other machines: make sure a firewall lets only your Prometheus reach it", s.MetricsAddr))
		}
	}

	s.ParsedBaseURL = nil
	if s.BaseURL != "" {
		if u, why := parseBaseURL(s.BaseURL); why != "" {
			v.fail("server.base_url", "server.base_url %q %s", s.BaseURL, why)
		} else {
			s.ParsedBaseURL = u
			if u.Scheme == "http" && !isLoopback(u.Hostname()) {
				v.warnings = append(v.warnings, fmt.Sprintf("server.base_url %q uses http on a host that is not loopback; browsers will not send the Secure session cookie there, so use https", s.BaseURL))
			}
		}
	}

	if s.CookieDomain != "" {
		d := strings.ToLower(strings.TrimPrefix(s.CookieDomain, "."))
		if !validDomain(d) {
			v.fail("server.cookie_domain", "server.cookie_domain %q is not a domain name such as .example.com", s.CookieDomain)
		} else if u := s.ParsedBaseURL; u != nil {
			if host := strings.ToLower(u.Hostname()); host != d && !strings.HasSuffix(host, "."+d) {
				v.fail("server.cookie_domain", "server.cookie_domain %q does not contain the host of server.base_url (%s), so browsers would not send the session cookie to mfagate", s.CookieDomain, host)
			}
		}
	}

	s.TrustedProxyPrefixes = nil
	for i, p := range s.TrustedProxies {
		prefix, err := parseProxy(p)
		if err != nil {
			v.fail(fmt.Sprintf("server.trusted_proxies[%d]", i), "server.trusted_proxies: %q is not an IP address or CIDR range such as 10.0.0.0/8", p)
			continue
		}
		s.TrustedProxyPrefixes = append(s.TrustedProxyPrefixes, prefix)
	}

	if s.DevInsecureCookies {
		if u := s.ParsedBaseURL; u == nil || u.Scheme != "http" || !isLoopback(u.Hostname()) {
			v.fail("server.dev_insecure_cookies", "server.dev_insecure_cookies is only allowed when server.base_url is http:// on a loopback host such as http://127.0.0.1:8080, because anywhere else a cookie without the Secure flag can be read on the network")
		}
	}

	v.durationRange("server.shutdown_delay", s.ShutdownDelay, 0, time.Minute)
	if n := s.SessionCacheSize; n < 1000 || n > 10_000_000 {
		v.fail("server.session_cache_size", "server.session_cache_size is %d; it must be between 1000 and 10000000 sessions (about 0.35 KB of memory each)", n)
	}
	idleOK := v.durationRange("server.session_idle_timeout", s.SessionIdleTimeout, time.Minute, 30*day)
	maxOK := v.durationRange("server.session_max_age", s.SessionMaxAge, time.Minute, 30*day)
	if idleOK && maxOK && s.SessionIdleTimeout > s.SessionMaxAge {
		v.fail("server.session_idle_timeout", "server.session_idle_timeout (%s) must not be longer than server.session_max_age (%s)",
			formatDuration(s.SessionIdleTimeout), formatDuration(s.SessionMaxAge))
	}
}

// parseBaseURL returns the parsed URL, or why it is not acceptable.
func parseBaseURL(s string) (*url.URL, string) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, "is not a valid URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, "must be an absolute URL starting with https:// (or http:// for local testing)"
	case u.Opaque != "" || u.Hostname() == "":
		return nil, "has no host name"
	case u.User != nil:
		return nil, "must not contain a user name or password"
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, "must not have a query (?...) or a fragment (#...)"
	case u.Port() != "" && !validPort(u.Port(), 1):
		return nil, "has an invalid port"
	}
	return u, ""
}

func validPort(s string, lo int) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= lo && n <= 65535 && s == strconv.Itoa(n)
}

func isLoopback(host string) bool {
	host = strings.ToLower(host)
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// validDomain reports whether d (lower case, without a leading dot) is a
// DNS name of at least two labels whose last label is not numeric.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(d) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				return false
			}
		}
	}
	_, err := strconv.Atoi(labels[len(labels)-1])
	return err != nil
}

// parseProxy reads an IP address or CIDR range; a bare address becomes a
// single-address prefix.
func parseProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("zones are not allowed")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func (c *Config) validateStores(v *validator) {
	v.oneOf("database.driver", c.Database.Driver, "sqlite or postgres", "sqlite", "postgres")
	if c.Database.DSN == "" {
		v.fail("database.dsn", "database.dsn is required (for sqlite a file path, for postgres a connection URL)")
	}
	c.validatePool(v)
	if c.Secrets.KeyFile == "" {
		v.fail("secrets.key_file", "secrets.key_file is required (create the file with: mfagate keygen FILE)")
	}
}

func (c *Config) validateMail(v *validator) {
	m := &c.Mail
	m.FromAddress = nil
	if m.From == "" {
		v.fail("mail.from", `mail.from is required, such as "Example Sign-in <signin@example.com>"`)
	} else if a, err := mail.ParseAddress(m.From); err != nil {
		v.fail("mail.from", `mail.from %q is not an email address such as "Example Sign-in <signin@example.com>"`, m.From)
	} else {
		m.FromAddress = a
	}
	v.oneOf("mail.driver", m.Driver, "smtp, or outbox to keep mail in the database for the /dev/outbox page", "smtp", "outbox")
	v.intRange("mail.smtp.port", m.SMTP.Port, 1, 65535)
	v.oneOf("mail.smtp.tls", m.SMTP.TLS, "starttls, tls or none", "starttls", "tls", "none")
	v.durationRange("mail.retry_for", m.RetryFor, time.Hour, 30*24*time.Hour)
	v.intRange("mail.max_per_second", m.MaxPerSecond, 0, 100000)
	v.intRange("mail.connections", m.Connections, 1, 32)
	switch m.Driver {
	case "smtp":
		if m.SMTP.Host == "" {
			v.fail("mail.smtp.host", "mail.smtp.host is required when mail.driver is smtp")
		}
		if (m.SMTP.Username == "") != (m.SMTP.Password == "") {
			v.fail("mail.smtp", "mail.smtp.username and mail.smtp.password must be set together, or both left out")
		}
		if m.SMTP.TLS == "none" && m.SMTP.Password != "" {
			v.warnings = append(v.warnings, "mail.smtp.tls is none, so the SMTP password is sent unencrypted")
		}
	case "outbox":
		if m.SMTP.Host != "" {
			v.warnings = append(v.warnings, "mail.smtp is ignored because mail.driver is outbox")
		}
	}
}

func (c *Config) validateMFA(v *validator) {
	m := &c.MFA
	switch {
	case strings.TrimSpace(m.Issuer) == "":
		v.fail("mfa.issuer", "mfa.issuer is required: the name authenticator apps show next to the code")
	case strings.Contains(m.Issuer, ":"):
		v.fail("mfa.issuer", "mfa.issuer %q must not contain a colon, which authenticator apps read as a separator", m.Issuer)
	}
	v.durationRange("mfa.email.code_ttl", m.Email.CodeTTL, time.Minute, time.Hour)
	v.intRange("mfa.email.max_attempts", m.Email.MaxAttempts, 1, 10)
	v.durationRange("mfa.email.resend_cooldown", m.Email.ResendCooldown, time.Second, time.Hour)
	v.intRange("mfa.email.hourly_cap", m.Email.HourlyCap, 1, 100)
	if s := m.TOTP.SkewSteps; s != 0 && s != 1 {
		v.fail("mfa.totp.skew_steps", "mfa.totp.skew_steps is %d; it must be 0 or 1 (at most one 30-second step either side)", s)
	}
	v.intRange("mfa.recovery_codes.count", m.RecoveryCodes.Count, 8, 20)
	if m.Checkup != 0 { // 0 turns the check-up off
		v.durationRange("mfa.checkup", m.Checkup, day, 365*day)
	}
}

func (c *Config) validateThrottle(v *validator) {
	t := &c.Throttle
	v.intRange("throttle.delay_after", t.DelayAfter, 1, 100)
	v.durationRange("throttle.max_delay", t.MaxDelay, time.Second, 10*time.Minute)
	v.intRange("throttle.lock_after", t.LockAfter, 3, 100)
	v.durationRange("throttle.lock_for", t.LockFor, time.Minute, 24*time.Hour)
	// NIST SP 800-63B allows at most 100 consecutive failures.
	v.intRange("throttle.hard_lock_after", t.HardLockAfter, 10, 100)
	if t.HardLockAfter < t.LockAfter {
		v.fail("throttle.hard_lock_after", "throttle.hard_lock_after (%d) must not be below throttle.lock_after (%d)", t.HardLockAfter, t.LockAfter)
	}
	v.intRange("throttle.address_delay_after", t.AddressDelayAfter, 1, 10000)
}

func (c *Config) validateRetention(v *validator) {
	r := &c.Retention
	v.durationRange("retention.sent_mail", r.SentMail, 24*time.Hour, 3650*24*time.Hour)
	// Shorter than the hour an address's run lasts, or than a lock, and
	// the count would be forgotten while it still matters.
	v.durationRange("retention.idle_throttles", r.IdleThrottles, max(time.Hour, c.Throttle.LockFor), 365*24*time.Hour)
}

func (c *Config) validateAccounts(v *validator) {
	v.durationRange("invite.ttl", c.Invite.TTL, time.Hour, 30*24*time.Hour)
	if e := c.Support.Email; e != "" {
		if _, err := mail.ParseAddress(e); err != nil {
			v.fail("support.email", "support.email %q is not an email address", e)
		}
	}
	first := make(map[string]int)
	for i, a := range c.Admin.Bootstrap {
		path := fmt.Sprintf("admin.bootstrap[%d]", i)
		label := path
		if a.Username != "" {
			label = fmt.Sprintf("%s (%q)", path, a.Username)
		}
		if strings.TrimSpace(a.Username) == "" {
			v.fail(path+".username", "%s: username is required", label)
		} else if j, dup := first[a.Username]; dup {
			v.fail(path+".username", "%s: username is also used by admin.bootstrap[%d]", label, j)
		} else {
			first[a.Username] = i
		}
		if a.Email == "" {
			v.fail(path+".email", "%s: email is required", label)
		} else if _, err := mail.ParseAddress(a.Email); err != nil {
			v.fail(path+".email", "%s: email %q is not an email address", label, a.Email)
		}
		for j, r := range a.Roles {
			if strings.TrimSpace(r) == "" {
				v.fail(fmt.Sprintf("%s.roles[%d]", path, j), "%s: roles has an empty entry", label)
			}
			c.checkRole(v, fmt.Sprintf("%s.roles[%d]", path, j), label, r, false)
		}
		if a.PasswordFile == "" {
			v.fail(path+".password_file", "%s: password_file is required: a file holding the first password", label)
		}
	}
}
