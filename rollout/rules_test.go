package rollout_test

import (
	"slices"
	"testing"
	"time"

	"github.com/mfagate/mfagate/rollout"
)

var (
	jan = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	feb = time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	mar = time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	apr = time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)
)

func phase(name string, start time.Time, audience []string, req rollout.Requirement, methods []string, def string) rollout.Phase {
	return rollout.Phase{Name: name, Start: start, Audience: audience, Requirement: req, Methods: methods, DefaultMethod: def}
}

func TestDecideRules(t *testing.T) {
	admin, user, all := []string{"admin"}, []string{"user"}, []string{"all"}
	email, totp := []string{"email"}, []string{"totp"}
	spec := specRollout(t)
	withApp := specRollout(t)
	withApp.Phases = append(withApp.Phases, phase("Admins on an app", mustUTC(t, "2027-09-01T00:00:00Z"), admin, rollout.Required, totp, ""))
	strictest := &rollout.Rollout{Location: time.UTC, Phases: []rollout.Phase{
		phase("admins required", jan, admin, rollout.Required, email, "email"),
		phase("users optional", feb, user, rollout.Optional, both, ""),
	}}
	tie := &rollout.Rollout{Location: time.UTC, Phases: []rollout.Phase{
		phase("admins required", jan, admin, rollout.Required, both, "email"),
		phase("everyone required", feb, all, rollout.Required, both, ""),
	}}
	appOnly := &rollout.Rollout{Location: time.UTC, Phases: []rollout.Phase{phase("app only", jan, admin, rollout.Required, totp, "totp")}}
	skipping := &rollout.Rollout{Location: time.UTC, Phases: []rollout.Phase{
		phase("optional", jan, all, rollout.Optional, both, ""),
		phase("notice again", feb, all, rollout.Notify, nil, ""),
		phase("required", mar, all, rollout.Required, both, ""),
	}}
	required := &rollout.Rollout{Location: time.UTC, Phases: []rollout.Phase{phase("required", jan, all, rollout.Required, email, "email")}}
	optional := &rollout.Rollout{Location: time.UTC, Phases: []rollout.Phase{phase("optional", jan, all, rollout.Optional, both, "")}}
	empty := &rollout.Rollout{Location: time.UTC}

	tests := []struct {
		name     string
		r        *rollout.Rollout
		p        rollout.Person
		now      time.Time
		outcome  rollout.Outcome
		methods  []string
		def      string
		active   string
		next     string
		extended bool
	}{
		{"several roles get the strictest, even from an earlier phase", strictest, rollout.Person{Roles: []string{"user", "admin"}}, mar,
			rollout.RequireEnrollment, email, "email", "admins required", "<nil>", false},
		{"the other role alone gets its own phase", strictest, rollout.Person{Roles: user}, mar,
			rollout.OfferEnrollment, both, "", "users optional", "<nil>", false},
		{"a tie goes to the later phase", tie, rollout.Person{Roles: admin}, mar,
			rollout.RequireEnrollment, both, "", "everyone required", "<nil>", false},
		{"before the tie, the earlier phase rules and nothing stricter comes", tie, rollout.Person{Roles: admin}, jan,
			rollout.RequireEnrollment, both, "email", "admins required", "<nil>", false},
		{"app only: someone with email alone must enroll the app", appOnly, rollout.Person{Roles: admin, Methods: email}, feb,
			rollout.RequireEnrollment, totp, "totp", "app only", "<nil>", false},
		{"app only: someone with both is challenged with the app only", appOnly, rollout.Person{Roles: admin, Methods: []string{"email", "totp"}}, feb,
			rollout.Challenge, totp, "", "app only", "<nil>", false},
		{"app only: someone with both, listed app first", appOnly, rollout.Person{Roles: admin, Methods: []string{"totp", "email"}}, feb,
			rollout.Challenge, totp, "", "app only", "<nil>", false},
		{"app only: it does not reach users, whose email still counts", appOnly, rollout.Person{Roles: user, Methods: email}, feb,
			rollout.Challenge, email, "", "<nil>", "<nil>", false},
		{"a later required phase with other methods is next", withApp, rollout.Person{Roles: admin, Methods: email}, mustUTC(t, "2027-08-15T00:00:00Z"),
			rollout.Challenge, email, "", pFull, "Admins on an app", false},
		{"next skips a phase that is not stricter", skipping, rollout.Person{}, jan.Add(time.Hour),
			rollout.OfferEnrollment, both, "", "optional", "required", false},
		{"a notify phase lets people without a factor in", spec, rollout.Person{Roles: admin}, mustUTC(t, "2027-06-01T00:00:00Z"),
			rollout.Allow, nil, "", pComm, pOptional, false},
		{"a factor is challenged before the rollout starts", spec, rollout.Person{Roles: admin, Methods: totp}, mustUTC(t, "2027-01-01T00:00:00Z"),
			rollout.Challenge, totp, "", "<nil>", pComm, false},
		{"a factor is challenged during a notify phase", spec, rollout.Person{Roles: admin, Methods: email}, mustUTC(t, "2027-06-01T00:00:00Z"),
			rollout.Challenge, email, "", pComm, pOptional, false},
		{"everyone phases reach people without roles", spec, rollout.Person{}, mustUTC(t, "2027-08-01T00:00:00Z"),
			rollout.RequireEnrollment, both, "", pFull, "<nil>", false},
		{"empty rollout: no factor is allowed", empty, rollout.Person{Roles: admin}, mar, rollout.Allow, nil, "", "<nil>", "<nil>", false},
		{"empty rollout: a factor is challenged", empty, rollout.Person{Roles: admin, Methods: email}, mar, rollout.Challenge, email, "", "<nil>", "<nil>", false},
		{"nil rollout: a factor is challenged", nil, rollout.Person{Methods: totp}, mar, rollout.Challenge, totp, "", "<nil>", "<nil>", false},
		{"nil rollout: no factor is allowed", nil, rollout.Person{}, mar, rollout.Allow, nil, "", "<nil>", "<nil>", false},
		{"extension running: required becomes an offer", required, rollout.Person{ExtendedUntil: mar}, feb,
			rollout.OfferEnrollment, email, "email", "required", "<nil>", true},
		{"extension over at its instant: required again", required, rollout.Person{ExtendedUntil: mar}, mar,
			rollout.RequireEnrollment, email, "email", "required", "<nil>", false},
		{"extension expired: required again", required, rollout.Person{ExtendedUntil: feb}, mar,
			rollout.RequireEnrollment, email, "email", "required", "<nil>", false},
		{"extension: a factor the phase refuses is still challenged", appOnly, rollout.Person{Roles: admin, Methods: email, ExtendedUntil: apr}, feb,
			rollout.Challenge, email, "", "app only", "<nil>", true},
		{"extension: a factor the phase accepts changes nothing", appOnly, rollout.Person{Roles: admin, Methods: []string{"email", "totp"}, ExtendedUntil: apr}, feb,
			rollout.Challenge, totp, "", "app only", "<nil>", false},
		{"extension under an optional phase changes nothing", optional, rollout.Person{ExtendedUntil: apr}, feb,
			rollout.OfferEnrollment, both, "", "optional", "<nil>", false},
		{"extension before any phase changes nothing", required, rollout.Person{ExtendedUntil: apr}, jan.Add(-time.Second),
			rollout.Allow, nil, "", "<nil>", "required", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rollout.Decide(tt.r, tt.p, tt.now)
			if got.Outcome != tt.outcome {
				t.Errorf("outcome: got %v, want %v", got.Outcome, tt.outcome)
			}
			if !slices.Equal(got.Methods, tt.methods) {
				t.Errorf("methods: got %v, want %v", got.Methods, tt.methods)
			}
			if got.DefaultMethod != tt.def {
				t.Errorf("default method: got %q, want %q", got.DefaultMethod, tt.def)
			}
			if phaseName(got.Active) != tt.active {
				t.Errorf("active: got %v, want %v", phaseName(got.Active), tt.active)
			}
			if phaseName(got.Next) != tt.next {
				t.Errorf("next: got %v, want %v", phaseName(got.Next), tt.next)
			}
			if got.Extended != tt.extended {
				t.Errorf("extended: got %v, want %v", got.Extended, tt.extended)
			}
			if want := oracle(tt.r, tt.p, tt.now); !sameDecision(got, want) {
				t.Errorf("got %v, want (oracle) %v", showDecision(got), showDecision(want))
			}
			checkInvariants(t, tt.r, tt.p, tt.now, got)
		})
	}
}

