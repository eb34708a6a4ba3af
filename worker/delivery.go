package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mfagate/mfagate"
)

// Defaults of Delivery's settings. The lease is short because the
// heartbeat renews it while a batch works: it only says how soon the
// batch of a server that died is sent by another.
const (
	DefaultLease    = 30 * time.Second
	DefaultBatch    = 50
	DefaultRetryFor = 72 * time.Hour
	DefaultSenders  = 4
)

// securityBatch is how many security messages one claim takes: one, so
// that a message the mail server is slow to take holds up no other code
// (each claimed message stays leased while its batch works), and
// securitySenders of each replica, and every other replica's, carry on.
const (
	securityBatch   = 1
	securitySenders = 2
)

// securityPoll is how often the security sender looks for mail queued by
// other replicas (its own replica wakes it at once).
const securityPoll = time.Second

// lastCodeTry is the least time a code must have left for a failed code
// email to be tried again when the backoff would go past its end: then
// the next try is halfway to the end.
const lastCodeTry = time.Minute

// recordTimeout bounds recording an outcome after ctx is done: a message
// that was sent must still be marked sent while the service shuts down.
const recordTimeout = 10 * time.Second

// maxErrorLen caps the error text stored with a message.
const maxErrorLen = 1000

// Delivery sends the messages of the transactional outbox. Any number of
// Deliveries, in any number of replicas, may run at once.
//
// Each claim leases a batch of messages under a random claim number.
// Before each message is sent, HoldMail checks that it is still pending
// in that batch and extends its lease; right after the server's answer
// the outcome is recorded, before the next message is sent. A heartbeat
// renews the batch's lease while it works, so a slow server never lets
// another worker take over a batch in progress; and if one does (this
// process was paused past the lease), the check stops this one from
// sending what the other took. So a message is sent at least once, and
// more than once only when the connection or the process dies between the
// server's acceptance and our record of it: at most one message per
// death, sent again with the same Message-ID.
//
// Security mail (mfagate.MailSecurity) has two senders of its own, each
// on its own connection, taking one message at a time, codes before
// notices, woken by Wake; the bulk senders take account notices before
// campaigns and may be paced with MaxPerSecond.
//
// Zero fields take their defaults; Store and Mailer are required.
type Delivery struct {
	Store  mfagate.Store
	Mailer mfagate.Mailer
	Clock  mfagate.Clock // default: the system clock
	Logger *slog.Logger  // default: discard
	// Lease is how long a claimed message is kept from other workers
	// without a renewal: how long the batch of a worker that died waits.
	// Default 30s.
	Lease time.Duration
	// Batch is how many messages the bulk sender claims at once. Default
	// 50.
	Batch int
	// RetryFor is how long a message is retried after a temporary failure,
	// from when it was queued; then it is given up. Default 72h.
	RetryFor time.Duration
	// Backoff returns how long to wait after the given failed attempt
	// (1 for the first) before the next. Default: Backoff.
	Backoff func(attempt int) time.Duration
	// MaxPerSecond paces the bulk senders (account notices and campaigns)
	// to at most this many messages a second between them; 0 means as
	// fast as the mail server takes them. Security mail is never paced.
	MaxPerSecond float64
	// Senders is how many bulk senders Run starts, each with a connection
	// and batches of its own, so that one message's round trips to the
	// database and the mail server overlap another's. Default 4.
	Senders int
	// Wake, when set, wakes the security sender at once (see
	// sqlstore.DB.MailQueued); without it, it looks every second.
	Wake <-chan struct{}

	counts deliveryCounts
}

// DeliveryCounts counts what a Delivery's senders have seen since it
// started, for metrics.
type DeliveryCounts struct {
	// Sent counts messages the mail server accepted, by priority
	// (mfagate.MailSecurity, MailAccount, MailCampaign).
	Sent [3]uint64
	// Temporary counts failed attempts that will be tried again (or were
	// given up after mail.retry_for); Refused counts 5xx refusals.
	Temporary, Refused uint64
	// Skipped counts claimed messages not sent because, by the time their
	// turn came, another worker had taken them over or sent them.
	Skipped uint64
}

type deliveryCounts struct {
	sent                        [3]atomic.Uint64
	temporary, refused, skipped atomic.Uint64
}

// Counts returns the counts so far. Safe for concurrent use.
func (d *Delivery) Counts() DeliveryCounts {
	var c DeliveryCounts
	for i := range c.Sent {
		c.Sent[i] = d.counts.sent[i].Load()
	}
	c.Temporary, c.Refused, c.Skipped = d.counts.temporary.Load(), d.counts.refused.Load(), d.counts.skipped.Load()
	return c
}

