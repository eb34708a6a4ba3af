package mail

import (
	"context"
	"strings"
	"sync"

	"github.com/mfagate/mfagate"
)

// devMailboxSize is how many delivered messages a DevOutbox remembers.
const devMailboxSize = 500

// DevOutbox is the Mailer of the "outbox" driver, for development and
// demos: it sends nothing, and keeps a copy of the last 500 messages it
// was handed, as a mailbox would. The /dev/outbox page shows the outbox
// table with these copies: a delivered code email keeps no code in the
// table (mfagate.Message.Secret), so its text is read from here. The
// copies live in this process's memory only, as an inbox would be
// elsewhere. Safe for concurrent use.
type DevOutbox struct {
	mu    sync.Mutex
	byID  map[int64]*mfagate.Message
	order []int64 // oldest first
}

var _ mfagate.Mailer = (*DevOutbox)(nil)

// NewDevOutbox returns an empty DevOutbox.
func NewDevOutbox() *DevOutbox { return &DevOutbox{byID: map[int64]*mfagate.Message{}} }

// Send accepts m and keeps a copy of it, unless m is to an address under
// .invalid (a name reserved never to exist): that one is refused as a
// real server refuses an unknown mailbox, so a demo can show what happens
// to a person we cannot reach.
func (o *DevOutbox) Send(ctx context.Context, m *mfagate.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if at := strings.LastIndexByte(m.To, '@'); at >= 0 && strings.HasSuffix(strings.ToLower(strings.TrimRight(m.To[at:], "> ")), ".invalid") {
		return &mfagate.MailRefused{Recipient: true,
			Reply: "550 5.1.2 " + m.To + ": no such domain (the dev outbox refuses every address under .invalid)"}
	}
	c := *m
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, seen := o.byID[c.ID]; !seen {
		o.order = append(o.order, c.ID)
	}
	o.byID[c.ID] = &c
	if len(o.order) > devMailboxSize {
		delete(o.byID, o.order[0])
		o.order = o.order[1:]
	}
	return nil
}

// Delivered returns the copy of the message with that outbox ID, if this
// DevOutbox was handed it and still remembers it.
func (o *DevOutbox) Delivered(id int64) (*mfagate.Message, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	m, ok := o.byID[id]
	if !ok {
		return nil, false
	}
	c := *m
	return &c, true
}
