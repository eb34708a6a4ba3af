package worker

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mfagate/mfagate"
)

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

// newClaim returns a random claim number for a new batch, from
// crypto/rand: batches of every replica must never share one, and a
// claim number is what lets a batch send its messages.
func newClaim() (int64, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, fmt.Errorf("claim mail: %w", err)
	}
	return int64(binary.BigEndian.Uint64(b[:])>>1) | 1, nil // positive, never 0 (which matches any batch)
}

// run claims one batch and sends it. It returns how many were accepted
// and how many were claimed.
func (s *sender) run(ctx context.Context) (sent, claimed int, err error) {
	d := s.d
	claim, err := newClaim()
	if err != nil {
		return 0, 0, err
	}
	var msgs []*mfagate.Message
	err = d.update(ctx, func(tx outbox) error {
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
		if rerr := d.update(rctx, func(tx outbox) error {
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
			if err := d.update(ctx, func(tx outbox) error {
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
// held just before it is sent (and before a paced lane waits for its
// slot) and its outcome recorded (in the same transaction as the next
// one's hold) before the next is sent. It
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
		if ctx.Err() != nil {
			return sent, msgs[i:], nil // shutting down
		}
		now := d.clock().Now()
		var held bool
		err := d.update(ctx, func(tx outbox) error {
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
		// Paced only now, with the last message's outcome recorded: a
		// process that dies while it waits for its slot has sent nothing
		// it has not recorded, so nothing goes out twice.
		if err := s.pace(ctx); err != nil {
			return sent, msgs[i:], nil // shutting down: m is held, not tried
		}
		conn, err := s.connection(ctx)
		if err == nil {
			err = conn.Send(ctx, m)
		}
		if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			// Told to stop before the message left: it was not tried, so
			// it goes back as it was, due at once, rather than count as a
			// failure and wait for the retry delay.
			return sent, msgs[i:], nil
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
