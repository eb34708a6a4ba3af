package config

import (
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strings"
)

// roleAll in an access rule lets every signed-in person through.
const roleAll = "all"

// validateForwardAuth checks each access rule and fills the defaults of
// path ("/") and roles ([all]).
func (c *Config) validateForwardAuth(v *validator) {
	rules := c.ForwardAuth.Rules
	first := make(map[string]int) // host and path → index of the first rule with them
	for i := range rules {
		r := &rules[i]
		p := fmt.Sprintf("forward_auth.rules[%d]", i)
		label := p
		if r.Host != "" {
			label = fmt.Sprintf("%s (host %q)", p, r.Host)
		}
		hostOK := true
		if why := checkRuleHost(r.Host); why != "" {
			v.fail(p+".host", "%s: host %s", label, why)
			hostOK = false
		}
		if r.Path == "" {
			r.Path = "/"
		}
		pathOK := true
		if why := checkRulePath(r.Path); why != "" {
			v.fail(p+".path", "%s: path %q %s", label, r.Path, why)
			pathOK = false
		}
		if len(r.Roles) == 0 {
			r.Roles = []string{roleAll}
		}
		for j, role := range r.Roles {
			if strings.TrimSpace(role) == "" {
				v.fail(fmt.Sprintf("%s.roles[%d]", p, j), "%s: roles has an empty entry", label)
			}
			c.checkRole(v, fmt.Sprintf("%s.roles[%d]", p, j), label, role, true)
		}
		if len(r.Roles) > 1 && slices.Contains(r.Roles, roleAll) {
			v.fail(p+".roles", "%s: roles lists %q with other roles; %q alone already lets everyone signed in through", label, roleAll, roleAll)
		}
		if hostOK && pathOK {
			key := strings.ToLower(r.Host) + " " + r.Path
			if j, dup := first[key]; dup {
				v.fail(p, "%s: forward_auth.rules[%d] has the same host and path and comes first, so this rule is never used", label, j)
			} else {
				first[key] = i
			}
		}
	}
	if len(rules) > 0 && len(c.Server.TrustedProxies) == 0 {
		v.warnings = append(v.warnings, "forward_auth.rules are matched against the URL your proxy forwards, which mfagate reads only from server.trusted_proxies; none are listed, so every signed-in person will be refused (403)")
	}
}

// checkRuleHost says what is wrong with a rule's host, or "".
func checkRuleHost(h string) string {
	if h == "" {
		return `is required: a host name such as app.example.com, a wildcard such as *.example.com, or "*" for any host`
	}
	if h == "*" {
		return ""
	}
	if a, err := netip.ParseAddr(h); err == nil && a.Zone() == "" {
		return "" // an IP address, as in http://127.0.0.1:8081/
	}
	name := strings.ToLower(strings.TrimPrefix(h, "*."))
	if strings.Contains(name, "*") {
		return fmt.Sprintf("%q may only have a wildcard as its first label, such as *.example.com", h)
	}
	if !validHostName(name) {
		return fmt.Sprintf("%q is not a host name such as app.example.com (write it without a scheme, port or path)", h)
	}
	return ""
}

// validHostName reports whether s (lower case) is a DNS name of one or
// more labels.
func validHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				return false
			}
		}
	}
	return true
}

// checkRulePath says what is wrong with a rule's path prefix, or "".
func checkRulePath(p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return "must start with /"
	case strings.ContainsAny(p, "?#%\\ \t\r\n"):
		return "must be a plain path, without a query, fragment, escapes or spaces"
	case p != "/" && path.Clean(p) != strings.TrimSuffix(p, "/"):
		return "must not contain . or .. segments or repeated slashes"
	}
	return ""
}
