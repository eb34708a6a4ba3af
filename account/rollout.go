package account

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
)

// The rollout's use cases: the schedule as at the rollout's time, what it
// decides for one person, and the forecast over everyone. The Service
// holds the one *rollout.Rollout (Options.Rollout); pages, the API and the
// command line ask these, never the schedule itself.

// rolloutPolicy decides by the dated phases of r (SPEC.md section 3).
func rolloutPolicy(r *rollout.Rollout) policy {
	return func(u *mfagate.User, factors []*mfagate.Factor, now time.Time) Decision {
		rd := rollout.Decide(r, personOf(u, factors), now)
		d := Decision{Outcome: rd.Outcome, Methods: rd.Methods, DefaultMethod: rd.DefaultMethod}
		if rd.Extended {
			d.ExtendedUntil = u.ExtendedUntil
		}
		if rd.Active != nil {
			d.Phase, d.PhaseStart = rd.Active.Name, rd.Active.Start
			d.paced, d.maxSkips, d.Reprompt = rd.Active.Paced(), rd.Active.MaxSkips, rd.Active.RepromptAfter
			d.Accepts = rd.Active.Methods
		}
		d.Grace, d.Deadline, d.unshown = rd.Grace, rd.Deadline, rd.Unshown
		d.Capped, d.SkipsLeft, d.SkipsUsed, d.Snoozed = rd.Capped, rd.SkipsLeft, rd.SkipsUsed, rd.Snoozed
		switch n := rd.Next; {
		case n == nil:
		case n.Requirement > rollout.Notify:
			d.NextPhase = &Upcoming{Name: n.Name, Start: n.Start, Required: n.Requirement == rollout.Required,
				Methods: n.Methods, DefaultMethod: n.DefaultMethod, Grace: n.Grace}
			if d.NextPhase.Required && u.ExtendedUntil.After(n.Start) {
				d.NextPhase.ExtendedUntil = u.ExtendedUntil
			}
		case n.Notice != nil: // it changes nothing at sign-in, but its email announces what will
			d.NextNotice = &Upcoming{Name: n.Name, Start: n.Start, NoticeOnly: true}
		}
		return d
	}
}

// personOf is what the rollout needs to know about an account.
func personOf(u *mfagate.User, factors []*mfagate.Factor) rollout.Person {
	return rollout.Person{Roles: u.Roles, Methods: methodsOf(factors), Skips: u.Skips, ExtendedUntil: u.ExtendedUntil,
		Pace: rollout.Pace{Phase: u.Pace.Phase, Shown: u.Pace.ShownAt, Skips: u.Pace.Skips, LastSkip: u.Pace.LastSkipAt}}
}

// markShown records, when d opened the person's grace window just now,
// that the phase's requirement has been shown to them: their window runs
// from this sign-in. It is the rollout's time, as decisions are.
func (s *Service) markShown(tx *txn, u *mfagate.User, d Decision) error {
	if !d.unshown {
		return nil
	}
	at := s.RolloutNow()
	if err := tx.MarkShown(u.ID, d.Phase, at); err != nil {
		return err
	}
	if u.Pace.Phase != d.Phase {
		u.Pace = mfagate.Pace{Phase: d.Phase}
	}
	if u.Pace.ShownAt.IsZero() {
		u.Pace.ShownAt = at
	}
	return nil
}

// Timeline is the rollout's schedule as at the rollout's time.
type Timeline struct {
	At       time.Time      // the rollout's time: moved by a rehearsal
	Location *time.Location // the zone its dates are written in
	Phases   []TimelinePhase
}

// TimelinePhase is one phase of the schedule and where it stands.
type TimelinePhase struct {
	// Phase points into the Service's rollout: read it, never change it.
	*rollout.Phase
	Started bool
	// InForceFor are the audiences (roles, or "all") for which it is the
	// phase Decide makes active now: several phases can be in force at
	// once, for different audiences. Empty when it has not started or a
	// stricter phase replaced it.
	InForceFor []string
}

