package rollout

import "time"

// Summary is what a simulation found: how many people meet which outcome
// at one instant, and who will be forced to enroll when the next phase
// starts. ("On July 13, 214 administrators will be forced into email
// verification, 37 of them have never signed in.")
type Summary struct {
	At        time.Time
	Total     int
	ByOutcome map[Outcome]int // every outcome is present, zero counts too
	// ByRole counts a person once under each of their distinct roles;
	// people with no role appear only in the totals.
	ByRole map[string]map[Outcome]int
	// Extended counts people whose decision an extension softened
	// (Decision.Extended).
	Extended int
	// NeverSignedIn counts, among those who must enroll at At
	// (RequireEnrollment), the people who have never signed in.
	NeverSignedIn int
	// Next is the first phase of the whole rollout starting after At, for
	// anyone; nil if none.
	Next *Phase
	// ForcedAtNext counts people not required to enroll at At who will be
	// at Next.Start, ForcedAtNextNeverSignedIn those of them who have
	// never signed in, and ForcedAtNextUnreached those of them whose
	// address a mail server refuses: the phase's notice and reminders
	// will not have reached them.
	ForcedAtNext              int
	ForcedAtNextNeverSignedIn int
	ForcedAtNextUnreached     int
	// Invited counts people invited who have not accepted yet (they have
	// no password to sign in with), whatever their outcome; InvitedByRole
	// the same under each of their roles, and ForcedAtNextInvited those of
	// ForcedAtNext.
	Invited             int
	InvitedByRole       map[string]int
	ForcedAtNextInvited int
}

// Facts are what a simulation counts about a person besides what decides
// their outcome.
type Facts struct {
	SignedIn  bool // they have signed in at least once
	Unreached bool // a mail server refused their address for good
	Invited   bool // invited, and not yet accepted
}

// Simulator adds up decisions for a population, one person or one group
// of people alike at a time, so that a million accounts are counted
// without being held in memory. It is not safe for concurrent use.
type Simulator struct {
	// Adjust, when set, is applied to every decision the simulator makes,
	// for rules beyond the schedule: account's staff always need a second
	// factor.
	Adjust func(Person, Decision) Decision

	r    *Rollout
	at   time.Time
	next *Phase

	total, extended, neverSignedIn                     int
	forcedAtNext, forcedNeverSignedIn, forcedUnreached int
	invited, forcedInvited                             int
	byOutcome                                          [Challenge + 1]int
	byRole                                             map[string]*[Challenge + 1]int
	invitedByRole                                      map[string]int
}

// NewSimulator returns a Simulator of rollout r at instant at.
func NewSimulator(r *Rollout, at time.Time) *Simulator {
	s := &Simulator{r: r, at: at, byRole: make(map[string]*[Challenge + 1]int), invitedByRole: make(map[string]int)}
	if r != nil {
		for i := range r.Phases {
			ph := &r.Phases[i]
			if ph.Start.After(at) && (s.next == nil || ph.Start.Before(s.next.Start)) {
				s.next = ph
			}
		}
	}
	return s
}

// Add counts person p; signedIn tells whether they have ever signed in.
func (s *Simulator) Add(p Person, signedIn bool) { s.AddFacts(p, Facts{SignedIn: signedIn}) }

// AddFacts counts person p, of whom f is known.
func (s *Simulator) AddFacts(p Person, f Facts) { s.AddGroup(p, f, 1) }

// AddGroup counts n people alike: each is p, of whom f is known. It makes
// at most two decisions, whatever n: at the simulated instant and, for
// those not yet required to enroll, at the start of the next phase.
func (s *Simulator) AddGroup(p Person, f Facts, n int) {
	if n <= 0 {
		return
	}
	signedIn := f.SignedIn
	d := s.decide(p, s.at)
	o := d.Outcome
	s.total += n
	s.byOutcome[o] += n
	for i, role := range p.Roles {
		if seenBefore(p.Roles, i) {
			continue
		}
		c := s.byRole[role]
		if c == nil {
			c = new([Challenge + 1]int)
			s.byRole[role] = c
		}
		c[o] += n
		if f.Invited {
			s.invitedByRole[role] += n
		}
	}
	if f.Invited {
		s.invited += n
	}
	if d.Extended {
		s.extended += n
	}
	if o == RequireEnrollment {
		if !signedIn {
			s.neverSignedIn += n
		}
		return
	}
	if s.next != nil && s.decide(p, s.next.Start).Outcome == RequireEnrollment {
		s.forcedAtNext += n
		if !signedIn {
			s.forcedNeverSignedIn += n
		}
		if f.Unreached {
			s.forcedUnreached += n
		}
		if f.Invited {
			s.forcedInvited += n
		}
	}
}

func (s *Simulator) decide(p Person, at time.Time) Decision {
	d := Decide(s.r, p, at)
	if s.Adjust != nil {
		d = s.Adjust(p, d)
	}
	return d
}

// seenBefore reports whether roles[i] already appears earlier in roles.
func seenBefore(roles []string, i int) bool {
	for _, r := range roles[:i] {
		if r == roles[i] {
			return true
		}
	}
	return false
}

// Summary returns the counts so far. The maps are fresh copies.
func (s *Simulator) Summary() Summary {
	sum := Summary{
		At:                        s.at,
		Total:                     s.total,
		ByOutcome:                 counts(&s.byOutcome),
		ByRole:                    make(map[string]map[Outcome]int, len(s.byRole)),
		Extended:                  s.extended,
		NeverSignedIn:             s.neverSignedIn,
		Next:                      s.next,
		ForcedAtNext:              s.forcedAtNext,
		ForcedAtNextNeverSignedIn: s.forcedNeverSignedIn,
		ForcedAtNextUnreached:     s.forcedUnreached,
		Invited:                   s.invited,
		InvitedByRole:             make(map[string]int, len(s.invitedByRole)),
		ForcedAtNextInvited:       s.forcedInvited,
	}
	for role, n := range s.invitedByRole {
		sum.InvitedByRole[role] = n
	}
	for role, c := range s.byRole {
		sum.ByRole[role] = counts(c)
	}
	return sum
}

func counts(c *[Challenge + 1]int) map[Outcome]int {
	m := make(map[Outcome]int, len(c))
	for o, n := range c {
		m[Outcome(o)] = n
	}
	return m
}
