package site

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// TestParsePagesFromSeveralSets: a part's pages are drawn in the shared
// layout with its own parts; a page name used twice, or a broken page in
// any set, stops start-up with a message naming it.
func TestParsePagesFromSeveralSets(t *testing.T) {
	shared := fstest.MapFS{
		"templates/layout.html": {Data: []byte(`{{define "layout"}}<main>{{block "nav" .}}{{end}}{{template "content" .}}</main>{{end}}`)},
		"templates/_part.html":  {Data: []byte(`{{define "shared-part"}}S{{end}}`)},
		"templates/home.html":   {Data: []byte(`{{define "content"}}home {{template "shared-part"}}{{end}}`)},
	}
	console := fstest.MapFS{
		"templates/_nav.html": {Data: []byte(`{{define "console-nav"}}N{{end}}`)},
		"templates/desk.html": {Data: []byte(`{{define "nav"}}{{template "console-nav"}}{{end}}{{define "content"}}desk {{template "shared-part"}}{{end}}`)},
	}
	pages, err := parsePages(shared, []fs.FS{console}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	s := &Site{pages: pages}
	for page, want := range map[string]string{"home": "<main>home S</main>", "desk": "<main>Ndesk S</main>"} {
		got, err := s.execute(page, nil)
		if err != nil || string(got) != want {
			t.Errorf("%s: got %q, %v; want %q", page, got, err, want)
		}
	}

	twice := fstest.MapFS{"templates/home.html": {Data: []byte(`{{define "content"}}again{{end}}`)}}
	if _, err := parsePages(shared, []fs.FS{twice}, time.UTC); err == nil || !strings.Contains(err.Error(), "two pages are called home") {
		t.Errorf("a page name used twice: got %v", err)
	}
	broken := fstest.MapFS{"templates/bad.html": {Data: []byte(`{{define "content"}}{{.Nope`)}}
	if _, err := parsePages(shared, []fs.FS{broken}, time.UTC); err == nil || !strings.Contains(err.Error(), "templates/bad.html") {
		t.Errorf("a broken page in another set: got %v", err)
	}
}
