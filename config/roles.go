package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
)

// Role is one role this installation gives people (the top-level roles
// key), with what the console says of it. Every place that takes roles
// (the command line, a CSV import, the API, the console, rollout
// audiences, forward-auth's rules, admin.bootstrap) refuses any other, so
// that a mistyped role is caught where it is written instead of showing
// up later in a forecast as a role nobody has.
type Role struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
}

// staffRoles are known whatever roles says: the console's own.
var staffRoles = []Role{
	{mfagate.RoleOperator, "Runs mfagate: the rollout, configuration and staff accounts"},
	{mfagate.RoleSupport, "Helps people: resets lost factors, unlocks and extends"},
}

// defaultRoles are the roles of an installation that names none.
var defaultRoles = []Role{
	{mfagate.RoleAdmin, "Administrators of the organisation's systems, usually asked for MFA first"},
	{mfagate.RoleUser, "Everyone else"},
}

// roleNameRE is account's rule for a role's name.
var roleNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// KnownRoles returns the roles of roles, and operator and support, each
// once, in the order written (staff roles last unless written).
func (c *Config) KnownRoles() []Role {
	out := slices.Clone(c.Roles)
	for _, s := range staffRoles {
		if !slices.ContainsFunc(out, func(r Role) bool { return r.Name == s.Name }) {
			out = append(out, s)
		}
	}
	return out
}

// RoleHelp are KnownRoles' descriptions, by name.
func (c *Config) RoleHelp() map[string]string {
	out := make(map[string]string)
	for _, r := range c.KnownRoles() {
		out[r.Name] = r.Description
	}
	return out
}

// RoleNames are KnownRoles' names.
func (c *Config) RoleNames() []string {
	var names []string
	for _, r := range c.KnownRoles() {
		names = append(names, r.Name)
	}
	return names
}

func (c *Config) validateRoles(v *validator) {
	if len(c.Roles) == 0 {
		v.fail("roles", "roles is empty: list the roles people are given, such as admin and user")
	}
	seen := map[string]int{}
	for i, r := range c.Roles {
		path := fmt.Sprintf("roles[%d]", i)
		switch {
		case r.Name == roleAll:
			v.fail(path+".name", "%s: %q is kept for rollout audiences and access rules, where it means everyone: choose another name", path, roleAll)
		case !roleNameRE.MatchString(r.Name):
			v.fail(path+".name", "%s: name %q must start with a lowercase letter and use only lowercase letters, numbers, _ and - (up to 32)", path, r.Name)
		}
		if j, dup := seen[r.Name]; dup {
			v.fail(path+".name", "%s: %q is listed twice (first at roles[%d])", path, r.Name, j)
		} else {
			seen[r.Name] = i
		}
		if utf8.RuneCountInString(r.Description) > 200 || strings.ContainsFunc(r.Description, unicode.IsControl) {
			v.fail(path+".description", "%s: description must be 200 characters or fewer, on one line", path)
		}
	}
}

// checkRole fails path unless role is known (or, where allowAll, "all"),
// naming the closest known role when there is one.
func (c *Config) checkRole(v *validator, path, label, role string, allowAll bool) {
	role = strings.TrimSpace(role)
	names := c.RoleNames()
	if role == "" || slices.Contains(names, role) || (allowAll && role == roleAll) {
		return
	}
	msg := fmt.Sprintf("%s: role %q is not one of the roles this installation uses (%s)", label, role, strings.Join(names, ", "))
	if s := mfagate.Suggest(role, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else {
		msg += "; add it to roles if it is new"
	}
	v.fail(path, "%s", msg)
}
