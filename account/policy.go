package account

import (
	"slices"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
)

// The decision after the password: what the rollout's outcome means for
// one person in one session (step), and the rule that staff always need
// a second factor.

// Decision is what happens to one person after the password step. Its
// Outcome is the rollout's own word for it, from the pure core to the
// pages: rollout.Allow (fully signed in), rollout.Challenge (enter a code
// from a factor), rollout.OfferEnrollment (set up a factor or skip) and
// rollout.RequireEnrollment (set up a factor; no skipping).
type Decision struct {
	Outcome rollout.Outcome
	// Methods are those that satisfy the step: the factors to challenge,
	// or the methods offered for setup.
	Methods []string
	// DefaultMethod, when set, is where setup starts instead of a choice.
	DefaultMethod string

	// What the rollout says, for banners and the setup page; empty under
	// DefaultPolicy.
	Phase      string    // the phase in force for this person
	PhaseStart time.Time // when it started
	NextPhase  *Upcoming // the next change for this person, if any
	// NextNotice is, when nothing is set to change at sign-in, a
	// notice-only phase still to start for them, whose email will say
	// what is coming.
	NextNotice    *Upcoming
	ExtendedUntil time.Time // set while an extension softens a requirement

	// Pacing, person by person (see rollout.Decision). Grace is set while
	// the person's own grace window softens a required phase, and
	// Deadline is then when the requirement is enforced for them (the
	// later of the window and an extension); for a snoozed offer it is
	// when the offer comes back.
	Grace    bool
	Deadline time.Time
	// Accepts are the methods the phase in force counts, for telling
	// someone whose factor it does not count what to add.
	Accepts []string
	// Capped is set when the phase limits skips: SkipsLeft more are
	// allowed; SkipsUsed when none are left and setup is required.
	Capped    bool
	SkipsLeft int
	SkipsUsed bool
	// Snoozed is set when setup was skipped less than the phase's
	// reprompt_after ago, so it is not offered now; Reprompt is that
	// reprompt_after, how long a skip puts the offer off.
	Snoozed  bool
	Reprompt time.Duration

	unshown  bool // the grace window starts now: record the phase as shown
	paced    bool // the phase in force paces people: record skips under it
	maxSkips int  // its max_skips

	// Staff is set when only the rule that operators and support always
	// need a second factor makes them set one up (staffMustSetUp).
	Staff bool
}

// Upcoming is a phase that will change things for a person.
type Upcoming struct {
	Name       string
	Start      time.Time
	Required   bool // false: setup will be offered (skippable)
	NoticeOnly bool // only an email: nothing changes at sign-in
	// ExtendedUntil is the person's extension when it runs past Start:
	// the phase will offer them setup, not require it, until then.
	ExtendedUntil time.Time
	Methods       []string
	DefaultMethod string
	// Grace is each person's own time once it starts (see
	// rollout.Phase.Grace); zero for none.
	Grace time.Duration
}

// RequiredAfter is the end of the extension that puts off the
// requirement for this person, running now or past the next phase's
// start, or the zero time when none does: banners and the setup page
// then say "You have until ..." rather than when the phase starts.
func (d Decision) RequiredAfter() time.Time {
	if !d.ExtendedUntil.IsZero() {
		return d.ExtendedUntil
	}
	if n := d.NextPhase; n != nil {
		return n.ExtendedUntil
	}
	return time.Time{}
}

// policy decides, from a person's account and confirmed factors, what
// comes after their password at time now. It is pure.
type policy func(u *mfagate.User, factors []*mfagate.Factor, now time.Time) Decision

// offerEveryone is the policy of a service given no rollout at all:
// anyone with a factor is challenged (MFA, once set up, is never
// bypassed) and everyone else is offered setup, which they may skip.
func offerEveryone(u *mfagate.User, factors []*mfagate.Factor, now time.Time) Decision {
	if len(factors) > 0 {
		return Decision{Outcome: rollout.Challenge, Methods: methodsOf(factors)}
	}
	return Decision{Outcome: rollout.OfferEnrollment, Methods: []string{mfagate.MethodEmail, mfagate.MethodTOTP}}
}

