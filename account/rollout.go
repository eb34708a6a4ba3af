package account

import (
	"context"
	"fmt"
	"slices"
	"sync"
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
			d.Phase = rd.Active.Name
		}
		if n := rd.Next; n != nil && n.Requirement > rollout.Notify { // a notice changes nothing at sign-in
			d.NextPhase = &Upcoming{Name: n.Name, Start: n.Start, Required: n.Requirement == rollout.Required,
				Methods: n.Methods, DefaultMethod: n.DefaultMethod}
		}
		return d
	}
}

// personOf is what the rollout needs to know about an account.
func personOf(u *mfagate.User, factors []*mfagate.Factor) rollout.Person {
	return rollout.Person{Roles: u.Roles, Methods: methodsOf(factors), Skips: u.Skips, ExtendedUntil: u.ExtendedUntil}
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
}

// Simulate decides for the named person at time at, as the rollout alone
// would. ENOTFOUND.
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
	return Simulation{User: u, Person: p, Decision: rollout.Decide(r, p, at)}, nil
}

// forecastFor is how long a forecast is reused: it reads every account
// (about 1.7 s per million), too slow to run at each page view, and an
// estimate a few minutes old serves the dashboard well. The server's
// forecast job (RefreshForecast) makes a new one more often than this, so
// that no view waits for one.
const forecastFor = 5 * time.Minute

// forecastTimeout is the deadline of making one forecast, far beyond the
// request timeout a walk over every account would not fit in, and inside
// the server's 60-second write timeout, so that a view that has to wait
// for one still gets its page.
const forecastTimeout = 45 * time.Second

// Forecast is a forecast of the rollout and when it was made.
type Forecast struct {
	rollout.Summary
	Made time.Time // by the service's clock (wall time, not the rollout's)
}

// forecastCache keeps the latest forecast. gate lets one forecast be made
// at a time; waiting for it, a caller still gives up when its context
// ends. mu guards the fields and is never held while one is made.
type forecastCache struct {
	gate   chan struct{}
	mu     sync.Mutex
	latest *Forecast
}

func (c *forecastCache) get() *Forecast {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.latest
}

func (c *forecastCache) set(f *Forecast) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latest = f
}

// Forecast runs the rollout over every enabled account as at time at: who
// signs in how, and who will be forced to set up at the next phase. It
// reads every account each time; pages use LatestForecast.
func (s *Service) Forecast(ctx context.Context, at time.Time) (rollout.Summary, error) {
	r := s.rollout
	if r == nil {
		r = &rollout.Rollout{Location: s.loc}
	}
	sim := rollout.NewSimulator(r, at)
	err := s.view(ctx, func(tx *txn) error {
		return tx.People(func(p *mfagate.Person) error {
			if !p.Disabled {
				sim.AddFacts(rollout.Person{Roles: p.Roles, Methods: p.Methods, Skips: p.Skips, ExtendedUntil: p.ExtendedUntil},
					rollout.Facts{SignedIn: p.SignedIn, Unreached: p.Unreached})
			}
			return nil
		})
	})
	return sim.Summary(), err
}

// LatestForecast returns the forecast as at the rollout's time made less
// than forecastFor ago, making one when there is none (the first view
// after start-up, or a server whose forecast job is not running).
func (s *Service) LatestForecast(ctx context.Context) (Forecast, error) {
	if f := s.forecast.get(); f != nil && s.fresh(f) {
		return *f, nil
	}
	if err := s.forecastTurn(ctx); err != nil {
		return Forecast{}, err
	}
	defer func() { <-s.forecast.gate }()
	if f := s.forecast.get(); f != nil && s.fresh(f) { // made while this one waited
		return *f, nil
	}
	f, err := s.makeForecast(ctx)
	if err != nil {
		return Forecast{}, err
	}
	return *f, nil
}

// RefreshForecast makes a new forecast for LatestForecast to return: the
// server's forecast job calls it on a clock, so that views find a recent
// one ready.
func (s *Service) RefreshForecast(ctx context.Context) error {
	if err := s.forecastTurn(ctx); err != nil {
		return err
	}
	defer func() { <-s.forecast.gate }()
	_, err := s.makeForecast(ctx)
	return err
}

// forecastTurn waits until no other forecast is being made, or ctx ends.
func (s *Service) forecastTurn(ctx context.Context) error {
	select {
	case s.forecast.gate <- struct{}{}:
		return nil
	case <-ctx.Done():
		return mfagate.Errorf(mfagate.EUNAVAILABLE, "The forecast is still being made: try again in a moment")
	}
}

// makeForecast makes and keeps a forecast; the caller holds the turn.
func (s *Service) makeForecast(ctx context.Context) (*Forecast, error) {
	ctx, cancel := context.WithTimeout(ctx, forecastTimeout)
	defer cancel()
	made := s.Now()
	sum, err := s.Forecast(ctx, s.RolloutNow())
	if err != nil {
		return nil, fmt.Errorf("forecast the rollout: %w", err)
	}
	f := &Forecast{Summary: sum, Made: made}
	s.forecast.set(f)
	return f, nil
}

// fresh reports whether f may still be shown.
func (s *Service) fresh(f *Forecast) bool {
	now := s.Now()
	return !now.Before(f.Made) && now.Sub(f.Made) < forecastFor
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
