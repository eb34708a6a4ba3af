package mail

import (
	"context"
	"errors"
	"fmt"
	"strings"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/mfagate/mfagate"
)

// Conn is one SMTP connection kept for message after message (no
// pipelining: each message's MAIL, RCPT and DATA wait for their answer).
// It connects at the first Send, and again at the next Send after the
// connection broke. It is not safe for concurrent use.
type Conn struct {
	s      *SMTP
	client *gomail.Client
	conn   *smtp.Client // nil until connected, and after it broke
}

var _ mfagate.MailConn = (*Conn)(nil)

// Dial returns a Conn that connects at its first Send. The error is
// always nil; it is there for mfagate.Dialer.
func (s *SMTP) Dial(context.Context) (mfagate.MailConn, error) { return &Conn{s: s}, nil }

// Send delivers m. The error names the server and the step that failed;
// it never contains the password or the body. A 5xx answer is returned as
// a *mfagate.MailRefused (Recipient when it answered RCPT TO); any other
// failure may be tried again. A message the server accepted counts as
// sent even when the connection fails just after (the RSET that follows
// the message), so it is not sent twice.
func (c *Conn) Send(ctx context.Context, m *mfagate.Message) error {
	msg, err := c.s.message(m)
	if err != nil {
		// Nothing any server would accept: refuse it for good.
		return fmt.Errorf("smtp send to %s: %w", c.s.addr, &mfagate.MailRefused{Reply: err.Error()})
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("smtp send to %s: %w", c.s.addr, err)
	}
	for try := 0; ; try++ {
		if err := c.connect(ctx); err != nil {
			return err
		}
		err := c.client.SendWithSMTPClient(c.conn, msg)
		if err == nil || msg.IsDelivered() {
			return nil
		}
		var se *gomail.SendError
		if errors.As(err, &se) && se.Reason == gomail.ErrConnCheck && try == 0 {
			// The server closed the idle connection; nothing was sent.
			c.drop()
			continue
		}
		if refused := refusal(err); refused != nil {
			if !refused.Recipient {
				// go-mail resets after a refused RCPT TO but not after a
				// refused DATA: a server that keeps the transaction open
				// would refuse the next MAIL FROM. Reset, or start the
				// next message on a new connection.
				if rerr := c.conn.Reset(); rerr != nil {
					c.drop()
				}
			}
			return fmt.Errorf("smtp send to %s: %w", c.s.addr, refused)
		}
		// Anything else may have left the conversation in an unknown
		// state: start the next message on a new connection.
		c.drop()
		return fmt.Errorf("smtp send to %s: %w", c.s.addr, err)
	}
}

// connect opens the connection if there is none.
func (c *Conn) connect(ctx context.Context) error {
	if c.conn != nil {
		return nil
	}
	client, err := c.s.client()
	if err != nil {
		return err
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return fmt.Errorf("smtp send to %s: connect: %w (%w)", c.s.addr, err, mfagate.ErrMailServerDown)
	}
	c.client, c.conn = client, conn
	return nil
}

// drop closes a connection that may be broken, without waiting on it.
func (c *Conn) drop() {
	if c.conn != nil {
		_ = c.conn.Close()
	}
	c.conn = nil
}

// Close ends the connection with QUIT. The messages are accepted by now;
// a failed QUIT changes nothing.
func (c *Conn) Close() error {
	if c.conn != nil {
		_ = c.client.CloseWithSMTPClient(c.conn)
	}
	c.conn = nil
	return nil
}

// refusal returns the permanent refusal err reports: a 5xx answer to
// RCPT TO (the address) or to the message itself (DATA, or its end). A
// 5xx answer to MAIL FROM or to the login is about our own sender or
// credentials, not the message, so it is retried like a 4xx until
// someone fixes the setting: nil, as for a 4xx or no answer at all. So is
// a refusal of the recipient by policy (enhanced status 5.7.x, such as
// "relay access denied" when our login was not accepted): it says nothing
// about the address. A refused recipient blames the address (Recipient)
// when the server says the mailbox or its system is bad (5.1.x), the
// mailbox cannot take mail (5.2.x), or gives no enhanced status.
func refusal(err error) *mfagate.MailRefused {
	var se *gomail.SendError
	if !errors.As(err, &se) || se.ErrorCode()/100 != 5 {
		return nil
	}
	// The SendError's text holds the step and the server's answer, code
	// first, as the server wrote it.
	reply := strings.TrimSpace(err.Error())
	switch se.Reason {
	case gomail.ErrSMTPRcptTo:
		status := se.EnhancedStatusCode()
		switch {
		case strings.HasPrefix(status, "5.7."):
			return nil
		case status == "" || strings.HasPrefix(status, "5.1.") || strings.HasPrefix(status, "5.2."):
			return &mfagate.MailRefused{Recipient: true, Reply: reply}
		}
		return &mfagate.MailRefused{Reply: reply}
	case gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
		return &mfagate.MailRefused{Reply: reply}
	}
	return nil
}
