package rollout_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mfagate/mfagate/rollout"
)

var (
	roleSets   = [][]string{{"admin"}, {"user"}, {"operator", "support"}, {"admin", "user"}, {}}
	factorSets = [][]string{{}, {"email"}, {"totp"}, {"email", "totp"}}
	both       = []string{"email", "totp"}
)

// TestDecideSpecGrid walks every window of the SPEC's schedule, every
// kind of person and every set of factors. Expectations come from a table
// written by hand for this schedule, and every cell is also checked
// against the oracle and the invariants.
func TestDecideSpecGrid(t *testing.T) {
	r := specRollout(t)
	type phases struct{ active, next string } // by name; "<nil>" for none
	windows := []struct {
		name         string
		at           string
		admin, other phases // admin: any role set with admin
	}{
		{"before the first phase", "2027-05-01T12:00:00Z", phases{"<nil>", pComm}, phases{"<nil>", pFull}},
		{"communication", "2027-06-01T09:00:00Z", phases{pComm, pOptional}, phases{"<nil>", pFull}},
		{"optional enrollment", "2027-07-01T09:00:00Z", phases{pOptional, pEmail}, phases{"<nil>", pFull}},
		// Full enforcement asks admins nothing new: same methods.
		{"email verification required", "2027-07-20T09:00:00Z", phases{pEmail, "<nil>"}, phases{"<nil>", pFull}},
		// Both required phases apply to admins; the tie goes to the later.
		{"full enforcement", "2027-08-15T09:00:00Z", phases{pFull, "<nil>"}, phases{pFull, "<nil>"}},
	}
	type want struct {
		outcome rollout.Outcome
		methods []string
		def     string
	}
	withoutFactor := map[string]want{
		"<nil>":   {rollout.Allow, nil, ""},
		pComm:     {rollout.Allow, nil, ""},
		pOptional: {rollout.OfferEnrollment, both, ""},
		pEmail:    {rollout.RequireEnrollment, both, "email"},
		pFull:     {rollout.RequireEnrollment, both, ""},
	}
	cells := 0
	for _, w := range windows {
		now := mustUTC(t, w.at)
		for _, roles := range roleSets {
			for _, factors := range factorSets {
				p := rollout.Person{Roles: roles, Methods: factors}
				t.Run(fmt.Sprintf("%s/roles=%v/factors=%v", w.name, roles, factors), func(t *testing.T) {
					cells++
					ph := w.other
					if slices.Contains(roles, "admin") {
						ph = w.admin
					}
					exp := withoutFactor[ph.active]
					if len(factors) > 0 {
						// Every phase here accepts both methods.
						exp = want{rollout.Challenge, factors, ""}
					}
					got := rollout.Decide(r, p, now)
					if got.Outcome != exp.outcome {
						t.Errorf("outcome: got %v, want %v", got.Outcome, exp.outcome)
					}
					if !slices.Equal(got.Methods, exp.methods) {
						t.Errorf("methods: got %v, want %v", got.Methods, exp.methods)
					}
					if got.DefaultMethod != exp.def {
						t.Errorf("default method: got %q, want %q", got.DefaultMethod, exp.def)
					}
					if phaseName(got.Active) != ph.active {
						t.Errorf("active: got %v, want %v", phaseName(got.Active), ph.active)
					}
					if phaseName(got.Next) != ph.next {
						t.Errorf("next: got %v, want %v", phaseName(got.Next), ph.next)
					}
					if got.Extended {
						t.Errorf("extended: got true, want false")
					}
					if o := oracle(r, p, now); !sameDecision(got, o) {
						t.Errorf("got %v, want (oracle) %v", showDecision(got), showDecision(o))
					}
					checkInvariants(t, r, p, now, got)
				})
			}
		}
	}
	if want := len(windows) * len(roleSets) * len(factorSets); cells != want {
		t.Errorf("cells: got %d, want %d", cells, want)
	}
}

// TestDecideVariantGrid adds a phase that demands an authenticator app
// from administrators and checks every cell, with and without an
// extension, against the oracle and the invariants.
func TestDecideVariantGrid(t *testing.T) {
	r := specRollout(t)
	r.Phases = append(r.Phases, rollout.Phase{Name: "Admins on an app", Start: mustDate(t, r.Location, "2027-09-01"),
		Audience: []string{"admin"}, Requirement: rollout.Required, Methods: []string{"totp"}, DefaultMethod: "totp"})
	if err := r.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	var instants []time.Time
	for _, ph := range r.Phases {
		instants = append(instants, ph.Start.Add(-time.Nanosecond), ph.Start, ph.Start.Add(36*time.Hour))
	}
	instants = append(instants, time.Time{}, mustUTC(t, "2030-01-01T00:00:00Z"))
	extensions := []time.Duration{0, time.Hour, 30 * day}
	for _, now := range instants {
		for _, roles := range roleSets {
			for _, factors := range factorSets {
				for _, ext := range extensions {
					p := rollout.Person{Roles: roles, Methods: factors}
					if ext > 0 {
						p.ExtendedUntil = now.Add(ext)
					}
					got := rollout.Decide(r, p, now)
					if want := oracle(r, p, now); !sameDecision(got, want) {
						t.Errorf("roles %v factors %v ext %v at %s: got %v, want %v", roles, factors, ext, now.UTC(), showDecision(got), showDecision(want))
					}
					checkInvariants(t, r, p, now, got)
				}
			}
		}
	}
}

