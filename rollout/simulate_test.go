package rollout_test

import (
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/mfagate/mfagate/rollout"
)

// outcomes builds a full count map: allow, offer, require, challenge.
func outcomes(allow, offer, require, challenge int) map[rollout.Outcome]int {
	return map[rollout.Outcome]int{rollout.Allow: allow, rollout.OfferEnrollment: offer, rollout.RequireEnrollment: require, rollout.Challenge: challenge}
}

func TestSimulator(t *testing.T) {
	r := specRollout(t)
	ext := mustUTC(t, "2027-08-01T12:00:00Z")
	type member struct {
		p        rollout.Person
		signedIn bool
	}
	people := []member{
		{rollout.Person{Roles: []string{"admin"}}, true},
		{rollout.Person{Roles: []string{"admin"}}, false},
		{rollout.Person{Roles: []string{"admin"}, Methods: []string{"email"}}, true},
		{rollout.Person{Roles: []string{"user"}}, false},
		{rollout.Person{Roles: []string{"admin", "user"}, ExtendedUntil: ext}, true},
		{rollout.Person{Roles: []string{"operator", "operator"}, Methods: []string{"totp"}}, true},
		{rollout.Person{}, true},
		{rollout.Person{Roles: []string{"user"}, Methods: []string{"email"}, ExtendedUntil: ext}, false},
	}
	tests := []struct {
		name       string
		at         string
		n          int // the first n people
		want       rollout.Summary
		wantByRole map[string]map[rollout.Outcome]int
	}{
		{"optional enrollment, admins forced on July 13", "2027-07-01T09:00:00Z", 7,
			rollout.Summary{Total: 7, ByOutcome: outcomes(2, 3, 0, 2), Next: &r.Phases[2], ForcedAtNext: 2, ForcedAtNextNeverSignedIn: 1},
			map[string]map[rollout.Outcome]int{"admin": outcomes(0, 3, 0, 1), "user": outcomes(1, 1, 0, 0), "operator": outcomes(0, 0, 0, 1)}},
		{"email verification required, everyone forced on July 31", "2027-07-20T09:00:00Z", 8,
			rollout.Summary{Total: 8, ByOutcome: outcomes(2, 1, 2, 3), Extended: 1, NeverSignedIn: 1, Next: &r.Phases[3], ForcedAtNext: 2, ForcedAtNextNeverSignedIn: 1},
			map[string]map[rollout.Outcome]int{"admin": outcomes(0, 1, 2, 1), "user": outcomes(1, 1, 0, 1), "operator": outcomes(0, 0, 0, 1)}},
		{"after the last phase nothing comes next", "2027-08-15T09:00:00Z", 8,
			rollout.Summary{Total: 8, ByOutcome: outcomes(0, 0, 5, 3), NeverSignedIn: 2},
			map[string]map[rollout.Outcome]int{"admin": outcomes(0, 0, 3, 1), "user": outcomes(0, 0, 2, 1), "operator": outcomes(0, 0, 0, 1)}},
		{"before the rollout the first phase is next, and notifies only", "2027-01-01T00:00:00Z", 8,
			rollout.Summary{Total: 8, ByOutcome: outcomes(5, 0, 0, 3), Next: &r.Phases[0]},
			map[string]map[rollout.Outcome]int{"admin": outcomes(3, 0, 0, 1), "user": outcomes(2, 0, 0, 1), "operator": outcomes(0, 0, 0, 1)}},
		{"nobody", "2027-07-20T09:00:00Z", 0,
			rollout.Summary{ByOutcome: outcomes(0, 0, 0, 0), Next: &r.Phases[3]}, map[string]map[rollout.Outcome]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := mustUTC(t, tt.at)
			s := rollout.NewSimulator(r, at)
			for _, m := range people[:tt.n] {
				s.Add(m.p, m.signedIn)
			}
			got := s.Summary()
			want := tt.want
			if !got.At.Equal(at) {
				t.Errorf("at: got %v, want %v", got.At, at)
			}
			for _, c := range []struct {
				what      string
				got, want int
			}{
				{"total", got.Total, want.Total},
				{"extended", got.Extended, want.Extended},
				{"never signed in", got.NeverSignedIn, want.NeverSignedIn},
				{"forced at next", got.ForcedAtNext, want.ForcedAtNext},
				{"forced at next, never signed in", got.ForcedAtNextNeverSignedIn, want.ForcedAtNextNeverSignedIn},
			} {
				if c.got != c.want {
					t.Errorf("%s: got %d, want %d", c.what, c.got, c.want)
				}
			}
			if got.Next != want.Next {
				t.Errorf("next: got %v, want %v", phaseName(got.Next), phaseName(want.Next))
			}
			if !maps.Equal(got.ByOutcome, want.ByOutcome) {
				t.Errorf("by outcome: got %v, want %v", got.ByOutcome, want.ByOutcome)
			}
			if !maps.EqualFunc(got.ByRole, tt.wantByRole, maps.Equal) {
				t.Errorf("by role: got %v, want %v", got.ByRole, tt.wantByRole)
			}
		})
	}
}

