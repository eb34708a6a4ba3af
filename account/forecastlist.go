package account

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
)

// The forecast that names names: who, at a time, would be made to set up
// a second factor or offered it, each decided by the policy sign-in uses
// (Service.DecideAt), so that every rule sign-in follows (the staff rule,
// extensions, and whatever comes next) is in the list without a change
// here. It reads every account, a page at a time: a list for people to
// act on, not a count (Forecast and PhaseForecasts count).

// forecastBatch is how many accounts a page of the list reads at once.
const forecastBatch = 500

// ForecastEntry is one person the rollout would send to setup at a time.
type ForecastEntry struct {
	User     *mfagate.User
	Methods  []string // methods of the confirmed factors, sorted
	Decision Decision // as sign-in would decide at that time
	// Why says in words what made the decision, for staff.
	Why string
}

// Forced reports whether the person must set up a second factor (they
// cannot skip it); otherwise they are offered setup.
func (e ForecastEntry) Forced() bool { return e.Decision.Outcome == rollout.RequireEnrollment }

// OwnDeadline is the person's own last moment before setup stops being
// skippable for them: the end of their grace window or extension,
// whichever is later (Decision.Deadline), or, for someone merely offered
// setup, the start of their next required phase. Zero when none is
// known, as for someone already forced.
func (d Decision) OwnDeadline() time.Time {
	if (d.Grace || !d.ExtendedUntil.IsZero()) && !d.Deadline.IsZero() {
		return d.Deadline
	}
	if !d.ExtendedUntil.IsZero() {
		return d.ExtendedUntil
	}
	if d.Outcome == rollout.OfferEnrollment && d.NextPhase != nil && d.NextPhase.Required {
		return d.NextPhase.Start
	}
	return time.Time{}
}

// ForecastPeople lists, in ID order, the enabled accounts after afterID
// that at time at would be required to set up a second factor or
// offered it, up to limit of them (0: no limit). more reports whether
// there may be others after the last one returned.
func (s *Service) ForecastPeople(ctx context.Context, at time.Time, afterID int64, limit int) (out []ForecastEntry, more bool, err error) {
	for {
		page, err := s.SearchPeople(ctx, mfagate.PeopleFilter{AfterID: afterID, Limit: forecastBatch})
		if err != nil {
			return nil, false, fmt.Errorf("forecast people: %w", err)
		}
		for _, p := range page {
			afterID = p.User.ID
			e, ok := s.forecastEntry(p, at)
			if !ok {
				continue
			}
			if limit > 0 && len(out) == limit {
				// One more found: there is a next page. Those read
				// after it are read again then.
				return out, true, nil
			}
			out = append(out, e)
		}
		if len(page) < forecastBatch {
			return out, false, nil
		}
	}
}

// forecastEntry decides for one account, reporting whether it belongs in
// the list.
func (s *Service) forecastEntry(p *mfagate.PersonSummary, at time.Time) (ForecastEntry, bool) {
	if p.User.Disabled {
		return ForecastEntry{}, false
	}
	factors := make([]*mfagate.Factor, len(p.Methods))
	for i, m := range p.Methods {
		factors[i] = &mfagate.Factor{UserID: p.User.ID, Method: m}
	}
	d := s.DecideAt(p.User, factors, at)
	if d.Outcome != rollout.RequireEnrollment && d.Outcome != rollout.OfferEnrollment {
		return ForecastEntry{}, false
	}
	return ForecastEntry{User: p.User, Methods: p.Methods, Decision: d, Why: s.why(p.User, p.Methods, d)}, true
}

// why says what made a setup decision, in words for staff: the phase and
// whom it is for, the staff rule, the person's factor that does not
// count, or their extension. Never an outcome's identifier.
func (s *Service) why(u *mfagate.User, methods []string, d Decision) string {
	var parts []string
	switch ph := s.phaseNamed(d.Phase); {
	case d.Staff:
		parts = append(parts, "operators and support must set up a second factor whatever the phase says, because they can reset other people's sign-in")
	case ph != nil:
		parts = append(parts, fmt.Sprintf("phase %q is in force for %s (%s)", ph.Name, audienceWords(ph.Audience), lowerFirst(PhaseRequires(ph))))
	case s.rollout == nil:
		parts = append(parts, "no rollout is configured, so everyone without a second factor is offered setup")
	}
	if len(methods) > 0 && d.Outcome == rollout.RequireEnrollment && !d.Staff {
		parts = append(parts, fmt.Sprintf("they have set up %s, which this phase does not accept", mfagate.MethodPhrases(methods)))
	}
	if !d.ExtendedUntil.IsZero() {
		parts = append(parts, "they have more time to set up, until "+ExtensionEnds(d.ExtendedUntil, s.loc))
	}
	switch {
	case d.Grace && d.ExtendedUntil.IsZero():
		parts = append(parts, "their own time to set up runs until "+d.Deadline.In(s.loc).Format("2 January 2006 15:04 MST"))
	case d.SkipsUsed:
		parts = append(parts, "they have skipped setting up as many times as the phase allows")
	case d.Capped:
		parts = append(parts, "they may skip "+mfagate.Plural(d.SkipsLeft, "more time", "more times"))
	}
	if len(parts) == 0 {
		return "the rollout's schedule"
	}
	w := strings.Join(parts, "; ")
	return strings.ToUpper(w[:1]) + w[1:]
}

