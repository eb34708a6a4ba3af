package rollout_test

import (
	"slices"
	"testing"
	"time"

	"github.com/mfagate/mfagate/rollout"
)

// The pacing rules of a phase, decided person by person: grace windows
// and capped skips. The schedule is in London, whose clocks go forward on
// 28 March 2027, so that windows crossing the change show that a day is a
// calendar day: the same time on the clock, 23 hours later.

var london = mustZone("Europe/London")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at reads a wall-clock time in London, such as "2027-03-20 10:00:00".
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation(time.DateTime, s, london)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestGraceWindows(t *testing.T) {
	start := at(t, "2027-03-15 00:00:00")
	required := rollout.Phase{Name: "Required", Start: start, Audience: []string{rollout.Everyone},
		Requirement: rollout.Required, Methods: []string{"email"}, Grace: 14 * 24 * time.Hour}
	capped := required
	capped.GraceUntil = at(t, "2027-03-25 00:00:00")
	plain := &rollout.Rollout{Location: london, Phases: []rollout.Phase{required}}
	until := &rollout.Rollout{Location: london, Phases: []rollout.Phase{capped}}
	shown := func(s string) rollout.Pace { return rollout.Pace{Phase: "Required", Shown: at(t, s)} }

	tests := []struct {
		name     string
		r        *rollout.Rollout
		p        rollout.Person
		now      time.Time
		outcome  rollout.Outcome
		grace    bool
		unshown  bool
		deadline time.Time
	}{
		{"a second before the start: nothing yet", plain, rollout.Person{}, start.Add(-time.Second), rollout.Allow, false, false, time.Time{}},
		{"never shown: the window starts now", plain, rollout.Person{}, start.Add(time.Second), rollout.OfferEnrollment, true, true, at(t, "2027-03-29 00:00:01")},
		{"a late joiner's first sign-in gets their own 14 days", plain, rollout.Person{}, at(t, "2027-05-02 08:30:00"), rollout.OfferEnrollment, true, true, at(t, "2027-05-16 08:30:00")},
		{"shown before the clocks change: a second before the window ends", plain, rollout.Person{Pace: shown("2027-03-20 10:00:00")},
			at(t, "2027-04-03 09:59:59"), rollout.OfferEnrollment, true, false, at(t, "2027-04-03 10:00:00")},
		{"shown before the clocks change: at the end, on the clock's same hour", plain, rollout.Person{Pace: shown("2027-03-20 10:00:00")},
			at(t, "2027-04-03 10:00:00"), rollout.RequireEnrollment, false, false, time.Time{}},
		{"shown at the start: the window is counted from the start", plain, rollout.Person{Pace: shown("2027-03-15 00:00:00")},
			at(t, "2027-03-28 23:59:59"), rollout.OfferEnrollment, true, false, at(t, "2027-03-29 00:00:00")},
		{"a record older than the start counts from the start", plain, rollout.Person{Pace: shown("2027-03-01 09:00:00")},
			at(t, "2027-03-28 23:59:59"), rollout.OfferEnrollment, true, false, at(t, "2027-03-29 00:00:00")},
		{"another phase's record does not count: the window starts now", plain,
			rollout.Person{Pace: rollout.Pace{Phase: "Earlier", Shown: at(t, "2027-03-01 09:00:00")}},
			at(t, "2027-04-20 12:00:00"), rollout.OfferEnrollment, true, true, at(t, "2027-05-04 12:00:00")},
		{"grace_until ends every window: a second before", until, rollout.Person{Pace: shown("2027-03-20 10:00:00")},
			at(t, "2027-03-24 23:59:59"), rollout.OfferEnrollment, true, false, at(t, "2027-03-25 00:00:00")},
		{"grace_until ends every window: at it", until, rollout.Person{Pace: shown("2027-03-20 10:00:00")},
			at(t, "2027-03-25 00:00:00"), rollout.RequireEnrollment, false, false, time.Time{}},
		{"grace_until reached before anyone showed them: required at once", until, rollout.Person{},
			at(t, "2027-04-01 09:00:00"), rollout.RequireEnrollment, false, false, time.Time{}},
		{"an extension that ends later is the deadline", plain,
			rollout.Person{Pace: shown("2027-03-20 10:00:00"), ExtendedUntil: at(t, "2027-04-30 23:59:59")},
			at(t, "2027-04-02 12:00:00"), rollout.OfferEnrollment, true, false, at(t, "2027-04-30 23:59:59")},
		{"a qualifying factor: challenged, no window", plain, rollout.Person{Methods: []string{"email"}},
			start.Add(time.Hour), rollout.Challenge, false, false, time.Time{}},
		{"another factor during the window: challenged with it", plain, rollout.Person{Methods: []string{"totp"}, Pace: shown("2027-03-20 10:00:00")},
			at(t, "2027-03-21 10:00:00"), rollout.Challenge, true, false, at(t, "2027-04-03 10:00:00")},
		{"another factor after the window: must add one that counts", plain, rollout.Person{Methods: []string{"totp"}, Pace: shown("2027-03-20 10:00:00")},
			at(t, "2027-04-03 10:00:00"), rollout.RequireEnrollment, false, false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := rollout.Decide(tt.r, tt.p, tt.now)
			if d.Outcome != tt.outcome || d.Grace != tt.grace || d.Unshown != tt.unshown || !d.Deadline.Equal(tt.deadline) {
				t.Errorf("got %v grace=%v unshown=%v deadline %v; want %v grace=%v unshown=%v deadline %v",
					d.Outcome, d.Grace, d.Unshown, d.Deadline.In(london), tt.outcome, tt.grace, tt.unshown, tt.deadline.In(london))
			}
			if d.Outcome == rollout.OfferEnrollment && d.Capped {
				t.Errorf("a grace window's offer says skips are capped")
			}
		})
	}
}

