package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mfagate/mfagate/rollout"

	// Time zone names must resolve on machines without a zoneinfo
	// database, such as minimal containers.
	_ "time/tzdata"
)

// Allowed values in a rollout phase.
var (
	requirements = []string{"notify", "optional", "required"}
	methods      = []string{"email", "totp"}
)

// validateRollout checks the time zone and each phase's shape. How phases
// fit together (order, overlaps, audiences) is package rollout's business.
func (c *Config) validateRollout(v *validator) {
	r := &c.Rollout
	r.Location = time.UTC
	switch tz := r.Timezone; {
	case tz == "":
		v.fail("rollout.timezone", "rollout.timezone is required, such as Europe/London or UTC")
	case tz == "Local":
		v.fail("rollout.timezone", `rollout.timezone "Local" depends on the machine; name the zone, such as Europe/London`)
	default:
		loc, err := time.LoadLocation(tz)
		if err != nil {
			v.fail("rollout.timezone", "rollout.timezone %q is not a known time zone name such as Europe/London or UTC", tz)
		} else {
			r.Location = loc
		}
	}
	for i := range r.Phases {
		c.validatePhase(v, &r.Phases[i], i, r.Location)
	}
}

func (c *Config) validatePhase(v *validator, p *Phase, i int, loc *time.Location) {
	path := fmt.Sprintf("rollout.phases[%d]", i)
	label := path
	if p.Name != "" {
		label = fmt.Sprintf("%s (%q)", path, p.Name)
	}
	if strings.TrimSpace(p.Name) == "" {
		v.fail(path+".name", "%s: name is required", label)
	}

	p.Start = time.Time{}
	if p.Starts == "" {
		v.fail(path+".starts", "%s: starts is required: a date such as 2027-07-13 or an RFC 3339 time", label)
	} else if t, ok := ParseStart(p.Starts, loc); !ok {
		v.fail(path+".starts", "%s: starts %q is not a date such as 2027-07-13 or an RFC 3339 time such as 2027-07-13T09:00:00+01:00", label, p.Starts)
	} else {
		p.Start = t
	}

	if len(p.Audience) == 0 {
		v.fail(path+".audience", "%s: audience is required: the roles the phase applies to, or [all] for everyone", label)
	}
	for j, a := range p.Audience {
		if strings.TrimSpace(a) == "" {
			v.fail(fmt.Sprintf("%s.audience[%d]", path, j), "%s: audience has an empty entry", label)
		}
		c.checkRole(v, fmt.Sprintf("%s.audience[%d]", path, j), label, a, true)
	}

	switch {
	case p.Requirement == "":
		v.fail(path+".requirement", "%s: requirement is required (%s)", label, strings.Join(requirements, ", "))
	case !slices.Contains(requirements, p.Requirement):
		v.fail(path+".requirement", "%s: requirement %q is not one of %s", label, p.Requirement, strings.Join(requirements, ", "))
	}

	for j, m := range p.Methods {
		switch {
		case !slices.Contains(methods, m):
			v.fail(fmt.Sprintf("%s.methods[%d]", path, j), "%s: method %q is not one of %s", label, m, strings.Join(methods, ", "))
		case slices.Index(p.Methods, m) < j:
			v.fail(fmt.Sprintf("%s.methods[%d]", path, j), "%s: method %q is listed twice", label, m)
		}
	}
	for j, m := range p.Retire {
		if !slices.Contains(methods, m) {
			v.fail(fmt.Sprintf("%s.retire[%d]", path, j), "%s: retire names %q, which is not one of %s", label, m, strings.Join(methods, ", "))
		}
	}
	if len(p.Methods) == 0 && len(p.Retire) == 0 && (p.Requirement == "optional" || p.Requirement == "required") {
		v.fail(path+".methods", "%s: methods is required when requirement is %s: list email, totp or both", label, p.Requirement)
	}
	if d := p.DefaultMethod; d != "" {
		switch {
		case !slices.Contains(methods, d):
			v.fail(path+".default_method", "%s: default_method %q is not one of %s", label, d, strings.Join(methods, ", "))
		case len(p.Methods) > 0 && !slices.Contains(p.Methods, d):
			v.fail(path+".default_method", "%s: default_method %q is not one of the phase's methods (%s)", label, d, strings.Join(p.Methods, ", "))
		}
	}

	if n := p.Notice; n != nil {
		if strings.TrimSpace(n.Subject) == "" {
			v.fail(path+".notice.subject", "%s: notice.subject is required when a notice is set", label)
		}
		if strings.TrimSpace(n.Body) == "" {
			v.fail(path+".notice.body", "%s: notice.body is required when a notice is set", label)
		}
	}

	c.validatePacing(v, p, path, label, loc)

	p.ReminderOffsets = nil
	for j, s := range p.Reminders {
		d, err := parseDuration(s)
		if err != nil || d <= 0 {
			v.fail(fmt.Sprintf("%s.reminders[%d]", path, j), "%s: reminder %q is not a time before the start such as 7d or 12h", label, s)
			continue
		}
		p.ReminderOffsets = append(p.ReminderOffsets, d)
	}
}

