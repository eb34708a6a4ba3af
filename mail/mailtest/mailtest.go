// Package mailtest runs a real SMTP server in the test process, so tests
// of any package can watch mail arrive instead of mocking a Mailer.
//
// A Server listens on 127.0.0.1 on a free port, optionally with STARTTLS
// or implicit TLS (a certificate for 127.0.0.1 and localhost is made for
// each server) and with authentication. It records every message it
// accepts and can be told to refuse the next few, to test retries, to
// answer slowly (Delay), to drop the connection before or after accepting
// a message (DropConnections), to refuse sessions (RefuseSessions), or to
// stop inside a message until the test answers it (HoldMessage). It is
// for tests only: it keeps everything in memory and trusts everyone.
//
// It also holds LogBuffer, the concurrency-safe log destination that the
// tests of web, worker and e2e share with it.
package mailtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Option changes how NewServer sets up a Server.
type Option func(*Server)

// StartTLS makes the server offer STARTTLS, and accept AUTH only after it.
func StartTLS() Option { return func(s *Server) { s.tlsMode = "starttls" } }

// ImplicitTLS makes the server speak TLS from the first byte, as on port
// 465.
func ImplicitTLS() Option { return func(s *Server) { s.tlsMode = "tls" } }

// Auth makes the server require authentication as username with password
// before it accepts a message. It offers PLAIN and LOGIN unless
// AuthMechanisms says otherwise.
func Auth(username, password string) Option {
	return func(s *Server) { s.username, s.password = username, password }
}

// AuthMechanisms sets the mechanisms the server offers, among "PLAIN" and
// "LOGIN", in that order of the arguments.
func AuthMechanisms(mechs ...string) Option {
	return func(s *Server) { s.mechs = mechs }
}

// Delay makes the server wait d inside DATA of every message, after
// reading it and before answering, as a slow server would; see SetDelay.
func Delay(d time.Duration) Option { return func(s *Server) { s.delay = d } }

// Server is an in-process SMTP server. Its methods are safe for concurrent
// use.
type Server struct {
	tlsMode            string
	username, password string
	mechs              []string

	addr   *net.TCPAddr
	client *tls.Config

	mu          sync.Mutex
	messages    []Message
	attempts    int
	connections int
	reject      int
	rejectCode  int
	refuseRcpt  map[string]*smtp.SMTPError // address → answer to RCPT TO
	refuseFrom  int                        // code answered to MAIL FROM, 0 for none
	changed     chan struct{}              // closed and replaced on every new message

	delay          time.Duration // waited in DATA before answering
	refuseSessions int           // connections still to answer 451
	refusedConns   map[*smtp.Conn]bool
	drop           dropPlan
	dropped        map[DropMode]int
	hold           *Hold         // the message to stop at, nil for none
	closed         chan struct{} // closed when the test ends
}

// dropPlan is what DropConnections asked for.
type dropPlan struct {
	mode  DropMode
	every int
	left  int
	base  int // attempts when it was asked
}

// NewServer starts a server on 127.0.0.1 on a free port; it is closed
// when the test ends.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{
		mechs:        []string{sasl.Plain, sasl.Login},
		rejectCode:   451,
		changed:      make(chan struct{}),
		dropped:      map[DropMode]int{},
		refusedConns: map[*smtp.Conn]bool{},
		closed:       make(chan struct{}),
	}
	for _, opt := range opts {
		opt(s)
	}

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("mailtest: listen: %v", err)
	}
	s.addr = l.Addr().(*net.TCPAddr)

	switch s.tlsMode {
	case "starttls":
		serverTLS, clientTLS := mustCertificate(tb)
		srv.TLSConfig, s.client = serverTLS, clientTLS
	case "tls":
		serverTLS, clientTLS := mustCertificate(tb)
		s.client = clientTLS
		l = tls.NewListener(l, serverTLS)
	default:
		// Only a test on the loopback ever sees these passwords.
		srv.AllowInsecureAuth = true
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	tb.Cleanup(func() {
		close(s.closed) // frees a held or delayed message
		_ = srv.Close()
		// Close misses a listener that Serve has not registered yet.
		_ = l.Close()
		<-done
	})
	return s
}

// Addr returns the server's address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr.String() }

// Host returns "127.0.0.1".
func (s *Server) Host() string { return s.addr.IP.String() }

// Port returns the port the server listens on.
func (s *Server) Port() int { return s.addr.Port }

// ClientTLSConfig returns a TLS configuration that trusts the server's
// certificate, or nil when the server does not use TLS.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.client == nil {
		return nil
	}
	return s.client.Clone()
}

// SetReject makes the server refuse the next n messages at the end of
// DATA with a temporary error (451), as a busy server would.
func (s *Server) SetReject(n int) { s.RejectNext(n, 451) }

// RejectNext makes the server refuse the next n messages at the end of
// DATA with the given 4xx or 5xx code.
func (s *Server) RejectNext(n, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reject, s.rejectCode = n, code
}

// RefuseRecipient makes the server answer RCPT TO for address (compared
// case-insensitively) with code, 4xx or 5xx, as for a mailbox that does
// not exist (enhanced status X.1.1), until called again; code 0 accepts
// it again.
func (s *Server) RefuseRecipient(address string, code int) {
	s.RefuseRecipientStatus(address, code, fmt.Sprintf("%d.1.1", code/100))
}

