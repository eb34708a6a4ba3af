package web

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// handleHealthz answers while the process is serving.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("ok\n"))
	})
}

// handleReadyz answers 200 only while the database answers, so a load
// balancer stops sending people to a replica that cannot sign them in.
func handleReadyz(store mfagate.Store, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := store.Ping(ctx); err != nil {
			log.WarnContext(r.Context(), "not ready: database does not answer", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("database unavailable\n"))
			return
		}
		w.Write([]byte("ready\n"))
	})
}

func handleMetrics(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// metrics are the service's own Prometheus series.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	// byRoute keeps each route and status's series, so that a request
	// (forward-auth sends one per proxied request) does not format and
	// hash its labels again. Routes are patterns and statuses few, so it
	// stays small.
	mu      sync.RWMutex
	byRoute map[routeStatus]routeSeries
}

type routeStatus struct {
	route  string
	status int
}

type routeSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// checksCollector exports the account service's counts of guesses
// checked: what an attacker got to try, counted on the real path.
type checksCollector struct {
	accounts *account.Service
	password *prometheus.Desc
	codes    *prometheus.Desc
}

func newChecksCollector(a *account.Service) *checksCollector {
	return &checksCollector{accounts: a,
		password: prometheus.NewDesc("mfagate_password_checks_total",
			"Passwords compared with an account's hash after the throttle admitted them.", nil, nil),
		codes: prometheus.NewDesc("mfagate_code_checks_total",
			"Second-factor codes compared with the secret after the throttle admitted them, by method.", []string{"method"}, nil),
	}
}

func (c *checksCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.password; ch <- c.codes }

func (c *checksCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.accounts.Checks()
	ch <- prometheus.MustNewConstMetric(c.password, prometheus.CounterValue, float64(n.Password))
	for _, m := range []string{mfagate.MethodEmail, mfagate.MethodTOTP, mfagate.MethodRecovery} {
		ch <- prometheus.MustNewConstMetric(c.codes, prometheus.CounterValue, float64(n.Codes[m]), m)
	}
}

func newMetrics(reg *prometheus.Registry, accounts *account.Service) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mfagate_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mfagate_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	for _, c := range []prometheus.Collector{
		m.requests, m.duration, newChecksCollector(accounts),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	k := routeStatus{route, status}
	m.mu.RLock()
	rs, ok := m.byRoute[k]
	m.mu.RUnlock()
	if !ok {
		rs = routeSeries{m.requests.WithLabelValues(route, strconv.Itoa(status)), m.duration.WithLabelValues(route)}
		m.mu.Lock()
		if m.byRoute == nil {
			m.byRoute = make(map[routeStatus]routeSeries)
		}
		m.byRoute[k] = rs
		m.mu.Unlock()
	}
	rs.requests.Inc()
	rs.duration.Observe(d.Seconds())
}

//go:embed static
var staticFS embed.FS

// handleStatic serves the embedded stylesheet and script.
func handleStatic() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") { // no directory listings
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}
