package site

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/mfagate/mfagate"
	"github.com/prometheus/client_golang/prometheus"
)

// TestUnavailableAnswers503 checks the one mapping of EUNAVAILABLE, by
// Error, for pages and for the API: 503 with Retry-After, the error's own message,
// and a warning in the log naming the cause. The stalled-database tests in
// package cli check that a real stall gets here.
func TestUnavailableAnswers503(t *testing.T) {
	var logs bytes.Buffer
	base, _ := url.Parse("https://login.example.com")
	s, err := New(Config{Templates: os.DirFS("../.."), BaseURL: base, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	cause := fmt.Errorf("begin transaction: %w", mfagate.Errorf(mfagate.EUNAVAILABLE, "The service cannot reach its database just now. Try again in a minute"))

	t.Run("page", func(t *testing.T) {
		logs.Reset()
		w := httptest.NewRecorder()
		s.Error(w, httptest.NewRequest("GET", "/account", nil), cause)
		if w.Code != 503 {
			t.Fatalf("status: got %d, want 503", w.Code)
		}
		if got := w.Header().Get("Retry-After"); got != "60" {
			t.Errorf("Retry-After: got %q, want 60", got)
		}
		body := w.Body.String()
		for _, want := range []string{"<h1>The service is unavailable just now</h1>", "cannot reach its database just now. Try again in a minute."} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q:\n%s", want, body)
			}
		}
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "begin transaction") {
			t.Errorf("log: got %q, want a warning with the cause", logs.String())
		}
	})

	t.Run("api", func(t *testing.T) {
		logs.Reset()
		w := httptest.NewRecorder()
		s.Error(w, httptest.NewRequest("GET", "/api/v1/people", nil), cause)
		if w.Code != 503 {
			t.Fatalf("status: got %d, want 503", w.Code)
		}
		if got := w.Header().Get("Retry-After"); got != "60" {
			t.Errorf("Retry-After: got %q, want 60", got)
		}
		var reply map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &reply); err != nil {
			t.Fatalf("body %q: %v", w.Body, err)
		}
		want := map[string]string{"code": "unavailable", "error": "The service cannot reach its database just now. Try again in a minute"}
		if len(reply) != len(want) || reply["code"] != want["code"] || reply["error"] != want["error"] {
			t.Errorf("got %v, want %v", reply, want)
		}
		if !strings.Contains(logs.String(), "level=WARN") {
			t.Errorf("log: got %q, want a warning", logs.String())
		}
	})
}

// TestErrorAnswersByCode holds Error, the one error adapter, to its
// contract for each kind of error: the status of its code, the error
// page for pages and {"error", "code"} under /api/, an internal error's
// cause logged with the request id (which is all the answer says of it),
// and every answer counted by code.
func TestErrorAnswersByCode(t *testing.T) {
	var logs bytes.Buffer
	base, _ := url.Parse("https://login.example.com")
	counted := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "errors_total"}, []string{"code"})
	reg := prometheus.NewRegistry()
	reg.MustRegister(counted)
	countOf := func(code string) float64 {
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "code" && l.GetValue() == code {
						return m.GetCounter().GetValue()
					}
				}
			}
		}
		return 0
	}
	s, err := New(Config{Templates: os.DirFS("../.."), BaseURL: base, Errors: counted,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		err      error
		status   int
		code     string
		message  string // in the page or the reply
		logged   bool   // the cause and the request id are in the log
		absent   string // never in the answer
		header   string // a header the answer must have
		jsonBody bool
	}{
		{name: "invalid page", path: "/account", err: mfagate.Errorf(mfagate.EINVALID, "Enter a date"),
			status: 400, code: mfagate.EINVALID, message: "Enter a date"},
		{name: "not found in the API", path: "/api/v1/people/x", err: fmt.Errorf("find: %w", mfagate.Errorf(mfagate.ENOTFOUND, "No such person")),
			status: 404, code: mfagate.ENOTFOUND, message: "No such person", jsonBody: true},
		{name: "unauthorized in the API", path: "/api/v1/people", err: mfagate.Errorf(mfagate.EUNAUTHORIZED, "Send a token"),
			status: 401, code: mfagate.EUNAUTHORIZED, message: "Send a token", header: "WWW-Authenticate", jsonBody: true},
		{name: "an HTTP error", path: "/help", err: &HTTPError{Status: 405, Code: CodeMethod, Message: "Use the form"},
			status: 405, code: CodeMethod, message: "Use the form"},
		{name: "internal page", path: "/account", err: errors.New("disk on fire"),
			status: 500, code: mfagate.EINTERNAL, message: "Something went wrong", logged: true, absent: "disk on fire"},
		{name: "internal in the API", path: "/api/v1/audit", err: errors.New("disk on fire"),
			status: 500, code: mfagate.EINTERNAL, message: "give support the request id 000000000000abc1", logged: true, absent: "disk on fire", jsonBody: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			before := countOf(tt.code)
			rec := httptest.NewRecorder()
			s.Error(&StatusWriter{ResponseWriter: rec, IDBits: 0xabc1}, httptest.NewRequest("GET", tt.path, nil), tt.err)
			if rec.Code != tt.status {
				t.Fatalf("status: got %d, want %d", rec.Code, tt.status)
			}
			body := rec.Body.String()
			if tt.jsonBody {
				var reply map[string]string
				if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
					t.Fatalf("body %q: %v", body, err)
				}
				if reply["code"] != tt.code || !strings.Contains(reply["error"], tt.message) {
					t.Errorf("reply: got %v, want code %q and an error with %q", reply, tt.code, tt.message)
				}
			} else if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, tt.message) {
				t.Errorf("page: got %s with %q, want HTML with %q", ct, body, tt.message)
			}
			if tt.logged != strings.Contains(logs.String(), "request_id=000000000000abc1") || tt.logged != strings.Contains(logs.String(), "disk on fire") {
				t.Errorf("log: got %q, want the cause and the request id logged: %v", logs.String(), tt.logged)
			}
			if tt.logged && !strings.Contains(body, "000000000000abc1") {
				t.Errorf("the answer to an internal error lacks its request id: %s", body)
			}
			if tt.absent != "" && strings.Contains(body, tt.absent) {
				t.Errorf("the answer shows %q: %s", tt.absent, body)
			}
			if tt.header != "" && rec.Header().Get(tt.header) == "" {
				t.Errorf("no %s header", tt.header)
			}
			if got := countOf(tt.code) - before; got != 1 {
				t.Errorf("counted %s: got %g more, want 1", tt.code, got)
			}
		})
	}
}

