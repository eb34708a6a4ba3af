package rollout_test

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	_ "time/tzdata" // zones resolve on machines without a zoneinfo database

	"github.com/mfagate/mfagate/rollout"
)

const day = 24 * time.Hour

func mustLoc(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatalf("load %s: %v", name, err)
	}
	return loc
}

// mustDate is midnight of date (2006-01-02) in loc, as config reads dates.
func mustDate(tb testing.TB, loc *time.Location, date string) time.Time {
	tb.Helper()
	t, err := time.ParseInLocation(time.DateOnly, date, loc)
	if err != nil {
		tb.Fatalf("parse %s: %v", date, err)
	}
	return t
}

func mustUTC(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatalf("parse %s: %v", s, err)
	}
	return t
}

// Phase names of the SPEC's schedule.
const (
	pComm     = "Communication"
	pOptional = "Optional enrollment"
	pEmail    = "Email verification required"
	pFull     = "Full enforcement"
)

// specRollout is the four-phase schedule of SPEC section 1, in London.
func specRollout(tb testing.TB) *rollout.Rollout {
	tb.Helper()
	loc := mustLoc(tb, "Europe/London")
	both := []string{"email", "totp"}
	return &rollout.Rollout{Location: loc, Phases: []rollout.Phase{
		{Name: pComm, Start: mustDate(tb, loc, "2027-05-26"), Audience: []string{"admin"}, Requirement: rollout.Notify,
			Notice: &rollout.Notice{Subject: "MFA is coming", Body: "From June 11 you can set up a second factor."}},
		{Name: pOptional, Start: mustDate(tb, loc, "2027-06-11"), Audience: []string{"admin"}, Requirement: rollout.Optional, Methods: both},
		{Name: pEmail, Start: mustDate(tb, loc, "2027-07-13"), Audience: []string{"admin"}, Requirement: rollout.Required,
			Methods: both, DefaultMethod: "email", Reminders: []time.Duration{7 * day, day}},
		{Name: pFull, Start: mustDate(tb, loc, "2027-07-31"), Audience: []string{"all"}, Requirement: rollout.Required,
			Methods: both, Reminders: []time.Duration{7 * day, day}},
	}}
}

func phaseName(ph *rollout.Phase) string {
	if ph == nil {
		return "<nil>"
	}
	return ph.Name
}

// oracle decides the way a reader would reason through SPEC section 3,
// with sets and sorting rather than Decide's single pass, so that the two
// agreeing means something.
func oracle(r *rollout.Rollout, p rollout.Person, now time.Time) rollout.Decision {
	var d rollout.Decision
	if r == nil {
		r = &rollout.Rollout{}
	}
	reaches := map[string]bool{"all": true}
	for _, role := range p.Roles {
		reaches[role] = true
	}
	var started, future []int
	for i, ph := range r.Phases {
		if !slices.ContainsFunc(ph.Audience, func(a string) bool { return reaches[a] }) {
			continue
		}
		if now.Before(ph.Start) {
			future = append(future, i)
		} else {
			started = append(started, i)
		}
	}
	if len(started) > 0 {
		// Stable sort by requirement keeps list order among equals, so the
		// last one is the strictest and, on a tie, the latest.
		slices.SortStableFunc(started, func(a, b int) int { return cmp.Compare(r.Phases[a].Requirement, r.Phases[b].Requirement) })
		d.Active = &r.Phases[started[len(started)-1]]
	}
	slices.SortStableFunc(future, func(a, b int) int { return r.Phases[a].Start.Compare(r.Phases[b].Start) })
	for _, i := range future {
		ph, a := &r.Phases[i], d.Active
		if a == nil && ph.Requirement > rollout.None ||
			a != nil && ph.Requirement > a.Requirement ||
			a != nil && a.Requirement == rollout.Required && ph.Requirement == rollout.Required && !sameMethods(ph.Methods, a.Methods) {
			d.Next = ph
			break
		}
	}

	req := rollout.None
	if d.Active != nil {
		req = d.Active.Requirement
	}
	ext := req == rollout.Required && p.ExtendedUntil.After(now)
	enroll := func(o rollout.Outcome) rollout.Decision {
		d.Outcome, d.Methods, d.DefaultMethod = o, d.Active.Methods, d.Active.DefaultMethod
		return d
	}
	if len(p.Methods) == 0 {
		switch {
		case req == rollout.Optional || ext:
			d.Extended = ext
			return enroll(rollout.OfferEnrollment)
		case req == rollout.Required:
			return enroll(rollout.RequireEnrollment)
		}
		d.Outcome = rollout.Allow
		return d
	}
	if req != rollout.Required {
		d.Outcome, d.Methods = rollout.Challenge, p.Methods
		return d
	}
	var ok []string
	for _, m := range p.Methods {
		if slices.Contains(d.Active.Methods, m) {
			ok = append(ok, m)
		}
	}
	switch {
	case len(ok) > 0:
		d.Outcome, d.Methods = rollout.Challenge, ok
	case ext:
		d.Outcome, d.Methods, d.Extended = rollout.Challenge, p.Methods, true
	default:
		return enroll(rollout.RequireEnrollment)
	}
	return d
}

