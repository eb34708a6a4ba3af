package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mfagate/mfagate"
)

// Defaults of Delivery's settings.
const (
	DefaultLease       = 2 * time.Minute
	DefaultBatch       = 50
	DefaultMaxAttempts = 10
)

// recordTimeout bounds recording an outcome after ctx is done: a message
// that was sent must still be marked sent while the service shuts down.
const recordTimeout = 10 * time.Second

// maxErrorLen caps the error text stored with a message.
const maxErrorLen = 1000

// Delivery sends the messages of the transactional outbox. Any number of
// Deliveries, in any number of replicas, may run at once: ClaimMail leases
// each message to one of them, so each is handed to the mail server once
// (barring a crash between sending and recording it, when the lease ends
// and it is sent again, with the same Message-ID).
//
// Zero fields take their defaults; Store and Mailer are required.
type Delivery struct {
	Store  mfagate.Store
	Mailer mfagate.Mailer
	Clock  mfagate.Clock // default: the system clock
	Logger *slog.Logger  // default: discard
	// Lease is how long a claimed message is kept from other workers; it
	// must exceed the time a batch takes to send. Default 2m.
	Lease time.Duration
	// Batch is how many messages one RunOnce claims. Default 50.
	Batch int
	// MaxAttempts is how many attempts a message gets before it is marked
	// failed. Default 10.
	MaxAttempts int
	// Backoff returns how long to wait after the given failed attempt
	// (1 for the first) before the next. Default: Backoff.
	Backoff func(attempt int) time.Duration
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

// RunOnce claims one batch of due messages, sends each and records the
// outcome, and returns how many the mail server accepted. Sending happens
// outside any transaction, and each outcome is recorded in its own, so a
// slow mail server holds no database lock. A failed send is not an error
// of RunOnce: it is recorded on the message and retried later. The error
// reports a failure to claim or to record.
func (d *Delivery) RunOnce(ctx context.Context) (sent int, err error) {
	sent, _, err = d.run(ctx)
	return sent, err
}

// Run calls RunOnce every interval until ctx is done, at once again after
// a full batch. Errors are logged.
func (d *Delivery) Run(ctx context.Context, interval time.Duration) {
	Every(ctx, interval, func(ctx context.Context) bool {
		_, claimed, err := d.run(ctx)
		if err != nil {
			d.logger().ErrorContext(ctx, "mail delivery", "err", err)
		}
		return err == nil && claimed >= d.batch()
	})
}

func (d *Delivery) run(ctx context.Context) (sent, claimed int, err error) {
	var msgs []*mfagate.Message
	claimedAt := d.clock().Now()
	err = d.Store.Update(ctx, func(tx mfagate.Tx) error {
		var err error
		msgs, err = tx.ClaimMail(claimedAt, d.lease(), d.batch())
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("claim mail: %w", err)
	}

	var errs []error
	if bm, ok := d.Mailer.(batchMailer); ok && len(msgs) > 1 {
		// One connection for the whole batch: a campaign reaches hundreds
		// of people a second this way, not a few dozen.
		sent, errs = d.deliverBatch(ctx, bm, msgs)
	} else {
		// Past half the lease, another worker may soon claim what is left,
		// so no new send starts: the rest stays leased and is tried again
		// when the lease ends, by whichever worker claims it first.
		stopAt := claimedAt.Add(d.lease() / 2)
		for i, m := range msgs {
			if ctx.Err() != nil {
				break
			}
			if !d.clock().Now().Before(stopAt) {
				d.logger().WarnContext(ctx, "mail batch took more than half its lease; leaving the rest for later",
					"left", len(msgs)-i, "lease", d.lease())
				break
			}
			ok, err := d.deliver(ctx, m, d.Mailer.Send(ctx, m))
			if ok {
				sent++
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	if sent > 0 {
		d.logger().InfoContext(ctx, "mail delivered", "sent", sent, "claimed", len(msgs))
	}
	return sent, len(msgs), errors.Join(errs...)
}

// deliver sends one claimed message and records the outcome. It reports
// whether the mail server accepted the message, and any failure to record.
// batchMailer is a Mailer that can send several messages over one
// connection, reporting each message's outcome (mail.SMTP is one).
type batchMailer interface {
	SendBatch(ctx context.Context, msgs []*mfagate.Message) []error
}

// deliverBatch sends msgs in one go and records each outcome.
func (d *Delivery) deliverBatch(ctx context.Context, bm batchMailer, msgs []*mfagate.Message) (sent int, errs []error) {
	results := bm.SendBatch(ctx, msgs)
	for i, m := range msgs {
		var sendErr error
		if i < len(results) {
			sendErr = results[i]
		} else {
			sendErr = errors.New("not sent: the mailer gave no result")
		}
		ok, err := d.deliver(ctx, m, sendErr)
		if ok {
			sent++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return sent, errs
}

// deliver records the outcome of sending m: sent, retried later, or
// given up.
func (d *Delivery) deliver(ctx context.Context, m *mfagate.Message, sendErr error) (sent bool, err error) {
	log := d.logger().With("mail_id", m.ID, "attempt", m.Attempts)

	// Record even when ctx ended during the send: a message the server
	// accepted must not stay pending.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()

	if sendErr == nil {
		err := d.Store.Update(rctx, func(tx mfagate.Tx) error {
			return tx.MarkMailSent(m.ID, d.clock().Now())
		})
		if err != nil {
			log.ErrorContext(ctx, "mail sent but not recorded as sent: it will be sent again when its lease ends",
				"lease", d.lease(), "err", err)
			return true, fmt.Errorf("mark mail %d sent: %w", m.ID, err)
		}
		log.DebugContext(ctx, "mail sent")
		return true, nil
	}

	lastErr := truncate(sendErr.Error(), maxErrorLen)
	if m.Attempts >= d.maxAttempts() {
		err := d.Store.Update(rctx, func(tx mfagate.Tx) error {
			return tx.FailMail(m.ID, lastErr)
		})
		log.ErrorContext(ctx, "mail delivery given up", "err", sendErr)
		if err != nil {
			return false, fmt.Errorf("mark mail %d failed: %w", m.ID, err)
		}
		return false, nil
	}

	next := d.clock().Now().Add(d.backoff(m.Attempts))
	err = d.Store.Update(rctx, func(tx mfagate.Tx) error {
		return tx.RetryMail(m.ID, lastErr, next)
	})
	log.WarnContext(ctx, "mail delivery failed; will retry", "next_attempt", next, "err", sendErr)
	if err != nil {
		return false, fmt.Errorf("schedule retry of mail %d: %w", m.ID, err)
	}
	return false, nil
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

func (d *Delivery) maxAttempts() int {
	if d.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return d.MaxAttempts
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