func TestCappedSkips(t *testing.T) {
	start := at(t, "2027-03-01 00:00:00")
	optional := rollout.Phase{Name: "Optional", Start: start, Audience: []string{"admin"}, Requirement: rollout.Optional,
		Methods: []string{"email", "totp"}, MaxSkips: 3, RepromptAfter: 24 * time.Hour, Then: rollout.Required}
	r := &rollout.Rollout{Location: london, Phases: []rollout.Phase{optional}}
	admin := func(skips int, last string) rollout.Person {
		p := rollout.Person{Roles: []string{"admin"}, Pace: rollout.Pace{Phase: "Optional", Skips: skips}}
		if last != "" {
			p.Pace.LastSkip = at(t, last)
		}
		return p
	}

	tests := []struct {
		name      string
		p         rollout.Person
		now       time.Time
		outcome   rollout.Outcome
		skipsLeft int
		used      bool
		snoozed   bool
		back      time.Time
	}{
		{"never skipped: three skips", admin(0, ""), start, rollout.OfferEnrollment, 3, false, false, time.Time{}},
		{"a second before a day after a skip: not asked", admin(1, "2027-03-10 09:00:00"), at(t, "2027-03-11 08:59:59"), rollout.Allow, 2, false, true, at(t, "2027-03-11 09:00:00")},
		{"a day after a skip: asked again", admin(1, "2027-03-10 09:00:00"), at(t, "2027-03-11 09:00:00"), rollout.OfferEnrollment, 2, false, false, time.Time{}},
		{"across the clock change a day is 23 hours", admin(2, "2027-03-27 12:00:00"), at(t, "2027-03-28 11:59:59"), rollout.Allow, 1, false, true, at(t, "2027-03-28 12:00:00")},
		{"the last skip left", admin(2, "2027-03-27 12:00:00"), at(t, "2027-03-28 12:00:00"), rollout.OfferEnrollment, 1, false, false, time.Time{}},
		{"three skips used: required, no snooze", admin(3, "2027-03-29 12:00:00"), at(t, "2027-03-29 12:00:01"), rollout.RequireEnrollment, 0, true, false, time.Time{}},
		{"skips under another phase do not count", rollout.Person{Roles: []string{"admin"}, Pace: rollout.Pace{Phase: "Earlier", Skips: 5}}, start, rollout.OfferEnrollment, 3, false, false, time.Time{}},
		{"not in the audience: nothing", rollout.Person{Roles: []string{"user"}}, start, rollout.Allow, 0, false, false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := rollout.Decide(r, tt.p, tt.now)
			if d.Outcome != tt.outcome || d.SkipsLeft != tt.skipsLeft || d.SkipsUsed != tt.used || d.Snoozed != tt.snoozed || !d.Deadline.Equal(tt.back) {
				t.Errorf("got %v skipsLeft=%d used=%v snoozed=%v back %v; want %v skipsLeft=%d used=%v snoozed=%v back %v",
					d.Outcome, d.SkipsLeft, d.SkipsUsed, d.Snoozed, d.Deadline.In(london), tt.outcome, tt.skipsLeft, tt.used, tt.snoozed, tt.back.In(london))
			}
		})
	}

	// Someone who has set up is challenged, whatever their skips.
	if d := rollout.Decide(r, rollout.Person{Roles: []string{"admin"}, Methods: []string{"totp"}, Pace: rollout.Pace{Phase: "Optional", Skips: 3}}, start); d.Outcome != rollout.Challenge || d.Capped || d.SkipsUsed {
		t.Errorf("with a factor: got %+v, want a challenge and nothing about skips", d)
	}
	// Support's extension softens Then as it softens any requirement.
	p := admin(3, "2027-03-05 09:00:00")
	p.ExtendedUntil = at(t, "2027-03-31 23:59:59")
	if d := rollout.Decide(r, p, at(t, "2027-03-20 09:00:00")); d.Outcome != rollout.OfferEnrollment || !d.Extended || !d.Deadline.Equal(p.ExtendedUntil) {
		t.Errorf("skips used, extension running: got %+v, want an offer until the extension ends", d)
	}
}