// Timeline returns the schedule as at the rollout's time, in start order
// as configured. A Service without a rollout has no phases.
func (s *Service) Timeline() Timeline {
	t := Timeline{At: s.RolloutNow(), Location: s.loc}
	r := s.rollout
	if r == nil {
		return t
	}
	if r.Location != nil {
		t.Location = r.Location
	}
	inForce := map[*rollout.Phase][]string{}
	seen := map[string]bool{}
	for i := range r.Phases {
		for _, a := range r.Phases[i].Audience {
			if seen[a] {
				continue
			}
			seen[a] = true
			p := rollout.Person{Roles: []string{a}}
			if a == rollout.Everyone {
				p.Roles = nil
			}
			if ph := rollout.Decide(r, p, t.At).Active; ph != nil {
				inForce[ph] = append(inForce[ph], a)
			}
		}
	}
	for i := range r.Phases {
		ph := &r.Phases[i]
		t.Phases = append(t.Phases, TimelinePhase{Phase: ph, Started: !ph.Start.After(t.At), InForceFor: inForce[ph]})
	}
	return t
}

// DecideAt is what would happen to u after the password at time at.
func (s *Service) DecideAt(u *mfagate.User, factors []*mfagate.Factor, at time.Time) Decision {
	return s.policy(u, factors, at)
}

// Simulation is what the rollout does to one person at a time, with what
// it was decided from, so that a report can say why.
type Simulation struct {
	User     *mfagate.User
	Person   rollout.Person
	Decision rollout.Decision
	// Staff is set when the schedule alone would let them in without a
	// second factor but, as operators or support, they must set one up.
	Staff bool
	// SignIn is the decision sign-in would make (Service.DecideAt), whose
	// outcome Decision carries.
	SignIn Decision
}

// Simulate decides for the named person at time at, as sign-in would.
// ENOTFOUND.
func (s *Service) Simulate(ctx context.Context, username string, at time.Time) (Simulation, error) {
	u, err := s.User(ctx, username)
	if err != nil {
		return Simulation{}, err
	}
	factors, err := s.Factors(ctx, u.ID)
	if err != nil {
		return Simulation{}, err
	}
	p := personOf(u, factors)
	r := s.rollout
	if r == nil {
		r = &rollout.Rollout{Location: s.loc}
	}
	// The schedule says which phases apply and what comes next; what
	// happens is what sign-in's own policy decides, so that every rule it
	// follows is in the simulation.
	d := rollout.Decide(r, p, at)
	signIn := s.DecideAt(u, factors, at)
	d.Outcome, d.Methods, d.DefaultMethod = signIn.Outcome, signIn.Methods, signIn.DefaultMethod
	d.Extended = !signIn.ExtendedUntil.IsZero()
	return Simulation{User: u, Person: p, Decision: d, Staff: signIn.Staff, SignIn: signIn}, nil
}

// Forecast is a forecast of the rollout and when it was made.
type Forecast struct {
	rollout.Summary
	Made time.Time // by the service's clock (wall time, not the rollout's)
}

// Forecast runs the rollout over every enabled account as at time at: who
// signs in how, and who will be forced to set up at the next phase. It
// reads the store's rollout groups, which count the accounts alike in
// everything a decision depends on, and decides once per group, so that
// it takes the same time for a thousand accounts or a million. People
// with an extension past at are the exception: their decision depends on
// its date, so they are read and decided one by one (they are few).
func (s *Service) Forecast(ctx context.Context, at time.Time) (rollout.Summary, error) {
	r := s.rollout
	if r == nil {
		r = offerEveryoneRollout(s.loc)
	}
	var (
		groups   []*mfagate.Group
		extended []*mfagate.Person
	)
	err := s.view(ctx, func(tx *txn) (err error) {
		groups, extended, err = tx.Groups(at)
		return err
	})
	if err != nil {
		return rollout.Summary{}, err
	}
	return simulate(r, at, groups, extended), nil
}

