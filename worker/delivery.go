package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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

// sender is one lane's worker: it keeps one connection to the mail server
// across batches.
type sender struct {
	d     *Delivery
	lane  lane
	conn  mfagate.MailConn
	pacer *pacer // shared by the senders of a paced lane
}

// pacer spaces the messages of one or more senders.
type pacer struct {
	mu   sync.Mutex
	next time.Time // the earliest the next paced message may go
}

func (d *Delivery) newSender(l lane) *sender { return &sender{d: d, lane: l, pacer: &pacer{}} }

func (s *sender) close() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

// connection returns the sender's connection, dialling if need be.
func (s *sender) connection(ctx context.Context) (mfagate.MailConn, error) {
	if s.conn != nil {
		return s.conn, nil
	}
	if dl, ok := s.d.Mailer.(mfagate.Dialer); ok {
		c, err := dl.Dial(ctx)
		if err != nil {
			return nil, err
		}
		s.conn = c
	} else {
		s.conn = oneByOne{s.d.Mailer}
	}
	return s.conn, nil
}

// oneByOne makes a Mailer that cannot keep a connection a MailConn.
type oneByOne struct{ m mfagate.Mailer }

func (o oneByOne) Send(ctx context.Context, m *mfagate.Message) error { return o.m.Send(ctx, m) }
func (o oneByOne) Close() error                                       { return nil }

