package site

import (
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

// The rollout and roles in words, as the help page and the console
// write them.

// RolloutLoc is the zone phase dates are written in (the timeline's).
func (s *Site) RolloutLoc() *time.Location { return s.rolloutLoc }

// PhaseDate writes a phase's start: the day, and the time when it does
// not start at midnight.
func (s *Site) PhaseDate(t time.Time) string {
	t = t.In(s.RolloutLoc())
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
		return t.Format("2 January 2006")
	}
	return t.Format("2 January 2006 at 15:04 MST")
}

// ExtensionEnds writes when an extension stored as until runs out: the
// last day it covers, in the rollout's zone (account.ExtensionEnds), as
// the person's email and the command line write it.
func (s *Site) ExtensionEnds(until time.Time) string {
	return account.ExtensionEnds(until, s.RolloutLoc())
}

// Day writes a date as people read it, in the display zone.
func (s *Site) Day(t time.Time) string {
	return t.In(s.Loc()).Format("2 January 2006")
}

// RoleLabel names a role, or "all", for people reading the console.
func RoleLabel(role string) string {
	switch role {
	case "all":
		return "everyone"
	case mfagate.RoleAdmin:
		return "administrators"
	case mfagate.RoleUser:
		return "users"
	case mfagate.RoleOperator:
		return "operators"
	case mfagate.RoleSupport:
		return "support staff"
	}
	return role
}

// AudienceLabel names a phase's audience, as a label begins it.
func AudienceLabel(audience []string) string {
	var out []string
	for _, a := range audience {
		if a == "all" {
			return "Everyone"
		}
		out = append(out, RoleLabel(a))
	}
	s := strings.Join(out, ", ")
	if s == "" {
		return "Nobody"
	}
	return Capitalize(s)
}
