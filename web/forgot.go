package web

import (
	"net/http"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/web/internal/site"
)

// Forgotten passwords: the page that asks for a username or an email
// address, and the one answer after it, the same whether or not an
// account exists (account.ForgotPassword).

type forgotView struct {
	site.Page
	Username string
}

type forgotSentView struct {
	site.Page
	ResetFor   string // how long the link works
	AgainAfter string // when asking again can send another
}

func handleForgotForm(st *site.Site) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return st.Render(w, r, http.StatusOK, "forgot", forgotView{Page: st.NewPage(r, "Reset your password")})
	}
}

func handleForgot(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v := forgotView{Page: st.NewPage(r, "Reset your password")}
		r.Body = http.MaxBytesReader(w, r.Body, site.MaxFormBytes)
		if err := r.ParseForm(); err != nil {
			v.Errors = []site.FieldError{{Field: "username", Message: "The form could not be read. Try again"}}
			return st.Render(w, r, http.StatusBadRequest, "forgot", v)
		}
		who := r.PostForm.Get("username")
		if utf8.ValidString(who) && len(who) <= account.MaxUsernameBytes {
			v.Username = who
		}
		err := accounts.ForgotPassword(r.Context(), who, st.Actor(r))
		switch code := mfagate.ErrorCode(err); {
		case err == nil:
			return st.Render(w, r, http.StatusOK, "forgot_sent", forgotSentView{Page: st.NewPage(r, "Check your email"),
				ResetFor: accounts.ResetFor(), AgainAfter: accounts.ResetAgainAfter()})
		case code == mfagate.EINVALID:
			v.Errors = []site.FieldError{{Field: "username", Message: mfagate.ErrorMessage(err)}}
			return st.Render(w, r, http.StatusBadRequest, "forgot", v)
		case code == mfagate.ETHROTTLED:
			return st.Render(w, r, http.StatusTooManyRequests, "limit", limitView{
				Page: st.NewPage(r, "Too many requests to reset a password"), Message: mfagate.ErrorMessage(err)})
		default:
			return err
		}
	}
}
