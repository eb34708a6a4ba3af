package site

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

// parsePages parses each page of shared and of more together with the
// layout and the parts (_*.html) of shared, and the parts of its own set.
// Two pages of one name are refused: one would hide the other.
func parsePages(shared fs.FS, more []fs.FS, loc *time.Location) (map[string]*template.Template, error) {
	names, err := fs.Glob(shared, "templates/*.html")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("parse templates: none in templates/")
	}
	funcs := template.FuncMap{
		"date": func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return t.In(loc).Format("2 January 2006 at 15:04 MST")
		},
		"clock":       func(t time.Time) string { return t.In(loc).Format("15:04:05 MST") },
		"method":      mfagate.MethodName,
		"plural":      mfagate.Plural, // {{plural .N "minute" "minutes"}}: "1 minute", "2 minutes"
		"methodLabel": MethodLabel,
	}
	pages := map[string]*template.Template{}
	for i, fsys := range append([]fs.FS{shared}, more...) {
		names, err := fs.Glob(fsys, "templates/*.html")
		if err != nil {
			return nil, err
		}
		ownParts, err := fs.Glob(fsys, "templates/_*.html")
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
			if name == "layout" || strings.HasPrefix(name, "_") { // shared parts
				continue
			}
			if _, dup := pages[name]; dup {
				return nil, fmt.Errorf("parse templates: two pages are called %s", name)
			}
			t, err := template.New(name).Funcs(funcs).ParseFS(shared, "templates/layout.html", "templates/_*.html")
			if err == nil && i > 0 && len(ownParts) > 0 { // shared's parts are in already
				t, err = t.ParseFS(fsys, "templates/_*.html")
			}
			if err == nil {
				t, err = t.ParseFS(fsys, n)
			}
			if err != nil {
				return nil, fmt.Errorf("parse template %s: %w", n, err)
			}
			pages[name] = t
		}
	}
	return pages, nil
}

// Page is what the layout needs; every view embeds it.
type Page struct {
	Title    string // what the <h1> says; the <title> adds "Error: " when Errors is set
	Product  string
	User     *mfagate.User // the signed-in person, for the header
	Errors   []FieldError  // shown in the error summary and next to each field
	Notice   string        // a confirmation shown at the top
	Support  account.Contacts
	CodeHint string // the hint under a code field, where the default does not fit
	Banner   *Banner
	// Rehearsal, when set, says the server runs at a chosen time.
	Rehearsal string
	// ConsoleLink is where the header's "Console" link goes for the
	// signed-in person, or "" when they have no part of the console.
	ConsoleLink string
}

// FieldError is one problem, tied to the id of the field it concerns.
type FieldError struct {
	Field   string
	Message string
}

// Banner tells a signed-in person what the rollout changes next for
// them, and when, so the day it becomes required surprises nobody.
type Banner struct {
	Text string
	Link string // where to act now, if anywhere
}

// For returns the message for one field, for use next to it.
func (p Page) For(field string) string {
	for _, e := range p.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// NewPage is the page of a view titled title, for the request's person.
func (s *Site) NewPage(r *http.Request, title string) Page {
	p := Page{Title: title, Product: s.cfg.Product, Support: s.cfg.Support}
	if s.cfg.Rehearsal {
		p.Rehearsal = "Rehearsal: this server is running as if it were " +
			s.cfg.Accounts.RolloutNow().In(s.Loc()).Format("Monday 2 January 2006, 15:04 MST") + ". Nothing here is real."
	}
	if cur := CurrentFrom(r); cur != nil && cur.Session.Stage == mfagate.StageFull {
		p.User = cur.User
		if s.cfg.ConsoleLink != nil {
			p.ConsoleLink = s.cfg.ConsoleLink(p.User)
		}
	}
	return p
}

// Render writes the page name with view. It renders into a buffer
// first, so that a template error is returned (for the error page)
// rather than half a page written.
func (s *Site) Render(w http.ResponseWriter, r *http.Request, status int, name string, view any) error {
	body, err := s.execute(name, view)
	if err != nil {
		return err
	}
	writePage(w, status, body)
	return nil
}

func (s *Site) execute(name string, view any) ([]byte, error) {
	t, ok := s.pages[name]
	if !ok {
		return nil, fmt.Errorf("no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", view); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

func writePage(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

// MethodLabel is a method's name as a label or heading begins it:
// "Email codes", "Authenticator app".
func MethodLabel(method string) string { return Capitalize(mfagate.MethodName(method)) }

// Capitalize begins a sentence or a label written in lower case.
func Capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