// validatePacing reads a phase's grace window and capped skips. How they
// fit the phase (grace only on a required phase, then with max_skips) is
// package rollout's check.
func (c *Config) validatePacing(v *validator, p *Phase, path, label string, loc *time.Location) {
	p.GraceFor, p.GraceEnd, p.RepromptFor = 0, time.Time{}, 0
	if p.Grace != "" {
		if d, err := parseDuration(p.Grace); err != nil || d <= 0 {
			v.fail(path+".grace", "%s: grace %q is not a length of time such as 14d", label, p.Grace)
		} else {
			p.GraceFor = d
		}
	}
	if p.GraceUntil != "" {
		if d, err := time.Parse(time.DateOnly, p.GraceUntil); err != nil {
			v.fail(path+".grace_until", "%s: grace_until %q is not a date such as 2027-08-31", label, p.GraceUntil)
		} else {
			p.GraceEnd = rollout.StartOfDay(d.AddDate(0, 0, 1), loc) // through the whole of that day
		}
	}
	if p.MaxSkips < 0 {
		v.fail(path+".max_skips", "%s: max_skips %d is negative; it counts skips, such as 3", label, p.MaxSkips)
	}
	if p.RepromptAfter != "" {
		if d, err := parseDuration(p.RepromptAfter); err != nil || d <= 0 {
			v.fail(path+".reprompt_after", "%s: reprompt_after %q is not a length of time such as 1d", label, p.RepromptAfter)
		} else {
			p.RepromptFor = d
		}
	}
	if p.Then != "" && p.Then != "required" {
		v.fail(path+".then", "%s: then %q is not required, the only requirement that can follow the last skip", label, p.Then)
	}
}

// ParseStart reads a date, which means the first moment of that day in
// loc (rollout.StartOfDay), or an RFC 3339 time, which carries its own
// offset. Phase starts in the file and the command line's dates and
// times are read by it.
func ParseStart(s string, loc *time.Location) (time.Time, bool) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return rollout.StartOfDay(d, loc), true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// Plan returns the validated rollout the phases describe: each phase's
// shape is checked by Validate, how they fit together by rollout. Its
// errors name the phase.
func (c *Config) Plan() (*rollout.Rollout, error) {
	r := &rollout.Rollout{Location: c.Rollout.Location}
	if r.Location == nil {
		r.Location = time.UTC
	}
	for _, p := range c.Rollout.Phases {
		req, err := rollout.ParseRequirement(p.Requirement)
		if err != nil {
			return nil, fmt.Errorf("rollout phase %q: %w", p.Name, err)
		}
		ph := rollout.Phase{
			Name: p.Name, Start: p.Start, Audience: p.Audience, Requirement: req,
			Methods: p.Methods, DefaultMethod: p.DefaultMethod, Reminders: p.ReminderOffsets,
			Grace: p.GraceFor, GraceUntil: p.GraceEnd, MaxSkips: p.MaxSkips, RepromptAfter: p.RepromptFor,
			Retire: p.Retire,
		}
		if len(ph.Methods) == 0 && len(ph.Retire) > 0 {
			ph.Methods = rollout.Remaining(ph.Retire) // the methods left
		}
		if p.Then != "" {
			if ph.Then, err = rollout.ParseRequirement(p.Then); err != nil {
				return nil, fmt.Errorf("rollout phase %q: then: %w", p.Name, err)
			}
		}
		if p.Notice != nil {
			ph.Notice = &rollout.Notice{Subject: p.Notice.Subject, Body: p.Notice.Body}
		}
		r.Phases = append(r.Phases, ph)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}
