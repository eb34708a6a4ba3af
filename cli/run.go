package cli

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/config"
	"github.com/mfagate/mfagate/mail"
	"github.com/mfagate/mfagate/web"
	"github.com/mfagate/mfagate/worker"
	"github.com/prometheus/client_golang/prometheus"
)

// Running the server: the web server and its background jobs, and how it
// stops without losing a request.

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
	campaigns := &worker.Campaigns{Accounts: a.accounts, Logger: a.log}
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{newMailCollector(delivery), newCampaignCollector(campaigns), a.dbTimes.vec,
		newSessionCacheCollector(a.accounts)} {
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
		Rehearsal:       a.rehearsal,
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
	done := make(chan struct{}, 6)
	go func() { a.flushTouches(workCtx); done <- struct{}{} }()
	go func() { a.followRevocations(workCtx); done <- struct{}{} }()
	go func() { delivery.Run(workCtx, 2*time.Second); done <- struct{}{} }()
	go func() { a.retention().Run(workCtx, 5*time.Minute); done <- struct{}{} }()
	go func() {
		worker.RunScheduled(workCtx, a.store, a.clock, "alerts", time.Minute, a.sendHeldAlerts)
		done <- struct{}{}
	}()
	go func() { campaigns.Run(workCtx, time.Minute); done <- struct{}{} }()

	a.warnIfKeyIsAnother(ctx)
	a.warnOfUnknownRoles(ctx)
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

// retention is the job that deletes what is no longer needed.
func (a *app) retention() *worker.Retention {
	return &worker.Retention{Store: a.store, Clock: a.clock, Logger: a.log,
		// A use may wait account.IdleGrace to be written: such a session is
		// not idle yet.
		SessionIdle: a.cfg.Server.SessionIdleTimeout + account.IdleGrace, SessionMaxAge: a.cfg.Server.SessionMaxAge,
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
