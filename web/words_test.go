package web_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// countedNoun is a count written straight before its noun in a template,
// as in "{{.Minutes}} minutes": wrong for 1 unless the line also says what
// to write for 1 (an {{if eq … 1}}) or uses the plural function.
var countedNoun = regexp.MustCompile(`\{\{\s*\$?\.([A-Za-z.]+)\s*\}\}\s+(minutes|seconds|hours|days|codes|people|accounts|emails|sessions|times|are|have)\b`)

// internalWord is a name from the code that people must never read.
var internalWord = regexp.MustCompile(`require_enrollment|offer_enrollment|by cli\b|\bActorCLI\b`)

// TestTemplatesWritePluralsAndNoIdentifiers reads every page template: a
// count before its noun must say what to write for one, and no internal
// identifier may be written out for people.
func TestTemplatesWritePluralsAndNoIdentifiers(t *testing.T) {
	files, err := filepath.Glob("templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("console/templates/*.html")
	files = append(files, more...)
	if len(files) < 20 {
		t.Fatalf("found only %d templates", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for n, line := range strings.Split(string(data), "\n") {
			for _, m := range countedNoun.FindAllStringSubmatch(line, -1) {
				if !strings.Contains(line, "eq ."+m[1]+" 1") && !strings.Contains(line, "eq $."+m[1]+" 1") {
					t.Errorf("%s:%d: %q is wrong for 1: use {{plural .%s \"…\" \"…\"}}", f, n+1, m[0], m[1])
				}
			}
			if w := internalWord.FindString(line); w != "" {
				t.Errorf("%s:%d: shows the internal word %q to people", f, n+1, w)
			}
		}
	}
}
