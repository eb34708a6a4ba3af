package web

import (
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/web/console"
	"github.com/mfagate/mfagate/web/internal/site"
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
	db := &dbCheck{store: o.Store, stopping: o.Stopping}
	m, err := newMetrics(o.Registry, o.Accounts, mailView{o.Store}, db, o.Logger)
	if err != nil {
		return nil, err
	}
	names := o.Accounts.Site() // what the use cases write with, for pages to say the same
	st, err := site.New(site.Config{
		Templates: templateFS, MorePages: []fs.FS{console.Templates}, Accounts: o.Accounts, Logger: o.Logger, Errors: m.errors,
		BaseURL: o.BaseURL, CookieDomain: o.CookieDomain, InsecureCookies: o.InsecureCookies, TrustedProxies: o.TrustedProxies,
		Product: names.Product, Support: names.Support, Location: names.Location, Rehearsal: o.Rehearsal,
		ConsoleLink: console.Link,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	routes(mux, o, st, m, db)

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := mfagate.Errorf(mfagate.EFORBIDDEN,
			"This form was sent from another website, so it was not accepted. Go back and try again")
		if site.IsAPI(r) {
			err = mfagate.Errorf(mfagate.EFORBIDDEN, "Cross-origin requests from browsers are refused: call the API from a program, with a bearer token")
		}
		st.Error(w, r, err)
	}))
	// Outermost last: a panic anywhere still gets the headers and a page;
	// cross-origin posts are refused before their bodies are read.
	var h http.Handler = mux
	h = st.CheckInput(h)
	h = cop.Handler(h)
	h = limitHeaders(h, st)
	h = observe(h, st, m)
	h = securityHeaders(h, st, o.CookieDomain)
	h = closeWhenStopping(h, o.Stopping)
	h = recoverPanics(h, st)
	return h, nil
}

// templateFS holds the layout, the parts every page may use and the
// account holder's pages; the console's pages are web/console's own
// (console.Templates). site.New parses them all once.
//
//go:embed all:templates
var templateFS embed.FS