// RefuseRecipientStatus is RefuseRecipient with the enhanced status code
// of the answer, such as "5.7.1" for a refusal by policy ("relay access
// denied").
func (s *Server) RefuseRecipientStatus(address string, code int, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuseRcpt == nil {
		s.refuseRcpt = map[string]*smtp.SMTPError{}
	}
	key := strings.ToLower(address)
	if code == 0 {
		delete(s.refuseRcpt, key)
		return
	}
	var ec smtp.EnhancedCode
	if _, err := fmt.Sscanf(status, "%d.%d.%d", &ec[0], &ec[1], &ec[2]); err != nil {
		panic("mailtest: enhanced status " + status + " is not X.Y.Z")
	}
	s.refuseRcpt[key] = &smtp.SMTPError{Code: code, EnhancedCode: ec,
		Message: "mailtest: recipient refused as asked (" + strconv.Itoa(code) + " " + status + ")"}
}

// RefuseSender makes the server answer every MAIL FROM with code, 4xx or
// 5xx, until called again; code 0 accepts senders again.
func (s *Server) RefuseSender(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseFrom = code
}

// Messages returns the messages accepted so far, in the order they
// arrived.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Attempts returns how many messages reached the end of DATA, refused
// ones included.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Connections returns how many SMTP sessions were started (a STARTTLS
// upgrade starts a new one on the same connection).
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connections
}

// WaitMessages waits until at least n messages were accepted, and returns
// them. It fails the test when that has not happened within timeout.
func (s *Server) WaitMessages(tb testing.TB, n int, timeout time.Duration) []Message {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		s.mu.Lock()
		got, changed := len(s.messages), s.changed
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-changed:
		case <-ctx.Done():
			tb.Fatalf("mailtest: got %d messages after %v, want %d", got, timeout, n)
			return nil
		}
	}
}

// receive records one message that reached the end of DATA and says
// whether to refuse it.
func (s *Server) receive(m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reject > 0 {
		s.reject--
		return rejection(s.rejectCode)
	}
	s.recordLocked(m)
	return nil
}

// recordLocked adds m to the accepted messages; s.mu is held.
func (s *Server) recordLocked(m Message) {
	m.Received = time.Now()
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

// record adds m to the accepted messages, whatever SetReject said.
func (s *Server) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordLocked(m)
}

func rejection(code int) *smtp.SMTPError {
	class := code / 100
	return &smtp.SMTPError{
		Code:         code,
		EnhancedCode: smtp.EnhancedCode{class, 3, 0},
		Message:      "mailtest: refused as asked (" + strconv.Itoa(code) + ")",
	}
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.connections++
	// A client refused at EHLO may try HELO on the same connection:
	// refuse that too.
	refuse := s.refusedConns[c]
	if !refuse && s.refuseSessions > 0 {
		s.refuseSessions--
		s.refusedConns[c], refuse = true, true
	}
	s.mu.Unlock()
	if refuse {
		// go-smtp answers EHLO with 451 and this text.
		return nil, errors.New("mailtest: not taking mail now, as asked")
	}
	_, isTLS := c.TLSConnectionState()
	return &session{server: s, conn: c, tls: isTLS}, nil
}

// session is one SMTP conversation. go-smtp calls its methods from the
// connection's goroutine only.
type session struct {
	server *Server
	conn   *smtp.Conn
	tls    bool
	// dropOnReset closes the connection at the next reset, which go-smtp
	// does right after it answered DATA (DropAfterReply).
	dropOnReset bool
	user        string // authenticated username
	from        string
	to          []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.server.username == "" {
		return nil
	}
	return ss.server.mechs
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	check := func(username, password string) error {
		if username != ss.server.username || password != ss.server.password {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				return smtp.ErrAuthFailed
			}
			return check(username, password)
		}), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.server.username != "" && ss.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	ss.server.mu.Lock()
	code := ss.server.refuseFrom
	ss.server.mu.Unlock()
	if code != 0 {
		return rejection(code)
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.server.mu.Lock()
	refusal := ss.server.refuseRcpt[strings.ToLower(to)]
	ss.server.mu.Unlock()
	if refusal != nil {
		return refusal
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("mailtest: read data: %w", err)
	}
	m := parse(data)
	m.From, m.To, m.Username, m.TLS = ss.from, append([]string(nil), ss.to...), ss.user, ss.tls
	return ss.server.answer(ss, m)
}

func (ss *session) Reset() {
	ss.from, ss.to = "", nil
	if ss.dropOnReset {
		ss.dropOnReset = false
		ss.dropConn()
	}
}

// dropConn closes the TCP connection under the session at once, without
// a word: the client sees it break.
func (ss *session) dropConn() { _ = ss.conn.Conn().Close() }

func (ss *session) Logout() error { return nil }

// loginServer is the server side of the LOGIN mechanism, which go-sasl
// does not provide: it asks for the username, then the password.
type loginServer struct {
	check    func(username, password string) error
	username []byte
	step     int
}

func (l *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	l.step++
	switch l.step {
	case 1:
		if len(response) > 0 { // initial response: the username
			l.username = bytes.Clone(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.username = bytes.Clone(response)
		return []byte("Password:"), false, nil
	case 3:
		return nil, true, l.check(string(l.username), string(response))
	}
	return nil, false, errors.New("mailtest: unexpected LOGIN response")
}