// TestDecideBoundaries checks each start to the second and to the
// nanosecond: a phase is in force at exactly Start and not before.
func TestDecideBoundaries(t *testing.T) {
	r := specRollout(t)
	admin := rollout.Person{Roles: []string{"admin"}}
	user := rollout.Person{Roles: []string{"user"}}
	tests := []struct {
		name         string
		person       rollout.Person
		start        string // UTC instant of the phase's start (midnight BST)
		before, at   string // active phase names
		beforeO, atO rollout.Outcome
	}{
		{"communication", admin, "2027-05-25T23:00:00Z", "<nil>", pComm, rollout.Allow, rollout.Allow},
		{"optional", admin, "2027-06-10T23:00:00Z", pComm, pOptional, rollout.Allow, rollout.OfferEnrollment},
		{"email required", admin, "2027-07-12T23:00:00Z", pOptional, pEmail, rollout.OfferEnrollment, rollout.RequireEnrollment},
		{"full enforcement, admin", admin, "2027-07-30T23:00:00Z", pEmail, pFull, rollout.RequireEnrollment, rollout.RequireEnrollment},
		{"full enforcement, user", user, "2027-07-30T23:00:00Z", "<nil>", pFull, rollout.Allow, rollout.RequireEnrollment},
	}
	for _, tt := range tests {
		start := mustUTC(t, tt.start)
		for _, c := range []struct {
			name    string
			now     time.Time
			active  string
			outcome rollout.Outcome
		}{
			{"one second before", start.Add(-time.Second), tt.before, tt.beforeO},
			{"one nanosecond before", start.Add(-time.Nanosecond), tt.before, tt.beforeO},
			{"exactly at start", start, tt.at, tt.atO},
			{"one nanosecond after", start.Add(time.Nanosecond), tt.at, tt.atO},
		} {
			t.Run(tt.name+"/"+c.name, func(t *testing.T) {
				got := rollout.Decide(r, tt.person, c.now)
				if phaseName(got.Active) != c.active {
					t.Errorf("active: got %v, want %v", phaseName(got.Active), c.active)
				}
				if got.Outcome != c.outcome {
					t.Errorf("outcome: got %v, want %v", got.Outcome, c.outcome)
				}
				checkInvariants(t, r, tt.person, c.now, got)
			})
		}
	}
}

// TestDecideTimeZones builds starts as config does (midnight in the zone)
// around daylight-saving changes and odd offsets, and checks the decision
// at the UTC instants either side.
func TestDecideTimeZones(t *testing.T) {
	tests := []struct {
		name, zone, date string
		start            string   // the UTC instant midnight must be
		off              []string // instants at which the phase is not yet in force
		on               []string // instants at which it is
	}{
		{"London, spring-forward day itself", "Europe/London", "2027-03-28", "2027-03-28T00:00:00Z",
			[]string{"2027-03-27T23:00:00Z", "2027-03-27T23:59:59Z"}, []string{"2027-03-28T00:00:00Z", "2027-03-28T01:00:00Z"}},
		{"London, first day of summer time", "Europe/London", "2027-03-29", "2027-03-28T23:00:00Z",
			[]string{"2027-03-28T22:59:59Z"}, []string{"2027-03-28T23:00:00Z", "2027-03-29T00:00:00Z"}},
		{"London, fall-back day itself", "Europe/London", "2027-10-31", "2027-10-30T23:00:00Z",
			[]string{"2027-10-30T22:59:59Z"}, []string{"2027-10-30T23:00:00Z", "2027-10-31T00:00:00Z"}},
		{"London, first day of winter time", "Europe/London", "2027-11-01", "2027-11-01T00:00:00Z",
			[]string{"2027-10-31T23:00:00Z", "2027-10-31T23:59:59Z"}, []string{"2027-11-01T00:00:00Z"}},
		{"New York, spring-forward day", "America/New_York", "2027-03-14", "2027-03-14T05:00:00Z",
			[]string{"2027-03-14T04:59:59Z"}, []string{"2027-03-14T05:00:00Z"}},
		{"New York, after spring-forward", "America/New_York", "2027-03-15", "2027-03-15T04:00:00Z",
			[]string{"2027-03-15T03:59:59Z"}, []string{"2027-03-15T04:00:00Z"}},
		{"New York, fall-back day", "America/New_York", "2027-11-07", "2027-11-07T04:00:00Z",
			[]string{"2027-11-07T03:59:59Z"}, []string{"2027-11-07T04:00:00Z"}},
		{"Kolkata, half-hour offset", "Asia/Kolkata", "2027-07-13", "2027-07-12T18:30:00Z",
			[]string{"2027-07-12T18:29:59Z", "2027-07-12T18:00:00Z"}, []string{"2027-07-12T18:30:00Z", "2027-07-12T23:00:00Z"}},
	}
	p := rollout.Person{Roles: []string{"user"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustLoc(t, tt.zone)
			start := mustDate(t, loc, tt.date)
			if want := mustUTC(t, tt.start); !start.Equal(want) {
				t.Fatalf("start: got %v, want %v", start.UTC(), want)
			}
			r := &rollout.Rollout{Location: loc, Phases: []rollout.Phase{{Name: "p", Start: start,
				Audience: []string{"all"}, Requirement: rollout.Required, Methods: []string{"email"}}}}
			inUTC := &rollout.Rollout{Location: time.UTC, Phases: r.Phases}
			for _, c := range []struct {
				at   []string
				want rollout.Outcome
			}{{tt.off, rollout.Allow}, {tt.on, rollout.RequireEnrollment}} {
				for _, s := range c.at {
					now := mustUTC(t, s)
					got := rollout.Decide(r, p, now)
					if got.Outcome != c.want {
						t.Errorf("at %s: got %v, want %v", s, got.Outcome, c.want)
					}
					if other := rollout.Decide(inUTC, p, now); !sameDecision(other, got) {
						t.Errorf("at %s the zone changed the decision: got %v, want %v", s, showDecision(other), showDecision(got))
					}
				}
			}
		})
	}
}