func TestRetiringEmail(t *testing.T) {
	start := at(t, "2027-10-01 00:00:00")
	r := &rollout.Rollout{Location: london, Phases: []rollout.Phase{
		{Name: "Email and apps", Start: at(t, "2027-07-31 00:00:00"), Audience: []string{rollout.Everyone},
			Requirement: rollout.Required, Methods: []string{"email", "totp"}},
		{Name: "Apps only", Start: start, Audience: []string{"admin"}, Requirement: rollout.Required,
			Methods: []string{"totp"}, Retire: []string{"email"}, Grace: 14 * 24 * time.Hour},
	}}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	admin := func(methods ...string) rollout.Person {
		return rollout.Person{Roles: []string{"admin"}, Methods: methods}
	}
	shownAt := rollout.Pace{Phase: "Apps only", Shown: at(t, "2027-10-04 09:00:00")}
	emailOnly := admin("email")
	emailOnly.Pace = shownAt

	tests := []struct {
		name    string
		p       rollout.Person
		now     time.Time
		outcome rollout.Outcome
		methods []string
		grace   bool
	}{
		{"email only, a second before: email still counts", admin("email"), start.Add(-time.Second), rollout.Challenge, []string{"email"}, false},
		{"email only, in their window: asked for email, told to add an app", emailOnly, at(t, "2027-10-18 08:59:59"), rollout.Challenge, []string{"email"}, true},
		{"email only, after their window: must add an app", emailOnly, at(t, "2027-10-18 09:00:00"), rollout.RequireEnrollment, []string{"totp"}, false},
		{"both: email no longer asked for", admin("email", "totp"), start, rollout.Challenge, []string{"totp"}, false},
		{"nothing yet: offered an app in their window", admin(), start, rollout.OfferEnrollment, []string{"totp"}, true},
		{"not an administrator: email still counts", rollout.Person{Roles: []string{"user"}, Methods: []string{"email"}}, start, rollout.Challenge, []string{"email"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := rollout.Decide(r, tt.p, tt.now)
			if d.Outcome != tt.outcome || !slices.Equal(d.Methods, tt.methods) || d.Grace != tt.grace {
				t.Errorf("got %v %v grace=%v; want %v %v grace=%v", d.Outcome, d.Methods, d.Grace, tt.outcome, tt.methods, tt.grace)
			}
		})
	}
}

// TestPacedDecideAllocatesNothing: grace windows and capped skips keep
// Decide free of allocations, as it is at every sign-in.
func TestPacedDecideAllocatesNothing(t *testing.T) {
	ph := rollout.Phase{Name: "Required", Start: at(t, "2027-03-15 00:00:00"), Audience: []string{"admin"},
		Requirement: rollout.Required, Methods: []string{"email"}, Grace: 14 * 24 * time.Hour, GraceUntil: at(t, "2027-05-01 00:00:00")}
	opt := rollout.Phase{Name: "Optional", Start: at(t, "2027-03-01 00:00:00"), Audience: []string{"user"},
		Requirement: rollout.Optional, Methods: []string{"email"}, MaxSkips: 3, RepromptAfter: 24 * time.Hour, Then: rollout.Required}
	r := &rollout.Rollout{Location: london, Phases: []rollout.Phase{opt, ph}}
	now := at(t, "2027-03-28 12:00:00")
	for _, p := range []rollout.Person{
		{Roles: []string{"admin"}, Pace: rollout.Pace{Phase: "Required", Shown: at(t, "2027-03-20 10:00:00")}},
		{Roles: []string{"user"}, Pace: rollout.Pace{Phase: "Optional", Skips: 2, LastSkip: at(t, "2027-03-28 09:00:00")}},
	} {
		if n := testing.AllocsPerRun(100, func() { rollout.Decide(r, p, now) }); n != 0 {
			t.Errorf("Decide for %v allocates %v times per run, want 0", p.Roles, n)
		}
	}
}