// TestSimulatorGroupIsItsPeople: adding a group of n people alike counts
// exactly what adding each of them does, every field of the summary, at
// instants around each phase; an empty group counts nothing.
func TestSimulatorGroupIsItsPeople(t *testing.T) {
	r := specRollout(t)
	for i := range r.Phases {
		for _, at := range []time.Time{r.Phases[i].Start.Add(-time.Second), r.Phases[i].Start} {
			one, grouped := rollout.NewSimulator(r, at), rollout.NewSimulator(r, at)
			n := 1
			for _, roles := range roleSets {
				for _, factors := range factorSets {
					for _, f := range []rollout.Facts{{}, {SignedIn: true}, {Unreached: true}} {
						n = n%5 + 1
						p := rollout.Person{Roles: roles, Methods: factors}
						for range n {
							one.AddFacts(p, f)
						}
						grouped.AddGroup(p, f, n)
						grouped.AddGroup(p, f, 0)
					}
				}
			}
			if got, want := grouped.Summary(), one.Summary(); !reflect.DeepEqual(got, want) {
				t.Errorf("at %v: grouped %+v\none by one %+v", at, got, want)
			}
		}
	}
}

// TestSimulatorAgreesWithDecide: the counts are exactly the decisions.
func TestSimulatorAgreesWithDecide(t *testing.T) {
	r := specRollout(t)
	for i := range r.Phases {
		at := r.Phases[i].Start.Add(-time.Second)
		s := rollout.NewSimulator(r, at)
		want := outcomes(0, 0, 0, 0)
		for _, roles := range roleSets {
			for _, factors := range factorSets {
				p := rollout.Person{Roles: roles, Methods: factors}
				s.Add(p, true)
				want[rollout.Decide(r, p, at).Outcome]++
			}
		}
		if got := s.Summary(); !maps.Equal(got.ByOutcome, want) || got.Next != &r.Phases[i] {
			t.Errorf("at %v: got %v next %v, want %v next %v", at, got.ByOutcome, phaseName(got.Next), want, r.Phases[i].Name)
		}
	}
	if got := rollout.NewSimulator(nil, jan).Summary(); got.Next != nil || got.Total != 0 {
		t.Errorf("nil rollout: got next %v total %d, want none", phaseName(got.Next), got.Total)
	}
}

// TestSimulatorUnreached: of those forced at the next phase, the people
// whose address is refused are counted apart; others are not counted.
func TestSimulatorUnreached(t *testing.T) {
	r := specRollout(t)
	at := mustUTC(t, "2027-07-01T09:00:00Z") // admins are forced on July 13
	s := rollout.NewSimulator(r, at)
	admin := rollout.Person{Roles: []string{"admin"}}
	s.AddFacts(admin, rollout.Facts{SignedIn: true, Unreached: true})
	s.AddFacts(admin, rollout.Facts{Unreached: true})
	s.AddFacts(admin, rollout.Facts{SignedIn: true})
	// Unreached, but not forced at the next phase: not counted.
	s.AddFacts(rollout.Person{Roles: []string{"user"}}, rollout.Facts{Unreached: true})
	s.AddFacts(rollout.Person{Roles: []string{"admin"}, Methods: []string{"email"}}, rollout.Facts{Unreached: true})
	got := s.Summary()
	if got.ForcedAtNext != 3 || got.ForcedAtNextNeverSignedIn != 1 || got.ForcedAtNextUnreached != 2 {
		t.Errorf("forced at next: got %d, %d never signed in, %d unreached; want 3, 1, 2",
			got.ForcedAtNext, got.ForcedAtNextNeverSignedIn, got.ForcedAtNextUnreached)
	}

	// Already required at the instant: not forced "at next", so not counted.
	late := rollout.NewSimulator(r, mustUTC(t, "2027-07-20T09:00:00Z"))
	late.AddFacts(admin, rollout.Facts{Unreached: true})
	if got := late.Summary(); got.ForcedAtNextUnreached != 0 || got.ByOutcome[rollout.RequireEnrollment] != 1 {
		t.Errorf("already required: got %d unreached forced at next, %d required; want 0, 1",
			got.ForcedAtNextUnreached, got.ByOutcome[rollout.RequireEnrollment])
	}
}
