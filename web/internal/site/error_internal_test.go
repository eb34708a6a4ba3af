package site

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
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
