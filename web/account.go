package web

import (
	"bytes"
	"errors"
	"net/http"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/password"
	"github.com/mfagate/mfagate/web/internal/site"
)

type homeView struct {
	site.Page
}

// handleHome is where people land once signed in.
func handleHome(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v := homeView{Page: st.NewPage(r, "You are signed in")}
		var err error
		if v.Banner, err = rolloutBanner(st, accounts, r); err != nil {
			return err
		}
		return st.Render(w, r, http.StatusOK, "home", v)
	}
}

type sessionRow struct {
	Current    bool
	CreatedAt  time.Time
	LastSeenAt time.Time
	ClientAddr string
	Device     string // "Chrome on Linux"
	Active     string // "5 minutes ago"
}

type accountView struct {
	site.Page
	Sessions          []sessionRow
	Factors           []*mfagate.Factor
	HasEmail, HasTOTP bool
	RecoveryLeft      int
}

func handleAccount(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		cur := site.CurrentFrom(r)
		list, err := accounts.Sessions(r.Context(), cur)
		if err != nil {
			return err
		}
		v := accountView{Page: st.NewPage(r, "Your account")}
		if v.Banner, err = rolloutBanner(st, accounts, r); err != nil {
			return err
		}
		if v.Factors, err = accounts.Factors(r.Context(), cur.User.ID); err != nil {
			return err
		}
		for _, f := range v.Factors {
			v.HasEmail = v.HasEmail || f.Method == mfagate.MethodEmail
			v.HasTOTP = v.HasTOTP || f.Method == mfagate.MethodTOTP
		}
		if v.RecoveryLeft, err = accounts.RecoveryCodesLeft(r.Context(), cur.User.ID); err != nil {
			return err
		}
		now := accounts.Now()
		for _, sess := range list {
			if sess.Stage != mfagate.StageFull {
				continue // part-way through signing in: not signed in there
			}
			v.Sessions = append(v.Sessions, sessionRow{
				Current:   bytes.Equal(sess.Hash, cur.Session.Hash),
				CreatedAt: sess.CreatedAt, LastSeenAt: sess.LastSeenAt,
				ClientAddr: sess.ClientAddr, Device: site.Device(sess.UserAgent), Active: site.Ago(sess.LastSeenAt, now),
			})
		}
		switch {
		case r.URL.Query().Has("password_changed"):
			v.Notice = "Your password has been changed. You have been signed out everywhere else."
		case r.URL.Query().Has("ended"):
			v.Notice = "You have been signed out everywhere else."
		case r.URL.Query().Has("added"):
			v.Notice = "Done: you will be asked for a code from it when you sign in."
		case r.URL.Query().Has("email_changed"):
			v.Notice = "Your email address is now " + cur.User.Email + ". An email is on its way to your old address to tell it."
		case r.URL.Query().Has("removed"):
			v.Notice = "Removed. An email confirming it is on its way to you."
		}
		return st.Render(w, r, http.StatusOK, "account", v)
	}
}

func handleEndOtherSessions(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, err := accounts.EndOtherSessions(r.Context(), site.CurrentFrom(r), account.Actor{ClientAddr: st.ClientAddr(r)}); err != nil {
			return err
		}
		http.Redirect(w, r, "/account?ended", http.StatusSeeOther)
		return nil
	}
}

type passwordView struct {
	site.Page
	MinLength int // the shortest password accepted, for the hint
}

func handlePasswordForm(st *site.Site) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return st.Render(w, r, http.StatusOK, "password", passwordView{Page: st.NewPage(r, "Change your password"), MinLength: password.MinLength})
	}
}

func handlePasswordChange(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v := passwordView{Page: st.NewPage(r, "Change your password"), MinLength: password.MinLength}
		r.Body = http.MaxBytesReader(w, r.Body, site.MaxFormBytes)
		if err := r.ParseForm(); err != nil {
			v.Errors = []site.FieldError{{Field: "current_password", Message: "The form could not be read. Try again"}}
			return st.Render(w, r, http.StatusBadRequest, "password", v)
		}
		current, next, again := r.PostForm.Get("current_password"), r.PostForm.Get("new_password"), r.PostForm.Get("confirm_password")
		switch {
		case next == "":
			v.Errors = []site.FieldError{{Field: "new_password", Message: "Enter a new password"}}
		case next != again:
			v.Errors = []site.FieldError{{Field: "confirm_password", Message: "The passwords do not match. Type the new password again"}}
		}
		if v.Errors == nil {
			err := accounts.ChangePassword(r.Context(), site.CurrentFrom(r), current, next, account.Actor{ClientAddr: st.ClientAddr(r)})
			switch {
			case err == nil:
				http.Redirect(w, r, "/account?password_changed", http.StatusSeeOther)
				return nil
			case mfagate.ErrorCode(err) != mfagate.EINVALID:
				return err
			case errors.Is(err, account.ErrNoCurrentPassword) || errors.Is(err, account.ErrWrongCurrentPassword):
				v.Errors = []site.FieldError{{Field: "current_password", Message: mfagate.ErrorMessage(err)}}
			default:
				v.Errors = []site.FieldError{{Field: "new_password", Message: mfagate.ErrorMessage(err)}}
			}
		}
		return st.Render(w, r, http.StatusBadRequest, "password", v)
	}
}
