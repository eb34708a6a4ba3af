package mfagate_test

import (
	"testing"

	"github.com/mfagate/mfagate"
)

// TestPlural: the one way counts are written with their noun.
func TestPlural(t *testing.T) {
	tests := []struct {
		n         int
		one, many string
		want      string
	}{
		{0, "email", "emails", "0 emails"},
		{1, "email", "emails", "1 email"},
		{2, "person", "people", "2 people"},
		{1, "person", "people", "1 person"},
		{1200, "active account", "active accounts", "1200 active accounts"},
	}
	for _, tt := range tests {
		if got := mfagate.Plural(tt.n, tt.one, tt.many); got != tt.want {
			t.Errorf("Plural(%d, %q, %q): got %q, want %q", tt.n, tt.one, tt.many, got, tt.want)
		}
	}
}

// TestMethodWords: the one table of methods' names in words, on its own
// and in a sentence.
func TestMethodWords(t *testing.T) {
	tests := []struct {
		method, name, phrase string
	}{
		{mfagate.MethodEmail, "email codes", "email codes"},
		{mfagate.MethodTOTP, "authenticator app", "an authenticator app"},
		{mfagate.MethodRecovery, "recovery codes", "recovery codes"},
		{"webauthn", "webauthn", "webauthn"}, // unknown: as written
	}
	for _, tt := range tests {
		if got := mfagate.MethodName(tt.method); got != tt.name {
			t.Errorf("MethodName(%q): got %q, want %q", tt.method, got, tt.name)
		}
		if got := mfagate.MethodPhrase(tt.method); got != tt.phrase {
			t.Errorf("MethodPhrase(%q): got %q, want %q", tt.method, got, tt.phrase)
		}
	}
	if got, want := mfagate.MethodPhrases([]string{mfagate.MethodEmail, mfagate.MethodTOTP}), "email codes or an authenticator app"; got != want {
		t.Errorf("MethodPhrases: got %q, want %q", got, want)
	}
	if got := mfagate.MethodPhrases(nil); got != "" {
		t.Errorf("MethodPhrases(nil): got %q, want nothing", got)
	}
}