func sameMethods(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// sameDecision compares everything, phases by identity.
func sameDecision(got, want rollout.Decision) bool {
	return got.Outcome == want.Outcome && slices.Equal(got.Methods, want.Methods) &&
		got.DefaultMethod == want.DefaultMethod && got.Active == want.Active &&
		got.Next == want.Next && got.Extended == want.Extended
}

func showDecision(d rollout.Decision) string {
	return fmt.Sprintf("%s methods=%v default=%q active=%s next=%s extended=%v",
		d.Outcome, d.Methods, d.DefaultMethod, phaseName(d.Active), phaseName(d.Next), d.Extended)
}

func appliesTo(ph *rollout.Phase, p rollout.Person) bool {
	return slices.Contains(ph.Audience, "all") || slices.ContainsFunc(p.Roles, func(r string) bool { return slices.Contains(ph.Audience, r) })
}

// checkInvariants holds for every decision on a valid rollout.
func checkInvariants(tb testing.TB, r *rollout.Rollout, p rollout.Person, now time.Time, d rollout.Decision) {
	tb.Helper()
	fail := func(format string, args ...any) {
		tb.Helper()
		tb.Errorf("roles %v methods %v at %s: %s: "+format, append([]any{p.Roles, p.Methods, now.UTC().Format(time.RFC3339Nano), showDecision(d)}, args...)...)
	}
	hasFactor := len(p.Methods) > 0
	req := rollout.None
	if d.Active != nil {
		req = d.Active.Requirement
		if !appliesTo(d.Active, p) || d.Active.Start.After(now) {
			fail("active phase does not apply or has not started")
		}
	}
	if r != nil {
		for i := range r.Phases {
			ph := &r.Phases[i]
			if ph == d.Active || ph.Start.After(now) || !appliesTo(ph, p) {
				continue
			}
			if ph.Requirement > req {
				fail("started phase %q is stricter than the active one", ph.Name)
			}
			if d.Active != nil && ph.Requirement == req && i > indexOf(r, d.Active) {
				fail("a later phase %q of equal strictness is in force", ph.Name)
			}
		}
	}
	if d.Next != nil && (!d.Next.Start.After(now) || !appliesTo(d.Next, p)) {
		fail("next phase has started or does not apply")
	}
	if d.Extended && (req != rollout.Required || !now.Before(p.ExtendedUntil)) {
		fail("extended without a running extension under a required phase")
	}
	switch d.Outcome {
	case rollout.Challenge:
		if !hasFactor {
			fail("challenged without a factor")
		}
		if len(d.Methods) == 0 || d.DefaultMethod != "" {
			fail("challenge needs methods and no default")
		}
		for _, m := range d.Methods {
			if !slices.Contains(p.Methods, m) {
				fail("challenged with %q, which is not theirs", m)
			}
			if req == rollout.Required && !d.Extended && !slices.Contains(d.Active.Methods, m) {
				fail("challenged with %q, which the required phase does not accept", m)
			}
		}
	case rollout.RequireEnrollment:
		if req != rollout.Required || d.Extended {
			fail("must enroll without a required phase in force")
		}
		if hasFactor && slices.ContainsFunc(p.Methods, func(m string) bool { return slices.Contains(d.Active.Methods, m) }) {
			fail("must enroll although a factor of theirs satisfies the phase")
		}
	case rollout.OfferEnrollment:
		if hasFactor || !(req == rollout.Optional || d.Extended) {
			fail("offered enrollment wrongly")
		}
	case rollout.Allow:
		if hasFactor || req > rollout.Notify || d.Methods != nil {
			fail("allowed although a factor or a stricter phase exists")
		}
	default:
		fail("unknown outcome")
	}
	if d.Outcome == rollout.OfferEnrollment || d.Outcome == rollout.RequireEnrollment {
		if !slices.Equal(d.Methods, d.Active.Methods) || d.DefaultMethod != d.Active.DefaultMethod {
			fail("enrollment must offer the phase's methods and default")
		}
	}
}

func indexOf(r *rollout.Rollout, ph *rollout.Phase) int {
	for i := range r.Phases {
		if &r.Phases[i] == ph {
			return i
		}
	}
	return -1
}
