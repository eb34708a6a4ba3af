package cli

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/config"
	"github.com/mfagate/mfagate/mail"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/web"
	"github.com/mfagate/mfagate/worker"
	"github.com/prometheus/client_golang/prometheus"
)

// app is an opened installation: its configuration, database and use
// cases, ready for a subcommand to use.
type app struct {
	cfg      *config.Config
	store    *sqlstore.DB
	accounts *account.Service
	clock    mfagate.Clock
	rclock   mfagate.Clock // the rollout's time: moved by a rehearsal, nothing else is
	log      *slog.Logger
	key      []byte
	plan     *rollout.Rollout
	// rehearsal marks every page: the clock was moved on purpose.
	rehearsal bool
	// dbTimes times the store's requests, for serve's metrics.
	dbTimes *dbTimes
}

// appOption adjusts how an installation is opened.
type appOption func(*app)

// atClock runs the installation as if it were t, from now on.
func atClock(t time.Time) appOption {
	return func(a *app) {
		a.rclock = mfagate.NewOffsetClock(t, time.Now())
		a.rehearsal = true
	}
}

// openApp reads the secret key, opens the database, applies pending
// migrations and builds the use cases.
func openApp(ctx context.Context, e *env, cfg *config.Config, opts ...appOption) (*app, error) {
	plan, err := cfg.Plan()
	if err != nil {
		return nil, err
	}
	key, err := readKey(cfg.Secrets.KeyFile)
	if err != nil {
		return nil, err
	}
	times := newDBTimes()
	store, err := openStore(ctx, cfg, times)
	if err != nil {
		return nil, err
	}
	if _, err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	a := &app{cfg: cfg, store: store, clock: mfagate.SystemClock{}, key: key, plan: plan, dbTimes: times,
		log: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	for _, o := range opts {
		o(a)
	}
	siteURL := ""
	if cfg.Server.ParsedBaseURL != nil {
		siteURL = cfg.Server.ParsedBaseURL.String()
	}
	a.accounts, err = account.New(account.Options{
		Store: store, Clock: a.clock, RolloutClock: a.rclock,
		SessionIdle: cfg.Server.SessionIdleTimeout, SessionMaxAge: cfg.Server.SessionMaxAge,
		Product: cfg.MFA.Issuer, SiteURL: siteURL,
		Support:  account.Contacts{Email: cfg.Support.Email, Phone: cfg.Support.Phone, Hours: cfg.Support.Hours},
		Location: cfg.Rollout.Location,
		Key:      key,
		MFA:      mfaSettings(cfg),
		Throttle: account.ThrottleSettings(cfg.Throttle),
		Policy:   account.RolloutPolicy(plan),

		MailRetryFor: cfg.Mail.RetryFor,
	})
	if err != nil {
		store.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) Close() error { return a.store.Close() }

// mfaSettings carries the configured limits over to the use cases.
func mfaSettings(cfg *config.Config) account.MFASettings {
	m := cfg.MFA
	skew := m.TOTP.SkewSteps
	if skew == 0 {
		skew = -1 // the configuration's 0 means none; the settings' 0 means the default
	}
	return account.MFASettings{
		Issuer: m.Issuer, CodeTTL: m.Email.CodeTTL, MaxFailures: m.Email.MaxAttempts,
		ResendCooldown: m.Email.ResendCooldown, HourlyCap: m.Email.HourlyCap,
		TOTPSkew: skew, RecoveryCodes: m.RecoveryCodes.Count,
	}
}

// readKey reads a key file written by "mfagate keygen": base64 of 32
// random bytes. The key encrypts secrets at rest, so a missing or damaged
// file stops start-up with a message saying which.
func readKey(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("secrets.key_file is not set; create a key with \"mfagate keygen FILE\"")
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("secret key file %s does not exist; create it with \"mfagate keygen %s\"", path, path)
	}
	if err != nil {
		return nil, fmt.Errorf("read secret key file: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("secret key file %s does not hold a key: it must be base64 of 32 bytes, as \"mfagate keygen\" writes", path)
	}
	return key, nil
}

// mailer returns the Mailer the configuration asks for.
func (a *app) mailer() (mfagate.Mailer, error) {
	m := a.cfg.Mail
	if m.Driver == "outbox" {
		return mail.NewDevOutbox(), nil
	}
	return mail.NewSMTP(mail.SMTPConfig{
		Host: m.SMTP.Host, Port: m.SMTP.Port, Username: m.SMTP.Username, Password: m.SMTP.Password,
		TLS: m.SMTP.TLS, From: m.From, Clock: a.clock,
	})
}

// drainTimeout bounds how long the requests in flight may take to finish
// once the server stops taking new ones; those still running then are cut
// off.
const drainTimeout = 15 * time.Second

// serve runs the web server on ln, with the background workers, until ctx
// ends. Then it stops in three steps, so that a load balancer loses no
// request: for server.shutdown_delay it goes on serving while /readyz
// answers 503 and every response closes its connection, until the
// balancer has taken it out; then it stops taking connections and lets
// the requests in flight finish; then the background workers stop (the
// mail worker gives back what it claimed and did not try).
// With metricsLn (server.metrics_addr), /metrics is served there alone
// and the main listener answers 404 for it; without, on ln.
func (a *app) serve(ctx context.Context, ln, metricsLn net.Listener) error {
	mailer, err := a.mailer()
	if err != nil {
		return err
	}
	delivery := &worker.Delivery{Store: a.store, Mailer: mailer, Clock: a.clock, Logger: a.log,
		RetryFor: a.cfg.Mail.RetryFor, MaxPerSecond: float64(a.cfg.Mail.MaxPerSecond), Senders: a.cfg.Mail.Connections,
		Wake: a.store.MailQueued()}
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{newMailCollector(delivery), a.dbTimes.vec} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	handler, err := web.NewServer(web.Options{
		Accounts: a.accounts, Store: a.store, Logger: a.log, Registry: reg, MetricsElsewhere: metricsLn != nil,
		BaseURL:         a.cfg.Server.ParsedBaseURL,
		CookieDomain:    a.cfg.Server.CookieDomain,
		InsecureCookies: a.cfg.Server.DevInsecureCookies,
		TrustedProxies:  a.cfg.Server.TrustedProxyPrefixes,
		DevOutbox:       a.cfg.Mail.Driver == "outbox",
		DevMailbox:      devMailbox(mailer),
		Product:         a.cfg.MFA.Issuer,
		Support:         account.Contacts{Email: a.cfg.Support.Email, Phone: a.cfg.Support.Phone, Hours: a.cfg.Support.Hours},
		Location:        a.cfg.Rollout.Location,
		Rehearsal:       a.rehearsal,
		Rollout:         a.plan,
		ForwardAuth:     forwardAuthRules(a.cfg.ForwardAuth.Rules),
		Stopping:        ctx.Done(),
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		// Above web's own limit, which answers 431 with our headers and a
		// page; over this one net/http writes a bare 431 of its own.
		MaxHeaderBytes: 4 * web.MaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{}, 4)
	go func() { delivery.Run(workCtx, 2*time.Second); done <- struct{}{} }()
	go func() { a.retention().Run(workCtx, 5*time.Minute); done <- struct{}{} }()
	go func() {
		worker.RunScheduled(workCtx, a.store, a.clock, "alerts", time.Minute, a.sendHeldAlerts)
		done <- struct{}{}
	}()
	go func() { worker.Every(workCtx, time.Minute, a.sendDueCampaigns); done <- struct{}{} }()

	a.warnIfKeyIsAnother(ctx)
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	a.log.Info("mfagate is listening", "addr", ln.Addr().String(), "base_url", a.cfg.Server.BaseURL)
	var metricsSrv *http.Server
	if metricsLn != nil {
		metricsSrv = &http.Server{
			Handler:           web.MetricsRoutes(reg),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		}
		go func() { errc <- metricsSrv.Serve(metricsLn) }()
		a.log.Info("mfagate serves its metrics", "addr", metricsLn.Addr().String())
	}

	select {
	case err = <-errc:
		srv.Close()
	case <-ctx.Done():
		err = a.drain(srv, errc)
	}
	// The metrics stay readable while requests drain, then go with them.
	if metricsSrv != nil {
		metricsSrv.Close()
	}
	stopWork()
	for range cap(done) {
		<-done
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// drain stops srv once ctx is done (see serve): the delay with /readyz
// answering 503, then no new connections and the requests in flight
// finished. errc reports the end of Serve of srv or of the metrics
// listener.
func (a *app) drain(srv *http.Server, errc <-chan error) error {
	if delay := a.cfg.Server.ShutdownDelay; delay > 0 {
		a.log.Info("shutting down: /readyz answers 503 and requests are still served, so that a load balancer can take this server out",
			"shutdown_delay", delay.String())
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case err := <-errc: // a listener failed: stop the rest at once
			t.Stop()
			srv.Close()
			return err
		}
	}
	a.log.Info("shutting down: no new connections; finishing the requests in flight")
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	err := srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		a.log.Warn("shutting down: requests still running were cut off", "after", drainTimeout.String())
		return srv.Close()
	}
	return err
}

// devMailbox is the mailer as the dev outbox page reads it, or nil for a
// real mail server.
func devMailbox(m mfagate.Mailer) web.DevMailbox {
	if box, ok := m.(*mail.DevOutbox); ok {
		return box
	}
	return nil
}

// forwardAuthRules carries the configured access rules over to the web
// server.
func forwardAuthRules(rules []config.AccessRule) []web.ForwardAuthRule {
	out := make([]web.ForwardAuthRule, len(rules))
	for i, r := range rules {
		out[i] = web.ForwardAuthRule{Host: r.Host, Path: r.Path, Roles: r.Roles}
	}
	return out
}

// sendDueCampaigns queues the rollout's due notices and reminders. Every
// replica may run it: each person is reached once, recorded in the
// database with their email.
func (a *app) sendDueCampaigns(ctx context.Context) bool {
	n, err := a.accounts.RunCampaigns(ctx, a.plan)
	if err != nil {
		a.log.Error("rollout emails", "err", err)
	} else if n > 0 {
		a.log.Info("rollout emails queued", "count", n)
	}
	return false
}

// retention is the job that deletes what is no longer needed.
func (a *app) retention() *worker.Retention {
	return &worker.Retention{Store: a.store, Clock: a.clock, Logger: a.log,
		SessionIdle: a.cfg.Server.SessionIdleTimeout, SessionMaxAge: a.cfg.Server.SessionMaxAge,
		CodeTTL: a.cfg.MFA.Email.CodeTTL, IdleThrottles: a.cfg.Retention.IdleThrottles, SentMail: a.cfg.Retention.SentMail}
}

// sendHeldAlerts emails the summaries of security alerts held back so as
// not to flood people (see account.SendHeldAlerts).
func (a *app) sendHeldAlerts(ctx context.Context) {
	n, err := a.accounts.SendHeldAlerts(ctx, 500)
	if err != nil {
		a.log.Error("held security alerts", "err", err)
	} else if n > 0 {
		a.log.Info("held security alerts sent", "count", n)
	}
}

// bootstrap creates the configured accounts that do not exist yet.
func (a *app) bootstrap(ctx context.Context) error {
	for _, b := range a.cfg.Admin.Bootstrap {
		pw, err := os.ReadFile(b.PasswordFile)
		if err != nil {
			return fmt.Errorf("read password file of bootstrap account %q: %w", b.Username, err)
		}
		created, err := a.accounts.EnsureUser(ctx, account.Actor{Name: mfagate.ActorSystem, AtServer: true}, account.NewUser{
			Username: b.Username, Email: b.Email, Name: b.Name, Roles: b.Roles,
			Password: strings.TrimRight(string(pw), "\r\n"),
		})
		if err != nil {
			return fmt.Errorf("bootstrap account %q: %s", b.Username, mfagate.ErrorMessage(err))
		}
		if created {
			a.log.Info("created bootstrap account", "username", b.Username)
		}
	}
	return nil
}

// openStore opens the configured database without migrating it; obs,
// when not nil, times its requests.
func openStore(ctx context.Context, cfg *config.Config, obs sqlstore.Observer) (*sqlstore.DB, error) {
	o := storeOptions(cfg.Database)
	o.Observer = obs
	return sqlstore.OpenWith(ctx, cfg.Database.Driver, cfg.Database.DSN, o)
}

// longCommandTimeout is the deadline of a command's work that reads or
// writes every account in one go (simulate, user list, user import):
// database.request_timeout is for requests and would stop them at a
// size an installation can reach.
const longCommandTimeout = 10 * time.Minute

// storeOptions carries the configured deadlines and pool to the store.
func storeOptions(d config.Database) sqlstore.Options {
	return sqlstore.Options{
		RequestTimeout: d.RequestTimeout, ConnectTimeout: d.ConnectTimeout,
		MaxOpenConns: d.MaxOpenConns, MaxIdleConns: d.MaxIdleConns,
		ConnMaxLifetime: d.ConnMaxLifetime, ConnMaxIdleTime: d.ConnMaxIdleTime,
	}
}
