package rollout

import (
	"slices"
	"time"
)

// Decide returns what person p meets after the password step at instant
// now. It is a pure function of its arguments: it reads no clock and
// allocates nothing, so it is cheap enough to call at every sign-in.
//
// The rules (SPEC section 3):
//   - A phase applies to p when its audience contains "all" or one of p's
//     roles. It is in force from Start on (at exactly Start, not a
//     nanosecond before) and stays in force.
//   - Active is the strictest phase in force for p; on a tie, the later
//     one in the list.
//   - Someone with a confirmed factor is always challenged, even with no
//     phase at all. Under a Required phase only their methods among the
//     phase's Methods count; with none of those they must enroll one that
//     does (RequireEnrollment), unless an extension runs, in which case they
//     are challenged with what they have.
//   - Someone without a factor is allowed in (no phase, or Notify), offered
//     setup (Optional, or Required during an extension) or made to set up
//     (Required).
//   - Next is the earliest phase, not yet started, applying to p, that is
//     stricter than Active; under a Required phase, a later Required phase
//     asking for different methods also counts.
//
// Decide expects a rollout that passed Validate but never panics on one
// that did not; a requirement above Required counts as Required. A nil
// rollout is an empty one.
func Decide(r *Rollout, p Person, now time.Time) Decision {
	var phases []Phase
	if r != nil {
		phases = r.Phases
	}
	var d Decision
	for i := range phases {
		ph := &phases[i]
		if ph.Start.After(now) || !applies(ph, p.Roles) {
			continue
		}
		if d.Active == nil || level(ph) >= level(d.Active) {
			d.Active = ph
		}
	}
	d.Next = next(phases, d.Active, p.Roles, now)

	req := None
	var pace Pace
	if d.Active != nil {
		req = level(d.Active)
		if p.Pace.Phase == d.Active.Name {
			pace = p.Pace
		}
	}
	var loc *time.Location
	if r != nil {
		loc = r.Location
	}
	// Capped skips: once they are used up, the phase's Then applies.
	if req == Optional && d.Active.MaxSkips > 0 {
		d.Capped = true
		if d.SkipsLeft = d.Active.MaxSkips - pace.Skips; d.SkipsLeft <= 0 {
			d.SkipsLeft, d.SkipsUsed = 0, true
			req = max(req, min(d.Active.Then, Required))
		}
	}
	extended := req == Required && now.Before(p.ExtendedUntil)
	// A grace window: the later of the start and the first time shown,
	// now if never; it ends at GraceUntil at the latest.
	grace := false
	if req == Required && !d.SkipsUsed && d.Active.Grace > 0 {
		from := pace.Shown
		if from.IsZero() {
			from, d.Unshown = now, true
		}
		if from.Before(d.Active.Start) {
			from = d.Active.Start
		}
		end := after(from, d.Active.Grace, loc)
		if g := d.Active.GraceUntil; !g.IsZero() && g.Before(end) {
			end = g
		}
		if grace = now.Before(end); grace {
			d.Deadline = end
		} else {
			d.Unshown = false
		}
	}
	if extended && p.ExtendedUntil.After(d.Deadline) {
		d.Deadline = p.ExtendedUntil
	}
	soft := extended || grace

	if len(p.Methods) > 0 {
		d.Outcome, d.Methods = Challenge, p.Methods
		d.Capped, d.SkipsLeft, d.SkipsUsed = false, 0, false // they have set up: nothing to skip
		if req != Required {
			d.Unshown = false
			return d
		}
		switch m := qualifying(p.Methods, d.Active.Methods); {
		case len(m) > 0:
			d.Methods, d.Unshown, d.Deadline = m, false, time.Time{}
		case soft:
			d.Extended, d.Grace = extended, grace
		default:
			d.Outcome, d.Methods, d.DefaultMethod = RequireEnrollment, d.Active.Methods, d.Active.DefaultMethod
		}
		return d
	}

	switch {
	case req == Optional:
		// A skip is not followed by another offer before RepromptAfter.
		if ra := d.Active.RepromptAfter; ra > 0 && !pace.LastSkip.IsZero() {
			if back := after(pace.LastSkip, ra, loc); now.Before(back) {
				d.Outcome, d.Snoozed, d.Deadline = Allow, true, back
				return d
			}
		}
		d.Outcome = OfferEnrollment
	case soft:
		d.Outcome, d.Extended, d.Grace = OfferEnrollment, extended, grace
	case req == Required:
		d.Outcome = RequireEnrollment
	default:
		return d // Allow
	}
	if !soft {
		d.Deadline = time.Time{}
	}
	d.Methods, d.DefaultMethod = d.Active.Methods, d.Active.DefaultMethod
	return d
}

// level is a phase's requirement, with out-of-range values pinned so that
// a broken schedule fails closed rather than open.
func level(ph *Phase) Requirement {
	switch {
	case ph.Requirement > Required:
		return Required
	case ph.Requirement < None:
		return None
	}
	return ph.Requirement
}

// next finds the earliest phase starting after now that applies to roles
// and is stricter than active (see stricter). Ties on Start go to the
// first in the list.
func next(phases []Phase, active *Phase, roles []string, now time.Time) *Phase {
	var best *Phase
	for i := range phases {
		ph := &phases[i]
		if !ph.Start.After(now) || !stricter(ph, active) || !applies(ph, roles) {
			continue
		}
		if best == nil || ph.Start.Before(best.Start) {
			best = ph
		}
	}
	return best
}

// stricter reports whether phase ph, once started, would ask more than
// active: a higher requirement, or, between two Required phases, a
// different set of methods (a person may have to add one).
func stricter(ph, active *Phase) bool {
	if active == nil {
		return level(ph) > None
	}
	if level(ph) != level(active) {
		return level(ph) > level(active)
	}
	return level(ph) == Required && !sameSet(ph.Methods, active.Methods)
}

// qualifying returns the methods in have that are among allowed, in
// have's order. It allocates only when the answer is neither all of have
// nor a single method, which cannot happen with the two known methods.
func qualifying(have, allowed []string) []string {
	n, last := 0, 0
	for i, m := range have {
		if slices.Contains(allowed, m) {
			n, last = n+1, i
		}
	}
	switch n {
	case 0:
		return nil
	case len(have):
		return have
	case 1:
		return have[last : last+1 : last+1]
	}
	out := make([]string, 0, n)
	for _, m := range have {
		if slices.Contains(allowed, m) {
			out = append(out, m)
		}
	}
	return out
}

// sameSet reports whether a and b hold the same methods, in any order.
func sameSet(a, b []string) bool {
	for _, m := range a {
		if !slices.Contains(b, m) {
			return false
		}
	}
	for _, m := range b {
		if !slices.Contains(a, m) {
			return false
		}
	}
	return true
}
