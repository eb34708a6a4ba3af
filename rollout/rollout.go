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
}