func methodsOf(factors []*mfagate.Factor) []string {
	ms := make([]string, 0, len(factors))
	for _, f := range factors {
		ms = append(ms, f.Method)
	}
	return ms
}

func hasMethod(factors []*mfagate.Factor, method string) *mfagate.Factor {
	for _, f := range factors {
		if f.Method == method {
			return f
		}
	}
	return nil
}

// PreferredMethod is the method to ask for first at the challenge: the
// one used most recently, among those allowed (all when allowed is empty).
func PreferredMethod(factors []*mfagate.Factor, allowed []string) string {
	var best *mfagate.Factor
	for _, f := range factors {
		if len(allowed) > 0 && !slices.Contains(allowed, f.Method) {
			continue
		}
		if best == nil || f.LastUsedAt.After(best.LastUsedAt) {
			best = f
		}
	}
	if best == nil {
		return mfagate.MethodRecovery
	}
	return best.Method
}

// decideNow runs the policy at the rollout's time, which a rehearsal
// moves; everything else (codes, sessions, throttles) keeps real time.
func (s *Service) decideNow(u *mfagate.User, factors []*mfagate.Factor) Decision {
	return s.policy(u, factors, s.RolloutNow())
}

// step is what a person must do next in this session: the policy's
// decision, except that someone who has a factor passes it before setting
// up another one a phase demands — otherwise a password alone could add a
// factor. sess is nil for a session not yet made.
func (s *Service) step(u *mfagate.User, factors []*mfagate.Factor, sess *mfagate.Session) Decision {
	d := s.decideNow(u, factors)
	if d.Outcome == rollout.RequireEnrollment && len(factors) > 0 && (sess == nil || s.now().Sub(sess.SecondFactorAt) > freshFor) {
		d.Outcome, d.Methods, d.DefaultMethod = rollout.Challenge, methodsOf(factors), ""
	}
	return d
}

// IsStaff reports whether u works the console: operators and support.
func IsStaff(u *mfagate.User) bool { return staffRoles(u.Roles) }

func staffRoles(roles []string) bool {
	return slices.Contains(roles, mfagate.RoleOperator) || slices.Contains(roles, mfagate.RoleSupport)
}

// staffMustSetUp reports whether someone with roles whom the rollout
// lets in without a second factor (outcome) must set one up all the
// same: operators and support always need one, whatever the rollout
// says, because their accounts can reset everyone else's.
func staffMustSetUp(roles []string, outcome rollout.Outcome) bool {
	return staffRoles(roles) && (outcome == rollout.Allow || outcome == rollout.OfferEnrollment)
}

// staffMethods are what staff may set up when no phase says.
var staffMethods = []string{mfagate.MethodEmail, mfagate.MethodTOTP}

// staffNeedMFA wraps a policy with staffMustSetUp.
func staffNeedMFA(p policy) policy {
	return func(u *mfagate.User, factors []*mfagate.Factor, now time.Time) Decision {
		d := p(u, factors, now)
		if staffMustSetUp(u.Roles, d.Outcome) {
			// An extension softens the schedule, never the staff rule.
			d.Outcome, d.Staff, d.ExtendedUntil = rollout.RequireEnrollment, true, time.Time{}
			if len(d.Methods) == 0 {
				d.Methods = staffMethods
			}
		}
		return d
	}
}

// staffRule is staffNeedMFA for the rollout's own decisions, in the
// forecast and Simulate, so that they say what sign-in will do.
func staffRule(p rollout.Person, d rollout.Decision) rollout.Decision {
	if staffMustSetUp(p.Roles, d.Outcome) {
		d.Outcome, d.Extended = rollout.RequireEnrollment, false
		if len(d.Methods) == 0 {
			d.Methods = staffMethods
		}
	}
	return d
}
