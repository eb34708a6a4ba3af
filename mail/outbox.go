package mail

import (
	"context"

	"github.com/mfagate/mfagate"
)

// DevOutbox is the Mailer of the "outbox" driver, for development and
// demos: it accepts every message and sends nothing. The messages stay in
// the outbox table, marked sent, where the /dev/outbox page shows them.
type DevOutbox struct{}

var _ mfagate.Mailer = DevOutbox{}

// Send accepts m without sending it.
func (DevOutbox) Send(ctx context.Context, m *mfagate.Message) error {
	return ctx.Err()
}