// run claims one batch and sends it. It returns how many were accepted
// and how many were claimed.
func (s *sender) run(ctx context.Context) (sent, claimed int, err error) {
	d := s.d
	claim := rand.Int64()
	var msgs []*mfagate.Message
	err = d.Store.Update(ctx, func(tx mfagate.Tx) error {
		var err error
		msgs, err = tx.ClaimMail(mfagate.MailClaim{Now: d.clock().Now(), Lease: d.lease(), Limit: s.lane.batch,
			Lowest: s.lane.lowest, Highest: s.lane.highest, Claim: claim})
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("claim mail: %w", err)
	}
	if len(msgs) == 0 {
		return 0, 0, nil
	}

	stopBeat := d.heartbeat(ctx, claim)
	sent, untried, err := s.send(ctx, claim, msgs)
	stopBeat()
	if len(untried) > 0 {
		// The batch stopped early: what it did not try may go to anyone
		// now. (What it tried and could not record stays leased.)
		ids := make([]int64, len(untried))
		for i, m := range untried {
			ids[i] = m.ID
		}
		rctx, cancel := recordContext(ctx)
		defer cancel()
		if rerr := d.Store.Update(rctx, func(tx mfagate.Tx) error {
			_, err := tx.ReleaseMail(claim, ids)
			return err
		}); rerr != nil {
			err = errors.Join(err, fmt.Errorf("release mail: %w", rerr))
		}
	}
	if sent > 0 {
		d.logger().InfoContext(ctx, "mail delivered", "sender", s.lane.name, "sent", sent, "claimed", len(msgs))
	}
	return sent, len(msgs), err
}

// heartbeat renews the lease of batch claim every third of the lease
// until the returned function is called, so a slow mail server cannot
// make the batch look abandoned.
func (d *Delivery) heartbeat(ctx context.Context, claim int64) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(d.lease() / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := d.Store.Update(ctx, func(tx mfagate.Tx) error {
				_, err := tx.RenewMail(claim, d.lease())
				return err
			}); err != nil && ctx.Err() == nil {
				d.logger().WarnContext(ctx, "mail lease not renewed", "err", err)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// send delivers the claimed messages in order, one at a time: each is
// held just before it is sent and its outcome recorded (in the same
// transaction as the next one's hold) before the next is sent. It
// returns how many the server accepted and the messages it did not try.
func (s *sender) send(ctx context.Context, claim int64, msgs []*mfagate.Message) (sent int, untried []*mfagate.Message, err error) {
	d := s.d
	var done *outcome // sent or failed, not yet recorded
	defer func() {
		if done != nil {
			if rerr := d.recordAlone(ctx, done); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
	}()
	for i, m := range msgs {
		if err := s.pace(ctx); err != nil {
			return sent, msgs[i:], nil // shutting down
		}
		now := d.clock().Now()
		var held bool
		err := d.Store.Update(ctx, func(tx mfagate.Tx) error {
			if done != nil {
				if err := d.record(tx, done); err != nil {
					return err
				}
			}
			var err error
			held, err = tx.HoldMail(m.ID, claim, now, d.lease())
			return err
		})
		if err != nil {
			// done is recorded alone by the deferred call, with retries.
			return sent, msgs[i:], fmt.Errorf("hold mail %d: %w", m.ID, err)
		}
		done = nil
		if !held {
			d.logger().InfoContext(ctx, "mail no longer ours to send: skipped", "mail_id", m.ID)
			d.counts.skipped.Add(1)
			continue
		}
		conn, err := s.connection(ctx)
		if err == nil {
			err = conn.Send(ctx, m)
		}
		done = &outcome{m: m, err: err, at: d.clock().Now()}
		d.count(m, err)
		if err == nil {
			sent++
			continue
		}
		if errors.Is(err, mfagate.ErrMailServerDown) {
			// Every message would wait for the same timeout: put the rest
			// off as well, as if each had been tried.
			if rerr := d.putOff(ctx, done, msgs[i+1:], claim); rerr != nil {
				return sent, msgs[i+1:], rerr
			}
			done = nil
			return sent, nil, nil
		}
	}
	return sent, nil, nil
}

// pace waits until the next paced message may go; it returns ctx's error
// when ctx ends first.
func (s *sender) pace(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.lane.paced {
		return nil
	}
	// Take the next free slot, then wait for it: senders sharing the
	// pacer go one after the other.
	p := s.pacer
	p.mu.Lock()
	now := time.Now()
	at := now
	if p.next.After(now) {
		at = p.next
	}
	p.next = at.Add(time.Duration(float64(time.Second) / s.d.MaxPerSecond))
	p.mu.Unlock()
	if wait := at.Sub(now); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// outcome is what happened when one message was handed to the server.
type outcome struct {
	m   *mfagate.Message
	err error // nil: accepted
	at  time.Time
}

// record writes o in tx: sent; refused for good (and the person
// unreached, when their address was refused); or retried later, until it
// is no longer worth it.
func (d *Delivery) record(tx mfagate.Tx, o *outcome) error {
	m := o.m
	log := d.logger().With("mail_id", m.ID, "attempt", m.Attempts)
	if o.err == nil {
		err := tx.MarkMailSent(m.ID, o.at)
		if mfagate.ErrorCode(err) == mfagate.ECONFLICT {
			log.Warn("mail sent by another worker as well", "err", err)
			return nil
		}
		return err
	}
	lastErr := truncate(o.err.Error(), maxErrorLen)
	var refused *mfagate.MailRefused
	if errors.As(o.err, &refused) {
		log.Error("mail refused by the mail server", "err", o.err)
		// The person's row before the message's, as account locks them
		// (MarkAddressFixed holds the person, then requeues their mail).
		if refused.Recipient && m.UserID != 0 {
			marked, err := tx.MarkUnreached(m.UserID, m.To, truncate(refused.Reply, maxErrorLen), o.at)
			if err != nil && mfagate.ErrorCode(err) != mfagate.ENOTFOUND {
				return err
			}
			if marked {
				log.Warn("mail address refused: the person is marked unreached", "user_id", m.UserID)
			}
		}
		return ignoreConflict(tx.FailMail(m.ID, m.Claim, lastErr))
	}
	next := o.at.Add(d.backoff(m.Attempts))
	queued := m.QueuedAt
	if queued.IsZero() {
		queued = m.CreatedAt
	}
	if !m.ExpiresAt.IsZero() && !next.Before(m.ExpiresAt) {
		// The backoff outgrew the code: try once more halfway to its end
		// rather than give it up minutes early, unless little is left.
		left := m.ExpiresAt.Sub(o.at)
		if left < lastCodeTry {
			log.Error("mail given up: the code in it expires before the next try", "err", o.err)
			return ignoreConflict(tx.FailMail(m.ID, m.Claim, truncate("not sent before the code in it expired: "+lastErr, maxErrorLen)))
		}
		next = o.at.Add(left / 2)
	}
	switch {
	case next.After(queued.Add(d.retryFor())):
		log.Error("mail given up after retrying", "retry_for", d.retryFor(), "err", o.err)
		return ignoreConflict(tx.FailMail(m.ID, m.Claim, truncate(fmt.Sprintf("given up after trying for %s: %s", spell(d.retryFor()), lastErr), maxErrorLen)))
	}
	log.Warn("mail delivery failed; will retry", "next_attempt", next, "err", o.err)
	return ignoreConflict(tx.RetryMail(m.ID, m.Claim, lastErr, next))
}

// ignoreConflict treats "already sent" as done (a copy went out) and
// "another worker's now" as not ours to record.
func ignoreConflict(err error) error {
	if mfagate.ErrorCode(err) == mfagate.ECONFLICT {
		return nil
	}
	return err
}

// recordAlone records o in a transaction of its own, even after ctx ends,
// trying again for a while: a message the server accepted and that stays
// unrecorded is sent again when its lease ends.
func (d *Delivery) recordAlone(ctx context.Context, o *outcome) error {
	rctx, cancel := recordContext(ctx)
	defer cancel()
	var err error
	for wait, try := 50*time.Millisecond, 1; ; wait, try = wait*2, try+1 {
		err = d.Store.Update(rctx, func(tx mfagate.Tx) error { return d.record(tx, o) })
		if err == nil {
			return nil
		}
		var timeout <-chan struct{} = rctx.Done()
		if try == recordTries {
			timeout = closed
		}
		select {
		case <-timeout:
			if o.err == nil {
				d.logger().ErrorContext(ctx, "mail sent but not recorded as sent: it will be sent again when its lease ends",
					"mail_id", o.m.ID, "lease", d.lease(), "err", err)
			}
			return fmt.Errorf("record mail %d: %w", o.m.ID, err)
		case <-time.After(wait):
		}
	}
}

// putOff records o, a failure to reach the mail server, and schedules
// the rest of the batch for the same retry without trying them.
func (d *Delivery) putOff(ctx context.Context, o *outcome, rest []*mfagate.Message, claim int64) error {
	rctx, cancel := recordContext(ctx)
	defer cancel()
	err := d.Store.Update(rctx, func(tx mfagate.Tx) error {
		if err := d.record(tx, o); err != nil {
			return err
		}
		for _, m := range rest {
			held, err := tx.HoldMail(m.ID, claim, o.at, d.lease())
			if err != nil {
				return err
			}
			if held {
				if err := d.record(tx, &outcome{m: m, err: o.err, at: o.at}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put off mail: %w", err)
	}
	return nil
}

// recordTries is how many times recordAlone tries.
const recordTries = 4

var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// spell writes a duration in days or hours when it is a whole number of
// them.
func spell(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d >= 2*time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return d.String()
}

func recordContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
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

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
