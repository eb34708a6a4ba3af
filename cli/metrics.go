package cli

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/worker"
)

// mailCollector exports what the outbox worker of this server has done.
type mailCollector struct {
	d                     *worker.Delivery
	sent, failed, skipped *prometheus.Desc
}

func newMailCollector(d *worker.Delivery) *mailCollector {
	return &mailCollector{d: d,
		sent: prometheus.NewDesc("mfagate_mail_sent_total",
			"Emails the mail server accepted from this server, by priority.", []string{"priority"}, nil),
		failed: prometheus.NewDesc("mfagate_mail_failures_total",
			"Attempts to send an email that failed: temporary (tried again later) or refused (a 5xx answer, given up).",
			[]string{"kind"}, nil),
		skipped: prometheus.NewDesc("mfagate_mail_skipped_total",
			"Claimed emails not sent because another server had taken them over or sent them first.", nil, nil),
	}
}

func (c *mailCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.sent
	ch <- c.failed
	ch <- c.skipped
}

func (c *mailCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.d.Counts()
	for i := range n.Sent {
		ch <- prometheus.MustNewConstMetric(c.sent, prometheus.CounterValue, float64(n.Sent[i]), mfagate.MailPriorityName(i))
	}
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, float64(n.Temporary), "temporary")
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, float64(n.Refused), "refused")
	ch <- prometheus.MustNewConstMetric(c.skipped, prometheus.CounterValue, float64(n.Skipped))
}

// campaignCollector exports the passes of this server's rollout email
// job, so that an operator can alert when it fails or stops.
type campaignCollector struct {
	c      *worker.Campaigns
	passes *prometheus.Desc
}

func newCampaignCollector(c *worker.Campaigns) *campaignCollector {
	return &campaignCollector{c: c, passes: prometheus.NewDesc("mfagate_rollout_campaign_passes_total",
		"Passes of this server's job that queues the rollout's due notices and reminders, by result: ok, or failed (see the log).",
		[]string{"result"}, nil)}
}

func (c *campaignCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.passes }

func (c *campaignCollector) Collect(ch chan<- prometheus.Metric) {
	done, failed := c.c.Passes()
	ch <- prometheus.MustNewConstMetric(c.passes, prometheus.CounterValue, float64(done-failed), "ok")
	ch <- prometheus.MustNewConstMetric(c.passes, prometheus.CounterValue, float64(failed), "failed")
}

// dbTimes is the latency of database requests, by kind, as sqlstore
// reports it (sqlstore.Observer). Each kind's series is resolved once:
// requests only add to it.
type dbTimes struct {
	vec    *prometheus.HistogramVec
	byKind []prometheus.Observer // by sqlstore.RequestKind
}

func newDBTimes() *dbTimes {
	t := &dbTimes{vec: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "mfagate_db_request_duration_seconds",
		Help: "Time a database request took, waits for a connection and for locks included, by kind: update (a transaction), view (reads) or ping.",
		// Up to the default request timeout (database.request_timeout, 5 s).
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"kind"})}
	for _, k := range sqlstore.RequestKinds {
		t.byKind = append(t.byKind, t.vec.WithLabelValues(k.String()))
	}
	return t
}

// ObserveRequest implements sqlstore.Observer.
func (t *dbTimes) ObserveRequest(kind sqlstore.RequestKind, d time.Duration) {
	if int(kind) >= 0 && int(kind) < len(t.byKind) {
		t.byKind[kind].Observe(d.Seconds())
	}
}
