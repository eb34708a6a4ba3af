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

	validatePacing(v, phases, i, loc)
	validateRetire(v, phases, i)

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

// validatePacing checks a phase's grace window and capped skips: each on
// the kind of phase it is for, and a window that ends before the next
// phase asking more of the same people takes over.
func validatePacing(v *problems, phases []Phase, i int, loc *time.Location) {
	p := &phases[i]
	at := phaseLabel(phases, i)
	switch {
	case p.Grace < 0:
		v.add("%s: grace %s is negative", at, showDuration(p.Grace))
	case p.Grace > 0 && p.Requirement != Required:
		v.add("%s: grace is set, but the phase is %s; only a required phase gives each person time before it is enforced", at, p.Requirement)
	}
	if !p.GraceUntil.IsZero() {
		switch {
		case p.Grace == 0:
			v.add("%s: grace_until is set without grace; set grace too, such as 14d", at)
		case !p.Start.IsZero() && !p.GraceUntil.After(p.Start):
			v.add("%s: grace_until %s is not after the phase starts (%s)", at, showTime(p.GraceUntil, loc), showTime(p.Start, loc))
		}
	}
	if p.Grace > 0 && !p.Start.IsZero() {
		for j := i + 1; j < len(phases); j++ {
			q := &phases[j]
			if q.Start.IsZero() || !overlap(p.Audience, q.Audience) || !stricter(q, p) {
				continue
			}
			if end := after(p.Start, p.Grace, loc); end.After(q.Start) {
				v.add("%s: grace %s runs past the start of %s (%s), which asks more of the same people; make the grace shorter than the %s between them",
					at, showDuration(p.Grace), phaseLabel(phases, j), showTime(q.Start, loc), showDays(q.Start.Sub(p.Start)))
			}
			break
		}
	}

	if p.MaxSkips < 0 {
		v.add("%s: max_skips %d is negative", at, p.MaxSkips)
	}
	if p.RepromptAfter < 0 {
		v.add("%s: reprompt_after %s is negative", at, showDuration(p.RepromptAfter))
	}
	if (p.MaxSkips != 0 || p.RepromptAfter != 0) && p.Requirement != Optional {
		v.add("%s: max_skips and reprompt_after are for an optional phase, where setup can be skipped; this one is %s", at, p.Requirement)
	}
	switch {
	case p.MaxSkips > 0 && p.Then == None:
		v.add("%s: max_skips is set without then; say what applies after the last skip: then: required", at)
	case p.Then != None && p.MaxSkips == 0:
		v.add("%s: then is set without max_skips; say after how many skips it applies, such as max_skips: 3", at)
	case p.Then != None && p.Then != Required:
		v.add("%s: then %s does not ask more than optional; after the last skip only required makes sense", at, p.Then)
	}
}

// validateRetire checks a phase's retired methods: known ones, each once,
// on a phase that asks for a factor, leaving at least one method.
func validateRetire(v *problems, phases []Phase, i int) {
	p := &phases[i]
	if len(p.Retire) == 0 {
		return
	}
	at := phaseLabel(phases, i)
	if p.Requirement == Notify {
		v.add("%s: retire is set on a notify phase, which asks nobody for a factor", at)
	}
	for j, m := range p.Retire {
		switch {
		case !slices.Contains(knownMethods, m):
			v.add("%s: retire names %q, which is not one of %s", at, m, strings.Join(knownMethods, ", "))
		case slices.Index(p.Retire, m) < j:
			v.add("%s: retire lists %q twice", at, m)
		case slices.Contains(p.Methods, m):
			v.add("%s: %q is both retired and one of the phase's methods; a retired method no longer counts", at, m)
		case p.DefaultMethod == m:
			v.add("%s: default_method %q is retired by the same phase", at, m)
		}
	}
	left := 0
	for _, m := range knownMethods {
		if !slices.Contains(p.Retire, m) {
			left++
		}
	}
	if left == 0 {
		v.add("%s: retire leaves no method to sign in with; keep at least one of %s", at, strings.Join(knownMethods, ", "))
	}
}

// Remaining is the known methods without those retired, in the usual
// order: what a phase that retires some and names no methods asks for.
func Remaining(retire []string) []string {
	var out []string
	for _, m := range knownMethods {
		if !slices.Contains(retire, m) {
			out = append(out, m)
		}
	}
	return out
}

// reaches reports whether a phase for audience reaches everyone in a
// (a role, or "all").
func reaches(audience []string, a string) bool {
	return slices.Contains(audience, Everyone) || a != Everyone && slices.Contains(audience, a)
}

// overlap reports whether two audiences share anyone: a role, or "all".
func overlap(a, b []string) bool {
	for _, x := range a {
		if x == Everyone || slices.Contains(b, x) || slices.Contains(b, Everyone) {
			return true
		}
	}
	return false
}

// showDays prints a span as whole days, or as a duration below a day.
func showDays(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day {
		n := int((d + day/2) / day)
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	return d.String()
}

// WarnBefore is how long before a required phase its audience should
// first hear of it: a week, as the best rollouts give.
const WarnBefore = 7 * 24 * time.Hour

// Warnings lists what is allowed but likely a mistake: a required phase
// whose audience hears of it (a notice of an earlier phase for the same
// people, or a reminder of its own) less than a week before it starts,
// with no grace window of a week or more to make up for it.
func (r *Rollout) Warnings() []string {
	if r == nil {
		return nil
	}
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	var out []string
	for i := range r.Phases {
		p := &r.Phases[i]
		if p.Requirement != Required || p.Start.IsZero() || p.Grace >= WarnBefore {
			continue
		}
		at := phaseLabel(r.Phases, i)
		var reminded time.Time // the first reminder of its own
		for _, d := range p.Reminders {
			if t := p.Start.Add(-d); d > 0 && (reminded.IsZero() || t.Before(reminded)) {
				reminded = t
			}
		}
		// Each part of the audience hears first from the phase's own
		// reminders or from the notice of an earlier phase reaching it.
		for _, a := range p.Audience {
			first := reminded
			for j := 0; j < i; j++ {
				q := &r.Phases[j]
				if q.Notice != nil && !q.Start.IsZero() && reaches(q.Audience, a) && (first.IsZero() || q.Start.Before(first)) {
					first = q.Start
				}
			}
			who := fmt.Sprintf("its audience (%s)", a)
			if len(p.Audience) == 1 {
				who = "its audience"
			}
			if first.IsZero() {
				out = append(out, fmt.Sprintf("%s: %s is emailed nothing about it before it starts; add a reminder such as 7d, an earlier phase with a notice, or a grace of at least 7d", at, who))
				break
			}
			if p.Start.Sub(first) < WarnBefore {
				out = append(out, fmt.Sprintf("%s: %s first hears of it %s before it starts (%s); give them at least 7 days: a reminder of 7d, an earlier notice, or a grace of at least 7d",
					at, who, showDays(p.Start.Sub(first)), showTime(first, loc)))
				break
			}
		}
	}
	return out
}
