package mail_test

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/mail"
	"github.com/mfagate/mfagate/mail/mailtest"
)

const secret = "s3cret-Pa55word"

// config returns an SMTPConfig for srv with the given TLS mode.
func config(srv *mailtest.Server, tlsMode string) mail.SMTPConfig {
	return mail.SMTPConfig{
		Host:      srv.Host(),
		Port:      srv.Port(),
		TLS:       tlsMode,
		From:      "MFA Gate <mfa@example.org>",
		Timeout:   10 * time.Second,
		TLSConfig: srv.ClientTLSConfig(),
	}
}

func mustSMTP(tb testing.TB, cfg mail.SMTPConfig) *mail.SMTP {
	tb.Helper()
	s, err := mail.NewSMTP(cfg)
	if err != nil {
		tb.Fatalf("NewSMTP: %v", err)
	}
	return s
}

func message(id int64) *mfagate.Message {
	return &mfagate.Message{
		ID:        id,
		To:        "jörg@example.com",
		Subject:   "Ihr Anmeldecode: 012345 – gültig 10 Minuten",
		Text:      "Grüße!\n.\n.leading dot\nYour code is 012345.\n" + strings.Repeat("long line ", 30) + "\n",
		CreatedAt: time.Date(2025, 5, 26, 9, 30, 0, 0, time.UTC),
	}
}

func TestSMTPDeliversHeadersAndBody(t *testing.T) {
	srv := mailtest.NewServer(t)
	s := mustSMTP(t, config(srv, mail.TLSNone))
	m := message(42)
	m.To = "person@example.com"
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}

	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("got %d messages, want 1", len(got))
	}
	r := got[0]
	if r.ParseErr != nil {
		t.Fatalf("parse received message: %v\n%s", r.ParseErr, r.Data)
	}
	if r.From != "mfa@example.org" {
		t.Errorf("envelope from: got %q, want %q", r.From, "mfa@example.org")
	}
	if len(r.To) != 1 || r.To[0] != "person@example.com" {
		t.Errorf("envelope to: got %q, want [person@example.com]", r.To)
	}
	from, err := netmail.ParseAddress(r.Header.Get("From"))
	if err != nil || from.Address != "mfa@example.org" || from.Name != "MFA Gate" {
		t.Errorf("From header: got %q (%v), want MFA Gate <mfa@example.org>", r.Header.Get("From"), err)
	}
	if got := r.Header.Get("To"); got != "<person@example.com>" && got != "person@example.com" {
		t.Errorf("To header: got %q, want person@example.com", got)
	}
	if r.Subject != m.Subject {
		t.Errorf("Subject: got %q, want %q", r.Subject, m.Subject)
	}
	if r.Text != m.Text {
		t.Errorf("body: got %q, want %q", r.Text, m.Text)
	}
	wantID := "<" + mail.MessageID(m, "example.org") + ">"
	if got := r.Header.Get("Message-Id"); got != wantID {
		t.Errorf("Message-ID: got %q, want %q", got, wantID)
	}
	if !strings.HasPrefix(wantID, "<mfagate-outbox-42.") || !strings.HasSuffix(wantID, "@example.org>") {
		t.Errorf("Message-ID: got %q, want <mfagate-outbox-42.…@example.org>", wantID)
	}
	date, err := r.Header.Date()
	if err != nil || !date.Equal(m.CreatedAt) {
		t.Errorf("Date: got %v (%v), want %v", date, err, m.CreatedAt)
	}
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "text/plain") || !strings.Contains(strings.ToLower(ct), "charset=utf-8") {
		t.Errorf("Content-Type: got %q, want text/plain; charset=UTF-8", ct)
	}
	if ua := r.Header.Get("User-Agent") + r.Header.Get("X-Mailer"); ua != "" {
		t.Errorf("User-Agent/X-Mailer: got %q, want none", ua)
	}
}