// TestDecideFailsClosed: Decide never panics on a rollout that skipped
// Validate, and a requirement beyond Required counts as Required.
func TestDecideFailsClosed(t *testing.T) {
	r := &rollout.Rollout{Phases: []rollout.Phase{{Name: "odd", Start: jan, Audience: []string{"all"}, Requirement: 9, Methods: []string{"email"}}}}
	got := rollout.Decide(r, rollout.Person{}, feb)
	if got.Outcome != rollout.RequireEnrollment {
		t.Errorf("got %v, want %v", got.Outcome, rollout.RequireEnrollment)
	}
}

func TestDecideDoesNotAllocate(t *testing.T) {
	r := specRollout(t)
	r.Phases[2].Methods = []string{"totp"} // so that a subset of the person's methods is returned
	now := mustUTC(t, "2027-07-20T09:00:00Z")
	for _, p := range []rollout.Person{
		{Roles: []string{"operator", "admin"}},
		{Roles: []string{"user", "admin"}, Methods: []string{"email", "totp"}},
		{Roles: []string{"admin"}, Methods: []string{"email"}},
		{Roles: []string{"user"}, Methods: []string{"email"}, ExtendedUntil: now.Add(day)},
	} {
		if n := testing.AllocsPerRun(100, func() { rollout.Decide(r, p, now) }); n != 0 {
			t.Errorf("roles %v methods %v: got %v allocations, want 0", p.Roles, p.Methods, n)
		}
	}
}

