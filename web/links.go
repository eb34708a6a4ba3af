package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/password"
	"github.com/mfagate/mfagate/web/internal/site"
)

// The pages emailed links open, invitations (/invite/TOKEN) and password
// resets (/reset/TOKEN) alike: one page to choose a password, posted with
// the token in a hidden field, never in the URL it posts to; one page for
// every dead link. Opening a link changes nothing (mail scanners fetch
// links); choosing a password starts a session as a sign-in does
// (account.ChoosePassword), so the second factor still follows.

type linkView struct {
	site.Page
	Purpose   string // mfagate.LinkInvite or mfagate.LinkReset
	Action    string // where the form posts
	Token     string
	Username  string
	ExpiresAt time.Time
	MinLength int
}

// linkTitle is the heading of the page of a link of purpose.
func linkTitle(st *site.Site, r *http.Request, purpose string) site.Page {
	if purpose == mfagate.LinkInvite {
		p := st.NewPage(r, "")
		p.Title = "Welcome to " + p.Product
		return p
	}
	return st.NewPage(r, "Choose a new password")
}

func newLinkView(st *site.Site, r *http.Request, purpose, token string, linked *account.Linked) linkView {
	return linkView{Page: linkTitle(st, r, purpose), Purpose: purpose, Action: "/" + purpose, Token: token,
		Username: linked.User.Username, ExpiresAt: linked.ExpiresAt, MinLength: password.MinLength}
}

// deadLink answers a link that has expired, was used or replaced, or
// never was: one page for all of them, asking for a new one.
func deadLink(st *site.Site, w http.ResponseWriter, r *http.Request) error {
	return st.Render(w, r, http.StatusNotFound, "link_dead", struct{ site.Page }{
		st.NewPage(r, "This link has expired or was already used")})
}

func handleLinkPage(st *site.Site, accounts *account.Service, purpose string) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		token := r.PathValue("token")
		linked, err := accounts.OpenLink(r.Context(), purpose, token)
		if errors.Is(err, account.ErrLinkDead) {
			return deadLink(st, w, r)
		}
		if err != nil {
			return err
		}
		return st.Render(w, r, http.StatusOK, "choose_password", newLinkView(st, r, purpose, token, linked))
	}
}

func handleLinkChoose(st *site.Site, accounts *account.Service, purpose string) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		r.Body = http.MaxBytesReader(w, r.Body, site.MaxFormBytes)
		if err := r.ParseForm(); err != nil {
			return mfagate.Errorf(mfagate.EINVALID, "The form could not be read. Go back and try again")
		}
		token, pw, again := r.PostForm.Get("token"), r.PostForm.Get("password"), r.PostForm.Get("confirm")
		var fieldErr site.FieldError
		switch {
		case pw == "":
			fieldErr = site.FieldError{Field: "password", Message: "Enter a password"}
		case pw != again:
			fieldErr = site.FieldError{Field: "confirm", Message: "The passwords do not match. Type the password again"}
		default:
			// ChoosePassword checks the link itself: opened here only to
			// draw the page again after an error.
			in, err := accounts.ChoosePassword(r.Context(), account.ChoosePassword{Purpose: purpose, Token: token,
				Password: pw, Client: st.Actor(r), OldToken: st.Cookie.Token(r)})
			switch {
			case err == nil:
				return startSession(st, accounts, w, r, in, "")
			case errors.Is(err, account.ErrLinkDead):
				return deadLink(st, w, r)
			case mfagate.ErrorCode(err) != mfagate.EINVALID:
				return err
			}
			fieldErr = site.FieldError{Field: "password", Message: mfagate.ErrorMessage(err)}
		}
		linked, err := accounts.OpenLink(r.Context(), purpose, token)
		if errors.Is(err, account.ErrLinkDead) {
			return deadLink(st, w, r)
		}
		if err != nil {
			return err
		}
		v := newLinkView(st, r, purpose, token, linked)
		v.Errors = []site.FieldError{fieldErr}
		return st.Render(w, r, http.StatusBadRequest, "choose_password", v)
	}
}
