package cli

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
)

// TestSimulateSummaryCountsInGoodEnglish: the forecast an administrator
// reads agrees its verbs with 0, 1 and 2 people, and names no decision by
// its identifier.
func TestSimulateSummaryCountsInGoodEnglish(t *testing.T) {
	broken := regexp.MustCompile(`\b1 (are|have|sign in)\b|\b[02-9] (is|has|signs)\b|_enrollment|\ballow\b`)
	for _, n := range []int{0, 1, 2} {
		s := rollout.Summary{At: time.Date(2027, 7, 13, 0, 0, 0, 0, time.UTC), Total: 4 * n, ByOutcome: map[rollout.Outcome]int{},
			Extended: n, NeverSignedIn: n, Next: &rollout.Phase{Name: "Full enforcement", Start: time.Date(2027, 7, 31, 0, 0, 0, 0, time.UTC)},
			ForcedAtNext: n, ForcedAtNextNeverSignedIn: n, ForcedAtNextUnreached: n}
		for _, o := range outcomes {
			s.ByOutcome[o] = n
		}
		var b bytes.Buffer
		printSummary(&b, s, time.UTC)
		out := b.String()
		if m := broken.FindString(out); m != "" {
			t.Errorf("with %d: %q in\n%s", n, m, out)
		}
		if n == 1 && (!strings.Contains(out, "1 signs in with the password alone") || !strings.Contains(out, "1 is asked for their second factor") ||
			!strings.Contains(out, "1 of them has never signed in")) {
			t.Errorf("with 1:\n%s", out)
		}
		if n == 2 && (!strings.Contains(out, "2 are offered setup") || !strings.Contains(out, "2 have an extension")) {
			t.Errorf("with 2:\n%s", out)
		}
	}
	for n, want := range map[int64]string{0: "0 bytes", 1: "1 byte", 812: "812 bytes", 4200: "4.2 kB"} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestSentenceKeepsNamesAsTyped: an error beginning with a file name or
// a configuration key keeps it as typed; others begin with a capital.
func TestSentenceKeepsNamesAsTyped(t *testing.T) {
	for in, want := range map[string]string{
		"bad.csv line 3: Enter an email address": "bad.csv line 3: Enter an email address",
		"./people.csv line 2: x":                 "./people.csv line 2: x",
		"secrets.key_file is not set":            "secrets.key_file is not set",
		"--config FILE is required":              "--config FILE is required",
		"give --email ADDRESS":                   "Give --email ADDRESS",
		"read config: open x.yaml":               "Read config: open x.yaml",
	} {
		if got := sentence(in); got != want {
			t.Errorf("sentence(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestGroupWordsNameFactorsInWords: recount names a group's factors as
// people do, not by their identifiers.
func TestGroupWordsNameFactorsInWords(t *testing.T) {
	got := groupWords(mfagate.Group{Roles: []string{"admin"}, Methods: []string{mfagate.MethodTOTP, mfagate.MethodEmail}})
	if want := "People with roles admin; factors " + mfagate.MethodName(mfagate.MethodTOTP) + ", " + mfagate.MethodName(mfagate.MethodEmail); got != want ||
		strings.Contains(got, mfagate.MethodTOTP+",") {
		t.Fatalf("got %q, want %q", got, want)
	}
}