func TestSMTPMessageIDIsStable(t *testing.T) {
	srv := mailtest.NewServer(t)
	s := mustSMTP(t, config(srv, mail.TLSNone))
	ctx := context.Background()
	for _, m := range []*mfagate.Message{message(7), message(7), message(8)} {
		if err := s.Send(ctx, m); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	got := srv.Messages()
	if len(got) != 3 {
		t.Fatalf("got %d messages, want 3", len(got))
	}
	id := func(i int) string { return got[i].Header.Get("Message-Id") }
	if id(0) != id(1) {
		t.Errorf("two sends of message 7: got IDs %q and %q, want the same", id(0), id(1))
	}
	if id(0) == id(2) {
		t.Errorf("messages 7 and 8: got the same ID %q, want different ones", id(0))
	}
}

func TestSMTPTLSAndAuth(t *testing.T) {
	tests := []struct {
		name     string
		opts     []mailtest.Option
		tls      string
		user     string
		wantTLS  bool
		wantUser string
	}{
		{name: "starttls with plain auth", opts: []mailtest.Option{mailtest.StartTLS(), mailtest.Auth("app", secret)},
			tls: mail.TLSStartTLS, user: "app", wantTLS: true, wantUser: "app"},
		{name: "starttls with login auth only", opts: []mailtest.Option{mailtest.StartTLS(), mailtest.Auth("app", secret), mailtest.AuthMechanisms("LOGIN")},
			tls: mail.TLSStartTLS, user: "app", wantTLS: true, wantUser: "app"},
		{name: "starttls without auth", opts: []mailtest.Option{mailtest.StartTLS()},
			tls: mail.TLSStartTLS, wantTLS: true},
		{name: "implicit tls with auth", opts: []mailtest.Option{mailtest.ImplicitTLS(), mailtest.Auth("app", secret)},
			tls: mail.TLSImplicit, user: "app", wantTLS: true, wantUser: "app"},
		{name: "none", tls: mail.TLSNone},
		{name: "none with auth on loopback", opts: []mailtest.Option{mailtest.Auth("app", secret)},
			tls: mail.TLSNone, user: "app", wantUser: "app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.NewServer(t, tt.opts...)
			cfg := config(srv, tt.tls)
			cfg.Username = tt.user
			if tt.user != "" {
				cfg.Password = secret
			}
			if err := mustSMTP(t, cfg).Send(context.Background(), message(1)); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("got %d messages, want 1", len(got))
			}
			if got[0].TLS != tt.wantTLS {
				t.Errorf("TLS: got %v, want %v", got[0].TLS, tt.wantTLS)
			}
			if got[0].Username != tt.wantUser {
				t.Errorf("authenticated as: got %q, want %q", got[0].Username, tt.wantUser)
			}
			if got[0].Subject != message(1).Subject {
				t.Errorf("Subject: got %q, want %q", got[0].Subject, message(1).Subject)
			}
		})
	}
}

