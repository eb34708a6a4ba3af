package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/mfagate/mfagate/web/internal/site"
)

// securityHeaders sets the headers of SPEC.md section 4 on every response,
// error pages included, before anything else can write.
func securityHeaders(next http.Handler, st *site.Site, cookieDomain string) http.Handler {
	formAction := "'self'"
	if d := strings.TrimPrefix(cookieDomain, "."); d != "" {
		// After sign-in the form's redirect may go to an application
		// under the shared cookie domain; browsers check form-action there.
		formAction += " " + st.BaseURL().Scheme + "://*." + d
	}
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"form-action " + formAction + "; frame-ancestors 'none'; base-uri 'none'"
	// The values are made once and shared by every response (forward-auth
	// answers one per proxied request). Setting a header replaces its
	// slice and adding one appends to a full slice, which copies it, so a
	// shared value is never changed in place.
	values := map[string]string{
		"Content-Security-Policy":    csp,
		"X-Frame-Options":            "DENY",
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"Cross-Origin-Opener-Policy": "same-origin",
		"Permissions-Policy":         "camera=(), microphone=(), geolocation=()",
		"Strict-Transport-Security":  "max-age=31536000",
	}
	fixed := make([]fixedHeader, 0, len(browserHeaders))
	for _, k := range browserHeaders {
		if k == "Strict-Transport-Security" && !st.IsHTTPS() {
			continue
		}
		fixed = append(fixed, fixedHeader{k, []string{values[k]}})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == pathVerify {
			// Forward-auth's 200 goes to the proxy, never to a browser
			// (SPEC.md section 4 lets it go without these): they are set
			// only on its other answers, as they are written, refusals
			// and errors from any layer alike.
			next.ServeHTTP(&refusalHeaders{ResponseWriter: w, fixed: fixed}, r)
			return
		}
		h := w.Header()
		for _, f := range fixed {
			h[f.key] = f.value
		}
		next.ServeHTTP(w, r)
	})
}

// refusalHeaders sets the browser's security headers on every answer but
// a 200, as its status is written. Setting them on each check and taking
// them off again for the 200 was a tenth of its cost.
type refusalHeaders struct {
	http.ResponseWriter
	fixed []fixedHeader
	wrote bool
}

func (w *refusalHeaders) WriteHeader(code int) {
	if !w.wrote && code != http.StatusOK && code >= 200 { // 1xx answers are not the answer
		h := w.Header()
		for _, f := range w.fixed {
			h[f.key] = f.value
		}
	}
	if code >= 200 {
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *refusalHeaders) Write(b []byte) (int, error) {
	w.wrote = true // an implicit 200
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *refusalHeaders) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// closeWhenStopping asks each client to close its connection once the
// server is stopping (Options.Stopping). A connection left idle would be
// closed by the server when it stops taking requests, and a balancer
// that sent a request on it at that moment would get no answer; closed
// after each response, every request sent is answered.
func closeWhenStopping(next http.Handler, stopping <-chan struct{}) http.Handler {
	if stopping == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isClosed(stopping) {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// browserHeaders are the security headers securityHeaders sets, in the
// form http.Header keeps them. They matter only to a browser; forward-auth's
// 200, which the proxy consumes, goes without them (refusalHeaders).
var browserHeaders = []string{
	"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
	"Cross-Origin-Opener-Policy", "Permissions-Policy", "Strict-Transport-Security",
}

// fixedHeader is a header set to the same value on every response.
type fixedHeader struct {
	key   string
	value []string // one element, so appending to it copies
}

// recoverPanics turns a panic into a logged error page, so one bad request
// never takes the process down or leaves the connection hanging.
func recoverPanics(next http.Handler, st *site.Site) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				st.Error(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// observe gives each request an id, and logs and counts it by route.
func observe(next http.Handler, st *site.Site, m *metrics) http.Handler {
	log := st.Logger()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := site.NewRequestID()
		// The id rides on the writer, not the request's context: copying
		// the request for a new context costs more than the forward-auth
		// check itself.
		sw := &site.StatusWriter{ResponseWriter: w, IDBits: id}
		next.ServeHTTP(sw, r)
		if sw.Status == 0 {
			sw.Status = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "other"
		}
		elapsed := time.Since(start)
		m.observe(route, sw.Status, elapsed)
		level := logLevel(sw.Status)
		if route == routeVerify && sw.Status < http.StatusInternalServerError {
			level = slog.LevelDebug // a refusal is routine there: most are anonymous
		}
		if !log.Enabled(r.Context(), level) {
			return // the attributes below cost more than the check itself
		}
		log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method), slog.String("path", site.CleanPath(r.URL.Path)),
			slog.Int("status", sw.Status), slog.Duration("duration", elapsed),
			slog.String("client", st.ClientAddr(r)), slog.String("request_id", sw.ID()))
	})
}

// logLevel keeps routine requests at debug and problems visible.
func logLevel(status int) slog.Level {
	switch {
	case status == http.StatusServiceUnavailable:
		return slog.LevelWarn // the database is away; site.Error logged why
	case status >= http.StatusInternalServerError:
		return slog.LevelError
	case status >= http.StatusBadRequest:
		return slog.LevelInfo
	default:
		return slog.LevelDebug
	}
}

// MaxHeaderBytes bounds a request's line and headers. Over it, pages and
// the API answer 431 themselves, with the security headers and a page
// or the JSON error. The http.Server's own MaxHeaderBytes must stay above
// it (cli/app.go): requests over that get net/http's bare 431, written
// on the connection without any of our headers.
const MaxHeaderBytes = 16 << 10

// limitHeaders answers 431 for a request whose headers exceed
// MaxHeaderBytes. Forward-auth is left to the server's limit: its
// answer goes to nginx, which turns a 431 into a 500, and big headers
// there are the protected application's business, not ours.
func limitHeaders(next http.Handler, st *site.Site) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == pathVerify || headerBytes(r) <= MaxHeaderBytes {
			next.ServeHTTP(w, r)
			return
		}
		err := &site.HTTPError{Status: http.StatusRequestHeaderFieldsTooLarge, Code: site.CodeHeadersTooLarge, Message: fmt.Sprintf(
			"The request's headers come to more than %d KiB. Too many or too large cookies for this site are the usual cause: clear this site's cookies in your browser, then try again",
			MaxHeaderBytes>>10)}
		if site.IsAPI(r) {
			err.Message = fmt.Sprintf("The request's headers come to more than %d KiB", MaxHeaderBytes>>10)
		}
		st.Error(w, r, err)
	})
}

// headerBytes counts a request's line and headers as HTTP/1.1 sends
// them: the request line, the Host line (which net/http keeps out of
// Header), and each header line's name and value with 4 bytes for ": "
// and CRLF. Repeated headers count once per line.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	n += len("Host: ") + len(r.Host) + 2
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}
