package mfagate

import (
	"context"
	"errors"
	"time"
)

// ErrMailServerDown is among the causes of a Mailer's error when the mail
// server could not be reached or would not let us log in: nothing was
// sent, and the next message would fare no better.
var ErrMailServerDown = errors.New("could not reach the mail server")

// Message states in the outbox.
const (
	MailPending = "pending" // waiting to be delivered (or retried)
	MailSent    = "sent"    // accepted by the mail server
	MailFailed  = "failed"  // refused for good, or given up after retrying
)

// Message priorities, most urgent first: a worker sends every due message
// of a higher priority before any of a lower one, and security mail has a
// sender of its own, so a code never waits behind a campaign.
const (
	MailSecurity = 0 // security codes and security notices
	MailAccount  = 1 // other notices about the person's account
	MailCampaign = 2 // the rollout's notices and reminders
)

// MailPriorityName is how logs and metrics name a priority: "security",
// "account" or "campaign".
func MailPriorityName(p int) string {
	switch p {
	case MailSecurity:
		return "security"
	case MailAccount:
		return "account"
	case MailCampaign:
		return "campaign"
	}
	return "unknown"
}

// Message is an email in the transactional outbox. It is written in the
// same transaction as the change that causes it, then delivered by a
// background worker, so a message is not lost when the mail server is
// down. It is sent at least once, and more than once only when the
// connection or the process dies between the server's acceptance and our
// record of it; every copy carries the same Message-ID.
type Message struct {
	ID            int64
	To            string
	Subject       string
	Text          string
	CreatedAt     time.Time
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	SentAt        time.Time // zero until sent
	LastError     string
	// Campaign names the rollout communication the message belongs to
	// (empty for everything else), for counting progress.
	Campaign string
	// Secret marks a message that carries a code: its text is removed as
	// soon as it is delivered or given up, so the outbox keeps only the
	// envelope (who, when, which subject).
	Secret bool
	// Priority is one of MailSecurity, MailAccount and MailCampaign.
	Priority int
	// UserID is the person the message is for (0: nobody in particular).
	// A permanent refusal of To marks them unreached while To is still
	// their address.
	UserID int64
	// ExpiresAt, when set, is when the message stops being worth sending
	// (the code in it expires): it is given up then rather than sent late.
	ExpiresAt time.Time
	// QueuedAt is when the message last joined the queue: CreatedAt, or
	// when it was put back after its address was fixed. Temporary failures
	// are retried for a while from then.
	QueuedAt time.Time
	// Claim is the batch that holds the message, set by ClaimMail: a
	// worker sends it only while HoldMail still finds it in its batch.
	Claim int64
}

// MailQueueLane is what waits in the outbox at one priority.
type MailQueueLane struct {
	Priority int
	Pending  int // messages waiting to be sent or tried again
	// Due is when the message that has waited longest for a sender
	// became due: when it was queued or, for one tried again after a
	// temporary failure, when its next try came (NextAttemptAt). It is
	// looked for among the first in line; zero when none is due. A
	// message waiting for its next try is waiting on purpose and does
	// not count.
	Due time.Time
}

// MailClaim asks ClaimMail for a batch of messages.
type MailClaim struct {
	Now   time.Time
	Lease time.Duration
	Limit int
	// Lowest and Highest bound the priorities taken, as numbers:
	// MailSecurity (0) to MailSecurity takes only security mail.
	Lowest, Highest int
	// Claim names the batch: a random number, different for every claim.
	Claim int64
}

// CampaignStat counts one campaign's messages by delivery state.
type CampaignStat struct {
	Campaign string
	Pending  int
	Sent     int
	Failed   int
}

// Mailer hands one message to a mail server. A returned error means it was
// not accepted; a *MailRefused among its causes means it never will be
// (the server answered 5xx), any other error that it may be tried again.
type Mailer interface {
	Send(ctx context.Context, m *Message) error
}

// MailConn is one connection to a mail server, reused for message after
// message. It is not safe for concurrent use. Its errors are as Mailer's.
type MailConn interface {
	Send(ctx context.Context, m *Message) error
	// Close ends the connection; messages already accepted stay accepted.
	Close() error
}

// Dialer is a Mailer that can keep one connection for many messages
// (the SMTP mailer is one). Dial may connect lazily, at the first Send.
type Dialer interface {
	Mailer
	Dial(ctx context.Context) (MailConn, error)
}

// MailRefused is a mail server's permanent refusal of a message: a 5xx
// answer. Recipient says it was the answer to RCPT TO, so the address
// itself was refused and the person cannot be reached there.
type MailRefused struct {
	Recipient bool
	Reply     string // the server's answer, code first
}

func (e *MailRefused) Error() string {
	if e.Recipient {
		return "the mail server refused the address: " + e.Reply
	}
	return "the mail server refused the message: " + e.Reply
}