func TestForRoles(t *testing.T) {
	r := specRollout(t)
	tests := []struct {
		name  string
		roles []string
		want  []string
	}{
		{"admin sees every phase", []string{"admin"}, []string{pComm, pOptional, pEmail, pFull}},
		{"user sees the everyone phase", []string{"user"}, []string{pFull}},
		{"no roles still see everyone phases", nil, []string{pFull}},
		{"several roles, in schedule order", []string{"user", "admin"}, []string{pComm, pOptional, pEmail, pFull}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, ph := range r.ForRoles(tt.roles) {
				got = append(got, ph.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if got := (*rollout.Rollout)(nil).ForRoles([]string{"admin"}); got != nil {
		t.Errorf("nil rollout: got %v, want nil", got)
	}
	if got := r.ForRoles([]string{"admin"})[2]; got != &r.Phases[2] {
		t.Errorf("got a copy, want a pointer into the rollout")
	}
}

func TestRequirementAndOutcomeNames(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    rollout.Requirement
		wantErr bool
	}{
		{"notify", rollout.Notify, false},
		{"optional", rollout.Optional, false},
		{"required", rollout.Required, false},
		{"none", rollout.None, true},
		{"Required", rollout.None, true},
		{"", rollout.None, true},
	} {
		t.Run("parse "+tt.in, func(t *testing.T) {
			got, err := rollout.ParseRequirement(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("got %v, %v, want %v, error %v", got, err, tt.want, tt.wantErr)
			}
			if err == nil && got.String() != tt.in {
				t.Errorf("round trip: got %q, want %q", got.String(), tt.in)
			}
		})
	}
	for _, tt := range []struct{ got, want string }{
		{rollout.None.String(), "none"},
		{rollout.Requirement(7).String(), "requirement(7)"},
		{rollout.Allow.String(), "allow"},
		{rollout.OfferEnrollment.String(), "offer_enrollment"},
		{rollout.RequireEnrollment.String(), "require_enrollment"},
		{rollout.Challenge.String(), "challenge"},
		{rollout.Outcome(9).String(), "outcome(9)"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	if !(rollout.None < rollout.Notify && rollout.Notify < rollout.Optional && rollout.Optional < rollout.Required) {
		t.Errorf("requirements are not ordered by strictness")
	}
}
