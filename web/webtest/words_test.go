package webtest

import (
	"slices"
	"testing"
)

// TestWordProblems: the checker finds each kind of wrong wording, and
// passes the sentences our pages really write.
func TestWordProblems(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"fine", "The code works for 1 minute. Wait 2 minutes, 0 emails, 1 person, 3 people, 2 email codes, Step 2 of 3, at 15:04 on 2 January 2006, 1 unused recovery code", nil},
		{"one with a plural", "works for 1 minutes", []string{`broken plural "1 minutes"`}},
		{"two with a singular", "works for 2 minute", []string{`broken plural "2 minute"`}},
		{"zero with a singular", "0 person", []string{`broken plural "0 person"`}},
		{"through a modifier", "1 unused recovery codes", []string{`broken plural "1 unused recovery codes"`}},
		{"a compound", "1 email codes", []string{`broken plural "1 email codes"`}},
		{"one are", "of them 1 are", []string{`broken plural "1 are"`}},
		{"two is", "2 is", []string{`broken plural "2 is"`}},
		{"there were one", "there were 1 more wrong code", []string{`broken plural "there were 1 more wrong code"`}},
		{"there was two", "there was 2 more wrong codes", []string{`broken plural "there was 2 more wrong codes"`}},
		{"there was one", "there was 1 more wrong code, there are 2 codes", nil},
		{"an outcome", "Decision: require_enrollment", []string{`internal name "require_enrollment"`}},
		{"an actor", "Changed by cli", []string{`internal name "by cli"`}},
		{"codes was", "Email codes was set up", []string{`broken agreement "Email codes was"`}},
		{"codes were", "Email codes were set up; the security code is 6 digits. One of your recovery codes was used", nil},
		{"snake case", "the mfa_state field", []string{`identifier "mfa_state"`}},
		{"cells", VisibleText("<table><tr><td>2</td><td>user</td></tr></table>"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WordProblems(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if got, want := VisibleText(`<p class="field_error">You have <strong>1</strong> code &amp; <a href="/x_y">more</a></p><script>a_b()</script>`), "| You have 1 code & more |"; got != want {
		t.Errorf("VisibleText: got %q, want %q", got, want)
	}
}
