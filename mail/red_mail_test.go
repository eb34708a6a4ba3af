package mail_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/mail"
)

// strictServer is a minimal SMTP server that, like Postfix with
// smtpd_data_restrictions, answers the DATA command of the first message
// with 554 and keeps the transaction open (MAIL and RCPT stay given): the
// client must RSET before the next MAIL FROM, which otherwise gets "503
// nested MAIL command". It counts the messages it accepts.
type strictServer struct {
	ln       net.Listener
	mu       sync.Mutex
	accepted []string // the RCPT TO of each accepted message
	wg       sync.WaitGroup
}

func newStrictServer(tb testing.TB) *strictServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	s := &strictServer{ln: ln}
	s.wg.Go(func() {
		refused := false
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() { s.serve(c, &refused) })
		}
	})
	tb.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *strictServer) serve(c net.Conn, refused *bool) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = c.Write([]byte(line + "\r\n")) }
	say("220 strict.test ESMTP")
	inTx, rcpt := false, ""
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-strict.test")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "NOOP"):
			say("250 2.0.0 OK")
		case strings.HasPrefix(cmd, "RSET"):
			inTx, rcpt = false, ""
			say("250 2.0.0 OK")
		case strings.HasPrefix(cmd, "MAIL FROM"):
			if inTx {
				say("503 5.5.1 Error: nested MAIL command")
				continue
			}
			inTx = true
			say("250 2.1.0 OK")
		case strings.HasPrefix(cmd, "RCPT TO"):
			rcpt = strings.TrimSpace(line[len("RCPT TO:"):])
			say("250 2.1.5 OK")
		case cmd == "DATA":
			s.mu.Lock()
			first := !*refused
			*refused = true
			s.mu.Unlock()
			if first {
				say("554 5.7.1 Error: data refused by policy")
				continue
			}
			say("354 End data with <CR><LF>.<CR><LF>")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			s.mu.Lock()
			s.accepted = append(s.accepted, rcpt)
			s.mu.Unlock()
			inTx, rcpt = false, ""
			say("250 2.0.0 Ok: queued")
		case strings.HasPrefix(cmd, "QUIT"):
			say("221 2.0.0 Bye")
			return
		default:
			say("502 5.5.2 Error: command not recognized")
		}
	}
}

// TestRedDataRefusalSpoilsTheNextMessage: a 5xx answer to the DATA
// command fails that message for good, as it should, but go-mail sends no
// RSET after it, and Conn keeps the connection for the next message. A
// server that keeps the transaction open then answers the next MAIL FROM
// 503, which Conn takes as a temporary failure: the next message on the
// connection, a sign-in code perhaps, fails through no fault of its own
// and waits for the backoff (30s) before it is tried again.
func TestRedDataRefusalSpoilsTheNextMessage(t *testing.T) {
	srv := newStrictServer(t)
	addr := srv.ln.Addr().(*net.TCPAddr)
	s := mustSMTP(t, mail.SMTPConfig{Host: "127.0.0.1", Port: addr.Port, TLS: mail.TLSNone,
		From: "mfa@example.org", Timeout: 5 * time.Second})
	ctx := context.Background()
	conn, err := s.Dial(ctx)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()

	first := message(1)
	first.To = "first@example.com"
	err = conn.Send(ctx, first)
	var refused *mfagate.MailRefused
	if !errors.As(err, &refused) || refused.Recipient {
		t.Fatalf("first message: got %v, want a refusal of the message (not of the address)", err)
	}

	second := message(2)
	second.To = "second@example.com"
	if err := conn.Send(ctx, second); err != nil {
		t.Errorf("second message on the same connection: %v; want it accepted", err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.accepted) != 1 {
		t.Errorf("the server accepted %d messages (%v), want 1: the second", len(srv.accepted), srv.accepted)
	}
}