func TestSMTPErrors(t *testing.T) {
	tests := []struct {
		name     string
		opts     []mailtest.Option
		setup    func(*mailtest.Server)
		cfg      func(*mail.SMTPConfig)
		wantText string // part of the error message
	}{
		{
			name:     "wrong password",
			opts:     []mailtest.Option{mailtest.StartTLS(), mailtest.Auth("app", "other")},
			cfg:      func(c *mail.SMTPConfig) { c.Username, c.Password = "app", secret },
			wantText: "535",
		},
		{
			name:     "temporary refusal at data",
			setup:    func(s *mailtest.Server) { s.SetReject(1) },
			cfg:      func(c *mail.SMTPConfig) { c.TLS = mail.TLSNone },
			wantText: "451",
		},
		{
			name:     "permanent refusal at data",
			setup:    func(s *mailtest.Server) { s.RejectNext(1, 554) },
			cfg:      func(c *mail.SMTPConfig) { c.TLS = mail.TLSNone },
			wantText: "554",
		},
		{
			name:     "starttls required but not offered",
			cfg:      func(c *mail.SMTPConfig) { c.TLS = mail.TLSStartTLS },
			wantText: "STARTTLS",
		},
		{
			name:     "certificate not trusted",
			opts:     []mailtest.Option{mailtest.StartTLS()},
			cfg:      func(c *mail.SMTPConfig) { c.TLSConfig = nil },
			wantText: "certificate",
		},
		{
			name:     "auth configured but not offered",
			opts:     []mailtest.Option{mailtest.StartTLS()},
			cfg:      func(c *mail.SMTPConfig) { c.Username, c.Password = "app", secret },
			wantText: "AUTH",
		},
		{
			name:     "auth required but not configured",
			opts:     []mailtest.Option{mailtest.StartTLS(), mailtest.Auth("app", secret)},
			wantText: "530",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.NewServer(t, tt.opts...)
			if tt.setup != nil {
				tt.setup(srv)
			}
			cfg := config(srv, mail.TLSStartTLS)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			m := message(3)
			err := mustSMTP(t, cfg).Send(context.Background(), m)
			if err == nil {
				t.Fatal("Send: got nil error, want one")
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			if want := "smtp send to " + srv.Addr() + ": "; !strings.HasPrefix(msg, want) {
				t.Errorf("error: got %q, want it to start with %q", msg, want)
			}
			if !strings.Contains(msg, tt.wantText) {
				t.Errorf("error: got %q, want it to mention %q", msg, tt.wantText)
			}
			for _, leak := range []string{secret, "012345", "Grüße"} {
				if strings.Contains(msg, leak) {
					t.Errorf("error: got %q, which contains %q", msg, leak)
				}
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server accepted %d messages, want 0", n)
			}
		})
	}
}

func TestSMTPConnReusesOneConnection(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.StartTLS(), mailtest.Auth("app", secret))
	cfg := config(srv, mail.TLSStartTLS)
	cfg.Username, cfg.Password = "app", secret
	s := mustSMTP(t, cfg)

	conn, err := s.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := range 5 {
		m := message(int64(i + 1))
		m.To = fmt.Sprintf("p%d@example.com", i+1)
		if i == 2 {
			m.To = "not an address"
		}
		err := conn.Send(context.Background(), m)
		var refused *mfagate.MailRefused
		if wantErr := i == 2; (err != nil) != wantErr || (wantErr && !errors.As(err, &refused)) {
			t.Errorf("message %d: got error %v, want a refusal %v", i+1, err, wantErr)
		}
	}
	got := srv.Messages()
	if len(got) != 4 {
		t.Fatalf("got %d messages, want 4", len(got))
	}
	for i, want := range []string{"p1@example.com", "p2@example.com", "p4@example.com", "p5@example.com"} {
		if got[i].To[0] != want {
			t.Errorf("message %d: got recipient %q, want %q", i, got[i].To[0], want)
		}
	}
	// One connection, upgraded once by STARTTLS: two sessions.
	if n := srv.Connections(); n != 2 {
		t.Errorf("got %d SMTP sessions, want 2 (one connection with STARTTLS)", n)
	}
}

