package web

import (
	"net/http"

	"github.com/mfagate/mfagate"
)

type helpView struct {
	page
}

// handleHelp answers common questions and names the support contacts. It
// needs no sign-in: people who cannot sign in need it most.
func (s *server) handleHelp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusOK, "help", helpView{page: s.newPage(r, "Get help signing in")})
	})
}

type outboxView struct {
	page
	Messages []*mfagate.Message
}

// handleDevOutbox lists the emails the service has written, newest first.
// It exists only with the "outbox" mail driver, which sends nothing.
func (s *server) handleDevOutbox() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := outboxView{page: s.newPage(r, "Outbox")}
		err := s.Store.View(r.Context(), func(tx mfagate.Tx) (err error) {
			v.Messages, err = tx.Mail(200)
			return err
		})
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "outbox", v)
	})
}
