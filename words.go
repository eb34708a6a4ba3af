package mfagate

import "strconv"

// Plural writes a count with its noun, for pages, emails, audit details
// and the command line alike: "1 person", "3 people", "0 emails".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
