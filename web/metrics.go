package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The service's Prometheus series (docs/operations.md lists them, and
// what each answers). Counts kept elsewhere (account.Service.Checks and
// Counts) are read at scrape time by collectors; the database is read at
// scrape time too (readiness and the mail queue), with a short deadline.
// The per-request series, forward-auth's above all, are resolved once and
// kept, so that a request only adds to them.

func handleMetrics(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// metrics are the service's own Prometheus series.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// errors counts the errors site.Error answered, by code: what the
	// 4xx and 5xx of requests were about.
	errors *prometheus.CounterVec

	// byRoute keeps each route and status's series, so that a request
	// (forward-auth sends one per proxied request) does not format and
	// hash its labels again. Routes are patterns and statuses few, so it
	// stays small.
	mu      sync.RWMutex
	byRoute map[routeStatus]routeSeries

	// verify counts forward-auth's decisions, by verifyDecision;
	// verifyDuration times its answers, middleware included.
	verify         [nVerifyDecisions]prometheus.Counter
	verifyDuration prometheus.Observer
}

type routeStatus struct {
	route  string
	status int
}

type routeSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// verifyDecision is what forward-auth answered a proxy.
type verifyDecision int

const (
	verifyAllowed      verifyDecision = iota // 200: fully signed in, and the rules let them through
	verifySignInNeeded                       // 401 or 302 to the sign-in page: no session, or not past its second step
	verifyForbidden                          // 403: signed in, but the access rules keep them out
	verifyBadRequest                         // 400: the URL opened cannot be checked
	verifyError                              // the session could not be checked (the database did not answer)
	nVerifyDecisions
)

var verifyDecisionNames = [nVerifyDecisions]string{"allowed", "sign_in_needed", "forbidden", "bad_request", "error"}

// verifyBuckets reach down to the tenth of a millisecond a check answered
// from memory takes, and up past the 20 ms of SPEC.md's target.
var verifyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .02, .05, .1, .25, 1}

func newMetrics(reg *prometheus.Registry, accounts *account.Service, mail mailView, db *dbCheck, log *slog.Logger) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mfagate_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mfagate_http_request_duration_seconds", Help: "HTTP request latency by route, but forward-auth's (mfagate_forward_auth_duration_seconds).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mfagate_http_errors_total",
			Help: "Errors answered as an error page or a JSON error, by code (invalid, not_found, unauthorized, forbidden, throttled, unavailable, internal, and the HTTP ones such as method_not_allowed).",
		}, []string{"code"}),
	}
	decisions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mfagate_forward_auth_decisions_total",
		Help: "Forward-auth answers to the proxy: allowed, sign_in_needed, forbidden, bad_request or error.",
	}, []string{"decision"})
	for d := range nVerifyDecisions {
		m.verify[d] = decisions.WithLabelValues(verifyDecisionNames[d])
	}
	verifyDuration := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "mfagate_forward_auth_duration_seconds",
		Help:    "Time to answer a forward-auth check, from the request's arrival to the answer.",
		Buckets: verifyBuckets,
	})
	m.verifyDuration = verifyDuration
	for _, c := range []prometheus.Collector{
		m.requests, m.duration, m.errors, decisions, verifyDuration,
		newChecksCollector(accounts), newCountsCollector(accounts), newStoreCollector(mail, db, accounts, log),
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
		if route == routeVerify {
			// Forward-auth is timed by its own histogram, whose buckets
			// reach down to its tenth of a millisecond, instead of this
			// one: one histogram per check, not two.
			rs.duration = m.verifyDuration
		}
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

// decided counts one forward-auth answer.
func (m *metrics) decided(d verifyDecision) { m.verify[d].Inc() }

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

// countsCollector exports what the account use cases decided
// (account.Counts): sign-ins, wrong codes, locks, enrollments.
type countsCollector struct {
	accounts                                 *account.Service
	signIns, codeFailures, locks, enrollment *prometheus.Desc
	required, offered, skips                 *prometheus.Desc
}

func newCountsCollector(a *account.Service) *countsCollector {
	return &countsCollector{accounts: a,
		signIns: prometheus.NewDesc("mfagate_signins_total",
			"Attempts at a step of signing in, by method (password, email, totp, recovery) and outcome.",
			[]string{"method", "outcome"}, nil),
		codeFailures: prometheus.NewDesc("mfagate_mfa_failures_total",
			"Wrong second-factor codes, by method and step (challenge: signing in or confirming a change; setup: a new factor).",
			[]string{"method", "step"}, nil),
		locks: prometheus.NewDesc("mfagate_locks_total",
			"Accounts locked, by kind (temporary or hard) and cause (wrong passwords or wrong codes).",
			[]string{"kind", "cause"}, nil),
		enrollment: prometheus.NewDesc("mfagate_enrollments_total",
			"Second factors set up, by method.", []string{"method"}, nil),
		required: prometheus.NewDesc("mfagate_forced_enrollments_total",
			"Sign-ins sent to set up a second factor that they could not skip.", nil, nil),
		offered: prometheus.NewDesc("mfagate_enrollment_offers_total",
			"Sign-ins offered to set up a second factor, which they could skip.", nil, nil),
		skips: prometheus.NewDesc("mfagate_enrollment_skips_total",
			"Offers to set up a second factor that were skipped.", nil, nil),
	}
}

func (c *countsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.signIns, c.codeFailures, c.locks, c.enrollment, c.required, c.offered, c.skips} {
		ch <- d
	}
}

