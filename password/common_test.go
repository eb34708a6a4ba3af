package password

import (
	"strings"
	"testing"
)

// TestCommonListLoads checks the embedded list as the policy reads it: all
// of zxcvbn's 11,611 common passwords of 8 characters or more, lower case,
// the header left out.
func TestCommonListLoads(t *testing.T) {
	set := parseCommon(commonList)
	if got, want := len(set), 11611; got != want {
		t.Fatalf("got %d common passwords, want %d", got, want)
	}
	// The first, a few from the middle, and the last of the file.
	for _, w := range []string{"password", "12345678", "baseball", "trustno1", "qwertyuiop", "1qaz2wsx", "iloveyou", "sunshine", "mercede1", "11234567"} {
		if _, ok := set[w]; !ok {
			t.Errorf("%q is not on the list", w)
		}
	}
	for w := range set {
		if w != strings.ToLower(w) || strings.TrimSpace(w) != w || strings.HasPrefix(w, "#") || len(w) < MinLength {
			t.Errorf("got entry %q, want lower case, no spaces around it, 8 characters or more, no header line", w)
		}
	}
	if !strings.HasPrefix(commonList, "# ") || !strings.Contains(commonList, "MIT licence") {
		t.Error("common.txt has lost its header naming the origin and licence")
	}
}

// TestCheckRefusesEveryCommonPassword holds the policy to the list: each
// entry is refused as too common, typed as it is, in capitals, and in
// full-width characters (which NFKC normalisation turns back into it).
func TestCheckRefusesEveryCommonPassword(t *testing.T) {
	n := 0
	for w := range parseCommon(commonList) {
		for _, typed := range []string{w, strings.ToUpper(w), fullWidth(w)} {
			err := Check(typed, "someone", "someone@example.com")
			if err == nil || !strings.Contains(err.Error(), "too common") {
				t.Fatalf("Check(%q): got %v, want too common", typed, err)
			}
			n++
		}
	}
	if n != 3*11611 {
		t.Fatalf("checked %d passwords, want %d", n, 3*11611)
	}
	// Near-misses are not on the list and pass.
	for _, pw := range []string{"password1x", "trustno1trustno2", "quietmeadowlark"} {
		if err := Check(pw, "someone", "someone@example.com"); err != nil {
			t.Errorf("Check(%q): got %v, want accepted", pw, err)
		}
	}
}

// fullWidth writes the ASCII letters and digits of s as their full-width
// forms (U+FF01 to U+FF5E).
func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > ' ' && r <= '~' {
			r += 0xFF01 - '!'
		}
		b.WriteRune(r)
	}
	return b.String()
}
