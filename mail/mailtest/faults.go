package mailtest

import (
	"context"
	"errors"
	"testing"
	"time"
)

// errDropped is what a session answers for a message whose connection it
// has just closed; nobody reads it.
var errDropped = errors.New("mailtest: connection dropped as asked")

// errClosed answers a message held or delayed when the test ended.
var errClosed = errors.New("mailtest: server closed")

// SetDelay makes the server wait d inside DATA of every message from now
// on, after reading it and before answering (and recording) it, as a slow
// server would. 0 answers at once again.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// DropMode says when DropConnections closes a connection in DATA.
type DropMode int

const (
	// DropBeforeAccept closes the connection at the end of DATA without
	// answering: the message is not accepted, nor counted in Messages.
	DropBeforeAccept DropMode = iota + 1
	// DropAfterAccept accepts the message (Messages counts it) and closes
	// the connection before its 250 is written: the client cannot know it
	// was accepted.
	DropAfterAccept
	// DropAfterReply accepts the message, answers 250, then closes the
	// connection: the client's next command (RSET) fails.
	DropAfterReply
)

func (m DropMode) String() string {
	switch m {
	case DropBeforeAccept:
		return "before accept"
	case DropAfterAccept:
		return "after accept"
	case DropAfterReply:
		return "after reply"
	}
	return "no drop"
}

// DropConnections makes the server drop the connection, as mode says, in
// DATA of every every-th message from now on (counted as they reach the
// end of DATA, refused ones included), n times in all. every 1 drops the
// next n. A later call replaces the plan; n 0 stops dropping.
func (s *Server) DropConnections(mode DropMode, every, n int) {
	if every < 1 {
		every = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop = dropPlan{mode: mode, every: every, left: n, base: s.attempts}
}

// Dropped returns how many connections were dropped in mode so far
// (by DropConnections or by a Hold's Drop).
func (s *Server) Dropped(mode DropMode) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped[mode]
}

// RefuseSessions makes the server answer EHLO (and HELO) on the next n
// connections with 451, as a server that is up but takes no mail: the
// client cannot start a session. Connections counts each refused EHLO.
func (s *Server) RefuseSessions(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseSessions = n
}

// Hold is a message the server stops at inside DATA, after reading it and
// before answering, until the test says how to answer; see HoldMessage.
type Hold struct {
	at      int // the attempt to stop at
	reached chan Message
	answer  chan holdAnswer
}

type holdAnswer struct {
	accept bool
	code   int
	drop   DropMode
}

// HoldMessage makes the server stop in DATA of the k-th message from now
// (1: the next to reach the end of DATA, whatever connection it comes
// on), until the test answers it with one of Hold's methods. Delay and
// DropConnections do not apply to it. One hold at a time: a later call
// replaces one not reached yet.
func (s *Server) HoldMessage(k int) *Hold {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := &Hold{at: s.attempts + k, reached: make(chan Message, 1), answer: make(chan holdAnswer, 1)}
	s.hold = h
	return h
}

// Reached is sent the held message when the server stops at it.
func (h *Hold) Reached() <-chan Message { return h.reached }

// Wait waits until the server stops at the message, and returns it. It
// fails the test when that has not happened within timeout.
func (h *Hold) Wait(tb testing.TB, timeout time.Duration) Message {
	tb.Helper()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case m := <-h.reached:
		return m
	case <-t.C:
		tb.Fatalf("mailtest: no message held after %v", timeout)
		return Message{}
	}
}

// Accept accepts the held message: Messages counts it, and the server
// answers 250 (to nobody, if the client is gone). Only the first answer
// counts; it may be given before the message is reached.
func (h *Hold) Accept() { h.give(holdAnswer{accept: true}) }

// Refuse answers the held message with code (4xx or 5xx); it is not
// counted.
func (h *Hold) Refuse(code int) { h.give(holdAnswer{code: code}) }

// Drop drops the held message's connection as mode says.
func (h *Hold) Drop(mode DropMode) { h.give(holdAnswer{drop: mode}) }

func (h *Hold) give(a holdAnswer) {
	select {
	case h.answer <- a:
	default:
	}
}

// answer decides what becomes of message m, which reached the end of DATA
// in session ss: held, delayed, dropped, refused or accepted.
func (s *Server) answer(ss *session, m Message) error {
	s.mu.Lock()
	s.attempts++
	n := s.attempts
	delay := s.delay
	var hold *Hold
	var drop DropMode
	if s.hold != nil && s.hold.at == n {
		hold, s.hold = s.hold, nil
	} else if p := &s.drop; p.left > 0 && (n-p.base)%p.every == 0 {
		drop = p.mode
		p.left--
	}
	s.mu.Unlock()

	if hold != nil {
		hold.reached <- m // buffered, sent once
		select {
		case a := <-hold.answer:
			switch {
			case a.drop != 0:
				return ss.dropAs(a.drop, m)
			case a.accept:
				s.record(m)
				return nil
			default:
				return rejection(a.code)
			}
		case <-s.closed:
			return errClosed
		}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-s.closed:
			t.Stop()
			return errClosed
		}
	}
	if drop != 0 {
		return ss.dropAs(drop, m)
	}
	return s.receive(m)
}

// dropAs drops the session's connection as mode says, recording m when
// the mode accepts it.
func (ss *session) dropAs(mode DropMode, m Message) error {
	s := ss.server
	s.mu.Lock()
	s.dropped[mode]++
	s.mu.Unlock()
	switch mode {
	case DropAfterAccept:
		s.record(m)
		ss.dropConn()
		return nil // written to a closed connection
	case DropAfterReply:
		s.record(m)
		ss.dropOnReset = true
		return nil
	default:
		ss.dropConn()
		return errDropped
	}
}

// WaitMatch waits until a message for which match reports true was
// accepted, and returns its index in the messages then accepted, and
// those messages. It fails the test when that has not happened within
// timeout.
func (s *Server) WaitMatch(tb testing.TB, timeout time.Duration, match func(Message) bool) (int, []Message) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	seen := 0
	for {
		s.mu.Lock()
		msgs, changed := s.messages, s.changed
		s.mu.Unlock()
		for i := seen; i < len(msgs); i++ {
			if match(msgs[i]) {
				return i, append([]Message(nil), msgs...)
			}
		}
		seen = len(msgs)
		select {
		case <-changed:
		case <-ctx.Done():
			tb.Fatalf("mailtest: no matching message after %v (%d messages)", timeout, seen)
			return -1, nil
		}
	}
}
