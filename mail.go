package mfagate

import (
	"context"
	"time"
)

// Message states in the outbox.
const (
	MailPending = "pending" // waiting to be delivered (or retried)
	MailSent    = "sent"    // handed to the mail server, exactly once
	MailFailed  = "failed"  // gave up after the last retry
)

// Message is an email in the transactional outbox. It is written in the
// same transaction as the change that causes it, then delivered by a
// background worker, so a message is neither lost when the mail server is
// down nor sent twice when several replicas run.
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
}

// CampaignStat counts one campaign's messages by delivery state.
type CampaignStat struct {
	Campaign string
	Pending  int
	Sent     int
	Failed   int
}

// Mailer hands one message to a mail server. A returned error means it was
// not accepted and may be tried again.
type Mailer interface {
	Send(ctx context.Context, m *Message) error
}
