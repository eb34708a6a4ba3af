package site

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/mfagate/mfagate"
)

// HandlerFunc is the one shape of every handler in web and its
// sub-packages: it writes its answer, or returns an error and writes
// nothing, leaving the answer to Error. Guards (RequireSignIn,
// web/console's staff guard, web/api's token check) take and return
// one too, and Site.Handler adapts the outermost to http.Handler.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handler adapts fn to http.Handler: an error it returns is answered by
// Error.
func (s *Site) Handler(fn HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			s.Error(w, r, err)
		}
	})
}

// HTTPError is an error with an HTTP status of its own, for what is
// about HTTP rather than the domain: methods, media types, sizes. Error
// answers it with its status, code and message, on pages and in the API.
type HTTPError struct {
	Status  int
	Code    string
	Message string
}

func (e *HTTPError) Error() string { return e.Message }

// Error codes beyond the domain's (mfagate.EINVALID and the rest), of
// HTTPError.
const (
	CodeMethod          = "method_not_allowed"
	CodeTooLarge        = "too_large"
	CodeMediaType       = "unsupported_media_type"
	CodeHeadersTooLarge = "headers_too_large"
)

// Status maps an error code to its HTTP status.
func Status(code string) int {
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

// IsAPI reports whether r is for the JSON API, whose errors are JSON.
func IsAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// Error answers err, the one way every part of the web adapter does: by
// its code (mfagate.ErrorCode, or an HTTPError's own), as the error page
// or, under /api/, as the JSON error {"error", "code"}. Each answer is
// counted by code. An internal error is logged with the request id, which
// the page or the reply gives so that support can find the log line, and
// says no more than "Something went wrong"; an unavailable database gets
// Retry-After and a warning in the log with the cause.
func (s *Site) Error(w http.ResponseWriter, r *http.Request, err error) {
	code, message := mfagate.ErrorCode(err), mfagate.ErrorMessage(err)
	status := Status(code)
	var he *HTTPError
	if errors.As(err, &he) {
		code, status, message = he.Code, he.Status, he.Message
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client hung up while the request ran (a proxy or a person
		// gave up): nobody reads the answer, and nothing failed here. Not
		// a 500, not an error in the log; counted apart.
		if s.cfg.Errors != nil {
			s.cfg.Errors.WithLabelValues(CodeClientGone).Inc()
		}
		s.cfg.Logger.DebugContext(r.Context(), "client went away", "err", err,
			"method", r.Method, "path", CleanPath(r.URL.Path))
		w.WriteHeader(StatusClientGone)
		return
	}
	if s.cfg.Errors != nil {
		s.cfg.Errors.WithLabelValues(code).Inc()
	}
	api, id := IsAPI(r), ""
	switch code {
	case mfagate.EINTERNAL:
		id = RequestID(w)
		msg := "request failed"
		if api {
			msg = "api request failed"
		}
		s.cfg.Logger.ErrorContext(r.Context(), msg, "err", err,
			"method", r.Method, "path", CleanPath(r.URL.Path), "request_id", id)
	case mfagate.EUNAVAILABLE:
		// Not an error of the request: operators see why, people see a
		// page that asks them to retry.
		w.Header().Set("Retry-After", retryAfterUnavailable)
		s.cfg.Logger.WarnContext(r.Context(), "request turned away: database unavailable", "err", err,
			"method", r.Method, "path", CleanPath(r.URL.Path), "request_id", RequestID(w))
	}
	if api {
		s.apiError(w, r, status, code, message, id)
		return
	}
	v := errorView{Page: s.NewPage(r, errorTitles[status]), Message: message, RequestID: id}
	body, err := s.execute("error", v)
	if err != nil { // the error page itself failed: do not loop
		s.cfg.Logger.ErrorContext(r.Context(), "render the error page", "err", err, "request_id", RequestID(w))
		http.Error(w, "Something went wrong.", http.StatusInternalServerError)
		return
	}
	writePage(w, status, body)
}

// CodeClientGone counts the requests whose client hung up before the
// answer (mfagate_http_errors_total), and StatusClientGone is what the
// access log records for them: nginx's 499, as nobody receives it.
const (
	CodeClientGone   = "client_gone"
	StatusClientGone = 499
)

// errorView is the page shown for an error that is not about one field.
type errorView struct {
	Page
	Message   string
	RequestID string
}

// errorReply is the body of every API error.
type errorReply struct {
	Error     string `json:"error"`
	Code      string `json:"code"`
	RequestID string `json:"request_id,omitempty"` // internal errors only
}

func (s *Site) apiError(w http.ResponseWriter, r *http.Request, status int, code, message, id string) {
	reply := errorReply{Code: code, Error: message, RequestID: id}
	switch code {
	case mfagate.EINTERNAL:
		reply.Error = "Something went wrong. Try again later; if it goes on, give support the request id " + id
	case mfagate.EUNAUTHORIZED:
		challenge := `Bearer realm="mfagate"`
		if r.Header.Get("Authorization") != "" {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	WriteJSON(w, status, reply)
}

// WriteJSON writes v as the reply. API replies are never cached: they
// describe people and change at any moment.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil { // only our own types are written; this is a bug
		body, status = []byte(`{"error": "Something went wrong", "code": "internal"}`), http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
