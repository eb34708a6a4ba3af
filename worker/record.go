package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mfagate/mfagate"
)

// outbox is what delivery touches in a transaction: the mail queue, and
// the unreached mark a refused address sets on its person.
type outbox interface {
	mfagate.MailQueue
	mfagate.Unreached
}

// update runs fn in one transaction of the store, seeing only the outbox.
func (d *Delivery) update(ctx context.Context, fn func(outbox) error) error {
	return d.Store.Update(ctx, func(tx mfagate.Tx) error { return fn(tx) })
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
func (d *Delivery) record(tx outbox, o *outcome) error {
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
		err = d.update(rctx, func(tx outbox) error { return d.record(tx, o) })
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
	err := d.update(rctx, func(tx outbox) error {
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
