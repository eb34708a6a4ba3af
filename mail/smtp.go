package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/mfagate/mfagate"
)

// TLS modes of SMTPConfig.TLS.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which is required
	TLSImplicit = "tls"      // TLS from the first byte (usually port 465)
	TLSNone     = "none"     // no TLS at all: only for a relay on the same host or network
)

// SMTPConfig says how to reach the mail server.
type SMTPConfig struct {
	Host string
	// Port defaults to 587 for starttls, 465 for tls and 25 for none.
	Port int
	// Username turns authentication on (PLAIN, or LOGIN when the server
	// offers only that). Without TLS, go-mail refuses to send the password
	// to any host but localhost.
	Username string
	Password string
	// TLS is one of TLSStartTLS (the default when empty), TLSImplicit or
	// TLSNone.
	TLS string
	// From is the sender, "addr@example.com" or "Name <addr@example.com>".
	// Its domain also names the Message-IDs.
	From string
	// Timeout bounds connecting and each SMTP command; 0 means 15s.
	Timeout time.Duration
	// TLSConfig, when set, replaces the system defaults, for example to
	// trust a private CA. ServerName defaults to Host.
	TLSConfig *tls.Config
	// Clock dates messages that have no CreatedAt; nil means the system
	// clock.
	Clock mfagate.Clock
}

// SMTP is the Mailer that hands messages to an SMTP server. It is safe for
// concurrent use; each Send uses a connection of its own, and Dial gives
// one to keep for many messages.
type SMTP struct {
	addr   string // host:port, for error messages
	host   string
	opts   []gomail.Option
	from   *netmail.Address
	domain string
	clock  mfagate.Clock
}

var _ mfagate.Dialer = (*SMTP)(nil)

// NewSMTP checks cfg and returns a Mailer for it. It does not connect.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtp host is empty")
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp from address %q: %w", cfg.From, err)
	}
	at := strings.LastIndexByte(from.Address, '@')
	if at < 0 || at == len(from.Address)-1 {
		return nil, fmt.Errorf("smtp from address %q has no domain", cfg.From)
	}

	mode := cfg.TLS
	if mode == "" {
		mode = TLSStartTLS
	}
	port := cfg.Port
	var opts []gomail.Option
	switch mode {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		if port == 0 {
			port = gomail.DefaultPortTLS
		}
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
		if port == 0 {
			port = gomail.DefaultPortSSL
		}
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		if port == 0 {
			port = gomail.DefaultPort
		}
	default:
		return nil, fmt.Errorf("smtp tls mode %q: want starttls, tls or none", cfg.TLS)
	}
	opts = append(opts, gomail.WithPort(port))

	var tc *tls.Config
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	} else {
		tc = &tls.Config{}
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	opts = append(opts, gomail.WithTLSConfig(tc))

	if cfg.Timeout > 0 {
		opts = append(opts, gomail.WithTimeout(cfg.Timeout))
	}
	if cfg.Username != "" {
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(cfg.Username),
			gomail.WithPassword(cfg.Password),
		)
	}

	s := &SMTP{
		addr:   net.JoinHostPort(cfg.Host, strconv.Itoa(port)),
		host:   cfg.Host,
		opts:   opts,
		from:   from,
		domain: from.Address[at+1:],
		clock:  cfg.Clock,
	}
	if s.clock == nil {
		s.clock = mfagate.SystemClock{}
	}
	// Apply the options once now, so a bad setting fails at start-up
	// rather than at the first message.
	if _, err := s.client(); err != nil {
		return nil, err
	}
	return s, nil
}

// client returns a fresh go-mail client. A client keeps per-connection
// state (the negotiated auth mechanism), so connections do not share one.
func (s *SMTP) client() (*gomail.Client, error) {
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client for %s: %w", s.addr, err)
	}
	return c, nil
}

// Send delivers m over a new connection; see Conn.Send. ctx bounds
// connecting and is checked before the message; each SMTP command is
// bounded by Timeout.
func (s *SMTP) Send(ctx context.Context, m *mfagate.Message) error {
	c, _ := s.Dial(ctx)
	defer c.Close()
	return c.Send(ctx, m)
}

// message builds the wire form of m. The Message-ID depends only on the
// outbox row, so a message sent again after a crash (sent, but not yet
// recorded as sent) carries the same ID and receivers can drop the copy.
func (s *SMTP) message(m *mfagate.Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("smtp message %d: recipient %q: %w", m.ID, m.To, err)
	}
	msg.Subject(m.Subject)
	if m.ID != 0 {
		msg.SetMessageIDWithValue(MessageID(m, s.domain))
	} else {
		msg.SetMessageID()
	}
	date := m.CreatedAt
	if date.IsZero() {
		date = s.clock.Now()
	}
	msg.SetDateWithValue(date)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	return msg, nil
}

// MessageID returns the Message-ID, without angle brackets, of outbox
// message m sent from domain. It is the same for every attempt to send
// m. The creation time keeps IDs apart when a database is recreated and
// its IDs start again from 1.
func MessageID(m *mfagate.Message, domain string) string {
	if m.CreatedAt.IsZero() {
		return fmt.Sprintf("mfagate-outbox-%d@%s", m.ID, domain)
	}
	return fmt.Sprintf("mfagate-outbox-%d.%d@%s", m.ID, m.CreatedAt.Unix(), domain)
}