// TestSMTPConnClassifiesAnswers: only a 5xx answer to the recipient or to
// the message refuses it for good, and only the first blames the address,
// when it is about the mailbox (5.1.x, 5.2.x); a 4xx, a 5xx to our own
// sender address, or a refusal by policy (5.7.x, such as "relay access
// denied" when our login was lost) may be tried again. The connection
// carries on after each.
func TestSMTPConnClassifiesAnswers(t *testing.T) {
	srv := mailtest.NewServer(t)
	cfg := config(srv, mail.TLSNone)
	conn, err := mustSMTP(t, cfg).Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tests := []struct {
		name               string
		setup              func()
		refused, recipient bool
		wantText           string
	}{
		{"recipient refused for good", func() { srv.RefuseRecipient("gone@example.com", 550) }, true, true, "550"},
		{"mailbox full for good", func() { srv.RefuseRecipientStatus("gone@example.com", 552, "5.2.2") }, true, true, "552"},
		{"recipient refused by policy", func() { srv.RefuseRecipientStatus("gone@example.com", 554, "5.7.1") }, false, false, "5.7.1"},
		{"recipient refused by the mail system", func() { srv.RefuseRecipientStatus("gone@example.com", 553, "5.3.4") }, true, false, "553"},
		{"recipient refused for now", func() { srv.RefuseRecipient("gone@example.com", 450) }, false, false, "450"},
		{"message refused for good", func() { srv.RejectNext(1, 554) }, true, false, "554"},
		{"message refused for now", func() { srv.RejectNext(1, 451) }, false, false, "451"},
		{"sender refused", func() { srv.RefuseSender(553) }, false, false, "553"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.RefuseRecipient("gone@example.com", 0)
			srv.RefuseSender(0)
			tt.setup()
			m := message(int64(10 + i))
			m.To = "gone@example.com"
			err := conn.Send(context.Background(), m)
			var refused *mfagate.MailRefused
			if err == nil || errors.As(err, &refused) != tt.refused {
				t.Fatalf("got %v, want an error that is a refusal: %v", err, tt.refused)
			}
			if tt.refused && refused.Recipient != tt.recipient {
				t.Errorf("refusal %q: Recipient %v, want %v", refused.Reply, refused.Recipient, tt.recipient)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not give the answer %s", err, tt.wantText)
			}
		})
	}
	srv.RefuseRecipient("gone@example.com", 0)
	srv.RefuseSender(0)
	if err := conn.Send(context.Background(), message(99)); err != nil {
		t.Fatalf("after the refusals, the same connection: %v", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("server accepted %d messages, want 1", n)
	}
}

func TestNewSMTPRefusesBadConfig(t *testing.T) {
	good := mail.SMTPConfig{Host: "mail.example.com", From: "mfa@example.org"}
	tests := []struct {
		name string
		edit func(*mail.SMTPConfig)
		want string
	}{
		{name: "no host", edit: func(c *mail.SMTPConfig) { c.Host = "" }, want: "smtp host is empty"},
		{name: "bad from", edit: func(c *mail.SMTPConfig) { c.From = "not an address" }, want: "smtp from address"},
		{name: "unknown tls mode", edit: func(c *mail.SMTPConfig) { c.TLS = "ssl" }, want: `smtp tls mode "ssl"`},
		{name: "bad port", edit: func(c *mail.SMTPConfig) { c.Port = 70000 }, want: "port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			_, err := mail.NewSMTP(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewSMTP: got error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := mail.NewSMTP(good); err != nil {
		t.Errorf("NewSMTP(good): got %v, want nil", err)
	}
}

// TestDevOutboxRefusesInvalidAddresses: an address under .invalid is
// refused as an unknown mailbox, and nothing is kept for it.
func TestDevOutboxRefusesInvalidAddresses(t *testing.T) {
	box := mail.NewDevOutbox()
	m := message(7)
	m.To = "Someone <nobody@example.INVALID>"
	err := box.Send(context.Background(), m)
	var refused *mfagate.MailRefused
	if !errors.As(err, &refused) || !refused.Recipient || !strings.HasPrefix(refused.Reply, "550") {
		t.Fatalf("Send to .invalid: got %v, want a 550 refusal of the address", err)
	}
	if _, ok := box.Delivered(7); ok {
		t.Error("the refused message was kept")
	}
	m.To = "someone@invalid.example.com"
	if err := box.Send(context.Background(), m); err != nil {
		t.Errorf("Send to a name that only contains invalid: %v", err)
	}
}

func TestDevOutboxAcceptsRealAddresses(t *testing.T) {
	if err := mail.NewDevOutbox().Send(context.Background(), message(1)); err != nil {
		t.Errorf("Send: got %v, want nil", err)
	}
}

func TestSMTPSendStopsWhenContextIsDone(t *testing.T) {
	srv := mailtest.NewServer(t)
	s := mustSMTP(t, config(srv, mail.TLSNone))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Send(ctx, message(1)); err == nil {
		t.Error("Send with a cancelled context: got nil error, want one")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server accepted %d messages, want 0", n)
	}
}
