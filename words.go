package mfagate

import (
	"strconv"
	"strings"
)

// Plural writes a count with its noun, for pages, emails, audit details
// and the command line alike: "1 person", "3 people", "0 emails".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Suggest returns the name closest to key when it is close enough to be a
// likely typo, for a "did you mean" in a message, or "": configuration
// keys, environment variables, role names.
func Suggest(key string, names []string) string {
	if len(key) > 64 {
		return ""
	}
	best, bestDist := "", min(3, len(key)/2)+1
	for _, n := range names {
		if dist := editDistance(strings.ToLower(key), strings.ToLower(n)); dist < bestDist {
			best, bestDist = n, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
