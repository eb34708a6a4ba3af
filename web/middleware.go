package web

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// securityHeaders sets the headers of SPEC.md section 4 on every response,
// error pages included, before anything else can write.
func (s *server) securityHeaders(next http.Handler) http.Handler {
	formAction := "'self'"
	if d := strings.TrimPrefix(s.CookieDomain, "."); d != "" {
		// After sign-in the form's redirect may go to an application
		// under the shared cookie domain; browsers check form-action there.
		formAction += " " + s.BaseURL.Scheme + "://*." + d
	}
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"form-action " + formAction + "; frame-ancestors 'none'; base-uri 'none'"
	// The values are made once and shared by every response (forward-auth
	// answers one per proxied request). Setting a header replaces its
	// slice and adding one appends to a full slice, which copies it, so a
	// shared value is never changed in place.
	fixed := []fixedHeader{
		{"Content-Security-Policy", []string{csp}},
		{"X-Frame-Options", []string{"DENY"}},
		{"X-Content-Type-Options", []string{"nosniff"}},
		{"Referrer-Policy", []string{"no-referrer"}},
		{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
		{"Permissions-Policy", []string{"camera=(), microphone=(), geolocation=()"}},
	}
	if s.isHTTPS() {
		fixed = append(fixed, fixedHeader{"Strict-Transport-Security", []string{"max-age=31536000"}})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, f := range fixed {
			h[f.key] = f.value
		}
		next.ServeHTTP(w, r)
	})
}

// closeWhenStopping asks each client to close its connection once the
// server is stopping (Options.Stopping). A connection left idle would be
// closed by the server when it stops taking requests, and a balancer
// that sent a request on it at that moment would get no answer; closed
// after each response, every request sent is answered.
func (s *server) closeWhenStopping(next http.Handler) http.Handler {
	if s.Stopping == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isClosed(s.Stopping) {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// fixedHeader is a header set to the same value on every response.
type fixedHeader struct {
	key   string
	value []string // one element, so appending to it copies
}

// recoverPanics turns a panic into a logged error page, so one bad request
// never takes the process down or leaves the connection hanging.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.renderError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	id     string // the request's id, for logs and error pages
}

// requestID returns the id observe gave the request that w answers.
func requestID(w http.ResponseWriter) string {
	for {
		switch v := w.(type) {
		case *statusWriter:
			return v.id
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return ""
		}
	}
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives each request an id, and logs and counts it by route.
func (s *server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		// The id rides on the writer, not the request's context: copying
		// the request for a new context costs more than the forward-auth
		// check itself.
		sw := &statusWriter{ResponseWriter: w, id: id}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "other"
		}
		elapsed := time.Since(start)
		s.metrics.observe(route, sw.status, elapsed)
		level := logLevel(sw.status)
		if route == routeVerify && sw.status < http.StatusInternalServerError {
			level = slog.LevelDebug // a refusal is routine there: most are anonymous
		}
		if !s.Logger.Enabled(r.Context(), level) {
			return // the attributes below cost more than the check itself
		}
		s.Logger.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method), slog.String("path", cleanPath(r.URL.Path)),
			slog.Int("status", sw.status), slog.Duration("duration", elapsed),
			slog.String("client", s.clientAddr(r)), slog.String("request_id", id))
	})
}

// newRequestID names a request in logs and on error pages. It only has
// to tell requests apart, but crypto/rand is cheap enough here and keeps
// the rule that every id comes from it.
func newRequestID() string {
	var b [16]byte
	const digits = "0123456789abcdef"
	var raw [8]byte
	rand.Read(raw[:])
	n := binary.LittleEndian.Uint64(raw[:])
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = digits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

// clientAddr is the address of the person's browser: the connection's peer,
// or, when that peer is a trusted proxy, the nearest untrusted address in
// X-Forwarded-For. Forwarded headers from anyone else are ignored.
//
// IPv6 zones ("fe80::1%eth0") are dropped: a zone names a link of the
// machine that saw the address, not a client, and keeping it would let
// any text after the % make one client many, and hide a trusted proxy
// (a prefix never contains a zoned address).
func (s *server) clientAddr(r *http.Request) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		return host
	}
	addr := peer.Addr().Unmap().WithZone("")
	if !s.trusted(addr) {
		return addr.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		hop = hop.Unmap().WithZone("")
		if !s.trusted(hop) {
			return hop.String()
		}
		addr = hop
	}
	return addr.String()
}

func (s *server) trusted(a netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// logLevel keeps routine requests at debug and problems visible.
func logLevel(status int) slog.Level {
	switch {
	case status == http.StatusServiceUnavailable:
		return slog.LevelWarn // the database is away; renderError logged why
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
func (s *server) limitHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == pathVerify || headerBytes(r) <= MaxHeaderBytes {
			next.ServeHTTP(w, r)
			return
		}
		err := &httpError{http.StatusRequestHeaderFieldsTooLarge, codeHeadersTooLarge, fmt.Sprintf(
			"The request's headers come to more than %d KiB. Too many or too large cookies for this site are the usual cause: clear this site's cookies in your browser, then try again",
			MaxHeaderBytes>>10)}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			err.message = fmt.Sprintf("The request's headers come to more than %d KiB", MaxHeaderBytes>>10)
			s.apiFail(w, r, err)
			return
		}
		s.renderError(w, r, err)
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
