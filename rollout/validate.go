package rollout

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
)

// Validate checks that the rollout is coherent and returns every problem
// at once as one *mfagate.Error with code EINVALID, the problems joined by
// "; ", each naming its phase as in `phase 3 ("Email verification
// required"): ...` (phases are numbered from 1, as people count them).
//
// A rollout with no phases is valid: MFA is then off for everyone who has
// not set up a factor. A reminder that falls before the previous phase's
// start is fine: it only reaches people who have not enrolled.
func (r *Rollout) Validate() error {
	if r == nil {
		return mfagate.Errorf(mfagate.EINVALID, "rollout is missing")
	}
	var v problems
	loc := r.Location
	if loc == nil {
		v.add("rollout: location (time zone) is required")
		loc = time.UTC
	}
	for i := range r.Phases {
		validatePhase(&v, r.Phases, i, loc)
	}
	if len(v) == 0 {
		return nil
	}
	return mfagate.Errorf(mfagate.EINVALID, "%s", strings.Join(v, "; "))
}

type problems []string

func (v *problems) add(format string, args ...any) {
	*v = append(*v, fmt.Sprintf(format, args...))
}

// phaseLabel names phase i (from 0) the way people count: `phase 3 ("x")`.
func phaseLabel(phases []Phase, i int) string {
	if strings.TrimSpace(phases[i].Name) == "" {
		return fmt.Sprintf("phase %d", i+1)
	}
	return fmt.Sprintf("phase %d (%q)", i+1, phases[i].Name)
}

func validatePhase(v *problems, phases []Phase, i int, loc *time.Location) {
	p := &phases[i]
	at := phaseLabel(phases, i)

	if strings.TrimSpace(p.Name) == "" {
		v.add("%s: name is empty", at)
	}
	switch {
	case p.Start.IsZero():
		v.add("%s: start is not set", at)
	case i > 0 && !phases[i-1].Start.IsZero() && !p.Start.After(phases[i-1].Start):
		v.add("%s: starts %s, not after %s which starts %s; list phases in start order, each later than the one before",
			at, showTime(p.Start, loc), phaseLabel(phases, i-1), showTime(phases[i-1].Start, loc))
	}

	if len(p.Audience) == 0 {
		v.add("%s: audience is empty; list roles, or all for everyone", at)
	}
	for j, a := range p.Audience {
		switch {
		case strings.TrimSpace(a) == "":
			v.add("%s: audience has an empty entry", at)
		case slices.Index(p.Audience, a) < j:
			v.add("%s: audience lists %q twice", at, a)
		}
	}

	switch {
	case p.Requirement == None:
		v.add("%s: requirement is not set; use notify, optional or required", at)
	case p.Requirement < None || p.Requirement > Required:
		v.add("%s: requirement %d is not one of notify, optional, required", at, int(p.Requirement))
	}

	for j, m := range p.Methods {
		switch {
		case !slices.Contains(knownMethods, m):
			v.add("%s: method %q is not one of %s", at, m, strings.Join(knownMethods, ", "))
		case slices.Index(p.Methods, m) < j:
			v.add("%s: method %q is listed twice", at, m)
		}
	}
	if len(p.Methods) == 0 && (p.Requirement == Optional || p.Requirement == Required) {
		v.add("%s: methods is empty; a phase that is %s needs at least one of %s", at, p.Requirement, strings.Join(knownMethods, ", "))
	}
	if d := p.DefaultMethod; d != "" {
		switch {
		case p.Requirement == Notify:
			v.add("%s: default_method %q is set on a notify phase, which asks nobody to set up a factor", at, d)
		case !slices.Contains(p.Methods, d):
			v.add("%s: default_method %q is not one of the phase's methods (%s)", at, d, strings.Join(p.Methods, ", "))
		}
	}

	if n := p.Notice; n != nil {
		if strings.TrimSpace(n.Subject) == "" {
			v.add("%s: notice has no subject", at)
		}
		if strings.TrimSpace(n.Body) == "" {
			v.add("%s: notice has no body", at)
		}
	}

	for j, d := range p.Reminders {
		switch {
		case d <= 0:
			v.add("%s: reminder %s is not a time before the start; reminders count back from the start and must be positive, such as 7d or 12h", at, showDuration(d))
		case slices.Index(p.Reminders, d) < j:
			v.add("%s: reminder %s is listed twice", at, showDuration(d))
		}
	}
}

// showTime prints an instant in the rollout's zone, as operators wrote it.
func showTime(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format("2006-01-02 (midnight MST)")
	}
	return t.Format("2006-01-02 15:04:05 MST")
}

// showDuration prints whole days the way config spells them ("7d").
func showDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d != 0 && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}
