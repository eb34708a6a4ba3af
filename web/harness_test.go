package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/password"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/web"
)

var cheap = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const pw = "plum orchard lantern"

type harness struct {
	ts       *httptest.Server
	store    *sqlstore.DB
	accounts *account.Service
	clock    *mfagate.ManualClock
}

// harnessConfig is what a harness is built from: the web server's
// options, and (as Account) those of the use cases behind it.
type harnessConfig struct {
	web.Options
	Account account.Options
}

type harnessOption func(*harnessConfig)

// newHarness serves the real handler over TLS on a free port, with a fresh
// SQLite database, a manual clock and an account "alice".
func newHarness(tb testing.TB, opts ...harnessOption) *harness {
	tb.Helper()
	return newPolicyHarness(tb, nil, opts...)
}

// newPolicyHarness is newHarness with the decision after the password
// made by the rollout plan (nil: none, so setup is offered to everyone).
func newPolicyHarness(tb testing.TB, plan *rollout.Rollout, opts ...harnessOption) *harness {
	tb.Helper()
	return newStoreHarness(tb, sqltest.SQLite(), plan, opts...)
}

// newBackendHarness is newHarness on a database of backend b, for tests
// that must hold on SQLite and PostgreSQL alike (sqltest.EachBackend).
func newBackendHarness(tb testing.TB, b sqltest.Backend, opts ...harnessOption) *harness {
	tb.Helper()
	return newStoreHarness(tb, b, nil, opts...)
}

func newStoreHarness(tb testing.TB, b sqltest.Backend, plan *rollout.Rollout, opts ...harnessOption) *harness {
	tb.Helper()
	store := b.New(tb)
	clock := mfagate.NewManualClock(time.Date(2027, 6, 1, 9, 0, 0, 0, time.UTC))
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	tb.Cleanup(ts.Close)
	base, _ := url.Parse(ts.URL)
	c := harnessConfig{
		Options: web.Options{Store: store, BaseURL: base, DevOutbox: true},
		Account: account.Options{Store: store, Clock: clock, Password: cheap,
			Key: []byte("0123456789abcdef0123456789abcdef"), Rollout: plan, Support: account.Contacts{Email: "help@example.com"}},
	}
	for _, opt := range opts {
		opt(&c)
	}
	accounts, err := account.New(c.Account)
	if err != nil {
		tb.Fatal(err)
	}
	o := c.Options
	o.Accounts = accounts
	h, err := web.NewServer(o)
	if err != nil {
		tb.Fatal(err)
	}
	ts.Config.Handler = h
	hs := &harness{ts: ts, store: store, accounts: accounts, clock: clock}
	hs.mustUser(tb, "alice", pw)
	return hs
}

func (h *harness) mustUser(tb testing.TB, name, pass string, roles ...string) {
	tb.Helper()
	if len(roles) == 0 {
		roles = []string{"user"}
	}
	_, err := h.accounts.CreateUser(context.Background(), account.Actor{Name: "test", AtServer: true}, account.NewUser{
		Username: name, Email: name + "@example.com", Name: strings.ToUpper(name[:1]) + name[1:],
		Roles: roles, Password: pass,
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// client is a browser-like client with its own cookie jar that does not
// follow redirects, so tests can look at them.
func (h *harness) client(tb testing.TB) *http.Client {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	c := *h.ts.Client() // a copy: the server's client is shared
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

type response struct {
	*http.Response
	body string
}

func do(tb testing.TB, c *http.Client, req *http.Request) response {
	tb.Helper()
	res, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return response{res, string(b)}
}

func (h *harness) get(tb testing.TB, c *http.Client, path string) response {
	tb.Helper()
	req, _ := http.NewRequest("GET", h.ts.URL+path, nil)
	return do(tb, c, req)
}

func (h *harness) post(tb testing.TB, c *http.Client, path string, form url.Values, header ...string) response {
	tb.Helper()
	req, _ := http.NewRequest("POST", h.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(tb, c, req)
}

// signIn signs in with a password and, when offered setting up MFA,
// skips it, returning the last response: people without a factor are
// fully signed in after it.
func (h *harness) signIn(tb testing.TB, c *http.Client, user, pass string, rd ...string) response {
	tb.Helper()
	form := url.Values{"username": {user}, "password": {pass}}
	if len(rd) > 0 {
		form.Set("rd", rd[0])
	}
	res := h.post(tb, c, "/login", form)
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || loc.Path != "/mfa/setup" {
		return res
	}
	return h.post(tb, c, "/mfa/setup/skip", url.Values{"rd": {loc.Query().Get("rd")}})
}

// sessionCookie returns the session cookie the client holds, or nil.
func (h *harness) sessionCookie(c *http.Client) *http.Cookie {
	u, _ := url.Parse(h.ts.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if strings.HasSuffix(ck.Name, "mfagate_session") {
			return ck
		}
	}
	return nil
}

func (h *harness) audit(tb testing.TB, f mfagate.AuditFilter) []*mfagate.AuditEvent {
	tb.Helper()
	var evs []*mfagate.AuditEvent
	if err := h.store.View(context.Background(), func(tx mfagate.Tx) (err error) {
		evs, err = tx.AuditEvents(f)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	return evs
}

func withTrustedProxy(p string) harnessOption {
	return func(o *harnessConfig) { o.TrustedProxies = append(o.TrustedProxies, netip.MustParsePrefix(p)) }
}
