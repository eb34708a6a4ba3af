package web

import (
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/prometheus/client_golang/prometheus"
)

// Options are NewServer's dependencies and settings.
type Options struct {
	Accounts *account.Service
	Store    mfagate.Store // readiness checks, and the dev outbox page
	Logger   *slog.Logger
	Registry *prometheus.Registry // metrics are registered here and served at /metrics
	// MetricsElsewhere leaves /metrics to a listener of its own (see
	// MetricsRoutes): these routes then answer 404 for it.
	MetricsElsewhere bool

	BaseURL         *url.URL // where mfagate is reached, e.g. https://auth.example.com
	CookieDomain    string   // e.g. ".example.com" to share the session with applications
	InsecureCookies bool     // drop Secure (only for the demo on loopback)
	TrustedProxies  []netip.Prefix
	DevOutbox       bool // serve /dev/outbox (mail driver "outbox")
	// DevMailbox has the text of the messages the "outbox" driver
	// delivered, which the outbox table no longer keeps for code emails.
	// Optional: without it /dev/outbox shows the table alone.
	DevMailbox DevMailbox

	// Rehearsal marks every page: the server runs at a chosen time.
	Rehearsal bool
	// ForwardAuth are the access rules of GET /auth/verify, in order; none
	// lets every fully signed-in person through.
	ForwardAuth []ForwardAuthRule
	// Stopping, when closed, says the server is about to stop: /readyz
	// answers 503 so that a load balancer takes it out, and every
	// response asks its client to close the connection, so none is idle
	// on a server that will close it. Requests are still served as usual.
	// Optional.
	Stopping <-chan struct{}
}

// DevMailbox is where the "outbox" mail driver keeps what it delivered.
type DevMailbox interface {
	Delivered(id int64) (*mfagate.Message, bool)
}

// server holds what handlers share: settings and parsed templates.
type server struct {
	Options
	// site is the product name, support contacts and time zone, as the
	// use cases write them in emails (account.Service.Site).
	site    account.Site
	pages   map[string]*template.Template
	cookie  cookieSpec
	metrics *metrics
	db      *dbCheck // the database's readiness, for /readyz and the metrics
}

// NewServer returns the handler for every route. Templates are parsed here,
// so a broken template stops start-up rather than one page.
func NewServer(o Options) (http.Handler, error) {
	if o.Accounts == nil || o.Store == nil || o.BaseURL == nil {
		return nil, errors.New("web: accounts, store and base URL are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	site := o.Accounts.Site()
	pages, err := parsePages(site.Location)
	if err != nil {
		return nil, err
	}
	db := &dbCheck{store: o.Store, stopping: o.Stopping}
	m, err := newMetrics(o.Registry, o.Accounts, mailView{o.Store}, db, o.Logger)
	if err != nil {
		return nil, err
	}
	s := &server{Options: o, site: site, pages: pages, cookie: newCookieSpec(o), metrics: m, db: db}
	mux := http.NewServeMux()
	s.routes(mux)

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := mfagate.Errorf(mfagate.EFORBIDDEN,
			"This form was sent from another website, so it was not accepted. Go back and try again")
		if strings.HasPrefix(r.URL.Path, "/api/") {
			err = mfagate.Errorf(mfagate.EFORBIDDEN, "Cross-origin requests from browsers are refused: call the API from a program, with a bearer token")
			s.apiFail(w, r, err)
			return
		}
		s.renderError(w, r, err)
	}))
	// Outermost last: a panic anywhere still gets the headers and a page;
	// cross-origin posts are refused before their bodies are read.
	var h http.Handler = mux
	h = s.checkInput(h)
	h = cop.Handler(h)
	h = s.limitHeaders(h)
	h = s.observe(h)
	h = s.securityHeaders(h)
	h = s.closeWhenStopping(h)
	h = s.recoverPanics(h)
	return h, nil
}

func (s *server) loc() *time.Location { return s.site.Location }

// isHTTPS reports whether people reach mfagate over TLS.
func (s *server) isHTTPS() bool { return s.BaseURL.Scheme == "https" }

// ctxKey keys request-scoped values.
type ctxKey int

const (
	keyCurrent ctxKey = iota
)

// cleanPath keeps request paths short and printable in logs.
func cleanPath(p string) string {
	if len(p) > 200 {
		p = p[:200] + "…"
	}
	return strings.ToValidUTF8(p, "?")
}
