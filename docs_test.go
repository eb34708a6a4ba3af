package mfagate_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// testRef is a test named in the docs as `package.TestName`, or
// `web/internal/site.TestName` for a sub-package (possibly with
// a /subtest after it).
var testRef = regexp.MustCompile("`([\\w/]+)\\.(Test\\w+|Benchmark\\w+|Fuzz\\w+)[^`]*`")

// TestDocsNameTestsThatExist keeps the docs' references to tests true:
// each "(`pkg.TestName`)" a page gives as proof must name a function in
// that package, so a renamed or removed test cannot leave a promise
// without its proof.
func TestDocsNameTestsThatExist(t *testing.T) {
	pages, err := filepath.Glob("docs/*.md")
	if err != nil || len(pages) == 0 {
		t.Fatalf("no docs found: %v", err)
	}
	pages = append(pages, "README.md")
	sources := map[string]string{} // package folder → its test files, joined
	found := 0
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range testRef.FindAllStringSubmatch(string(text), -1) {
			pkg, name := m[1], m[2]
			dir := pkg
			if pkg == "mfagate" {
				dir = "."
			}
			src, ok := sources[dir]
			if !ok {
				files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
				var b strings.Builder
				for _, f := range files {
					data, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					b.Write(data)
				}
				src = b.String()
				sources[dir] = src
			}
			if src == "" {
				continue // not a package of this module (e.g. a Go package)
			}
			found++
			if !strings.Contains(src, "func "+name+"(") {
				t.Errorf("%s names %s.%s, which does not exist", page, pkg, name)
			}
		}
	}
	if found < 20 {
		t.Fatalf("found only %d references to tests in the docs: the pattern no longer matches them", found)
	}
}
