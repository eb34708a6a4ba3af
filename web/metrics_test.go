package web_test

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/web"
	"github.com/mfagate/mfagate/web/webtest"
	"github.com/prometheus/client_golang/prometheus"
)

// metricsMeter scrapes /metrics for the series whose names start with
// prefix, and keeps the last scrape to compare with.
type metricsMeter struct {
	h      *harness
	prefix string
	last   map[string]float64
}

func (h *harness) meter(tb testing.TB, prefix string) *metricsMeter {
	m := &metricsMeter{h: h, prefix: prefix}
	m.last = m.scrape(tb)
	return m
}

func (m *metricsMeter) scrape(tb testing.TB) map[string]float64 {
	tb.Helper()
	res := m.h.get(tb, m.h.client(tb), "/metrics")
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("/metrics: got %d", res.StatusCode)
	}
	all := webtest.Samples(tb, res.body)
	maps.DeleteFunc(all, func(k string, _ float64) bool { return !strings.HasPrefix(k, m.prefix) })
	return all
}

func decision(d string) string { return `mfagate_forward_auth_decisions_total{decision="` + d + `"}` }

// TestMetricsCountForwardAuthDecisions: each answer forward-auth gives a
// proxy moves its decision's count by one, and its latency histogram
// counts every check.
func TestMetricsCountForwardAuthDecisions(t *testing.T) {
	h := newHarness(t, withTrustedProxy("127.0.0.1/32"), adminOnly)
	anon, alice := h.client(t), h.client(t)
	h.signIn(t, alice, "alice", pw)
	m := h.meter(t, "mfagate_forward_auth_")
	const count = "mfagate_forward_auth_duration_seconds_count"

	steps := []struct {
		what   string
		c      *http.Client
		query  string
		url    string
		status int
		want   string
	}{
		{"anonymous", anon, "", h.app("/docs"), 401, "sign_in_needed"},
		{"anonymous, redirect asked", anon, "?rd=1", h.app("/docs"), 302, "sign_in_needed"},
		{"a URL that cannot be checked", anon, "?rd=1", h.app("/docs%00"), 400, "bad_request"},
		{"alice", alice, "", h.app("/docs"), 200, "allowed"},
		{"alice at an admin page", alice, "", h.app("/admin-only/x"), 403, "forbidden"},
	}
	for _, s := range steps {
		if res := h.verify(t, s.c, s.query, "X-Original-URL", s.url); res.StatusCode != s.status {
			t.Fatalf("%s: got %d, want %d", s.what, res.StatusCode, s.status)
		}
		// The histogram's buckets move too; only its count is named here.
		now := m.scrape(t)
		if got := now[count] - m.last[count]; got != 1 {
			t.Errorf("%s: latency count moved by %g, want 1", s.what, got)
		}
		maps.DeleteFunc(now, func(k string, _ float64) bool { return strings.HasPrefix(k, "mfagate_forward_auth_duration") })
		maps.DeleteFunc(m.last, func(k string, _ float64) bool { return strings.HasPrefix(k, "mfagate_forward_auth_duration") })
		for k, v := range now {
			want := 0.0
			if k == decision(s.want) {
				want = 1
			}
			if got := v - m.last[k]; got != want {
				t.Errorf("%s: %s moved by %g, want %g", s.what, k, got, want)
			}
		}
		m.last = m.scrape(t)
	}

	// Past the check cache's few seconds the database is asked again; gone,
	// it cannot answer, and the check is an error.
	h.clock.Advance(10 * time.Second)
	h.store.Close()
	if res := h.verify(t, alice, "", "X-Original-URL", h.app("/docs")); res.StatusCode < 500 {
		t.Fatalf("database closed: got %d, want an error", res.StatusCode)
	}
	now := m.scrape(t)
	if got := now[decision("error")] - m.last[decision("error")]; got != 1 {
		t.Errorf("database closed: error moved by %g, want 1", got)
	}
}