func (c *countsCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.accounts.Counts()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for _, s := range n.SignIns {
		counter(c.signIns, s.N, s.Method, s.Outcome)
	}
	for _, f := range n.CodeFailures {
		counter(c.codeFailures, f.N, f.Method, f.Step)
	}
	for _, l := range n.Locks {
		counter(c.locks, l.N, l.Kind, l.Cause)
	}
	for method, v := range n.Enrollments {
		counter(c.enrollment, v, method)
	}
	counter(c.required, n.SetupsRequired)
	counter(c.offered, n.SetupsOffered)
	counter(c.skips, n.Skips)
}

// mailView is the store as the metrics and the dev outbox page see it:
// read-only transactions on the mail queue alone.
type mailView struct{ store mfagate.Store }

func (m mailView) view(ctx context.Context, fn func(mfagate.MailQueue) error) error {
	return m.store.View(ctx, func(tx mfagate.Tx) error { return fn(tx) })
}

// storeCollector reads the shared database at scrape time: whether it
// answers (readiness), and the outbox queue. The queue is the same on
// every replica: dashboards take max() of it, never sum(). Scrapes at
// the same time share one read (sharedRead): /metrics may be open to
// anyone.
type storeCollector struct {
	mail                mailView
	db                  *dbCheck
	clock               interface{ Now() time.Time }
	log                 *slog.Logger
	read                sharedRead[storeReading]
	ready, queued, ages *prometheus.Desc
}

// storeReading is what one scrape read of the database.
type storeReading struct {
	ready bool // what /readyz says (dbCheck.ready)
	down  bool // the database did not answer
	now   time.Time
	lanes []mfagate.MailQueueLane // nil when the queue could not be read
}

func newStoreCollector(mail mailView, db *dbCheck, clock interface{ Now() time.Time }, log *slog.Logger) *storeCollector {
	return &storeCollector{mail: mail, db: db, clock: clock, log: log,
		ready: prometheus.NewDesc("mfagate_ready",
			"1 while this server takes new requests (what /readyz reports), 0 while its database does not answer or it is stopping.", nil, nil),
		queued: prometheus.NewDesc("mfagate_mail_queue_messages",
			"Emails waiting in the outbox, by priority (security, account, campaign). The same on every server.",
			[]string{"priority"}, nil),
		ages: prometheus.NewDesc("mfagate_mail_queue_oldest_age_seconds",
			"How long the email that has waited longest to be sent has waited, by priority: since it was queued, or since its next try came due; 0 when none waits. The same on every server.",
			[]string{"priority"}, nil),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.ready
	ch <- c.queued
	ch <- c.ages
}

// readStore reads readiness and the queue; ctx bounds the wait.
func (c *storeCollector) readStore(ctx context.Context) storeReading {
	err := c.db.ready()
	if err != nil && !errors.Is(err, errStopping) {
		return storeReading{down: true}
	}
	r := storeReading{ready: err == nil, now: c.clock.Now()}
	err = c.mail.view(ctx, func(q mfagate.MailQueue) (err error) {
		r.lanes, err = q.MailQueue(r.now)
		return err
	})
	if err != nil {
		c.log.Warn("metrics: read the mail queue", "err", err)
		r.lanes = nil
	}
	return r
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.read.do(checkTimeout, c.readStore)
	if r.down {
		ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, 0)
		return // the queue cannot be read either: its series are left out
	}
	ready := 0.0
	if r.ready {
		ready = 1
	}
	ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, ready)
	for _, l := range r.lanes {
		name := mfagate.MailPriorityName(l.Priority)
		age := 0.0
		if !l.Due.IsZero() {
			age = max(0, r.now.Sub(l.Due).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(l.Pending), name)
		ch <- prometheus.MustNewConstMetric(c.ages, prometheus.GaugeValue, age, name)
	}
}
