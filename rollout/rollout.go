package rollout

import (
	"fmt"
	"time"

	"github.com/mfagate/mfagate"
)

// Everyone in a phase's audience means everyone, with or without roles.
const Everyone = "all"

// knownMethods are the factor methods a phase may ask for.
var knownMethods = []string{mfagate.MethodEmail, mfagate.MethodTOTP}

// Requirement is how much a phase asks of the people in its audience.
// Values are ordered by strictness, so they compare with < and >.
type Requirement int

// Requirements, from the least to the most strict. None is the zero value
// and is never valid in a phase; it stands for "no phase applies".
const (
	None     Requirement = iota
	Notify               // nothing changes at sign-in; a notice is sent
	Optional             // setup is offered after the password; it may be skipped
	Required             // a factor is needed to sign in
)

var requirementNames = [...]string{None: "none", Notify: "notify", Optional: "optional", Required: "required"}

// ParseRequirement reads the configuration spelling of a requirement:
// "notify", "optional" or "required".
func ParseRequirement(s string) (Requirement, error) {
	for r := Notify; r <= Required; r++ {
		if requirementNames[r] == s {
			return r, nil
		}
	}
	return None, mfagate.Errorf(mfagate.EINVALID, "requirement %q is not one of notify, optional, required", s)
}

// String returns the configuration spelling ("notify", ...), "none" for
// None, and "requirement(N)" for a value out of range.
func (r Requirement) String() string {
	if r >= None && r <= Required {
		return requirementNames[r]
	}
	return fmt.Sprintf("requirement(%d)", int(r))
}

// Notice is the email campaign sent to a phase's audience when it starts.
type Notice struct {
	Subject, Body string
}

// Phase is one dated step of a rollout.
type Phase struct {
	Name string
	// Start is the instant the phase comes into force. Config turns a date
	// into midnight in the rollout's zone; decisions compare instants only.
	Start       time.Time
	Audience    []string // roles, or "all" for everyone
	Requirement Requirement
	Methods     []string // the methods that satisfy the phase: "email", "totp"
	// DefaultMethod, when set, takes a person without a factor straight
	// into setting up that method instead of choosing. One of Methods.
	DefaultMethod string
	Notice        *Notice // sent when the phase starts; optional
	// Reminders are how long before Start to remind people in the audience
	// who have no factor yet, such as 7*24h and 24h.
	Reminders []time.Duration

	// Pacing: how each person in the audience meets the phase.

	// Grace, on a required phase, is each person's own time to set up: it
	// runs from the later of Start and the first time the requirement was
	// shown to them at sign-in (Pace.Shown), and until it ends the phase
	// counts as optional for them. Whole days are calendar days in the
	// rollout's zone, so a window keeps its hour across a clock change.
	// Zero: none.
	Grace time.Duration
	// GraceUntil, when set, ends every grace window of the phase by then
	// at the latest.
	GraceUntil time.Time
	// MaxSkips, on an optional phase, is how many times a person may skip
	// setting up; once they have, Then applies to them. Zero: no limit.
	MaxSkips int
	// RepromptAfter, on an optional phase, is how long after a skip setup
	// is not offered again (days count as Grace's do). Zero: at every
	// sign-in.
	RepromptAfter time.Duration
	// Then is the requirement that applies to a person who has skipped
	// MaxSkips times: Required.
	Then Requirement

	// Retire lists methods that stop counting from Start for the
	// audience, such as email: Methods never holds them, so someone whose
	// only factor is retired must add one of Methods (with the phase's
	// grace), and is no longer asked for the retired one once they have.
	Retire []string
}

// Rollout is the whole schedule.
type Rollout struct {
	// Location is the rollout's time zone, for display and for reading
	// dates; decisions use instants and never depend on it.
	Location *time.Location
	Phases   []Phase // in start order, each later than the one before
}

// ForRoles returns the phases whose audience includes "all" or one of
// roles, in schedule order, for banners and timelines. The pointers point
// into r.Phases.
func (r *Rollout) ForRoles(roles []string) []*Phase {
	if r == nil {
		return nil
	}
	var out []*Phase
	for i := range r.Phases {
		if applies(&r.Phases[i], roles) {
			out = append(out, &r.Phases[i])
		}
	}
	return out
}