func (s *Service) phaseNamed(name string) *rollout.Phase {
	if s.rollout == nil || name == "" {
		return nil
	}
	for i := range s.rollout.Phases {
		if s.rollout.Phases[i].Name == name {
			return &s.rollout.Phases[i]
		}
	}
	return nil
}

// audienceWords names a phase's audience: "everyone", or its roles.
func audienceWords(audience []string) string {
	for _, a := range audience {
		if a == rollout.Everyone {
			return "everyone"
		}
	}
	if len(audience) == 1 {
		return "the role " + audience[0]
	}
	return "the roles " + strings.Join(audience, ", ")
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// PhaseForecast counts, for one phase yet to start, the people it will
// newly force to set up a second factor on its first day, as things
// stand now.
type PhaseForecast struct {
	Phase *rollout.Phase // points into the Service's rollout: read it, never change it
	// Forced are those not required to set up just before it starts who
	// will be when it does; NeverSignedIn, Unreached and Invited are of
	// them.
	Forced, NeverSignedIn, Unreached, Invited int
	// MustSetUp is everyone who must set up from its start, newly or not.
	MustSetUp int
}

// PhaseForecasts counts, for every phase that starts after the rollout's
// time, whom it will force to set up. Like Forecast it reads the kept
// group counts, once, and decides once per group per phase: a few dozen
// decisions however many accounts there are.
func (s *Service) PhaseForecasts(ctx context.Context) ([]PhaseForecast, error) {
	if s.rollout == nil {
		return nil, nil
	}
	now := s.RolloutNow()
	var (
		groups   []*mfagate.Group
		extended []*mfagate.Person
	)
	err := s.view(ctx, func(tx *txn) (err error) {
		// Extensions that end before now are in their groups already; any
		// running past now may matter at a later phase, so they come too.
		groups, extended, err = tx.Groups(now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("forecast the phases: %w", err)
	}
	var out []PhaseForecast
	for i := range s.rollout.Phases {
		ph := &s.rollout.Phases[i]
		if !ph.Start.After(now) {
			continue
		}
		// Just before it starts, the next phase is this one (or one
		// starting at the same instant, counted with it).
		before := simulate(s.rollout, ph.Start.Add(-time.Nanosecond), groups, extended)
		at := simulate(s.rollout, ph.Start, groups, extended)
		out = append(out, PhaseForecast{Phase: ph, Forced: before.ForcedAtNext, NeverSignedIn: before.ForcedAtNextNeverSignedIn,
			Unreached: before.ForcedAtNextUnreached, Invited: before.ForcedAtNextInvited, MustSetUp: at.ByOutcome[rollout.RequireEnrollment]})
	}
	return out, nil
}

// ForecastColumns name the cells of ForecastEntry.Record: the list's CSV
// header, the same from the command line and the API.
var ForecastColumns = []string{"username", "email", "roles", "decision", "last_sign_in", "deadline", "reachable_by_email", "why"}

// DecisionWords says the entry's decision in words: "must set up" or
// "offered setup".
func (e ForecastEntry) DecisionWords() string {
	if e.Forced() {
		return "must set up"
	}
	return "offered setup"
}

// Record is the entry as CSV cells (ForecastColumns), times in RFC 3339
// UTC, any cell a spreadsheet would run as a formula quoted with a
// leading apostrophe.
func (e ForecastEntry) Record() []string {
	reached := "yes"
	if !e.User.UnreachedAt.IsZero() {
		reached = "no"
	}
	last := "never"
	if !e.User.LastSignInAt.IsZero() {
		last = e.User.LastSignInAt.UTC().Format(time.RFC3339)
	}
	deadline := ""
	if d := e.Decision.OwnDeadline(); !d.IsZero() {
		deadline = d.UTC().Format(time.RFC3339)
	}
	cells := []string{e.User.Username, e.User.Email, strings.Join(e.User.Roles, " "), e.DecisionWords(), last, deadline, reached, e.Why}
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}