// TestErrorWhenTheClientHungUp: a request whose client went away while it
// ran (its context canceled, the error a cancellation) is neither a 500
// nor an error in the log; it is counted as client_gone. A cancellation
// whose client is still there is a failure like any other.
func TestErrorWhenTheClientHungUp(t *testing.T) {
	var logs bytes.Buffer
	base, _ := url.Parse("https://login.example.com")
	counted := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "errors_total"}, []string{"code"})
	s, err := New(Config{Templates: os.DirFS("../.."), BaseURL: base, Errors: counted,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	gone := fmt.Errorf("get session: %w", context.Canceled)
	s.Error(&StatusWriter{ResponseWriter: rec}, httptest.NewRequest("GET", "/auth/verify", nil).WithContext(ctx), gone)
	if rec.Code != StatusClientGone || logs.Len() != 0 || counterValue(counted.WithLabelValues(CodeClientGone)) != 1 ||
		counterValue(counted.WithLabelValues(mfagate.EINTERNAL)) != 0 {
		t.Errorf("client gone: status %d, log %q, counted %v gone and %v internal; want 499, nothing logged, one client_gone",
			rec.Code, logs.String(), counterValue(counted.WithLabelValues(CodeClientGone)),
			counterValue(counted.WithLabelValues(mfagate.EINTERNAL)))
	}
	rec = httptest.NewRecorder()
	s.Error(&StatusWriter{ResponseWriter: rec}, httptest.NewRequest("GET", "/auth/verify", nil), gone)
	if rec.Code != 500 || !strings.Contains(logs.String(), "request failed") {
		t.Errorf("a cancellation with the client still there: status %d, log %q; want a 500, logged", rec.Code, logs.String())
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// TestHandlerAnswersTheError: Handler adapts a HandlerFunc, answering
// the error it returns with Error and leaving a nil one alone.
func TestHandlerAnswersTheError(t *testing.T) {
	base, _ := url.Parse("https://login.example.com")
	s, err := New(Config{Templates: os.DirFS("../.."), BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	ok := s.Handler(func(w http.ResponseWriter, r *http.Request) error { w.WriteHeader(204); return nil })
	failed := s.Handler(func(w http.ResponseWriter, r *http.Request) error {
		return mfagate.Errorf(mfagate.EFORBIDDEN, "Not you")
	})
	for _, tt := range []struct {
		name   string
		h      http.Handler
		status int
	}{{"no error", ok, 204}, {"an error", failed, 403}} {
		rec := httptest.NewRecorder()
		tt.h.ServeHTTP(rec, httptest.NewRequest("GET", "/account", nil))
		if rec.Code != tt.status {
			t.Errorf("%s: got %d, want %d", tt.name, rec.Code, tt.status)
		}
	}
}
