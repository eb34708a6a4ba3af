package web

import (
	"net/http"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/web/internal/site"
)

// The dev outbox: what the "outbox" mail driver, which sends nothing,
// would have sent, for demos and local development.

type outboxView struct {
	site.Page
	Messages []*mfagate.Message
}

// handleDevOutbox lists the emails the service has written, newest first.
// It exists only with the "outbox" mail driver, which sends nothing.
func handleDevOutbox(st *site.Site, store mfagate.Store, mailbox DevMailbox) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v := outboxView{Page: st.NewPage(r, "Outbox")}
		err := mailView{store}.view(r.Context(), func(q mfagate.MailQueue) (err error) {
			v.Messages, err = q.Mail(200)
			return err
		})
		if err != nil {
			return err
		}
		if mailbox != nil {
			for i, m := range v.Messages {
				if got, ok := mailbox.Delivered(m.ID); ok {
					v.Messages[i] = got // with the text the table no longer keeps
				}
			}
		}
		return st.Render(w, r, http.StatusOK, "outbox", v)
	}
}
