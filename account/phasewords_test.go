package account_test

import (
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
)

// TestPhaseAsks: the one sentence that says what a phase will ask of
// someone without a second step, which the banner, the help page and the
// rollout emails all use; an upcoming change in a Decision says the same.
func TestPhaseAsks(t *testing.T) {
	email, app, both := []string{mfagate.MethodEmail}, []string{mfagate.MethodTOTP}, []string{mfagate.MethodEmail, mfagate.MethodTOTP}
	tests := []struct {
		name  string
		phase rollout.Phase
		want  string
		start string // Upcoming.StartsWith
	}{
		{"notice", rollout.Phase{Requirement: rollout.Notify, Methods: both},
			"you will get an email explaining what is coming; nothing changes when you sign in", ""},
		{"offered", rollout.Phase{Requirement: rollout.Optional, Methods: both},
			"you will be asked to set up security codes when you sign in; you can skip it at first", ""},
		{"required, email only", rollout.Phase{Requirement: rollout.Required, Methods: email},
			"you will need to verify a code sent to your email at every sign-in", mfagate.MethodEmail},
		{"required, email by default", rollout.Phase{Requirement: rollout.Required, Methods: both, DefaultMethod: mfagate.MethodEmail},
			"you will need to verify a code sent to your email at every sign-in", mfagate.MethodEmail},
		{"required, app only", rollout.Phase{Requirement: rollout.Required, Methods: app},
			"you will need a code from an authenticator app at every sign-in", mfagate.MethodTOTP},
		{"required, either", rollout.Phase{Requirement: rollout.Required, Methods: both},
			"you will need to enter a security code at every sign-in", ""},
		{"required, app by default", rollout.Phase{Requirement: rollout.Required, Methods: both, DefaultMethod: mfagate.MethodTOTP},
			"you will need to enter a security code at every sign-in", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := account.PhaseAsks(&tt.phase); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if tt.phase.Requirement == rollout.Notify {
				return // a notice is never an upcoming change at sign-in
			}
			u := &account.Upcoming{Required: tt.phase.Requirement == rollout.Required, Methods: tt.phase.Methods, DefaultMethod: tt.phase.DefaultMethod}
			if got := u.Asks(); got != tt.want {
				t.Fatalf("Upcoming.Asks: got %q, want %q", got, tt.want)
			}
			if tt.phase.Requirement == rollout.Required {
				if got := u.StartsWith(); got != tt.start {
					t.Fatalf("StartsWith: got %q, want %q", got, tt.start)
				}
			}
		})
	}
}

// TestPhaseRequires: the staff's words for a phase, shared by the
// dashboard's timeline and "mfagate rollout show".
func TestPhaseRequires(t *testing.T) {
	both := []string{mfagate.MethodEmail, mfagate.MethodTOTP}
	tests := []struct {
		phase rollout.Phase
		want  string
	}{
		{rollout.Phase{Requirement: rollout.Notify, Methods: both}, "Notice by email; nothing changes at sign-in"},
		{rollout.Phase{Requirement: rollout.Optional, Methods: both}, "Setup offered at sign-in; it can be skipped"},
		{rollout.Phase{Requirement: rollout.Required, Methods: []string{mfagate.MethodTOTP}},
			"Required at every sign-in: " + mfagate.MethodPhrases([]string{mfagate.MethodTOTP})},
		{rollout.Phase{Requirement: rollout.Required, Methods: both, DefaultMethod: mfagate.MethodEmail},
			"Required at every sign-in: " + mfagate.MethodPhrases(both) + "; people without one start with " + mfagate.MethodPhrase(mfagate.MethodEmail)},
	}
	for _, tt := range tests {
		if got := account.PhaseRequires(&tt.phase); got != tt.want {
			t.Errorf("%v: got %q, want %q", tt.phase.Requirement, got, tt.want)
		}
	}
}