// TestMetricsReadTheDatabase: readiness and the mail queue are read from
// the database at each scrape: a message waiting five minutes shows as
// one message, 300 seconds old, in its lane; with the database gone the
// server says it is not ready and leaves the queue out.
func TestMetricsReadTheDatabase(t *testing.T) {
	h := newHarness(t)
	m := h.meter(t, "mfagate_")
	for _, k := range []string{"mfagate_ready", `mfagate_mail_queue_messages{priority="security"}`, `mfagate_mail_queue_oldest_age_seconds{priority="campaign"}`} {
		if _, ok := m.last[k]; !ok {
			t.Fatalf("no series %s", k)
		}
	}
	if got := m.last["mfagate_ready"]; got != 1 {
		t.Fatalf("mfagate_ready: got %g, want 1", got)
	}
	queued := h.clock.Now().Add(-5 * time.Minute)
	if err := h.store.Update(context.Background(), func(tx mfagate.Tx) error {
		return tx.EnqueueMail(&mfagate.Message{To: "alice@example.com", Subject: "s", Text: "t", CreatedAt: queued, Priority: mfagate.MailSecurity})
	}); err != nil {
		t.Fatal(err)
	}
	now := m.scrape(t)
	for k, want := range map[string]float64{
		`mfagate_mail_queue_messages{priority="security"}`:           1,
		`mfagate_mail_queue_oldest_age_seconds{priority="security"}`: 300,
		`mfagate_mail_queue_messages{priority="campaign"}`:           0,
		`mfagate_mail_queue_oldest_age_seconds{priority="campaign"}`: 0,
	} {
		if now[k] != want {
			t.Errorf("%s: got %g, want %g", k, now[k], want)
		}
	}

	h.store.Close()
	now = m.scrape(t)
	if now["mfagate_ready"] != 0 {
		t.Errorf("database closed: mfagate_ready %g, want 0", now["mfagate_ready"])
	}
	for k := range now {
		if strings.HasPrefix(k, "mfagate_mail_queue") {
			t.Errorf("database closed: %s is still shown", k)
		}
	}
}

// TestMetricsElsewhere: with MetricsElsewhere the main routes answer 404
// for /metrics, and MetricsRoutes serves the same registry alone.
func TestMetricsElsewhere(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := newHarness(t, func(o *harnessConfig) { o.Registry, o.MetricsElsewhere = reg, true })
	c := h.client(t)
	if res := h.get(t, c, "/metrics"); res.StatusCode != http.StatusNotFound || strings.Contains(res.body, "mfagate_ready") {
		t.Fatalf("/metrics on the main routes: got %d, want 404 without metrics:\n%.300s", res.StatusCode, res.body)
	}
	h.get(t, c, "/healthz")
	ms := httptest.NewServer(web.MetricsRoutes(reg))
	defer ms.Close()
	for path, want := range map[string]int{"/metrics": 200, "/healthz": 404, "/login": 404} {
		res, err := http.Get(ms.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("metrics listener %s: got %d, want %d", path, res.StatusCode, want)
		}
	}
	res, err := http.Get(ms.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if s := webtest.Samples(t, string(body)); s[`mfagate_http_requests_total{route="GET /healthz",status="200"}`] != 1 {
		t.Errorf("the metrics listener does not show the main routes' requests:\n%s", body)
	}
}

// TestMetricsCountErrorsByCode: every error answered as a page or a JSON
// error, whichever part of the service answered it, moves
// mfagate_http_errors_total of its code by one; a page that answers
// normally, or a form shown again with its field errors, moves none.
func TestMetricsCountErrorsByCode(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	m := h.meter(t, "mfagate_http_errors_total")
	errorsOf := func(code string) string { return `mfagate_http_errors_total{code="` + code + `"}` }
	steps := []struct {
		what   string
		do     func() int
		status int
		code   string // "" for none
	}{
		{"a page", func() int { return h.get(t, c, "/login").StatusCode }, 200, ""},
		{"an unknown page", func() int { return h.get(t, c, "/no-such-page").StatusCode }, 404, mfagate.ENOTFOUND},
		{"a wrong password", func() int {
			return h.post(t, c, "/login", url.Values{"username": {"alice"}, "password": {"wrong"}}).StatusCode
		}, 401, ""},
		{"a page's wrong method", func() int { return h.post(t, c, "/help", nil).StatusCode }, 405, "method_not_allowed"},
		{"the API without a token", func() int { return h.api(t, "GET", "/api/v1/people", "", "").StatusCode }, 401, mfagate.EUNAUTHORIZED},
		{"an unknown API path", func() int { return h.api(t, "GET", "/api/v1/nothing", "", "").StatusCode }, 404, mfagate.ENOTFOUND},
	}
	for _, s := range steps {
		if got := s.do(); got != s.status {
			t.Fatalf("%s: got %d, want %d", s.what, got, s.status)
		}
		now := m.scrape(t)
		for k := range maps.Keys(m.last) {
			if _, ok := now[k]; !ok {
				now[k] = 0
			}
		}
		for k, v := range now {
			want := 0.0
			if k == errorsOf(s.code) {
				want = 1
			}
			if got := v - m.last[k]; got != want {
				t.Errorf("%s: %s moved by %g, want %g", s.what, k, got, want)
			}
		}
		if s.code != "" && now[errorsOf(s.code)] == 0 {
			t.Errorf("%s: no series %s in %v", s.what, errorsOf(s.code), now)
		}
		m.last = now
	}
}