// simulate counts the groups, and the extended people one by one, as at
// time at. extended must hold everyone whose extension runs past at: each
// is taken out of their group's count and decided on their own.
func simulate(r *rollout.Rollout, at time.Time, groups []*mfagate.Group, extended []*mfagate.Person) rollout.Summary {
	left := make(map[groupKey]int, len(groups))
	for _, g := range groups {
		left[keyOfGroup(g)] += g.People
	}
	sim := rollout.NewSimulator(r, at)
	sim.Adjust = staffRule
	for _, p := range extended {
		left[keyOfGroup(&mfagate.Group{Roles: p.Roles, Methods: p.Methods, Skipped: p.Skips > 0,
			NeverSignedIn: !p.SignedIn, Unreached: p.Unreached, Disabled: p.Disabled, Invited: p.Invited})]--
		if !p.Disabled {
			sim.AddFacts(rollout.Person{Roles: p.Roles, Methods: p.Methods, Skips: p.Skips, ExtendedUntil: p.ExtendedUntil},
				rollout.Facts{SignedIn: p.SignedIn, Unreached: p.Unreached, Invited: p.Invited})
		}
	}
	for _, g := range groups {
		k := keyOfGroup(g)
		if n := left[k]; n > 0 && !g.Disabled {
			skips := 0
			if g.Skipped {
				skips = 1
			}
			sim.AddGroup(rollout.Person{Roles: g.Roles, Methods: g.Methods, Skips: skips},
				rollout.Facts{SignedIn: !g.NeverSignedIn, Unreached: g.Unreached, Invited: g.Invited}, n)
		}
		left[k] = 0 // counted once, should the store return a group in several rows
	}
	return sim.Summary()
}

// RecountGroups counts the rollout groups again from the accounts
// themselves and returns the groups whose kept count was wrong; with fix,
// it replaces the kept counts by the recount, holding changes to accounts
// back meanwhile. It reads every account: a check for an operator (and
// for tests), never for a page.
func (s *Service) RecountGroups(ctx context.Context, fix bool) ([]*mfagate.GroupMismatch, error) {
	var out []*mfagate.GroupMismatch
	run := s.view
	if fix {
		run = s.update
	}
	err := run(ctx, func(tx *txn) (err error) {
		out, err = tx.RecountGroups(fix)
		return err
	})
	return out, err
}

// offerEveryoneRollout is offerEveryone as a schedule, for the forecast
// of a service given no rollout: one optional phase, for everyone, in
// force since the beginning of time, so that the counts say what sign-in
// does (everyone without a factor is offered setup), not that everyone
// signs in with the password alone.
func offerEveryoneRollout(loc *time.Location) *rollout.Rollout {
	return &rollout.Rollout{Location: loc, Phases: []rollout.Phase{{Name: "Setup offered", Audience: []string{rollout.Everyone},
		Requirement: rollout.Optional, Methods: []string{mfagate.MethodEmail, mfagate.MethodTOTP}}}}
}

// groupKey is what makes a group, comparable.
type groupKey struct {
	roles, methods                               string
	skipped, never, unreached, disabled, invited bool
}

func keyOfGroup(g *mfagate.Group) groupKey {
	return groupKey{strings.Join(g.Roles, ","), strings.Join(g.Methods, ","), g.Skipped, g.NeverSignedIn, g.Unreached, g.Disabled, g.Invited}
}

// ForecastNow is the forecast as at the rollout's time, made now: the
// dashboard's and the API's. It is cheap enough to make at each view.
func (s *Service) ForecastNow(ctx context.Context) (Forecast, error) {
	made := s.Now()
	sum, err := s.Forecast(ctx, s.RolloutNow())
	if err != nil {
		return Forecast{}, fmt.Errorf("forecast the rollout: %w", err)
	}
	return Forecast{Summary: sum, Made: made}, nil
}

// RolloutRoles are the roles the rollout's phases name, besides "all",
// in the order they first appear.
func (s *Service) RolloutRoles() []string {
	var roles []string
	if s.rollout == nil {
		return nil
	}
	for _, ph := range s.rollout.Phases {
		for _, a := range ph.Audience {
			if a != rollout.Everyone && !slices.Contains(roles, a) {
				roles = append(roles, a)
			}
		}
	}
	return roles
}
