package cli

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore"
)

// The server's work for session checks: writing when sessions were used,
// and hearing of the sessions other replicas end.

// lastFlushTimeout bounds the flush of session uses when the server
// stops.
const lastFlushTimeout = 10 * time.Second

// flushTouches writes the uses of sessions every account.TouchEvery until
// ctx is done, and once more then: the requests have been drained by
// that time, so none of their uses is lost.
func (a *app) flushTouches(ctx context.Context) {
	t := time.NewTicker(account.TouchEvery)
	defer t.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-t.C:
			if err := a.accounts.FlushTouches(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("sessions' last use not written; tried again at the next flush", "err", err)
			}
		}
	}
	last, cancel := context.WithTimeout(context.WithoutCancel(ctx), lastFlushTimeout)
	defer cancel()
	if err := a.accounts.FlushTouches(last); err != nil {
		a.log.Warn("sessions' last use not written as the server stopped", "err", err)
	}
}

// followRevocations hears of the sessions that other replicas (on
// PostgreSQL) or other processes (on SQLite: commands such as "mfagate
// user disable") end, until ctx is done.
func (a *app) followRevocations(ctx context.Context) {
	var (
		r   mfagate.Revocations
		err error
	)
	if a.cfg.Database.Driver == sqlstore.DriverPostgres {
		r, err = sqlstore.NewListener(a.cfg.Database.DSN, a.cfg.Database.ConnectTimeout, a.log)
	} else {
		r, err = sqlstore.NewPoller(a.store, a.log)
	}
	if err != nil {
		a.log.Error("not hearing of sessions ended elsewhere", "err", err)
		return
	}
	a.accounts.FollowRevocations(ctx, r)
}

// sessionCacheCollector exports the check cache's counts.
type sessionCacheCollector struct {
	a                                 *account.Service
	checks, evictions, size, listener *prometheus.Desc
}

func newSessionCacheCollector(a *account.Service) *sessionCacheCollector {
	return &sessionCacheCollector{a: a,
		checks: prometheus.NewDesc("mfagate_session_checks_total",
			"Forward-auth session checks by how they were answered: hit (a live session from memory), miss (asked the database), "+
				"negative_hit (a token of no live session, refused from memory) or refused (not a token this server made: refused without any lookup).",
			[]string{"result"}, nil),
		evictions: prometheus.NewDesc("mfagate_session_cache_evictions_total",
			"Live sessions pushed out of the check cache to make room (server.session_cache_size).", nil, nil),
		size: prometheus.NewDesc("mfagate_session_cache_sessions",
			"Live sessions held in the check cache.", nil, nil),
		listener: prometheus.NewDesc("mfagate_session_revocations_listening",
			"1 while this server hears of sessions ended on other replicas or by other processes, 0 otherwise.", nil, nil),
	}
}

func (c *sessionCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.checks
	ch <- c.evictions
	ch <- c.size
	ch <- c.listener
}

func (c *sessionCacheCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.a.CheckStats()
	for _, r := range []struct {
		n    uint64
		name string
	}{{st.Hits, "hit"}, {st.Misses, "miss"}, {st.NegativeHits, "negative_hit"}, {st.Refused, "refused"}} {
		ch <- prometheus.MustNewConstMetric(c.checks, prometheus.CounterValue, float64(r.n), r.name)
	}
	ch <- prometheus.MustNewConstMetric(c.evictions, prometheus.CounterValue, float64(st.Evictions))
	ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(st.Size))
	listening := 0.0
	if st.Listening {
		listening = 1
	}
	ch <- prometheus.MustNewConstMetric(c.listener, prometheus.GaugeValue, listening)
}
