package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

//go:embed all:templates
var templateFS embed.FS

// parsePages parses each page together with the shared layout.
func parsePages(loc *time.Location) (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	if loc == nil {
		loc = time.UTC
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
		"methodLabel": methodLabel,
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") { // shared parts
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", n)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", n, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// page is what the layout needs; every view embeds it.
type page struct {
	Title    string // what the <h1> says; the <title> adds "Error: " when Errors is set
	Product  string
	User     *mfagate.User // the signed-in person, for the header
	Errors   []fieldError  // shown in the error summary and next to each field
	Notice   string        // a confirmation shown at the top
	Support  account.Contacts
	CodeHint string // the hint under a code field, where the default does not fit
	Banner   *banner
	// Rehearsal, when set, says the server runs at a chosen time.
	Rehearsal string
}

// fieldError is one problem, tied to the id of the field it concerns.
type fieldError struct {
	Field   string
	Message string
}

// For returns the message for one field, for use next to it.
func (p page) For(field string) string {
	for _, e := range p.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

func (s *server) newPage(r *http.Request, title string) page {
	p := page{Title: title, Product: s.site.Product, Support: s.site.Support}
	if s.Rehearsal {
		p.Rehearsal = "Rehearsal: this server is running as if it were " +
			s.Accounts.RolloutNow().In(s.loc()).Format("Monday 2 January 2006, 15:04 MST") + ". Nothing here is real."
	}
	if cur := currentFrom(r); cur != nil && cur.Session.Stage == mfagate.StageFull {
		p.User = cur.User
	}
	return p
}

// render writes a page. It renders into a buffer first so a template error
// becomes a clean error page, not half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, view any) {
	t, ok := s.pages[name]
	if !ok {
		s.renderError(w, r, fmt.Errorf("no template %q", name))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", view); err != nil {
		if name == "error" { // do not loop
			http.Error(w, "Something went wrong.", http.StatusInternalServerError)
			return
		}
		s.renderError(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorView is the page shown for an error that is not about one field.
type errorView struct {
	page
	Message   string
	RequestID string
}

// statusOf maps an error code to its HTTP status.
func statusOf(code string) int {
	switch code {
	case mfagate.EINVALID:
		return http.StatusBadRequest
	case mfagate.ENOTFOUND:
		return http.StatusNotFound
	case mfagate.ECONFLICT:
		return http.StatusConflict
	case mfagate.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case mfagate.EFORBIDDEN:
		return http.StatusForbidden
	case mfagate.ETHROTTLED:
		return http.StatusTooManyRequests
	case mfagate.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

var errorTitles = map[int]string{
	http.StatusBadRequest:                  "There is a problem with the request",
	http.StatusNotFound:                    "Page not found",
	http.StatusConflict:                    "That could not be done",
	http.StatusUnauthorized:                "Sign in to continue",
	http.StatusForbidden:                   "You cannot do that",
	http.StatusTooManyRequests:             "Too many attempts",
	http.StatusMethodNotAllowed:            "This page cannot be used this way",
	http.StatusRequestHeaderFieldsTooLarge: "The request is too large",
	http.StatusInternalServerError:         "Something went wrong",
	http.StatusServiceUnavailable:          "The service is unavailable just now",
}

// retryAfterUnavailable is the Retry-After of an EUNAVAILABLE answer, in
// seconds: the minute its message asks people to wait. Load balancers and
// API clients read it; a stalled database is seldom back sooner.
const retryAfterUnavailable = "60"

// markUnavailable prepares the answer to a request turned away because the
// database did not answer: Retry-After, and a warning in the log with the
// cause (not an error of the request: operators see why, people see a
// page that asks them to retry).
func (s *server) markUnavailable(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Retry-After", retryAfterUnavailable)
	s.Logger.WarnContext(r.Context(), "request turned away: database unavailable", "err", err,
		"method", r.Method, "path", cleanPath(r.URL.Path), "request_id", requestID(w))
}

// renderError shows err as a whole page. Internal errors are logged with
// the request id, which the page shows so support can find the log line.
func (s *server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code := mfagate.ErrorCode(err)
	status, message := statusOf(code), mfagate.ErrorMessage(err)
	var he *httpError
	if errors.As(err, &he) {
		code, status, message = he.code, he.status, he.message
	}
	v := errorView{page: s.newPage(r, errorTitles[status]), Message: message}
	switch code {
	case mfagate.EINTERNAL:
		v.RequestID = requestID(w)
		s.Logger.ErrorContext(r.Context(), "request failed", "err", err,
			"method", r.Method, "path", cleanPath(r.URL.Path), "request_id", v.RequestID)
	case mfagate.EUNAVAILABLE:
		s.markUnavailable(w, r, err)
	}
	s.render(w, r, status, "error", v)
}

// handleUnmatched answers what no route of mux matches, as our page: 405
// with Allow when the path takes other methods, as the API's fallback
// does, and 404 otherwise. It is the catch-all route, so the mux's own
// plain-text 405 never answers; it asks mux which methods would match
// instead. That costs a copy of the request, only on this path.
func (s *server) handleUnmatched(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow := allowedMethods(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			msg := "This page does not take what was sent. Go back and try again"
			if !slices.Contains(allow, http.MethodGet) {
				msg = "This address only takes a form sent from its page. Go back and use the button on the page"
			}
			s.renderError(w, r, &httpError{http.StatusMethodNotAllowed, codeMethod, msg})
			return
		}
		s.renderError(w, r, mfagate.Errorf(mfagate.ENOTFOUND,
			"If you typed the web address, check it is correct. If you pasted it, check you copied the whole address"))
	})
}

// probeMethods are the methods allowedMethods tries.
var probeMethods = []string{http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodPatch, http.MethodPost, http.MethodPut}

// allowedMethods lists, in order, the methods for which a route of mux
// other than the catch-all matches r's path. GET routes take HEAD too.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	probe := r.Clone(r.Context())
	var allow []string
	for _, m := range probeMethods {
		if m == r.Method {
			continue
		}
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	return allow
}

// methodLabel is a method's name as a label or heading begins it:
// "Email codes", "Authenticator app".
func methodLabel(method string) string { return capitalize(mfagate.MethodName(method)) }

// capitalize begins a sentence or a label written in lower case.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