// count adds the outcome of one attempt to the counts.
func (d *Delivery) count(m *mfagate.Message, err error) {
	var refused *mfagate.MailRefused
	switch {
	case err == nil:
		if m.Priority >= 0 && m.Priority < len(d.counts.sent) {
			d.counts.sent[m.Priority].Add(1)
		}
	case errors.As(err, &refused):
		d.counts.refused.Add(1)
	default:
		d.counts.temporary.Add(1)
	}
}

// Backoff is Delivery's default retry delay: 30s after the first failed
// attempt, doubling each time, at most an hour.
func Backoff(attempt int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// lane is one sender's share of the outbox.
type lane struct {
	name            string
	lowest, highest int // priorities
	batch           int
	paced           bool
}

func (d *Delivery) security() lane {
	return lane{name: "security", lowest: mfagate.MailSecurity, highest: mfagate.MailSecurity, batch: securityBatch}
}

func (d *Delivery) bulk() lane {
	l := lane{name: "bulk", lowest: mfagate.MailAccount, highest: mfagate.MailCampaign, batch: d.batch(),
		paced: d.MaxPerSecond > 0}
	if l.paced {
		// A paced batch lasts about a second, so that an account notice
		// queued behind it does not wait for minutes of campaign.
		l.batch = max(1, min(l.batch, int(d.MaxPerSecond)))
	}
	return l
}

// RunOnce claims one batch of due security mail, sends it, then one batch
// of the rest, and returns how many messages the mail server accepted. A
// failed send is not an error of RunOnce: it is recorded on the message
// and retried later. The error reports a failure to claim or to record.
func (d *Delivery) RunOnce(ctx context.Context) (sent int, err error) {
	var errs []error
	for _, l := range []lane{d.security(), d.bulk()} {
		s := d.newSender(l)
		n, _, err := s.run(ctx)
		s.close()
		sent += n
		errs = append(errs, err)
	}
	return sent, errors.Join(errs...)
}

// Run delivers until ctx is done: the security sender at once when Wake
// fires and at least every second, each bulk sender (see Senders) every
// interval and at once again after a full batch. Each keeps its
// connection while it has work. Errors are logged.
func (d *Delivery) Run(ctx context.Context, interval time.Duration) {
	var wg sync.WaitGroup
	for range securitySenders {
		wg.Go(func() { d.loop(ctx, d.newSender(d.security()), min(interval, securityPoll), d.Wake) })
	}
	pace := &pacer{} // MaxPerSecond is for the bulk senders together
	for range d.senders() {
		s := d.newSender(d.bulk())
		s.pacer = pace
		wg.Go(func() { d.loop(ctx, s, interval, nil) })
	}
	wg.Wait()
}

// loop runs s until ctx is done: again at once after a full batch, else
// after interval or when wake fires. The connection is closed whenever
// the queue is empty.
func (d *Delivery) loop(ctx context.Context, s *sender, interval time.Duration, wake <-chan struct{}) {
	defer s.close()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-wake:
		}
		_, claimed, err := s.run(ctx)
		if err != nil && ctx.Err() == nil {
			d.logger().ErrorContext(ctx, "mail delivery", "sender", s.lane.name, "err", err)
		}
		next := interval
		if err == nil && claimed >= s.lane.batch {
			next = 0
		} else {
			s.close() // idle: do not keep the mail server's connection open
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

func (d *Delivery) clock() mfagate.Clock {
	if d.Clock == nil {
		return mfagate.SystemClock{}
	}
	return d.Clock
}

func (d *Delivery) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

func (d *Delivery) lease() time.Duration {
	if d.Lease <= 0 {
		return DefaultLease
	}
	return d.Lease
}

func (d *Delivery) batch() int {
	if d.Batch <= 0 {
		return DefaultBatch
	}
	return d.Batch
}

func (d *Delivery) senders() int {
	if d.Senders <= 0 {
		return DefaultSenders
	}
	return d.Senders
}

func (d *Delivery) retryFor() time.Duration {
	if d.RetryFor <= 0 {
		return DefaultRetryFor
	}
	return d.RetryFor
}

func (d *Delivery) backoff(attempt int) time.Duration {
	if d.Backoff == nil {
		return Backoff(attempt)
	}
	return d.Backoff(attempt)
}
