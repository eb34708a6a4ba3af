package site

import (
	"context"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/netip"
	"net/url"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/prometheus/client_golang/prometheus"
)

// Accounts is what the shared parts ask of the use cases: who a session
// cookie belongs to, where someone part-way through signing in goes next,
// the rollout's time for the rehearsal notice and its zone for dates.
type Accounts interface {
	Authenticate(ctx context.Context, token string) (*account.Current, error)
	Decide(ctx context.Context, cur *account.Current) (account.Decision, []*mfagate.Factor, error)
	RolloutNow() time.Time
	Timeline() account.Timeline // read once, in New, for the rollout's zone
}

// Config are New's dependencies and settings.
type Config struct {
	// Templates holds templates/*.html: the layout, its shared parts
	// (templates/_*.html) and one file per page.
	Templates fs.FS
	// MorePages hold more pages the same way, each part's own (the
	// console's, in web/console): each page is parsed with the layout
	// and shared parts of Templates and the parts (_*.html) of its own
	// set. Optional.
	MorePages []fs.FS
	Accounts  Accounts
	Logger    *slog.Logger
	// Errors counts the errors Error answers, by code
	// (mfagate_http_errors_total). Optional.
	Errors *prometheus.CounterVec

	BaseURL         *url.URL // where mfagate is reached
	CookieDomain    string   // e.g. ".example.com" to share the session with applications
	InsecureCookies bool     // drop Secure (only for the demo on loopback)
	TrustedProxies  []netip.Prefix

	// Product, Support and Location are the names and zone the use
	// cases write with (account.Service.Site), for pages to say the same.
	Product   string
	Support   account.Contacts
	Location  *time.Location // zone for times shown on pages (default UTC)
	Rehearsal bool           // every page says the server runs at a chosen time
	// ConsoleLink is where the header's "Console" link goes for a
	// signed-in person, or "" (web/console decides). Optional.
	ConsoleLink func(*mfagate.User) string
}

// Site holds what the parts of the web adapter share: settings, the
// parsed templates and the session cookie's spec.
type Site struct {
	cfg        Config
	pages      map[string]*template.Template
	rolloutLoc *time.Location // the zone phase dates are written in
	Cookie     CookieSpec
}

// New parses the templates, so that a broken one stops start-up rather
// than one page.
func New(c Config) (*Site, error) {
	if c.BaseURL == nil {
		return nil, errors.New("site: the base URL is required")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Product == "" {
		c.Product = "mfagate"
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	s := &Site{cfg: c, Cookie: newCookieSpec(c), rolloutLoc: c.Location}
	if c.Accounts != nil { // the schedule's zone is fixed for the service's life
		s.rolloutLoc = c.Accounts.Timeline().Location
	}
	if c.Templates != nil {
		pages, err := parsePages(c.Templates, c.MorePages, c.Location)
		if err != nil {
			return nil, err
		}
		s.pages = pages
	}
	return s, nil
}

// Logger is where the site logs.
func (s *Site) Logger() *slog.Logger { return s.cfg.Logger }

// Product is the product's name, as pages and files say it.
func (s *Site) Product() string { return s.cfg.Product }

// Loc is the zone times are shown in.
func (s *Site) Loc() *time.Location { return s.cfg.Location }

// Rehearsal reports whether the server runs at a chosen time.
func (s *Site) Rehearsal() bool { return s.cfg.Rehearsal }

// BaseURL is where mfagate is reached.
func (s *Site) BaseURL() *url.URL { return s.cfg.BaseURL }

// IsHTTPS reports whether people reach mfagate over TLS.
func (s *Site) IsHTTPS() bool { return s.cfg.BaseURL.Scheme == "https" }