// applies reports whether ph's audience includes "all" or one of roles.
func applies(ph *Phase, roles []string) bool {
	for _, a := range ph.Audience {
		if a == Everyone {
			return true
		}
		for _, r := range roles {
			if a == r {
				return true
			}
		}
	}
	return false
}

// Person is what Decide needs to know about someone signing in.
type Person struct {
	Roles   []string
	Methods []string // the methods of the person's confirmed factors
	Skips   int      // how often they skipped setup; for reports, never for decisions
	// ExtendedUntil is a per-person extension: before this instant a
	// required phase counts as optional for them. Zero means none.
	ExtendedUntil time.Time
	// Pace is how far the person has come through the one phase that
	// paces them. It counts only while that phase is the active one:
	// under another, the person starts afresh.
	Pace Pace
}

// Pace is a person's own course through a phase with a grace window or
// capped skips.
type Pace struct {
	Phase    string    // the phase's name; "" for none
	Shown    time.Time // when its requirement was first shown to them at sign-in; zero if never
	Skips    int       // how often they skipped setting up under it
	LastSkip time.Time // when they last did; zero if never
}

// Outcome is what happens after the password step.
type Outcome int

// Outcomes of a decision.
const (
	Allow             Outcome = iota // signed in; nothing to do
	OfferEnrollment                  // setup is offered and may be skipped
	RequireEnrollment                // setup must be finished before signing in
	Challenge                        // the person must use one of their factors
)

var outcomeNames = [...]string{Allow: "allow", OfferEnrollment: "offer_enrollment", RequireEnrollment: "require_enrollment", Challenge: "challenge"}

// String returns the outcome's stable name: "allow", "offer_enrollment",
// "require_enrollment" or "challenge".
func (o Outcome) String() string {
	if o >= Allow && o <= Challenge {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Decision is the result of Decide. Its slices and pointers point into the
// Rollout and the Person it was made from, so that deciding allocates
// nothing: callers must not modify them.
type Decision struct {
	Outcome Outcome
	// Methods, for Challenge, are the person's factors to ask for; for
	// enrollment, the methods that satisfy the active phase.
	Methods []string
	// DefaultMethod, for enrollment, is the method to go straight into.
	DefaultMethod string
	Active        *Phase // the phase in force for this person; nil when none applies
	Next          *Phase // the next phase that makes things stricter for this person; nil if none
	// Extended is set when an extension softened the decision: a required
	// phase was treated as optional because of Person.ExtendedUntil.
	Extended bool

	// Grace is set when the person's grace window softened the decision
	// as an extension does. Deadline, while either softens a required
	// phase, is when the later of them ends and the requirement is
	// enforced for the person; for a snoozed offer, when it comes back.
	// Unshown is set when the window starts now, the requirement never
	// having been shown to them under this phase: the caller records now
	// as their Pace.Shown.
	Grace    bool
	Deadline time.Time
	Unshown  bool
	// SkipsLeft, for an offer under a phase with MaxSkips, is how many
	// more times the person may skip; Capped tells that there is a limit.
	// SkipsUsed is set when they have used every skip, so the phase's
	// Then applies to them.
	SkipsLeft int
	Capped    bool
	SkipsUsed bool
	// Snoozed is set when the person skipped setup less than the phase's
	// RepromptAfter ago: it is not offered now (Outcome Allow), and comes
	// back at Deadline.
	Snoozed bool
}

// Paced reports whether the phase paces people one by one: a grace
// window or capped skips, which need each person's Pace.
func (ph *Phase) Paced() bool {
	return ph.Grace > 0 || ph.MaxSkips > 0 || ph.RepromptAfter > 0
}

// after returns t moved on by d: whole days as calendar days in loc
// (the same wall-clock time, whatever the clocks did), the rest as
// elapsed time.
func after(t time.Time, d time.Duration, loc *time.Location) time.Time {
	const day = 24 * time.Hour
	if loc == nil {
		loc = time.UTC
	}
	days := int(d / day)
	return t.In(loc).AddDate(0, 0, days).Add(d % day).In(t.Location())
}
